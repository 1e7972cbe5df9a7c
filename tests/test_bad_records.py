"""No bad record stops a source (issue 14).

Property-based: hostile records (lone surrogates, control characters, bytes that are not
UTF-8, wrong JSON types, repeated ids, bad dates and coordinates, BOMs, mixed line endings,
broken quoting) against every real reader, and through the real pipeline runner on a small
real project. What must hold for every input:

- no exception, except SourceError for a whole file that cannot be used;
- read = stored + duplicates + rejected, and every good record is stored (a repeated id:
  the later record wins, the earlier counts as a duplicate);
- nothing stored or rejected holds a character a warehouse cannot take;
- a repaired value names its problem on the stored row.

Plus one plain example per bug found on the old code. The pipeline properties run few
examples on one shared project (each run maps its ads with the real models).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import make_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_pipeline import query, use_credential_file

from skillmatch.pipeline import run_pipeline, warehouse_status
from skillmatch.settings import Settings
from skillmatch.shortage import read_tension_csv, sector_indicators
from skillmatch.sources import SourceError, Staged
from skillmatch.sources.candidates import read_candidates
from skillmatch.sources.cbs import read_cbs_regional, read_cbs_vacancies
from skillmatch.sources.courses import read_coursera
from skillmatch.sources.credentials import (
    read_credential_catalogue,
    read_credential_csv,
    read_elm,
    read_open_badge,
)
from skillmatch.sources.jobposting import read_jobpostings
from skillmatch.sources.tabular import CsvSpec, read_vacancy_csv
from skillmatch.vacancies import normalise_vacancies

READER = settings(max_examples=30, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PIPELINE = settings(max_examples=6, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
MAPPED = settings(PIPELINE, max_examples=4)  # each run maps its ads: about 1.5 s

# what a warehouse cannot take (lone surrogates) or an operator should not get (controls)
UNSTORABLE = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
SURROGATE = re.compile("[\ud800-\udfff]")
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
SPECIALS = ["\ud800", "\udfff", "\udce9", "\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9f",
            "\r", "\n", "\r\n", "\t", "\ufeff", "\u202e", "\u200b", '"', "'", ",", ";", "|",
            "{", "[", "\\", "<script>alert(1)</script>", "&amp;amp;", "<p>", "é", "😀",
            "e\u0301"]
ENDINGS = ["\n", "\r\n", "\r"]
BLANK = "\r\n"  # a blank line after any ending stays a line of its own


def hostile(surrogates: bool = True, size: int = 6) -> st.SearchStrategy[str]:
    """Short text mixing ordinary characters with the characters that break readers."""
    specials = [s for s in SPECIALS if surrogates or not SURROGATE.search(s)]
    return st.lists(st.one_of(st.text(max_size=8), st.sampled_from(specials)),
                    max_size=size).map("".join)


def wrong_types(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Any JSON value where text is expected."""
    return st.one_of(text, st.integers(), st.floats(), st.booleans(), st.none(),
                     st.lists(text, max_size=3),
                     st.dictionaries(st.sampled_from(["name", "value", "x"]), text,
                                     max_size=2))


def storable(staged: Staged) -> None:
    """No row value and no reject holds a character the warehouse cannot take."""
    for column in staged.rows.columns:
        for value in staged.rows[column]:
            for text in value if isinstance(value, list) else [value]:
                assert not (isinstance(text, str) and UNSTORABLE.search(text)), (column, text)
    for reject in staged.rejects:
        assert all(not UNSTORABLE.search(part) and "\n" not in part for part in reject), reject


def balanced(staged: Staged, read: int, rejected: int, stored: int) -> None:
    assert (staged.rows_read, len(staged.rejects), len(staged.rows)) == (read, rejected, stored)
    assert staged.rows_read == len(staged.rows) + len(staged.rejects) + staged.duplicates
    storable(staged)


def last_good(records: list[tuple[str, str, Any]]) -> dict[Any, str]:
    """id -> locator of the last good record with that id (the one that must be stored)."""
    return {key: where for kind, where, key in records if kind == "good"}


def has_surrogate_after_json(value: Any) -> bool:
    """Whether a value still holds a lone surrogate once written as JSON and read back (two
    in a row read back as one valid pair)."""
    return bool(SURROGATE.search(json.dumps(json.loads(json.dumps(value)),
                                            ensure_ascii=False)))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


def lines_file(path: Path, lines: list[bytes], endings: list[str], blanks: list[bool],
               bom: bool) -> list[int]:
    """Write records one per line (their own ending each, blank lines between some, a BOM);
    the line number of each record."""
    data, numbers, line = [b"\xef\xbb\xbf" if bom else b""], [], 0
    for raw, ending, blank in zip(lines, endings, blanks, strict=True):
        line += 1
        numbers.append(line)
        data.append(raw + ending.encode())
        if blank:
            line += 1
            data.append(BLANK.encode())
    body = b"".join(data)
    path.write_bytes(gzip.compress(body) if path.suffix == ".gz" else body)
    return numbers


# --- JobPosting -------------------------------------------------------------------------------

POSTING_IDS = {"a1": "a1", "a2": "a2", "a3": "a3", "b\x00": "b", "\ud800x": "\ufffdx"}
DATES = st.sampled_from(["2020-01-02", "2020-01-02T10:00:00+0100", "not a date", "9999-12-31",
                         "0001-01-01", "2020-02-30", "", "20200102"])
COORDINATES = st.one_of(st.floats(), st.integers(-1000, 1000), hostile(),
                        st.sampled_from(["52.1", "-0.26", "91", "1e400", "NaN", ""]))


@st.composite
def posting_line(draw: st.DrawFn) -> tuple[bytes, str, str, dict[str, Any]]:
    """(JSON line, kind, id, the posting): kind "good" (a title, hostile everything else) or
    the way it is broken."""
    kind = draw(st.sampled_from(["good"] * 5 + ["truncated", "not_object", "wrong_type",
                                                "no_text", "bad_bytes", "deep"]))
    key = draw(st.sampled_from(sorted(POSTING_IDS)))
    item = {
        "@type": "JobPosting", "_fileid": key,
        "title": draw(st.one_of(hostile().map("Nurse ".__add__), st.integers(1, 99),
                                hostile().map(lambda t: ["Nurse", t]),
                                st.just({"name": "Nurse"}))),
        "description": draw(wrong_types(hostile())),
        "datePosted": draw(st.one_of(DATES, wrong_types(hostile()))),
        "validThrough": draw(st.one_of(DATES, st.integers())),
        "hiringOrganization": draw(wrong_types(hostile())),
        "jobLocation": {"address": {"addressLocality": draw(wrong_types(hostile())),
                                    "postalCode": draw(wrong_types(hostile()))},
                        "geo": {"latitude": draw(COORDINATES),
                                "longitude": draw(COORDINATES)}},
        "url": draw(wrong_types(hostile())),
        "inLanguage": "en",
    }
    if kind == "wrong_type":
        item["@type"] = draw(st.sampled_from(["Person", ["Thing"], 7, {"x": 1}]))
    if kind == "no_text":
        item["title"] = draw(st.sampled_from(["", "  ", None, [], {"x": 1}]))
        item["description"] = draw(st.sampled_from(["", None, [], {"y": 2}]))
    line = json.dumps(item).encode()
    if kind == "truncated":
        line = line[:draw(st.integers(1, len(line) - 1))]
    elif kind == "not_object":
        line = draw(st.sampled_from([b"42", b'"text"', b"null", b"true", b"[1, 2]", b"[]"]))
    elif kind == "bad_bytes":
        line = line.replace(b'"_fileid"', b'"caf\xe9", "_fileid"', 1)
    elif kind == "deep":
        line = draw(st.sampled_from([b"[" * 5000 + b"]" * 5000,
                                     b'{"title": "Nurse", "description": ' + b"[" * 5000
                                     + b"]" * 5000 + b"}"]))
    return line, kind, key, item


