"""Vacancy steps: normalisation of staged rows, near-duplicate folding and sector inference."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REAL_EXPORT, REPO, REPO_SETTINGS

from skillmatch.sources import Staged
from skillmatch.sources.jobposting import read_jobpostings
from skillmatch.text import MAX_TEXT_CHARS
from skillmatch.vacancies import (
    RAW_COLUMNS,
    find_near_duplicates,
    infer_sector,
    normalise_postcode,
    normalise_vacancies,
    read_isco_sector,
)

NHS_FILE = REPO_SETTINGS.data_root / "vacancies" / "nhs_jobs_2020_schemaorg.jsonl.gz"
ISCO_SECTOR = REPO / "taxonomy" / "isco_sector.csv"


def raw_frame(*rows: dict[str, str]) -> pd.DataFrame:
    """Staged rows as a reader returns them: every raw column, all text."""
    frame = pd.DataFrame(list(rows), columns=RAW_COLUMNS)
    return frame.astype(object).where(frame.notna(), "").astype(str)


@pytest.fixture(scope="module")
def nhs() -> Staged:
    if not NHS_FILE.exists():
        pytest.skip(f"shared vacancy data not found at {NHS_FILE}")
    return read_jobpostings(NHS_FILE, "nhs")


# --- normalisation ---------------------------------------------------------------------------

def test_normalise_types_cleans_and_reports_without_dropping_rows() -> None:
    raw = raw_frame(
        {"source": "nhs", "source_record": "915390428",
         "title": "  Staff\n  Nurse &amp;amp; carer ",
         "description": "&lt;p&gt;Caring &amp;amp; kind&lt;/p&gt;<script>steal()</script>",
         "employer": "St Mary&#39;s", "posted_date": "2019-02-03T10:00:00+0100",
         "valid_through": "2019-03-31T23:59:59+0000", "postcode": "sg156sn", "country": "uk",
         "lat": "52.0105", "lon": "-.262406"},
        {"source": "vdab", "source_record": "v1", "title": "Verpleegkundige",
         "description": "Wij zoeken een verpleegkundige voor het team van de afdeling",
         "posted_date": "31-02-2024", "postcode": "1234ab", "country": "NL", "lat": "95",
         "lon": "east"},
        {"source": "x", "source_record": "row 9", "title": "Big", "description": "ab" * 2_500_000,
         "lat": "0", "lon": "0", "language": "EN", "sector_code": "q"},
    )
    out = normalise_vacancies(raw)
    assert len(out) == 3
    assert out["vacancy_id"].tolist() == ["nhs:915390428", "vdab:v1", "x:row 9"]
    assert out["title"].tolist() == ["Staff Nurse & carer", "Verpleegkundige", "Big"]
    assert out["description"].iat[0] == "Caring & kind"  # double-escaped HTML, script gone
    assert out["employer"].iat[0] == "St Mary's"
    assert out["language"].tolist() == ["en", "nl", "en"]
    assert out["posted_date"].iat[0] == pd.Timestamp("2019-02-03 09:00:00")  # UTC
    assert out["valid_through"].iat[0] == pd.Timestamp("2019-03-31 23:59:59")
    assert out["posted_date"].iloc[1:].isna().all()
    assert out["quarter"].tolist() == ["2019Q1", "", ""]
    assert out["postcode"].tolist() == ["SG15 6SN", "1234 AB", ""]
    assert out["country"].tolist() == ["GB", "NL", ""]
    assert out["lat"].iat[0] == pytest.approx(52.0105)
    assert out["lon"].iat[0] == pytest.approx(-0.262406)
    assert out[["lat", "lon"]].iloc[1:].isna().all().all()
    assert out["sector_code"].iat[2] == "Q"
    assert out["problems"].iat[0] == ""
    assert out["problems"].iat[1] == ("posted_date not a date: 31-02-2024; lat out of range: 95; "
                                      "lon not a number: east")
    big = out["problems"].iat[2]
    assert big.startswith(f"description cut to {MAX_TEXT_CHARS:,} of 5,000,000 characters")
    assert "no posted_date" in big and "lat/lon 0,0 (no location)" in big
    assert len(out["description"].iat[2]) <= MAX_TEXT_CHARS
    assert str(out["posted_date"].dtype) == "datetime64[ns]"
    assert out["lat"].dtype == np.float64 and out["lon"].dtype == np.float64
    for column in ("vacancy_id", "title", "description", "quarter", "problems"):
        assert pd.api.types.is_string_dtype(out[column]), column


def test_postcodes() -> None:
    assert normalise_postcode(" 3044bc ", "NL") == ("3044 BC", "")
    assert normalise_postcode("3044", "NL") == ("3044", "not a Dutch postcode: 3044")
    assert normalise_postcode("ec1a1bb", "GB") == ("EC1A 1BB", "")
    assert normalise_postcode("me14", "GB") == ("ME14", "")  # district only
    assert normalise_postcode("Leeds", "GB") == ("LEEDS", "not a UK postcode: LEEDS")
    assert normalise_postcode("9000  gent", "BE") == ("9000 GENT", "")


def test_normalise_real_nhs_ads(nhs: Staged) -> None:
    out = normalise_vacancies(nhs.rows.iloc[:300])
    assert out["vacancy_id"].is_unique and out["vacancy_id"].iat[0] == "nhs:915390428"
    assert not out["description"].str.contains("&lt;|<p>|&amp;", regex=True).any()
    assert out["description"].iat[0].startswith("Arlesey Medical Centre is looking for")
    assert set(out["language"]) == {"en"}
    assert out["posted_date"].notna().all() and out["lat"].notna().all()
    assert out["lon"].iat[0] == pytest.approx(-0.262406)
    assert out["quarter"].iat[0] == "2018Q4"


def test_normalise_keeps_other_columns_and_a_repeated_index() -> None:
    raw = raw_frame({"source": "a", "source_record": "1", "title": "Nurse", "description": "x"},
                    {"source": "a", "source_record": "2", "title": "Verpleegkundige",
                     "description": "Wij zoeken een collega voor het team van de afdeling"})
    raw.index = [7, 7]  # e.g. frames concatenated without ignore_index
    out = normalise_vacancies(raw.assign(isco_code=["2221", "3221"]))
    assert out.index.tolist() == [7, 7]
    assert out["language"].tolist() == ["en", "nl"]
    assert out["isco_code"].tolist() == ["2221", "3221"]


def test_normalise_requires_the_core_columns() -> None:
    with pytest.raises(ValueError, match="description"):
        normalise_vacancies(pd.DataFrame({"source": ["x"], "source_record": ["1"],
                                          "title": ["t"]}))


# --- near duplicates -------------------------------------------------------------------------

AD = ("We are looking for a caring registered nurse to join our busy surgical ward team at the "
      "general hospital. You will assess patients on admission, plan and deliver their care, give "
      "medication safely, keep accurate records and support junior staff and students. The ward "
      "treats adults recovering from general, vascular and orthopaedic surgery, so no two days are "
      "the same. We offer flexible shifts, paid training, a pension scheme, free parking and a "
      "friendly team in a modern hospital close to the city centre. Applicants must hold current "
      "registration with the Nursing and Midwifery Council and be able to work nights and weekends "
      "on a rota. Informal visits are welcome: please call the ward manager to arrange one.")
PORTER = "Move patients and equipment safely between wards."


def ads() -> pd.DataFrame:
    """A known answer: a is re-posted as b and c (c edits one word of b); d is the same text
    for another site; e is another employer; f is a different ad. The porter ads have a short
    text: g and h (same feed, same day) stay two openings, i is g syndicated by another feed."""
    rows = [
        ("s", "s:a", "Staff Nurse", "Trust", "Leeds", AD, "2020-10-05"),
        ("s", "s:b", "Staff nurse ", "TRUST", "Leeds", AD, "2020-10-20"),
        ("s", "s:c", "Staff Nurse", "Trust", "Leeds", AD.replace("modern", "new"), "2020-11-02"),
        ("s", "s:d", "Staff Nurse", "Trust", "York", AD, "2020-10-01"),
        ("s", "s:e", "Staff Nurse", "Other Trust", "Leeds", AD, "2020-10-01"),
        ("s", "s:f", "Staff Nurse", "Trust", "Leeds", AD[:400] + " Stroke unit night shifts.",
         "2020-10-01"),
        ("s", "s:h", "Porter", "Trust", "Leeds", PORTER, "2020-10-01"),
        ("s", "s:g", "Porter", "Trust", "Leeds", PORTER, "2020-10-01"),
        ("t", "t:i", "Porter", "Trust", "Leeds", PORTER, ""),
    ]
    frame = pd.DataFrame(rows, columns=["source", "vacancy_id", "title", "employer", "location",
                                        "description", "posted_date"])
    frame["posted_date"] = pd.to_datetime(frame["posted_date"])
    return frame


def test_near_duplicates_known_answer() -> None:
    out = find_near_duplicates(ads()).set_index("vacancy_id")
    assert out["canonical_id"].to_dict() == {
        "s:a": "s:a", "s:b": "s:a", "s:c": "s:a", "s:d": "s:d", "s:e": "s:e", "s:f": "s:f",
        "s:h": "s:h", "s:g": "s:g", "t:i": "s:g"}
    assert out["is_canonical"][out["is_canonical"]].index.tolist() == [
        "s:a", "s:d", "s:e", "s:f", "s:h", "s:g"]
    assert out["duplicate_count"].to_dict() == {
        "s:a": 2, "s:b": 0, "s:c": 0, "s:d": 0, "s:e": 0, "s:f": 0, "s:h": 0, "s:g": 1, "t:i": 0}
    assert out["duplicate_count"].dtype == np.int64 and out["is_canonical"].dtype == bool


def test_near_duplicates_threshold_order_and_minhash_path_agree() -> None:
    frame = ads()
    strict = find_near_duplicates(frame, threshold=1.0).set_index("vacancy_id")
    assert strict.loc["s:c", "canonical_id"] == "s:c"  # one edited word is not identical
    expected = find_near_duplicates(frame)["canonical_id"].tolist()
    assert find_near_duplicates(frame, max_pairwise=1)["canonical_id"].tolist() == expected
    shuffled = find_near_duplicates(frame.sample(frac=1.0, random_state=3))
    assert shuffled.sort_index()["canonical_id"].tolist() == expected
    with pytest.raises(ValueError, match="threshold"):
        find_near_duplicates(frame, threshold=0)


def test_repeated_rows_with_one_id_keep_one_canonical() -> None:
    for row in (0, 6):  # a long and a short text, listed twice by one feed (as VDAB does)
        frame = pd.concat([ads().iloc[[row]]] * 2, ignore_index=True)
        out = find_near_duplicates(frame)
        assert out["is_canonical"].tolist() == [True, False]
        assert out["duplicate_count"].tolist() == [1, 0]


def test_real_reposted_nhs_ads_are_folded(nhs: Staged) -> None:
    rows = nhs.rows
    pairs = {"916246899": "916260139",  # psychotherapist, Abingdon: same text 9 days later
             "916242365": "916255671"}  # community nurse, Amersham: "part" -> "full" time
    template = ("916166359", "916184552")  # BMI "Registered Nurse" text for two hospitals
    wanted = rows["source_record"].isin([*pairs, *pairs.values(), *template])
    keys = rows.loc[wanted, ["title", "employer"]].drop_duplicates()
    block = rows.merge(keys, on=["title", "employer"])  # everything they are compared with
    out = find_near_duplicates(normalise_vacancies(block)).set_index("source_record")
    for first, repost in pairs.items():
        assert out.loc[repost, "canonical_id"] == f"nhs:{first}"
        assert out.loc[first, "is_canonical"] and not out.loc[repost, "is_canonical"]
        assert out.loc[repost, "posted_date"] > out.loc[first, "posted_date"]
    assert out.loc[list(template), "is_canonical"].all()


def test_near_duplicates_on_the_whole_nhs_feed_is_fast(nhs: Staged) -> None:
    frame = nhs.rows.assign(vacancy_id="nhs:" + nhs.rows["source_record"])
    started = time.perf_counter()
    out = find_near_duplicates(frame)
    assert time.perf_counter() - started < 20
    folded = int((~out["is_canonical"]).sum())
    assert 100 < folded < 300
    assert out.loc[out["is_canonical"], "duplicate_count"].sum() == folded


# --- sectors ---------------------------------------------------------------------------------

def test_isco_sector_table_covers_every_sub_major_group() -> None:
    table = read_isco_sector(ISCO_SECTOR)
    assert len(table) == 43
    assert table["isco_sub_major"].iat[0] == "01"
    lookup = dict(zip(table["isco_sub_major"], table["sector_code"], strict=True))
    assert {k: lookup[k] for k in ("22", "23", "25", "72", "74", "83")} == {
        "22": "Q", "23": "P", "25": "J", "72": "C", "74": "F", "83": "H"}
    assert table["note"].str.contains("illustrative", case=False).all()
    if REAL_EXPORT.exists():
        name = "ESCO dataset - v1.1.1 - classification - en - csv"
        with zipfile.ZipFile(REAL_EXPORT / f"{name}.zip") as archive:
            groups = pd.read_csv(archive.open("ISCOGroups_en.csv"), dtype=str)
        assert set(groups.loc[groups["code"].str.len() == 2, "code"]) == set(lookup)


def test_read_isco_sector_refuses_bad_tables(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text("isco_sub_major,sector_code,note\n22,Q,ok\n2,Z,bad\n22,P,again\n")
    with pytest.raises(ValueError, match="bad rows"):
        read_isco_sector(path)
    path.write_text("isco,sector\n22,Q\n")
    with pytest.raises(ValueError, match="columns missing"):
        read_isco_sector(path)


def test_infer_sector_fills_only_empty_codes() -> None:
    table = read_isco_sector(ISCO_SECTOR)
    frame = pd.DataFrame({
        "vacancy_id": ["a", "b", "c", "d", "e", "f"],
        "sector_code": ["Q", "", "", "", "", None],
        "isco_code": ["2511", "2221", "7212.1.3", "", None, "83"],
    })
    before = frame.copy()
    out = infer_sector(frame, table)
    assert out["sector_code"].tolist() == ["Q", "Q", "C", "", "", "H"]
    assert out["sector_source"].tolist() == ["given", "inferred", "inferred", "", "", "inferred"]
    without_occupations = infer_sector(frame.drop(columns="isco_code"), table)
    assert without_occupations["sector_code"].tolist() == ["Q", "", "", "", "", ""]
    assert without_occupations["sector_source"].tolist() == ["given", "", "", "", "", ""]
    pd.testing.assert_frame_equal(frame, before)  # input untouched
