"""SkillMatch web app: `streamlit run app.py` (or `skillmatch app`). Renders only; every number
comes from the skillmatch library."""

import streamlit as st

st.set_page_config(page_title="SkillMatch", page_icon="🧭", layout="wide")

pages = [
    st.Page("app_pages/overview.py", title="Overview", icon="🏠", default=True),
    st.Page("app_pages/taxonomy_explorer.py", title="Taxonomy explorer", icon="🔎",
            url_path="explorer"),
]
st.navigation(pages).run()
