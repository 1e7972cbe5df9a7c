"""Reader for vacancy exports in CSV, driven by a declarative `CsvSpec` per source, and the
loader of `pipelines/sources.toml`, which declares every vacancy source of the project.

Each source's quirks (column names, date formats, noise rows, employer names glued to page
text) live in the TOML file, not here, so a new export or a changed header is a config edit.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from skillmatch.sources import (
    SourceError,
    Staged,
    clean_record,
    csv_records,
    join_problems,
    read_text,
    undecodable,
)
from skillmatch.sources.jobposting import read_jobpostings
from skillmatch.vacancies import RAW_COLUMNS

FORMATS = ("csv", "jobposting")
DATE_COLUMNS = ("posted_date", "valid_through")


@dataclass(frozen=True)
class RowRule:
    """Reject a row when `column` matches `pattern` (or, with `negate`, when it does not)."""

    column: str
    pattern: str
    reason: str
    negate: bool = False

    def fails(self, value: str) -> bool:
        found = re.search(self.pattern, value) is not None
        return found != self.negate


@dataclass(frozen=True)
class CsvSpec:
    """How one CSV export maps onto the raw vacancy schema.

    `columns`: target column -> source column, or a list of source columns whose non-empty
    values are joined with blank lines (descriptions spread over several fields).
    `constants`: target column -> value for every row (a feed of one employer, a sector).
    `extract`: target column -> regex whose first group is kept (left unchanged if no match).
    `date_formats`: strptime formats of the source's dates; matching values are staged as
    ISO dates, others are kept as they are so that normalisation reports them.
    `required`: source columns the header must have. `reject_if`: per-row noise rules.
    `headings`: source column -> a heading line put before its value when columns are joined,
    so the ad keeps its sections ("Profiel:", "Aanbod:") for the mapping to read.
    """

    columns: Mapping[str, str | list[str]]
    delimiter: str = ","
    encoding: str = "utf-8"
    date_formats: tuple[str, ...] = ()
    language: str = ""
    country: str = ""
    required: tuple[str, ...] = ()
    constants: Mapping[str, str] = field(default_factory=dict)
    extract: Mapping[str, str] = field(default_factory=dict)
    reject_if: tuple[RowRule, ...] = ()
    headings: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted((set(self.columns) | set(self.constants) | set(self.extract))
                         - set(RAW_COLUMNS))
        if unknown:
            raise ValueError(f"unknown target columns {unknown}; known: {RAW_COLUMNS}")
        if len(self.delimiter) != 1:
            raise ValueError(f"delimiter must be one character, not {self.delimiter!r}")

    def source_columns(self) -> set[str]:
        names: set[str] = set()
        for spec in self.columns.values():
            names.update([spec] if isinstance(spec, str) else spec)
        return names | {rule.column for rule in self.reject_if}


@dataclass(frozen=True)
class SourceSpec:
    """One declared vacancy source: its format, file (relative to the data root) and what
    the reader needs to know about it."""

    name: str
    format: str
    path: Path
    country: str = ""
    language: str = ""
    csv: CsvSpec | None = None
    sector_map: Mapping[str, str] = field(default_factory=dict)

    def resolve(self, data_root: Path) -> Path:
        return self.path if self.path.is_absolute() else Path(data_root) / self.path


def _iso_date(value: str, formats: tuple[str, ...]) -> str:
    for fmt in formats:
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    return value


def read_vacancy_csv(path: Path, source: str, spec: CsvSpec) -> Staged:
    """Stage a CSV export under `spec`. Record N is reported as "row N" counting the header as
    row 1 (a spreadsheet's numbering); multi-line quoted fields count as one row.

    A missing file, an empty file or a header without the required columns raises
    SourceError (a header without rows is a clean zero-row run); a row that is ragged, not in
    the file's encoding, opens a quote it never closes, is caught by a `reject_if` rule, or
    has no title and no description becomes a reject and the other rows are kept. Values are
    cleaned (`clean_record`, problems named in `problems`); a repeated id keeps the last
    row."""
    path = Path(path)
    header, records = csv_records(read_text(path, spec.encoding), path, spec.delimiter)
    header = [h.strip() for h in header]
    missing = [c for c in spec.required if c not in header]
    if missing:
        raise SourceError(f"{path}: required columns missing: {', '.join(missing)} "
                          f"(header has: {', '.join(header)})")
    index = {name: i for i, name in enumerate(header) if name}
    id_column = spec.columns.get("source_record")
    extract = {target: re.compile(pattern) for target, pattern in spec.extract.items()}
    staged = Staged(rows=pd.DataFrame(columns=RAW_COLUMNS).astype(str))
    rows: list[dict[str, str]] = []
    for number, (_, fields, problem) in enumerate(records, start=2):
        locator = f"row {number}"
        if fields is None:
            staged.reject(str(path), locator, problem)
            continue
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # blank line: not a record
        record_id = ""
        if isinstance(id_column, str) and id_column in index and len(fields) == len(header):
            record_id = fields[index[id_column]].strip()
        where = f"{locator} (id={record_id})" if record_id else locator
        if len(fields) != len(header):
            staged.reject(str(path), where,
                          f"{len(fields)} fields where the header has {len(header)}")
            continue
        problem = undecodable(fields, header, spec.encoding)
        if problem:
            staged.reject(str(path), where, problem)
            continue
        values = {name: fields[i].strip() for name, i in index.items()}
        rule = next((r for r in spec.reject_if if r.fails(values.get(r.column, ""))), None)
        if rule is not None:
            staged.reject(str(path), where, rule.reason)
            continue
        row = {column: "" for column in RAW_COLUMNS}
        for target, columns in spec.columns.items():
            if isinstance(columns, str):
                row[target] = values.get(columns, "")
            else:
                row[target] = "\n\n".join(
                    f"{spec.headings[c]}\n{v}" if c in spec.headings else v
                    for c in columns if (v := values.get(c, "")))
        row.update(spec.constants)
        for target, pattern in extract.items():
            found = pattern.search(row[target])
            if found and found.groups():
                row[target] = (found.group(1) or "").strip()
        if not row["title"] and not row["description"]:
            staged.reject(str(path), where, "no title and no description")
            continue
        for column in DATE_COLUMNS:
            row[column] = _iso_date(row[column], spec.date_formats)
        row.update(source=source, record=locator,
                   source_record=row["source_record"] or locator,
                   country=row["country"] or spec.country,
                   language=row["language"] or spec.language)
        problems: list[str] = []
        clean_record(row, problems)
        row["source_record"] = row["source_record"].strip() or locator  # the id folds repeats
        row["problems"] = join_problems(problems)
        rows.append(row)
    if rows:
        staged.rows = pd.DataFrame(rows, columns=RAW_COLUMNS).astype(str)
    staged.rows_read = len(rows) + len(staged.rejects)
    staged.fold("source_record")
    return staged


def _language(table: Mapping[str, Any]) -> str:
    """A declared language code; "auto" (or none) leaves detection to normalisation."""
    language = str(table.get("language", "")).strip().lower()
    return "" if language == "auto" else language


def _csv_spec(name: str, table: Mapping[str, Any]) -> CsvSpec:
    rules = []
    for rule in table.get("reject_if", []):
        if ("matches" in rule) == ("not_matches" in rule):
            raise SourceError(f"source {name!r}: a reject_if rule needs exactly one of "
                              f"'matches' / 'not_matches'")
        rules.append(RowRule(column=rule["column"],
                             pattern=rule.get("matches", rule.get("not_matches")),
                             reason=rule["reason"], negate="not_matches" in rule))
    try:
        return CsvSpec(
            columns=dict(table["columns"]),
            delimiter=table.get("delimiter", ","),
            encoding=table.get("encoding", "utf-8"),
            date_formats=tuple(table.get("date_formats", ())),
            language=_language(table),
            country=table.get("country", ""),
            required=tuple(table.get("required", ())),
            constants=dict(table.get("constants", {})),
            extract=dict(table.get("extract", {})),
            reject_if=tuple(rules),
            headings=dict(table.get("headings", {})),
        )
    except KeyError as exc:
        raise SourceError(f"source {name!r}: missing key {exc}") from exc
    except ValueError as exc:
        raise SourceError(f"source {name!r}: {exc}") from exc


def load_csv_specs(path: Path) -> dict[str, SourceSpec]:
    """All vacancy sources declared in a sources TOML file (e.g. `pipelines/sources.toml`),
    by name. Paths stay relative to the data root; `SourceSpec.resolve` joins them."""
    path = Path(path)
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SourceError(f"{path}: cannot read sources ({exc})") from exc
    specs: dict[str, SourceSpec] = {}
    for name, table in config.items():
        if not isinstance(table, Mapping):
            raise SourceError(f"{path}: {name!r} is not a [table]")
        kind = table.get("format")
        if kind not in FORMATS:
            raise SourceError(f"{path}: source {name!r} has format {kind!r}; "
                              f"expected one of {FORMATS}")
        if "path" not in table:
            raise SourceError(f"{path}: source {name!r} has no path")
        specs[name] = SourceSpec(
            name=name,
            format=kind,
            path=Path(table["path"]),
            country=table.get("country", ""),
            language=_language(table),
            csv=_csv_spec(name, table) if kind == "csv" else None,
            sector_map=dict(table.get("sector_map", {})),
        )
    return specs


def read_source(spec: SourceSpec, data_root: Path) -> Staged:
    """Stage one declared source from under `data_root`, whatever its format."""
    path = spec.resolve(data_root)
    if spec.format == "jobposting":
        return read_jobpostings(path, spec.name, country=spec.country, language=spec.language,
                                sector_map=spec.sector_map)
    assert spec.csv is not None
    return read_vacancy_csv(path, spec.name, spec.csv)
