"""The first look: `build --limit N` cuts record sources only and ends in a usable app;
`skillmatch run` opens the app once the taxonomy and its index exist, the build filling in
behind it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest
from conftest import REPO, SHARED, free_port, make_project
from streamlit.testing.v1 import AppTest

from skillmatch import progress


def fresh_project(tmp_path: Path, mini_settings):
    """Every input the build reads (all vacancy sources, courses), no warehouse yet."""
    settings = make_project(tmp_path, mini_settings)
    os.symlink(SHARED / "courses", settings.data_root / "courses")
    for name in ("nl_ggz_ingeest_jobs_feed_2025-11.csv",
                 "nl_meesterbaan_teacher_vacancies_2023-08.csv"):
        os.symlink(SHARED / "vacancies" / name, settings.data_root / "vacancies" / name)
    settings.warehouse.unlink()
    return settings


def command(settings, *args: str) -> list[str]:
    return [sys.executable, "-m", "skillmatch.cli", "--config", str(REPO / "skillmatch.toml"),
            "--data-root", str(settings.data_root), "--warehouse", str(settings.warehouse),
            *args]


def environment(settings) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO / "src"),
                SKILLMATCH_CONFIG=str(REPO / "skillmatch.toml"),
                SKILLMATCH_DATA_ROOT=str(settings.data_root),
                SKILLMATCH_WAREHOUSE=str(settings.warehouse),
                SKILLMATCH_CACHE_DIR=str(settings.cache_dir),
                SKILLMATCH_SEARCH_MODEL=settings.search_model,
                SKILLMATCH_PIPELINES_DIR=str(settings.pipelines_dir))


def counts(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return dict(con.execute("SELECT table_name, estimated_size FROM duckdb_tables()")
                    .fetchall())
    finally:
        con.close()


def test_build_limit_200_on_a_fresh_warehouse_ends_in_a_usable_app(
        tmp_path: Path, mini_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = fresh_project(tmp_path, mini_settings)
    done = subprocess.run(command(settings, "build", "--limit", "200"), capture_output=True,
                          text=True, env=environment(settings), timeout=1500)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        dutch_nuts3 = con.execute("SELECT count(*) FROM region WHERE country = 'NL' AND "
                                  "level = 'nuts3'").fetchone()[0]
        regions = con.execute("SELECT count(*) FROM region").fetchone()[0]
        by_source = dict(con.execute("SELECT source, count(*) FROM vacancy GROUP BY 1")
                         .fetchall())
        candidates = con.execute("SELECT count(*) FROM candidate").fetchone()[0]
        courses = con.execute("SELECT count(*) FROM course").fetchone()[0]
    finally:
        con.close()
    assert dutch_nuts3 == 40 and regions > 200  # reference data whole, not cut to 200
    assert 0 < max(by_source.values()) <= 200 and len(by_source) == 4
    assert 0 < candidates <= 200 and 0 < courses <= 400
    for key, value in environment(settings).items():
        monkeypatch.setenv(key, value)
    for page in (None, "app_pages/dashboard.py", "app_pages/data_status.py"):
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=180)
        at.run()
        if page:
            at.switch_page(page)
            at.run()
        assert not at.exception, page
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Published version"]) >= 7  # the taxonomy, then each pipeline


def test_run_opens_the_app_while_the_build_fills_in(tmp_path: Path, mini_settings) -> None:
    settings = fresh_project(tmp_path, mini_settings)
    port = free_port()
    app = subprocess.Popen(command(settings, "run", "--port", str(port), "--limit", "20"),
                           env=environment(settings), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline, up = time.time() + 300, False
        while time.time() < deadline and not up and app.poll() is None:
            try:
                up = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=2).read() == b"ok"
            except OSError:
                time.sleep(0.5)
        assert up, app.stdout.read() if app.poll() is not None else "app not up"
        published_at_open = set(counts(settings.warehouse))
        assert "esco_skill" in published_at_open  # the taxonomy is there when the app opens
        # the build goes on behind the open app and publishes pipeline by pipeline
        deadline = time.time() + 900
        while time.time() < deadline:
            state = progress.read_run(settings.warehouse)
            if state is None and "vacancy" in counts(settings.warehouse):
                break
            assert state is None or state["running"], state
            time.sleep(1)
        tables = set(counts(settings.warehouse))
        assert {"region", "vacancy", "candidate"} <= tables
        log = (settings.warehouse.parent / "build.log").read_text(encoding="utf-8")
        assert "vacancies/nhs: read" in log
    finally:
        os.killpg(app.pid, 2)  # Ctrl-C: the app and a still-running build stop cleanly
        app.wait(90)


def test_while_a_build_embeds_the_labels_the_explorer_waits_and_status_shows_progress(
        mini_settings, env_for) -> None:
    env_for(mini_settings)
    with progress.reporting(mini_settings.warehouse, "build"), \
            progress.bar("embedding with multilingual-e5-small", 152_411, "texts") as bar:
        time.sleep(progress.WRITE_EVERY_S)  # the run file is rewritten at most once a second
        bar.update_to(2_048)
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
        at.run()
        at.switch_page("app_pages/taxonomy_explorer.py")
        at.run()
        at.text_input(key="query").input("verpleegkundige").run()
        assert not at.exception
        assert "search index is being built" in at.info[0].value
        assert "2,048/152,411 texts" in at.info[0].value
        assert not at.dataframe  # no search ran in the app's own process
        at.switch_page("app_pages/data_status.py")
        at.run()
        assert not at.exception
        assert any("build (pid" in i.value and "2,048/152,411" in i.value for i in at.info)
        progress.published(progress.SEARCH_INDEX)
        at.switch_page("app_pages/taxonomy_explorer.py")
        at.run()
        at.text_input(key="query").input("verpleegkundige").run()
        assert at.dataframe[0].value["preferred_label"].iloc[0] == \
            "nurse responsible for general care"
    assert progress.read_run(mini_settings.warehouse) is None  # the run file goes with the run
