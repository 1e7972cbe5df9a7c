"""Curriculum planning: module proposals from co-demanded, untaught skills.

The hand-built warehouse: nursing vacancies v01-v06 (sector Q, shortage weight 2, NL32) ask
for A, B, C and G together; welding vacancies v07-v14 (sector C, weight 1, NL41) ask for D, E,
F; v15-v19 ask for H alone (no quarter, no sector). G is taught by a credential, H means the
same as A ("prevent infections"), Z is only an unaccepted mapping. Quarters: 2024Q1 holds v01-v02
and v07-v10 (6 vacancies), 2024Q2 holds v03-v06 and v11-v14 (8).
"""

from __future__ import annotations

import time

import duckdb
import numpy as np
import pandas as pd
import pytest

from skillmatch.analytics import DemandFilter
from skillmatch.planning import (
    CREDENTIAL_COLUMNS,
    EVIDENCE_COLUMNS,
    SKILL_COLUMNS,
    ModuleProposal,
    propose_modules,
    uncovered_skills,
)

SKILLS = {
    "a": "infection prevention and control", "b": "wound care", "c": "manage patient hygiene",
    "d": "weld metal parts", "e": "read blueprints", "f": "use welding equipment",
    "g": "communicate with patients", "h": "prevent infections",
    "k": "apply health and safety standards", "m": "weld safely", "z": "drive forklift",
}
URI = {key: f"http://data.europa.eu/esco/skill/{key}" for key in SKILLS}


def _vacancy(n: int, sector: str, quarter: str, nuts2: str, isco: str | None,
             occupation: str | None, accepted: bool, employer: str) -> dict:
    return {"vacancy_id": f"v{n:02d}", "source": "test", "title": f"Job {n}",
            "description": "", "employer": employer, "posted_date": pd.Timestamp("2024-01-15"),
            "country": "NL", "sector_code": sector, "quarter": quarter, "nuts3": nuts2 + "9",
            "nuts2": nuts2, "labour_market_region": "LMR" + nuts2[-1], "duplicate_count": 0,
            "occupation_uri": occupation and f"occ/{occupation}", "occupation_label": occupation,
            "isco_code": isco, "occupation_accepted": accepted, "skill_count": 3}


def _build(con: duckdb.DuckDBPyConnection, *, credentials: bool = True) -> None:
    vacancies, mentions = [], []

    def mention(n: int, key: str, accepted: bool = True, score: float = 0.8,
                evidence: str | None = None) -> None:
        mentions.append({"vacancy_id": f"v{n:02d}", "skill_uri": URI[key],
                         "skill_label": SKILLS[key], "skill_type": "skill/competence",
                         "score": score, "accepted": accepted, "found_by": "test",
                         "evidence": evidence or f"v{n:02d} needs {SKILLS[key]}.",
                         "phrase": SKILLS[key], "source": "test"})

    for n in range(1, 7):
        isco, occupation = ("2221", "nurse") if n <= 4 else ("3221", "nursing associate")
        vacancies.append(_vacancy(n, "Q", "2024Q1" if n <= 2 else "2024Q2", "NL32", isco,
                                  occupation, n != 6, "Zorg BV" if n <= 3 else "Kliniek NV"))
        for key in "abcg":
            mention(n, key)
    mention(1, "a", score=0.95, evidence="Strict infection control on our ward.")  # twice
    for n in range(7, 15):
        vacancies.append(_vacancy(n, "C", "2024Q1" if n <= 10 else "2024Q2", "NL41", "7212",
                                  "welder", True, "Metaal BV"))
        for key in "def":
            mention(n, key)
        mention(n, "z", accepted=False)
    for n in range(15, 20):
        vacancies.append(_vacancy(n, "", "", "NL32", None, None, False, "Uitzend BV"))
        mention(n, "h")
    vacancy = pd.DataFrame(vacancies)  # noqa: F841 (read by DuckDB)
    vacancy_skill = pd.DataFrame(mentions)  # noqa: F841
    esco_skill = pd.DataFrame({"uri": list(URI.values()),  # noqa: F841
                               "preferred_label": list(SKILLS.values()),
                               "skill_type": "skill/competence", "reuse_level": "x"})
    shortage_sector = pd.DataFrame({  # noqa: F841
        "sector_code": ["Q", "C", "Q"], "sector_level": ["section", "section", "total"],
        "quarter": ["2024Q1", "2024Q1", "2024Q1"], "open_vacancies": [10.0, 5.0, 99.0],
        "shortage_weight": [2.0, 1.0, 9.0]})
    for name in ("vacancy", "vacancy_skill", "esco_skill", "shortage_sector"):
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}")
    if not credentials:
        return
    credential = pd.DataFrame({  # noqa: F841
        "credential_id": ["cr1", "cr2", "cr3"], "source": "test",
        "title": ["Patient communication", "Welding basics", "Infection control course"],
        "provider": ["ROC Zorg", "ROC Techniek", "Hogeschool"], "ects": [4.0, 5.0, 3.0],
        "eqf_level": [4, 3, 5]})
    links = [("cr1", "g"), ("cr1", "k"), ("cr2", "k"), ("cr2", "m")]
    credential_skill = pd.DataFrame({  # noqa: F841
        "credential_id": [c for c, _ in links], "outcome_no": 1,
        "skill_uri": [URI[k] for _, k in links], "skill_label": [SKILLS[k] for _, k in links],
        "score": 0.9, "accepted": True, "found_by": "test", "source": "test"})
    con.execute("CREATE TABLE credential AS SELECT * FROM credential")
    con.execute("CREATE TABLE credential_skill AS SELECT * FROM credential_skill")


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    """Shared by the tests below, which only read it."""
    con = duckdb.connect(":memory:")
    _build(con)
    return con


