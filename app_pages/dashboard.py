"""Regional labour-market dashboard (consortia): demand, shortages and the skill gap."""

from __future__ import annotations

import json

import altair as alt
import pandas as pd
import streamlit as st

from app_pages import common
from skillmatch import analytics
from skillmatch.analytics import DemandFilter

LEVELS = {"NUTS 2": "nuts2", "NUTS 3": "nuts3", "Labour-market region (NL)": "labour_market_region"}

st.title("Regional labour-market dashboard")
st.caption("For regional consortia: which skills employers ask for, where, how fast demand "
           "moves, and how well credentials and candidates cover it.")
common.require_tables("vacancy", "vacancy_skill", what="vacancies")
options = common.cached(analytics.filter_options)

with st.sidebar:
    st.header("Filters")
    level = LEVELS[st.radio("Region layer", list(LEVELS), key="level")]
    regions = options["regions"][level]
    labels = {r.region_code: f"{r.name} ({r.region_code}) · {r.vacancies:,}"
              for r in regions.itertuples()}
    chosen_regions = st.multiselect("Regions", list(labels), format_func=labels.get,
                                    key="dash_regions", placeholder="all regions")
    sectors = {r.sector_code: f"{r.sector_code} {r.name} · {r.vacancies:,}"
               for r in options["sectors"].itertuples()}
    chosen_sectors = st.multiselect("Sector (SBI section)", list(sectors),
                                    format_func=sectors.get, key="dash_sectors",
                                    placeholder="all sectors")
    isco = {r.code: f"{r.code} {r.name}" for r in options["isco_groups"].itertuples()}
    chosen_isco = st.multiselect("Occupation group (ISCO major)", list(isco),
                                 format_func=isco.get, key="isco", placeholder="all groups")
    quarters = options["quarters"]
    period = None
    if len(quarters) > 1:
        period = st.select_slider("Period", quarters, value=(quarters[0], quarters[-1]),
                                  key="period")

flt = DemandFilter(region_level=level, regions=tuple(chosen_regions),
                   sectors=tuple(chosen_sectors), isco_groups=tuple(chosen_isco),
                   period=tuple(period) if period and period != (quarters[0], quarters[-1])
                   else None)
figures = common.cached(analytics.key_figures, flt)
if not figures["vacancies"]:
    st.warning("No vacancies match these filters. Widen the period or clear a filter.")
    common.footer()
    st.stop()

cols = st.columns(5)
cols[0].metric("Vacancies", f"{figures['vacancies']:,.0f}",
               help="Canonical ads: a re-posted ad counts once.")
cols[1].metric("Postings incl. re-posts", f"{figures['postings']:,.0f}")
cols[2].metric("Employers", f"{figures['employers']:,.0f}")
cols[3].metric("Occupations", f"{figures['occupations']:,.0f}",
               help=f"{figures['with_occupation_pct']:.0f} % of vacancies have an accepted "
                    "ESCO occupation.")
cols[4].metric("Mean shortage weight", f"{figures['mean_shortage_weight']:.2f}",
               help="CBS sector tension of these vacancies, 1 = national average.")


def reading(text: str) -> None:
    """A chart's caption; callers pass source text (labels, names) through `common.escape`."""
    st.caption(f"**Reading:** {text}")


def bar(frame: pd.DataFrame, x: str, y: str, title: str, color: str | None = None) -> None:
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X(f"{x}:Q", title=x.replace("_", " ")),
        y=alt.Y(f"{y}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=320)),
        tooltip=list(frame.columns[:6]),
        **({"color": alt.Color(f"{color}:N")} if color else {}),
    ).properties(title=title, height=max(160, 22 * len(frame)))
    st.altair_chart(chart, width="stretch")


demand_tab, skills_tab, gap_tab, shortage_tab = st.tabs(
    ["Occupations", "Demanded skills", "Skill gap", "Sector shortages (CBS)"])

with demand_tab:
    occupations = common.cached(analytics.top_occupations, flt, 15)
    if occupations.empty:
        st.info("No vacancy in this selection has an accepted ESCO occupation.")
    else:
        bar(occupations, "vacancies", "occupation", "Most demanded occupations")
        top = occupations.iloc[0]
        reading(f"“{common.escape(top.occupation)}” is the most demanded occupation here: "
                f"{top.vacancies:,} vacancies, {top.share_pct} % of the selection.")
        st.dataframe(occupations.drop(columns="occupation_uri"), hide_index=True,
                     width="stretch")
        common.csv_download(occupations, "top_occupations.csv")

