"""Reader for schema.org `JobPosting` feeds (JSON lines, plain or gzip; or one JSON array or
one JSON object per file), the format job boards publish for search engines.

Values are staged as text in the raw vacancy schema (`skillmatch.vacancies.RAW_COLUMNS`);
cleaning, date parsing and coordinates checks happen later in `normalise_vacancies`, so a
feed's quirks stay visible in the staged rows.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from skillmatch.sources import SourceError, Staged, open_lines
from skillmatch.vacancies import RAW_COLUMNS

JOBPOSTING_TYPE = "JobPosting"


def _text(value: Any) -> str:
    """A scalar as text; dicts give their `name`/`value`, lists their first usable item."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, Mapping):
        for key in ("name", "value", "@value", "@id"):
            if key in value:
                return _text(value[key])
        return ""
    if isinstance(value, list):
        return ", ".join(t for t in (_text(v) for v in value) if t)
    return str(value)


def _first(value: Any) -> Any:
    """schema.org allows one value or a list of them; the first is the one we stage."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _salary(value: Any) -> str:
    """`baseSalary` as one line: its own text when it has one, else "min-max CUR/UNIT"."""
    value = _first(value)
    if not isinstance(value, Mapping):
        return _text(value)
    currency = _text(value.get("currency"))
    amount = _first(value.get("value"))
    if not isinstance(amount, Mapping):
        return " ".join(t for t in (_text(amount), currency) if t)
    label = _text(amount.get("value"))
    if label and not label.replace(".", "", 1).isdigit():
        return label
    low, high = _text(amount.get("minValue")), _text(amount.get("maxValue"))
    span = label or (low if low == high or not high else f"{low}-{high}" if low else high)
    unit = _text(amount.get("unitText"))
    return " ".join(t for t in (span, currency) if t) + (f"/{unit}" if span and unit else "")


def _record_id(item: Mapping[str, Any]) -> str:
    """The posting's own id: a feed's `_fileid`, else schema.org `identifier`."""
    for key in ("_fileid", "identifier", "@id"):
        if key in item:
            text = _text(_first(item[key]))
            if text:
                return text
    return ""


def posting_row(item: Mapping[str, Any], source: str, locator: str,
                sector_map: Mapping[str, str]) -> dict[str, str]:
    """One JobPosting object as a raw staged row."""
    place = _first(item.get("jobLocation"))
    address: Any = place.get("address") if isinstance(place, Mapping) else None
    address = _first(address)
    geo = _first(place.get("geo")) if isinstance(place, Mapping) else None
    if not isinstance(address, Mapping):
        address = {"addressLocality": address} if address else {}
    geo = geo if isinstance(geo, Mapping) else {}
    industry = _text(item.get("industry"))
    record_id = _record_id(item)
    return {
        "source": source,
        "source_record": record_id or locator,
        "title": _text(item.get("title")),
        "description": _text(item.get("description")),
        "employer": _text(_first(item.get("hiringOrganization"))),
        "posted_date": _text(item.get("datePosted")),
        "valid_through": _text(item.get("validThrough")),
        "location": _text(address.get("addressLocality")),
        "postcode": _text(address.get("postalCode")),
        "country": _text(address.get("addressCountry")),
        "lat": _text(geo.get("latitude")),
        "lon": _text(geo.get("longitude")),
        "language": _text(item.get("inLanguage")),
        "sector_code": sector_map.get(industry, ""),
        "employment_type": _text(item.get("employmentType")),
        "salary": _salary(item.get("baseSalary")),
        "url": _text(item.get("url")),
        "record": locator,
    }


def _problem(item: Any) -> str:
    """Why a parsed JSON value is not a usable JobPosting ("" when it is)."""
    if not isinstance(item, Mapping):
        return f"not a JSON object ({type(item).__name__})"
    kind = item.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    if kind is not None and JOBPOSTING_TYPE not in kinds:
        return f"@type is {kind!r}, not {JOBPOSTING_TYPE}"
    if not _text(item.get("title")) and not _text(item.get("description")):
        return "no title and no description"
    return ""


def _first_char(path: Path) -> bytes:
    """The first non-blank byte of the file (after a BOM), to tell JSON lines from one
    document; b"" for an empty file."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(4096)
            while head and not head.lstrip(b"\xef\xbb\xbf \t\r\n"):
                head = fh.read(4096)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise SourceError(f"{path}: cannot read ({exc})") from exc
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]


def _whole_document(path: Path) -> Any:
    """The file parsed as one JSON value (for array and single-object files)."""
    chunks = []
    for number, text, problem in open_lines(path):
        if text is None:
            raise SourceError(f"{path}: line {number} {problem}")
        chunks.append(text)
    try:
        return json.loads("\n".join(chunks))
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path}: not valid JSON ({exc})") from exc


def _items(path: Path) -> Iterator[tuple[str, Any, str]]:
    """(locator, parsed value or None, problem) per record of the file."""
    first = _first_char(path)
    if not first:
        raise SourceError(f"{path}: empty file")
    lines = open_lines(path)
    if first == b"{":
        number, text, problem = next(lines)
        while text is not None and not text.strip():
            number, text, problem = next(lines)
        try:
            head = json.loads(text) if text is not None else None
        except json.JSONDecodeError:
            head = None
        if text is not None and head is None:  # a pretty-printed object, or a broken line
            try:
                document = _whole_document(path)
            except SourceError:
                document = None
            if isinstance(document, Mapping):
                yield "line 1", document, ""
                return
        yield from _parse_line(number, text, problem)
        for number, text, problem in lines:
            yield from _parse_line(number, text, problem)
    elif first == b"[":
        document = _whole_document(path)
        for index, item in enumerate(document, start=1):
            yield f"item {index}", item, ""
    else:
        for number, text, problem in lines:
            yield from _parse_line(number, text, problem)


def _parse_line(number: int, text: str | None, problem: str) -> Iterator[tuple[str, Any, str]]:
    if text is None:
        yield f"line {number}", None, problem
        return
    if not text.strip():
        return
    try:
        yield f"line {number}", json.loads(text), ""
    except json.JSONDecodeError as exc:
        yield f"line {number}", None, f"invalid JSON ({exc.msg} at column {exc.colno})"


def read_jobpostings(path: Path, source: str, *, country: str = "", language: str = "",
                     sector_map: Mapping[str, str] | None = None) -> Staged:
    """Stage a JobPosting feed. `country`/`language` fill records that do not state theirs;
    `sector_map` turns the feed's `industry` text into an SBI/NACE section letter.

    Bad records (truncated or invalid JSON, not an object, wrong @type, neither title nor
    description, not UTF-8) become rejects naming their line; the rest are kept."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: file not found")
    staged = Staged(rows=pd.DataFrame(columns=RAW_COLUMNS).astype(str))
    rows: list[dict[str, str]] = []
    sectors = dict(sector_map or {})
    for locator, item, problem in _items(path):
        problem = problem or _problem(item)
        if problem:
            record_id = _record_id(item) if isinstance(item, Mapping) else ""
            where = f"{locator} (id={record_id})" if record_id else locator
            staged.reject(str(path), where, problem)
            continue
        row = posting_row(item, source, locator, sectors)
        row["country"] = row["country"] or country
        row["language"] = row["language"] or language
        rows.append(row)
    staged.rows = pd.DataFrame(rows, columns=RAW_COLUMNS).astype(str) if rows else staged.rows
    staged.rows_read = len(rows) + len(staged.rejects)
    return staged