def _bundle(p: ModuleProposal) -> set[str]:
    return {uri.rsplit("/", 1)[1] for uri in p.skills["skill_uri"]}


def embed(labels: list[str]) -> np.ndarray:
    """Hand-made unit vectors: 'prevent infections' and the infection-control course title
    mean the same as 'infection prevention and control'; every other label its own axis."""
    axis = {label: i for i, label in enumerate(SKILLS.values())}
    axis["prevent infections"] = axis["Infection control course"] = 0
    vectors = np.zeros((len(labels), len(SKILLS) + 1))
    for row, label in enumerate(labels):
        vectors[row, axis.get(label, len(SKILLS))] = 1.0
    return vectors


# --- uncovered skills -------------------------------------------------------------------------

def test_uncovered_skills_counts_weights_growth_and_excludes_taught_ones(con) -> None:
    table = uncovered_skills(con, DemandFilter())
    assert list(table.columns) == SKILL_COLUMNS
    assert [u.rsplit("/", 1)[1] for u in table["skill_uri"]] == list("abcdefh")
    a, d, h = (table.iloc[i] for i in (0, 3, 6))
    assert (a["skill"], a["vacancies"], a["weighted_demand"], a["credentials"]) == \
        ("infection prevention and control", 6, 12.0, 0)  # the duplicate mention counts once
    assert a["growth_pct"] == 50.0  # 4/8 of 2024Q2 against 2/6 of 2024Q1
    assert (d["vacancies"], d["weighted_demand"], d["growth_pct"]) == (8, 8.0, -25.0)
    assert (h["vacancies"], h["weighted_demand"]) == (5, 5.0)  # unknown sector weighs 1
    assert np.isnan(h["growth_pct"])  # never in a quarter


def test_uncovered_skills_thresholds_and_limit(con) -> None:
    with_taught = uncovered_skills(con, DemandFilter(), max_credentials=1)
    assert URI["g"] in set(with_taught["skill_uri"])
    g = with_taught.set_index("skill_uri").loc[URI["g"]]
    assert (g["credentials"], g["vacancies"]) == (1, 6)
    assert list(uncovered_skills(con, DemandFilter(), min_vacancies=7)["skill_uri"]) == \
        [URI[k] for k in "def"]
    assert len(uncovered_skills(con, DemandFilter(), limit=2)) == 2


# --- proposals --------------------------------------------------------------------------------

def test_two_co_demanded_bundles_ranked_by_shortage_weighted_score(con) -> None:
    proposals = propose_modules(con, DemandFilter())
    assert [_bundle(p) for p in proposals] == [set("abc"), set("def")]  # no G, no lone H
    first, second = proposals
    assert (first.rank, second.rank) == (1, 2)
    assert first.title == "Infection prevention and control & wound care"
    # fewer vacancies (6 vs 8) but twice the shortage weight and growing
    assert (first.vacancies, first.weighted_demand, first.mean_shortage_weight) == (6, 12.0, 2.0)
    assert (first.growth_pct, first.score) == (50.0, 18.0)
    assert (second.vacancies, second.weighted_demand, second.mean_shortage_weight) == \
        (8, 8.0, 1.0)
    assert (second.growth_pct, second.score) == (-25.0, 6.0)
    assert list(first.skills.columns) == SKILL_COLUMNS
    assert list(first.skills["skill"]) == [SKILLS[k] for k in "abc"]


