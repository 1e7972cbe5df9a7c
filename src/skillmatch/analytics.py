"""Labour-market analytics over the warehouse: demand, trends, shortages and the skill gap.

Plain functions from a DuckDB connection and a `DemandFilter` to DataFrames; the dashboard only
renders them. Every vacancy counts once (copies of a re-posted ad are folded into
`duplicate_count`) and carries a shortage weight: the CBS `shortage_weight` of its sector in its
quarter (the latest published quarter at or before it; the earliest when it predates the series;
1.0 when the sector is unknown). The gap index is documented in docs/gap_index.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from skillmatch.warehouse import table_exists

REGION_LEVELS = ("nuts2", "nuts3", "labour_market_region")
COLLECTIONS = ("green", "digital")
# Supply = this share from candidates holding the skill, the rest from credentials teaching it.
HOLDER_SHARE = 0.5
# The demand index: integer keys for vacancies and skills, and the accepted (vacancy, skill)
# mentions on those keys. At a million vacancies there are ~19M mentions; joining and grouping
# them on integers instead of id and URI strings took the regional gap from 2.5 s to 1.25 s.
# The vacancies pipeline writes it in the same transaction as the ads (`index_demand`); a
# warehouse without it (built by hand, or before it existed) gets the same definitions inline.
DEMAND_INDEX = {
    "vacancy_key": "SELECT vacancy_id, (row_number() OVER (ORDER BY vacancy_id))::INTEGER "
                   "AS vacancy_key FROM vacancy",
    "skill_key": "SELECT skill_uri, (row_number() OVER (ORDER BY skill_uri))::INTEGER "
                 "AS skill_key FROM (SELECT DISTINCT skill_uri FROM vacancy_skill WHERE accepted)",
    "skill_mention": "SELECT DISTINCT k.vacancy_key, s.skill_key FROM vacancy_skill m "
                     "JOIN vacancy_key k USING (vacancy_id) JOIN skill_key s USING (skill_uri) "
                     "WHERE m.accepted",
}


@dataclass(frozen=True)
class DemandFilter:
    """Which vacancies a figure covers. Empty tuples mean "all"; `period` is two quarters
    ("2020Q1", "2020Q4"), both included; `isco_groups` are ISCO codes at any level."""

    region_level: str = "nuts2"
    regions: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    isco_groups: tuple[str, ...] = ()
    period: tuple[str, str] | None = None
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.region_level not in REGION_LEVELS:
            raise ValueError(f"region_level must be one of {REGION_LEVELS}, "
                             f"not {self.region_level!r}")

    def where(self) -> tuple[str, list]:
        """SQL condition on the `vacancy` table (alias v) and its parameters."""
        parts, params = ["TRUE"], []
        if self.regions:
            parts.append(f"v.{self.region_level} IN (SELECT unnest(?))")
            params.append(list(self.regions))
        if self.sectors:
            parts.append("v.sector_code IN (SELECT unnest(?))")
            params.append(list(self.sectors))
        if self.isco_groups:
            parts.append("len(list_filter(?, g -> starts_with(coalesce(v.isco_code, ''), g))) > 0")
            params.append(list(self.isco_groups))
        if self.period:
            parts.append("v.quarter BETWEEN ? AND ?")
            params.extend(self.period)
        if self.sources:
            parts.append("v.source IN (SELECT unnest(?))")
            params.append(list(self.sources))
        return " AND ".join(parts), params


def index_demand(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)write the demand index from `vacancy` and `vacancy_skill` (see DEMAND_INDEX)."""
    for name, sql in DEMAND_INDEX.items():
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql} ORDER BY ALL")


def _index_ctes(con: duckdb.DuckDBPyConnection) -> str:
    """The demand index's CTEs when the warehouse holds no current copy of it, else ''."""
    if all(table_exists(con, name) for name in DEMAND_INDEX) and con.execute(
            "SELECT (SELECT count(*) FROM vacancy) = (SELECT count(*) FROM vacancy_key)"
    ).fetchone()[0]:
        return ""
    return "".join(f"{name} AS ({sql}), " for name, sql in DEMAND_INDEX.items())


