"""Dashboard analytics on a hand-built warehouse whose right answers are worked out below
(and in docs/gap_index.md): shortage weights, filters, trends, emerging skills, collection
shares and the gap index per area."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest

from skillmatch import analytics
from skillmatch.analytics import DemandFilter

S1, S2, S3 = (f"http://data.europa.eu/esco/skill/s{i}" for i in (1, 2, 3))


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """Four vacancies in two NUTS 2 regions, two sectors, two quarters; three skills.

    Shortage weights (as-of the vacancy's quarter): v1 Q 2020Q1 = 1.0, v2 Q 2020Q2 = 2.0,
    v3 and v4 F 2020Q2 -> F's latest published quarter 2020Q1 = 0.5."""
    c = duckdb.connect(":memory:")
    c.execute(f"""CREATE TABLE esco_skill AS SELECT * FROM (VALUES
        ('{S1}', 'insulate buildings', 'skill/competence'),
        ('{S2}', 'use spreadsheets', 'skill/competence'),
        ('{S3}', 'lay bricks', 'skill/competence')) t(uri, preferred_label, skill_type)
        """)
    c.execute(f"""CREATE TABLE esco_collection_member AS SELECT * FROM (VALUES
        ('green', '{S1}', 'skill'), ('digital', '{S2}', 'skill')) t(collection, uri,
        concept_type)""")
    c.execute("""CREATE TABLE esco_isco_group AS SELECT * FROM (VALUES
        ('g2', '2', 'Professionals', NULL, 1), ('g7', '7', 'Craft workers', NULL, 1))
        t(uri, code, preferred_label, description, level)""")
    c.execute("""CREATE TABLE vacancy AS SELECT * FROM (VALUES
        ('v1', 'nhs', 'Nurse', 'A', '2020Q1', 'Q', 'NL332', 'NL33', 'AM22', 2, 'o1',
         'nurse', '2221', TRUE, 2),
        ('v2', 'nhs', 'Nurse', 'B', '2020Q2', 'Q', 'NL332', 'NL33', 'AM22', 0, 'o1',
         'nurse', '2221', TRUE, 1),
        ('v3', 'nhs', 'Bricklayer', 'C', '2020Q2', 'F', 'NL329', 'NL32', 'AM18', 0, 'o2',
         'bricklayer', '7112', TRUE, 2),
        ('v4', 'vdab', 'Mason', 'C', '2020Q2', 'F', 'NL329', 'NL32', 'AM18', 0, NULL,
         NULL, NULL, FALSE, 1))
        t(vacancy_id, source, title, employer, quarter, sector_code, nuts3, nuts2,
          labour_market_region, duplicate_count, occupation_uri, occupation_label,
          isco_code, occupation_accepted, skill_count)""")
    c.execute(f"""CREATE TABLE vacancy_skill AS SELECT * FROM (VALUES
        ('v1', '{S1}', 'insulate buildings', 'skill/competence', TRUE),
        ('v1', '{S2}', 'use spreadsheets', 'skill/competence', TRUE),
        ('v2', '{S1}', 'insulate buildings', 'skill/competence', TRUE),
        ('v2', '{S3}', 'lay bricks', 'skill/competence', FALSE),
        ('v3', '{S2}', 'use spreadsheets', 'skill/competence', TRUE),
        ('v3', '{S3}', 'lay bricks', 'skill/competence', TRUE),
        ('v4', '{S3}', 'lay bricks', 'skill/competence', TRUE))
        t(vacancy_id, skill_uri, skill_label, skill_type, accepted)""")
    c.execute("""CREATE TABLE shortage_sector AS SELECT * FROM (VALUES
        ('Q', 'Zorg', 'section', '2020Q1', 100.0, 1.0, 1.5, 10.0),
        ('Q', 'Zorg', 'section', '2020Q2', 120.0, 2.0, 1.6, 20.0),
        ('F', 'Bouw', 'section', '2020Q1', 50.0, 0.5, 0.9, -5.0),
        ('A-U', 'Totaal', 'total', '2020Q2', 900.0, 9.0, 1.0, 1.0))
        t(sector_code, sector_label, sector_level, quarter, open_vacancies, shortage_weight,
          tension_4q, open_growth_yoy_pct)""")
    c.execute(f"""CREATE TABLE credential_skill AS SELECT * FROM (VALUES
        ('c1', '{S1}', TRUE), ('c2', '{S1}', TRUE), ('c2', '{S2}', TRUE),
        ('c3', '{S3}', FALSE)) t(credential_id, skill_uri, accepted)""")
    c.execute(f"""CREATE TABLE skill_supply AS SELECT * FROM (VALUES
        ('NL332', '{S1}', 2), ('NL329', '{S2}', 2)) t(region, skill_uri, holders)""")
    c.execute("""CREATE TABLE candidate AS SELECT * FROM (VALUES
        ('k1', 'NL332'), ('k2', 'NL332'), ('k3', 'NL329')) t(candidate_id, region)""")
    c.execute("""CREATE TABLE region AS SELECT * FROM (VALUES
        ('NL33', 'Zuid-Holland', 'nuts2', 'NL', '{"type": "Point", "coordinates": [4, 52]}'),
        ('NL32', 'Noord-Holland', 'nuts2', 'NL', 'nan'))
        t(region_code, name, level, country, geometry_geojson)""")
    return c


def test_shortage_weight_is_taken_as_of_the_vacancy_quarter(con) -> None:
    weights = analytics.vacancy_weights(con, DemandFilter())
    assert dict(zip(weights["vacancy_id"], weights["weight"], strict=True)) == {
        "v1": 1.0, "v2": 2.0, "v3": 0.5, "v4": 0.5}
    con.execute("DROP TABLE shortage_sector")
    assert set(analytics.vacancy_weights(con, DemandFilter())["weight"]) == {1.0}


@pytest.mark.parametrize(("flt", "expected"), [
    (DemandFilter(sectors=("Q",)), {"v1", "v2"}),
    (DemandFilter(isco_groups=("22",)), {"v1", "v2"}),
    (DemandFilter(isco_groups=("7", "9")), {"v3"}),
    (DemandFilter(period=("2020Q2", "2020Q2")), {"v2", "v3", "v4"}),
    (DemandFilter(region_level="nuts3", regions=("NL329",)), {"v3", "v4"}),
    (DemandFilter(region_level="labour_market_region", regions=("AM22",)), {"v1", "v2"}),
    (DemandFilter(sources=("vdab",)), {"v4"}),
])
def test_filters_select_the_right_vacancies(con, flt, expected) -> None:
    assert set(analytics.vacancy_weights(con, flt)["vacancy_id"]) == expected


def test_unknown_region_level_is_refused() -> None:
    with pytest.raises(ValueError, match="region_level"):
        DemandFilter(region_level="province")


def test_key_figures_and_top_lists(con) -> None:
    figures = analytics.key_figures(con, DemandFilter())
    assert figures["vacancies"] == 4 and figures["postings"] == 6
    assert figures["employers"] == 3 and figures["occupations"] == 2
    assert figures["with_occupation_pct"] == 75.0
    assert figures["mean_shortage_weight"] == pytest.approx(1.0)
    occupations = analytics.top_occupations(con, DemandFilter())
    assert occupations["occupation"].tolist() == ["nurse", "bricklayer"]
    assert occupations["vacancies"].tolist() == [2, 1]
    skills = analytics.top_skills(con, DemandFilter())
    assert skills["skill"].tolist() == ["insulate buildings", "lay bricks", "use spreadsheets"]
    assert skills["vacancies"].tolist() == [2, 2, 2]  # v2's lay bricks is not accepted
    assert skills["weighted_demand"].tolist() == [3.0, 1.0, 1.5]
    assert skills.set_index("skill").loc["insulate buildings", "green"]
    assert skills.set_index("skill").loc["use spreadsheets", "digital"]


def test_skill_trend_is_a_share_per_quarter(con) -> None:
    trend = analytics.skill_trend(con, DemandFilter(), [S3])
    assert trend[["quarter", "vacancies", "share_pct"]].values.tolist() == [
        ["2020Q1", 0, 0.0], ["2020Q2", 2, 66.67]]


def test_emerging_skills_compare_shares_and_put_new_skills_first(con) -> None:
    emerging = analytics.emerging_skills(con, DemandFilter(), min_vacancies=1)
    assert emerging["skill"].tolist() == ["lay bricks", "insulate buildings", "use spreadsheets"]
    assert emerging["previous_vacancies"].tolist() == [0, 1, 1]
    assert emerging["growth_pct"].isna().tolist() == [True, False, False]
    assert emerging["growth_pct"].iloc[1] == pytest.approx(-66.7)
    assert analytics.emerging_skills(con, DemandFilter(), min_vacancies=2)["skill"].tolist() \
        == ["lay bricks"]
    one_quarter = DemandFilter(period=("2020Q2", "2020Q2"))
    assert analytics.emerging_skills(con, one_quarter).empty


def test_collection_shares_per_quarter_and_overall(con) -> None:
    shares = analytics.collection_shares(con, DemandFilter())
    got = {(r.period, r.collection): r.share_pct for r in shares.itertuples()}
    assert got == {("2020Q1", "digital"): 100.0, ("2020Q1", "green"): 100.0,
                   ("2020Q2", "digital"): 33.3, ("2020Q2", "green"): 33.3,
                   ("all", "digital"): 50.0, ("all", "green"): 50.0}


def test_gap_index_overall(con) -> None:
    """Demand shares 3/5.5, 1.5/5.5, 1/5.5; supply = 0.5 x holder share (2/4, 2/4, 0)
    + 0.5 x credential share (2/3, 1/3, 0)."""
    gap = analytics.skill_gap(con, DemandFilter()).set_index("skill")
    assert gap.index.tolist() == ["lay bricks", "insulate buildings", "use spreadsheets"]
    assert gap.loc["lay bricks", "gap_index"] == pytest.approx(18.182, abs=1e-3)
    assert gap.loc["insulate buildings", "gap_index"] == pytest.approx(54.545 - 58.333,
                                                                        abs=1e-3)
    assert gap.loc["use spreadsheets", "gap_index"] == pytest.approx(27.273 - 41.667, abs=1e-3)
    assert gap["gap_index"].sum() == pytest.approx(0, abs=1e-2)
    assert gap.loc["insulate buildings", ["holders", "credentials"]].tolist() == [2, 2]


def test_gap_index_per_region_uses_that_region_supply(con) -> None:
    gap = analytics.skill_gap(con, DemandFilter(region_level="nuts2"), by="region")
    got = {(r.area, r.skill): r.gap_index for r in gap.itertuples()}
    assert got == pytest.approx({
        ("NL33", "insulate buildings"): 75 - 250 / 3, ("NL33", "use spreadsheets"): 25 - 50 / 3,
        ("NL32", "lay bricks"): 200 / 3, ("NL32", "use spreadsheets"): 100 / 3 - 200 / 3},
        abs=1e-3)
    summary = analytics.regional_gap(con, DemandFilter(region_level="nuts2"))
    assert summary["region_code"].tolist() == ["NL32", "NL33"]
    assert summary["mismatch_pct"].tolist() == [66.7, 8.3]
    assert summary["top_gap_skill"].tolist() == ["lay bricks", "use spreadsheets"]
    assert summary["candidates"].tolist() == [1, 2]
    assert summary["name"].tolist() == ["Noord-Holland", "Zuid-Holland"]


def test_regions_without_candidates_fall_back_to_the_catalogue(con) -> None:
    gap = analytics.skill_gap(con, DemandFilter(region_level="labour_market_region"),
                              by="region")
    am22 = gap[gap["area"] == "AM22"].set_index("skill")
    assert am22.loc["insulate buildings", "supply_share_pct"] == pytest.approx(66.667, abs=1e-3)
    assert am22["gap_index"].sum() == pytest.approx(0, abs=1e-2)


def test_gap_per_sector_and_top(con) -> None:
    gap = analytics.skill_gap(con, DemandFilter(), by="sector", top=1)
    assert gap[["area", "skill"]].values.tolist() == [["F", "lay bricks"],
                                                      ["Q", "insulate buildings"]]
    with pytest.raises(ValueError, match="by must be"):
        analytics.skill_gap(con, DemandFilter(), by="employer")


def test_filter_options_and_shapes(con) -> None:
    options = analytics.filter_options(con)
    assert options["quarters"] == ["2020Q1", "2020Q2"]
    assert options["sectors"]["name"].tolist() == ["Bouw", "Zorg"]  # a tie: by code
    assert options["regions"]["nuts2"].set_index("region_code")["name"].to_dict() == {
        "NL33": "Zuid-Holland", "NL32": "Noord-Holland"}
    assert options["isco_groups"]["code"].tolist() == ["2", "7"]
    shapes = analytics.region_shapes(con, "nuts2")
    assert shapes["region_code"].tolist() == ["NL33"]  # NL32 has no outline
    sectors = analytics.shortage_by_sector(con, sectors=("Q",))
    assert sectors["shortage_weight"].tolist() == [1.0, 2.0]


def _figures(con: duckdb.DuckDBPyConnection) -> list[pd.DataFrame]:
    f = DemandFilter(region_level="nuts3")
    return [analytics.skill_gap(con, f, by="region"), analytics.regional_gap(con, f),
            analytics.top_skills(con, f), analytics.collection_shares(con, f),
            analytics.emerging_skills(con, f, min_vacancies=1),
            analytics.skill_trend(con, f, [S1, S2, S3])]


def test_demand_index_tables_answer_as_the_inline_definitions(con) -> None:
    inline = _figures(con)
    analytics.index_demand(con)
    assert con.execute("SELECT count(*) FROM skill_mention").fetchone()[0] == 6  # accepted
    for got, expected in zip(_figures(con), inline, strict=True):
        pd.testing.assert_frame_equal(got, expected)
    # ads written without re-keying (an older pipeline): the stale index is not used
    con.execute("DELETE FROM vacancy_skill WHERE vacancy_id = 'v4'")
    con.execute("DELETE FROM vacancy WHERE vacancy_id = 'v4'")
    bricks = analytics.top_skills(con, DemandFilter()).set_index("skill")["vacancies"]
    assert bricks["lay bricks"] == 1


def test_vacancies_pipeline_writes_a_current_demand_index(demo_settings, tmp_path) -> None:
    copy = tmp_path / "w.duckdb"
    shutil.copy(demo_settings.warehouse, copy)
    c = duckdb.connect(str(copy))
    vacancies, keys, mentions, accepted = c.execute("""
        SELECT (SELECT count(*) FROM vacancy), (SELECT count(*) FROM vacancy_key),
               (SELECT count(*) FROM skill_mention),
               (SELECT count(DISTINCT (vacancy_id, skill_uri)) FROM vacancy_skill WHERE accepted)
        """).fetchone()
    assert keys == vacancies > 0 and mentions == accepted > 0
    stored = _figures(c)
    for name in analytics.DEMAND_INDEX:
        c.execute(f"DROP TABLE {name}")
    for got, expected in zip(_figures(c), stored, strict=True):
        pd.testing.assert_frame_equal(got, expected)