@pytest.mark.parametrize(("quarter", "extra", "growth", "scores"), [
    # 10 ads without these skills in 2024Q1: shares 2/16 -> 4/8 (+300) and 4/16 -> 4/8 (+100)
    ("2024Q1", 10, (300.0, 100.0), (18.0, 12.0)),
    # 20 in 2024Q2: 2/6 -> 4/28 (-57.1) and 4/6 -> 4/28 (-78.6)
    ("2024Q2", 20, (-57.1, -78.6), (6.0, 4.0)),
])
def test_growth_is_on_shares_and_clipped_in_the_score(quarter: str, extra: int,
                                                      growth: tuple, scores: tuple) -> None:
    con = duckdb.connect(":memory:")
    _build(con)
    con.execute("""INSERT INTO vacancy SELECT v.* REPLACE ('w' || i AS vacancy_id, ? AS quarter)
                   FROM vacancy v, range(?) t(i) WHERE vacancy_id = 'v15'""", [quarter, extra])
    proposals = propose_modules(con, DemandFilter())
    assert tuple(p.growth_pct for p in proposals) == growth
    # weighted demand x (1 + growth clipped to -50..+50 %)
    assert tuple(p.score for p in proposals) == scores


def test_eqf_ects_occupations_sectors_regions(con) -> None:
    nursing, welding = propose_modules(con, DemandFilter())
    # accepted occupations weighted by shortage: EQF 6 (ISCO 2) x 4 beats EQF 5 (ISCO 3) x 1
    assert (nursing.suggested_eqf, welding.suggested_eqf) == (6, 4)
    # median ECTS per taught skill: cr1 4/2, cr2 5/2 -> 2.25; 3 skills -> 6.75 -> 7
    assert nursing.suggested_ects == welding.suggested_ects == 7.0
    assert nursing.occupations.to_dict("records") == [
        {"occupation_label": "nurse", "isco_code": "2221", "vacancies": 4},
        {"occupation_label": "nursing associate", "isco_code": "3221", "vacancies": 1}]
    assert nursing.sectors.to_dict("records") == [{"sector_code": "Q", "vacancies": 6}]
    assert welding.regions.to_dict("records") == [{"region": "NL41", "vacancies": 8}]
    by_nuts3 = propose_modules(con, DemandFilter(region_level="nuts3"))
    assert by_nuts3[0].regions.to_dict("records") == [{"region": "NL329", "vacancies": 6}]


def test_evidence_takes_one_vacancy_per_employer_first(con) -> None:
    evidence = propose_modules(con, DemandFilter())[0].evidence
    assert list(evidence.columns) == EVIDENCE_COLUMNS
    assert list(evidence["vacancy_id"]) == ["v01", "v04", "v02"]
    assert list(evidence["employer"]) == ["Zorg BV", "Kliniek NV", "Zorg BV"]
    assert set(evidence["skill"]) == {SKILLS["a"]}
    assert evidence["evidence"].iloc[0] == "Strict infection control on our ward."  # best score
    assert evidence["title"].iloc[1] == "Job 4"


def test_nearest_credential_by_shared_skills(con) -> None:
    nursing, welding = propose_modules(con, DemandFilter(), max_credentials=1)
    assert _bundle(nursing) == set("abcg")
    assert nursing.suggested_ects == 9.0  # 4 x 2.25
    nearest = nursing.nearest_credentials
    assert list(nearest.columns) == CREDENTIAL_COLUMNS
    assert nearest.to_dict("records") == [{
        "credential_id": "cr1", "title": "Patient communication", "provider": "ROC Zorg",
        "ects": 4.0, "shared_skills": ["communicate with patients"],
        "similarity": round(1 / np.sqrt(4 * 2), 3)}]
    assert welding.nearest_credentials.empty
    row = nursing.summary()
    assert (row["rank"], row["n_skills"], row["nearest_credential"], row["nearest_similarity"]) \
        == (1, 4, "Patient communication", 0.354)
    # default: only untaught skills, so no credential shares one
    assert propose_modules(con, DemandFilter())[0].nearest_credentials.empty