def _weighted(f: DemandFilter, con: duckdb.DuckDBPyConnection,
              keyed: bool = False) -> tuple[str, list]:
    """SQL opening a CTE `wv`: the filtered vacancies with their `region` (at the filter's
    level) and shortage `weight`; append `SELECT ... FROM wv` and pass the returned parameters.
    keyed: also each vacancy's `vacancy_key` and the demand index (`skill_mention`,
    `skill_key`), for figures over skill mentions."""
    where, params = f.where()
    index, key = ((_index_ctes(con), "k.vacancy_key, ") if keyed else ("", ""))
    join = "JOIN vacancy_key k USING (vacancy_id)" if keyed else ""
    fv = f"""
        WITH {index} fv AS (
            SELECT {key}v.vacancy_id, v.source, v.quarter, v.sector_code, v.employer,
                   v.isco_code, v.occupation_uri, v.occupation_label, v.occupation_accepted,
                   v.duplicate_count, v.skill_count, v.{f.region_level} AS region
            FROM vacancy v {join} WHERE {where})"""
    if not table_exists(con, "shortage_sector"):
        return fv + ", wv AS (SELECT fv.*, 1.0 AS weight FROM fv)", params
    return fv + """
        , sw AS (SELECT sector_code, quarter, shortage_weight FROM shortage_sector
                 WHERE sector_level = 'section' AND shortage_weight IS NOT NULL)
        , first_sw AS (SELECT sector_code, arg_min(shortage_weight, quarter) AS w
                       FROM sw GROUP BY 1)
        -- from all vacancies: a second read of fv would materialise it
        , pairs AS (SELECT DISTINCT sector_code, quarter FROM vacancy)
        , pair_weight AS (  -- per (sector, quarter), not per vacancy: a few hundred rows
            SELECT p.sector_code, p.quarter,
                   coalesce(sw.shortage_weight, first_sw.w, 1.0) AS weight
            FROM pairs p ASOF LEFT JOIN sw ON p.sector_code = sw.sector_code
                                          AND p.quarter >= sw.quarter
            LEFT JOIN first_sw ON first_sw.sector_code = p.sector_code)
        , wv AS (
            SELECT fv.*, coalesce(pw.weight, 1.0) AS weight
            FROM fv LEFT JOIN pair_weight pw
              ON pw.sector_code IS NOT DISTINCT FROM fv.sector_code
             AND pw.quarter IS NOT DISTINCT FROM fv.quarter)""", params


def vacancy_weights(con: duckdb.DuckDBPyConnection, f: DemandFilter) -> pd.DataFrame:
    """The filtered vacancies with their region at the filter's level and shortage weight."""
    sql, params = _weighted(f, con)
    return con.execute(sql + " SELECT * FROM wv ORDER BY vacancy_id", params).df()


def filter_options(con: duckdb.DuckDBPyConnection) -> dict:
    """What the dashboard's filters can offer, from the vacancies themselves: regions per
    level (code, name, vacancies), sectors, ISCO major groups and quarters."""
    regions = {}
    for level in REGION_LEVELS:
        names = ("(SELECT any_value(r.name) FROM region r WHERE r.region_code = v.{0})"
                 if table_exists(con, "region") else "NULL").format(level)
        regions[level] = con.execute(f"""
            SELECT v.{level} AS region_code, coalesce(any_value({names}), v.{level}) AS name,
                   count(*) AS vacancies
            FROM vacancy v WHERE coalesce(v.{level}, '') NOT IN ('', 'nan')
            GROUP BY 1 ORDER BY 3 DESC, 1""").df()
    sector_names = ("(SELECT any_value(sector_label) FROM shortage_sector s "
                    "WHERE s.sector_code = v.sector_code AND s.sector_level = 'section')"
                    if table_exists(con, "shortage_sector") else "NULL")
    sectors = con.execute(f"""
        SELECT sector_code, coalesce(any_value({sector_names}), sector_code) AS name,
               count(*) AS vacancies
        FROM vacancy v WHERE coalesce(sector_code, '') <> '' GROUP BY 1 ORDER BY 3 DESC, 1""").df()
    isco = con.execute("""
        SELECT left(v.isco_code, 1) AS code, any_value(g.preferred_label) AS name,
               count(*) AS vacancies
        FROM vacancy v LEFT JOIN esco_isco_group g ON g.code = left(v.isco_code, 1)
        WHERE coalesce(v.isco_code, '') <> '' GROUP BY 1 ORDER BY 1""").df()
    quarters = [r[0] for r in con.execute(
        "SELECT DISTINCT quarter FROM vacancy WHERE coalesce(quarter, '') <> '' "
        "ORDER BY 1").fetchall()]
    return {"regions": regions, "sectors": sectors, "isco_groups": isco, "quarters": quarters}


