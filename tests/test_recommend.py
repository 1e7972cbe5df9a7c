"""Micro-credential recommendations: the catalogue (ECTS estimates), held skills, the skill
gap, ranking by gap weight per ECTS and the budgeted stackable path, over a hand-built DuckDB
catalogue whose right answers are worked out in the docstrings."""

from __future__ import annotations

import itertools
import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from skillmatch.matching import REQUIREMENT_COLUMNS
from skillmatch.recommend import (
    DEFAULT_ECTS,
    HOURS_PER_ECTS,
    PATH_COLUMNS,
    RANK_COLUMNS,
    Catalogue,
    credentials_for_missing,
    held_skills,
    load_catalogue,
    rank_credentials,
    skill_gap,
    stackable_path,
)

SKILL = "http://data.europa.eu/esco/skill/"
G1, G2, G3, G4, G5, FIRST_AID, TRIAGE = (SKILL + s for s in
                                         ("g1", "g2", "g3", "g4", "g5", "x", "y"))
LABELS = {G1: "hand hygiene", G2: "patient communication", G3: "wound care",
          G4: "medication administration", G5: "digital literacy"}

SCHEMA = """
CREATE TABLE esco_skill(uri VARCHAR, preferred_label VARCHAR);
CREATE TABLE credential(credential_id VARCHAR, source VARCHAR, title VARCHAR, provider VARCHAR,
                        ects DOUBLE, eqf_level BIGINT, study_load_hours DOUBLE, url VARCHAR,
                        stackable_with VARCHAR[]);
CREATE TABLE credential_skill(credential_id VARCHAR, outcome_no BIGINT, skill_uri VARCHAR,
                              skill_label VARCHAR, score DOUBLE, accepted BOOLEAN);
CREATE TABLE credential_stack(credential_id VARCHAR, stackable_with VARCHAR,
                              target_known BOOLEAN);
"""


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """Eight credentials (ECTS, what they teach):
      mc-a 'Hygiene essentials'        1          hand hygiene
      mc-b 'Clinical skills'           10         communication, wound care, medication,
                                                  digital literacy; mc-f builds on it
      mc-c 'Digital care'              5 (default) digital literacy
      mc-d 'Communication workshop'    2 (56 h)   communication (its hygiene link not accepted)
      mc-e 'Wound care refresher'      3          wound care
      mc-f 'Hygiene and communication' 2          hand hygiene, communication
      mc-g 'Hand hygiene online'       1 (ects 0, 28 h)  hand hygiene
      mc-h 'First aid'                 4          first aid (not in the gap)
    """
    con = duckdb.connect(":memory:")
    con.execute(SCHEMA)
    con.executemany("INSERT INTO esco_skill VALUES (?, ?)",
                    [*LABELS.items(), (FIRST_AID, "first aid"), (TRIAGE, "triage")])
    con.executemany("INSERT INTO credential VALUES (?, 'demo', ?, ?, ?, ?, ?, ?, ?)", [
        ("mc-a", "Hygiene essentials", "ROC A", 1.0, 3, None, "https://a", []),
        ("mc-b", "Clinical skills", "HAN", 10.0, 5, 280.0, None, ["mc-f", "mc-missing"]),
        ("mc-c", "Digital care", "ROC A", None, None, None, None, None),
        ("mc-d", "Communication workshop", "HAN", None, 4, 56.0, None, []),
        ("mc-e", "Wound care refresher", "HAN", 3.0, 5, None, None, []),
        ("mc-f", "Hygiene and communication", "ROC B", 2.0, 4, None, None, []),
        ("mc-g", "Hand hygiene online", "ROC B", 0.0, None, 28.0, None, []),
        ("mc-h", "First aid", "ROC B", 4.0, 3, None, None, []),
    ])
    con.executemany("INSERT INTO credential_skill VALUES (?, ?, ?, ?, 0.9, ?)", [
        ("mc-a", 1, G1, "Hygiene (hands)", True),
        ("mc-a", 2, G1, "hand washing", True),
        ("mc-b", 1, G2, "communication", True), ("mc-b", 2, G3, "wounds", True),
        ("mc-b", 3, G4, "medication", True), ("mc-b", 4, G5, "digital", True),
        ("mc-c", 1, G5, "digital", True),
        ("mc-d", 1, G2, "communication", True), ("mc-d", 2, G1, "hygiene", False),
        ("mc-e", 1, G3, "wound care", True),
        ("mc-f", 1, G1, "hygiene", True), ("mc-f", 2, G2, "communication", True),
        ("mc-g", 1, G1, "hygiene", True),
        ("mc-h", 1, FIRST_AID, "first aid", True),
        ("mc-unknown", 1, G4, "medication", True),  # not in the catalogue: ignored
    ])
    con.executemany("INSERT INTO credential_stack VALUES (?, ?, ?)",
                    [("mc-b", "mc-f", True), ("mc-b", "mc-missing", False)])
    return load_catalogue(con)