@READER
@given(records=st.lists(posting_line(), min_size=2, max_size=8), data=st.data())
def test_jobposting_reader_keeps_every_good_posting(workdir: Path, records: list,
                                                    data: st.DataObject) -> None:
    n = len(records)
    path = workdir / ("feed.jsonl.gz" if data.draw(st.booleans()) else "feed.jsonl")
    numbers = lines_file(path, [r[0] for r in records],
                         data.draw(st.lists(st.sampled_from(ENDINGS), min_size=n, max_size=n)),
                         data.draw(st.lists(st.booleans(), min_size=n, max_size=n)),
                         data.draw(st.booleans()))
    staged = read_jobpostings(path, "hostile")
    described = [("good" if kind == "good" else "bad", f"line {number}", POSTING_IDS[key])
                 for (_, kind, key, _), number in zip(records, numbers, strict=True)]
    expected = last_good(described)
    balanced(staged, read=n, rejected=sum(kind != "good" for _, kind, _, _ in records),
             stored=len(expected))
    rows = staged.rows.set_index("source_record")
    assert rows["record"].to_dict() == expected
    items = {f"line {number}": item for (_, _, _, item), number in zip(records, numbers,
                                                                         strict=True)}
    for key, where in expected.items():
        item, problems = items[where], rows.at[key, "problems"]
        title = item["title"]["name"] if isinstance(item["title"], dict) else item["title"]
        assert ("title: invalid Unicode replaced" in problems) == has_surrogate_after_json(
            title)
        if not isinstance(item["description"], str | type(None)):
            assert "description: " in problems and "where text is expected" in problems
    vacancies = normalise_vacancies(staged.rows)  # typing and checks never raise either
    assert vacancies["vacancy_id"].is_unique and len(vacancies) == len(expected)


# --- declared CSV export ----------------------------------------------------------------------

CSV_SPEC = CsvSpec(columns={"source_record": "id", "title": "title",
                            "description": ["intro", "profile"], "posted_date": "posted",
                            "lat": "lat", "lon": "lon"},
                   date_formats=("%d-%m-%Y",), required=("id", "title"), language="en")
CSV_HEADER = ["id", "title", "intro", "profile", "posted", "lat", "lon"]
CSV_IDS = {"1": "1", "2": "2", " 2 ": "2", "3": "3", "x\x00": "x"}
PLAIN = st.text(st.characters(codec="utf-8", exclude_characters='"\r\n,'), max_size=12)


def csv_line(fields: list[str], ending: str) -> str:
    """One CSV record, every field quoted (csv quotes a lone "\r" only then); plain fields
    (no quote, separator or line break in them) stay bare."""
    plain = not any(re.search('["\r\n,]', f) for f in fields)
    out = io.StringIO()
    csv.writer(out, lineterminator=ending,
               quoting=csv.QUOTE_MINIMAL if plain else csv.QUOTE_ALL).writerow(fields)
    return out.getvalue()


def physical_lines(raw: bytes) -> int:
    """How many lines a record takes ("\n", "\r\n" and a lone "\r" each end one)."""
    return raw.count(b"\n") + raw.count(b"\r") - raw.count(b"\r\n")


@st.composite
def vacancy_csv_rows(draw: st.DrawFn, plain: bool) -> tuple[bytes, str, str]:
    """(row as bytes with its ending, kind, id). `plain`: no quotes, commas or line breaks
    (the file also has a quote that never closes, which a later quote would end)."""
    text = PLAIN if plain else hostile(surrogates=False)
    kind = draw(st.sampled_from(["good"] * 5 + ["ragged", "bad_bytes", "no_text"]))
    key = draw(st.sampled_from(sorted(CSV_IDS)))
    ending = draw(st.sampled_from(ENDINGS))
    fields = [key, "Nurse " + draw(text), draw(text), draw(text),
              draw(st.sampled_from(["01-02-2024", "31-02-2024", "not a date", ""])),
              draw(st.sampled_from(["52.1", "91", "abc", ""])), draw(text)]
    if kind == "ragged":
        fields = [key, "Nurse"] + [draw(PLAIN) for _ in range(draw(st.sampled_from([0, 3, 7])))]
    if kind == "no_text":
        fields[1:4] = [" ", "", ""]
    line = csv_line(fields, ending).encode()
    if kind == "bad_bytes":
        line = line.replace(b"Nurse", b"Nurse caf\xe9", 1)
    return line, kind, key


@READER
@given(data=st.data())
def test_vacancy_csv_reader_keeps_every_good_row(workdir: Path, data: st.DataObject) -> None:
    unclosed = data.draw(st.booleans())
    rows = data.draw(st.lists(vacancy_csv_rows(plain=unclosed), min_size=1, max_size=8))
    if unclosed:  # one record whose quote never closes, anywhere in the file
        at = data.draw(st.integers(0, len(rows)))
        rows.insert(at, (b'9,"Nurse never closed,x\n', "unclosed", "9"))
    blanks = data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
    bom = b"\xef\xbb\xbf" if data.draw(st.booleans()) else b""
    body, described, number = [bom + csv_line(CSV_HEADER, "\r\n").encode()], [], 1
    for (line, kind, key), blank in zip(rows, blanks, strict=True):
        number += 1
        described.append(("good" if kind == "good" else "bad", f"row {number}",
                          CSV_IDS.get(key, key)))
        body.append(line)
        if blank:
            number += 1
            body.append(b"\r\n")
    path = workdir / "export.csv"
    path.write_bytes(b"".join(body))
    staged = read_vacancy_csv(path, "hostile", CSV_SPEC)
    expected = last_good(described)
    balanced(staged, read=len(rows), rejected=sum(k == "bad" for k, _, _ in described),
             stored=len(expected))
    assert staged.rows.set_index("source_record")["record"].to_dict() == expected
    reasons = [reason for _, _, reason in staged.rejects]
    assert sum(r.startswith("unbalanced quote") for r in reasons) == unclosed
    assert normalise_vacancies(staged.rows)["vacancy_id"].is_unique


# --- CBS statistics and the tension file ------------------------------------------------------

CBS_HEADER = '"ID";"Bedrijfskenmerken";"Perioden";"OpenstaandeVacatures_1";' \
             '"OntstaneVacatures_2";"VervuldeVacatures_3"'
CBS_GOOD = {"key": ["T001081", "422400"], "period": ["2019KW01", "2019KW02", "2020KW04"],
            "value": ["  1.5", "3,5", "12", ".", ""]}
CBS_BAD = {"key": ["999999", "T001081\x00", ""], "period": ["2019JJ00", "2019MM05", "20XXKW1"],
           "value": ["-1", "abc", "NaN", "inf", "1e999"]}