def test_summary_is_one_flat_row(con) -> None:
    row = propose_modules(con, DemandFilter())[1].summary()
    assert row == {"rank": 2, "title": "Weld metal parts & read blueprints", "n_skills": 3,
                   "skills": "weld metal parts; read blueprints; use welding equipment",
                   "vacancies": 8, "weighted_demand": 8.0, "growth_pct": -25.0,
                   "mean_shortage_weight": 1.0, "score": 6.0, "suggested_ects": 7.0,
                   "suggested_eqf": 4, "nearest_credential": None, "nearest_similarity": None}


def test_filters_narrow_the_proposals(con) -> None:
    welding = propose_modules(con, DemandFilter(regions=("NL41",)))
    assert [_bundle(p) for p in welding] == [set("def")]
    assert (welding[0].growth_pct, welding[0].score) == (0.0, 8.0)  # 4/4 against 4/4
    nursing = propose_modules(con, DemandFilter(sectors=("Q",)))
    assert [_bundle(p) for p in nursing] == [set("abc")]
    assert propose_modules(con, DemandFilter(isco_groups=("7",)))[0].suggested_eqf == 4
    one_quarter = propose_modules(con, DemandFilter(period=("2024Q2", "2024Q2")),
                                  min_vacancies=3)
    assert [(_bundle(p), p.vacancies, p.growth_pct, p.score) for p in one_quarter] == \
        [(set("abc"), 4, None, 8.0), (set("def"), 4, None, 4.0)]
    assert propose_modules(con, DemandFilter(), n=1)[0].rank == 1
    assert len(propose_modules(con, DemandFilter(), n=1)) == 1
    assert propose_modules(con, DemandFilter(regions=("XX99",))) == []


def test_bundle_size_bounds(con) -> None:
    # groups of three are too thin for a 4-skill minimum and have no bundle to join
    assert propose_modules(con, DemandFilter(), bundle_size=(4, 8)) == []
    small = propose_modules(con, DemandFilter(), bundle_size=(1, 2))
    bundles = [_bundle(p) for p in small]
    assert all(len(b) <= 2 for b in bundles)
    assert set().union(*bundles) == set("abcdefh")  # a lone skill may be a 1-skill module
    assert all(b <= set("abc") or b <= set("def") or b == {"h"} for b in bundles)
    ects = {len(p.skills): p.suggested_ects for p in small}
    assert ects == {1: 3.0, 2: 5.0}  # 2.25 -> the 3 ECTS floor; 4.5 rounds half up
    with pytest.raises(ValueError):
        propose_modules(con, DemandFilter(), bundle_size=(3, 2))


def test_embed_merges_synonyms_that_never_co_occur(con) -> None:
    assert URI["h"] not in set().union(*(set(p.skills["skill_uri"])
                                         for p in propose_modules(con, DemandFilter())))
    nursing, welding = propose_modules(con, DemandFilter(), embed=embed)
    assert (_bundle(nursing), _bundle(welding)) == (set("abch"), set("def"))
    assert (nursing.vacancies, nursing.weighted_demand, nursing.score) == (11, 17.0, 25.5)
    assert nursing.suggested_ects == 9.0
    # the course has no mapped skills: its title stands in; cosine (2,1,1)/sqrt(6) . e_a
    assert nursing.nearest_credentials[["credential_id", "shared_skills", "similarity"]] \
        .to_dict("records") == [{"credential_id": "cr3", "shared_skills": [],
                                 "similarity": round(0.5 * 2 / np.sqrt(6), 3)}]
    # with G: shared-skill overlap and label cosine blend 0.5/0.5
    nursing = propose_modules(con, DemandFilter(), max_credentials=1, embed=embed)[0]
    assert _bundle(nursing) == set("abcgh")
    assert nursing.suggested_ects == 11.0  # 5 x 2.25 = 11.25
    overlap, cosine = 1 / np.sqrt(5 * 2), 1 / (np.sqrt(7) * np.sqrt(2))  # cr1: G, K
    assert nursing.nearest_credentials[["credential_id", "shared_skills", "similarity"]] \
        .to_dict("records") == [
            {"credential_id": "cr3", "shared_skills": [],
             "similarity": round(0.5 * 2 / np.sqrt(7), 3)},
            {"credential_id": "cr1", "shared_skills": ["communicate with patients"],
             "similarity": round(0.5 * overlap + 0.5 * cosine, 3)}]


