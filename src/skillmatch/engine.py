"""Where the embedding-bound pipeline stages run: in this process, or on a Dask cluster.

A pipeline hands a *partition step* — a plain top-level function from one partition of rows
(and a `Workspace`) to named DataFrames — to `Engine.map_partitions`. Both engines cut the input
into the same partitions (`partition_rows` consecutive rows) and concatenate the step's outputs
in partition order, so they produce the same rows:

- `InProcessEngine` calls the step on each partition here (the default).
- `DaskEngine` turns the input into a `dask.dataframe` and runs the step with `map_partitions`
  on a Dask cluster: a `LocalCluster` of single-threaded worker processes bound to 127.0.0.1, or
  an existing scheduler (`dask_scheduler` setting / `--scheduler`). Each worker loads the models
  and the mapping engine once (`Workspace.cached`) and writes its partition's tables as Parquet
  files under a run folder; the driver reads them back in partition order and the pipeline
  writes them to the warehouse in its usual single transaction. Workers never open the
  warehouse (the driver holds its write lock): they read the ESCO tables from a snapshot DuckDB
  file in the run folder. On a multi-node cluster that folder (`dask_shared_dir`) must be on
  storage every node sees.

Only the stages that need it are distributed (text → skills, title → occupations); reading,
normalising and folding duplicates need the whole source and stay on the driver.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from skillmatch.progress import bar
from skillmatch.settings import CHOICES, Settings

ENGINES = CHOICES["engine"]

_PROCESS_CACHE: dict[tuple[str, str], Any] = {}

# Dask starts workers with MALLOC_TRIM_THRESHOLD_ set, which turns off glibc's adaptive mmap
# threshold: every large temporary (a batch's similarities to 99k labels) is then mapped and
# unmapped afresh. Measured here, a single-threaded worker mapped ads 21 % slower with it, at
# 2.8 times the system time. `None` unsets it (distributed.nanny.pre-spawn-environ); external
# workers get the same with DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON__MALLOC_TRIM_THRESHOLD_=None
WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


class EngineError(RuntimeError):
    """The engine cannot run (Dask missing, scheduler unreachable, a partition failed)."""


@dataclass
class Workspace:
    """What a partition step may use, in whichever process it runs: settings, step
    parameters, and the ESCO tables (the live warehouse connection in-process, a snapshot
    file on Dask workers)."""

    settings: Settings
    params: dict[str, Any] = field(default_factory=dict)
    taxonomy: Path | None = None
    _con: duckdb.DuckDBPyConnection | None = field(default=None, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_con"] = None  # connections stay in their process
        return state

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._con is not None:
            yield self._con
            return
        if self.taxonomy is None:
            raise EngineError("workspace has neither a connection nor a taxonomy snapshot")
        con = duckdb.connect(str(self.taxonomy), read_only=True)
        try:
            yield con
        finally:
            con.close()

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        """Built once per process and taxonomy: a Dask worker loads each model once, and
        in-process the pipelines of one build share them."""
        if self.taxonomy is not None:
            identity = str(self.taxonomy)
        else:
            with self.connection() as con:
                loaded = con.execute("SELECT max(loaded_at) FROM esco_release").fetchone()[0]
            identity = f"{self.settings.warehouse}@{loaded}"
        slot = (identity, key)
        if slot not in _PROCESS_CACHE:
            _PROCESS_CACHE[slot] = build()
        return _PROCESS_CACHE[slot]

    def build(self, kind: Callable[[Settings, duckdb.DuckDBPyConnection], Any]) -> Any:
        """`kind(settings, con)` over the taxonomy (e.g. SkillExtractor, OccupationLinker)."""
        with self.connection() as con:
            return kind(self.settings, con)


PartitionStep = Callable[[pd.DataFrame, Workspace], dict[str, pd.DataFrame]]


def split(frame: pd.DataFrame, rows: int) -> list[pd.DataFrame]:
    """Consecutive partitions of at most `rows` rows (at least one, possibly empty)."""
    rows = max(1, int(rows))
    return [frame.iloc[i:i + rows] for i in range(0, len(frame), rows)] or [frame.iloc[0:0]]


def _concat(results: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    names = list(dict.fromkeys(name for result in results for name in result))
    return {name: pd.concat([r[name] for r in results if name in r], ignore_index=True)
            for name in names}


class InProcessEngine:
    """Every partition in this process, one after the other."""

    name = "in-process"

    def map_partitions(self, step: PartitionStep, frame: pd.DataFrame, workspace: Workspace,
                       *, partition_rows: int, label: str = "rows") -> dict[str, pd.DataFrame]:
        results, rows = [], 0
        with bar(f"mapping {label}", len(frame), label) as mapped:
            for part in split(frame, partition_rows):
                results.append(step(part.reset_index(drop=True), workspace))
                rows += len(part)
                mapped.update_to(rows)
        return _concat(results)

    def warm_up(self, step: PartitionStep, frame: pd.DataFrame, workspace: Workspace) -> None:
        """Run the step once on `frame` so that model loading is done before a timed run."""
        step(frame.reset_index(drop=True), workspace)

    def close(self) -> None:
        """Nothing to release."""


def _run_partition(part: pd.DataFrame, step: PartitionStep, workspace: Workspace,
                   out_dir: str, partition_info: dict | None = None) -> pd.DataFrame:
    """On a worker: run the step, write each output table as one Parquet file named by the
    partition number, and return one row saying what was written."""
    number = (partition_info or {}).get("number", 0)
    tables = step(part.reset_index(drop=True), workspace)
    for name, table in tables.items():
        folder = Path(out_dir) / name
        folder.mkdir(parents=True, exist_ok=True)
        table.to_parquet(folder / f"part-{number:06d}.parquet", index=False)
    return pd.DataFrame({"partition": [number], "rows": [len(part)]})


class DaskEngine:
    """Partitions on a Dask cluster (see the module docstring)."""

    name = "dask"

    def __init__(self, settings: Settings, *, workers: int | None = None,
                 scheduler: str | None = None, threads_per_worker: int = 1,
                 shared_dir: Path | None = None) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise EngineError("the Dask engine needs the optional extra: "
                              "pip install 'skillmatch[dask]'") from exc
        self.settings = settings
        self.threads = max(1, int(threads_per_worker))
        self.shared_dir = Path(shared_dir or settings.cache_dir / "dask")
        self.shared_dir.mkdir(parents=True, exist_ok=True)
        self.cluster = None
        try:
            if scheduler:
                self.client = Client(scheduler, timeout="30s")
            else:
                with dask.config.set(WORKER_CONFIG):
                    self.cluster = LocalCluster(
                        n_workers=max(1, int(workers or 2)), threads_per_worker=self.threads,
                        processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                        silence_logs=40)
                self.client = Client(self.cluster)
        except OSError as exc:
            raise EngineError(f"cannot reach the Dask scheduler {scheduler!r}: {exc}") from exc

    @property
    def workers(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))

    def snapshot(self, con: duckdb.DuckDBPyConnection) -> Path:
        """The ESCO tables (and the esco_concept view over them) as a DuckDB file workers can
        open. One per taxonomy load, kept in the shared folder: later runs reuse it, and so
        do the mapping engines workers built over it."""
        loaded = con.execute("SELECT max(loaded_at) FROM esco_release").fetchone()[0]
        key = hashlib.sha256(f"{self.settings.warehouse}|{loaded}".encode()).hexdigest()[:16]
        path = self.shared_dir / f"taxonomy-{key}.duckdb"
        if path.exists():
            return path
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = "
            "current_database() AND table_type = 'BASE TABLE' AND table_name LIKE 'esco%' "
            "ORDER BY 1").fetchall()]
        view = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'esco_concept' "
                           "AND database_name = current_database()").fetchone()
        partial = path.with_suffix(f".{uuid.uuid4().hex[:8]}.partial")
        # through Arrow: works whether `con` is read-only or holds the write lock
        snap = duckdb.connect(str(partial))
        try:
            for table in tables:
                rows = con.execute(f"SELECT * FROM {table}").to_arrow_table()
                snap.register("rows", rows)
                snap.execute(f"CREATE TABLE {table} AS SELECT * FROM rows")
                snap.unregister("rows")
            if view:
                snap.execute(view[0])
        finally:
            snap.close()
        partial.replace(path)  # whole or not at all
        return path

    def map_partitions(self, step: PartitionStep, frame: pd.DataFrame, workspace: Workspace,
                       *, partition_rows: int, label: str = "rows") -> dict[str, pd.DataFrame]:
        import dask.dataframe as dd
        from distributed import as_completed

        run_dir = self.shared_dir / f"run-{uuid.uuid4().hex[:12]}"
        run_dir.mkdir(parents=True, exist_ok=True)
        try:
            remote = self._remote(workspace)
            parts = [p.reset_index(drop=True) for p in split(frame, partition_rows)]
            # the same partitions as in-process: same batches, same rows out
            ddf = dd.from_map(_identity, parts, meta=parts[0].iloc[0:0])
            done = ddf.map_partitions(_run_partition, step, remote, str(run_dir / "out"),
                                      meta={"partition": "int64", "rows": "int64"})
            futures = self.client.compute(done.to_delayed())
            rows = 0
            with bar(f"mapping {label}", len(frame), label) as mapped:
                for future in as_completed(futures):
                    try:
                        result = future.result()
                    except Exception as exc:  # a worker error: name it, keep the warehouse
                        self.client.cancel(futures)
                        raise EngineError(f"a partition failed on a Dask worker: {exc}") \
                            from exc
                    rows += int(result["rows"].sum())
                    mapped.update_to(rows)
            return {table.name: pd.concat(
                [pd.read_parquet(p) for p in sorted(table.glob("part-*.parquet"))],
                ignore_index=True) for table in sorted((run_dir / "out").glob("*"))}
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)

    def _remote(self, workspace: Workspace) -> Workspace:
        """The workspace as workers see it: their thread count, the taxonomy snapshot."""
        remote = Workspace(replace(workspace.settings, torch_threads=self.threads),
                           dict(workspace.params), workspace.taxonomy)
        if remote.taxonomy is None:
            with workspace.connection() as con:
                remote.taxonomy = self.snapshot(con)
        return remote

    def warm_up(self, step: PartitionStep, frame: pd.DataFrame, workspace: Workspace) -> None:
        """Run the step once on `frame` on every worker (each pinned to one), so that each has
        loaded its models before a timed run. Without pinning, a small warm-up lands on one
        worker and the others load theirs inside the timing."""
        remote = self._remote(workspace)
        part = frame.reset_index(drop=True)
        futures = [self.client.submit(step, part, remote, workers=[address],
                                      allow_other_workers=False, pure=False)
                   for address in self.client.scheduler_info()["workers"]]
        self.client.gather(futures)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _identity(part: pd.DataFrame) -> pd.DataFrame:
    return part


def make_engine(settings: Settings, name: str | None = None, *, workers: int | None = None,
                scheduler: str | None = None) -> InProcessEngine | DaskEngine:
    """The engine a build runs on: named here, else by the settings (`engine`)."""
    name = name or settings.engine
    if name not in ENGINES:
        raise EngineError(f"unknown engine {name!r}: one of {', '.join(ENGINES)}")
    if name == "in-process":
        return InProcessEngine()
    return DaskEngine(settings, workers=workers or settings.dask_workers,
                      scheduler=scheduler or settings.dask_scheduler or None,
                      threads_per_worker=settings.dask_threads_per_worker,
                      shared_dir=settings.dask_shared_dir)
