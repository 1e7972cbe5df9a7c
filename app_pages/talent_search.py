"""Talent search (employers): from a vacancy text or an occupation and skills to ranked,
explained, pseudonymous candidates and the credentials that would close their gaps."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import common
from skillmatch import matching, recommend
from skillmatch.candidates import candidate_regions
from skillmatch.progress import MAPPING_INDEX

st.title("Talent search")
st.caption("For employers: candidates whose micro-credentials and declared skills cover a "
           "vacancy, every match explained. Candidates are pseudonymous: no name or contact "
           "detail is stored or shown.")
if not common.settings().talent_search_enabled:
    st.warning("Talent search is switched off in this deployment: it shows candidate-level "
               "data. An administrator enables it with `talent_search_enabled = true` in "
               "`skillmatch.toml` (behind a login: see the README, \"Deploying the app\").")
    common.footer()
    st.stop()
common.require_tables("candidate", "credential", what="candidate profiles")
version = common.version()

mode = st.radio("Start from", ["A vacancy text", "An occupation and skills"], horizontal=True,
                key="mode")
if mode == "A vacancy text":
    text = st.text_area("Paste the vacancy text", height=180, key="vacancy_text",
                        placeholder="e.g. We are looking for a registered nurse who can "
                                    "administer medication, assess patients' needs …")
    if st.button("Extract requirements", key="extract", type="primary"):
        if not text.strip():
            st.warning("Paste a vacancy text first.")
        else:
            common.wait_for_index(MAPPING_INDEX)
            with st.spinner("Mapping the text to ESCO skills…"):
                found = [m for m in common.skill_extractor(version).extract(text[:100_000])
                         if m.accepted]
            with common.connection() as con:
                requirements = matching.requirements_from_skills(con, [m.uri for m in found])
            st.session_state["requirements"] = requirements
            st.session_state["evidence"] = pd.DataFrame(
                [{"skill": m.label, "score": round(m.score, 3), "evidence": m.evidence}
                 for m in found]).drop_duplicates("skill")
            st.session_state.pop("results", None)
else:
    occupation_of = common.choices("occupation")
    skill_of = common.choices("skill")
    left, right = st.columns(2)
    occupation = left.selectbox("ESCO occupation", list(occupation_of), index=None,
                                key="occupation", placeholder="type to search occupations")
    include_optional = left.checkbox("Include the occupation's optional skills", value=False,
                                     key="include_optional")
    picked = right.multiselect("ESCO skills (essential)", list(skill_of), key="skills",
                               placeholder="type to search skills")
    if st.button("Use these requirements", key="use", type="primary"):
        with common.connection() as con:
            parts = [matching.requirements_from_skills(con, [skill_of[s] for s in picked])]
            if occupation:
                parts.insert(0, matching.requirements_for_occupation(
                    con, occupation_of[occupation], include_optional=include_optional))
        requirements = matching.normalise_requirements(pd.concat(parts, ignore_index=True))
        if requirements.empty:
            st.warning("Pick an occupation or at least one skill.")
        st.session_state["requirements"] = requirements
        st.session_state["evidence"] = None
        st.session_state.pop("results", None)

requirements = st.session_state.get("requirements")
if requirements is None:
    st.info("Extract the requirements from a vacancy text, or pick an occupation and skills.")
    common.footer()
    st.stop()
if requirements.empty:
    st.warning("No ESCO skill was recognised. Add detail to the text or pick skills by hand.")
    common.footer()
    st.stop()

st.subheader(f"Requirements ({len(requirements)})")
st.caption("Edit before searching: set a skill to optional, change its weight (essential 1.0, "
           "optional 0.5 by default) or delete the row.")
edited = st.data_editor(
    requirements, key="requirements_editor", hide_index=True, width="stretch",
    num_rows="dynamic", disabled=["skill_uri", "skill_label"],
    column_config={
        "importance": st.column_config.SelectboxColumn(options=list(matching.IMPORTANCES),
                                                       required=True),
        "weight": st.column_config.NumberColumn(min_value=0.0, step=0.25),
        "skill_uri": st.column_config.LinkColumn("ESCO", display_text="open"),
    })
evidence = st.session_state.get("evidence")
if evidence is not None and not evidence.empty:
    with st.expander("Where the engine found each skill in the text"):
        st.dataframe(evidence, hide_index=True, width="stretch")
try:
    requirements = matching.normalise_requirements(edited)
except ValueError as exc:
    st.error(f"The requirement table needs a fix: {common.escape(exc)}")
    st.stop()

regions = common.cached(candidate_regions)
labels = {r.region_code: f"{r.name} ({r.region_code}, {r.level.upper()}) · "
                         f"{r.candidates:,} candidates" for r in regions.itertuples()}
left, right = st.columns([3, 1])
chosen = left.multiselect("Region", list(labels), format_func=labels.get,
                          key="talent_regions", placeholder="all regions")
top_k = right.number_input("Show", 5, 100, 20, step=5, key="top_k")

if st.button("Search candidates", key="search", type="primary"):
    index = common.talent_index(version)
    st.session_state["results"] = index.search(requirements, regions=tuple(chosen),
                                               top_k=int(top_k))
results = st.session_state.get("results")
if results is None:
    st.stop()
if results.empty:
    st.warning("No candidate holds any of these skills in the chosen regions.")
    common.footer()
    st.stop()

index = common.talent_index(version)
label_of = {uri: label for label, uri in common.choices("occupation").items()}
shown = results.assign(
    current_occupation=results["current_occupation"].map(label_of)
    .fillna(results["current_occupation"]),
    essential=results["essential_matched"].astype(str) + " / "
    + results["essential_total"].astype(str),
    optional=results["optional_matched"].astype(str) + " / "
    + results["optional_total"].astype(str))
st.subheader(f"Best {len(results)} of {index.n_candidates:,} candidates")
st.dataframe(
    shown[["rank", "candidate_id", "score", "essential", "optional", "region",
           "current_occupation", "matched_skills", "missing_skills"]],
    hide_index=True, width="stretch", key="results_table",
    column_config={"score": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0,
                                                            format="%.2f")})
best = results.iloc[0]
st.caption(f"**Reading:** score = weight of the requirements a candidate holds / total "
           f"weight. The best match, {common.escape(best.candidate_id)}, holds "
           f"{best.essential_matched} of {best.essential_total} essential skills "
           f"(score {best.score:.2f}).")
common.csv_download(results, "talent_search.csv")

st.subheader("Why these candidates")
catalogue = common.cached(recommend.load_catalogue)
for row in results.head(10).itertuples():
    with st.expander(f"{row.rank}. {common.escape(row.candidate_id)} — score {row.score:.2f}, "
                     f"missing {len(row.missing_skills)}", expanded=row.rank == 1):
        explained = index.explain(row.candidate_id, requirements)
        st.dataframe(explained[["skill_label", "importance", "weight", "matched", "via",
                                "evidence"]], hide_index=True, width="stretch")
        if row.missing_skill_uris:
            closing = recommend.credentials_for_missing(row.missing_skill_uris, catalogue,
                                                        top_k=3)
            if closing.empty:
                st.caption("No credential in the catalogue teaches the missing skills.")
            else:
                st.markdown("**Micro-credentials that would close the missing skills**")
                st.dataframe(closing[["title", "provider", "ects", "covers",
                                      "weight_per_ects"]], hide_index=True, width="stretch")
common.footer()