CBS_VALUE = {"  1.5": 1500.0, "3,5": 3500.0, "12": 12000.0, ".": math.nan, "": math.nan}


@st.composite
def cbs_rows(draw: st.DrawFn) -> tuple[bytes, str, tuple[str, str], str]:
    kind = draw(st.sampled_from(["good"] * 4 + ["bad_value", "ragged", "bad_bytes",
                                                "unbalanced", "no_figures"]))
    key, period = (draw(st.sampled_from(CBS_GOOD[part])) for part in ("key", "period"))
    values = [draw(st.sampled_from(CBS_GOOD["value"])) for _ in range(3)]
    if kind == "good" and all(math.isnan(CBS_VALUE[v]) for v in values):
        values[0] = "12"
    if kind == "no_figures":
        values = [".", "", "."]
    if kind == "bad_value":
        part = draw(st.sampled_from(["key", "period", "value"]))
        bad = draw(st.sampled_from(CBS_BAD[part]))
        key, period, values[0] = ((bad, period, values[0]) if part == "key" else
                                  (key, bad, values[0]) if part == "period" else
                                  (key, period, bad))
    fields = [f'"{draw(st.integers(0, 99))}"', f'"{key}"', f'"{period}"',
              *(f'"{v}"' for v in values)]
    if kind == "ragged":
        fields = fields[:draw(st.integers(1, 5))]
    line = ";".join(fields).encode()
    if kind == "unbalanced":
        line = line[:-1]  # the last field's closing quote is missing
    if kind == "bad_bytes":
        line = line.replace(b'"', b'"\xe9', 1)
    quarter = f"{period[:4]}Q{period[-1]}"
    return line, kind, (key, quarter), values[0]


@READER
@given(rows=st.lists(cbs_rows(), min_size=1, max_size=10), data=st.data())
def test_cbs_reader_keeps_every_good_row(workdir: Path, rows: list,
                                         data: st.DataObject) -> None:
    meta = workdir / "meta.csv"
    meta.write_text("Key,Title\nT001081,A-U Alle economische activiteiten\n"
                    "422400,Q Gezondheids- en welzijnszorg\n", encoding="utf-8")
    path = workdir / "vacatures.csv"
    n = len(rows)
    endings = data.draw(st.lists(st.sampled_from(ENDINGS), min_size=n, max_size=n))
    blanks = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    numbers = lines_file(path, [CBS_HEADER.encode(), *(r[0] for r in rows)],
                         ["\r\n", *endings], [False, *blanks], data.draw(st.booleans()))[1:]
    staged = read_cbs_vacancies(path, meta, source="vacatures.csv")
    described = [("good" if kind == "good" else "bad", where, key)
                 for (_, kind, key, _), where in zip(rows, numbers, strict=True)]
    expected = last_good(described)
    balanced(staged, read=n, rejected=sum(k == "bad" for k, _, _ in described),
             stored=len(expected))
    got = staged.rows.set_index(["cbs_key", "quarter"])["open_vacancies"].to_dict()
    first_value = {where: value for (_, _, _, value), where in zip(rows, numbers, strict=True)}
    want = {key: CBS_VALUE[first_value[where]] for key, where in expected.items()}
    assert got.keys() == want.keys()
    assert all(got[k] == want[k] or (math.isnan(got[k]) and math.isnan(want[k])) for k in got)
    if (staged.rows["sector_code"] == "A-U").any() or staged.rows.empty:
        sector_indicators(staged.rows)  # the indicators take whatever the reader kept
    else:
        with pytest.raises(ValueError, match="A-U total"):
            sector_indicators(staged.rows)


ESCO_OCCUPATION = "http://data.europa.eu/esco/occupation/8d3e8aaa-791b-4c75-a465-f3f827028f50"
TENSION_HEADER = "region_code,occupation,period,vacancies,job_seekers,tension,source_note"
# good values and the key they give (region and period normalised, ISCO digits)
TENSION_REGION = {"NL32": "NL32", "AM18": "AM18", "nl 32": "NL32", "PV27": "PV27"}
TENSION_OCCUPATION = {ESCO_OCCUPATION: ESCO_OCCUPATION, "2221": "2221", "ISCO-08 2341": "2341"}
TENSION_PERIOD = {"2024": "2024", "2024Q1": "2024Q1", "2024-q1": "2024Q1", "2024-03": "2024-03"}
TENSION_BAD = {"region": ["", "NL-32", "PV27\x00"], "occupation": ["nurse", ""],
               "period": ["Q1 2024", "24"], "counts": [("-5", "20", ""), ("5", "0", ""),
                                                       ("5", "", ""), ("1", "1", "NaN"),
                                                       ("1", "1", "-0.5")],
               "note": ["x" * 2001]}


@st.composite
def tension_rows(draw: st.DrawFn) -> tuple[bytes, str, tuple[str, str, str], str]:
    kind = draw(st.sampled_from(["good"] * 4 + ["bad_value", "ragged", "bad_bytes",
                                                "unbalanced"]))
    region = draw(st.sampled_from(sorted(TENSION_REGION)))
    occupation = draw(st.sampled_from(sorted(TENSION_OCCUPATION)))
    period = draw(st.sampled_from(sorted(TENSION_PERIOD)))
    counts = draw(st.sampled_from([("10", "20", ""), ("1,5", "4", ""), ("", "", "1.5")]))
    # a line that is not UTF-8 cannot be parsed as CSV, so its quoted line breaks would
    # split it into more rejects: broken rows keep to one line
    note = draw(hostile(surrogates=False) if kind == "good" else PLAIN)
    key = (TENSION_REGION[region], TENSION_OCCUPATION[occupation], TENSION_PERIOD[period])
    if kind == "bad_value":
        part = draw(st.sampled_from(sorted(TENSION_BAD)))
        bad = draw(st.sampled_from(TENSION_BAD[part]))
        if part == "counts":
            counts = bad
        else:
            region, occupation, period, note = (
                bad if part == p else v for p, v in (("region", region),
                                                     ("occupation", occupation),
                                                     ("period", period), ("note", note)))
    fields = [region, occupation, period, *counts, note]
    if kind == "ragged":
        fields = fields[:draw(st.integers(1, 6))]
    line = csv_line(fields, "").encode()
    if kind == "unbalanced":  # the last field's closing quote is missing
        line = ",".join(f'"{field}"' for field in fields).encode()[:-1]
    if kind == "bad_bytes":
        line = b"\xe9" + line
    return line, kind, key, note


@READER
@given(rows=st.lists(tension_rows(), min_size=1, max_size=10), data=st.data())
def test_tension_reader_keeps_every_good_row(workdir: Path, rows: list,
                                             data: st.DataObject) -> None:
    # two stray quotes may pair up into one record that parses: one per file
    broken = [i for i, row in enumerate(rows) if row[1] == "unbalanced"]
    rows = [row for i, row in enumerate(rows) if i not in broken[1:]]
    path = workdir / "tension.csv"
    n = len(rows)
    endings = data.draw(st.lists(st.sampled_from(ENDINGS), min_size=n, max_size=n))
    numbers = lines_file(path, [TENSION_HEADER.encode(), *(r[0] for r in rows)],
                         ["\n", *endings], [False] * (n + 1), data.draw(st.booleans()))[1:]
    staged = read_tension_csv(path, source="tension.csv")
    described = [("good" if kind == "good" else "bad", where, key)
                 for (_, kind, key, _), where in zip(rows, numbers, strict=True)]
    expected = last_good(described)
    balanced(staged, read=n, rejected=sum(k == "bad" for k, _, _ in described),
             stored=len(expected))
    got = staged.rows.set_index(["region_code", "occupation", "period"])
    assert set(got.index) == set(expected)
    notes = {where: note for (_, _, _, note), where in zip(rows, numbers, strict=True)}
    for key, where in expected.items():
        problems = got.at[key, "problems"]
        assert ("source_note: control characters removed" in problems) == bool(
            CONTROL.search(notes[where].strip()))  # the reader strips cells first