with skills_tab:
    skills = common.cached(analytics.top_skills, flt, 20)
    bar(skills.assign(kind=skills["green"].map({True: "green", False: ""})
                      .where(skills["green"], skills["digital"].map({True: "digital",
                                                                     False: "other"}))),
        "vacancies", "skill", "Most demanded skills", color="kind")
    if not skills.empty:
        first = skills.iloc[0]
        reading(f"“{common.escape(first.skill)}” is asked for in {first.share_pct} % of vacancies "
                f"({first.vacancies:,}); colour marks ESCO's green and digital skills.")
    st.dataframe(skills.drop(columns="skill_uri"), hide_index=True, width="stretch")
    common.csv_download(skills, "top_skills.csv")

    st.subheader("Trend of the top skills")
    trend = common.cached(analytics.skill_trend, flt, tuple(skills["skill_uri"].head(5)))
    if trend["quarter"].nunique() > 1:
        st.altair_chart(alt.Chart(trend).mark_line(point=True).encode(
            x=alt.X("quarter:O", title=None), y=alt.Y("share_pct:Q", title="% of vacancies"),
            color=alt.Color("skill:N", legend=alt.Legend(orient="bottom", columns=2,
                                                         labelLimit=300)),
            tooltip=["quarter", "skill", "vacancies", "share_pct"]), width="stretch")
        reading("Share of each quarter's vacancies that ask for the skill; a share, so a "
                "busier quarter does not show up as growth.")
        common.csv_download(trend, "skill_trend.csv")
    else:
        st.info("The selection spans a single quarter: no trend to draw.")

    st.subheader("Emerging skills")
    min_volume = st.number_input("Minimum vacancies in the latest quarter", 1, 1000, 10,
                                 key="min_volume")
    emerging = common.cached(analytics.emerging_skills, flt, min_vacancies=int(min_volume))
    if emerging.empty:
        st.info("Emerging skills need two quarters with vacancies and skills above the "
                "minimum volume.")
    else:
        reading("Growth of each skill's share of vacancies in "
                f"{common.escape(emerging.latest_quarter[0])} "
                "against the quarter before; skills below the minimum volume do not rank, "
                "new skills (no mention the quarter before) come first.")
        st.dataframe(emerging.drop(columns="skill_uri"), hide_index=True, width="stretch")
        common.csv_download(emerging, "emerging_skills.csv")

    st.subheader("Green and digital skills")
    shares = common.cached(analytics.collection_shares, flt)
    overall = shares[shares["period"] == "all"].set_index("collection")["share_pct"]
    per_quarter = shares[shares["period"] != "all"]
    if per_quarter["period"].nunique() > 1:
        st.altair_chart(alt.Chart(per_quarter).mark_line(point=True).encode(
            x=alt.X("period:O", title=None), y=alt.Y("share_pct:Q", title="% of vacancies"),
            color=alt.Color("collection:N", scale=alt.Scale(domain=["green", "digital"],
                                                             range=["#2e7d32", "#1565c0"])),
            tooltip=["period", "collection", "vacancies", "vacancies_with", "share_pct"]),
            width="stretch")
    reading(f"{overall.get('green', 0)} % of vacancies ask for at least one green skill and "
            f"{overall.get('digital', 0)} % for a digital one (ESCO collections).")
    common.csv_download(shares, "green_digital_shares.csv")

