"""SkillMatch web app: `streamlit run app.py` (or `skillmatch app`). Renders only; every number
comes from the skillmatch library."""

import streamlit as st

st.set_page_config(page_title="SkillMatch", page_icon="🧭", layout="wide")

pages = {
    "": [st.Page("app_pages/overview.py", title="Overview", icon="🏠", default=True)],
    "Regional consortia": [
        st.Page("app_pages/dashboard.py", title="Labour-market dashboard", icon="🗺️",
                url_path="dashboard"),
    ],
    "Employers": [
        st.Page("app_pages/talent_search.py", title="Talent search", icon="🤝",
                url_path="talent"),
    ],
    "Education": [
        st.Page("app_pages/module_planner.py", title="Module planner", icon="🧩",
                url_path="modules"),
        st.Page("app_pages/learner_advice.py", title="Learner advice", icon="🎓",
                url_path="learner"),
    ],
    "Reference": [
        st.Page("app_pages/taxonomy_explorer.py", title="Taxonomy explorer", icon="🔎",
                url_path="explorer"),
        st.Page("app_pages/data_status.py", title="Data status", icon="📋", url_path="status"),
    ],
}
st.navigation(pages).run()
