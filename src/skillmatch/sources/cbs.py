"""Readers for CBS StatLine vacancy tables (CSV exports as downloaded from StatLine/OData).

Two tables:

* 80472ned (`vacatures.csv`): open, new and filled vacancies (x 1000) per quarter by SBI-2008
  sector, plus three company-size classes in the same `Bedrijfskenmerken` dimension.
* 83599NED (`vacatures_regio.csv`): open vacancies (x 1000) per quarter for 24 SBI groups in
  17 regions (the Netherlands, 4 landsdelen, 12 provinces).

Figures come out as absolute numbers (x 1000 applied). CBS writes "." (or leaves the cell empty)
for a figure it does not publish: that figure becomes NaN, and a row with no figure at all is
rejected. Annual rows (`JJ00`) are rejected with `ANNUAL_REASON`: they are not sums of the
quarters (CBS's annual open-vacancy figure is a weighted average), everything downstream works per
quarter, and keeping them would double count. They are counted as rejects so the invariant
rows_read == len(rows) + len(rejects) + duplicates holds; the pipeline can tell them apart by
the reason. A figure given twice for one key and quarter (a revised export appended) keeps the
later line and counts the earlier as a duplicate.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from skillmatch.sources import SourceError, Staged, open_lines

ANNUAL_REASON = "annual figure (JJ00): only quarterly rows are kept"
TOTAL_SECTOR = "A-U"
MAX_CONTINUATION_LINES = 20  # a quoted field may span lines, but a stray quote must not eat a file

VACANCY_COLUMNS = {
    "OpenstaandeVacatures_1": "open_vacancies",
    "OntstaneVacatures_2": "new_vacancies",
    "VervuldeVacatures_3": "filled_vacancies",
}
REGIONAL_COLUMNS = {"OpenstaandeVacatures": "open_vacancies"}

# CBS province codes -> NUTS 2021 level-2 codes; landsdelen are NUTS level 1, NL01 the country.
PROVINCE_NUTS2 = {
    "PV20": "NL11",  # Groningen
    "PV21": "NL12",  # Friesland
    "PV22": "NL13",  # Drenthe
    "PV23": "NL21",  # Overijssel
    "PV24": "NL23",  # Flevoland
    "PV25": "NL22",  # Gelderland
    "PV26": "NL31",  # Utrecht
    "PV27": "NL32",  # Noord-Holland
    "PV28": "NL33",  # Zuid-Holland
    "PV29": "NL34",  # Zeeland
    "PV30": "NL41",  # Noord-Brabant
    "PV31": "NL42",  # Limburg
}
LANDSDEEL_NUTS1 = {"LD01": "NL1", "LD02": "NL2", "LD03": "NL3", "LD04": "NL4"}
REGION_LEVELS = {"NL": "country", "LD": "landsdeel", "PV": "province"}

_PERIOD = re.compile(r"^(\d{4})(KW0[1-4]|JJ00|MM\d\d|X000|HJ0[12])$")
_SECTOR_TITLE = re.compile(r"^([A-U](?:-[A-U])?|\d+(?:-\d+)?)\s+(.+)$")
_SIZE_TITLE = re.compile(r"^Bedrijfsgrootte:\s*(\d+)\s+(?:tot\s+(\d+)|of meer)")


@dataclass(frozen=True)
class SectorCode:
    """One `Bedrijfskenmerken` / SBI key of a CBS table, decoded."""

    cbs_key: str
    sector_code: str | None  # "Q", "A-U", "10-12"; None for a company-size class
    sector_label: str
    sector_level: str  # total / section / section_group / branch / company_size / other
    size_class: str | None  # "0-9", "10-99", "100+" for company-size rows


def sector_level(code: str | None) -> str:
    """Which SBI level a decoded code is: the A-U total, a section letter, a range of sections,
    or a numeric branch (division, group or class)."""
    if code is None:
        return "other"
    if code == TOTAL_SECTOR:
        return "total"
    if re.fullmatch(r"[A-U]", code):
        return "section"
    if re.fullmatch(r"[A-U]-[A-U]", code):
        return "section_group"
    return "branch"


def decode_sector(key: str, title: str, description: str = "") -> SectorCode:
    """Split a CBS title such as "Q Gezondheids- en welzijnszorg" into code and label; company
    size classes ("Bedrijfsgrootte: 0 tot 10 werkzame pe...", truncated by CBS) get a size class
    and a full label instead of a sector code."""
    title = " ".join(title.split())
    size = _SIZE_TITLE.match(title)
    if size:
        low, high = int(size.group(1)), size.group(2)
        if high is None:
            return SectorCode(key, None, f"Bedrijfsgrootte: {low} of meer werkzame personen",
                              "company_size", f"{low}+")
        return SectorCode(key, None, f"Bedrijfsgrootte: {low} tot {high} werkzame personen",
                          "company_size", f"{low}-{int(high) - 1}")
    match = _SECTOR_TITLE.match(title)
    if not match:
        label = description.splitlines()[0].strip() if description else title
        return SectorCode(key, None, label or title, "other", None)
    code, label = match.group(1), match.group(2)
    return SectorCode(key, code, label, sector_level(code), None)


def read_code_list(path: Path, section: str = "Bedrijfskenmerken") -> dict[str, SectorCode]:
    """The sector keys of a CBS table from either metadata layout in the shared folder: a plain
    `Key,Title` list (`sectoren_metadata.csv`) or StatLine's multi-section metadata export
    (`vacatures_metadata.csv`, where `section` names the dimension to read)."""
    text = _read_text(path)
    delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") \
        else ","
    records = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if records and len(records[0]) == 1:  # multi-section StatLine export
        delimiter = ";"
        records = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        start = next((i for i, r in enumerate(records) if r == [section]), None)
        if start is None:
            raise SourceError(f"{path}: no {section!r} section in the metadata")
        body: list[list[str]] = []
        for record in records[start + 1:]:
            if len(record) == 1:
                break
            body.append(record)
        records = body
    if not records:
        raise SourceError(f"{path}: empty code list")
    header = [h.strip() for h in records[0]]
    if "Key" not in header or "Title" not in header:
        raise SourceError(f"{path}: code list needs Key and Title columns, has {header}")
    k, t = header.index("Key"), header.index("Title")
    d = header.index("Description") if "Description" in header else None
    codes: dict[str, SectorCode] = {}
    for record in records[1:]:
        if len(record) <= max(k, t):
            continue
        key = record[k].strip()
        description = record[d] if d is not None and d < len(record) else ""
        if key:
            codes[key] = decode_sector(key, record[t].strip(), description)
    if not codes:
        raise SourceError(f"{path}: no codes in the code list")
    return codes


def read_region_list(path: Path) -> dict[str, str]:
    """CBS region key -> name from `regios_metadata.csv` ("PV27" -> "Noord-Holland")."""
    text = _read_text(path)
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or "Key" not in [h.strip() for h in rows[0]]:
        raise SourceError(f"{path}: region list needs a Key column")
    header = [h.strip() for h in rows[0]]
    k, t = header.index("Key"), header.index("Title")
    names = {}
    for row in rows[1:]:
        if len(row) > max(k, t) and row[k].strip():
            names[row[k].strip()] = re.sub(r"\s*\((PV|LD)\)\s*$", "", row[t].strip())
    return names


def full_records(records: list[tuple[int, list[str] | None, str]], width: int, staged: Staged,
                 source: str) -> Iterator[tuple[int, list[str]]]:
    """The records of `delimited_records` that parsed and have one field per header column;
    each other one becomes a reject naming its line."""
    for number, fields, problem in records:
        if fields is None:
            staged.reject(source, f"line {number}", problem)
        elif len(fields) != width:
            staged.reject(source, f"line {number}", f"{len(fields)} fields, header has {width}")
        else:
            yield number, fields


def delimited_records(path: Path) -> tuple[list[str], list[tuple[int, list[str] | None, str]]]:
    """Header and records of a ';'- or ','-separated file (delimiter taken from the header).

    Each record is (first line number, fields or None, problem). A quoted field may span lines;
    a quote left open for more than MAX_CONTINUATION_LINES lines, or closed only by a later
    line's stray quote (the joined lines then do not fit the header), rejects only its first
    line and reading goes on with the next one. Non-UTF-8 lines and fields over the csv field
    limit become problems, not failures."""
    lines = list(open_lines(path))
    while lines and lines[0][1] is not None and not lines[0][1].strip():
        lines.pop(0)
    if not lines:
        raise SourceError(f"{path}: empty file")
    number, head, problem = lines[0]
    if head is None:
        raise SourceError(f"{path}: header line is not UTF-8 ({problem})")
    delimiter = ";" if head.count(";") > head.count(",") else ("\t" if "\t" in head else ",")
    header = [h.strip() for h in next(csv.reader([head], delimiter=delimiter))]
    records: list[tuple[int, list[str] | None, str]] = []
    i = 1
    while i < len(lines):
        number, text, problem = lines[i]
        if text is None:
            records.append((number, None, problem))
            i += 1
            continue
        if not text.strip():
            i += 1
            continue
        j = i
        while text.count('"') % 2 and j + 1 < len(lines) and j - i < MAX_CONTINUATION_LINES:
            j += 1
            more = lines[j][1]
            if more is None:
                break
            text = f"{text}\n{more}"
        if text.count('"') % 2:
            records.append((number, None, "unbalanced quote (truncated or stray '\"')"))
            i += 1
            continue
        try:
            fields = next(csv.reader(io.StringIO(text), delimiter=delimiter, strict=True))
        except csv.Error as exc:
            if j > i:  # the quote that closed it was another line's stray one
                records.append((number, None, "unbalanced quote (truncated or stray '\"')"))
                i += 1
                continue
            records.append((number, None, f"not a valid CSV record ({exc})"))
        else:
            if j > i and len(fields) != len(header):
                records.append((number, None, "unbalanced quote (truncated or stray '\"')"))
                i += 1
                continue
            records.append((number, fields, ""))
        i = j + 1
    return header, records


def _read_text(path: Path) -> str:
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: file not found")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not UTF-8 ({exc})") from exc
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc})") from exc


def _number(raw: str) -> float:
    """A CBS cell: "." or empty = not published (NaN); otherwise a non-negative number."""
    value = raw.strip()
    if value in ("", ".", "-", "x"):
        return math.nan
    try:
        number = float(value.replace(",", ".") if value.count(",") == 1 and "." not in value
                       else value)
    except ValueError:
        number = math.nan
        value = value[:40]
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{value!r} is not a non-negative number")
    return number


def _quarter(period: str) -> tuple[str | None, str]:
    """("2019Q1", "") for "2019KW01"; (None, reason) for annual or other periods."""
    match = _PERIOD.match(period)
    if not match:
        return None, f"period {period!r} is not a CBS period code"
    if match.group(2).startswith("KW"):
        return f"{match.group(1)}Q{match.group(2)[-1]}", ""
    if match.group(2) == "JJ00":
        return None, ANNUAL_REASON
    return None, f"period {period!r} is not a quarter"


def _columns(path: Path, header: list[str], needed: list[str]) -> dict[str, int]:
    missing = [c for c in needed if c not in header]
    if missing:
        raise SourceError(f"{path}: missing columns {missing} (has {header})")
    return {c: header.index(c) for c in needed}


def read_cbs_vacancies(path: Path, metadata_path: Path, source: str | None = None) -> Staged:
    """CBS 80472ned: one row per sector (or company-size class) and quarter.

    Columns: cbs_key, sector_code ("Q", "A-U", "10-12"; NA for size classes), sector_label
    (Dutch, CBS), sector_level, size_class ("0-9", "10-99", "100+"; NA for sectors), quarter
    ("2019Q1"), open_vacancies, new_vacancies, filled_vacancies (absolute numbers, float; NaN
    where CBS publishes none). `metadata_path` is `sectoren_metadata.csv` or the StatLine
    `vacatures_metadata.csv`."""
    path = Path(path)
    source = source or str(path)
    codes = read_code_list(Path(metadata_path))
    header, records = delimited_records(path)
    cols = _columns(path, header, ["Bedrijfskenmerken", "Perioden", *VACANCY_COLUMNS])
    staged = Staged(rows=pd.DataFrame())
    rows: list[dict[str, object]] = []
    for number, fields in full_records(records, len(header), staged, source):
        key = fields[cols["Bedrijfskenmerken"]].strip()
        period = fields[cols["Perioden"]].strip()
        record = f"line {number} ({key} {period})"
        quarter, why = _quarter(period)
        if quarter is None:
            staged.reject(source, record, why)
            continue
        code = codes.get(key)
        if code is None:
            staged.reject(source, record, f"unknown Bedrijfskenmerken key {key!r}")
            continue
        try:
            values = {name: _number(fields[cols[col]]) * 1000
                      for col, name in VACANCY_COLUMNS.items()}
        except ValueError as exc:
            staged.reject(source, record, str(exc))
            continue
        if all(math.isnan(v) for v in values.values()):
            staged.reject(source, record, "no figures (CBS '.' = not published)")
            continue
        rows.append({"cbs_key": key, "sector_code": code.sector_code,
                     "sector_label": code.sector_label, "sector_level": code.sector_level,
                     "size_class": code.size_class, "quarter": quarter, **values})
    staged.rows = _finish(rows, ["cbs_key", "sector_code", "sector_label", "sector_level",
                                 "size_class", "quarter", *VACANCY_COLUMNS.values()])
    staged.rows_read = len(staged.rows) + len(staged.rejects)
    staged.fold(["cbs_key", "quarter"])
    return staged


def read_cbs_regional(path: Path, source: str | None = None, *,
                      regions_path: Path | None = None,
                      sectors_path: Path | None = None) -> Staged:
    """CBS 83599NED: open vacancies per SBI group, region and quarter.

    Columns: cbs_key, sector_code, sector_label, sector_level, region_code ("PV27"),
    region_name ("Noord-Holland"), region_level (country / landsdeel / province), nuts_code
    (NUTS 2021 code at the region's own level: "NL", "NL3", "NL32"), nuts2 (provinces only),
    quarter, open_vacancies (absolute). Names come from `regios_metadata.csv` and
    `sectoren_metadata.csv` beside the data file unless given."""
    path = Path(path)
    source = source or str(path)
    regions = read_region_list(Path(regions_path or path.with_name("regios_metadata.csv")))
    codes = read_code_list(Path(sectors_path or path.with_name("sectoren_metadata.csv")))
    header, records = delimited_records(path)
    sector_col = next((c for c in header if c.startswith("BedrijfstakkenBranches")), None)
    if sector_col is None:
        raise SourceError(f"{path}: no BedrijfstakkenBranches column (has {header})")
    cols = _columns(path, header, [sector_col, "Regios", "Perioden", *REGIONAL_COLUMNS])
    staged = Staged(rows=pd.DataFrame())
    rows: list[dict[str, object]] = []
    for number, fields in full_records(records, len(header), staged, source):
        key = fields[cols[sector_col]].strip()
        region = fields[cols["Regios"]].strip()
        period = fields[cols["Perioden"]].strip()
        record = f"line {number} ({key} {region} {period})"
        quarter, why = _quarter(period)
        if quarter is None:
            staged.reject(source, record, why)
            continue
        code = codes.get(key)
        if code is None:
            staged.reject(source, record, f"unknown sector key {key!r}")
            continue
        level = REGION_LEVELS.get(region[:2])
        if region not in regions or level is None:
            staged.reject(source, record, f"unknown region key {region!r}")
            continue
        try:
            value = _number(fields[cols["OpenstaandeVacatures"]]) * 1000
        except ValueError as exc:
            staged.reject(source, record, str(exc))
            continue
        if math.isnan(value):
            staged.reject(source, record, "no figure (CBS '.' or empty = not published)")
            continue
        nuts = {"country": "NL", "landsdeel": LANDSDEEL_NUTS1.get(region),
                "province": PROVINCE_NUTS2.get(region)}[level]
        rows.append({"cbs_key": key, "sector_code": code.sector_code,
                     "sector_label": code.sector_label, "sector_level": code.sector_level,
                     "region_code": region, "region_name": regions[region],
                     "region_level": level, "nuts_code": nuts,
                     "nuts2": nuts if level == "province" else None,
                     "quarter": quarter, "open_vacancies": value})
    staged.rows = _finish(rows, ["cbs_key", "sector_code", "sector_label", "sector_level",
                                 "region_code", "region_name", "region_level", "nuts_code",
                                 "nuts2", "quarter", "open_vacancies"])
    staged.rows_read = len(staged.rows) + len(staged.rejects)
    staged.fold(["cbs_key", "region_code", "quarter"])
    return staged


def _finish(rows: list[dict[str, object]], columns: list[str]) -> pd.DataFrame:
    """Rows in a fixed column order with numbers as float64 (rounded: x1000 of one decimal)."""
    frame = pd.DataFrame(rows, columns=columns)
    for col in columns:
        if col.endswith("_vacancies"):
            frame[col] = np.round(frame[col].astype("float64"), 3)
        else:
            frame[col] = frame[col].astype("str")  # missing stays NaN (pandas 3 str dtype)
    return frame
