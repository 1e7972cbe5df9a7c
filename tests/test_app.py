"""Streamlit AppTest: every page renders from the real warehouse, and the explorer's main action
(search, then look a concept up) shows the expected content."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO
from streamlit.testing.v1 import AppTest

APP = str(REPO / "app.py")


def open_page(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def test_overview_shows_the_loaded_release(mini_settings, env_for) -> None:
    env_for(mini_settings)
    at = open_page()
    assert not at.exception
    assert any("ESCO v1.1.1" in s.value for s in at.subheader)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Occupations"] == "5"
    assert "European Commission" in at.caption[-1].value


def test_explorer_search_and_occupation_detail(mini_settings, env_for) -> None:
    env_for(mini_settings)
    at = open_page("app_pages/taxonomy_explorer.py")
    assert not at.exception
    at.text_input(key="query").input("verpleegkundige").run()
    assert not at.exception
    results = at.dataframe[0].value
    assert results["preferred_label"].iloc[0] == "nurse responsible for general care"
    assert at.header[0].value == "nurse responsible for general care"
    page_text = " ".join(m.value for m in at.markdown)
    assert "ISCO-08 group 2221" in page_text
    assert any(s.value.startswith("Essential skills (") for s in at.subheader)
    essential = at.dataframe[1].value
    assert len(essential) > 20


def test_explorer_skill_detail_shows_hierarchy_and_occupations(mini_settings, env_for) -> None:
    env_for(mini_settings)
    at = open_page("app_pages/taxonomy_explorer.py")
    at.text_input(key="query").input("C#").run()
    at.radio(key="kind").set_value("skills").run()
    assert at.selectbox(key="concept").value == "C# (skill)"
    assert at.header[0].value == "C#"
    assert any(s.value == "Place in the hierarchy" for s in at.subheader)
    assert any("Collections:" in m.value and "digital" in m.value for m in at.markdown)


def test_missing_warehouse_says_what_to_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    monkeypatch.setenv("SKILLMATCH_CONFIG", str(REPO / "skillmatch.toml"))
    monkeypatch.setenv("SKILLMATCH_WAREHOUSE", str(tmp_path / "absent.duckdb"))
    for page in (None, "app_pages/taxonomy_explorer.py"):
        at = open_page(page)
        assert not at.exception
        assert "skillmatch build" in at.warning[0].value
