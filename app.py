"""SkillMatch web app: `streamlit run app.py` (or `skillmatch app`). Renders only; every number
comes from the skillmatch library."""

import streamlit as st

from skillmatch.settings import load_settings

st.set_page_config(page_title="SkillMatch", page_icon="🧭", layout="wide")
settings = load_settings()

if settings.app_login and not st.user.get("is_logged_in", False):
    st.title("SkillMatch")
    st.write("Sign in with your organisation's account to continue.")
    st.button("Log in", key="login", type="primary", on_click=st.login)
    st.stop()

pages = {
    "": [st.Page("app_pages/overview.py", title="Overview", icon="🏠", default=True)],
    "Regional consortia": [
        st.Page("app_pages/dashboard.py", title="Labour-market dashboard", icon="🗺️",
                url_path="dashboard"),
    ],
    # candidate-level data: only where the deployment enables it (and puts a login in front)
    "Employers": [
        st.Page("app_pages/talent_search.py", title="Talent search", icon="🤝",
                url_path="talent"),
    ] if settings.talent_search_enabled else [],
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
st.navigation({group: p for group, p in pages.items() if p}).run()