# --- credentials ------------------------------------------------------------------------------

CREDENTIAL_IDS = ["c1", "c2", "https://badges.example.org/a/3"]


@st.composite
def catalogue_items(draw: st.DrawFn) -> tuple[Any, str, str]:
    """(catalogue entry, kind, id): good entries have a title, provider and outcomes with
    hostile text in them (and a number where a text belongs); bad ones one broken field."""
    kind = draw(st.sampled_from(["good"] * 4 + ["bad_field", "not_object"]))
    key = draw(st.sampled_from(CREDENTIAL_IDS))
    item: dict[str, Any] = {
        "credential_id": key, "title": "Welding " + draw(hostile()),
        "provider": "ROC " + draw(hostile()),
        "learning_outcomes": draw(st.one_of(st.lists(hostile(), max_size=3),
                                            hostile().map(lambda t: f"weld | {t}"))),
        "description": draw(st.one_of(hostile(), st.integers(), st.none())),
        "ects": draw(st.sampled_from([4, "4", "4,5", None, 3.5])),
        "eqf_level": draw(st.sampled_from([4, "EQF 4", "niveau 4", None])),
        "language": draw(st.sampled_from(["en", "nl", None, "English"])),
        "surprise": draw(wrong_types(hostile())),
    }
    if kind == "bad_field":
        field, value = draw(st.sampled_from([
            ("title", ["Welding"]), ("title", {"en": "Welding"}), ("title", ""),
            ("provider", None), ("description", ["a", "b"]), ("ects", "many"), ("ects", -1),
            ("eqf_level", 9), ("url", "ftp://x"), ("language", "xx-yy-zz"),
            ("sector_code", "Z"), ("learning_outcomes", [{"x": 1}]),
            ("credential_id", {"id": 1}), ("description", "x" * 100_001)]))
        item[field] = value
    if kind == "not_object":
        return draw(st.sampled_from([7, "text", None, [1]])), kind, key
    return item, kind, key


@READER
@given(items=st.lists(catalogue_items(), max_size=8), wrapped=st.booleans())
def test_credential_catalogue_keeps_every_good_entry(workdir: Path, items: list,
                                                     wrapped: bool) -> None:
    path = workdir / "catalogue.json"
    entries = [item for item, _, _ in items]
    path.write_text(json.dumps({"credentials": entries} if wrapped else entries),
                    encoding="utf-8")
    staged = read_credential_catalogue(path, "hostile")
    described = [(kind, f"item {n}", key) for n, (_, kind, key) in enumerate(items, start=1)]
    expected = last_good(described)
    balanced(staged, read=len(items), rejected=sum(k != "good" for _, k, _ in items),
             stored=len(expected))
    rows = staged.rows.set_index("credential_id")
    assert rows["source_record"].to_dict() == expected
    by_record = {f"item {n}": item for n, (item, _, _) in enumerate(items, start=1)}
    for key, where in expected.items():
        item, problems = by_record[where], rows.at[key, "problems"]
        if isinstance(item["description"], int):
            assert "description: a number where text is expected" in problems
        if has_surrogate_after_json(item["title"]):
            assert "title: invalid Unicode replaced" in problems


CREDENTIAL_HEADER = ["credential_id", "title", "provider", "learning_outcomes", "ects",
                     "description"]


@READER
@given(data=st.data())
def test_credential_csv_keeps_every_good_row(workdir: Path, data: st.DataObject) -> None:
    unclosed = data.draw(st.booleans())
    text = PLAIN if unclosed else hostile(surrogates=False)
    body, described = [csv_line(CREDENTIAL_HEADER, "\n").encode()], []
    line = 1
    for _ in range(data.draw(st.integers(0, 8))):
        kind = data.draw(st.sampled_from(["good"] * 4 + ["ragged", "bad_bytes", "bad_ects"]))
        key = data.draw(st.sampled_from(CREDENTIAL_IDS))
        fields = [key, "Welding " + data.draw(text), "ROC " + data.draw(text),
                  data.draw(text), data.draw(st.sampled_from(["4", "", "4,5"])), data.draw(text)]
        if kind == "ragged":
            fields = fields[:3]
        if kind == "bad_ects":
            fields[4] = "many"
        raw = csv_line(fields, data.draw(st.sampled_from(ENDINGS))).encode()
        if kind == "bad_bytes":
            raw = raw.replace(b"Welding", b"Welding caf\xe9", 1)
        line += 1
        described.append(("good" if kind == "good" else "bad", f"row {line}", key))
        line += physical_lines(raw) - 1  # line breaks inside quoted fields
        body.append(raw)
    if unclosed:
        line += 1
        described.append(("bad", f"row {line}", "x"))
        body.append(b'x,"Welding never closed,ROC\n')
    path = workdir / "credentials.csv"
    path.write_bytes(b"".join(body))
    staged = read_credential_csv(path, "hostile")
    expected = last_good(described)
    balanced(staged, read=len(described), rejected=sum(k == "bad" for k, _, _ in described),
             stored=len(expected))
    assert staged.rows.set_index("credential_id")["source_record"].to_dict() == expected


@READER
@given(data=st.data())
def test_open_badges_keep_every_good_achievement(workdir: Path, data: st.DataObject) -> None:
    items, described = [], []
    for number in range(1, data.draw(st.integers(0, 6)) + 1):
        kind = data.draw(st.sampled_from(["good"] * 3 + ["no_name", "other_type", "bad_link"]))
        key = data.draw(st.sampled_from(["https://b.example.org/a/1", "https://b.example.org/a/2"]))
        achievement = {"type": ["Achievement"], "id": key,
                       "name": data.draw(st.one_of(hostile().map("Heat pumps ".__add__),
                                                   st.just({"en": "Heat pumps"}))),
                       "description": data.draw(st.one_of(hostile(), st.none())),
                       "creator": {"name": data.draw(hostile())},
                       "alignment": [{"targetName": data.draw(hostile())}],
                       "extensions": {"ectsPoints": data.draw(st.sampled_from(["6", 6, None]))},
                       "newField": data.draw(wrong_types(hostile()))}
        if kind == "no_name":
            achievement["name"] = data.draw(st.sampled_from(["", None, 42, ["", " "]]))
        if kind == "other_type":
            achievement["type"] = data.draw(st.sampled_from(["Other", [], 7]))
        if kind == "bad_link":  # an outcome that is no text
            achievement["alignment"] = [{"targetName": {"x": 1}}]
        issued = data.draw(st.booleans())
        items.append({"type": ["VerifiableCredential", "OpenBadgeCredential"],
                      "credentialSubject": {"name": "Jan", "achievement": achievement}}
                     if issued and kind == "good" else achievement)
        described.append(("good" if kind == "good" else "bad", f"item {number}", key))
    path = workdir / "badges.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    staged = read_open_badge(path, "hostile")
    expected = last_good(described)
    balanced(staged, read=len(items), rejected=sum(k == "bad" for k, _, _ in described),
             stored=len(expected))
    assert staged.rows.set_index("credential_id")["source_record"].to_dict() == expected