def test_deterministic(con) -> None:
    first = propose_modules(con, DemandFilter(), bundle_size=(1, 2))
    second = propose_modules(con, DemandFilter(), bundle_size=(1, 2))
    assert [p.summary() for p in first] == [p.summary() for p in second]
    assert all(a.evidence.equals(b.evidence) for a, b in zip(first, second, strict=True))


# --- empty warehouse parts --------------------------------------------------------------------

def test_empty_warehouse_gives_empty_answers() -> None:
    con = duckdb.connect(":memory:")
    assert propose_modules(con, DemandFilter()) == []
    table = uncovered_skills(con, DemandFilter())
    assert table.empty and list(table.columns) == SKILL_COLUMNS


def test_without_credential_tables() -> None:
    con = duckdb.connect(":memory:")
    _build(con, credentials=False)
    proposals = propose_modules(con, DemandFilter(), embed=embed)
    assert [_bundle(p) for p in proposals] == [set("abcgh"), set("def")]  # G untaught now
    assert proposals[1].suggested_ects == 3.0  # 3 skills x 1.0 default
    assert proposals[0].nearest_credentials.empty
    assert list(proposals[0].nearest_credentials.columns) == CREDENTIAL_COLUMNS
    con.execute("DELETE FROM vacancy_skill")
    assert propose_modules(con, DemandFilter()) == []
    assert uncovered_skills(con, DemandFilter()).empty


# --- scale ------------------------------------------------------------------------------------

def test_planted_groups_recovered_at_warehouse_scale() -> None:
    """15,000 vacancies x 19 skills (~285,000 rows): three of 60 planted 5-skill groups per
    vacancy plus 4 noise skills out of 2,000. The 200 most demanded skills are planted ones,
    so every proposal is one whole planted group; and it stays fast."""
    con = duckdb.connect(":memory:")
    con.execute("""
        CREATE TABLE vacancy AS SELECT printf('v%05d', i) AS vacancy_id, 'syn' AS source,
            'Job' AS title, '' AS description, 'Employer ' || (i % 300) AS employer,
            TIMESTAMP '2024-01-01' AS posted_date, 'NL' AS country,
            chr(CAST(65 + i % 5 AS INTEGER)) AS sector_code, '2024Q' || (1 + i % 2) AS quarter,
            'NL32' || (i % 3) AS nuts3, 'NL32' AS nuts2, 'LMR1' AS labour_market_region,
            0 AS duplicate_count, 'occ/' || (i % 40) AS occupation_uri,
            'occupation ' || (i % 40) AS occupation_label, CAST(1000 + i % 9000 AS VARCHAR)
            AS isco_code, TRUE AS occupation_accepted, 19 AS skill_count
        FROM range(15000) t(i)""")
    con.execute("""
        CREATE TABLE vacancy_skill AS
        WITH groups AS (SELECT i, hash(i, k) % 60 AS grp FROM range(15000) t(i),
                        range(3) s(k)),
             planted AS (SELECT i, 'p' || grp || '-' || j AS skill FROM groups, range(5) u(j)),
             noise AS (SELECT i, 'n' || (hash(i, k, 7) % 2000) AS skill
                       FROM range(15000) t(i), range(4) s(k))
        SELECT printf('v%05d', i) AS vacancy_id, 'skill/' || skill AS skill_uri,
               skill AS skill_label, 'skill/competence' AS skill_type, 0.8 AS score,
               TRUE AS accepted, 'syn' AS found_by, 'A sentence.' AS evidence,
               skill AS phrase, 'syn' AS source
        FROM (SELECT * FROM planted UNION ALL SELECT * FROM noise)""")
    rows = con.execute("SELECT count(*) FROM vacancy_skill").fetchone()[0]
    assert rows == 15000 * 19
    start = time.perf_counter()
    proposals = propose_modules(con, DemandFilter())
    elapsed = time.perf_counter() - start
    assert len(proposals) == 10
    for p in proposals:
        groups = {s.split("-")[0] for s in p.skills["skill"]}
        assert len(groups) == 1 and next(iter(groups)).startswith("p")
        assert len(p.skills) == 5
    assert [p.score for p in proposals] == sorted((p.score for p in proposals), reverse=True)
    assert elapsed < 3.0, f"propose_modules took {elapsed:.2f} s"  # budget 1.5 s, slack for CI
