"""Landing page: what is in the warehouse."""

import pandas as pd
import streamlit as st

from app_pages import common

st.title("SkillMatch")
st.write(
    "Skills intelligence for regional labour markets and micro-credentials, linked through the "
    "European ESCO taxonomy."
)
release = common.require_taxonomy()
info = common.taxonomy_info(release)
st.subheader(f"ESCO v{common.escape(info['version'])}")
counts = info["counts"]
cols = st.columns(4)
cols[0].metric("Skills", f"{counts['esco_skill']:,}")
cols[1].metric("Occupations", f"{counts['esco_occupation']:,}")
cols[2].metric("Occupation–skill relations", f"{counts['esco_occupation_skill']:,}")
cols[3].metric("Labels", f"{counts['esco_label']:,}")
table = pd.DataFrame(sorted(counts.items()), columns=["table", "rows"])
st.dataframe(table, hide_index=True, width="stretch")
st.caption(
    f"Languages: {common.escape(info['languages'])}; labels per language: "
    f"{common.escape(info['labels_by_language'])}. Loaded {common.escape(info['loaded_at'])}."
)
common.footer()
