"""Streamlit AppTest: every page renders from the real warehouse, and the explorer's main action
(search, then look a concept up) shows the expected content. Hostile source text (formulas,
markdown, HTML) leaves the pages only as text."""

from __future__ import annotations

import csv
import dataclasses
import io
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import REPO
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from app_pages.common import escape
from skillmatch.exports import safe_csv

APP = str(REPO / "app.py")
PAGES = ("app_pages/dashboard.py", "app_pages/talent_search.py", "app_pages/module_planner.py",
         "app_pages/learner_advice.py", "app_pages/taxonomy_explorer.py",
         "app_pages/data_status.py")


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
    monkeypatch.setenv("SKILLMATCH_TALENT_SEARCH_ENABLED", "1")
    for page in (None, *PAGES):
        at = open_page(page)
        assert not at.exception, page
        assert "skillmatch build" in at.warning[0].value, page


def test_pages_on_a_warehouse_without_pipeline_data_say_what_to_run(mini_settings,
                                                                   env_for) -> None:
    env_for(mini_settings)  # the taxonomy only
    for page in PAGES[:4]:
        at = open_page(page)
        assert not at.exception, page
        assert "has no" in at.warning[0].value and "skillmatch build" in at.warning[0].value


def query(settings, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_dashboard_figures_follow_the_filters(demo_settings, env_for) -> None:
    env_for(demo_settings)
    at = open_page("app_pages/dashboard.py")
    assert not at.exception
    total = query(demo_settings, "SELECT count(*) FROM vacancy")[0][0]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Vacancies"] == f"{total:,}"
    readings = [c.value for c in at.caption if c.value.startswith("**Reading:**")]
    assert len(readings) >= 6  # every chart says what it shows
    assert {b.label for b in at.get("download_button")} == {"Download CSV"}
    at.multiselect(key="dash_sectors").set_value(["Q"]).run()
    care = query(demo_settings, "SELECT count(*) FROM vacancy WHERE sector_code = 'Q'")[0][0]
    assert {m.label: m.value for m in at.metric}["Vacancies"] == f"{care:,}"
    at.radio(key="level").set_value("NUTS 3").run()
    at.radio(key="gap_by").set_value("region").run()
    assert not at.exception
    gap = next(d.value for d in at.dataframe if "gap_index" in d.value.columns)
    assert gap["area"].str.len().eq(5).all()  # NUTS 3 codes
    assert gap.groupby("area")["gap_index"].apply(lambda g: g.is_monotonic_decreasing).all()


def test_talent_search_from_a_pasted_vacancy(demo_settings, env_for) -> None:
    env_for(demo_settings)
    at = open_page("app_pages/talent_search.py")
    assert not at.exception
    at.text_area(key="vacancy_text").input(
        "We are looking for a nurse who can plan and evaluate nursing care and assess "
        "patients. You will use electronic health records.").run()
    at.button(key="extract").click().run()
    assert not at.exception
    assert any(s.value.startswith("Requirements (") for s in at.subheader)
    at.button(key="search").click().run()
    assert not at.exception
    results = next(d.value for d in at.dataframe if "candidate_id" in d.value.columns)
    assert len(results) > 0 and results["candidate_id"].str.startswith("syn-").all()
    assert results["score"].is_monotonic_decreasing and (results["score"] > 0).all()
    explained = [d.value for d in at.dataframe if "via" in d.value.columns]
    assert explained and explained[0]["matched"].any()
    assert set(explained[0].loc[explained[0]["matched"], "via"]) <= {
        "credential", "declared", "credential+declared"}


def test_talent_search_is_hidden_unless_the_settings_enable_it(demo_settings, env_for,
                                                             monkeypatch) -> None:
    env_for(demo_settings)
    monkeypatch.setenv("SKILLMATCH_TALENT_SEARCH_ENABLED", "0")
    at = open_page()
    with pytest.raises(Exception, match="talent_search"):
        at.switch_page("app_pages/talent_search.py")
        at.run()
        assert not at.exception, at.exception
    page = AppTest.from_file(str(REPO / "app_pages" / "talent_search.py"), default_timeout=60)
    page.run()  # run directly, the page itself refuses too
    assert any("switched off" in w.value for w in page.warning)
    assert not page.text_area and not page.dataframe


def test_a_deployment_with_login_shows_only_the_login(mini_settings, env_for,
                                                    monkeypatch) -> None:
    env_for(mini_settings)
    monkeypatch.setenv("SKILLMATCH_APP_LOGIN", "1")
    at = open_page()
    assert not at.exception
    assert [b.label for b in at.button] == ["Log in"]
    assert not at.metric and not at.dataframe  # no page ran


def test_talent_search_from_an_occupation_with_a_region(demo_settings, env_for) -> None:
    env_for(demo_settings)
    at = open_page("app_pages/talent_search.py")
    at.radio(key="mode").set_value("An occupation and skills").run()
    at.selectbox(key="occupation").set_value("welder").run()
    at.button(key="use").click().run()
    region = query(demo_settings, "SELECT left(region, 4) FROM candidate GROUP BY 1 "
                                  "ORDER BY count(*) DESC LIMIT 1")[0][0]
    at.multiselect(key="talent_regions").set_value([region]).run()
    at.button(key="search").click().run()
    assert not at.exception
    results = next(d.value for d in at.dataframe if "candidate_id" in d.value.columns)
    assert results["region"].str.startswith(region).all()


def test_module_planner_proposes_uncovered_bundles(demo_settings, env_for) -> None:
    env_for(demo_settings)
    at = open_page("app_pages/module_planner.py")
    assert not at.exception
    at.checkbox(key="by_meaning").uncheck().run()
    at.number_input(key="min_vacancies").set_value(2).run()  # 100 demo ads
    at.button(key="propose").click().run()
    assert not at.exception
    summary = at.dataframe[0].value
    assert summary["rank"].tolist() == list(range(1, len(summary) + 1))
    assert summary["score"].is_monotonic_decreasing
    assert summary["suggested_ects"].between(3, 30).all()
    taught = {r[0] for r in query(demo_settings, "SELECT DISTINCT skill_uri FROM "
                                                 "credential_skill WHERE accepted")}
    bundle = next(d.value for d in at.dataframe if "skill_uri" not in d.value.columns
                  and "credentials" in d.value.columns)
    assert (bundle["credentials"] == 0).all()  # uncovered by default
    labels = {r[0] for r in query(demo_settings, "SELECT preferred_label FROM esco_skill "
                                                 "WHERE uri IN (SELECT unnest(?))",
                                  [sorted(taught)])}
    assert not set(bundle["skill"]) & labels
    assert any(e.label.startswith("Proposed module 1:") for e in at.expander)


def test_learner_advice_path_stays_within_the_budget(demo_settings, env_for) -> None:
    env_for(demo_settings)
    at = open_page("app_pages/learner_advice.py")
    assert not at.exception
    at.selectbox(key="target_occupation").set_value("nurse responsible for general care").run()
    at.slider(key="budget").set_value(10).run()
    at.button(key="advise").click().run()
    assert not at.exception
    metrics = {m.label: int(m.value) for m in at.metric}
    essential = query(demo_settings, """
        SELECT count(*) FROM esco_occupation_skill os JOIN esco_occupation o
        ON o.uri = os.occupation_uri WHERE o.preferred_label = ? AND
        os.relation_type = 'essential'""", ["nurse responsible for general care"])[0][0]
    assert metrics["Target skills"] == essential and metrics["Skill gap"] == essential
    steps = [m.value for m in at.markdown if m.value.startswith("**Step ")]
    assert steps, "a path is shown"
    totals = [float(s.split("(total ")[1].split(")")[0]) for s in steps]
    assert totals == sorted(totals) and totals[-1] <= 10


def test_data_status_lists_sources_and_rejects(demo_settings, env_for) -> None:
    env_for(demo_settings)
    at = open_page("app_pages/data_status.py")
    assert not at.exception
    sources = at.dataframe[0].value
    assert {"regions", "vacancies", "candidates"} <= set(sources["pipeline"])
    rejected = query(demo_settings, "SELECT count(*) FROM reject")[0][0]
    assert rejected > 0  # the VDAB sample has navigation pages
    assert any("names the record" in c.value for c in at.caption)


HOSTILE_TITLE = '=HYPERLINK("http://evil.example","click")'
HOSTILE_EMPLOYER = "=cmd|' /C calc'!A0"
HOSTILE_MARKUP = "<script>alert(1)</script> **bold** [x](javascript:alert(1)) ![](http://t.example/p)"


@pytest.fixture(scope="module")
def hostile_settings(demo_settings, tmp_path_factory: pytest.TempPathFactory):
    """The demo warehouse with hostile sources: every vacancy titled and employed by a formula,
    every evidence sentence starting with one, every credential title markup."""
    path = tmp_path_factory.mktemp("hostile") / "warehouse.duckdb"
    shutil.copy(demo_settings.warehouse, path)
    con = duckdb.connect(str(path))
    try:
        con.execute("UPDATE vacancy SET title = ?, employer = ?",
                    [HOSTILE_TITLE, HOSTILE_EMPLOYER])
        con.execute("UPDATE vacancy_skill SET evidence = '-2+3 ' || coalesce(evidence, '')")
        con.execute("UPDATE credential SET title = ? || ' ' || title", [HOSTILE_MARKUP])
    finally:
        con.close()
    return dataclasses.replace(demo_settings, warehouse=path)


def served_name(data: bytes, mime: str, name: str) -> str:
    """The file name under which Streamlit serves a download of `data`. AppTest drops a run's
    files with the run, but the name is a content hash, so a button's URL shows which bytes it
    hands out."""
    url = MediaFileManager(MemoryMediaFileStorage("/media")).add(
        data, mime, "0", file_name=name, is_for_static_download=True)
    return Path(url).name


def test_a_downloaded_csv_of_a_vacancy_whose_title_starts_with_equals_opens_as_text(
        hostile_settings, env_for) -> None:
    env_for(hostile_settings)
    at = open_page("app_pages/module_planner.py")
    at.checkbox(key="by_meaning").uncheck().run()
    at.number_input(key="min_vacancies").set_value(2).run()
    at.button(key="propose").click().run()
    assert not at.exception
    evidence = next(d.value for d in at.dataframe if "employer" in d.value.columns)
    assert (evidence["title"] == HOSTILE_TITLE).all()
    button = at.download_button(key="dl-module_1_evidence.csv")
    url_name = Path(button.proto.url).name
    payload = safe_csv(evidence)
    assert url_name == served_name(payload, "text/csv", "module_1_evidence.csv"), \
        "the button does not hand out safe_csv of the evidence table on screen"
    assert url_name != served_name(evidence.to_csv(index=False).encode("utf-8"), "text/csv",
                                   "module_1_evidence.csv")
    table = list(csv.DictReader(io.StringIO(payload.decode("utf-8"), newline="")))
    assert {r["title"] for r in table} == {"'" + HOSTILE_TITLE}
    assert {r["employer"] for r in table} == {"'" + HOSTILE_EMPLOYER}
    assert all(r["evidence"].startswith("'-2+3 ") for r in table)
    assert pd.read_csv(io.BytesIO(payload))["title"].eq("'" + HOSTILE_TITLE).all()


def test_source_markup_is_shown_as_text(hostile_settings, env_for) -> None:
    env_for(hostile_settings)
    at = open_page("app_pages/learner_advice.py")
    at.selectbox(key="target_occupation").set_value("nurse responsible for general care").run()
    at.button(key="advise").click().run()
    assert not at.exception
    shown = [e.value for e in (*at.markdown, *at.caption, *at.subheader, *at.info,
                               *at.warning, *at.success)] + [e.label for e in at.expander]
    assert not [t for t in shown if HOSTILE_MARKUP in t]
    with_title = [t for t in shown if escape(HOSTILE_MARKUP) in t]
    assert any(t.startswith("**Reading:**") for t in with_title)  # the best credential
    assert any(t.startswith("**Step 1: ") for t in with_title)  # the stackable path


@pytest.mark.parametrize("text", [HOSTILE_MARKUP, "1. first\n# heading\n  - item\n+ x\nfoo\n===",
                                  "a & b &amp; :red[x] $x$ ~~s~~ <http://evil.example> |a|b|",
                                  "| a | b |\n|---|---|\n| 1 | 2 |", "C# \\*"])
def test_escape_renders_every_character_literally(text: str) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    html = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(
        escape(text))
    assert html.startswith("<p>") and html.count("<") == 2  # one paragraph, no other element
    assert html == "<p>" + markdown_it.common.utils.escapeHtml(text).replace(
        "\n  ", "\n") + "</p>\n"


def test_escape_leaves_plain_labels_alone() -> None:
    for label in ("C#", "nurse responsible for general care", "ESCO v1.1.1", "ISCO-08 2221"):
        assert escape(label) == label
    assert escape(None) == ""