def key_figures(con: duckdb.DuckDBPyConnection, f: DemandFilter) -> dict[str, float]:
    """Headline numbers: vacancies (canonical), postings (with the re-posted copies),
    employers, distinct occupations, shares with an accepted occupation and with skills,
    and the mean shortage weight."""
    sql, params = _weighted(f, con)
    row = con.execute(sql + """
        SELECT count(*), count(*) + coalesce(sum(duplicate_count), 0),
               count(DISTINCT nullif(employer, '')),
               count(DISTINCT CASE WHEN occupation_accepted THEN occupation_uri END),
               coalesce(avg(CASE WHEN occupation_accepted THEN 100.0 ELSE 0.0 END), 0),
               coalesce(avg(CASE WHEN skill_count > 0 THEN 100.0 ELSE 0.0 END), 0),
               coalesce(avg(weight), 0)
        FROM wv""", params).fetchone()
    keys = ("vacancies", "postings", "employers", "occupations", "with_occupation_pct",
            "with_skills_pct", "mean_shortage_weight")
    return dict(zip(keys, (float(x) for x in row), strict=True))


def top_occupations(con: duckdb.DuckDBPyConnection, f: DemandFilter,
                    n: int = 15) -> pd.DataFrame:
    """The most demanded ESCO occupations (accepted links only)."""
    sql, params = _weighted(f, con)
    return con.execute(sql + """
        SELECT occupation_label AS occupation, isco_code, count(*) AS vacancies,
               round(count(*) * 100.0 / (SELECT count(*) FROM wv), 1) AS share_pct,
               round(sum(weight), 1) AS weighted_demand, occupation_uri
        FROM wv WHERE occupation_accepted GROUP BY occupation_uri, occupation_label, isco_code
        ORDER BY vacancies DESC, occupation LIMIT ?""", [*params, n]).df()


def shortage_by_sector(con: duckdb.DuckDBPyConnection, sectors: tuple[str, ...] = (),
                       period: tuple[str, str] | None = None) -> pd.DataFrame:
    """CBS indicators per SBI section and quarter: open vacancies, tension (open per filled,
    4 quarters pooled), year-on-year growth and the shortage weight used in the gap index."""
    columns = ["sector_code", "sector", "quarter", "open_vacancies", "tension_4q",
               "open_growth_yoy_pct", "shortage_weight"]
    if not table_exists(con, "shortage_sector"):
        return pd.DataFrame(columns=columns)
    cond, params = ["sector_level = 'section'"], []
    if sectors:
        cond.append("sector_code IN (SELECT unnest(?))")
        params.append(list(sectors))
    if period:
        cond.append("quarter BETWEEN ? AND ?")
        params.extend(period)
    return con.execute(f"""
        SELECT sector_code, sector_label AS sector, quarter, open_vacancies,
               round(tension_4q, 2) AS tension_4q,
               round(open_growth_yoy_pct, 1) AS open_growth_yoy_pct,
               round(shortage_weight, 3) AS shortage_weight
        FROM shortage_sector WHERE {' AND '.join(cond)} ORDER BY sector_code, quarter""",
        params).df()[columns]


def _demand_cte(area: str) -> str:
    """CTE `demand` after `_weighted`: per area (an SQL expression over wv; empty and 'nan'
    areas left out) and accepted skill, the vacancies mentioning it and their summed
    shortage weight."""
    return f"""
        , demand_keyed AS (
            SELECT a.area, m.skill_key, count(*) AS vacancies, sum(a.weight) AS weighted_demand
            FROM skill_mention m JOIN (
                SELECT vacancy_key, {area} AS area, weight FROM wv
                WHERE coalesce({area}, '') NOT IN ('', 'nan')) a USING (vacancy_key)
            GROUP BY 1, 2)
        , demand AS (SELECT d.area, k.skill_uri, d.vacancies, d.weighted_demand
                     FROM demand_keyed d JOIN skill_key k USING (skill_key))"""


