"""The engines: the same partitions and the same rows in-process and on a local Dask cluster,
worker errors named, and the vacancies pipeline giving identical warehouse contents on both."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import make_project
from test_pipeline import TABLES, cli, query, snapshot

from skillmatch.engine import (
    DaskEngine,
    EngineError,
    InProcessEngine,
    Workspace,
    make_engine,
    split,
)
from skillmatch.pipeline import load_definition, run_pipeline
from skillmatch.settings import Settings

pytest.importorskip("distributed")


def tag_rows(part: pd.DataFrame, ws: Workspace) -> dict[str, pd.DataFrame]:
    """A partition step: which partition size each row saw, plus a per-partition summary."""
    return {"rows": part.assign(partition_size=len(part), factor=part["x"] * ws.params["k"]),
            "sizes": pd.DataFrame({"size": [len(part)]})}


def fail_on_seven(part: pd.DataFrame, ws: Workspace) -> dict[str, pd.DataFrame]:
    if (part["x"] == 7).any():
        raise ValueError("record x=7 is malformed")
    return {"rows": part}


@pytest.fixture(scope="module")
def dask_engine(mini_settings: Settings) -> DaskEngine:
    engine = DaskEngine(mini_settings, workers=2)
    yield engine
    engine.close()


def test_split_keeps_order_and_size() -> None:
    frame = pd.DataFrame({"x": range(10)})
    assert [len(p) for p in split(frame, 4)] == [4, 4, 2]
    assert len(split(frame.iloc[0:0], 4)) == 1


def test_both_engines_cut_and_join_the_same_way(mini_settings, dask_engine, tmp_path) -> None:
    frame = pd.DataFrame({"x": range(23), "label": [f"r{i}" for i in range(23)]})
    ws = Workspace(mini_settings, {"k": 3}, taxonomy=tmp_path / "unused.duckdb")
    local = InProcessEngine().map_partitions(tag_rows, frame, ws, partition_rows=5)
    remote = dask_engine.map_partitions(tag_rows, frame, ws, partition_rows=5)
    assert dask_engine.workers == 2
    assert local["sizes"]["size"].tolist() == [5, 5, 5, 5, 3]
    for name in ("rows", "sizes"):
        pd.testing.assert_frame_equal(local[name], remote[name], check_dtype=False)
    assert not any((mini_settings.cache_dir / "dask").glob("run-*"))  # run folders cleaned


def test_a_failing_partition_is_named(mini_settings, dask_engine, tmp_path) -> None:
    ws = Workspace(mini_settings, taxonomy=tmp_path / "unused.duckdb")
    with pytest.raises(EngineError, match="x=7 is malformed"):
        dask_engine.map_partitions(fail_on_seven, pd.DataFrame({"x": range(10)}), ws,
                                   partition_rows=3)


def note_process(part: pd.DataFrame, ws: Workspace) -> dict[str, pd.DataFrame]:
    """A partition step that leaves a file named by the process it ran in."""
    (Path(ws.params["folder"]) / str(os.getpid())).touch()
    return {"rows": part}


def test_warm_up_runs_on_every_worker(mini_settings, dask_engine, tmp_path) -> None:
    ws = Workspace(mini_settings, {"folder": str(tmp_path)}, taxonomy=tmp_path / "unused.duckdb")
    dask_engine.warm_up(note_process, pd.DataFrame({"x": range(3)}), ws)
    worker_pids = set(dask_engine.client.run(os.getpid).values())
    assert len(worker_pids) == 2
    assert {int(p.name) for p in tmp_path.iterdir() if p.name.isdigit()} == worker_pids


def test_workers_keep_glibcs_adaptive_malloc(dask_engine) -> None:
    seen = dask_engine.client.run(lambda: (os.environ.get("MALLOC_TRIM_THRESHOLD_"),
                                           os.environ.get("OMP_NUM_THREADS")))
    assert set(seen.values()) == {(None, "1")}  # still single-threaded BLAS


def test_ads_are_partitioned_by_whole_employers(mini_settings) -> None:
    pipeline = load_definition(mini_settings, "vacancies")
    ads = pd.DataFrame({"vacancy_id": ["v1", "v2", "v3", "v4", "v5"],
                        "employer": ["B", None, "A", "B", "A"]})
    ordered = pipeline.mapping_order(ads)
    assert ordered["vacancy_id"].tolist() == ["v3", "v5", "v1", "v4", "v2"]
    assert [len(p) for p in split(ordered, 2)] == [2, 2, 1]  # A | B | no employer


def test_unknown_engine_and_unreachable_scheduler(mini_settings) -> None:
    with pytest.raises(EngineError, match="unknown engine"):
        make_engine(mini_settings, "spark")
    with pytest.raises(EngineError, match="cannot reach"):
        DaskEngine(mini_settings, scheduler="tcp://127.0.0.1:1")


def test_vacancies_pipeline_gives_the_same_warehouse_on_dask(tmp_path: Path, mini_settings,
                                                             dask_engine) -> None:
    project = make_project(tmp_path, mini_settings)
    config = project.pipelines_dir / "pipelines.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("chunk = 500", "chunk = 8"),
                      encoding="utf-8")
    # one thread in this process too: the workers are single-threaded, and float sums
    # must not differ by thread count
    project = dataclasses.replace(project, torch_threads=1)
    other = dataclasses.replace(project, warehouse=tmp_path / "dask.duckdb")
    shutil.copy(project.warehouse, other.warehouse)
    quiet = {"only": ["nhs", "vdab"], "progress": lambda _m: None}
    for settings in (project, other):
        assert all(s.status == "ok" for s in run_pipeline(settings, "regions"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # encoders made by earlier tests are reused: set it here too
    try:
        local = list(run_pipeline(project, "vacancies", **quiet))
    finally:
        torch.set_num_threads(threads)
    remote = list(run_pipeline(other, "vacancies", engine=dask_engine, **quiet))
    assert [(s.rows_read, s.rows_stored) for s in local] == \
        [(s.rows_read, s.rows_stored) for s in remote]
    assert sum(s.rows_stored for s in local) > 16  # more than two partitions of 8
    tables = [t for t in TABLES if t != "reject"]  # rejects carry their run's id
    assert snapshot(project, tables) == snapshot(other, tables)
    rejected = "SELECT source, record, reason FROM reject ORDER BY ALL"
    assert query(project, rejected) == query(other, rejected)
    assert query(other, "SELECT count(*) FROM vacancy_skill")[0][0] > 20  # not vacuous


def test_cli_runs_a_pipeline_on_a_local_dask_cluster(tmp_path: Path, mini_settings) -> None:
    project = make_project(tmp_path, mini_settings)
    code, out = cli(project, "pipeline", "run", "regions", "--engine", "dask", "--workers", "1")
    assert code == 0, out
    assert "engine: dask, 1 worker(s)" in out and "regions/geo: read" in out
    code, out = cli(project, "pipeline", "run", "regions", "--engine", "spark")
    assert code != 0 and "spark" in out
