"""The ESCO taxonomy: reading the export as the ESCO portal ships it, loading it into the
warehouse in one transaction, and looking concepts up again.

The export is read with the `csv` module in strict mode and every row's field count is checked,
because a truncated download otherwise loads "successfully" with half a table.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from skillmatch import progress, warehouse
from skillmatch.settings import Settings

csv.field_size_limit(1 << 24)

VERSION_PATTERN = re.compile(r"v(\d+(?:\.\d+)+)")
LABEL_KINDS = {"preferredLabel": "preferred", "altLabels": "alt", "hiddenLabels": "hidden"}

# Columns each file must have (more are allowed: ESCO adds columns between releases).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "skills": ("conceptUri", "skillType", "reuseLevel", "preferredLabel", "altLabels",
               "hiddenLabels", "status", "description"),
    "occupations": ("conceptUri", "iscoGroup", "preferredLabel", "altLabels", "hiddenLabels",
                    "status", "description", "code"),
    "ISCOGroups": ("conceptUri", "code", "preferredLabel", "description"),
    "skillGroups": ("conceptUri", "preferredLabel", "description", "code"),
    "skillsHierarchy": ("Level 0 URI", "Level 0 preferred term", "Level 1 URI", "Level 2 URI",
                        "Level 3 URI"),
    "occupationSkillRelations": ("occupationUri", "relationType", "skillType", "skillUri"),
    "skillSkillRelations": ("originalSkillUri", "originalSkillType", "relationType",
                            "relatedSkillType", "relatedSkillUri"),
    "broaderRelationsSkillPillar": ("conceptType", "conceptUri", "broaderType", "broaderUri"),
    "broaderRelationsOccPillar": ("conceptType", "conceptUri", "broaderType", "broaderUri"),
    "collection": ("conceptUri", "preferredLabel"),
}
# Files whose name carries the export's language suffix (skills_en.csv); the rest are shared.
# ESCO writes skillsHierarchy rows without their trailing empty cells; only there are short
# rows normal (they are padded). Everywhere else a short row means a truncated file.
RAGGED_FILES = ("skillsHierarchy",)


class EscoExportError(ValueError):
    """A missing, corrupt or unexpected ESCO export file; the message names file and problem."""


@dataclass(frozen=True)
class TaxonomyConfig:
    """The project's ESCO configuration (`taxonomy/esco.toml`)."""

    version: str
    export: Path
    language: str
    attribution: str
    modification_notice: str
    extra_languages: dict[str, dict[str, Path]] = field(default_factory=dict)
    collections: dict[str, str] = field(default_factory=dict)
    mapping: dict[str, Any] = field(default_factory=dict)
    # the project's own (unofficial) labels: language -> concept kind -> file
    project_labels: dict[str, dict[str, Path]] = field(default_factory=dict)
    # the project's word-by-word English glossaries: language -> file
    glossaries: dict[str, Path] = field(default_factory=dict)