def _labels(con: duckdb.DuckDBPyConnection, uris: pd.Series) -> pd.DataFrame:
    """Skill labels and ESCO collection flags (green, digital) for `uris`."""
    flags = ", ".join(f"coalesce(bool_or(c.collection = '{name}'), FALSE) AS {name}"
                      for name in COLLECTIONS)
    return con.execute(f"""
        SELECT s.uri AS skill_uri, s.preferred_label AS skill, s.skill_type, {flags}
        FROM esco_skill s LEFT JOIN esco_collection_member c ON c.uri = s.uri
        WHERE s.uri IN (SELECT unnest(?)) GROUP BY 1, 2, 3""",
        [uris.drop_duplicates().tolist()]).df()


def top_skills(con: duckdb.DuckDBPyConnection, f: DemandFilter, n: int = 20,
               skill_type: str | None = None) -> pd.DataFrame:
    """The most demanded skills: vacancies mentioning them (accepted mappings), the same
    weighted by sector shortage, and whether ESCO lists them as green or digital."""
    where, params = f.where()
    total = con.execute(f"SELECT count(*) FROM vacancy v WHERE {where}", params).fetchone()[0]
    sql, params = _weighted(f, con, keyed=True)
    demand = con.execute(sql + _demand_cte("'all'") + " SELECT * FROM demand", params).df()
    demand = demand.merge(_labels(con, demand["skill_uri"]), on="skill_uri", how="left")
    if skill_type:
        demand = demand[demand["skill_type"] == skill_type]
    demand["share_pct"] = (demand["vacancies"] * 100.0 / total).round(1) if total else 0.0
    demand["weighted_demand"] = demand["weighted_demand"].round(1)
    demand = demand.sort_values(["vacancies", "skill"], ascending=[False, True]).head(n)
    return demand[["skill", "skill_type", "vacancies", "share_pct", "weighted_demand",
                   *COLLECTIONS, "skill_uri"]].reset_index(drop=True)


def skill_trend(con: duckdb.DuckDBPyConnection, f: DemandFilter,
                skill_uris: list[str]) -> pd.DataFrame:
    """Per quarter and skill: vacancies mentioning it and their share of that quarter's
    vacancies (a share, so a busier quarter does not look like a trend)."""
    sql, params = _weighted(f, con, keyed=True)
    return con.execute(sql + """
        , per_quarter AS (SELECT quarter, count(*) AS total FROM wv
                          WHERE coalesce(quarter, '') <> '' GROUP BY 1)
        , wanted AS (SELECT uri AS skill_uri, preferred_label AS skill FROM esco_skill
                     WHERE uri IN (SELECT unnest(?)))
        , hits AS (SELECT wv.quarter, k.skill_uri, count(*) AS n
                   FROM skill_mention m JOIN wv USING (vacancy_key)
                   JOIN skill_key k USING (skill_key)
                   WHERE k.skill_uri IN (SELECT skill_uri FROM wanted) GROUP BY 1, 2)
        SELECT q.quarter, w.skill, coalesce(h.n, 0) AS vacancies,
               round(coalesce(h.n, 0) * 100.0 / q.total, 2) AS share_pct, w.skill_uri
        FROM per_quarter q CROSS JOIN wanted w
        LEFT JOIN hits h ON h.quarter = q.quarter AND h.skill_uri = w.skill_uri
        ORDER BY w.skill, q.quarter""", [*params, list(skill_uris)]).df()


