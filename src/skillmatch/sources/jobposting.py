"""Reader for schema.org `JobPosting` feeds (JSON lines, plain or gzip; or one JSON array or
one JSON object per file), the format job boards publish for search engines.

Values are staged as text in the raw vacancy schema (`skillmatch.vacancies.RAW_COLUMNS`);
cleaning, date parsing and coordinates checks happen later in `normalise_vacancies`, so a
feed's quirks stay visible in the staged rows. Only what no table can hold is repaired here
(a lone surrogate from a `\ud800` escape, a control character), and named in `problems`.
"""

from __future__ import annotations

import gzip
import itertools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from skillmatch.sources import (
    TOO_DEEP,
    JsonError,
    SourceError,
    Staged,
    clean_record,
    join_problems,
    load_json,
    open_lines,
    parse_json,
    type_problem,
)
from skillmatch.vacancies import RAW_COLUMNS

JOBPOSTING_TYPE = "JobPosting"
# schema.org text properties we stage as they are: anything but a string there is named
TEXT_PROPERTIES = {"title": "title", "description": "description", "datePosted": "posted_date",
                   "validThrough": "valid_through", "url": "url"}


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
    """One JobPosting object as a raw staged row, with its problems (a number or list where
    text belongs, an invalid or control character) named."""
    place = _first(item.get("jobLocation"))
    address: Any = place.get("address") if isinstance(place, Mapping) else None
    address = _first(address)
    geo = _first(place.get("geo")) if isinstance(place, Mapping) else None
    if not isinstance(address, Mapping):
        address = {"addressLocality": address} if address else {}
    geo = geo if isinstance(geo, Mapping) else {}
    industry = _text(item.get("industry"))
    record_id = _record_id(item)
    problems = [f"{name}: {p}" for key, name in TEXT_PROPERTIES.items()
                if (p := type_problem(item.get(key)))]
    row = {
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
    clean_record(row, problems)
    row["source_record"] = row["source_record"].strip() or locator  # the id folds repeats
    row["problems"] = join_problems(problems)
    return row


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


def _parses_alone(text: str) -> bool:
    """Whether one line is a JSON value by itself (too deeply nested to parse still counts:
    it is one record, to be rejected)."""
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    except RecursionError:
        return True
    return True


def _items(path: Path) -> Iterator[tuple[str, Any, str]]:
    """(locator, parsed value or None, problem) per record of the file.

    JSON lines, unless the file is one JSON document: a pretty-printed object or array (its
    first line is no JSON value on its own) or an array alone on one line. A document that
    does not parse fails the file when it opens as an array; one that opens as an object is
    read as JSON lines, so a broken first line is one reject, like any other."""
    first = _first_char(path)
    if not first:
        raise SourceError(f"{path}: empty file")
    lines = (line for line in open_lines(path) if line[1] is None or line[1].strip())
    head = next(lines, None)
    if head is None:  # only blanks Python counts as space (a vertical tab ...)
        raise SourceError(f"{path}: empty file")
    second = next(lines, None)
    text = head[1]
    if first in (b"{", b"[") and text is not None:
        alone = _parses_alone(text)
        if not alone or (second is None and text.lstrip().startswith("[")):
            try:
                document = load_json(path)
            except SourceError:
                if first == b"[":
                    raise
                document = None
            if isinstance(document, list):
                for index, item in enumerate(document, start=1):
                    yield f"item {index}", item, ""
                return
            if isinstance(document, Mapping):
                yield "line 1", document, ""
                return
    for number, text, problem in itertools.chain([head], [second] if second else [], lines):
        yield from _parse_line(number, text, problem)


def _parse_line(number: int, text: str | None, problem: str) -> Iterator[tuple[str, Any, str]]:
    if text is None:
        yield f"line {number}", None, problem
        return
    if not text.strip():
        return
    try:
        item = parse_json(text)
    except JsonError as exc:
        yield f"line {number}", None, f"invalid JSON ({exc})"
        return
    yield f"line {number}", item, ""


def read_jobpostings(path: Path, source: str, *, country: str = "", language: str = "",
                     sector_map: Mapping[str, str] | None = None) -> Staged:
    """Stage a JobPosting feed. `country`/`language` fill records that do not state theirs;
    `sector_map` turns the feed's `industry` text into an SBI/NACE section letter.

    Bad records (truncated or invalid JSON, not an object, wrong @type, neither title nor
    description, not UTF-8) become rejects naming their line; the rest are kept, with what
    was repaired named in `problems`. A posting listed twice (same id) keeps its last copy."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: file not found")
    staged = Staged(rows=pd.DataFrame(columns=RAW_COLUMNS).astype(str))
    rows: list[dict[str, str]] = []
    sectors = dict(sector_map or {})
    for locator, item, problem in _items(path):
        try:
            record_id = _record_id(item) if isinstance(item, Mapping) else ""
            problem = problem or _problem(item)
            row = None if problem else posting_row(item, source, locator, sectors)
        except RecursionError:  # lists in lists in lists ...: json parsed it, we will not
            record_id, row, problem = "", None, TOO_DEEP
        if row is None:
            staged.reject(str(path), f"{locator} (id={record_id})" if record_id else locator,
                          problem)
            continue
        row["country"] = row["country"] or country
        row["language"] = row["language"] or language
        rows.append(row)
    staged.rows = pd.DataFrame(rows, columns=RAW_COLUMNS).astype(str) if rows else staged.rows
    staged.rows_read = len(rows) + len(staged.rejects)
    staged.fold("source_record")
    return staged
