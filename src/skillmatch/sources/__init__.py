"""Readers of external formats. Each reader turns one input file into a `Staged` batch:
the good rows as a DataFrame in the project's column names, plus one reject per bad record
(file and record named, with the reason). A file that cannot be read at all (missing, empty,
required columns absent) raises `SourceError`; a bad record never stops the good ones.

Invariant every reader keeps: rows_read == len(rows) + len(rejects) (+ duplicates, which the
pipeline counts later).
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

REJECT_COLUMNS = ["source", "record", "reason"]


class SourceError(ValueError):
    """An input file that cannot be used at all; the message names the file and the problem."""


@dataclass
class Staged:
    """What a reader got out of one file."""

    rows: pd.DataFrame
    rejects: list[tuple[str, str, str]] = field(default_factory=list)  # (source, record, why)
    rows_read: int = 0

    def reject(self, source: str, record: str, reason: str) -> None:
        self.rejects.append((source, record, reason))

    @property
    def reject_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rejects, columns=REJECT_COLUMNS)


def open_lines(path: Path) -> Iterator[tuple[int, str | None, str]]:
    """(line number, text or None, problem) per physical line of a text file (gz or plain).

    Lines that are not valid UTF-8 come back as None with the problem named, so one
    Latin-1 line is rejected instead of failing the file."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: file not found")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                raw = raw.rstrip(b"\r\n")
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
