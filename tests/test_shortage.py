"""CBS vacancy readers, shortage indicators and the consortium tension file."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, REPO_SETTINGS

from skillmatch.shortage import (
    read_tension_csv,
    regional_indicators,
    sector_indicators,
    tension_class,
)
from skillmatch.sources import SourceError
from skillmatch.sources.cbs import (
    ANNUAL_REASON,
    PROVINCE_NUTS2,
    read_cbs_regional,
    read_cbs_vacancies,
)

CBS = REPO_SETTINGS.data_root / "labour_stats" / "cbs"
TEMPLATE = REPO / "data" / "templates" / "tension_template.csv"
needs_cbs = pytest.mark.skipif(not (CBS / "vacatures.csv").exists(),
                               reason=f"CBS files not found under {CBS}")
HEADER = '"ID";"Bedrijfskenmerken";"Perioden";"OpenstaandeVacatures_1";' \
         '"OntstaneVacatures_2";"VervuldeVacatures_3"'


# --- CBS 80472ned ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def vacancies():
    return read_cbs_vacancies(CBS / "vacatures.csv", CBS / "sectoren_metadata.csv")


@needs_cbs
def test_real_vacancies_parse_with_known_values(vacancies) -> None:
    rows = vacancies.rows
    assert vacancies.rows_read == 7714 == len(rows) + len(vacancies.rejects)
    assert len(rows) == 58 * 107  # 55 sectors + 3 size classes, 1997Q1..2023Q3
    assert {r[2] for r in vacancies.rejects} == {ANNUAL_REASON}
    assert rows["quarter"].min() == "1997Q1" and rows["quarter"].max() == "2023Q3"
    first = rows.iloc[0]  # "0";"T001081";"1997KW01";"    89.8";"     152";"     142"
    assert (first["sector_code"], first["sector_level"], first["quarter"]) == \
        ("A-U", "total", "1997Q1")
    assert (first["open_vacancies"], first["new_vacancies"], first["filled_vacancies"]) == \
        (89800.0, 152000.0, 142000.0)
    care = rows[(rows["cbs_key"] == "422400") & (rows["quarter"] == "2019Q1")].iloc[0]
    assert care["sector_code"] == "Q" and care["sector_label"] == "Gezondheids- en welzijnszorg"
    assert (care["open_vacancies"], care["new_vacancies"], care["filled_vacancies"]) == \
        (36500.0, 42000.0, 40000.0)
    big = rows[(rows["cbs_key"] == "WP19098") & (rows["quarter"] == "2019Q1")].iloc[0]
    assert pd.isna(big["sector_code"]) and big["size_class"] == "100+"
    assert big["sector_level"] == "company_size" and big["open_vacancies"] == 153500.0
    assert big["sector_label"] == "Bedrijfsgrootte: 100 of meer werkzame personen"
    assert set(rows.loc[rows["sector_level"] == "company_size", "size_class"]) == \
        {"0-9", "10-99", "100+"}
    levels = rows.drop_duplicates("cbs_key")["sector_level"].value_counts().to_dict()
    assert levels["section"] == 19 and levels["total"] == 1
    assert str(rows["quarter"].dtype) == "str" and rows["open_vacancies"].dtype == "float64"


@needs_cbs
def test_statline_metadata_gives_the_same_rows(vacancies) -> None:
    other = read_cbs_vacancies(CBS / "vacatures.csv", CBS / "vacatures_metadata.csv")
    pd.testing.assert_frame_equal(other.rows, vacancies.rows)


def _write(path: Path, lines: list[str], encoding: str = "utf-8-sig") -> Path:
    path.write_bytes("\n".join(lines).encode(encoding))
    return path


def test_bad_cbs_rows_are_rejected_and_good_rows_kept(tmp_path: Path) -> None:
    meta = _write(tmp_path / "meta.csv", ["Key,Title", "T001081,A-U Alle economische activiteiten",
                                          '422400,"Q Gezondheids- en welzijnszorg"'])
    lines = [
        HEADER,
        '"0";"T001081";"2019KW01";"   278.9";"     319";"     295"',
        '"1";"T001081";"2019KW02";"       .";"     300";"        "',
        '"2";"T001081";"2019JJ00";"   280.0";"    1200";"    1100"',
        '"3";"422400";"2019KW01";"    -1.0";"      42";"      40"',
        '"4";"422400";"2019KW02";"     abc";"      42";"      40"',
        '"5";"999999";"2019KW01";"     1.0";"       1";"       1"',
        '"6";"T001081";"2019KW01";"   278.9";"     319";"     295"',
        '"7";"422400";"2019KW03";"       .";"       .";"       ."',
        '"8";"422400";"2019KW04";"    36.5"',
        '"9";"422400";"2019MM05";"    36.5";"      42";"      40"',
        '"10";"422400";"2020KW01";"    37.0";"      43";"      41',
    ]
    path = _write(tmp_path / "vacatures.csv", lines)
    with open(path, "ab") as fh:
        fh.write('\n"11";"422400";"2020KW02";"Caf\xe9";"1";"1"'.encode("latin-1"))
        fh.write(b'\n"12";"422400";"2020KW03";"    38.0";"      44";"      42"\n')
    staged = read_cbs_vacancies(path, meta, source="vacatures.csv")
    assert staged.rows_read == 13 == len(staged.rows) + len(staged.rejects) + staged.duplicates
    assert staged.duplicates == 1  # line 8 repeats line 2's key and quarter: the later kept
    assert sorted(staged.rows["quarter"]) == ["2019Q1", "2019Q2", "2020Q3"]
    second = staged.rows.set_index("quarter").loc["2019Q2"]
    assert math.isnan(second["open_vacancies"]) and math.isnan(second["filled_vacancies"])
    assert second["new_vacancies"] == 300000.0
    why = {record.split()[1]: reason for _, record, reason in staged.rejects}
    assert why["4"] == ANNUAL_REASON
    assert "non-negative" in why["5"] and "non-negative" in why["6"]
    assert "unknown Bedrijfskenmerken key '999999'" in why["7"]
    assert "no figures" in why["9"]
    assert "4 fields, header has 6" in why["10"]
    assert "not a quarter" in why["11"]
    assert "unbalanced quote" in why["12"]
    assert "not UTF-8" in why["13"]
    assert all(source == "vacatures.csv" for source, _, _ in staged.rejects)


def test_unusable_cbs_files_raise(tmp_path: Path) -> None:
    meta = _write(tmp_path / "meta.csv", ["Key,Title", "T001081,A-U Alle"])
    with pytest.raises(SourceError, match="file not found"):
        read_cbs_vacancies(tmp_path / "nope.csv", meta)
    with pytest.raises(SourceError, match="empty file"):
        read_cbs_vacancies(_write(tmp_path / "empty.csv", [""]), meta)
    no_filled = _write(tmp_path / "cols.csv", ['"ID";"Bedrijfskenmerken";"Perioden";'
                                               '"OpenstaandeVacatures_1"'])
    with pytest.raises(SourceError, match="missing columns"):
        read_cbs_vacancies(no_filled, meta)
    with pytest.raises(SourceError, match="Key and Title"):
        read_cbs_vacancies(no_filled, _write(tmp_path / "bad_meta.csv", ["a,b", "1,2"]))


# --- CBS 83599NED ---------------------------------------------------------------------------

@needs_cbs
def test_real_regional_file_parses_with_nuts_codes() -> None:
    staged = read_cbs_regional(CBS / "vacatures_regio.csv")
    rows = staged.rows
    assert staged.rows_read == 20400 and len(rows) == 20399
    assert staged.rejects[0][1] == "line 16116 (300013 PV31 2014KW03)"  # empty cell
    assert rows["sector_code"].nunique() == 24 and rows["region_code"].nunique() == 17
    nh = rows[(rows["region_code"] == "PV27") & (rows["sector_code"] == "A-U")
              & (rows["quarter"] == "2019Q1")].iloc[0]  # 632,T001081,PV27  ,2019KW01,54.8
    assert nh["open_vacancies"] == 54800.0 and nh["region_name"] == "Noord-Holland"
    assert (nh["region_level"], nh["nuts_code"], nh["nuts2"]) == ("province", "NL32", "NL32")
    regions = rows.drop_duplicates("region_code").set_index("region_code")
    assert regions.loc["PV24", "nuts2"] == "NL23" and regions.loc["PV24", "region_name"] == \
        "Flevoland"
    assert regions.loc["NL01", "region_level"] == "country" and pd.isna(
        regions.loc["NL01", "nuts2"])
    assert regions.loc["LD03", "nuts_code"] == "NL3"
    assert regions.loc[regions["region_level"] == "province", "nuts2"].to_dict() == \
        PROVINCE_NUTS2
    assert rows["quarter"].min() == "2011Q1" and rows["quarter"].max() == "2023Q2"


def test_bad_regional_rows(tmp_path: Path) -> None:
    _write(tmp_path / "sectoren_metadata.csv", ["Key,Title", "T001081,A-U Alle activiteiten"])
    _write(tmp_path / "regios_metadata.csv", ["Key,Title, Regios", "NL01  ,Nederland, 0",
                                              "PV27  ,Noord-Holland (PV), Noord-Holland"])
    path = _write(tmp_path / "vacatures_regio.csv", [
        "ID,BedrijfstakkenBranchesSBI2008,Regios,Perioden,OpenstaandeVacatures",
        "0,T001081,PV27  ,2019KW01,54.8",
        "1,T001081,PV99  ,2019KW01,1.0",
        "2,T001081,NL01  ,2019KW01,.",
        "3,T001081,NL01  ,2019KW02,<b>12</b>",
        "4,T001081,NL01  ,2019,1.0",
    ])
    staged = read_cbs_regional(path)
    assert staged.rows["region_name"].tolist() == ["Noord-Holland"]
    reasons = [reason for _, _, reason in staged.rejects]
    assert "unknown region key 'PV99'" in reasons[0] and "no figure" in reasons[1]
    assert "not a non-negative number" in reasons[2] and "not a CBS period" in reasons[3]
    (tmp_path / "regios_metadata.csv").unlink()
    with pytest.raises(SourceError, match=r"regios_metadata\.csv: file not found"):
        read_cbs_regional(path)


# --- sector indicators on a hand-built frame ------------------------------------------------

QUARTERS = ["2022Q1", "2022Q2", "2022Q3", "2022Q4", "2023Q1"]


def _stats() -> pd.DataFrame:
    """A-U = A + B; A is tight (open 3x filled), B loose; both grow 50 % in a year."""
    series = {
        "A-U": ([100_000, 110_000, 120_000, 130_000, 150_000], [100_000] * 5),
        "A": ([40_000, 44_000, 48_000, 52_000, 60_000], [20_000] * 5),
        "B": ([60_000, 66_000, 72_000, 78_000, 90_000], [80_000] * 5),
    }
    rows = [{"sector_code": code, "quarter": q, "open_vacancies": float(o),
             "filled_vacancies": float(f)}
            for code, (opened, filled) in series.items()
            for q, o, f in zip(QUARTERS, opened, filled, strict=True)]
    rows.append({"sector_code": None, "quarter": "2023Q1", "open_vacancies": 1.0,
                 "filled_vacancies": 1.0})  # a company-size row: left out
    return pd.DataFrame(rows)


def test_sector_indicators_match_hand_computation() -> None:
    out = sector_indicators(_stats(), prior_filled=1000, growth_beta=0.5, growth_clip=0.5)
    assert len(out) == 15
    last = out[out["quarter"] == "2023Q1"].set_index("sector_code")
    a = last.loc["A"]
    assert a["open_growth_qoq_pct"] == pytest.approx((60 / 52 - 1) * 100)  # 15.38 %
    assert a["open_growth_yoy_pct"] == pytest.approx(50.0)
    assert a["open_share_pct"] == pytest.approx(40.0)  # 60k of 150k
    assert a["vacancy_filled_ratio"] == pytest.approx(3.0)
    # slope over 44k, 48k, 52k, 60k: (-1.5*44 - 0.5*48 + 0.5*52 + 1.5*60) / 5 = 5.2k per quarter
    assert a["trend_slope"] == pytest.approx(5200.0)
    assert a["trend_slope_pct"] == pytest.approx(5200 / 51_000 * 100)
    # pooled: A-U 510k open / 400k filled = 1.275; A (204k + 1k*1.275) / (80k + 1k)
    total = 510 / 400
    t_a = (204_000 + 1000 * total) / (80_000 + 1000)
    t_b = (306_000 + 1000 * total) / (320_000 + 1000)
    assert a["tension_4q"] == pytest.approx(t_a)
    assert a["relative_tension"] == pytest.approx(t_a / total)
    growth = 1 + 0.5 * 0.5  # 50 % growth clipped to 0.5
    w_a, w_b = t_a / total * growth, t_b / total * growth
    mean = (w_a + w_b) / 2
    assert a["shortage_weight"] == pytest.approx(w_a / mean)  # 1.4517
    assert last.loc["B", "shortage_weight"] == pytest.approx(w_b / mean)  # 0.5483
    assert last.loc["A-U", "shortage_weight"] == pytest.approx(growth / mean)
    assert last.loc["A-U", "relative_tension"] == pytest.approx(1.0)
    weights = out[out["sector_code"].isin(["A", "B"])].groupby("quarter")["shortage_weight"]
    assert weights.mean().to_numpy() == pytest.approx([1.0] * 5)
    first = out[out["quarter"] == "2022Q1"]
    assert first["open_growth_qoq_pct"].isna().all() and first["trend_slope"].isna().all()


def test_gaps_give_nan_and_zero_filled_is_floored() -> None:
    stats = _stats()
    stats = stats[~((stats["sector_code"] == "A") & (stats["quarter"] == "2022Q4"))]
    stats.loc[stats["sector_code"] == "B", "filled_vacancies"] = 0.0
    out = sector_indicators(stats).set_index(["sector_code", "quarter"])
    a = out.loc[("A", "2023Q1")]
    assert math.isnan(a["open_growth_qoq_pct"]) and math.isnan(a["trend_slope"])
    assert a["open_growth_yoy_pct"] == pytest.approx(50.0)  # 2022Q1 is still there
    b = out.loc[("B", "2023Q1")]
    assert math.isnan(b["vacancy_filled_ratio"])  # open / 0
    assert math.isfinite(b["shortage_weight"]) and b["shortage_weight"] > 1


def test_sector_indicators_need_the_total_and_one_row_per_quarter() -> None:
    stats = _stats()
    with pytest.raises(ValueError, match="A-U"):
        sector_indicators(stats[stats["sector_code"] != "A-U"])
    with pytest.raises(ValueError, match="more than one row"):
        sector_indicators(pd.concat([stats, stats.iloc[[0]]]))
    with pytest.raises(ValueError, match="not 'YYYYQn'"):
        sector_indicators(stats.assign(quarter="2023-01"))


@needs_cbs
def test_real_sector_weights_average_one(vacancies) -> None:
    out = sector_indicators(vacancies.rows)
    sections = out[out["sector_code"].str.fullmatch(r"[A-U]")]
    assert sections.groupby("quarter")["shortage_weight"].mean().to_numpy() == \
        pytest.approx([1.0] * 107)
    q2 = out[out["quarter"] == "2023Q2"].set_index("sector_code")
    assert q2.loc["F", "shortage_weight"] > 1.4 > 0.7 > q2.loc["P", "shortage_weight"]
    assert q2.loc["Q", "open_share_pct"] == pytest.approx(66.7 / 441.2 * 100)


def test_regional_indicators_by_hand() -> None:
    rows = []
    for quarter, scale in (("2022Q1", 1.0), ("2023Q1", 1.2)):
        for region, level, total, care in (("NL01", "country", 100.0, 20.0),
                                           ("PV27", "province", 30.0, 3.0),
                                           ("PV28", "province", 70.0, 17.0)):
            rows += [{"sector_code": "A-U", "region_code": region, "region_level": level,
                      "quarter": quarter, "open_vacancies": total * scale},
                     {"sector_code": "Q", "region_code": region, "region_level": level,
                      "quarter": quarter, "open_vacancies": care * scale}]
    out = regional_indicators(pd.DataFrame(rows)).set_index(
        ["sector_code", "region_code", "quarter"])
    nh = out.loc[("Q", "PV27", "2023Q1")]
    assert nh["share_of_region_pct"] == pytest.approx(10.0)  # 3 of 30
    assert nh["share_of_country_pct"] == pytest.approx(15.0)  # 3 of 20
    assert nh["location_quotient"] == pytest.approx(10.0 / 20.0)  # 10 % vs 20 % nationally
    assert nh["open_growth_yoy_pct"] == pytest.approx(20.0)
    assert math.isnan(nh["open_growth_qoq_pct"])  # 2022Q4 absent
    assert out.loc[("Q", "PV28", "2023Q1"), "location_quotient"] == \
        pytest.approx((17 / 70) / 0.2)


# --- tension file -----------------------------------------------------------------------------

def test_template_round_trip(tmp_path: Path) -> None:
    staged = read_tension_csv(TEMPLATE)
    assert staged.rejects == [] and staged.rows_read == 4
    rows = staged.rows
    assert rows["tension"].round(4).tolist() == [2.3333, 1.8, 0.8, 0.1774]
    assert rows["tension_class"].tolist() == ["very tight", "very tight", "tight", "loose"]
    assert rows["tension_computed"].tolist() == [True, False, True, True]
    assert rows["region_scheme"].tolist() == ["labour_market_region", "nuts", "nuts",
                                              "cbs_province"]
    assert rows["occupation_scheme"].tolist() == ["esco", "isco", "isco", "esco"]
    assert rows["period_type"].tolist() == ["quarter", "quarter", "year", "month"]
    copy = tmp_path / "copy.csv"
    rows[["region_code", "occupation", "period", "vacancies", "job_seekers", "tension",
          "source_note"]].to_csv(copy, index=False)
    again = read_tension_csv(copy)
    assert again.rejects == []
    pd.testing.assert_frame_equal(
        again.rows.drop(columns="tension_computed"), rows.drop(columns="tension_computed"))
    assert not again.rows["tension_computed"].any()  # the tension column is filled now


def test_tension_bad_rows(tmp_path: Path) -> None:
    esco = "http://data.europa.eu/esco/occupation/8d3e8aaa-791b-4c75-a465-f3f827028f50"
    lines = [
        "region_code,occupation,period,vacancies,job_seekers,tension,source_note,extra",
        f"NL32,{esco},2024Q1,10,20,,good,x",                      # 2 ok
        "NL32,2221,2024Q1,-5,20,,negative vacancies,",           # 3
        ",2221,2024Q1,5,20,,missing region,",                    # 4
        "NL32,nurse,2024Q1,5,20,,not an occupation,",            # 5
        "NL32,2221,Q1 2024,5,20,,bad period,",                   # 6
        "NL32,2221,2024Q2,5,0,,zero seekers,",                   # 7
        "NL32,2221,2024Q3,5,,,no tension no seekers,",           # 8
        f"nl 32,{esco},2024-Q1,1,1,,a later figure for line 2,",  # 9 ok: replaces 2
        "NL32,2221,2024Q4,5,20",                                  # 10 short
        "NL32,2221,2024,5,20,,\"<script>alert(1)</script> <b>UWV</b>\",",  # 11 ok
        "NL33,ISCO-08 2341,2024,5,20,-0.5,negative tension,",    # 12
        "NL-32,2221,2024,5,20,,bad region,",                     # 13
    ]
    path = tmp_path / "tension.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open(path, "ab") as fh:
        fh.write("AM18,2221,2024,5,20,,Caf\xe9 Latin-1 note,\n".encode("latin-1"))  # 14
        fh.write(f"AM18,2222,2024,5,20,,{'x' * 5_000_000},\n".encode())             # 15
        fh.write(b"AM18,2223,2024,5,20,,last good row,\n")                          # 16 ok
    staged = read_tension_csv(path, source="tension.csv")
    assert staged.rows_read == 15 == len(staged.rows) + len(staged.rejects) + staged.duplicates
    assert staged.duplicates == 1
    assert staged.rows["source_note"].tolist() == [
        "a later figure for line 2", "<script>alert(1)</script> <b>UWV</b>", "last good row"]
    why = {int(record.split()[1]): reason for _, record, reason in staged.rejects}
    assert "vacancies '-5' must be a number >= 0" in why[3]
    assert why[4] == "region_code is empty"
    assert "neither an ESCO occupation URI nor an ISCO-08 code" in why[5]
    assert "period 'Q1 2024'" in why[6]
    assert why[7] == "tension undefined: job_seekers is 0"
    assert why[8] == "no tension and not both vacancies and job_seekers"
    assert "5 fields, header has 8" in why[10]
    assert "tension '-0.5'" in why[12]
    assert "not a NUTS" in why[13]
    assert "not UTF-8" in why[14]
    # the csv field limit (process-wide, may have been raised) or the note length limit
    assert "field larger than field limit" in why[15] or "longer than 2000" in why[15]
    assert set(why) == {3, 4, 5, 6, 7, 8, 10, 12, 13, 14, 15}


def test_tension_semicolon_decimal_comma_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "spanning.csv"
    path.write_bytes("\ufeffRegion_Code;Occupation;Period;Tension\nAM18;2221;2024Q1;1,75\n"
                     .encode("utf-8"))
    rows = read_tension_csv(path).rows
    assert rows.loc[0, "tension"] == 1.75 and rows.loc[0, "tension_class"] == "very tight"
    assert math.isnan(rows.loc[0, "vacancies"]) and not rows.loc[0, "tension_computed"]


def test_tension_whole_file_problems(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="file not found"):
        read_tension_csv(tmp_path / "none.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(SourceError, match="empty file"):
        read_tension_csv(empty)
    no_period = tmp_path / "no_period.csv"
    no_period.write_text("region_code,occupation,tension\nNL32,2221,1\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"missing columns \['period'\]"):
        read_tension_csv(no_period)
    no_numbers = tmp_path / "no_numbers.csv"
    no_numbers.write_text("region_code,occupation,period,vacancies\nNL32,2221,2024,1\n",
                          encoding="utf-8")
    with pytest.raises(SourceError, match="needs a tension column"):
        read_tension_csv(no_numbers)
    html = tmp_path / "page.csv"
    html.write_text("<html><body>Not found</body></html>\n", encoding="utf-8")
    with pytest.raises(SourceError, match="missing columns"):
        read_tension_csv(html)


@pytest.mark.parametrize(("value", "expected"), [
    (0.0, "very loose"), (0.1499, "very loose"), (0.15, "loose"), (0.3, "average"),
    (0.67, "tight"), (1.4999, "tight"), (1.5, "very tight"), (12.0, "very tight"),
])
def test_tension_classes(value: float, expected: str) -> None:
    assert tension_class(value) == expected


def test_schema_doc_lists_every_column() -> None:
    doc = (REPO / "docs" / "tension_schema.md").read_text(encoding="utf-8")
    with open(TEMPLATE, encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert all(f"`{column}`" in doc for column in header)