def emerging_skills(con: duckdb.DuckDBPyConnection, f: DemandFilter, *,
                    min_vacancies: int = 10, n: int = 20) -> pd.DataFrame:
    """Skills whose share of vacancies grew most from the previous quarter to the latest one
    in the filter. Only skills with at least `min_vacancies` mentions in the latest quarter
    rank, so a skill going from 1 ad to 2 is not "emerging". Growth is on shares, not counts:
    a busier quarter lifts every count. Skills absent the quarter before rank first (growth
    empty, `previous_vacancies` 0)."""
    columns = ["skill", "latest_quarter", "vacancies", "previous_vacancies", "share_pct",
               "previous_share_pct", "growth_pct", "skill_uri"]
    sql, params = _weighted(f, con, keyed=True)
    per_quarter = con.execute(sql + " SELECT quarter, count(*) FROM wv WHERE "
                              "coalesce(quarter, '') <> '' GROUP BY 1 ORDER BY 1 DESC LIMIT 2",
                              params).fetchall()
    if len(per_quarter) < 2:
        return pd.DataFrame(columns=columns)
    (latest, total_now), (previous, total_before) = per_quarter
    counts = con.execute(sql + """
        , counts AS (
            SELECT m.skill_key, count(*) FILTER (WHERE wv.quarter = ?) AS vacancies,
                   count(*) FILTER (WHERE wv.quarter = ?) AS previous_vacancies
            FROM skill_mention m JOIN wv USING (vacancy_key)
            WHERE wv.quarter IN (?, ?) GROUP BY 1)
        SELECT k.skill_uri, c.vacancies, c.previous_vacancies
        FROM counts c JOIN skill_key k USING (skill_key)""",
        [*params, latest, previous, latest, previous]).df()
    counts = counts[counts["vacancies"] >= min_vacancies]
    counts["share_pct"] = (counts["vacancies"] * 100.0 / total_now).round(2)
    counts["previous_share_pct"] = (counts["previous_vacancies"] * 100.0 / total_before).round(2)
    before = counts["previous_vacancies"] / total_before
    counts["growth_pct"] = ((counts["vacancies"] / total_now / before.where(before > 0) - 1)
                            * 100).round(1)
    counts = counts.merge(_labels(con, counts["skill_uri"])[["skill_uri", "skill"]],
                          on="skill_uri", how="left").assign(latest_quarter=latest)
    counts = counts.assign(_new=counts["previous_vacancies"] == 0).sort_values(
        ["_new", "growth_pct", "vacancies", "skill"], ascending=[False, False, False, True])
    return counts[columns].head(n).reset_index(drop=True)


def collection_shares(con: duckdb.DuckDBPyConnection, f: DemandFilter) -> pd.DataFrame:
    """Per quarter ('all' for the whole filter) and ESCO collection (green, digital): the share
    of vacancies asking for at least one skill of that collection."""
    sql, params = _weighted(f, con, keyed=True)
    return con.execute(sql + """
        , collection_key AS (
            SELECT DISTINCT k.skill_key, c.collection
            FROM skill_key k JOIN esco_collection_member c ON c.uri = k.skill_uri
            WHERE c.collection IN (SELECT unnest(?)))
        , flagged AS (SELECT DISTINCT m.vacancy_key, c.collection
                      FROM skill_mention m JOIN collection_key c USING (skill_key))
        , periods AS (SELECT vacancy_key, quarter AS period FROM wv
                      WHERE coalesce(quarter, '') <> ''
                      UNION ALL SELECT vacancy_key, 'all' FROM wv)
        , totals AS (SELECT period, count(*) AS vacancies FROM periods GROUP BY 1)
        SELECT t.period, c.collection, t.vacancies,
               count(fl.vacancy_key) AS vacancies_with,
               round(count(fl.vacancy_key) * 100.0 / t.vacancies, 1) AS share_pct
        FROM totals t CROSS JOIN (SELECT unnest(?) AS collection) c
        LEFT JOIN periods p ON p.period = t.period
        LEFT JOIN flagged fl ON fl.vacancy_key = p.vacancy_key AND fl.collection = c.collection
        GROUP BY 1, 2, 3 ORDER BY t.period = 'all', t.period, c.collection""",
        [*params, list(COLLECTIONS), list(COLLECTIONS)]).df()


def _supply_sql(con: duckdb.DuckDBPyConnection, region_level: str | None) -> str:
    """SQL for (area, skill_uri, holders); see `skill_supply`."""
    if not table_exists(con, "skill_supply") or region_level == "labour_market_region":
        return ("SELECT NULL::VARCHAR AS area, NULL::VARCHAR AS skill_uri, "
                "0::BIGINT AS holders WHERE FALSE")
    area = {None: "'all'", "nuts3": "region", "nuts2": "left(region, 4)"}[region_level]
    return (f"SELECT {area} AS area, skill_uri, sum(holders)::BIGINT AS holders "
            "FROM skill_supply GROUP BY 1, 2")


