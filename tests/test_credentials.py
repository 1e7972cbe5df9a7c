"""Micro-credential readers (Open Badges 3.0, ELM v3, CSV template, JSON catalogue), the demo
catalogue, the quality check and the Coursera course reader, on real files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, REPO_SETTINGS

from skillmatch.credentials import (
    QualityRules,
    check_quality,
    outcome_rows,
    quality_issue_rows,
    stack_rows,
    unknown_stack_targets,
)
from skillmatch.sources import SourceError, Staged
from skillmatch.sources.courses import duration_hours, read_coursera, split_skills
from skillmatch.sources.credentials import (
    CREDENTIAL_COLUMNS,
    TEMPLATE_COLUMNS,
    iso_duration_hours,
    read_credential_catalogue,
    read_credential_csv,
    read_elm,
    read_open_badge,
    stable_id,
    write_credential_csv,
)

EXAMPLES = REPO_SETTINGS.data_root / "credentials" / "examples"
COURSES = REPO_SETTINGS.data_root / "courses"
CATALOGUE = REPO / "data" / "catalogue" / "demo_microcredentials.json"
TEMPLATE = REPO / "data" / "catalogue" / "credential_template.csv"
needs_examples = pytest.mark.skipif(not EXAMPLES.exists(), reason=f"{EXAMPLES} not found")
needs_courses = pytest.mark.skipif(not COURSES.exists(), reason=f"{COURSES} not found")
ESCO = "http://data.europa.eu/esco/skill/"
HEADER = ",".join(TEMPLATE_COLUMNS)


def _invariant(staged: Staged) -> None:
    assert staged.rows_read == len(staged.rows) + len(staged.rejects) + staged.duplicates
    assert list(staged.rows.columns) == CREDENTIAL_COLUMNS
    assert staged.rows["credential_id"].is_unique  # a repeated id is folded


def _all_text(frame: pd.DataFrame) -> str:
    return json.dumps(frame.astype(str).to_dict("records"), ensure_ascii=False)


@pytest.fixture(scope="module")
def catalogue() -> pd.DataFrame:
    staged = read_credential_catalogue(CATALOGUE, "demo")
    assert not staged.rejects
    _invariant(staged)
    return staged.rows


# --------------------------------------------------------------------------- real examples


@needs_examples
def test_open_badge_example() -> None:
    staged = read_open_badge(EXAMPLES / "OBv3_microcredential_example_MyNextID.json", "ob3")
    _invariant(staged)
    row = staged.rows.iloc[0]
    assert row["title"] == "Data Science Fundamentals"
    assert row["provider"] == "NETIS d.o.o."
    assert row["ects"] == 5.0  # achievement.creditsAvailable
    assert row["learning_outcomes"] == ["Develop test procedures", "Analyse test data"]
    assert row["esco_skill_uris"] == [ESCO + "f10142ce-d522-49c3-9fd1-054fb63529d4",
                                      ESCO + "81a2db2c-7e55-44d0-9cd9-74c25147d7cd"]
    assert pd.isna(row["eqf_level"]) and pd.isna(row["study_load_hours"])
    assert row["language"] == "en" and row["times_issued"] == 1
    assert row["credential_id"] == "urn:uuid:5300c688-6bfc-498a-a976-230af55b5ca6"
    extra = json.loads(row["extra"])
    assert extra["humanCode"] == "DS-101-2024" and extra["tag"] == ["Data Science", "Analytics",
                                                                    "Python"]
    assert "identityHash" not in _all_text(staged.rows)  # the holder is not read


@needs_examples
def test_mynextid_form_example_drops_holder() -> None:
    staged = read_open_badge(EXAMPLES / "microcredential_input_fields_example_MyNextID.json",
                             "form")
    _invariant(staged)
    row = staged.rows.iloc[0]
    assert row["ects"] == 5.0 and row["study_load_hours"] == 60.0  # "5", "PT60H"
    assert row["assessment"].startswith("Written Exam")
    text = _all_text(staged.rows)
    assert "John Doe" not in text and "12345" not in text


@needs_examples
def test_elm_example() -> None:
    staged = read_elm(EXAMPLES / "ELMv3_Sample-MC-Annex1-unsigned.jsonld", "elm")
    _invariant(staged)
    assert len(staged.rows) == 1
    row = staged.rows.iloc[0]
    assert row["title"] == "Digital micro-credential creation"
    assert row["provider"] == "University of Zed" and row["provider_type"] == "wo"
    assert row["ects"] == 2.0 and row["eqf_level"] == 6 and row["study_load_hours"] == 60.0
    assert row["learning_outcomes"] == ["Communication, collaboration and creativity",
                                        "Developing digital content"]
    assert len(row["esco_skill_uris"]) == 4
    assert all(u.startswith(ESCO) for u in row["esco_skill_uris"])
    assert row["language"] == "en" and row["sector_code"] == "J"
    assert row["assessment"] == "Digital artefact assessment (Online)"
    extra = json.loads(row["extra"])
    assert extra["nqfLevel"] == "RQF Level 6" and "esco_skill_labels" in extra
    text = _all_text(staged.rows)
    for personal in ("Andromeda", "ana.andromeda", "1999-10-01", "LA-234218"):
        assert personal not in text
    assert "iVBORw0KGgo" not in text  # base64 logos are not kept


# --------------------------------------------------------------------------- OB3 / ELM variants


def test_open_badge_list_with_extensions_and_bad_items(tmp_path: Path) -> None:
    achievement = {
        "type": ["Achievement"], "id": "https://badges.example.org/a/1", "name": "Heat pumps",
        "description": "<p>Install <b>heat pumps</b></p><script>alert(1)</script>",
        "creator": {"type": ["Profile"], "name": "Hogeschool Test"},
        "alignment": [
            {"type": ["Alignment"], "targetName": "install heat pumps",
             "targetUrl": ESCO + "abc"},
            {"type": ["Alignment"], "targetName": "EQF level 4", "targetFramework": "EQF",
             "targetUrl": "http://data.europa.eu/snb/eqf/4"},
        ],
        "extensions": {"ectsPoints": "6", "hoursOfLearning": "PT168H"},
        "creditsAvailable": 99, "inLanguage": "nl", "newField": {"x": 1},
    }
    issued = {"type": ["VerifiableCredential", "OpenBadgeCredential"],
              "issuer": {"name": "Hogeschool Test", "id": "urn:x"},
              "credentialSubject": {"name": "Jan Jansen", "achievement": achievement}}
    path = tmp_path / "badges.json"
    path.write_text(json.dumps([achievement, issued, issued, 7, {"type": "Achievement"},
                                {"type": "Other"}]), encoding="utf-8")
    staged = read_open_badge(path, "b")
    _invariant(staged)
    # the achievement and its two issued copies are one credential (the last copy kept)
    assert len(staged.rows) == 1 and len(staged.rejects) == 3 and staged.duplicates == 2
    assert [r[1] for r in staged.rejects] == ["item 4", "item 5", "item 6"]
    row = staged.rows.iloc[0]
    assert row["ects"] == 6.0 and row["study_load_hours"] == 168.0 and row["eqf_level"] == 4
    assert row["learning_outcomes"] == ["install heat pumps"]
    assert row["description"] == "Install heat pumps" and row["language"] == "nl"
    assert row["provider_type"] == "hbo" and row["url"] == "https://badges.example.org/a/1"
    assert json.loads(row["extra"])["newField"] == {"x": 1}
    assert staged.rows["times_issued"].tolist() == [2]
    assert "Jan Jansen" not in _all_text(staged.rows)


def test_elm_graph_with_references(tmp_path: Path) -> None:
    document = {"@graph": [
        {"id": "urn:epass:credential:9", "type": "EuropeanDigitalCredential",
         "issuer": "urn:epass:org:9",
         "credentialSubject": {"id": "urn:p", "fullName": {"en": "Piet"},
                               "hasClaim": ["urn:epass:learningAchievement:9"]}},
        {"id": "urn:epass:learningAchievement:9", "type": "LearningAchievement",
         "specifiedBy": "urn:epass:qualification:9"},
        {"id": "urn:epass:org:9", "type": "Organisation", "legalName": {"nl": "ROC Test"}},
        {"id": "urn:epass:qualification:9", "type": "Qualification",
         "title": {"nl": "Lassen"}, "volumeOfLearning": "PT120H",
         "eqfLevel": {"id": "http://data.europa.eu/snb/eqf/4"},
         "language": {"id": "http://publications.europa.eu/resource/authority/language/NLD"},
         "creditPoint": [{"framework": {"id": "urn:other", "prefLabel": {"en": "Other"}},
                          "point": "9"},
                         {"framework": {"prefLabel": {"en": "European Credit Transfer System"}},
                          "point": "5"}],
         "learningOutcome": [{"id": "urn:lo:1"}],
         "thematicArea": {"id": "http://data.europa.eu/snb/isced-f/0715"}},
        {"id": "urn:lo:1", "type": "LearningOutcome", "title": {"nl": "lasrobot programmeren"},
         "relatedESCOSkill": "http://data.europa.eu/esco/skill/xyz"},
    ]}
    path = tmp_path / "elm.jsonld"
    path.write_text(json.dumps(document), encoding="utf-8")
    staged = read_elm(path, "elm")
    _invariant(staged)
    row = staged.rows.iloc[0]
    assert (row["title"], row["provider"], row["provider_type"]) == ("Lassen", "ROC Test", "mbo")
    assert (row["ects"], row["eqf_level"], row["study_load_hours"]) == (5.0, 4, 120.0)
    assert row["language"] == "nl" and row["sector_code"] == "C"
    assert row["learning_outcomes"] == ["lasrobot programmeren"]
    assert row["esco_skill_uris"] == ["http://data.europa.eu/esco/skill/xyz"]
    assert "Piet" not in _all_text(staged.rows)


def test_elm_without_specification_fails(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonld"
    path.write_text(json.dumps({"id": "x", "type": "Something"}), encoding="utf-8")
    with pytest.raises(SourceError, match="no Qualification"):
        read_elm(path, "x")


@pytest.mark.parametrize("content, match", [
    (b"", "empty file"), (b"  \n", "empty file"), (b"{not json", "not valid JSON"),
    (b"[" * 100_000, "nested too deeply"),
])
def test_json_readers_refuse_unusable_files(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    for reader in (read_open_badge, read_elm, read_credential_catalogue):
        with pytest.raises(SourceError, match=match) as info:
            reader(path, "bad")
        assert str(path) in str(info.value)
    with pytest.raises(SourceError, match="not found"):
        read_open_badge(tmp_path / "missing.json", "m")


def test_iso_durations() -> None:
    assert iso_duration_hours("PT120H") == 120
    assert iso_duration_hours("PT1H30M") == 1.5
    assert iso_duration_hours("P60M") is None  # 60 months is a calendar span, not a load
    assert iso_duration_hours("banana") is None


# --------------------------------------------------------------------------- demo catalogue


def test_demo_catalogue_content(catalogue: pd.DataFrame) -> None:
    assert len(catalogue) >= 60
    assert catalogue["credential_id"].is_unique
    assert catalogue["illustrative"].all()
    assert catalogue["provider"].str.endswith("(illustrative)").all()
    assert set("QJPCFDEH") <= set(catalogue["sector_code"])
    assert set(catalogue["provider_type"]) == {"mbo", "hbo", "wo", "private"}
    dutch = (catalogue["language"] == "nl").mean()
    assert 0.1 <= dutch <= 0.25
    assert catalogue["learning_outcomes"].map(len).between(3, 6).all()
    eqf_ok = {"mbo": range(2, 5), "hbo": range(5, 7), "wo": range(6, 8), "private": range(3, 7)}
    for kind, level in zip(catalogue["provider_type"], catalogue["eqf_level"], strict=True):
        assert pd.isna(level) or level in eqf_ok[kind]
    welding = catalogue[catalogue["title"] == "Robotic welding"].iloc[0]
    assert (welding["ects"], welding["eqf_level"], welding["study_load_hours"],
            welding["provider_type"]) == (5.0, 4, 120.0, "mbo")


def test_demo_catalogue_stack_paths(catalogue: pd.DataFrame) -> None:
    links = stack_rows(catalogue)
    assert links["target_known"].all() and unknown_stack_targets(catalogue).empty
    nxt = dict(zip(links["credential_id"], links["stackable_with"], strict=True))
    starts = set(nxt) - set(nxt.values())
    lengths = []
    for start in starts:
        length, node = 1, start
        while node in nxt:
            node, length = nxt[node], length + 1
        lengths.append(length)
    assert len(lengths) >= 5 and min(lengths) >= 2 and max(lengths) == 4


def test_quality_flags_exactly_the_deliberate_ones(catalogue: pd.DataFrame) -> None:
    checked = check_quality(catalogue)
    assert len(checked) == len(catalogue)  # never drops
    deliberate = set(catalogue.loc[catalogue["description"].str.contains(
        "Deliberately non-compliant"), "credential_id"])
    assert 2 <= len(deliberate) <= 3
    assert set(checked.loc[~checked["quality_ok"], "credential_id"]) == deliberate
    issues = quality_issue_rows(catalogue)
    assert list(issues.columns) == ["credential_id", "rule", "severity", "message"]
    assert set(issues["credential_id"]) == deliberate  # no warnings on the compliant ones
    assert set(issues["rule"]) == {"ects_range", "eqf_missing"}
    assert checked.loc[checked["quality_ok"], "quality_issues"].map(len).eq(0).all()


def test_quality_rules_on_edge_cases(catalogue: pd.DataFrame) -> None:
    frame = catalogue.head(5).copy().reset_index(drop=True)
    frame.loc[0, "ects"] = 3.0
    frame.loc[0, "study_load_hours"] = 84.0  # 3 ECTS inclusive, 28 h/ECTS
    frame.loc[1, "ects"] = 30.0
    frame.loc[1, "study_load_hours"] = 300.0  # 10 h/ECTS: warning only
    frame.at[2, "learning_outcomes"] = []
    frame.loc[3, "study_load_hours"] = pd.NA
    frame.loc[4, "ects"] = pd.NA
    checked = check_quality(frame)
    assert checked["quality_ok"].tolist() == [True, True, False, False, False]
    assert checked["quality_issues"].tolist() == [
        [], ["study_load_ratio"], ["outcomes_missing"], ["study_load_missing"],
        ["ects_missing"]]
    issues = quality_issue_rows(frame)
    warning = issues[issues["rule"] == "study_load_ratio"].iloc[0]
    assert warning["severity"] == "warning" and "10 hours per ECTS" in warning["message"]
    strict = check_quality(frame, QualityRules(min_ects=4))
    assert not strict.loc[0, "quality_ok"]


def test_outcome_rows(catalogue: pd.DataFrame) -> None:
    rows = outcome_rows(catalogue)
    assert len(rows) == catalogue["learning_outcomes"].map(len).sum()
    first = rows[rows["credential_id"] == "demo-mc-001"]
    assert first["outcome_no"].tolist() == list(range(1, len(first) + 1))
    assert first["outcome_text"].iloc[0] == catalogue.iloc[0]["learning_outcomes"][0]
    assert str(rows["outcome_no"].dtype) == "int64"


def test_stack_rows_reports_unknown_targets(catalogue: pd.DataFrame) -> None:
    frame = catalogue.head(3).copy().reset_index(drop=True)
    frame.at[0, "stackable_with"] = ["demo-mc-002", "does-not-exist"]
    links = stack_rows(frame)
    assert len(links) == 3  # 001 -> 002, 001 -> unknown, 002 -> 003
    assert unknown_stack_targets(frame)["stackable_with"].tolist() == ["does-not-exist"]


# --------------------------------------------------------------------------- CSV template


def test_csv_round_trip_of_the_catalogue(catalogue: pd.DataFrame, tmp_path: Path) -> None:
    path = write_credential_csv(catalogue, tmp_path / "catalogue.csv")
    staged = read_credential_csv(path, "csv")
    _invariant(staged)
    assert not staged.rejects
    pd.testing.assert_frame_equal(staged.rows.drop(columns=["source", "source_record"]),
                                  catalogue.drop(columns=["source", "source_record"]))


def test_template_file_reads() -> None:
    staged = read_credential_csv(TEMPLATE, "template")
    _invariant(staged)
    assert len(staged.rows) == 2 and not staged.rejects
    assert staged.rows["learning_outcomes"].map(len).tolist() == [5, 6]


def _row(**values: str) -> str:
    base = {"credential_id": "c1", "title": "PLC basics", "provider": "ROC Test",
            "learning_outcomes": "program PLCs | read diagrams", "ects": "5",
            "eqf_level": "4", "study_load_hours": "140"}
    base.update(values)
    return ",".join(json.dumps(base.get(c, ""), ensure_ascii=False) for c in TEMPLATE_COLUMNS)


def test_csv_bad_values_reject_only_their_row(tmp_path: Path) -> None:
    lines = [HEADER, _row(), _row(credential_id="c2", ects="five"),
             _row(credential_id="c3", eqf_level="9"), _row(credential_id="c4", url="javascript:x"),
             _row(credential_id="c5", ects="7,5", study_load_hours="PT210H"),
             _row(credential_id="c6", sector_code="Z"), _row(credential_id="c7", title=""),
             _row(credential_id="c8", times_issued="3.5")]
    path = tmp_path / "c.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    staged = read_credential_csv(path, "c.csv")
    _invariant(staged)
    assert staged.rows["credential_id"].tolist() == ["c1", "c5"]
    assert staged.rows.loc[1, "ects"] == 7.5 and staged.rows.loc[1, "study_load_hours"] == 210
    reasons = {record: reason for _, record, reason in staged.rejects}
    assert reasons["row 3 (id=c2)"].startswith("ects:")
    assert reasons["row 4 (id=c3)"].startswith("eqf_level:")
    assert reasons["row 5 (id=c4)"].startswith("url:")
    assert reasons["row 7 (id=c6)"].startswith("sector_code:")
    assert reasons["row 8 (id=c7)"].startswith("title:")
    assert reasons["row 9 (id=c8)"].startswith("times_issued:")
    assert all(source == "c.csv" for source, _, _ in staged.rejects)


def test_csv_unknown_columns_kept_in_extra(tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text("title,provider,learning_outcomes,funding_scheme,notes\n"
                    'Cloud,CodeWerf,"deploy VMs\nmanage access",STAP,\n', encoding="utf-8")
    staged = read_credential_csv(path, "e")
    row = staged.rows.iloc[0]
    assert json.loads(row["extra"]) == {"funding_scheme": "STAP"}
    assert row["learning_outcomes"] == ["deploy VMs", "manage access"]
    assert row["credential_id"] == stable_id(None, "CodeWerf", "Cloud")
    assert row["provider_type"] == "other" and pd.isna(row["ects"])


def test_csv_dutch_headers_and_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "nl.csv"
    path.write_text("Titel;Aanbieder;Leeruitkomsten;Studiepunten;EQF niveau;Taal\n"
                    "Valpreventie;Hogeschool Noord;risico's inschatten | oefeningen geven;"
                    "3,0;EQF 5;Nederlands\n", encoding="utf-8")
    row = read_credential_csv(path, "nl").rows.iloc[0]
    assert (row["title"], row["ects"], row["eqf_level"], row["language"]) == (
        "Valpreventie", 3.0, 5, "nl")
    assert row["provider_type"] == "hbo"


def test_csv_missing_columns_and_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("title,ects\nA,5\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"missing required columns \['provider', "
                                          r"'learning_outcomes'\]") as info:
        read_credential_csv(path, "m")
    assert str(path) in str(info.value)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="empty file"):
        read_credential_csv(empty, "e")
    header_only = tmp_path / "h.csv"
    header_only.write_text(HEADER + "\n", encoding="utf-8")
    staged = read_credential_csv(header_only, "h")
    assert staged.rows.empty and staged.rows_read == 0 and list(staged.rows.columns) == \
        CREDENTIAL_COLUMNS


def test_csv_latin1_truncated_huge_and_html(tmp_path: Path) -> None:
    huge = "x" * 5_000_000
    body = [HEADER.encode(), _row().encode(),
            _row(credential_id="c2", title="Caf\u00e9 skills").encode("latin-1"),
            _row(credential_id="c3", description=huge).encode(),
            _row(credential_id="c4", title="<b>Welding</b><script>alert(1)</script>",
                 description="<p>Hands&amp;on</p>").encode(),
            b'c5,"Truncated,ROC']
    path = tmp_path / "mixed.csv.gz"
    path.write_bytes(gzip.compress(b"\n".join(body)))
    staged = read_credential_csv(path, "mixed")
    _invariant(staged)
    assert staged.rows["credential_id"].tolist() == ["c1", "c4"]
    assert staged.rows.loc[1, "title"] == "Welding"
    assert staged.rows.loc[1, "description"] == "Hands&on"
    reasons = {record: reason for _, record, reason in staged.rejects}
    assert reasons["row 3"] == "not UTF-8 (byte 0xe9 in column 'title', character 4)"
    assert "description" in reasons["row 4 (id=c3)"]
    assert reasons["row 6"].startswith("unbalanced quote")  # c5's quote never closes


def test_catalogue_json_bad_items(tmp_path: Path) -> None:
    path = tmp_path / "cat.json"
    path.write_text(json.dumps({"credentials": [
        {"title": "A", "provider": "P", "learning_outcomes": ["x"], "ects": 4,
         "surprise": [1, 2]},
        "not an object", {"title": "B", "provider": "P", "ects": "many"}]}), encoding="utf-8")
    staged = read_credential_catalogue(path, "cat")
    _invariant(staged)
    assert json.loads(staged.rows.iloc[0]["extra"]) == {"surprise": [1, 2]}
    assert [r[1] for r in staged.rejects] == ["item 2", "item 3 (id=B)"]
    path.write_text(json.dumps({"nothing": 1}), encoding="utf-8")
    with pytest.raises(SourceError, match="expected a list"):
        read_credential_catalogue(path, "cat")


# --------------------------------------------------------------------------- Coursera


@needs_courses
def test_coursera_desc_layout() -> None:
    staged = read_coursera(COURSES / "coursera_courses_skills_desc.csv", "desc")
    assert staged.rows_read == 1139
    # a course listed twice (same provider and title) is one course: the first, full row
    assert len(staged.rows) == 1111 and staged.duplicates == 28 and not staged.rejects
    assert staged.rows["course_id"].is_unique
    first = staged.rows.iloc[0]
    assert first["title"] == "Google Cybersecurity" and first["provider"] == "Google"
    assert first["listed_skills"][:3] == ["Network Security", "Python Programming", "Linux"]
    assert first["level"] == "Beginner" and first["duration_text"] == "3 - 6 Months"
    assert first["duration_hours"] == pytest.approx(4.5 * 52 / 12 * 10, abs=0.1)
    assert first["description"].startswith("Google Cybersecurity by Google")
    assert staged.rows["description"].notna().mean() > 0.95
    assert set(staged.rows["level"].dropna()) <= {"Beginner", "Intermediate", "Advanced",
                                                  "Mixed"}


@needs_courses
def test_coursera_gained_skills_layout() -> None:
    staged = read_coursera(COURSES / "coursera_courses_skills_3404.csv", "gained")
    assert staged.rows_read == 3404 == len(staged.rows) + staged.duplicates
    assert staged.rows["course_id"].is_unique
    first = staged.rows.iloc[0]
    assert first["provider"] == "Coursera Project Network" and first["subject"] == "Business"
    assert first["duration_hours"] == 2.0 and first["product_type"] == "Guided Project"
    assert "Process Mapping" in first["listed_skills"]
    assert staged.rows["description"].isna().all()
    assert staged.rows["listed_skills"].map(len).gt(0).mean() > 0.9


def test_coursera_helpers_and_bad_files(tmp_path: Path) -> None:
    assert split_skills('{" A"," B, C"," A"}') == ["A", "B, C"]
    assert split_skills("A, B ,") == ["A", "B"]
    assert duration_hours("Less Than 2 Hours") == 2.0
    assert duration_hours("1 - 4 Weeks") == 25.0
    assert duration_hours("4 meses", hours_per_week=5) == pytest.approx(4 * 52 / 12 * 5, 0.01)
    assert duration_hours("15+ hours of study/wk per course") is None
    assert duration_hours("1 - 3 Months", hours_per_week=None) is None
    path = tmp_path / "c.csv"
    path.write_text("Subject,Title,Institution,Level,Duration,Gained Skills\n"
                    "Data,SQL,Uni,Beginner,1 - 4 Weeks,SQL\n,,Uni,Beginner,,X\n"
                    "Data,Short\n", encoding="utf-8")
    staged = read_coursera(path, "c")
    assert len(staged.rows) == 1 and [r[1] for r in staged.rejects] == ["row 3",
                                                                       "row 4 (id=Short)"]
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(SourceError, match="not a known course catalogue layout"):
        read_coursera(path, "c")
