"""Readers of external formats. Each reader turns one input file into a `Staged` batch:
the good rows as a DataFrame in the project's column names, plus one reject per bad record
(file and record named, with the reason). A file that cannot be read at all (missing, empty,
required columns absent) raises `SourceError`; a bad record never stops the good ones.

What a reader does with a bad record, the same in every reader:

- bytes that are not UTF-8 (or the declared encoding) in a line or CSV row: that record is
  rejected, naming the byte, because none of its fields can be trusted;
- a usable record with a broken value (a lone surrogate from a JSON `\\ud800` escape, a control
  character, a number where text belongs, an over-long text): the record is kept, the value
  repaired (U+FFFD, removed, converted, cut) and the problem named in its `problems` column;
- a record whose id repeats an earlier one of the same file: folded, the later one wins, and
  counted as a duplicate (`Staged.fold`);
- a file that is empty (no bytes, or only blanks) raises SourceError; a file with a header
  (or an empty JSON list) and no records is a clean run with zero rows.

Invariant every reader keeps: rows_read == len(rows) + len(rejects) + duplicates.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

REJECT_COLUMNS = ["source", "record", "reason"]
MAX_RECORD_LABEL = 200  # a reject's record label (it may quote an id from the file)
MAX_REASON = 500
MAX_RECORD_LINES = 10_000  # a quoted CSV field may span lines, but not swallow a whole file
TOO_DEEP = "JSON nested too deeply"  # json parses ~1,000 levels; a reader's recursion fewer
MAX_JSON_DEPTH = 200  # no record format here nests deeper

# Characters no stored text should hold: lone surrogates (from JSON escapes or undecodable
# bytes) and C0/C1 control characters other than tab and line breaks.
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_UNDECODED = re.compile("[\udc80-\udcff]")  # what errors="surrogateescape" makes of a bad byte
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


class SourceError(ValueError):
    """An input file that cannot be used at all; the message names the file and the problem."""


def printable(text: str, limit: int | None = None) -> str:
    """`text` safe to show in one line of a report (reject labels quote ids from the file):
    invalid characters replaced, control characters and line breaks made spaces, cut."""
    text = _CONTROL.sub(" ", _SURROGATE.sub("\ufffd", text)).replace("\r", " ").replace(
        "\n", " ").replace("\t", " ")
    return text if limit is None or len(text) <= limit else text[:limit - 1] + "…"


@dataclass
class Staged:
    """What a reader got out of one file."""

    rows: pd.DataFrame
    rejects: list[tuple[str, str, str]] = field(default_factory=list)  # (source, record, why)
    rows_read: int = 0

    def reject(self, source: str, record: str, reason: str) -> None:
        self.rejects.append((printable(source), printable(record, MAX_RECORD_LABEL),
                             printable(reason, MAX_REASON)))

    @property
    def reject_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rejects, columns=REJECT_COLUMNS)

    @property
    def duplicates(self) -> int:
        """Records read that were folded into a later record with the same id: neither a row
        of their own nor a reject. (Derived, so a run that cuts the rows stays balanced.)"""
        return max(self.rows_read - len(self.rows) - len(self.rejects), 0)

    def fold(self, keys: str | Sequence[str], keep: str = "last") -> None:
        """Keep one row per id (`keys`): the last, since a feed that lists a record twice is
        updating it (`keep="first"` for a listing without order in time). Call after
        `rows_read` is set; the folded rows count as `duplicates`."""
        if len(self.rows):
            self.rows = self.rows.drop_duplicates(keys, keep=keep).reset_index(drop=True)


def clean_field(text: str, name: str, problems: list[str]) -> str:
    """`text` fit to store, each repair named in `problems`: lone surrogates become U+FFFD
    and control characters (other than tab and line breaks) spaces; line breaks become
    "\\n". (How long a value may be is each schema's business.)"""
    if not text:
        return text
    if _SURROGATE.search(text):
        count = len(_SURROGATE.findall(text))
        text = _SURROGATE.sub("\ufffd", text)
        problems.append(f"{name}: invalid Unicode replaced ({count} character"
                        f"{'s' if count > 1 else ''})")
    if _CONTROL.search(text):
        count = len(_CONTROL.findall(text))
        text = _CONTROL.sub(" ", text)
        problems.append(f"{name}: control characters removed ({count})")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def invalid_characters(text: str) -> str:
    """What `clean_field` would repair in `text`, for a caller that refuses instead of
    repairing ("" when nothing): "a lone surrogate (invalid Unicode, U+D800)" or "a control
    character (U+0000)"."""
    if found := _SURROGATE.search(text):
        return f"a lone surrogate (invalid Unicode, U+{ord(found.group()):04X})"
    if found := _CONTROL.search(text):
        return f"a control character (U+{ord(found.group()):04X})"
    return ""


def clean_record(row: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """Every text value of a staged row (and every text item of its list values) through
    `clean_field`, in place. Returns the row."""
    for name, value in row.items():
        if isinstance(value, str):
            row[name] = clean_field(value, name, problems)
        elif isinstance(value, list):
            row[name] = [clean_field(v, name, problems) if isinstance(v, str) else v
                         for v in value]
    return row


def clean_json(value: Any, name: str, problems: list[str], depth: int = 0) -> Any:
    """A parsed JSON value with every text in it (keys too) through `clean_field`, each
    repair named by the key that holds it. Nesting deeper than MAX_JSON_DEPTH is a
    RecursionError, which readers reject as TOO_DEEP."""
    if isinstance(value, str):
        return clean_field(value, name, problems)
    if depth > MAX_JSON_DEPTH:
        raise RecursionError(TOO_DEEP)
    if isinstance(value, list):
        return [clean_json(item, name, problems, depth + 1) for item in value]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            key = clean_field(key, "key", problems) if isinstance(key, str) else key
            out[key] = clean_json(item, printable(str(key), 60), problems, depth + 1)
        return out
    return value


def join_problems(problems: list[str]) -> str:
    """The `problems` column: each problem once, in the order found, "; "-joined."""
    return "; ".join(dict.fromkeys(problems))


def type_problem(value: Any) -> str:
    """What is wrong with a JSON value given where text is expected ("" for text or
    nothing), e.g. "a list where text is expected"."""
    if value is None or isinstance(value, str):
        return ""
    kind = {bool: "true/false", int: "a number", float: "a number", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)
    return f"{kind} where text is expected"


def open_lines(path: Path) -> Iterator[tuple[int, str | None, str]]:
    """(line number, text or None, problem) per line of a text file (gz or plain); "\\n",
    "\\r\\n" and a lone "\\r" all end a line.

    Lines that are not valid UTF-8 come back as None with the problem named, so one
    Latin-1 line is rejected instead of failing the file."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: file not found")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            number = 0
            for chunk in fh:
                for raw in chunk.rstrip(b"\n").removesuffix(b"\r").split(b"\r"):
                    number += 1
                    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                        raw = raw[3:]
                    try:
                        yield number, raw.decode("utf-8"), ""
                    except UnicodeDecodeError as exc:
                        yield number, None, (f"not UTF-8 (byte 0x{raw[exc.start]:02x} at "
                                             f"column {exc.start + 1})")
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise SourceError(f"{path}: cannot read ({exc})") from exc


def read_bytes(path: Path) -> bytes:
    """A whole input file's bytes (plain or .gz, BOM removed); a missing, unreadable or empty
    file raises SourceError naming it."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: file not found")
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise SourceError(f"{path}: cannot read ({exc})") from exc
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        raise SourceError(f"{path}: empty file")
    return raw


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """A whole input file as text (see `read_bytes`); bytes that do not decode survive as
    lone surrogates (U+DC80-U+DCFF), so the one record holding them can be rejected or
    repaired instead of failing the file."""
    raw = read_bytes(path)
    try:
        return raw.decode(encoding, errors="surrogateescape").removeprefix("\ufeff")
    except LookupError as exc:
        raise SourceError(f"{path}: unknown encoding {encoding!r}") from exc


class JsonError(ValueError):
    """Text that is not one JSON value; the message says why in a few words."""


def parse_json(text: str) -> Any:
    """`json.loads` whose every failure is a JsonError (a value nested thousands deep is a
    RecursionError in `json`, which would otherwise escape as a traceback)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise JsonError("nested too deeply") from None


def load_json(path: Path) -> Any:
    """A whole JSON document; unreadable, empty or malformed files raise SourceError. Bytes
    that are not UTF-8 cannot be pinned to one record before parsing, so they survive as lone
    surrogates that the record's cleaning (`clean_field`) replaces and names."""
    try:
        return parse_json(read_text(path))
    except JsonError as exc:
        raise SourceError(f"{path}: not valid JSON ({exc})") from None


# ------------------------------------------------------------------------------ CSV records
Record = tuple[int, list[str] | None, str]  # (first line, fields or None, problem)


def _ends_in_quote(text: str, delimiter: str) -> bool:
    """Whether CSV text ends inside a quoted field (a quote that opened a field and never
    closed), as the csv module reads it."""
    inside, at_start, i = False, True, 0
    while i < len(text):
        char = text[i]
        if inside:
            if char == '"':
                if text[i + 1:i + 2] == '"':
                    i += 2
                    continue
                inside = False
        elif char == '"' and at_start:
            inside = True
        at_start = not inside and char in (delimiter, "\n", "\r")
        i += 1
    return inside


class _Lines:
    """The lines of a text for csv.reader, from `start`, that stop a record after
    MAX_RECORD_LINES lines (so an unclosed quote cannot read on to the end of the file)."""

    def __init__(self, lines: list[str], start: int) -> None:
        self.lines, self.next, self.record_start = lines, start, start

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.next >= len(self.lines) or self.next - self.record_start >= MAX_RECORD_LINES:
            raise StopIteration
        self.next += 1
        return self.lines[self.next - 1]


def csv_records(text: str, path: Path, delimiter: str | None = None
                ) -> tuple[list[str], list[Record]]:
    """The header and records of CSV text (`delimiter` None: ";" when the header has more
    of them than ",").

    Each record is (first line, fields or None, problem); blank lines come back with no
    fields. Quoted fields may span lines. A quote that opens a field and never closes (a
    truncated export, a stray '"') rejects only the line it is on, and reading resumes on
    the next line, so the records after it are kept. Undecoded bytes (see `read_text`) stay
    in the fields for the caller to name (`undecodable`)."""
    lines = _LINE.findall(text)
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise SourceError(f"{path}: empty file")
    if delimiter is None:
        delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    old_limit = csv.field_size_limit()
    csv.field_size_limit(max(old_limit, len(text) + 1))  # long fields are judged per record
    try:
        header: list[str] | None = None
        records: list[Record] = []
        feed = _Lines(lines, 0)
        reader = csv.reader(feed, delimiter=delimiter, strict=False)
        while True:
            first = feed.record_start = feed.next
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                records.append((first + 1, None, f"not readable as CSV ({exc})"))
                continue
            raw = "".join(lines[first:feed.next])
            # a record cut at the end of the file or at MAX_RECORD_LINES inside a quote
            if raw.count('"') % 2 and _ends_in_quote(raw, delimiter):
                if header is None:
                    raise SourceError(f"{path}: header has an unclosed quote")
                records.append((first + 1, None,
                                "unbalanced quote: a quoted field opened on this line is "
                                "never closed"))
                feed = _Lines(lines, first + 1)
                reader = csv.reader(feed, delimiter=delimiter, strict=False)
                continue
            if header is None:
                if any(_UNDECODED.search(h) for h in fields):
                    raise SourceError(f"{path}: header row has bytes that do not decode")
                header = fields
            else:
                records.append((first + 1, fields, ""))
    finally:
        csv.field_size_limit(old_limit)
    if not header or not any(h.strip() for h in header):
        raise SourceError(f"{path}: no header row")
    return header, records


def read_csv(path: Path) -> tuple[list[str], list[Record]]:
    """Header and records of a UTF-8 CSV file (plain or .gz; "," or ";" separated) for the
    catalogue formats: blank lines dropped, and a record with bytes that are not UTF-8
    turned into a problem naming the byte (the file's other records are kept)."""
    header, records = csv_records(read_text(path), Path(path))
    kept: list[Record] = []
    for line, fields, problem in records:
        if fields is not None and not any(f.strip() for f in fields):
            continue
        if fields is not None and (problem := undecodable(fields, header)):
            fields = None
        kept.append((line, fields, problem))
    return header, kept


def undecodable(fields: Sequence[str], header: Sequence[str], encoding: str = "utf-8") -> str:
    """Why a record with undecoded bytes is rejected, naming the byte and column ("" when
    it has none)."""
    for name, value in zip(header, fields, strict=False):
        bad = _UNDECODED.search(value)
        if bad:
            byte = ord(bad.group()) - 0xDC00
            return (f"not {encoding.upper()} (byte 0x{byte:02x} in column {name!r}, "
                    f"character {bad.start() + 1})")
    return ""


TRUE_WORDS = {"true", "1", "yes", "y", "ja", "j", "waar"}
FALSE_WORDS = {"false", "0", "no", "n", "nee", "onwaar", ""}


def parse_bool(value: Any) -> bool:
    """A yes/no field in English or Dutch (missing = False); anything else is a ValueError."""
    if isinstance(value, bool):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    text = str(value).strip().casefold()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"{value!r} is not true/false")
