"""Shared fixtures: a small but real ESCO export cut from the shared data, and settings that
point a test at its own warehouse and cache.

The mini export keeps the export's exact layout and file format (extracted folders named as the
ESCO portal names its zips), with five occupations, their essential skills and a few short
technical skills, so loading, embedding and searching it takes seconds with the real model.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from skillmatch import taxonomy
from skillmatch.pipeline import run_pipeline
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
                     "teach communication methods",
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
        for key, value in settings_env(settings).items():
            if key.startswith("SKILLMATCH_") and key != "SKILLMATCH_TORCH_THREADS":
                monkeypatch.setenv(key, value)
        monkeypatch.setenv("SKILLMATCH_TALENT_SEARCH_ENABLED", "1")  # the tests use the page
        return dict(os.environ)

    yield apply


SHARED = REPO_SETTINGS.data_root
NHS = SHARED / "vacancies" / "nhs_jobs_2020_schemaorg.jsonl.gz"
VDAB = SHARED / "vacancies" / "vdab_flanders_2025-10_sample.csv"
VDAB_ROWS = 40
LONG_AD = 3  # an NHS ad with a full text (short texts only fold when posted twice verbatim)


def nhs_lines(n: int) -> list[str]:
    with gzip.open(NHS, "rt", encoding="utf-8") as fh:
        return [next(fh).rstrip("\n") for _ in range(n)]


def write_nhs(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


def make_project(tmp_path: Path, mini_settings: Settings, *, nhs_ads: int = 12,
                 generate: int = 300) -> Settings:
    """A data root with small real vacancy files, the real geo files and the mini ESCO; a
    copy of the mini warehouse; the project's pipelines with a small candidate generator."""
    root = tmp_path / "data"
    (root / "vacancies").mkdir(parents=True)
    for folder in ("geo", "labour_stats", "credentials"):
        os.symlink(SHARED / folder, root / folder)
    os.symlink(mini_settings.data_root / "esco", root / "esco")
    lines = nhs_lines(nhs_ads)
    repost = json.loads(lines[LONG_AD])  # the same ad re-posted later under a new id
    repost["_fileid"], repost["datePosted"] = "repost-1", "2020-12-30T10:50:17+0000"
    write_nhs(root / "vacancies" / "nhs.jsonl.gz", [*lines, json.dumps(repost)])
    with open(VDAB, encoding="utf-8", newline="") as fh:
        records = list(csv.reader(fh))
    with open(root / "vacancies" / "vdab.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(records[:VDAB_ROWS + 1])  # header + the first real rows
    pipelines = tmp_path / "pipelines"
    shutil.copytree(REPO / "pipelines", pipelines)
    sources = (REPO / "pipelines" / "sources.toml").read_text(encoding="utf-8")
    sources = sources.replace("vacancies/nhs_jobs_2020_schemaorg.jsonl.gz",
                              "vacancies/nhs.jsonl.gz")
    sources = sources.replace("vacancies/vdab_flanders_2025-10_sample.csv", "vacancies/vdab.csv")
    (pipelines / "sources.toml").write_text(sources, encoding="utf-8")  # ggz etc.: not run
    config = (REPO / "pipelines" / "pipelines.toml").read_text(encoding="utf-8")
    config = config.replace('sources_file = "project:pipelines/sources.toml"',
                            f'sources_file = "{pipelines / "sources.toml"}"')
    config = config.replace("generate = 100000", f"generate = {generate}")
    (pipelines / "pipelines.toml").write_text(config, encoding="utf-8")
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(mini_settings.warehouse, warehouse)
    return load_settings(REPO / "skillmatch.toml", data_root=root, warehouse=warehouse,
                         cache_dir=mini_settings.cache_dir, pipelines_dir=pipelines,
                         search_model="all-MiniLM-L6-v2")




DEMO_PIPELINES = ("regions", "shortage", "credentials", "vacancies", "candidates")


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory, mini_settings: Settings) -> Settings:
    """A small warehouse built by the real pipelines from real inputs (mini ESCO, 60 NHS and
    40 VDAB ads, CBS statistics, the demo catalogue, 2,000 generated candidates): what the app
    pages and the browser test run on. Read-only for the tests that share it."""
    settings = make_project(tmp_path_factory.mktemp("demo"), mini_settings, nhs_ads=60,
                            generate=2000)
    for name in DEMO_PIPELINES:
        only = ["nhs", "vdab"] if name == "vacancies" else None  # the files make_project wrote
        for summary in run_pipeline(settings, name, only=only, progress=lambda _line: None):
            assert summary.status == "ok", summary.line()
    return settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_env(settings: Settings) -> dict[str, str]:
    """The SKILLMATCH_* variables that point a subprocess at a test's settings."""
    return {**os.environ,
            "SKILLMATCH_CONFIG": str(REPO / "skillmatch.toml"),
            "SKILLMATCH_DATA_ROOT": str(settings.data_root),
            "SKILLMATCH_WAREHOUSE": str(settings.warehouse),
            "SKILLMATCH_CACHE_DIR": str(settings.cache_dir),
            "SKILLMATCH_SEARCH_MODEL": settings.search_model,
            "SKILLMATCH_PIPELINES_DIR": str(settings.pipelines_dir),
            "SKILLMATCH_TORCH_THREADS": "1"}


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "skillmatch.cli", *args], env=env,
                          capture_output=True, text=True, timeout=300)


@contextmanager
def api_server(env: dict[str, str], log: Path) -> Iterator[str]:
    """A real `skillmatch serve` on a free loopback port; yields its base URL."""
    import httpx

    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "skillmatch.cli", "serve", "--port",
                                 str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/v1/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
