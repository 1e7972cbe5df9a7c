"""Vacancy readers: the schema.org JobPosting feed, the CSV exports declared in
pipelines/sources.toml, and what happens with broken files and records."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from conftest import REPO, REPO_SETTINGS

from skillmatch.sources import SourceError, Staged
from skillmatch.sources.jobposting import read_jobpostings
from skillmatch.sources.tabular import (
    CsvSpec,
    RowRule,
    SourceSpec,
    load_csv_specs,
    read_source,
    read_vacancy_csv,
)
from skillmatch.vacancies import RAW_COLUMNS

SOURCES_TOML = REPO / "pipelines" / "sources.toml"
DATA_ROOT = REPO_SETTINGS.data_root
NHS_FILE = DATA_ROOT / "vacancies" / "nhs_jobs_2020_schemaorg.jsonl.gz"

needs_vacancies = pytest.mark.skipif(not NHS_FILE.exists(),
                                     reason=f"shared vacancy data not found at {NHS_FILE}")


def check_invariant(staged: Staged) -> None:
    assert staged.rows_read == len(staged.rows) + len(staged.rejects) + staged.duplicates
    assert staged.rows["source_record"].is_unique  # a repeated id is folded
    assert list(staged.rows.columns) == RAW_COLUMNS


@pytest.fixture(scope="module")
def specs() -> dict[str, SourceSpec]:
    return load_csv_specs(SOURCES_TOML)


@pytest.fixture(scope="module")
def nhs(specs: dict[str, SourceSpec]) -> Staged:
    if not NHS_FILE.exists():
        pytest.skip(f"shared vacancy data not found at {NHS_FILE}")
    return read_source(specs["nhs"], DATA_ROOT)


# --- the declared sources ----------------------------------------------------------------------

def test_sources_toml_declares_every_vacancy_source(specs: dict[str, SourceSpec]) -> None:
    assert set(specs) == {"nhs", "vdab", "ggz", "meesterbaan"}
    assert specs["nhs"].format == "jobposting"
    assert specs["nhs"].language == ""  # "auto": detected during normalisation
    assert {name: (s.country, s.language) for name, s in specs.items() if s.csv} == {
        "vdab": ("BE", "nl"), "ggz": ("NL", "nl"), "meesterbaan": ("NL", "nl")}
    for spec in specs.values():
        assert not spec.path.is_absolute()
        assert spec.resolve(Path("/data")) == Path("/data") / spec.path
    assert specs["meesterbaan"].csv.columns["title"] == "Functienaam"
    assert specs["meesterbaan"].csv.date_formats == ("%d-%m-%Y",)


@needs_vacancies
def test_declared_files_exist_under_the_data_root(specs: dict[str, SourceSpec]) -> None:
    for spec in specs.values():
        assert spec.resolve(DATA_ROOT).is_file(), spec.name


def test_nhs_feed_is_read_in_full(nhs: Staged) -> None:
    check_invariant(nhs)
    assert nhs.rows_read == len(nhs.rows) == 14_842
    assert nhs.rejects == []
    first = nhs.rows.iloc[0]
    assert first["source"] == "nhs" and first["source_record"] == "915390428"
    assert first["record"] == "line 1"
    assert first["title"] == "Salaried GP/Lead Gp"
    assert first["description"].startswith("&lt;p&gt;Arlesey Medical Centre")  # raw, as given
    assert first["employer"] == "Central Advertising - General Practitioners"
    assert (first["postcode"], first["country"]) == ("SG15 6SN", "GB")
    assert (first["lat"], first["lon"]) == ("52.0105", "-.262406")
    assert first["posted_date"] == "2018-12-27T10:50:17+0000"
    assert (first["employment_type"], first["salary"]) == ("FULL_TIME", "negotiable")
    assert first["language"] == ""
    assert nhs.rows["source_record"].is_unique
    assert set(nhs.rows["sector_code"]) == {"Q"}  # industry "Healthcare" via sector_map
    assert nhs.rows.iloc[1]["salary"] == "£28,333.20 per annum"


@needs_vacancies
def test_vdab_noise_rows_are_rejected_and_named(specs: dict[str, SourceSpec]) -> None:
    staged = read_source(specs["vdab"], DATA_ROOT)
    check_invariant(staged)
    assert staged.rows_read == 300
    # the export lists every ad twice: the copies fold into one row each
    assert len(staged.rows) == 140 and len(staged.rejects) == 20 and staged.duplicates == 140
    reject = staged.reject_frame
    assert reject["reason"].str.startswith("site navigation page").all()
    assert reject["source"].eq(str(specs["vdab"].resolve(DATA_ROOT))).all()
    assert reject["record"].iloc[0] == "row 2 (id=vdab-Aa00002)"
    rows = staged.rows
    assert not rows["title"].eq("Opleidingen").any()
    assert not rows["employer"].str.contains("Meer info over dit bedrijf").any()
    assert rows["employer"].iloc[0] == "Asteria HR Group"
    assert rows["posted_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    # sections joined, each under its declared heading (the mapping reads sections)
    assert rows["description"].iloc[0].startswith("Functieomschrijving:\nVoor een "
                                                   "toonaangevende speler")
    assert "\n\nProfiel:\nAankoper- Profiel" in rows["description"].iloc[0]
    assert "\n\nAanbod:\n" in rows["description"].iloc[0]
    assert "Ga naar de inhoud" not in " ".join(rows["description"])  # no site navigation
    assert set(rows["country"]) == {"BE"} and set(rows["language"]) == {"nl"}


@needs_vacancies
def test_ggz_feed_uses_its_keywords_as_text(specs: dict[str, SourceSpec]) -> None:
    staged = read_source(specs["ggz"], DATA_ROOT)
    check_invariant(staged)
    assert len(staged.rows) == 136 and staged.rejects == []
    first = staged.rows.iloc[0]
    assert (first["source_record"], first["title"]) == ("d6418e0de6", "Gz-psycholoog FACT")
    assert "Klinisch neuropsycholoog" in first["description"]
    assert "Bekijk deze vacature" not in first["description"]
    assert (first["employer"], first["sector_code"], first["location"]) == (
        "GGZ inGeest", "Q", "Amstelveen")


@needs_vacancies
def test_meesterbaan_rows_whose_columns_are_shuffled_are_rejected(
        specs: dict[str, SourceSpec]) -> None:
    staged = read_source(specs["meesterbaan"], DATA_ROOT)
    check_invariant(staged)
    assert staged.rows_read == 130
    reasons = staged.reject_frame["reason"]
    assert reasons.str.startswith("columns out of order").sum() == 91
    assert (reasons == "19 fields where the header has 18").sum() == 29
    rows = staged.rows
    assert len(rows) == 10
    first = rows.iloc[0]
    assert (first["source_record"], first["title"]) == ("258669",
                                                       "VSO docent parttime Zuid-Holland")
    assert (first["postcode"], first["lat"], first["lon"]) == ("3044 BC", "51.924652",
                                                              "4.430589")
    assert (first["posted_date"], first["valid_through"]) == ("2023-08-09", "2023-10-08")
    assert set(rows["sector_code"]) == {"P"}


# --- JobPosting feeds: formats and broken records ---------------------------------------------

def posting(**extra: object) -> dict[str, object]:
    item: dict[str, object] = {
        "@context": "http://schema.org", "@type": "JobPosting", "title": "Staff Nurse",
        "description": "&lt;p&gt;Join our ward&lt;/p&gt;", "datePosted": "2020-10-01",
        "hiringOrganization": {"@type": "Organization", "name": "Some Trust"},
        "jobLocation": {"address": {"addressLocality": "Leeds", "postalCode": "LS1 4AP"},
                        "geo": {"latitude": "53.8", "longitude": "-1.55"}},
    }
    item.update(extra)
    return item


def write_lines(path: Path, lines: list[bytes]) -> Path:
    data = b"\n".join(lines) + b"\n"
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def test_bad_json_lines_become_rejects_and_good_ones_survive(tmp_path: Path) -> None:
    good = json.dumps(posting(_fileid="A1")).encode()
    path = write_lines(tmp_path / "feed.jsonl.gz", [
        good,
        good[:40],                                                  # truncated
        b"",                                                        # blank: not a record
        b"[1, 2]",                                                  # not an object
        json.dumps(posting(title="", description="")).encode(),     # no text
        json.dumps(posting(**{"@type": "Organization"})).encode(),  # wrong type
        json.dumps(posting(title="Caf\xe9 manager"), ensure_ascii=False).encode("latin-1"),
        json.dumps(posting(_fileid="A2", unknownField={"x": 1})).encode(),
    ])
    staged = read_jobpostings(path, "test")
    check_invariant(staged)
    assert staged.rows["source_record"].tolist() == ["A1", "A2"]
    assert staged.rows["record"].tolist() == ["line 1", "line 8"]
    rejects = {record: reason for _, record, reason in staged.rejects}
    assert set(rejects) == {"line 2", "line 4", "line 5", "line 6", "line 7"}
    assert rejects["line 2"].startswith("invalid JSON")
    assert rejects["line 4"] == "not a JSON object (list)"
    assert rejects["line 5"] == "no title and no description"
    assert "'Organization'" in rejects["line 6"]
    assert rejects["line 7"].startswith("not UTF-8 (byte 0xe9")
    assert all(source == str(path) for source, _, _ in staged.rejects)


def test_records_without_an_id_are_named_by_line(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "feed.jsonl", [json.dumps(posting()).encode()] * 2)
    staged = read_jobpostings(path, "x", country="GB", language="en")
    assert staged.rows["source_record"].tolist() == ["line 1", "line 2"]
    assert staged.rows["country"].tolist() == ["GB", "GB"]  # the feed's default
    assert staged.rows["language"].tolist() == ["en", "en"]


def test_json_array_and_single_object_files(tmp_path: Path) -> None:
    array = tmp_path / "feed.json"
    array.write_text(json.dumps([posting(_fileid="1"), "junk", posting(_fileid="2")], indent=2))
    staged = read_jobpostings(array, "x")
    assert staged.rows["source_record"].tolist() == ["1", "2"]
    assert staged.rejects == [(str(array), "item 2", "not a JSON object (str)")]
    single = tmp_path / "one.json"
    single.write_text(json.dumps(posting(_fileid="7"), indent=2))
    staged = read_jobpostings(single, "x")
    assert staged.rows["source_record"].tolist() == ["7"] and staged.rejects == []
    assert staged.rows["location"].iat[0] == "Leeds"


def test_list_valued_fields_and_html_stay_raw(tmp_path: Path) -> None:
    html = "<script>alert(1)</script><p>Care &amp;amp; support</p>"
    item = posting(description=html, employmentType=["FULL_TIME", "PART_TIME"],
                   jobLocation=[{"address": "Leeds"}, {"address": "York"}],
                   baseSalary={"currency": "GBP",
                               "value": {"minValue": 20000, "maxValue": 25000,
                                         "unitText": "YEAR"}})
    path = write_lines(tmp_path / "feed.jsonl", [json.dumps(item).encode()])
    row = read_jobpostings(path, "x").rows.iloc[0]
    assert row["description"] == html  # cleaning is normalisation's job
    assert row["employment_type"] == "FULL_TIME, PART_TIME"
    assert row["location"] == "Leeds" and row["lat"] == ""
    assert row["salary"] == "20000-25000 GBP/YEAR"


def test_a_five_megabyte_description_is_staged(tmp_path: Path) -> None:
    text = "word " * 1_000_000
    path = write_lines(tmp_path / "big.jsonl", [json.dumps(posting(description=text)).encode()])
    staged = read_jobpostings(path, "x")
    assert len(staged.rows["description"].iat[0]) == len(text.strip())


def test_unusable_jobposting_files_raise(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not found"):
        read_jobpostings(tmp_path / "missing.jsonl", "x")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n \n")
    with pytest.raises(SourceError, match="empty file"):
        read_jobpostings(empty, "x")
    truncated = tmp_path / "cut.json"
    truncated.write_text(json.dumps([posting(), posting()])[:-30])
    with pytest.raises(SourceError, match=r"cut\.json: not valid JSON"):
        read_jobpostings(truncated, "x")
    broken_gz = tmp_path / "broken.jsonl.gz"
    broken_gz.write_bytes(gzip.compress(json.dumps(posting()).encode() * 50)[:60])
    with pytest.raises(SourceError, match=r"broken\.jsonl\.gz"):
        read_jobpostings(broken_gz, "x")


# --- CSV exports: formats and broken records ---------------------------------------------------

SPEC = CsvSpec(
    columns={"source_record": "id", "title": "title", "description": ["intro", "profile"],
             "posted_date": "posted", "employer": "company"},
    date_formats=("%d-%m-%Y",),
    country="NL",
    language="nl",
    required=("id", "title"),
    constants={"sector_code": "Q"},
    extract={"employer": r"^(.*?)(?: - more info.*)?$"},
    reject_if=(RowRule(column="title", pattern=r"^Login$", reason="login page"),),
)


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_rows_are_mapped_and_bad_rows_rejected_by_number(tmp_path: Path) -> None:
    path = tmp_path / "ads.csv"
    path.write_bytes(
        b"id,title,intro,profile,posted,company,ignored\r\n"
        b'1,Verpleegkundige,"Intro line one\nline two","Profile",01-02-2024,'
        b"Zorg BV - more info,x\r\n"
        b"2,Kok,Caf\xe9 aan zee,,02-02-2024,Eten BV,x\r\n"        # Latin-1 byte
        b"3,Ragged,too,few\r\n"                                     # 4 fields, header 7
        b"4,Login,,,,,\r\n"                                         # noise rule
        b"5,,,,03-02-2024,Leeg BV,x\r\n"                            # no text
        b"\r\n"                                                     # blank line
        b'6,Docent,"Lesgeven\n\nin groep 8",,31-02-2024,School,x\r\n'  # bad date kept
    )
    staged = read_vacancy_csv(path, "demo", SPEC)
    check_invariant(staged)
    assert staged.rows_read == 6
    rows = staged.rows
    assert rows["source_record"].tolist() == ["1", "6"]
    assert rows["record"].tolist() == ["row 2", "row 8"]
    first = rows.iloc[0]
    assert first["description"] == "Intro line one\nline two\n\nProfile"
    assert (first["posted_date"], first["employer"]) == ("2024-02-01", "Zorg BV")
    assert (first["country"], first["language"], first["sector_code"]) == ("NL", "nl", "Q")
    assert rows.iloc[1]["posted_date"] == "31-02-2024"  # not a date: normalisation reports it
    rejects = {record: reason for _, record, reason in staged.rejects}
    assert rejects == {
        "row 3 (id=2)": "not UTF-8 (byte 0xe9 in column 'intro', character 4)",
        "row 4": "4 fields where the header has 7",
        "row 5 (id=4)": "login page",
        "row 6 (id=5)": "no title and no description",
    }


def test_csv_header_problems_raise_naming_file_and_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ads.csv", "ref,name\n1,Kok\n")
    with pytest.raises(SourceError, match=r"ads\.csv: required columns missing: id, title"):
        read_vacancy_csv(path, "demo", SPEC)
    with pytest.raises(SourceError, match="empty file"):
        read_vacancy_csv(write_csv(tmp_path / "empty.csv", ""), "demo", SPEC)
    with pytest.raises(SourceError, match="not found"):
        read_vacancy_csv(tmp_path / "nope.csv", "demo", SPEC)


def test_csv_header_only_bom_and_semicolons(tmp_path: Path) -> None:
    header_only = write_csv(tmp_path / "h.csv", "\ufeffid,title\n")
    staged = read_vacancy_csv(header_only, "demo", SPEC)
    assert staged.rows_read == 0 and staged.rows.empty
    spec = CsvSpec(columns={"source_record": "id", "title": "title"}, delimiter=";",
                   required=("id", "title"))
    path = write_csv(tmp_path / "s.csv", "\ufeffid;title\n9;Lasser, ervaren\n")
    staged = read_vacancy_csv(path, "demo", spec)
    assert staged.rows[["source_record", "title"]].values.tolist() == [["9", "Lasser, ervaren"]]


def test_csv_five_megabyte_field_is_staged(tmp_path: Path) -> None:
    text = "zorg " * 1_000_000
    path = write_csv(tmp_path / "big.csv", f'id,title,intro\n1,Big,"{text}"\n2,Small,ok\n')
    staged = read_vacancy_csv(path, "demo", SPEC)
    assert staged.rows["description"].str.len().tolist() == [len(text.strip()), 2]


def test_sources_file_errors(tmp_path: Path) -> None:
    bad_format = tmp_path / "a.toml"
    bad_format.write_text('[x]\nformat = "xml"\npath = "x.xml"\n')
    with pytest.raises(SourceError, match="format 'xml'"):
        load_csv_specs(bad_format)
    bad_target = tmp_path / "b.toml"
    bad_target.write_text('[x]\nformat = "csv"\npath = "x.csv"\n[x.columns]\nnaam = "title"\n')
    with pytest.raises(SourceError, match="unknown target columns"):
        load_csv_specs(bad_target)
    bad_rule = tmp_path / "c.toml"
    bad_rule.write_text('[x]\nformat = "csv"\npath = "x.csv"\n[x.columns]\ntitle = "t"\n'
                        '[[x.reject_if]]\ncolumn = "t"\nreason = "r"\n')
    with pytest.raises(SourceError, match="exactly one of"):
        load_csv_specs(bad_rule)
    with pytest.raises(SourceError, match="cannot read sources"):
        load_csv_specs(tmp_path / "missing.toml")