def load_config(settings: Settings, export: Path | None = None) -> TaxonomyConfig:
    """Read `taxonomy/esco.toml`, resolving its paths against the data root."""
    path = settings.taxonomy_config
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))["esco"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        raise EscoExportError(
            f"{path}: cannot read the [esco] taxonomy configuration ({exc})"
        ) from exc
    root = settings.data_root
    extra = {
        lang: {kind: root / rel for kind, rel in files.items()}
        for lang, files in doc.get("extra_languages", {}).items()
    }
    return TaxonomyConfig(
        version=str(doc["version"]),
        export=Path(export) if export is not None else root / doc["export"],
        language=doc.get("language", "en"),
        attribution=doc["attribution"],
        modification_notice=doc.get("modification_notice", ""),
        extra_languages=extra,
        collections=dict(doc.get("collections", {})),
        mapping=dict(doc.get("mapping", {})),
        project_labels={
            lang: {kind: path.parent / rel for kind, rel in files.items()}
            for lang, files in doc.get("project_labels", {}).items()
        },
        glossaries={lang: path.parent / rel for lang, rel in doc.get("glossaries", {}).items()},
    )


# --------------------------------------------------------------------------- reading the export


@dataclass(frozen=True)
class ExportFile:
    """One CSV of the export, inside a zip or in a folder."""

    name: str
    location: Path
    member: str | None = None  # the name inside the zip, when zipped

    @property
    def label(self) -> str:
        return f"{self.location}!{self.member}" if self.member else str(self.location)

    def open_text(self) -> io.TextIOBase:
        if self.member is None:
            return open(self.location, encoding="utf-8-sig", newline="")
        archive = zipfile.ZipFile(self.location)
        return io.TextIOWrapper(archive.open(self.member), encoding="utf-8-sig", newline="")


def index_export(export: Path) -> tuple[dict[str, ExportFile], str | None]:
    """Find every CSV of the export (zips first, then extracted folders) and its version."""
    if not export.exists():
        raise EscoExportError(f"ESCO export not found at {export} (set data_root or --export)")
    files: dict[str, ExportFile] = {}
    versions: set[str] = set()
    containers = [export] if export.is_file() else sorted(export.iterdir())
    for item in containers:
        if item.suffix.lower() == ".zip":
            try:
                with zipfile.ZipFile(item) as archive:
                    members = archive.namelist()
            except (zipfile.BadZipFile, OSError) as exc:
                raise EscoExportError(f"{item}: not a readable zip file ({exc})") from exc
            for member in members:
                if member.lower().endswith(".csv"):
                    files.setdefault(Path(member).name, ExportFile(Path(member).name, item, member))
            versions.update(VERSION_PATTERN.findall(item.name))
        elif item.is_dir():
            for path in sorted(item.rglob("*.csv")):
                files.setdefault(path.name, ExportFile(path.name, path))
            versions.update(VERSION_PATTERN.findall(item.name))
        elif item.suffix.lower() == ".csv":
            files.setdefault(item.name, ExportFile(item.name, item))
    versions.update(VERSION_PATTERN.findall(export.name))
    if len(versions) > 1:
        raise EscoExportError(f"{export}: files of several ESCO versions mixed: {sorted(versions)}")
    return files, (versions.pop() if versions else None)


def iter_csv_rows(
    source: ExportFile | Path, required: tuple[str, ...], ragged: bool = False
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) after checking the header, every row's field count and that
    the first required column (the concept URI) is filled."""
    src = source if isinstance(source, ExportFile) else ExportFile(Path(source).name, Path(source))
    label = src.label
    try:
        with src.open_text() as fh:
            reader = csv.reader(fh, strict=True)
            header = next(reader, None)
            if not header:
                raise EscoExportError(f"{label}: empty file (no header row)")
            header = [h.strip() for h in header]
            missing = [c for c in required if c not in header]
            if missing:
                raise EscoExportError(
                    f"{label}: missing columns {missing} (found {header[:12]})"
                )
            width = len(header)
            record = 0
            for row in reader:
                record += 1
                if not row:
                    continue
                if ragged and len(row) < width:
                    row = row + [""] * (width - len(row))
                if len(row) != width or not row[header.index(required[0])].strip():
                    raise EscoExportError(
                        f"{label}: record {record} (line {reader.line_num}) has {len(row)} "
                        f"fields, expected {width}, or no {required[0]}: file truncated or "
                        "malformed"
                    )
                yield reader.line_num, dict(zip(header, row, strict=True))
    except csv.Error as exc:
        raise EscoExportError(f"{label}: malformed CSV near line {exc} (truncated?)") from exc
    except UnicodeDecodeError as exc:
        raise EscoExportError(
            f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from exc
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise EscoExportError(f"{label}: cannot read ({exc}): truncated or corrupt") from exc


def read_table(
    source: ExportFile | Path, required: tuple[str, ...], ragged: bool = False,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """A whole export file as a string DataFrame (empty cells are empty strings).

    Only collections may be header-only (a custom export can have no member of one); an empty
    core file means a broken download."""
    rows = [row for _, row in iter_csv_rows(source, required, ragged)]
    if not rows and allow_empty:
        return pd.DataFrame(columns=list(required), dtype="string")
    if not rows:
        label = source.label if isinstance(source, ExportFile) else source
        raise EscoExportError(f"{label}: header only, no records")
    return pd.DataFrame(rows, dtype="string").fillna("")


def tidy_labels(labels: pd.Series) -> pd.Series:
    """Labels without stray whitespace: 78 v1.1.1 skill labels end in a space ("plan "), which
    breaks exact matching; the export's own text is kept beside it."""
    return labels.str.split().str.join(" ")


def split_labels(cell: str) -> list[str]:
    """ESCO packs alternative labels one per line inside one cell."""
    return [part.strip() for part in cell.splitlines() if part.strip()]


def labels_frame(frame: pd.DataFrame, concept_type: str, language: str) -> pd.DataFrame:
    """One row per (concept, label): preferred, each alternative and each hidden label."""
    out: list[tuple[str, str, str, str, str]] = []
    for kind_col, kind in LABEL_KINDS.items():
        if kind_col not in frame.columns:
            continue
        for uri, cell in zip(frame["conceptUri"], frame[kind_col], strict=True):
            for label in split_labels(cell) if kind != "preferred" else [" ".join(cell.split())]:
                if label:
                    out.append((uri, concept_type, language, label, kind))
    return pd.DataFrame(out, columns=["uri", "concept_type", "language", "label", "kind"])


def project_skill_labels(config: TaxonomyConfig, official: list[pd.DataFrame],
                         known: set[str]) -> pd.DataFrame:
    """The project's unofficial skill labels (kind 'unofficial'), for the skills of each
    language that ESCO's own files give no label: they let Dutch text meet Dutch words."""
    frames = []
    have = pd.concat(official, ignore_index=True)
    for lang, files in config.project_labels.items():
        path = files.get("skills")
        if path is None:
            continue
        if not path.exists():
            raise EscoExportError(f"{path}: {lang} project skill labels file not found")
        frame = labels_frame(read_table(path, ("conceptUri", "preferredLabel")), "skill", lang)
        covered = set(have.loc[(have["language"] == lang) & (have["concept_type"] == "skill"),
                               "uri"])
        frame = frame[frame["uri"].isin(known) & ~frame["uri"].isin(covered)]
        frames.append(frame.assign(kind="unofficial"))
    columns = ["uri", "concept_type", "language", "label", "kind"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _require(files: dict[str, ExportFile], stem: str, language: str | None, export: Path
             ) -> ExportFile:
    name = f"{stem}_{language}.csv" if language else f"{stem}.csv"
    if name not in files:
        raise EscoExportError(f"{export}: the export has no {name} (is the download complete?)")
    return files[name]


def _iso_level(code: str) -> int:
    return len(code) if code.isdigit() else 0


def build_tables(config: TaxonomyConfig) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Read the whole export into warehouse-shaped DataFrames; nothing is written here."""
    files, version = index_export(config.export)
    if version is not None and version != config.version:
        raise EscoExportError(
            f"{config.export}: export is ESCO v{version} but taxonomy/esco.toml expects "
            f"v{config.version}"
        )
    lang = config.language
    used: dict[str, ExportFile] = {}

    def read(stem: str, with_language: bool, required_key: str | None = None) -> pd.DataFrame:
        src = _require(files, stem, lang if with_language else None, config.export)
        used[src.name] = src
        return read_table(src, REQUIRED_COLUMNS[required_key or stem], stem in RAGGED_FILES,
                          allow_empty=required_key == "collection")

    skills = read("skills", True)
    occupations = read("occupations", True)
    isco = read("ISCOGroups", True)
    skill_groups = read("skillGroups", True)
    hierarchy = read("skillsHierarchy", True)
    occ_skill = read("occupationSkillRelations", False)
    skill_skill = read("skillSkillRelations", False)
    skill_broader = read("broaderRelationsSkillPillar", False)
    occ_broader = read("broaderRelationsOccPillar", False)

    tables: dict[str, pd.DataFrame] = {}
    tables["esco_skill"] = pd.DataFrame({
        "uri": skills["conceptUri"],
        "preferred_label": tidy_labels(skills["preferredLabel"]),
        "preferred_label_original": skills["preferredLabel"],
        "skill_type": skills["skillType"],
        "reuse_level": skills["reuseLevel"],
        "status": skills["status"],
        "description": skills["description"],
        "definition": skills.get("definition", ""),
        "scope_note": skills.get("scopeNote", ""),
        "modified_date": skills.get("modifiedDate", ""),
    })
    tables["esco_occupation"] = pd.DataFrame({
        "uri": occupations["conceptUri"],
        "preferred_label": tidy_labels(occupations["preferredLabel"]),
        "preferred_label_original": occupations["preferredLabel"],
        "isco_code": occupations["iscoGroup"],
        "esco_code": occupations["code"],
        "status": occupations["status"],
        "description": occupations["description"],
        "definition": occupations.get("definition", ""),
        "scope_note": occupations.get("scopeNote", ""),
        "regulated_profession_note": occupations.get("regulatedProfessionNote", ""),
        "modified_date": occupations.get("modifiedDate", ""),
    })
    tables["esco_isco_group"] = pd.DataFrame({
        "uri": isco["conceptUri"],
        "code": isco["code"],
        "preferred_label": isco["preferredLabel"],
        "description": isco["description"],
        "level": [_iso_level(c) for c in isco["code"]],
    })
    tables["esco_skill_group"] = pd.DataFrame({
        "uri": skill_groups["conceptUri"],
        "code": skill_groups["code"],
        "preferred_label": skill_groups["preferredLabel"],
        "description": skill_groups["description"],
        "scope_note": skill_groups.get("scopeNote", ""),
    })
    hierarchy.columns = [re.sub(r"\W+", "_", c.strip().lower()) for c in hierarchy.columns]
    tables["esco_skill_hierarchy"] = hierarchy
    broader_columns = {"conceptUri": "uri", "conceptType": "concept_type",
                       "broaderUri": "broader_uri", "broaderType": "broader_type"}
    tables["esco_skill_broader"] = skill_broader[list(broader_columns)].rename(
        columns=broader_columns)
    tables["esco_occupation_broader"] = occ_broader[list(broader_columns)].rename(
        columns=broader_columns)
    tables["esco_occupation_skill"] = pd.DataFrame({
        "occupation_uri": occ_skill["occupationUri"],
        "skill_uri": occ_skill["skillUri"],
        "relation_type": occ_skill["relationType"],
        "skill_type": occ_skill["skillType"],
    })
    tables["esco_skill_skill"] = pd.DataFrame({
        "skill_uri": skill_skill["originalSkillUri"],
        "skill_type": skill_skill["originalSkillType"],
        "relation_type": skill_skill["relationType"],
        "related_skill_uri": skill_skill["relatedSkillUri"],
        "related_skill_type": skill_skill["relatedSkillType"],
    })

    members = []
    for name, stem in config.collections.items():
        frame = read(stem, True, "collection")
        members.append(pd.DataFrame({
            "collection": name,
            "uri": frame["conceptUri"],
            "concept_type": frame.get("conceptType", ""),
        }))
    tables["esco_collection_member"] = pd.concat(members, ignore_index=True).drop_duplicates()

    labels = [
        labels_frame(skills, "skill", lang),
        labels_frame(occupations, "occupation", lang),
        labels_frame(isco, "isco_group", lang),
        labels_frame(skill_groups, "skill_group", lang),
    ]
    for extra_lang, extra_files in config.extra_languages.items():
        for kind, concept_type, key in (
            ("occupations", "occupation", "occupations"),
            ("isco_groups", "isco_group", "ISCOGroups"),
        ):
            if kind in extra_files:
                path = extra_files[kind]
                if not path.exists():
                    raise EscoExportError(f"{path}: {extra_lang} {kind} labels file not found")
                used[f"{extra_lang}:{path.name}"] = ExportFile(path.name, path)
                labels.append(labels_frame(
                    read_table(path, REQUIRED_COLUMNS[key][:4]), concept_type, extra_lang
                ))
    for extra_lang, extra_files in config.extra_languages.items():
        # ESCO distributes skills_<lang>.csv per language; this data root may not hold it
        path = extra_files.get("skills")
        if path is not None and path.exists():
            used[f"{extra_lang}:{path.name}"] = ExportFile(path.name, path)
            labels.append(labels_frame(read_table(path, ("conceptUri", "preferredLabel")),
                                       "skill", extra_lang))
    labels.append(project_skill_labels(config, labels, set(tables["esco_skill"]["uri"])))
    tables["esco_label"] = (
        pd.concat(labels, ignore_index=True).drop_duplicates().reset_index(drop=True)
    )

    known_occ = set(tables["esco_occupation"]["uri"])
    known_skill = set(tables["esco_skill"]["uri"])
    rel = tables["esco_occupation_skill"]
    issues = [
        (used["occupationSkillRelations.csv"].label, f"record {i + 1}", occ,
         "occupation URI not in " + f"occupations_{lang}.csv")
        for i, occ in enumerate(rel["occupation_uri"]) if occ not in known_occ
    ] + [
        (used["occupationSkillRelations.csv"].label, f"record {i + 1}", sk,
         "skill URI not in " + f"skills_{lang}.csv")
        for i, sk in enumerate(rel["skill_uri"]) if sk not in known_skill
    ]
    tables["esco_issue"] = pd.DataFrame(issues, columns=["file", "record", "uri", "problem"])

    meta = {
        "version": version or config.version,
        "version_source": "file names" if version else "taxonomy/esco.toml",
        "language": lang,
        "languages": sorted({lang, *config.extra_languages}),
        "export": str(config.export),
        "files": sorted(f.label for f in used.values()),
        "attribution": config.attribution,
    }
    return tables, meta


# --------------------------------------------------------------------------- loading

CONCEPT_VIEW = """
CREATE OR REPLACE VIEW esco_concept AS
    SELECT uri, 'skill' AS concept_type, preferred_label FROM esco_skill
    UNION ALL SELECT uri, 'occupation', preferred_label FROM esco_occupation
    UNION ALL SELECT uri, 'isco_group', preferred_label FROM esco_isco_group
    UNION ALL SELECT uri, 'skill_group', preferred_label FROM esco_skill_group
"""


def load(settings: Settings, export: Path | None = None) -> dict[str, Any]:
    """Read the export, then replace every ESCO table in one transaction; returns a summary.

    Reading and checking happen before anything is written; the tables are replaced in a
    private copy that is published whole (`warehouse.publishing`), so readers see either the
    previous taxonomy or the new one, never a mix, and keep reading while it loads.
    """
    started = time.perf_counter()
    config = load_config(settings, export)
    tables, meta = build_tables(config)
    read_seconds = time.perf_counter() - started
    with warehouse.publishing(settings.warehouse, "taxonomy load") as con:
        for name, frame in tables.items():
            warehouse.replace_table(con, name, frame)
        con.execute(CONCEPT_VIEW)
        meta["loaded_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        warehouse.replace_table(con, "esco_release", pd.DataFrame([{
            "version": meta["version"],
            "language": meta["language"],
            "languages": ",".join(meta["languages"]),
            "export": meta["export"],
            "files": json.dumps(meta["files"]),
            "loaded_at": meta["loaded_at"],
            "attribution": meta["attribution"],
        }]))
        rows = sum(len(f) for f in tables.values())
        record = warehouse.RunRecord(
            pipeline="taxonomy", input=meta["export"], rows_read=rows, rows_stored=rows
        )
        record.write(con)
    progress.published("taxonomy")
    meta["counts"] = {name: len(frame) for name, frame in tables.items()}
    meta["issues"] = len(tables["esco_issue"])
    meta["read_seconds"] = round(read_seconds, 2)
    meta["seconds"] = round(time.perf_counter() - started, 2)
    return meta


# --------------------------------------------------------------------------- looking up


def release(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The loaded ESCO release, or None when the taxonomy has not been loaded."""
    if not warehouse.table_exists(con, "esco_release"):
        return None
    frame = con.execute("SELECT * FROM esco_release").df()
    return frame.iloc[0].to_dict() if len(frame) else None


def info(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Version, attribution and row counts of every ESCO table."""
    rel = release(con)
    if rel is None:
        raise warehouse.WarehouseMissing(
            "the warehouse holds no ESCO: run `skillmatch taxonomy load`"
        )
    counts = warehouse.table_counts(con, "esco_")
    counts.pop("esco_release", None)
    extra = con.execute("""
        SELECT
          (SELECT count(*) FROM esco_occupation_skill WHERE relation_type = 'essential'),
          (SELECT count(*) FROM esco_occupation_skill WHERE relation_type = 'optional'),
          (SELECT count(*) FROM esco_label WHERE concept_type = 'skill')
    """).fetchone()
    by_language = dict(con.execute(
        "SELECT language, count(*) FROM esco_label GROUP BY 1 ORDER BY 1"
    ).fetchall())
    return {
        "version": rel["version"],
        "languages": rel["languages"],
        "loaded_at": rel["loaded_at"],
        "attribution": rel["attribution"],
        "counts": counts,
        "essential_relations": extra[0],
        "optional_relations": extra[1],
        "skill_labels": extra[2],
        "labels_by_language": by_language,
    }


def occupation_detail(con: duckdb.DuckDBPyConnection, uri: str) -> dict[str, Any] | None:
    """An occupation with its ISCO group, labels and essential/optional skills."""
    occ = con.execute("SELECT * FROM esco_occupation WHERE uri = ?", [uri]).df()
    if occ.empty:
        return None
    row = occ.iloc[0].to_dict()
    isco = con.execute(
        """SELECT g.code, g.preferred_label, nl.label AS label_nl
           FROM esco_isco_group g
           LEFT JOIN esco_label nl ON nl.uri = g.uri AND nl.language = 'nl'
                AND nl.kind = 'preferred'
           WHERE g.code = ?""",
        [row["isco_code"]],
    ).df()
    skills = con.execute(
        """SELECT r.relation_type, s.preferred_label AS skill, s.skill_type, s.reuse_level,
                  r.skill_uri AS uri
           FROM esco_occupation_skill r LEFT JOIN esco_skill s ON s.uri = r.skill_uri
           WHERE r.occupation_uri = ?
           ORDER BY r.relation_type, s.preferred_label""",
        [uri],
    ).df()
    labels = con.execute(
        "SELECT language, kind, label FROM esco_label WHERE uri = ? ORDER BY language, kind, label",
        [uri],
    ).df()
    return {
        "occupation": row,
        "isco_group": isco.iloc[0].to_dict() if len(isco) else None,
        "essential": skills[skills.relation_type == "essential"].drop(columns="relation_type"),
        "optional": skills[skills.relation_type == "optional"].drop(columns="relation_type"),
        "labels": labels,
    }


def skill_detail(con: duckdb.DuckDBPyConnection, uri: str) -> dict[str, Any] | None:
    """A skill with its broader hierarchy, narrower skills, collections and occupations."""
    skill = con.execute("SELECT * FROM esco_skill WHERE uri = ?", [uri]).df()
    if skill.empty:
        return None
    ancestors = con.execute(
        """WITH RECURSIVE up(uri, depth) AS (
               SELECT broader_uri, 1 FROM esco_skill_broader WHERE uri = ?
               UNION
               SELECT b.broader_uri, up.depth + 1 FROM esco_skill_broader b
               JOIN up ON b.uri = up.uri WHERE up.depth < 12)
           SELECT up.depth, min(c.preferred_label) AS label, c.concept_type, up.uri
           FROM up JOIN esco_concept c ON c.uri = up.uri
           GROUP BY ALL ORDER BY up.depth DESC, label""",
        [uri],
    ).df()
    narrower = con.execute(
        """SELECT s.preferred_label AS skill, s.uri FROM esco_skill_broader b
           JOIN esco_skill s ON s.uri = b.uri WHERE b.broader_uri = ? ORDER BY 1""",
        [uri],
    ).df()
    collections = [r[0] for r in con.execute(
        "SELECT collection FROM esco_collection_member WHERE uri = ? ORDER BY 1", [uri]
    ).fetchall()]
    occupations = con.execute(
        """SELECT r.relation_type, o.preferred_label AS occupation, o.isco_code, o.uri
           FROM esco_occupation_skill r JOIN esco_occupation o ON o.uri = r.occupation_uri
           WHERE r.skill_uri = ? ORDER BY r.relation_type, o.preferred_label""",
        [uri],
    ).df()
    related = con.execute(
        """SELECT r.relation_type, s.preferred_label AS skill, s.uri
           FROM esco_skill_skill r JOIN esco_skill s ON s.uri = r.related_skill_uri
           WHERE r.skill_uri = ? ORDER BY 1, 2""",
        [uri],
    ).df()
    labels = con.execute(
        "SELECT language, kind, label FROM esco_label WHERE uri = ? ORDER BY kind, label", [uri]
    ).df()
    return {
        "skill": skill.iloc[0].to_dict(),
        "broader": ancestors,
        "narrower": narrower,
        "collections": collections,
        "occupations": occupations,
        "related": related,
        "labels": labels,
    }


def preferred_labels(con: duckdb.DuckDBPyConnection, concept_type: str) -> pd.DataFrame:
    """uri and preferred_label of every skill or occupation, by label: what pickers offer."""
    table = {"skill": "esco_skill", "occupation": "esco_occupation"}.get(concept_type)
    if table is None:
        raise ValueError("concept_type must be 'skill' or 'occupation'")
    return con.execute(f"SELECT uri, preferred_label FROM {table} "
                       "ORDER BY lower(preferred_label), uri").df()