# --- courses and candidates -------------------------------------------------------------------

COURSE_HEADER = ["Subject", "Title", "Institution", "Level", "Duration", "Gained Skills"]
COURSE_TITLES = ["SQL basics", "Python", "Care work"]
# hostile characters that leave the course id alone (it is made of the title's letters)
COURSE_NOISE = ["", "\x00", " &amp;", "😀", "\u202e", "<b>", "\x1b"]


@READER
@given(data=st.data())
def test_coursera_reader_keeps_the_first_of_each_course(workdir: Path,
                                                        data: st.DataObject) -> None:
    body, described, line = [csv_line(COURSE_HEADER, "\r\n").encode()], [], 1
    for _ in range(data.draw(st.integers(0, 8))):
        kind = data.draw(st.sampled_from(["good"] * 4 + ["no_title", "ragged", "bad_bytes",
                                                         "huge"]))
        title = data.draw(st.sampled_from(COURSE_TITLES))
        fields = [data.draw(hostile(surrogates=False)),
                  title + data.draw(st.sampled_from(COURSE_NOISE)), "Uni",
                  data.draw(st.sampled_from(["Beginner", "Course", "", "\x00"])),
                  data.draw(st.sampled_from(["1 - 4 Weeks", "Less Than 2 Hours", "", "soon"])),
                  data.draw(hostile(surrogates=False))]
        if kind == "no_title":
            fields[1] = data.draw(st.sampled_from(["", " ", "<b></b>"]))
        if kind == "ragged":
            fields = fields[:2]
        if kind == "huge":
            fields[5] = "skill " * 20_000
        raw = csv_line(fields, "\n").encode()
        if kind == "bad_bytes":
            raw = raw.replace(b"Uni", b"Uni\xe9", 1)
        body.append(raw)
        line += 1
        described.append(("good" if kind == "good" else "bad", f"row {line}", title))
        line += physical_lines(raw) - 1
    path = workdir / "courses.csv"
    path.write_bytes(b"".join(body))
    staged = read_coursera(path, "hostile")
    first: dict[str, str] = {}
    for kind, where, title in described:
        if kind == "good":
            first.setdefault(title, where)
    balanced(staged, read=len(described), rejected=sum(k == "bad" for k, _, _ in described),
             stored=len(first))
    rows = staged.rows
    assert dict(zip(rows["title"].map(lambda t: re.sub(r"[^\w ]|\s+$", "", t).strip()),
                    rows["source_record"], strict=True)) == first


CANDIDATE_HEADER = ["candidate_id", "region", "credentials", "declared_skills",
                    "current_occupation", "synthetic"]
SKILL = "http://data.europa.eu/esco/skill/"
def no_digits(text: str) -> str:
    """Free text that cannot look like a phone number, BSN or e-mail address."""
    return re.sub(r"[\d@]", "", text)


NO_DIGITS = hostile(surrogates=False).map(no_digits)


@READER
@given(data=st.data(), as_json=st.booleans())
def test_candidate_reader_keeps_every_good_profile(workdir: Path, data: st.DataObject,
                                                   as_json: bool) -> None:
    records, described = [], []
    for number in range(1, data.draw(st.integers(0, 8)) + 1):
        kind = data.draw(st.sampled_from(["good"] * 4 + ["no_id", "bad_region", "email",
                                                         "phone", "bad_flag"]))
        key = data.draw(st.sampled_from(["p1", "p2", "p3"]))
        record: dict[str, Any] = {
            "candidate_id": key,
            "region": data.draw(st.sampled_from(["NL329", "nl329", "AM18", ""])),
            "credentials": data.draw(st.sampled_from(["c1;c2", "", '["c1"]', "c1 | c3"])),
            "declared_skills": data.draw(st.sampled_from([SKILL + "a", f"{SKILL}a;{SKILL}b",
                                                          ""])),
            "current_occupation": data.draw(st.one_of(NO_DIGITS, st.just(None)) if not as_json
                                            else st.one_of(hostile().map(no_digits),
                                                           st.integers(), st.none())),
            "synthetic": data.draw(st.sampled_from(["true", "false", "", "ja"])),
        }
        record.update({"no_id": {"candidate_id": ""}, "bad_region": {"region": "Atlantis"},
                       "email": {"current_occupation": "ann@example.org"},
                       "phone": {"current_occupation": "call +31 6 12345678"},
                       "bad_flag": {"synthetic": "maybe"}}.get(kind, {}))
        records.append(record)
        described.append(("good" if kind == "good" else "bad", number, key))
    if as_json:
        path = workdir / "candidates.json"
        path.write_text(json.dumps(records), encoding="utf-8")
        described = [(k, f"item {n}", key) for k, n, key in described]
    else:
        path = workdir / "candidates.csv"
        body, line = [csv_line(CANDIDATE_HEADER, "\n").encode()], 1
        for record, (kind, n, key) in zip(records, list(described), strict=True):
            row = csv_line([record[c] or "" for c in CANDIDATE_HEADER], "\n").encode()
            line += 1
            described[n - 1] = (kind, f"row {line}", key)
            line += physical_lines(row) - 1
            body.append(row)
        path.write_bytes(b"".join(body))
    staged = read_candidates(path, "hostile")
    expected = last_good(described)
    balanced(staged, read=len(records), rejected=sum(k == "bad" for k, _, _ in described),
             stored=len(expected))
    assert staged.rows.set_index("candidate_id")["source_record"].to_dict() == expected


# --- through the pipeline runner --------------------------------------------------------------

def quiet(_line: str) -> None:
    """Progress lines are not what these tests look at."""


