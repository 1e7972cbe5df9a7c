"""Shared fixtures: a small but real ESCO export cut from the shared data, and settings that
point a test at its own warehouse and cache.

The mini export keeps the export's exact layout and file format (extracted folders named as the
ESCO portal names its zips), with five occupations, their essential skills and a few short
technical skills, so loading, embedding and searching it takes seconds with the real model.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from skillmatch import taxonomy
from skillmatch.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
REPO_SETTINGS = load_settings(REPO / "skillmatch.toml")
REAL_EXPORT = REPO_SETTINGS.data_root / "esco" / "v1.1.1"
EN_FOLDER = "ESCO dataset - v1.1.1 - classification - en - csv"
SHARED_FOLDER = "ESCO dataset - v1.1.1 - classification -  - csv"

MINI_OCCUPATIONS = {
    "nurse responsible for general care", "welder", "software developer",
    "primary school teacher", "electrician",
}
MINI_EXTRA_SKILLS = {"C#", "R", "PostgreSQL", "Python (computer programming)", "communication",
                     "Java (computer programming)"}
ORPHAN_OCCUPATION = "http://data.europa.eu/esco/occupation/a9e54177-a185-404d-b6e6-15663d31137e"

needs_shared = pytest.mark.skipif(
    not REAL_EXPORT.exists(), reason=f"real ESCO export not found at {REAL_EXPORT}"
)


def _read_lines(archive: zipfile.ZipFile, name: str) -> tuple[list[str], list[list[str]]]:
    text = io.TextIOWrapper(archive.open(name), encoding="utf-8-sig", newline="")
    rows = list(csv.reader(text))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def build_mini_export(target: Path) -> Path:
    """Write a small ESCO export (same files and columns as the real one) under `target`."""
    en_zip = zipfile.ZipFile(REAL_EXPORT / f"{EN_FOLDER}.zip")
    shared_zip = zipfile.ZipFile(REAL_EXPORT / f"{SHARED_FOLDER}.zip")
    export = target / "esco" / "v1.1.1"

    occ_header, occ_rows = _read_lines(en_zip, "occupations_en.csv")
    occ_rows = [r for r in occ_rows if r[3] in MINI_OCCUPATIONS]
    occ_uris = {r[1] for r in occ_rows}
    rel_header, rel_rows = _read_lines(shared_zip, "occupationSkillRelations.csv")
    kept = [r for r in rel_rows if r[0] in occ_uris and r[1] == "essential"]
    kept += [r for r in rel_rows if r[0] == ORPHAN_OCCUPATION][:3]
    skill_header, skill_rows = _read_lines(en_zip, "skills_en.csv")
    wanted = {r[3] for r in kept}
    skill_rows = [r for r in skill_rows if r[1] in wanted or r[4] in MINI_EXTRA_SKILLS]
    skill_uris = {r[1] for r in skill_rows}
    kept = [r for r in kept if r[3] in skill_uris]

    _write(export / EN_FOLDER / "occupations_en.csv", occ_header, occ_rows)
    _write(export / EN_FOLDER / "skills_en.csv", skill_header, skill_rows)
    _write(export / SHARED_FOLDER / "occupationSkillRelations.csv", rel_header, kept)
    for name in ("ISCOGroups_en.csv", "skillGroups_en.csv", "skillsHierarchy_en.csv"):
        header, rows = _read_lines(en_zip, name)
        _write(export / EN_FOLDER / name, header, rows)
    for name in en_zip.namelist():
        if name.endswith("Collection_en.csv"):
            header, rows = _read_lines(en_zip, name)
            uri_col = header.index("conceptUri")
            _write(export / EN_FOLDER / name, header,
                   [r for r in rows if r[uri_col] in skill_uris | occ_uris])
    header, rows = _read_lines(shared_zip, "skillSkillRelations.csv")
    _write(export / SHARED_FOLDER / "skillSkillRelations.csv", header,
           [r for r in rows if r[0] in skill_uris and r[4] in skill_uris])
    header, rows = _read_lines(shared_zip, "broaderRelationsSkillPillar.csv")
    _write(export / SHARED_FOLDER / "broaderRelationsSkillPillar.csv", header,
           [r for r in rows if r[1] in skill_uris or r[0] == "SkillGroup"])
    header, rows = _read_lines(shared_zip, "broaderRelationsOccPillar.csv")
    _write(export / SHARED_FOLDER / "broaderRelationsOccPillar.csv", header,
           [r for r in rows if r[1] in occ_uris or r[0] == "ISCOGroup"])

    nl_root = REPO_SETTINGS.data_root / "esco" / "nl"
    with open(nl_root / "occupations_nl.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    _write(target / "esco" / "nl" / "occupations_nl.csv", rows[0],
           [r for r in rows[1:] if r[1] in occ_uris])
    with open(nl_root / "ISCOGroups_nl.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    _write(target / "esco" / "nl" / "ISCOGroups_nl.csv", rows[0], rows[1:])
    return export


@pytest.fixture(scope="session")
def mini_data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not REAL_EXPORT.exists():
        pytest.skip(f"real ESCO export not found at {REAL_EXPORT}")
    root = tmp_path_factory.mktemp("data")
    build_mini_export(root)
    return root


def make_settings(root: Path, data_root: Path, **extra: object) -> Settings:
    """Settings for a test: its own warehouse, shared model folders, the real taxonomy config."""
    return load_settings(
        REPO / "skillmatch.toml",
        data_root=data_root,
        warehouse=root / "warehouse.duckdb",
        cache_dir=root / "cache",
        search_model="all-MiniLM-L6-v2",
        **extra,
    )


@pytest.fixture(scope="session")
def mini_settings(tmp_path_factory: pytest.TempPathFactory, mini_data_root: Path) -> Settings:
    """A warehouse with the mini export loaded (shared by the read-only tests)."""
    root = tmp_path_factory.mktemp("mini")
    settings = make_settings(root, mini_data_root)
    taxonomy.load(settings)
    return settings


@pytest.fixture
def env_for(monkeypatch: pytest.MonkeyPatch) -> Iterator[callable]:
    """Point the SKILLMATCH_* variables at a test's settings (for the app and subprocesses)."""

    def apply(settings: Settings) -> dict[str, str]:
        values = {
            "SKILLMATCH_CONFIG": str(REPO / "skillmatch.toml"),
            "SKILLMATCH_DATA_ROOT": str(settings.data_root),
            "SKILLMATCH_WAREHOUSE": str(settings.warehouse),
            "SKILLMATCH_CACHE_DIR": str(settings.cache_dir),
            "SKILLMATCH_SEARCH_MODEL": settings.search_model,
        }
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        return dict(os.environ)

    yield apply
