"""Talent matching: requirement tables, the sparse talent index, ranking, region filter and
the evidence behind every match, over hand-built DuckDB warehouses with known answers."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from skillmatch.matching import (
    ESSENTIAL_WEIGHT,
    EXPLAIN_COLUMNS,
    OPTIONAL_WEIGHT,
    REQUIREMENT_COLUMNS,
    SEARCH_COLUMNS,
    Requirements,
    TalentIndex,
    normalise_requirements,
    requirements_for_occupation,
    requirements_from_skills,
)

SKILL = "http://data.europa.eu/esco/skill/"
OCC = "http://data.europa.eu/esco/occupation/"
CARE_PLANNING, DIGITAL, HYGIENE, COMMUNICATION, WOUND, PHARMACY = (
    SKILL + s for s in ("s1", "s2", "s3", "s4", "s5", "s6"))
NURSE, CLERK = OCC + "nurse", OCC + "clerk"

SCHEMA = """
CREATE TABLE esco_skill(uri VARCHAR, preferred_label VARCHAR, skill_type VARCHAR,
                        reuse_level VARCHAR);
CREATE TABLE esco_occupation(uri VARCHAR, preferred_label VARCHAR, isco_code VARCHAR);
CREATE TABLE esco_occupation_skill(occupation_uri VARCHAR, skill_uri VARCHAR,
                                   relation_type VARCHAR);
CREATE TABLE credential(credential_id VARCHAR, title VARCHAR, provider VARCHAR, ects DOUBLE,
                        study_load_hours DOUBLE, eqf_level BIGINT, url VARCHAR,
                        stackable_with VARCHAR[]);
CREATE TABLE credential_skill(credential_id VARCHAR, outcome_no BIGINT, skill_uri VARCHAR,
                              skill_label VARCHAR, score DOUBLE, accepted BOOLEAN);
CREATE TABLE candidate(candidate_id VARCHAR, source VARCHAR, region VARCHAR,
                       current_occupation VARCHAR, synthetic BOOLEAN);
CREATE TABLE candidate_credential(candidate_id VARCHAR, credential_id VARCHAR, source VARCHAR);
CREATE TABLE candidate_skill(candidate_id VARCHAR, skill VARCHAR, skill_uri VARCHAR,
                             source VARCHAR);
