"""Publishing: readers keep answering from the last complete warehouse while a pipeline runs,
a finished run appears all at once, and a killed run changes nothing readers see."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import REPO, make_project

from skillmatch import probe, progress, warehouse
from skillmatch.pipeline import run_pipeline, warehouse_status

# what a reader asks: how many runs, which published version, how many tables and ads
ANSWER = """SELECT (SELECT count(*) FROM run), (SELECT coalesce(max(version), 0) FROM publication),
                  (SELECT count(*) FROM duckdb_tables()),
                  (SELECT count(*) FROM duckdb_tables() WHERE table_name = 'vacancy')"""

def answer(path: Path) -> list:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return list(con.execute(ANSWER).fetchone())
    finally:
        con.close()


def quiet(_line: str) -> None:
    pass


@pytest.fixture
def project(tmp_path: Path, mini_settings):
    settings = make_project(tmp_path, mini_settings)
    assert all(s.status == "ok" for s in run_pipeline(settings, "regions", progress=quiet))
    return settings


def test_a_reader_polling_every_100_ms_never_fails_and_sees_before_or_after(
        project, tmp_path: Path) -> None:
    before = answer(project.warehouse)
    out, stop = tmp_path / "answers.jsonl", tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-m", "skillmatch.probe", str(project.warehouse),
                               str(out), str(stop), ANSWER],
                              env=dict(os.environ, PYTHONPATH=str(REPO / "src")))
    try:
        time.sleep(1.5)  # the reader is answering before the run starts
        summaries = list(run_pipeline(project, "vacancies", only=["nhs", "vdab"],
                                      progress=quiet))
        assert [s.status for s in summaries] == ["ok", "ok"]
        time.sleep(1.0)
    finally:
        stop.touch()
        reader.wait(30)
    after = answer(project.warehouse)
    assert after != before and after[3] == 1  # the ads arrived, all at once
    lines = probe.read(out)
    errors = [line["error"] for line in lines if "error" in line]
    assert errors == []
    answers = [line["answer"] for line in lines]
    assert len(answers) > 20  # it really kept asking while the run went on
    assert all(a in (before, after) for a in answers)
    assert answers[0] == before and answers[-1] == after


def test_a_published_run_is_one_new_version(project) -> None:
    con = warehouse.connect(project.warehouse, read_only=True)
    first = warehouse.publication(con)
    con.close()
    list(run_pipeline(project, "shortage", progress=quiet))
    status = warehouse_status(project)
    assert status["published"]["version"] == first["version"] + 1
    assert status["published"]["what"] == "pipeline shortage"
    assert status["run"] is None
    # nothing changed: nothing copied, nothing published
    assert [s.status for s in run_pipeline(project, "shortage", progress=quiet)] == \
        ["unchanged"] * 3
    assert warehouse_status(project)["published"]["version"] == first["version"] + 1
    assert not warehouse.private_path(project.warehouse).exists()


def test_a_second_writer_is_refused_with_the_first_ones_name(project) -> None:
    with warehouse.writer_lock(project.warehouse, "pipeline vacancies"), \
            pytest.raises(warehouse.WarehouseBusy, match="pipeline vacancies"):
        list(run_pipeline(project, "shortage", progress=quiet, force=True))
    assert [s.status for s in run_pipeline(project, "shortage", progress=quiet)] == ["ok"] * 3


def test_a_failing_run_publishes_nothing(project) -> None:
    before = answer(project.warehouse)

    def fail_on_second(line: str) -> None:
        if "cbs_region" in line:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        list(run_pipeline(project, "shortage", progress=fail_on_second))
    assert answer(project.warehouse) == before  # cbs_sector's finished work is not visible
    assert not warehouse.private_path(project.warehouse).exists()


def cli_run(settings, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), SKILLMATCH_CACHE_DIR=str(
        settings.cache_dir), SKILLMATCH_SEARCH_MODEL=settings.search_model)
    return subprocess.Popen(
        [sys.executable, "-m", "skillmatch.cli", "--config", str(REPO / "skillmatch.toml"),
         "--data-root", str(settings.data_root), "--warehouse", str(settings.warehouse),
         *args], env=dict(env, SKILLMATCH_PIPELINES_DIR=str(settings.pipelines_dir)),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def kill_at(settings, stage: str, timeout: float = 240, how: int = signal.SIGKILL) -> str:
    """Start a forced vacancies run and kill it (SIGKILL, or `how`) as soon as its reported
    stage starts with `stage`; returns the stage it was killed in."""
    run = cli_run(settings, "pipeline", "run", "vacancies", "--source", "nhs", "--force")
    deadline = time.time() + timeout
    try:
        while time.time() < deadline and run.poll() is None:
            state = progress.read_run(settings.warehouse)
            if state and state["stage"].startswith(stage):
                if how == signal.SIGKILL:
                    os.kill(run.pid, signal.SIGSTOP)  # frozen where it stands, then killed
                os.kill(run.pid, how)
                code = run.wait(60)
                assert code == (-how if how == signal.SIGKILL else 130), run.communicate()[0]
                return state["stage"]
            time.sleep(0.01)
        raise AssertionError(f"the run never reached stage {stage!r}: {run.communicate()[0]}")
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(30)


def test_killing_a_run_at_several_points_changes_nothing_and_the_next_run_succeeds(
        project) -> None:
    before = answer(project.warehouse)
    for stage in ("starting", "mapping ads", "vacancies/nhs: writing"):
        try:
            killed_in = kill_at(project, stage)
        except AssertionError:
            if stage == "vacancies/nhs: writing":  # a short stage: may be over before seen
                continue
            raise
        assert killed_in.startswith(stage)
        assert answer(project.warehouse) == before
        state = warehouse_status(project)["run"]
        assert state is not None and not state["running"]
        assert "stopped without finishing" in progress.describe(state)
    run = cli_run(project, "pipeline", "run", "vacancies", "--source", "nhs")
    out = run.communicate(timeout=300)[0]
    assert run.returncode == 0, out
    assert "vacancies/nhs: read" in out
    after = answer(project.warehouse)
    assert after[3] == 1 and after[1] == before[1] + 1
    assert warehouse_status(project)["run"] is None
    assert not warehouse.private_path(project.warehouse).exists()


def test_a_stopped_run_cleans_up_after_itself(project) -> None:
    """SIGTERM (a service manager's stop) ends a run as Ctrl-C does: nothing published, and
    neither its private copy nor its progress file left behind."""
    before = answer(project.warehouse)
    assert kill_at(project, "mapping ads", how=signal.SIGTERM).startswith("mapping ads")
    assert answer(project.warehouse) == before
    assert progress.read_run(project.warehouse) is None
    assert not warehouse.private_path(project.warehouse).exists()