@pytest.fixture(scope="module")
def gap() -> pd.DataFrame:
    """Total weight 5.5: four essentials (medication weighted 2 by the employer) and one
    optional skill at 0.5."""
    return pd.DataFrame({"skill_uri": [G1, G2, G3, G4, G5],
                         "skill_label": [LABELS[u] for u in (G1, G2, G3, G4, G5)],
                         "importance": ["essential"] * 4 + ["optional"],
                         "weight": [1.0, 1.0, 1.0, 2.0, 0.5]}, columns=REQUIREMENT_COLUMNS)


# --- catalogue ------------------------------------------------------------------------------

def test_catalogue_fills_ects_from_hours_or_default(catalogue: Catalogue) -> None:
    creds = catalogue.credentials.set_index("credential_id")
    assert creds.index.tolist() == [f"mc-{c}" for c in "abcdefgh"]
    assert creds["ects"].to_dict() == {"mc-a": 1.0, "mc-b": 10.0, "mc-c": DEFAULT_ECTS,
                                       "mc-d": 56.0 / HOURS_PER_ECTS, "mc-e": 3.0,
                                       "mc-f": 2.0, "mc-g": 1.0, "mc-h": 4.0}
    assert creds["ects"]["mc-d"] == 2.0
    assert creds.index[creds["ects_estimated"]].tolist() == ["mc-c", "mc-d", "mc-g"]
    assert creds.loc["mc-b", "stackable_with"] == ["mc-f", "mc-missing"]
    assert creds.loc["mc-c", "stackable_with"] == []
    assert pd.isna(creds.loc["mc-c", "eqf_level"]) and creds.loc["mc-b", "eqf_level"] == 5
    assert catalogue.stack.to_dict("list") == {"credential_id": ["mc-b"],
                                               "stackable_with": ["mc-f"]}


def test_catalogue_skills_are_accepted_distinct_and_esco_labelled(catalogue: Catalogue) -> None:
    skills = catalogue.skills
    assert skills[skills["credential_id"] == "mc-a"].to_dict("list") == {
        "credential_id": ["mc-a"], "skill_uri": [G1], "skill_label": ["hand hygiene"]}
    assert skills[skills["credential_id"] == "mc-d"]["skill_uri"].tolist() == [G2]
    assert skills[skills["credential_id"] == "mc-b"]["skill_uri"].tolist() == [G2, G3, G4, G5]
    assert "mc-unknown" not in set(skills["credential_id"])
    assert len(skills) == 12


# --- held skills and the gap ----------------------------------------------------------------

def test_held_skills_from_credentials_and_declarations(catalogue: Catalogue) -> None:
    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE esco_skill(uri VARCHAR, preferred_label VARCHAR)")
    con.execute("INSERT INTO esco_skill VALUES (?, 'triage')", [TRIAGE])
    held = held_skills(catalogue, ["mc-a"], [G3, G1, FIRST_AID, TRIAGE, "urn:odd"], con)
    assert held.to_dict("list") == {
        "skill_uri": [G1, G3, FIRST_AID, TRIAGE, "urn:odd"],
        "skill_label": ["hand hygiene", "wound care", "first aid", "triage", "urn:odd"],
        "via": ["credential mc-a; declared", "declared", "declared", "declared", "declared"],
    }
    assert held_skills(catalogue, [], [TRIAGE])["skill_label"].tolist() == [TRIAGE]
    both = held_skills(catalogue, ["mc-f", "mc-a"], [])
    assert both["via"].tolist() == ["credential mc-f; credential mc-a",
                                    "credential mc-f"]


def test_held_skills_unknown_credentials_are_named(catalogue: Catalogue) -> None:
    with pytest.raises(ValueError) as error:
        held_skills(catalogue, ["mc-zzz", "mc-a", "mc-yyy"], [])
    assert "mc-zzz" in str(error.value) and "mc-yyy" in str(error.value)
    assert "mc-a," not in str(error.value)


def test_skill_gap_keeps_target_rows_not_held(catalogue: Catalogue, gap: pd.DataFrame) -> None:
    held = held_skills(catalogue, ["mc-a"], [G3])
    result = skill_gap(gap, held)
    assert list(result.columns) == REQUIREMENT_COLUMNS
    assert result.to_dict("list") == {
        "skill_uri": [G2, G4, G5],
        "skill_label": ["patient communication", "medication administration",
                        "digital literacy"],
        "importance": ["essential", "essential", "optional"], "weight": [1.0, 2.0, 0.5]}
    assert skill_gap(gap, held_skills(catalogue, ["mc-b", "mc-f"], [])).empty