with gap_tab:
    st.markdown("**Gap index** = demand share − supply share, in percentage points: demand "
                "is skill mentions weighted by sector shortage; supply mixes candidates "
                "holding the skill and credentials teaching it (definition and a worked "
                "example: `docs/gap_index.md`).")
    regional = common.cached(analytics.regional_gap, flt)
    shapes = common.cached(analytics.region_shapes, level)
    if not shapes.empty and not regional.empty:
        values = regional.set_index("region_code")
        with_data = shapes[shapes["region_code"].isin(values.index)]
        countries = sorted(with_data["country"].unique()) or sorted(shapes["country"].unique())
        country = st.radio("Map", countries, horizontal=True, key="map_country",
                           index=countries.index("NL") if "NL" in countries else 0,
                           format_func=common.escape)
        features = [{"type": "Feature", "geometry": json.loads(r.geometry_geojson),
                     "properties": {"region": f"{r.name} ({r.region_code})",
                                    **({k: (None if pd.isna(v) else v)
                                        for k, v in values.loc[r.region_code].items()}
                                       if r.region_code in values.index else {})}}
                    for r in shapes.itertuples() if r.country == country]
        outline = alt.Chart(alt.Data(values=features)).mark_geoshape(
            fill="#e0e0e0", stroke="white", strokeWidth=0.5).encode(
            tooltip=[alt.Tooltip("properties.region:N", title="region (no vacancies)")])
        filled = alt.Chart(alt.Data(values=[f for f in features
                                            if "mismatch_pct" in f["properties"]])
                           ).mark_geoshape(stroke="white", strokeWidth=0.5).encode(
            color=alt.Color("properties.mismatch_pct:Q", title="mismatch %",
                            scale=alt.Scale(scheme="orangered", domain=[0, 100])),
            tooltip=[alt.Tooltip("properties.region:N", title="region"),
                     alt.Tooltip("properties.vacancies:Q", title="vacancies"),
                     alt.Tooltip("properties.candidates:Q", title="candidates"),
                     alt.Tooltip("properties.mismatch_pct:Q", title="mismatch %"),
                     alt.Tooltip("properties.top_gap_skill:N", title="largest gap")])
        st.altair_chart((outline + filled).project("mercator").properties(
            height=480, title="Skill mismatch per region (grey: no vacancies)"),
            width="stretch")
    if not regional.empty:
        worst = regional.iloc[0]
        reading("Darker regions' supply mirrors less of their demand; "
                f"{common.escape(worst['name'])} has the highest mismatch "
                f"({worst.mismatch_pct} %), largest gap: “{common.escape(worst.top_gap_skill)}”.")
        st.dataframe(regional, hide_index=True, width="stretch")
        common.csv_download(regional, "regional_mismatch.csv")

    st.subheader("Skills with the largest gap")
    by = st.radio("Per", ["whole selection", "region", "sector"], horizontal=True, key="gap_by")
    gap = common.cached(analytics.skill_gap, flt,
                        by=None if by == "whole selection" else by, top=20)
    if gap.empty:
        st.info("No skill demand in this selection.")
    else:
        top = gap.iloc[0]
        reading(f"“{common.escape(top.skill)}” takes {top.demand_share_pct:.1f} % of the weighted "
                f"demand but {top.supply_share_pct:.1f} % of supply: gap "
                f"{top.gap_index:+.1f} points ({top.holders:,} candidates hold it, "
                f"{top.credentials} credentials teach it).")
        st.dataframe(gap.drop(columns="skill_uri"), hide_index=True, width="stretch",
                     column_config={"gap_index": st.column_config.NumberColumn(format="%+.2f")})
        common.csv_download(gap, "skill_gap.csv")

with shortage_tab:
    shortage = common.cached(analytics.shortage_by_sector, tuple(chosen_sectors))
    if shortage.empty:
        st.info("No CBS shortage statistics in the warehouse: run "
                "`skillmatch pipeline run shortage`.")
    else:
        latest = shortage[shortage["quarter"] == shortage["quarter"].max()]
        bar(latest.assign(label=latest["sector_code"] + " " + latest["sector"]),
            "shortage_weight", "label",
            f"Shortage weight per sector, {latest['quarter'].iloc[0]}")
        top = latest.sort_values("shortage_weight", ascending=False).iloc[0]
        reading(f"Above 1 = vacancies harder to fill than average (CBS tension, adjusted for "
                f"growth); highest: {common.escape(top.sector)} ({top.shortage_weight:.2f}).")
        recent = shortage[shortage["quarter"] >= f"{int(latest['quarter'].iloc[0][:4]) - 5}"]
        st.altair_chart(alt.Chart(recent).mark_line().encode(
            x=alt.X("quarter:O", title=None, axis=alt.Axis(labelOverlap=True)),
            y=alt.Y("tension_4q:Q", title="open per filled vacancy (4 quarters)"),
            color=alt.Color("sector:N", legend=alt.Legend(orient="bottom", columns=3)),
            tooltip=["sector", "quarter", "open_vacancies", "tension_4q", "shortage_weight"]),
            width="stretch")
        reading("Tension per sector over the last five years: how many vacancies were open "
                "for each one filled.")
        st.dataframe(latest, hide_index=True, width="stretch")
        common.csv_download(shortage, "sector_shortage.csv")

common.footer()
