"""Spreadsheet-safe CSV: text cells that a spreadsheet would run as a formula come out as text,
everything else comes out as it went in, and the bytes read back as the same table."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from skillmatch.exports import neutralise, safe_csv, safe_frame

TITLE = '=HYPERLINK("http://evil.example","click")'
EMPLOYER = "=cmd|' /C calc'!A0"


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.mark.parametrize("text", ["=1+1", "+1+1", "-1+1", "@SUM(A1:A2)", "\t=1+1", "\r=1+1",
                                  EMPLOYER, TITLE])
def test_each_formula_trigger_gets_a_quote(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", [" =1+1", "   +1", "\n=1+1", "\u00a0@SUM(1)", " \t -2"])
def test_a_trigger_after_leading_whitespace_counts(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["", "nurse", "a = b", "C#", "'=already text", "1-2", "e@x.nl",
                                  "  plain"])
def test_other_text_is_unchanged(text: str) -> None:
    assert neutralise(text) == text


@pytest.mark.parametrize("value", [-3, -2.5, 0, np.int64(-4), np.float64(-1.5), Decimal("-3"),
                                   True, np.True_, None, np.nan, pd.NA, pd.NaT])
def test_numbers_booleans_and_missing_values_are_kept(value: object) -> None:
    assert neutralise(value) is value


def test_other_objects_are_neutralised_as_the_text_a_csv_would_hold() -> None:
    class Formula:
        def __str__(self) -> str:
            return "=1+1"

    assert neutralise(Formula()) == "'=1+1"
    assert neutralise(["=1"]) == "['=1']"  # a list's text starts with "["
    assert neutralise(pd.Timedelta(days=-1)) == "'-1 days +00:00:00"
    assert neutralise(dt.date(2020, 1, 2)) == "2020-01-02"


def test_safe_frame_keeps_numeric_columns_and_the_original() -> None:
    frame = pd.DataFrame({"title": [TITLE, "nurse"], "count": [-3, 4], "share": [-0.5, np.nan],
                          "green": [True, False], "day": pd.to_datetime(["2020-01-01", None]),
                          "-x": ["-1", "ok"]})
    safe = safe_frame(frame)
    assert safe["title"].tolist() == ["'" + TITLE, "nurse"]
    assert list(safe.columns) == ["title", "count", "share", "green", "day", "'-x"]
    for column in ("count", "share", "green", "day"):
        pd.testing.assert_series_equal(safe[column], frame[column])
    assert safe["'-x"].tolist() == ["'-1", "ok"]  # a number held as text is text
    assert frame["title"].iloc[0] == TITLE and list(frame.columns)[-1] == "-x"


def test_text_is_quoted_and_numbers_are_not() -> None:
    frame = pd.DataFrame({"title": ['say "hi", then\nleave', None], "count": [-3, 2],
                          "share": [1.5, np.nan]})
    text = safe_csv(frame).decode("utf-8")
    assert text.startswith('"title","count","share"\n"say ""hi"", then\nleave",-3,1.5\n')
    assert rows(safe_csv(frame))[1:] == [['say "hi", then\nleave', "-3", "1.5"], ["", "2", ""]]


def test_csv_reads_back_with_the_formula_as_text() -> None:
    frame = pd.DataFrame({"vacancy_id": ["v1", "v2"], "title": [TITLE, "Welder, MIG/MAG"],
                          "employer": [EMPLOYER, "Acme"], "vacancies": [-3, 12]})
    data = safe_csv(frame)
    assert rows(data) == [["vacancy_id", "title", "employer", "vacancies"],
                          ["v1", "'" + TITLE, "'" + EMPLOYER, "-3"],
                          ["v2", "Welder, MIG/MAG", "Acme", "12"]]
    typed = list(csv.reader(io.StringIO(data.decode("utf-8")), quoting=csv.QUOTE_NONNUMERIC))
    assert typed[1][3] == -3.0  # unquoted, so a reader (and a spreadsheet) sees a number
    back = pd.read_csv(io.BytesIO(data))
    assert back["title"].tolist() == ["'" + TITLE, "Welder, MIG/MAG"]
    assert back["vacancies"].tolist() == [-3, 12] and back["vacancies"].dtype.kind == "i"
    assert back["title"].str.removeprefix("'").tolist() == frame["title"].tolist()


def test_an_empty_frame_keeps_its_header() -> None:
    assert safe_csv(pd.DataFrame(columns=["title", "=x"])).decode("utf-8") == '"title","\'=x"\n'