# --- ranking ----------------------------------------------------------------------------------

def test_rank_credentials_by_weight_per_ects(catalogue: Catalogue, gap: pd.DataFrame) -> None:
    ranked = rank_credentials(gap, catalogue)
    assert list(ranked.columns) == RANK_COLUMNS
    # f, a, g all give 1.0 per ECTS: f covers more weight; a and g tie -> id order.
    assert ranked["credential_id"].tolist() == ["mc-f", "mc-a", "mc-g", "mc-d", "mc-b",
                                                "mc-e", "mc-c"]
    assert ranked["weight_per_ects"].tolist() == pytest.approx(
        [1.0, 1.0, 1.0, 0.5, 0.45, 1 / 3, 0.1])
    assert ranked["covered_weight"].tolist() == [2.0, 1.0, 1.0, 1.0, 4.5, 1.0, 0.5]
    assert ranked["covered_share"].tolist() == pytest.approx(
        [2 / 5.5, 1 / 5.5, 1 / 5.5, 1 / 5.5, 4.5 / 5.5, 1 / 5.5, 0.5 / 5.5])
    b = ranked.set_index("credential_id").loc["mc-b"]
    assert b["covers"] == ["patient communication", "wound care", "medication administration",
                           "digital literacy"]
    assert (b["title"], b["provider"], b["ects"], b["ects_estimated"]) == \
        ("Clinical skills", "HAN", 10.0, False)
    assert ranked.set_index("credential_id").loc["mc-g", "ects_estimated"]


def test_rank_credentials_excludes_held_and_cuts(catalogue: Catalogue,
                                                 gap: pd.DataFrame) -> None:
    ranked = rank_credentials(gap, catalogue, exclude=["mc-f", "mc-a"], top_k=3)
    assert ranked["credential_id"].tolist() == ["mc-g", "mc-d", "mc-b"]
    held = held_skills(catalogue, ["mc-a"], [G3])
    rest = rank_credentials(skill_gap(gap, held), catalogue, exclude=["mc-a"])
    # d and f both cover communication for 2 ECTS: same value -> id order
    assert rest["credential_id"].tolist() == ["mc-d", "mc-f", "mc-b", "mc-c"]
    assert rest["covers"].tolist()[2] == ["patient communication", "medication administration",
                                          "digital literacy"]
    with pytest.raises(ValueError, match="top_k"):
        rank_credentials(gap, catalogue, top_k=0)


def test_credentials_for_missing_skills(catalogue: Catalogue) -> None:
    best = credentials_for_missing([G4, G5, "urn:nobody-teaches-this", G4], catalogue)
    assert list(best.columns) == RANK_COLUMNS
    # b: 2 skills / 10 ECTS, c: 1 skill / 5 ECTS -> equal value, b covers more
    assert best["credential_id"].tolist() == ["mc-b", "mc-c"]
    assert best.iloc[0]["covers"] == ["medication administration", "digital literacy"]
    assert best["covered_share"].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert credentials_for_missing([G1], catalogue, top_k=1)["credential_id"].tolist() == \
        ["mc-a"]
    assert credentials_for_missing([G1], catalogue, exclude=["mc-a"],
                                   top_k=1)["credential_id"].tolist() == ["mc-g"]


# --- the stackable path ---------------------------------------------------------------------

def test_path_prefers_best_single_when_greedy_is_crowded_out(catalogue: Catalogue,
                                                             gap: pd.DataFrame) -> None:
    """Budget 10. Greedy per ECTS takes f (1.0/ECTS), then e (1/3), then c (0.1): 10 ECTS
    for 3.5 of 5.5, and b (0.45/ECTS at the start) no longer fits. b alone covers 4.5, so b."""
    path = stackable_path(gap, catalogue, 10)
    assert list(path.columns) == PATH_COLUMNS
    assert path.attrs["strategy"] == "best_single"
    assert path["credential_id"].tolist() == ["mc-b"]
    row = path.iloc[0]
    assert (row["step"], row["title"], row["ects"], row["cumulative_ects"]) == \
        (1, "Clinical skills", 10.0, 10.0)
    assert row["new_skills"] == ["patient communication", "wound care",
                                 "medication administration", "digital literacy"]
    assert row["covered_weight_after"] == pytest.approx(4.5 / 5.5)
    assert row["reason"] == (
        "Adds 4 missing skills (patient communication, wound care, medication administration, "
        "digital literacy) for 10 ECTS; on its own it covers more of the gap than the "
        "best-value combination that fits the budget.")
    # with 9 ECTS b does not fit: the greedy path (f then e) is kept
    nine = stackable_path(gap, catalogue, 9)
    assert nine.attrs["strategy"] == "greedy"
    assert nine["credential_id"].tolist() == ["mc-f", "mc-e"]
    assert nine["cumulative_ects"].tolist() == [2.0, 5.0]
    assert nine["covered_weight_after"].tolist() == pytest.approx([2 / 5.5, 3 / 5.5])


