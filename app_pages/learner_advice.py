"""Learner advice (education institutions): a learner's skill gap towards an occupation or a
vacancy, micro-credentials ranked by gap covered per ECTS, and a stackable path in a budget."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import common
from skillmatch import matching, recommend
from skillmatch.progress import MAPPING_INDEX

st.title("Learner advice")
st.caption("For study advisers and learners: what is missing for a target occupation or "
           "vacancy, and which micro-credentials close it for the least study time.")
common.require_tables("credential", "credential_skill", what="credential catalogue")
version = common.version()
catalogue = common.cached(recommend.load_catalogue)
credentials = catalogue.credentials
credential_label = {r.credential_id: f"{r.title} — {r.provider} ({r.ects:g} ECTS)"
                    for r in credentials.itertuples()}
skill_of = common.choices("skill")
occupation_of = common.choices("occupation")

st.subheader("1. The learner's profile")
left, right = st.columns(2)
held = left.multiselect("Micro-credentials held", list(credential_label),
                        format_func=credential_label.get, key="held")
declared = right.multiselect("Other skills (ESCO)", list(skill_of), key="declared",
                             placeholder="type to search skills")

st.subheader("2. The target")
target_kind = st.radio("Target", ["An occupation", "A vacancy text"], horizontal=True,
                       key="target_kind")
if target_kind == "An occupation":
    left, right = st.columns([3, 1])
    occupation = left.selectbox("Target occupation", list(occupation_of), index=None,
                                key="target_occupation", placeholder="type to search")
    include_optional = right.checkbox("Include optional skills", value=False,
                                      key="target_optional")
    vacancy_text = ""
else:
    occupation, include_optional = None, False
    vacancy_text = st.text_area("Paste the vacancy text", height=150, key="target_text")
budget = st.slider("Study budget (ECTS)", 1, 60, 15, key="budget")

if st.button("Advise", key="advise", type="primary"):
    with common.connection() as con:
        if occupation:
            target = matching.requirements_for_occupation(
                con, occupation_of[occupation], include_optional=include_optional)
        elif vacancy_text.strip():
            common.wait_for_index(MAPPING_INDEX)
            found = common.skill_extractor(version).extract(vacancy_text[:100_000])
            target = matching.requirements_from_skills(con, [m.uri for m in found
                                                             if m.accepted])
        else:
            target = None
        profile = recommend.held_skills(catalogue, held, [skill_of[s] for s in declared], con)
    st.session_state["advice"] = None if target is None else (target, profile)

advice = st.session_state.get("advice")
if advice is None:
    st.info("Choose a target occupation (or paste a vacancy) and press **Advise**.")
    common.footer()
    st.stop()

target, profile = advice
gap = recommend.skill_gap(target, profile)
cols = st.columns(4)
cols[0].metric("Target skills", len(target))
cols[1].metric("Already held", len(target) - len(gap))
cols[2].metric("Skill gap", len(gap))
cols[3].metric("Essential gap", int((gap["importance"] == "essential").sum()))
if target.empty:
    st.warning("The target has no ESCO skills to compare with.")
    common.footer()
    st.stop()
if gap.empty:
    st.success("The profile already covers every target skill.")
    common.footer()
    st.stop()

with st.expander(f"The gap: {len(gap)} skills", expanded=False):
    st.dataframe(gap.drop(columns="skill_uri"), hide_index=True, width="stretch")
    common.csv_download(gap, "skill_gap.csv")

st.subheader("3. Micro-credentials ranked by gap covered per ECTS")
ranked = recommend.rank_credentials(gap, catalogue, exclude=held, top_k=15)
if ranked.empty:
    st.warning("No credential in the catalogue teaches any of the missing skills: a case for "
               "the module planner.")
else:
    st.dataframe(ranked.drop(columns=["credential_id"]), hide_index=True, width="stretch",
                 column_config={"covered_share": st.column_config.ProgressColumn(
                     "share of gap", min_value=0.0, max_value=1.0, format="%.2f")})
    first = ranked.iloc[0]
    st.caption(f"**Reading:** “{common.escape(first.title)}” covers {len(first.covers)} missing "
               f"skills ({first.covered_share:.0%} of the gap weight) for {first.ects:g} ECTS — "
               "the best value per unit of study time. Estimated ECTS are marked.")
    common.csv_download(ranked, "credential_ranking.csv")

st.subheader(f"4. A stackable path within {budget} ECTS")
path = recommend.stackable_path(gap, catalogue, float(budget), exclude=held)
if path.empty:
    st.info("No credential that teaches a missing skill fits this budget.")
else:
    for step in path.itertuples():
        st.markdown(f"**Step {step.step}: {common.escape(step.title)}** · {step.ects:g} ECTS "
                    f"(total {step.cumulative_ects:g}) — {common.escape(step.reason)} "
                    f"Gap covered so far: {step.covered_weight_after:.0%}.")
    remaining = 1 - path["covered_weight_after"].iloc[-1]
    st.caption(f"**Reading:** {len(path)} credential(s), {path['cumulative_ects'].iloc[-1]:g} "
               f"ECTS, close {1 - remaining:.0%} of the gap weight; the rest needs a larger "
               "budget or credentials the catalogue does not offer yet.")
    common.csv_download(pd.DataFrame(path), "stackable_path.csv")
common.footer()
