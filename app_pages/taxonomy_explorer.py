"""Taxonomy explorer: search skills and occupations, then look one up in full."""

import pandas as pd
import streamlit as st

from app_pages import common
from skillmatch import taxonomy

st.title("Taxonomy explorer")
release = common.require_taxonomy()

left, middle, right = st.columns([4, 2, 1])
query = left.text_input("Search ESCO skills and occupations (English or Dutch)",
                        placeholder="e.g. weld metal, verpleegkundige, data analysis",
                        key="query")
kind = middle.radio("Show", ["all", "skills", "occupations"], horizontal=True, key="kind")
language = right.selectbox("Label language", ["any", "en", "nl"], key="language")

if not query.strip():
    st.info("Type a skill, an occupation or a job title to search the taxonomy.")
    common.footer()
    st.stop()

common.wait_for_index()
index = common.search_index(release)
hits = index.search(
    query,
    concept_type={"skills": "skill", "occupations": "occupation"}.get(kind),
    language=None if language == "any" else language,
    top_k=15,
)
if hits.empty:
    st.warning(f"Nothing in ESCO matches “{common.escape(query)}”. Try other words or "
               "another language.")
    common.footer()
    st.stop()

st.dataframe(
    hits[["score", "concept_type", "preferred_label", "matched_label", "language", "found_by"]],
    hide_index=True,
    width="stretch",
    column_config={
        "score": st.column_config.ProgressColumn("score", min_value=0.0, max_value=1.0,
                                                 format="%.2f"),
        "found_by": st.column_config.TextColumn("found by"),
    },
)
st.caption("Score combines meaning (embedding similarity) and spelling (fuzzy match); "
           "“found by” says which of the two proposed the match.")
common.csv_download(hits, "esco_search.csv", "Download results as CSV")

options = {f"{r.preferred_label} ({r.concept_type})": r.uri for r in hits.itertuples()}
chosen = st.selectbox("Look up", list(options), key="concept")
uri = options[chosen]

with common.connection() as con:
    occupation = taxonomy.occupation_detail(con, uri)
    skill = None if occupation else taxonomy.skill_detail(con, uri)

if occupation:
    occ = occupation["occupation"]
    st.header(common.escape(occ["preferred_label"]))
    isco = occupation["isco_group"]
    if isco:
        st.markdown(f"**ISCO-08 group {common.escape(isco['code'])}** — "
                    f"{common.escape(isco['preferred_label'])}"
                    + (f" · _{common.escape(isco['label_nl'])}_" if isco.get("label_nl") else ""))
    st.markdown(f"ESCO code {common.escape(occ['esco_code'])} · {common.link(uri)}")
    st.markdown(common.escape(occ["description"]))
    essential, optional = occupation["essential"], occupation["optional"]
    a, b = st.columns(2)
    a.subheader(f"Essential skills ({len(essential)})")
    a.dataframe(essential[["skill", "skill_type", "reuse_level"]], hide_index=True,
                width="stretch")
    b.subheader(f"Optional skills ({len(optional)})")
    b.dataframe(optional[["skill", "skill_type", "reuse_level"]], hide_index=True,
                width="stretch")
    common.csv_download(
        pd.concat([essential.assign(relation="essential"), optional.assign(relation="optional")]),
        "occupation_skills.csv", "Download skills as CSV")
    with st.expander("All labels (English and Dutch)"):
        st.dataframe(occupation["labels"], hide_index=True, width="stretch")
elif skill:
    sk = skill["skill"]
    st.header(common.escape(sk["preferred_label"]))
    st.markdown(f"**{common.escape(sk['skill_type'] or 'skill')}** · reuse level: "
                f"{common.escape(sk['reuse_level'] or '—')} · {common.link(uri)}")
    if skill["collections"]:
        st.markdown("Collections: " + " ".join(f"`{c}`" for c in skill["collections"]))
    st.markdown(common.escape(sk["description"]))
    broader = skill["broader"]
    if len(broader):
        st.subheader("Place in the hierarchy")
        st.markdown(" → ".join(map(common.escape, broader["label"]))
                    + f" → **{common.escape(sk['preferred_label'])}**")
        st.caption("Broadest group first; a skill can sit under more than one group.")
    occupations = skill["occupations"]
    st.subheader(f"Occupations that need it ({len(occupations)})")
    counts = occupations["relation_type"].value_counts()
    st.caption(f"{counts.get('essential', 0)} as essential, {counts.get('optional', 0)} as "
               "optional skill.")
    st.dataframe(occupations[["relation_type", "occupation", "isco_code"]], hide_index=True,
                 width="stretch")
    common.csv_download(occupations, "skill_occupations.csv", "Download occupations as CSV")
    if len(skill["narrower"]):
        with st.expander(f"Narrower skills ({len(skill['narrower'])})"):
            st.dataframe(skill["narrower"][["skill"]], hide_index=True, width="stretch")
    if len(skill["related"]):
        with st.expander(f"Related skills ({len(skill['related'])})"):
            st.dataframe(skill["related"][["relation_type", "skill"]], hide_index=True,
                         width="stretch")
    with st.expander("All labels"):
        st.dataframe(skill["labels"], hide_index=True, width="stretch")

common.footer()