def skill_supply(con: duckdb.DuckDBPyConnection, region_level: str | None) -> pd.DataFrame:
    """Per area and skill: candidates holding it (declared, or through a credential that
    teaches it), from the `skill_supply` table the candidates pipeline stores. Candidates live
    in NUTS 3 regions, so area is that code at `region_level` ('nuts2' = its first four
    characters), or 'all' for None; labour-market regions do not nest in NUTS, so there no
    area has holders and supply is the credential catalogue alone."""
    return con.execute(_supply_sql(con, region_level)).df()


def _coverage_sql(con: duckdb.DuckDBPyConnection) -> str:
    if not table_exists(con, "credential_skill"):
        return "SELECT NULL::VARCHAR AS skill_uri, 0::BIGINT AS credentials WHERE FALSE"
    return ("SELECT skill_uri, count(DISTINCT credential_id) AS credentials "
            "FROM credential_skill WHERE accepted GROUP BY 1")


def credential_coverage(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per skill: how many credentials teach it (accepted mappings)."""
    return con.execute(_coverage_sql(con)).df()


def _gap_numbers(con: duckdb.DuckDBPyConnection, f: DemandFilter, by: str | None,
                 holder_share: float) -> pd.DataFrame:
    """The gap index per area and skill (URIs only: labels are looked up for what is shown),
    sorted by area, gap descending, then skill URI. One query: at a million vacancies the
    per-skill demand is tens of millions of mention rows."""
    if by not in (None, "region", "sector"):
        raise ValueError("by must be None, 'region' or 'sector'")
    area = {None: "'all'", "region": "wv.region", "sector": "wv.sector_code"}[by]
    # sectors (and the whole selection) have no candidates of their own: everyone counts
    supply_area = "d.area" if by == "region" else "'all'"
    sql, params = _weighted(f, con, keyed=True)
    return con.execute(sql + _demand_cte(area) + f"""
        , supply AS ({_supply_sql(con, f.region_level if by == "region" else None)})
        , holder_total AS (SELECT area, sum(holders) AS total FROM supply GROUP BY 1)
        , coverage AS ({_coverage_sql(con)})
        , links AS (SELECT coalesce(sum(credentials), 0) AS total FROM coverage)
        , parts AS (
            SELECT d.*, coalesce(s.holders, 0)::BIGINT AS holders,
                   coalesce(c.credentials, 0)::BIGINT AS credentials,
                   d.weighted_demand * 100.0
                       / sum(d.weighted_demand) OVER (PARTITION BY d.area) AS demand_share_pct,
                   coalesce(s.holders / nullif(h.total, 0), 0) AS holder_part,
                   coalesce(c.credentials / nullif(l.total, 0), 0) AS credential_part,
                   -- an area without candidates (or a catalogue without skills) leans on
                   -- the other side alone
                   CASE WHEN coalesce(h.total, 0) = 0 THEN 0.0
                        WHEN l.total = 0 THEN 1.0 ELSE ? END AS beta
            FROM demand d CROSS JOIN links l
            LEFT JOIN supply s ON s.area = {supply_area} AND s.skill_uri = d.skill_uri
            LEFT JOIN holder_total h ON h.area = {supply_area}
            LEFT JOIN coverage c ON c.skill_uri = d.skill_uri)
        -- rounded before ordering: sums taken in another order (the demand index or the
        -- inline definition, parallel threads) differ in the last bits and swapped ties
        SELECT area, skill_uri, vacancies, weighted_demand, holders, credentials,
               round(demand_share_pct, 9) AS demand_share_pct,
               round((beta * holder_part + (1 - beta) * credential_part) * 100, 9)
                   AS supply_share_pct,
               round(demand_share_pct
                   - (beta * holder_part + (1 - beta) * credential_part) * 100, 9) AS gap_index
        FROM parts ORDER BY area, gap_index DESC, skill_uri""",
        [*params, holder_share]).df()


def skill_gap(con: duckdb.DuckDBPyConnection, f: DemandFilter, *, by: str | None = None,
              holder_share: float = HOLDER_SHARE, top: int | None = None) -> pd.DataFrame:
    """The gap index per area and skill (docs/gap_index.md): 100 x (demand share - supply
    share), where demand share is the skill's part of the area's shortage-weighted skill
    mentions and supply share mixes (by `holder_share`) its part of the area's candidate
    holdings with its part of all credential-skill links. Positive = under-supplied.

    by: None (the whole filter), 'region' (the filter's region level) or 'sector'.
    top: keep the `top` highest gaps per area."""
    gap = _gap_numbers(con, f, by, holder_share)
    if top:
        gap = gap.groupby("area", sort=False).head(top)
    gap = gap.merge(_labels(con, gap["skill_uri"]), on="skill_uri", how="left")
    gap = gap.sort_values(["area", "gap_index", "skill"], ascending=[True, False, True])
    for column in ("weighted_demand", "demand_share_pct", "supply_share_pct", "gap_index"):
        gap[column] = gap[column].round(3)
    return gap[["area", "skill", "vacancies", "weighted_demand", "demand_share_pct", "holders",
                "credentials", "supply_share_pct", "gap_index", *COLLECTIONS, "skill_uri"]
               ].reset_index(drop=True)


def regional_gap(con: duckdb.DuckDBPyConnection, f: DemandFilter,
                 holder_share: float = HOLDER_SHARE) -> pd.DataFrame:
    """Per region at the filter's level: vacancies, shortage-weighted skill demand, candidates,
    the mismatch (sum of the positive gap indexes: the part of the region's demand, in %, that
    its supply mix does not mirror; 0 = mirrors it exactly, 100 = no overlap) and the skill
    with the largest gap. What the choropleth colours."""
    gap = _gap_numbers(con, f, "region", holder_share)
    columns = ["region_code", "name", "vacancies", "weighted_demand", "candidates",
               "mismatch_pct", "top_gap_skill"]
    if gap.empty:
        return pd.DataFrame(columns=columns)
    summary = gap.groupby("area").agg(
        weighted_demand=("weighted_demand", "sum"),
        mismatch_pct=("gap_index", lambda g: g.clip(lower=0).sum()),
        top_gap_uri=("skill_uri", "first"))
    labels = _labels(con, summary["top_gap_uri"]).set_index("skill_uri")["skill"]
    summary["top_gap_skill"] = summary["top_gap_uri"].map(labels)
    where, params = f.where()
    vacancies = con.execute(f"SELECT v.{f.region_level} AS area, count(*) AS vacancies "
                            f"FROM vacancy v WHERE {where} GROUP BY 1",
                            params).df().set_index("area")["vacancies"]
    candidates = _candidates_per_area(con, f.region_level)
    summary["vacancies"] = vacancies.reindex(summary.index).fillna(0).astype("int64")
    summary["candidates"] = candidates.reindex(summary.index).fillna(0).astype("int64")
    names = (con.execute("SELECT region_code, name FROM region").df()
             .drop_duplicates("region_code").set_index("region_code")["name"]
             if table_exists(con, "region") else pd.Series(dtype=str))
    summary["name"] = names.reindex(summary.index).fillna(pd.Series(summary.index,
                                                                    index=summary.index))
    summary = summary.rename_axis("region_code").reset_index()
    summary["weighted_demand"] = summary["weighted_demand"].round(1)
    summary["mismatch_pct"] = summary["mismatch_pct"].round(1)
    return summary.sort_values(["mismatch_pct", "vacancies"], ascending=[False, False])[
        columns].reset_index(drop=True)


def _candidates_per_area(con: duckdb.DuckDBPyConnection, region_level: str) -> pd.Series:
    if not table_exists(con, "candidate") or region_level not in ("nuts2", "nuts3"):
        return pd.Series(dtype="int64")
    area = "left(region, 4)" if region_level == "nuts2" else "region"
    return con.execute(f"SELECT {area} AS area, count(*) AS n FROM candidate GROUP BY 1"
                       ).df().set_index("area")["n"]


def region_shapes(con: duckdb.DuckDBPyConnection, level: str,
                  codes: list[str] | None = None) -> pd.DataFrame:
    """Region outlines (GeoJSON strings) at `level`, for a map; only regions with a geometry
    in the warehouse (the countries the region pipeline keeps outlines for)."""
    if not table_exists(con, "region"):
        return pd.DataFrame(columns=["region_code", "name", "country", "geometry_geojson"])
    cond, params = "", [level]
    if codes is not None:
        cond, params = "AND region_code IN (SELECT unnest(?))", [level, list(codes)]
    return con.execute(f"""
        SELECT region_code, name, country, geometry_geojson FROM region
        WHERE level = ? AND coalesce(geometry_geojson, 'nan') <> 'nan' {cond}
        ORDER BY region_code""", params).df()