"""


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    marks = ", ".join("?" * len(rows[0]))
    con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    """Six skills (one nobody holds), a nurse profile, four credentials and seven candidates.

    Holdings (declared / via credential), with the nurse profile's weights (essential 1.0:
    care planning, hygiene, wound care; optional 0.5: digital literacy, patient
    communication; total 4.0):
      syn-000001 NL329  declares care planning + hygiene, holds mc-002 (hygiene, wound care)
                        -> 3.0 / 4 = 0.75
      syn-000002 NL321  holds mc-001 (digital; its communication link is not accepted) and
                        declares communication -> 1.0 / 4 = 0.25, 0 essential
      syn-000003 NL411  holds mc-003 and mc-004 (both care planning), declares hygiene -> 0.5
      syn-000004 BE211  declares care planning + hygiene -> 0.5 (ties with syn-000003)
      syn-000005 NL329  declares only an unmapped skill -> 0 (never returned)
      syn-000006 NL322  holds mc-001 and ext-999 (not in the catalogue; both digital) -> 0.125
      syn-000007 NL329  declares wound care -> 0.25 with 1 essential (ranks above syn-000002)
    """
    con = duckdb.connect(":memory:")
    con.execute(SCHEMA)
    _insert(con, "esco_skill", [
        (CARE_PLANNING, "care planning", "skill", "sector-specific"),
        (DIGITAL, "digital literacy", "skill", "transversal"),
        (HYGIENE, "hygiene", "skill", "cross-sector"),
        (COMMUNICATION, "patient communication", "skill", "sector-specific"),
        (WOUND, "wound care", "skill", "occupation-specific"),
        (PHARMACY, "medication administration", "skill", "occupation-specific"),
    ])
    _insert(con, "esco_occupation", [(NURSE, "nurse", "2221"), (CLERK, "clerk", "4110")])
    _insert(con, "esco_occupation_skill", [
        (NURSE, WOUND, "essential"), (NURSE, DIGITAL, "optional"),
        (NURSE, CARE_PLANNING, "essential"), (NURSE, COMMUNICATION, "optional"),
        (NURSE, HYGIENE, "essential"), (NURSE, CARE_PLANNING, "optional"),
    ])
    _insert(con, "credential", [
        ("demo-mc-001", "Technology in home care", "ROC", 3.0, None, 4, "", []),
        ("demo-mc-002", "Wound care basics", "HAN", 2.0, None, 5, "", []),
        ("demo-mc-003", "Care planning", "HAN", 1.0, None, 5, "", ["demo-mc-004"]),
        ("demo-mc-004", "Advanced care planning", "HAN", 4.0, None, 6, "", []),
    ])
    _insert(con, "credential_skill", [
        ("demo-mc-001", 1, DIGITAL, "digital skills", 0.9, True),
        ("demo-mc-001", 2, COMMUNICATION, "communication", 0.4, False),
        ("demo-mc-002", 1, WOUND, "wound care", 0.9, True),
        ("demo-mc-002", 2, HYGIENE, "hygiene", 0.8, True),
        ("demo-mc-002", 2, HYGIENE, "hygiene", 0.7, True),
        ("demo-mc-003", 1, CARE_PLANNING, "care planning", 0.9, True),
        ("demo-mc-004", 1, CARE_PLANNING, "care planning", 0.9, True),
        ("ext-999", 1, DIGITAL, "digital", 0.9, True),
    ])
    _insert(con, "candidate", [
        ("syn-000004", "t", "BE211", NURSE, True),
        ("syn-000001", "t", "NL329", NURSE, True),
        ("syn-000002", "t", "NL321", CLERK, True),
        ("syn-000003", "t", "NL411", NURSE, True),
        ("syn-000005", "t", "NL329", CLERK, True),
        ("syn-000006", "t", "NL322", None, True),
        ("syn-000007", "t", "NL329", NURSE, True),
    ])
    _insert(con, "candidate_credential", [
        ("syn-000001", "demo-mc-002", "t"),
        ("syn-000002", "demo-mc-001", "t"),
        ("syn-000003", "demo-mc-004", "t"), ("syn-000003", "demo-mc-003", "t"),
        ("syn-000006", "demo-mc-001", "t"), ("syn-000006", "ext-999", "t"),
        ("syn-999999", "demo-mc-002", "t"),  # not a candidate: ignored
    ])
    _insert(con, "candidate_skill", [
        ("syn-000001", "care planning", CARE_PLANNING, "t"),
        ("syn-000001", "hygiene", HYGIENE, "t"),
        ("syn-000001", "hygiene", HYGIENE, "t"),
        ("syn-000002", "communication", COMMUNICATION, "t"),
        ("syn-000003", "hygiene", HYGIENE, "t"),
        ("syn-000004", "care planning", CARE_PLANNING, "t"),
        ("syn-000004", "hygiene", HYGIENE, "t"),
        ("syn-000005", "knitting", None, "t"),
        ("syn-000007", "wound care", WOUND, "t"),
    ])
    return con


@pytest.fixture(scope="module")
def index(con: duckdb.DuckDBPyConnection) -> TalentIndex:
    return TalentIndex.load(con)


@pytest.fixture(scope="module")
def nurse(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return requirements_for_occupation(con, NURSE)


# --- requirement tables ------------------------------------------------------------------------

def test_occupation_requirements_essential_first_then_label_order(nurse: pd.DataFrame) -> None:
    assert list(nurse.columns) == REQUIREMENT_COLUMNS
    assert nurse.to_dict("list") == {
        "skill_uri": [CARE_PLANNING, HYGIENE, WOUND, DIGITAL, COMMUNICATION],
        "skill_label": ["care planning", "hygiene", "wound care", "digital literacy",
                        "patient communication"],
        # care planning is listed both ways and counts as essential
        "importance": ["essential"] * 3 + ["optional"] * 2,
        "weight": [ESSENTIAL_WEIGHT] * 3 + [OPTIONAL_WEIGHT] * 2,
    }


def test_occupation_requirements_options(con: duckdb.DuckDBPyConnection) -> None:
    essential_only = requirements_for_occupation(con, NURSE, include_optional=False)
    assert essential_only["skill_uri"].tolist() == [CARE_PLANNING, HYGIENE, WOUND]
    weighted = requirements_for_occupation(con, NURSE, essential_weight=2.0, optional_weight=0.25)
    assert weighted["weight"].tolist() == [2.0, 2.0, 2.0, 0.25, 0.25]
    clerk = requirements_for_occupation(con, CLERK)  # known, but without skills
    assert clerk.empty and list(clerk.columns) == REQUIREMENT_COLUMNS
    with pytest.raises(ValueError, match="occupation/astronaut"):
        requirements_for_occupation(con, OCC + "astronaut")
    with pytest.raises(ValueError, match="optional_weight"):
        requirements_for_occupation(con, NURSE, optional_weight=-1)


def test_requirements_from_skills_keeps_order_and_drops_duplicates(
        con: duckdb.DuckDBPyConnection) -> None:
    frame = requirements_from_skills(con, [WOUND, HYGIENE, WOUND, " "], "optional")
    assert frame.to_dict("list") == {
        "skill_uri": [WOUND, HYGIENE], "skill_label": ["wound care", "hygiene"],
        "importance": ["optional", "optional"], "weight": [0.5, 0.5]}
    with pytest.raises(ValueError) as error:
        requirements_from_skills(con, [WOUND, SKILL + "nope", SKILL + "never"])
    assert SKILL + "nope" in str(error.value) and SKILL + "never" in str(error.value)
    assert WOUND not in str(error.value)
    with pytest.raises(ValueError, match="importance"):
        requirements_from_skills(con, [WOUND], "nice to have")


def test_normalise_requirements_fills_defaults_and_keeps_highest_weight() -> None:
    edited = pd.DataFrame({
        "skill_uri": [CARE_PLANNING, None, DIGITAL, CARE_PLANNING, "  ", HYGIENE],
        "skill_label": ["care planning", "x", None, "care planning", "y", "hygiene"],
        "importance": ["essential", "essential", " Optional ", "optional", None, "essential"],
        "weight": [np.nan, 1.0, None, 3.0, None, 1.0],
    })
    assert normalise_requirements(edited).to_dict("list") == {
        "skill_uri": [DIGITAL, CARE_PLANNING, HYGIENE],
        "skill_label": [DIGITAL, "care planning", "hygiene"],
        "importance": ["optional", "optional", "essential"],
        "weight": [0.5, 3.0, 1.0],
    }


@pytest.mark.parametrize(("column", "value", "message"), [
    ("importance", "must", r"row 7 \(skill_uri '.*s3'\): importance"),
    ("importance", None, r"row 7 .*importance"),
    ("weight", -0.5, r"row 7 .*weight must be a finite number >= 0"),
    ("weight", "heavy", r"row 7 .*weight must be a number"),
])
def test_normalise_requirements_errors_name_the_row(column: str, value: object,
                                                    message: str) -> None:
    edited = pd.DataFrame({"skill_uri": [WOUND, HYGIENE], "skill_label": ["a", "b"],
                           "importance": ["essential", "optional"], "weight": [1.0, 0.5]},
                          index=[3, 7]).astype({"weight": object})
    edited.loc[7, column] = value
    with pytest.raises(ValueError, match=message):
        normalise_requirements(edited)


# --- search -------------------------------------------------------------------------------------

def test_index_loads_distinct_holdings(index: TalentIndex) -> None:
    assert index.n_candidates == 7
    # 001: 3, 002: 2, 003: 2, 004: 2, 006: 1, 007: 1 (duplicates and unaccepted links dropped)
    assert index.n_holdings == 11


def test_search_scores_and_ranking(index: TalentIndex, nurse: pd.DataFrame) -> None:
    result = index.search(nurse)
    assert list(result.columns) == SEARCH_COLUMNS
    assert result["rank"].tolist() == [1, 2, 3, 4, 5, 6]
    # 003 and 004 tie on score and essentials -> id order; 007 and 002 tie on score, but 007
    # holds an essential skill; 005 (score 0) is never returned
    assert result["candidate_id"].tolist() == ["syn-000001", "syn-000003", "syn-000004",
                                               "syn-000007", "syn-000002", "syn-000006"]
    assert result["score"].tolist() == [0.75, 0.5, 0.5, 0.25, 0.25, 0.125]
    assert result["essential_matched"].tolist() == [3, 2, 2, 1, 0, 0]
    assert result["optional_matched"].tolist() == [0, 0, 0, 0, 2, 1]
    assert set(result["essential_total"]) == {3} and set(result["optional_total"]) == {2}
    first = result.iloc[0]
    assert (first["region"], first["current_occupation"]) == ("NL329", NURSE)
    assert first["matched_skills"] == ["care planning", "hygiene", "wound care"]
    assert first["missing_skills"] == ["digital literacy", "patient communication"]
    assert first["missing_skill_uris"] == [DIGITAL, COMMUNICATION]
    assert result.iloc[4]["matched_skills"] == ["digital literacy", "patient communication"]
    assert result.iloc[5]["current_occupation"] == ""


def test_search_top_k_and_min_score(index: TalentIndex, nurse: pd.DataFrame) -> None:
    assert index.search(nurse, top_k=2)["candidate_id"].tolist() == ["syn-000001",
                                                                    "syn-000003"]
    assert index.search(nurse, min_score=0.5)["candidate_id"].tolist() == [
        "syn-000001", "syn-000003", "syn-000004"]
    with pytest.raises(ValueError, match="top_k"):
        index.search(nurse, top_k=0)


@pytest.mark.parametrize(("regions", "expected"), [
    (["NL32"], ["syn-000001", "syn-000007", "syn-000002", "syn-000006"]),
    (("NL329",), ["syn-000001", "syn-000007"]),
    (["BE", "NL41"], ["syn-000003", "syn-000004"]),
    ("NL3", ["syn-000001", "syn-000007", "syn-000002", "syn-000006"]),
    (["DE"], []),
    (["", " "], ["syn-000001", "syn-000003", "syn-000004", "syn-000007", "syn-000002",
                 "syn-000006"]),
])
def test_search_region_prefix_filter(index: TalentIndex, nurse: pd.DataFrame,
                                     regions: list[str], expected: list[str]) -> None:
    result = index.search(nurse, regions=regions)
    assert result["candidate_id"].tolist() == expected
    assert list(result.columns) == SEARCH_COLUMNS


def test_search_counts_skills_nobody_holds_and_edited_weights(
        con: duckdb.DuckDBPyConnection, index: TalentIndex) -> None:
    wanted = requirements_from_skills(con, [WOUND, PHARMACY])
    result = index.search(wanted)
    assert result["candidate_id"].tolist() == ["syn-000001", "syn-000007"]
    assert result["score"].tolist() == [0.5, 0.5]
    assert result.iloc[0]["missing_skill_uris"] == [PHARMACY]
    # an edited table: digital literacy made heavy, a zero-weight essential
    edited = pd.DataFrame({"skill_uri": [DIGITAL, WOUND, DIGITAL],
                           "skill_label": ["digital literacy", "wound care", "digital"],
                           "importance": ["optional", "essential", "optional"],
                           "weight": [3.0, 0.0, 1.0]})
    result = index.search(edited)
    assert result["candidate_id"].tolist() == ["syn-000002", "syn-000006"]
    assert result["score"].tolist() == [1.0, 1.0]
    assert result.iloc[0]["essential_total"] == 1
    nothing = index.search(edited.assign(weight=0.0))
    assert nothing.empty and list(nothing.columns) == SEARCH_COLUMNS


def test_explain_gives_the_evidence(index: TalentIndex, nurse: pd.DataFrame) -> None:
    one = index.explain("syn-000001", nurse)
    assert list(one.columns) == EXPLAIN_COLUMNS
    assert one["skill_uri"].tolist() == nurse["skill_uri"].tolist()
    assert one["matched"].tolist() == [True, True, True, False, False]
    assert one["via"].tolist() == ["declared", "credential+declared", "credential", "", ""]
    assert one["evidence"].tolist() == [
        "declared by the candidate",
        "credential demo-mc-002 'Wound care basics'; declared by the candidate",
        "credential demo-mc-002 'Wound care basics'",
        "", ""]
    three = index.explain("syn-000003", nurse).set_index("skill_uri")
    assert three.loc[CARE_PLANNING, "evidence"] == (
        "credential demo-mc-003 'Care planning'; "
        "credential demo-mc-004 'Advanced care planning'")
    two = index.explain("syn-000002", nurse).set_index("skill_uri")
    # mc-001's link to communication is not accepted, so only the declaration counts
    assert two.loc[COMMUNICATION, "via"] == "declared"
    six = index.explain("syn-000006", nurse).set_index("skill_uri")
    assert six.loc[DIGITAL, "evidence"] == (
        "credential demo-mc-001 'Technology in home care'; credential ext-999")
    with pytest.raises(KeyError):
        index.explain("syn-000404", nurse)


def test_explain_agrees_with_search(index: TalentIndex, nurse: pd.DataFrame) -> None:
    for row in index.search(nurse).itertuples():
        why = index.explain(row.candidate_id, nurse)
        assert why.loc[why["matched"], "skill_label"].tolist() == row.matched_skills
        matched_weight = why.loc[why["matched"], "weight"].sum()
        assert row.score == pytest.approx(matched_weight / nurse["weight"].sum())


def test_plain_records_agree_with_the_frames(index: TalentIndex, nurse: pd.DataFrame) -> None:
    """The server's frame-free path (Requirements, search_records, explain_records) gives
    exactly what the app's frames give."""
    plain = Requirements.from_frame(nurse)
    assert plain.frame().equals(normalise_requirements(nurse))
    assert plain.records() == normalise_requirements(nurse).to_dict("records")
    frame = index.search(nurse, regions=("NL",), top_k=4)
    assert index.search_records(plain, regions=("NL",), top_k=4) == frame.to_dict("records")
    ids = frame["candidate_id"].tolist()
    assert index.explain_records(ids, plain) == [
        index.explain(cid, nurse).to_dict("records") for cid in ids]
    assert index.search_records(plain, regions=("XX",)) == []
    # adding lists validates again: a skill in both keeps its heavier entry, in its place
    heavier = Requirements.from_rows([(0, WOUND, "wound care", "essential", 3.0)])
    both = plain + heavier
    assert both.uris == (*[u for u in plain.uris if u != WOUND], WOUND)
    assert both.weights[-1] == 3.0
    with pytest.raises(ValueError, match="unknown skill URI"):
        Requirements.from_skills({WOUND: "wound care"}, [WOUND, SKILL + "nope"])


