"""Spreadsheet-safe CSV exports.

Vacancy titles, employers, evidence sentences and credential titles come from outside sources,
and a spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``). Following OWASP's CSV
injection guidance, every such text cell gets a leading single quote, which spreadsheets read
as "this is text", and every text cell is quoted, so separators, quotes and line breaks inside
it stay inside it. Numbers stay numbers: only text is neutralised.
"""

from __future__ import annotations

import csv
from numbers import Number

import numpy as np
import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """`value` as a spreadsheet will not run it: a text whose first character (or first after
    leading whitespace, which spreadsheets may trim on import) starts a formula gets a `'`
    prefix. Numbers, booleans and missing values come back unchanged; any other object is
    treated as the text a CSV writer would write for it."""
    if value is None or isinstance(value, Number | np.bool_):
        return value
    if not isinstance(value, str):
        if pd.api.types.is_scalar(value) and pd.isna(value):
            return value
        value = str(value)
    if value.startswith(FORMULA_TRIGGERS) or value.lstrip().startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every text cell and column name neutralised; numeric, boolean
    and datetime columns are kept as they are (they cannot hold a formula)."""
    safe = frame.copy(deep=False)
    for position, (_, column) in enumerate(frame.items()):
        if not (pd.api.types.is_numeric_dtype(column)
                or pd.api.types.is_datetime64_any_dtype(column)):
            safe.isetitem(position, column.astype(object).map(neutralise))
    safe.columns = [neutralise(name) for name in frame.columns]
    return safe


def safe_csv(frame: pd.DataFrame) -> bytes:
    """`frame` as UTF-8 CSV bytes (no index) that a spreadsheet opens as data: text cells
    neutralised and quoted, numbers unquoted so they stay numeric."""
    return safe_frame(frame).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8")