def test_path_orders_stackable_steps(catalogue: Catalogue, gap: pd.DataFrame) -> None:
    """Budget 12. Greedy takes f (2 ECTS), then b (3.5 new for 10 ECTS beats e's 1 for 3):
    the whole gap. f builds on b (b lists f), so b comes first, and f then only adds hand
    hygiene."""
    path = stackable_path(gap, catalogue, 12)
    assert path.attrs["strategy"] == "greedy"
    assert path["credential_id"].tolist() == ["mc-b", "mc-f"]
    assert path["step"].tolist() == [1, 2]
    assert path["cumulative_ects"].tolist() == [10.0, 12.0]
    assert path["new_skills"].tolist() == [
        ["patient communication", "wound care", "medication administration",
         "digital literacy"], ["hand hygiene"]]
    assert path["covered_weight_after"].tolist() == pytest.approx([4.5 / 5.5, 1.0])
    assert path.iloc[1]["reason"] == ("Adds 1 missing skill (hand hygiene) for 2 ECTS; "
                                      "builds on Clinical skills.")
    assert "builds on" not in path.iloc[0]["reason"]
    # a cycle in the links cannot hide a step: greedy order is kept
    looped = Catalogue(credentials=catalogue.credentials,
                       skills=catalogue.skills,
                       stack=pd.DataFrame({"credential_id": ["mc-b", "mc-f"],
                                           "stackable_with": ["mc-f", "mc-b"]}))
    assert stackable_path(gap, looped, 12)["credential_id"].tolist() == ["mc-f", "mc-b"]


def test_path_respects_budget_and_guarantee(catalogue: Catalogue, gap: pd.DataFrame) -> None:
    """Against the optimum over all subsets: within budget and at least (1 - 1/e) / 2 of it."""
    ects = catalogue.credentials.set_index("credential_id")["ects"]
    teaches = catalogue.skills.groupby("credential_id")["skill_uri"].apply(set)
    weight = dict(zip(gap["skill_uri"], gap["weight"], strict=True))
    useful = [c for c in ects.index if teaches.get(c, set()) & set(weight)]

    def covered(chosen: list[str]) -> float:
        return sum(weight[s] for s in set().union(*(teaches[c] for c in chosen)) & set(weight))

    for budget in (0.5, 1, 1.5, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 15, 20, 30):
        optimum = max(covered(list(subset))
                      for r in range(len(useful) + 1)
                      for subset in itertools.combinations(useful, r)
                      if sum(ects[c] for c in subset) <= budget)
        path = stackable_path(gap, catalogue, budget)
        chosen = path["credential_id"].tolist()
        assert len(set(chosen)) == len(chosen)
        assert sum(ects[c] for c in chosen) <= budget
        got = covered(chosen) if chosen else 0.0
        assert got >= (1 - 1 / math.e) / 2 * optimum - 1e-9
        if chosen:
            assert path["cumulative_ects"].iloc[-1] == pytest.approx(sum(ects[c] for c in chosen))
            assert path["covered_weight_after"].iloc[-1] == pytest.approx(got / 5.5)
            assert np.all(np.diff(path["covered_weight_after"]) >= 0)
    assert stackable_path(gap, catalogue, 30)["covered_weight_after"].iloc[-1] == 1.0


def test_path_excludes_held_credentials(catalogue: Catalogue, gap: pd.DataFrame) -> None:
    path = stackable_path(gap, catalogue, 12, exclude=["mc-f", "mc-b"])
    # a (1/ECTS, id before g), d (0.5), e (1/3), c (0.1): 11 ECTS
    assert path["credential_id"].tolist() == ["mc-a", "mc-d", "mc-e", "mc-c"]
    assert path["reason"].iloc[1] == ("Adds 1 missing skill (patient communication) for 2 ECTS.")


def test_path_empty_cases(catalogue: Catalogue, gap: pd.DataFrame) -> None:
    empty_gap = gap.iloc[0:0]
    for result in (stackable_path(empty_gap, catalogue, 10),
                   stackable_path(gap, catalogue, 0.5),  # nothing fits
                   stackable_path(gap.assign(weight=0.0), catalogue, 10)):
        assert result.empty and list(result.columns) == PATH_COLUMNS
    assert rank_credentials(empty_gap, catalogue).empty
    assert list(rank_credentials(empty_gap, catalogue).columns) == RANK_COLUMNS
    for budget in (0, -2, float("nan")):
        with pytest.raises(ValueError, match="budget_ects"):
            stackable_path(gap, catalogue, budget)