# --- a random index against brute force ---------------------------------------------------------

@pytest.fixture(scope="module")
def random_warehouse() -> tuple[duckdb.DuckDBPyConnection, dict[str, pd.DataFrame]]:
    """20,000 candidates, 300 skills, 200 credentials from numpy, written into DuckDB."""
    rng = np.random.default_rng(7)
    n_cand, n_skill, n_cred = 20_000, 300, 200
    skills = np.array([f"{SKILL}r{i:03d}" for i in range(n_skill)], dtype=object)
    creds = np.array([f"mc-{i:03d}" for i in range(n_cred)], dtype=object)
    ids = np.array([f"syn-{i:06d}" for i in rng.permutation(n_cand) + 1], dtype=object)
    per_cred = rng.integers(2, 9, n_cred)
    credential_skill = pd.DataFrame({
        "credential_id": np.repeat(creds, per_cred),
        "outcome_no": 1,
        "skill_uri": skills[rng.integers(0, n_skill, per_cred.sum())],
        "skill_label": "x", "score": 0.5,
        "accepted": rng.random(per_cred.sum()) < 0.8,
    })
    per_cand = rng.integers(0, 4, n_cand)
    candidate_credential = pd.DataFrame({
        "candidate_id": np.repeat(ids, per_cand),
        "credential_id": creds[rng.integers(0, n_cred, per_cand.sum())], "source": "t"})
    declared = rng.integers(0, 7, n_cand)
    uris = skills[rng.integers(0, n_skill, declared.sum())]
    uris[rng.random(len(uris)) < 0.05] = None
    candidate_skill = pd.DataFrame({"candidate_id": np.repeat(ids, declared), "skill": "x",
                                    "skill_uri": uris, "source": "t"})
    regions = np.array(["NL329", "NL321", "NL411", "BE211", "DE300"], dtype=object)
    candidate = pd.DataFrame({"candidate_id": ids, "source": "t",
                              "region": regions[rng.integers(0, 5, n_cand)],
                              "current_occupation": NURSE, "synthetic": True})
    credential = pd.DataFrame({"credential_id": creds, "title": [f"course {c}" for c in creds]})
    con = duckdb.connect(":memory:")
    tables = {"candidate": candidate, "candidate_credential": candidate_credential,
              "candidate_skill": candidate_skill, "credential_skill": credential_skill,
              "credential": credential}
    for name, frame in tables.items():
        con.register("frame", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
        con.unregister("frame")
    return con, tables


def _brute_force(tables: dict[str, pd.DataFrame], requirements: pd.DataFrame,
                 regions: tuple[str, ...]) -> pd.DataFrame:
    """Scores by plain pandas joins, sorted as the spec says."""
    taught = tables["credential_skill"][tables["credential_skill"]["accepted"]]
    via_credential = tables["candidate_credential"].merge(taught, on="credential_id")
    declared = tables["candidate_skill"].dropna(subset=["skill_uri"])
    holdings = pd.concat([via_credential[["candidate_id", "skill_uri"]],
                          declared[["candidate_id", "skill_uri"]]]).drop_duplicates()
    hits = holdings.merge(requirements, on="skill_uri")
    hits = hits.assign(essential=hits["importance"] == "essential")
    per = hits.groupby("candidate_id").agg(matched=("weight", "sum"),
                                           essential_matched=("essential", "sum"))
    per["score"] = (per["matched"] / requirements["weight"].sum()).round(9)
    per = per[per["score"] > 0].join(tables["candidate"].set_index("candidate_id")["region"])
    if regions:
        per = per[per["region"].str.startswith(regions)]
    per = per.reset_index().sort_values(["score", "essential_matched", "candidate_id"],
                                        ascending=[False, False, True])
    return per.reset_index(drop=True)


def test_random_index_matches_brute_force(random_warehouse) -> None:
    con, tables = random_warehouse
    index = TalentIndex.load(con)
    assert index.n_candidates == 20_000
    rng = np.random.default_rng(11)
    picked = rng.choice(300, 25, replace=False)
    requirements = pd.DataFrame({
        "skill_uri": [f"{SKILL}r{i:03d}" for i in picked],
        "skill_label": [f"skill {i}" for i in picked],
        "importance": np.where(rng.random(25) < 0.6, "essential", "optional"),
        "weight": rng.choice([1.0, 0.5, 0.3, 0.7], 25),
    })
    for regions in ((), ("NL3",), ("BE211", "DE")):
        expected = _brute_force(tables, requirements, regions)
        assert len(expected) > 1000
        full = index.search(requirements, regions=regions, top_k=100_000)
        assert full["candidate_id"].tolist() == expected["candidate_id"].tolist()
        assert full["score"].to_numpy() == pytest.approx(expected["score"].to_numpy(), abs=1e-9)
        assert full["essential_matched"].tolist() == expected["essential_matched"].tolist()
        for top_k in (1, 7, 50, 333):  # selection with ties at the cut must agree too
            head = index.search(requirements, regions=regions, top_k=top_k)
            assert head["candidate_id"].tolist() == full["candidate_id"].head(top_k).tolist()
    # lists for one candidate against its explanation
    row = full.iloc[0]
    why = index.explain(row["candidate_id"], requirements)
    assert row["matched_skills"] == why.loc[why["matched"], "skill_label"].tolist()
    assert row["missing_skill_uris"] == why.loc[~why["matched"], "skill_uri"].tolist()