HOSTILE_CSV_SOURCE = """
[hostile]
format = "csv"
path = "{path}"
country = "GB"
language = "en"
required = ["id", "title"]
date_formats = ["%d-%m-%Y"]

[hostile.columns]
source_record = "id"
title = "title"
description = ["intro", "profile"]
posted_date = "posted"
lat = "lat"
lon = "lon"
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, mini_settings: Settings) -> Settings:
    """One small real project for every run here (the mini ESCO warehouse, the project's
    pipelines), whose inputs are hostile files the examples overwrite: the NHS feed, a
    declared CSV source, a credential catalogue, a candidate file and a tension file."""
    root = tmp_path_factory.mktemp("project")
    settings = make_project(root, mini_settings, nhs_ads=4, generate=0)
    files = root / "hostile"
    files.mkdir()
    sources = settings.pipelines_dir / "sources.toml"
    sources.write_text(sources.read_text(encoding="utf-8") + HOSTILE_CSV_SOURCE.format(
        path=files / "export.csv"), encoding="utf-8")
    config = settings.pipelines_dir / "pipelines.toml"
    text = config.read_text(encoding="utf-8")
    start = text.index("files = [", text.index("[credentials]"))
    end = text.index("\n]\n", start) + 3
    text = (text[:start] + f'files = [{{ name = "hostile", format = "catalogue", '
            f'path = "{files / "catalogue.json"}" }}]\n' + text[end:])
    text = text.replace('tension = ["project:data/templates/tension_template.csv"]',
                        f'tension = ["{files / "tension.csv"}"]')
    text = text.replace("files = []", f'files = ["{files / "candidates.csv"}"]')
    config.write_text(text, encoding="utf-8")
    # one good run each first: a table created from a run without rows gets no column
    # types (see test_a_first_run_without_rows_leaves_the_column_types_open)
    (files / "export.csv").write_text("id,title,intro,profile,posted,lat,lon\n"
                                      "1,Staff Nurse,Care for patients,,01-02-2024,53.8,-1.5\n",
                                      encoding="utf-8")
    (files / "catalogue.json").write_text(json.dumps([GOOD_CREDENTIAL]), encoding="utf-8")
    (files / "candidates.csv").write_text(
        "candidate_id,region,credentials,declared_skills\np1,NL329,c1,"
        f"{SKILL}a\n", encoding="utf-8")
    (files / "tension.csv").write_text(f"{TENSION_HEADER}\nNL32,2221,2024,1,2,,\n",
                                       encoding="utf-8")
    write_feed(settings, nhs_posting())
    for pipeline, source in PIPELINE_SOURCES:
        run(settings, pipeline, source)
    return settings


PIPELINE_SOURCES = [("vacancies", "nhs"), ("vacancies", "hostile"), ("credentials", "hostile"),
                    ("candidates", "file:candidates"), ("shortage", "tension:tension")]
GOOD_CREDENTIAL = {"credential_id": "c1", "title": "Welding", "provider": "ROC Test",
                   "learning_outcomes": ["weld steel"], "ects": 4, "language": "en"}


def run(settings: Settings, pipeline: str, source: str) -> Any:
    """One source through the real runner; the run record it wrote, checked balanced."""
    (summary,) = run_pipeline(settings, pipeline, only=[source], force=True, progress=quiet)
    assert summary.status == "ok", summary.line()
    assert summary.rows_read == (summary.rows_stored + summary.rows_duplicate
                                 + summary.rows_rejected)
    run_id, *counts = query(settings, "SELECT run_id, rows_read, rows_stored, rows_duplicate, "
                                      "rows_rejected FROM run WHERE pipeline = ? AND source = ? "
                                      "ORDER BY started_at DESC LIMIT 1",
                            [pipeline, source])[0]
    assert tuple(counts) == (summary.rows_read, summary.rows_stored, summary.rows_duplicate,
                             summary.rows_rejected)
    rejects = query(settings, "SELECT source, record, reason FROM reject WHERE run_id = ?",
                    [run_id])
    assert len(rejects) == summary.rows_rejected
    assert all(record and reason and not UNSTORABLE.search(record + reason)
               for _, record, reason in rejects)
    return summary


def nhs_feed(settings: Settings) -> Path:
    return settings.data_root / "vacancies" / "nhs.jsonl.gz"


@MAPPED
@given(records=st.lists(posting_line(), min_size=2, max_size=5))
def test_vacancy_pipeline_stores_every_good_posting(project: Settings, records: list) -> None:
    lines_file(nhs_feed(project), [r[0] for r in records], ["\n"] * len(records),
               [False] * len(records), bom=False)
    good = [POSTING_IDS[key] for _, kind, key, _ in records if kind == "good"]
    summary = run(project, "vacancies", "nhs")
    assert (summary.rows_read, summary.rows_rejected) == (len(records),
                                                           len(records) - len(good))
    assert summary.rows_stored + summary.rows_duplicate == len(good)
    stored = dict(query(project, "SELECT vacancy_id, problems FROM vacancy WHERE source = 'nhs'"))
    assert set(stored) == {f"nhs:{key}" for key in good}
    assert all(problems is not None for problems in stored.values())


@MAPPED
@given(rows=st.lists(vacancy_csv_rows(plain=False), min_size=1, max_size=5))
def test_declared_csv_pipeline_stores_every_good_row(project: Settings, rows: list) -> None:
    path = project.data_root.parent / "hostile" / "export.csv"
    path.write_bytes(b"".join([csv_line(CSV_HEADER, "\n").encode(), *(r[0] for r in rows)]))
    good = {CSV_IDS[key] for _, kind, key in rows if kind == "good"}
    summary = run(project, "vacancies", "hostile")
    assert summary.rows_read == len(rows)
    assert {r[0] for r in query(project, "SELECT source_record FROM vacancy "
                                         "WHERE source = 'hostile'")} == good


@PIPELINE
@given(rows=st.lists(tension_rows(), min_size=1, max_size=8))
def test_tension_pipeline_stores_every_good_row(project: Settings, rows: list) -> None:
    rows = [r for i, r in enumerate(rows)
            if r[1] != "unbalanced" or i == next(j for j, s in enumerate(rows)
                                                 if s[1] == "unbalanced")]
    path = project.data_root.parent / "hostile" / "tension.csv"
    path.write_bytes(b"\n".join([TENSION_HEADER.encode(), *(r[0] for r in rows)]) + b"\n")
    good = {key for _, kind, key, _ in rows if kind == "good"}
    summary = run(project, "shortage", "tension:tension")
    assert summary.rows_read == len(rows) and summary.rows_stored == len(good)
    assert set(query(project, "SELECT region_code, occupation, period FROM tension "
                              "WHERE source = 'tension:tension'")) == good


@PIPELINE
@given(items=st.lists(catalogue_items(), max_size=5))
def test_credential_pipeline_stores_every_good_entry(project: Settings, items: list) -> None:
    entries = [item for item, _, _ in items]
    for item in entries:  # English, so only the English model maps the outcomes
        if isinstance(item, dict) and item.get("language") != "xx-yy-zz":
            item["language"] = "en"
    path = project.data_root.parent / "hostile" / "catalogue.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    good = {key for _, kind, key in items if kind == "good"}
    summary = run(project, "credentials", "hostile")
    assert summary.rows_read == len(items) and summary.rows_stored == len(good)
    assert {r[0] for r in query(project, "SELECT credential_id FROM credential")} == good


@PIPELINE
@given(data=st.data())
def test_candidate_pipeline_stores_every_good_profile(project: Settings,
                                                      data: st.DataObject) -> None:
    records = data.draw(st.lists(st.fixed_dictionaries({
        "candidate_id": st.sampled_from(["p1", "p2", "p3", "", "ann@example.org"]),
        "region": st.sampled_from(["NL329", "AM18", "", "Atlantis"]),
        "credentials": st.sampled_from(["c1;c2", "", "[1, [2]]"]),
        "declared_skills": st.sampled_from([SKILL + "a", f"{SKILL}a;{SKILL}b", ""]),
        "current_occupation": NO_DIGITS,
        "synthetic": st.sampled_from(["true", "", "maybe"])}), max_size=6))
    path = project.data_root.parent / "hostile" / "candidates.csv"
    path.write_bytes(b"".join([csv_line(CANDIDATE_HEADER, "\n").encode(),
                               *(csv_line([r[c] for c in CANDIDATE_HEADER], "\n").encode()
                                 for r in records)]))
    good = {r["candidate_id"] for r in records
            if r["candidate_id"].startswith("p") and r["region"] != "Atlantis"
            and r["synthetic"] != "maybe" and r["credentials"] != "[1, [2]]"}
    summary = run(project, "candidates", "file:candidates")
    assert summary.rows_read == len(records) and summary.rows_stored == len(good)
    assert {r[0] for r in query(project, "SELECT candidate_id FROM candidate")} == good


# --- the bugs found on the old code, one example each -------------------------------------------

def nhs_posting(**fields: Any) -> dict[str, Any]:
    posting = {"@type": "JobPosting", "_fileid": "915390428", "title": "Staff Nurse",
               "description": "<p>Care for patients on a busy surgical ward.</p>",
               "datePosted": "2020-01-02T10:00:00+0000", "inLanguage": "en",
               "url": "https://www.jobs.nhs.uk/xi/vacancy/915390428",
               "hiringOrganization": {"name": "Leeds Teaching Hospitals"},
               "jobLocation": {"address": {"addressLocality": "Leeds", "postalCode": "LS1 3EX",
                                           "addressCountry": "GB"},
                               "geo": {"latitude": 53.8, "longitude": -1.55}}}
    posting.update(fields)
    return posting


def write_feed(settings: Settings, *postings: dict[str, Any]) -> None:
    lines_file(nhs_feed(settings), [json.dumps(p).encode() for p in postings],
               ["\n"] * len(postings), [False] * len(postings), bom=False)


def test_a_lone_surrogate_in_a_description_is_stored_repaired_and_named(
        project: Settings) -> None:
    """Was: pyarrow UnicodeEncodeError, the whole source failed."""
    write_feed(project, nhs_posting(description="Care \ud800 for patients on the ward."),
               nhs_posting(_fileid="2", title="Ward Sister"))
    summary = run(project, "vacancies", "nhs")
    assert (summary.rows_stored, summary.rows_rejected) == (2, 0)
    description, problems = query(project, "SELECT description, problems FROM vacancy "
                                           "WHERE vacancy_id = 'nhs:915390428'")[0]
    assert description == "Care \ufffd for patients on the ward."
    assert "description: invalid Unicode replaced (1 character)" in problems


def test_an_ad_listed_twice_is_folded_and_counted_as_a_duplicate(project: Settings) -> None:
    """Was: ValueError "cannot reindex on an axis with duplicate labels" (occupation join)."""
    write_feed(project, nhs_posting(), nhs_posting(title="Senior Staff Nurse"))
    summary = run(project, "vacancies", "nhs")
    assert (summary.rows_read, summary.rows_stored, summary.rows_duplicate) == (2, 1, 1)
    assert query(project, "SELECT title FROM vacancy WHERE source = 'nhs'") == [
        ("Senior Staff Nurse",)]  # the later listing wins


def test_a_bad_date_and_a_missing_title_are_kept_and_named(project: Settings) -> None:
    """Was: NULL date and empty title with nothing said."""
    write_feed(project, nhs_posting(datePosted="not a date"),
               nhs_posting(_fileid="2", title=None), nhs_posting(_fileid="3", title=42))
    summary = run(project, "vacancies", "nhs")
    assert (summary.rows_stored, summary.rows_rejected) == (3, 0)
    rows = dict(query(project, "SELECT vacancy_id, problems FROM vacancy WHERE source = 'nhs'"))
    assert "posted_date not a date: not a date" in rows["nhs:915390428"]
    assert query(project, "SELECT posted_date FROM vacancy WHERE vacancy_id = "
                          "'nhs:915390428'") == [(None,)]
    assert rows["nhs:2"] == "no title"
    assert rows["nhs:3"] == "title: a number where text is expected"
    # what the operator sees: `skillmatch status` and the data-status page count them
    problems = {(p["table"], p["source"], p["problem"]): p["rows"]
                for p in warehouse_status(project)["problems"]}
    assert problems[("vacancy", "nhs", "posted_date not a date")] == 1
    assert problems[("vacancy", "nhs", "no title")] == 1
    assert problems[("vacancy", "nhs", "title")] == 1


def test_header_only_export_is_a_clean_empty_run_and_an_empty_file_one_line(
        project: Settings) -> None:
    path = project.data_root.parent / "hostile" / "export.csv"
    path.write_text("\ufeffid,title,intro,profile,posted,lat,lon\r\n", encoding="utf-8")
    summary = run(project, "vacancies", "hostile")
    assert (summary.rows_read, summary.rows_stored) == (0, 0)
    path.write_text("  \n", encoding="utf-8")
    with pytest.raises(SourceError, match=rf"^{re.escape(str(path))}: empty file$"):
        list(run_pipeline(project, "vacancies", only=["hostile"], force=True, progress=quiet))


def test_a_statistics_file_without_the_national_total_is_refused_in_one_line(
        project: Settings, tmp_path: Path) -> None:
    """Was: a ValueError traceback from the indicators."""
    cbs = project.data_root / "labour_stats"
    own = tmp_path / "cbs"
    own.mkdir()
    (own / "vacatures.csv").write_text(CBS_HEADER + '\n"1";"422400";"2019KW01";"1";"2";"3"\n',
                                       encoding="utf-8")
    (own / "meta.csv").write_text("Key,Title\n422400,Q Zorg\n", encoding="utf-8")
    config = project.pipelines_dir / "pipelines.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('cbs_vacancies = "labour_stats/cbs/vacatures.csv"',
                                   f'cbs_vacancies = "{own / "vacatures.csv"}"').replace(
        'cbs_vacancies_metadata = "labour_stats/cbs/sectoren_metadata.csv"',
        f'cbs_vacancies_metadata = "{own / "meta.csv"}"'), encoding="utf-8")
    try:
        with pytest.raises(SourceError, match=r"vacatures\.csv: sector_indicators needs the "
                                              r"A-U total rows"):
            list(run_pipeline(project, "shortage", only=["cbs_sector"], force=True,
                              progress=quiet))
    finally:
        config.write_text(text, encoding="utf-8")
    assert cbs.exists()


def test_a_credential_listed_twice_is_one_credential(project: Settings) -> None:
    """Was: the outcome join failed on the repeated id."""
    entry = GOOD_CREDENTIAL
    path = project.data_root.parent / "hostile" / "catalogue.json"
    path.write_text(json.dumps([entry, {**entry, "title": "Welding 2"}]), encoding="utf-8")
    summary = run(project, "credentials", "hostile")
    assert (summary.rows_stored, summary.rows_duplicate) == (1, 1)
    assert query(project, "SELECT title FROM credential") == [("Welding 2",)]


# --- readers: examples of each kind of file ---------------------------------------------------

def test_a_feed_whose_first_line_is_a_list_keeps_its_good_lines(tmp_path: Path) -> None:
    """Was: read as one JSON array, and the whole feed refused."""
    path = tmp_path / "feed.jsonl"
    path.write_text('[1, 2]\n' + json.dumps(nhs_posting()) + "\n", encoding="utf-8")
    staged = read_jobpostings(path, "x")
    assert len(staged.rows) == 1 and staged.rejects == [(str(path), "line 1",
                                                         "not a JSON object (list)")]


def test_nesting_a_reader_cannot_follow_is_one_reject(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    deep = '{"title": "Nurse", "description": ' + "[" * 990 + "]" * 990 + "}"
    path.write_text("\n".join([deep, "[" * 100_000, json.dumps(nhs_posting())]) + "\n",
                    encoding="utf-8")
    staged = read_jobpostings(path, "x")
    assert len(staged.rows) == 1 and [record for _, record, _ in staged.rejects] == [
        "line 1", "line 2"]
    assert all("nested too deeply" in reason for _, _, reason in staged.rejects)


def test_huge_values_dates_out_of_range_and_bad_coordinates_are_named() -> None:
    """Was: "9999-12-31" raised OutOfBoundsDatetime; a 5 MB title was stored whole."""
    raw = pd.DataFrame([{"source": "x", "source_record": "1", "title": "Nurse " * 1_000_000,
                         "description": "Care.", "posted_date": "9999-12-31",
                         "lat": "91", "lon": "1e400"}])
    row = normalise_vacancies(raw).iloc[0]
    assert len(row["title"]) == 2_000 and pd.isna(row["posted_date"])
    assert "title cut to 2,000 of 5,999,999 characters" in row["problems"]
    assert "posted_date not a date: 9999-12-31" in row["problems"]
    assert "lat out of range: 91" in row["problems"] and "lon out of range" in row["problems"]


def test_one_unclosed_quote_does_not_swallow_the_rows_after_it(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"id,title,intro\r\n1,Nurse,\"two\nlines\"\r\n2,\"Cook,never closed\r\n"
                     b"3,Welder,fine\r4,Teacher,ok\n")
    staged = read_vacancy_csv(path, "x", CSV_SPEC)
    assert staged.rows["source_record"].tolist() == ["1", "3", "4"]
    assert staged.rows["description"].tolist() == ["two\nlines", "fine", "ok"]
    assert [(record, reason[:16]) for _, record, reason in staged.rejects] == [
        ("row 3", "unbalanced quote")]


@pytest.mark.parametrize("reader, header", [
    (lambda p: read_vacancy_csv(p, "x", CSV_SPEC), "id,title"),
    (lambda p: read_credential_csv(p, "x"), "title,provider,learning_outcomes"),
    (lambda p: read_coursera(p, "x"), "Title,Institution,Gained Skills"),
    (lambda p: read_candidates(p, "x"), "candidate_id,region"),
    (lambda p: read_tension_csv(p), "region_code,occupation,period,tension"),
])
def test_csv_readers_empty_files_raise_and_header_only_files_are_empty(
        tmp_path: Path, reader: Callable[[Path], Staged], header: str) -> None:
    path = tmp_path / "file.csv"
    path.write_bytes(b"\xef\xbb\xbf \r\n")
    with pytest.raises(SourceError, match=rf"^{re.escape(str(path))}: empty file$"):
        reader(path)
    path.write_bytes(b"\xef\xbb\xbf" + header.encode() + b"\r\n")
    staged = reader(path)
    assert staged.rows.empty and staged.rows_read == 0 and not staged.rejects


@pytest.mark.parametrize("reader", [
    lambda p: read_jobpostings(p, "x"), lambda p: read_credential_catalogue(p, "x"),
    lambda p: read_open_badge(p, "x"), lambda p: read_candidates(p, "x"),
])
def test_json_readers_empty_files_raise_and_empty_lists_are_empty(
        tmp_path: Path, reader: Callable[[Path], Staged]) -> None:
    path = tmp_path / "file.json"
    path.write_bytes(b"\xef\xbb\xbf\n \n")
    with pytest.raises(SourceError, match=rf"^{re.escape(str(path))}: empty file$"):
        reader(path)
    path.write_bytes(b"[]\n")
    staged = reader(path)
    assert staged.rows.empty and staged.rows_read == 0 and not staged.rejects


def test_an_elm_document_with_broken_characters_is_stored_repaired_and_named(
        tmp_path: Path) -> None:
    path = tmp_path / "elm.jsonld"
    spec = {"id": "urn:epass:qualification:1", "type": "Qualification",
            "title": {"en": "Welding \ud800 basics\x00"}, "learningOutcome": [
                {"id": "urn:lo:1", "type": "LearningOutcome", "title": {"en": "weld \x07"}}]}
    path.write_text(json.dumps({"@graph": [spec, {**spec, "id": "urn:epass:qualification:2"}]}),
                    encoding="utf-8")
    staged = read_elm(path, "x")
    storable(staged)
    assert len(staged.rows) == 1 and staged.duplicates == 1  # same provider and title
    row = staged.rows.iloc[0]
    assert row["title"] == "Welding \ufffd basics" and row["learning_outcomes"] == ["weld"]
    assert "en: invalid Unicode replaced (1 character)" in row["problems"]
    assert "en: control characters removed (1)" in row["problems"]


def test_a_catalogue_with_a_byte_that_is_not_utf8_keeps_its_entries(tmp_path: Path) -> None:
    """Was: the whole catalogue refused ("not UTF-8")."""
    path = tmp_path / "catalogue.json"
    path.write_bytes(b'[{"title": "Caf\xe9 skills", "provider": "ROC", '
                     b'"learning_outcomes": ["serve"]}, {"title": "Welding", "provider": "ROC"}]')
    staged = read_credential_catalogue(path, "x")
    storable(staged)
    assert staged.rows["title"].tolist() == ["Caf\ufffd skills", "Welding"]
    assert staged.rows["problems"].iloc[0] == "title: invalid Unicode replaced (1 character)"


def test_a_first_run_without_rows_leaves_the_column_types_open(
        tmp_path: Path, mini_settings: Settings) -> None:
    settings = make_project(tmp_path, mini_settings, nhs_ads=4, generate=0)
    catalogue = tmp_path / "catalogue.json"
    use_credential_file(settings, "own", "catalogue", catalogue)
    catalogue.write_text("[]", encoding="utf-8")  # a clean run with no rows ...
    assert run(settings, "credentials", "own").rows_stored == 0
    catalogue.write_text(json.dumps([GOOD_CREDENTIAL]), encoding="utf-8")
    assert run(settings, "credentials", "own").rows_stored == 1  # ... then one with rows


def test_regional_statistics_fold_a_repeated_figure_and_reject_a_hostile_key(
        tmp_path: Path) -> None:
    (tmp_path / "regios_metadata.csv").write_text("Key,Title\nNL01,Nederland\n"
                                                  "PV27,Noord-Holland (PV)\n", encoding="utf-8")
    (tmp_path / "sectoren_metadata.csv").write_text("Key,Title\nT001081,A-U Alle\n",
                                                    encoding="utf-8")
    path = tmp_path / "vacatures_regio.csv"
    path.write_bytes("\ufeffID,BedrijfstakkenBranchesSBI2008,Regios,Perioden,"
                     "OpenstaandeVacatures\r0,T001081,PV27  ,2011KW01,1.5\r\n"
                     "1,T001081\x00,PV27,2011KW01,2\n2,T001081,PV27,2011KW01,2.5\n".encode())
    staged = read_cbs_regional(path)
    storable(staged)
    assert (staged.rows_read, len(staged.rows), staged.duplicates) == (3, 1, 1)
    assert staged.rows["open_vacancies"].tolist() == [2500.0]  # the later figure
    assert [reason for _, _, reason in staged.rejects] == ["unknown sector key 'T001081\\x00'"]
