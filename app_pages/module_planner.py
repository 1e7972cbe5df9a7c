"""Module planner (education institutions): uncovered, growing, shortage-weighted demand as
proposed micro-credential modules, each with its evidence and the nearest existing credentials."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import common
from skillmatch import analytics
from skillmatch.analytics import DemandFilter

st.title("Module planner")
st.caption("For education institutions: which new micro-credentials the labour market asks "
           "for. Skills that vacancies demand together and that (almost) no credential "
           "teaches yet, ranked by volume × shortage × growth.")
common.require_tables("vacancy", "vacancy_skill", "credential", what="vacancies and credentials")
options = common.cached(analytics.filter_options)

left, middle, right = st.columns(3)
sectors = {r.sector_code: f"{r.sector_code} {r.name}" for r in options["sectors"].itertuples()}
chosen_sectors = left.multiselect("Sector", list(sectors), format_func=sectors.get,
                                  key="plan_sectors", placeholder="all sectors")
regions = options["regions"]["nuts2"]
region_names = {r.region_code: f"{r.name} ({r.region_code})" for r in regions.itertuples()}
chosen_regions = middle.multiselect("Region (NUTS 2)", list(region_names),
                                    format_func=region_names.get, key="plan_regions",
                                    placeholder="all regions")
n = right.number_input("Proposals", 1, 30, 8, key="n")
left, middle, right = st.columns(3)
min_vacancies = left.number_input("Minimum vacancies per skill", 1, 1000, 5, key="min_vacancies")
max_credentials = middle.number_input("Covered by at most … credentials", 0, 10, 0,
                                      key="max_credentials")
by_meaning = right.checkbox("Also group skills by meaning (embeddings)", value=True,
                            key="by_meaning")

if st.button("Propose modules", key="propose", type="primary"):
    st.session_state["proposals"] = common.module_proposals(
        common.version(), DemandFilter(sectors=tuple(chosen_sectors),
                                       regions=tuple(chosen_regions)),
        int(n), int(min_vacancies), int(max_credentials), by_meaning)
proposals = st.session_state.get("proposals")
if proposals is None:
    st.info("Set the scope and press **Propose modules**.")
    common.footer()
    st.stop()
if not proposals:
    st.warning("No uncovered skill reaches the minimum volume in this selection: lower the "
               "minimum or allow skills that one credential already covers.")
    common.footer()
    st.stop()

summary = pd.DataFrame([p.summary() for p in proposals])
st.subheader(f"{len(proposals)} proposed module{'s' if len(proposals) > 1 else ''}")
st.dataframe(summary, hide_index=True, width="stretch",
             column_config={"nearest_similarity": st.column_config.ProgressColumn(
                 "overlap with nearest credential", min_value=0.0, max_value=1.0,
                 format="%.2f")})
best = proposals[0]
st.caption(f"**Reading:** the top proposal, “{common.escape(best.title)}”, bundles "
           f"{len(best.skills)} skills asked for in {best.vacancies:,} vacancies (mean shortage "
           f"weight {best.mean_shortage_weight:.2f}); score = shortage-weighted vacancies × growth "
           "factor. A high overlap with the nearest credential means: extend that one instead.")
common.csv_download(summary, "module_proposals.csv")

for proposal in proposals:
    with st.expander(f"Proposed module {proposal.rank}: {common.escape(proposal.title)}",
                     expanded=proposal.rank == 1):
        cols = st.columns(5)
        cols[0].metric("Vacancies", f"{proposal.vacancies:,}")
        cols[1].metric("Growth", "—" if proposal.growth_pct is None
                       else f"{proposal.growth_pct:+.0f} %")
        cols[2].metric("Shortage weight", f"{proposal.mean_shortage_weight:.2f}")
        cols[3].metric("Suggested size", f"{proposal.suggested_ects:g} ECTS")
        cols[4].metric("Suggested level", f"EQF {proposal.suggested_eqf}")
        st.markdown("**Skill bundle**")
        st.dataframe(proposal.skills.drop(columns="skill_uri"), hide_index=True,
                     width="stretch")
        left, middle, right = st.columns(3)
        left.markdown("**Related occupations**")
        left.dataframe(proposal.occupations, hide_index=True, width="stretch")
        middle.markdown("**Target sectors**")
        middle.dataframe(proposal.sectors, hide_index=True, width="stretch")
        right.markdown("**Target regions**")
        right.dataframe(proposal.regions, hide_index=True, width="stretch")
        st.markdown("**Evidence: sample vacancies**")
        st.dataframe(proposal.evidence, hide_index=True, width="stretch")
        common.csv_download(proposal.evidence, f"module_{proposal.rank}_evidence.csv",
                            "Download evidence as CSV")
        st.markdown("**Nearest existing credentials**")
        if proposal.nearest_credentials.empty:
            st.caption("No credential in the catalogue shares these skills.")
        else:
            st.dataframe(proposal.nearest_credentials, hide_index=True, width="stretch")
common.footer()
