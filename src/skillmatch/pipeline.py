"""Running a pipeline over its sources: one transaction and one run record per source.

A pipeline (defined in `pipelines/<name>.py`) names its sources and a `transform` that turns
one source's staged rows into warehouse tables by calling the library's plain DataFrame steps.
This module does the rest, the same for every pipeline:

- an input whose content hash (plus run parameters) equals that of its last successful run is
  skipped: re-running the same input changes nothing;
- otherwise the run writes a private copy of the warehouse (`warehouse.publishing`): every
  table row of each changed source is replaced in one transaction together with its run record
  and rejects, and the copy is published atomically when all sources are done. Readers keep
  answering from the published version meanwhile; a failed or killed run publishes nothing;
- a pipeline may also define `after_write(con)`: it runs in that same transaction, for tables
  derived from all sources together (the vacancies pipeline re-keys the demand index there);
- the run record checks rows read = stored + duplicates + rejected.
"""

from __future__ import annotations

import hashlib
import importlib.util
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from skillmatch import progress as skillmatch_progress
from skillmatch import warehouse
from skillmatch.engine import DaskEngine, InProcessEngine, Workspace
from skillmatch.settings import Settings
from skillmatch.sources import Staged

Progress = Callable[[str], None]


class PipelineError(ValueError):
    """A pipeline that cannot run (unknown name, bad definition or configuration)."""


@dataclass
class Source:
    """One input of a pipeline: a name (the `source` column of its rows), the file whose hash
    decides whether it changed, and how to read it."""

    name: str
    path: Path | None
    read: Callable[[], Staged]
    fingerprint: str = ""  # extra parameters that change the output (e.g. generator seed)
    kind: str = ""         # which transform branch applies, for pipelines with mixed inputs
    reference: bool = False  # reference data (regions, code lists): `--limit` never cuts it


@dataclass
class Output:
    """What a transform made of one source: tables whose rows all carry `source`."""

    tables: dict[str, pd.DataFrame]
    rows_stored: int
    rows_duplicate: int = 0
    rejects: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Context:
    """What a transform may use: settings, a read connection to the warehouse as it was
    before this run, the row limit and a progress reporter. Heavy helpers (the mapping
    engine, the region index) are built once per process and shared via `cached`."""

    settings: Settings
    con: duckdb.DuckDBPyConnection
    limit: int | None = None
    progress: Progress = print
    engine: InProcessEngine | DaskEngine = field(default_factory=InProcessEngine)
    _cache: dict[str, Any] = field(default_factory=dict)

    def workspace(self, params: dict[str, Any] | None = None) -> Workspace:
        """What a partition step gets from this run (see `skillmatch.engine`)."""
        return Workspace(self.settings, dict(params or {}), _con=self.con)

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def resolve(self, path: str) -> Path:
        return resolve(self.settings, path)


def resolve(settings: Settings, path: str) -> Path:
    """Config paths: `project:` relative to the project folder, others to the data root."""
    if path.startswith("project:"):
        base = settings.config_file.parent if settings.config_file else Path.cwd()
        return (base / path.removeprefix("project:")).resolve()
    p = Path(path)
    return p if p.is_absolute() else settings.data_root / p


@dataclass
class RunSummary:
    pipeline: str
    source: str
    status: str  # "ok" | "unchanged"
    rows_read: int = 0
    rows_stored: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        if self.status == "unchanged":
            return f"{self.pipeline}/{self.source}: unchanged since its last run, skipped"
        return (f"{self.pipeline}/{self.source}: read {self.rows_read:,}, stored "
                f"{self.rows_stored:,}, duplicates {self.rows_duplicate:,}, rejected "
                f"{self.rows_rejected:,} ({self.seconds:.1f} s)")


# ------------------------------------------------------------------------------ definitions
def pipeline_config(settings: Settings) -> dict[str, Any]:
    """`pipelines/pipelines.toml`: the inputs and parameters of every pipeline."""
    path = settings.pipelines_dir / "pipelines.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PipelineError(f"{path}: cannot read pipeline configuration ({exc})") from exc


def load_definition(settings: Settings, name: str) -> ModuleType:
    """The module `pipelines/<name>.py` (loaded by path: the library never imports pipelines)."""
    order = build_order(settings)
    if name not in order:
        raise PipelineError(f"unknown pipeline {name!r}; known: {', '.join(order)}")
    path = settings.pipelines_dir / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"skillmatch_pipeline_{name}", path)
    if spec is None or spec.loader is None or not path.exists():
        raise PipelineError(f"pipeline {name!r}: no definition at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for attr in ("sources", "transform"):
        if not hasattr(module, attr):
            raise PipelineError(f"{path}: a pipeline defines `{attr}`")
    return module


def build_order(settings: Settings) -> list[str]:
    return list(pipeline_config(settings).get("build", {}).get("order", []))


# ------------------------------------------------------------------------------ running
def _input_hash(source: Source, limit: int | None, engine: str = "") -> str:
    digest = hashlib.sha256(engine.encode())
    if source.path is not None:
        files = sorted(p for p in source.path.rglob("*") if p.is_file()) \
            if source.path.is_dir() else [source.path]
        for path in files:
            digest.update(f"{path.name}:{warehouse.file_sha256(path)}".encode())
    digest.update(f"|{source.fingerprint}|limit={limit}".encode())
    return digest.hexdigest()


def engine_fingerprint(settings: Settings) -> str:
    """Changes when the mapping could map the same input differently: the engine's version,
    its encoders' precision, its models' files, its acceptance model and glossaries. Inputs
    are re-mapped then."""
    from skillmatch.encoding import (
        ModelUnavailable,
        encoder_precision,
        model_fingerprint,
        model_path,
        precision_tag,
    )
    from skillmatch.mapping import ENGINE_VERSION
    from skillmatch.mapping.extractor import acceptance_path
    from skillmatch.taxonomy import load_config

    parts = [ENGINE_VERSION + precision_tag(encoder_precision(settings))]
    for name in (settings.english_model, settings.multilingual_model):
        try:
            parts.append(model_fingerprint(model_path(settings.model(name), settings,
                                                      prepare=False)))
        except ModelUnavailable:
            parts.append(f"{name}:unavailable")
    path = acceptance_path(settings)
    if path is not None and path.exists():
        parts.append(warehouse.file_sha256(path))
    for language, glossary in sorted(load_config(settings).glossaries.items()):
        parts.append(f"{language}:" + (warehouse.file_sha256(glossary) if glossary.exists()
                                       else "missing"))
    return "|".join(parts)


def _last_hash(con: duckdb.DuckDBPyConnection, pipeline: str, source: str) -> str | None:
    row = con.execute(
        """SELECT input_hash FROM run WHERE pipeline = ? AND source = ? AND status = 'ok'
           ORDER BY started_at DESC LIMIT 1""", [pipeline, source]).fetchone()
    return row[0] if row else None


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """Arrow with list columns typed as lists of strings (an all-empty list column would
    otherwise become INTEGER[] in DuckDB), text columns without a value (a run without rows,
    a field no record filled) typed as text, not as DuckDB's INTEGER for nulls, and nullable
    ints kept nullable."""
    arrays, names = [], []
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object and column.map(lambda v: isinstance(v, list | tuple |
                                                                  np.ndarray)).any():
            values = [None if not isinstance(v, list | tuple | np.ndarray)
                      else [str(x) for x in v] for v in column]
            arrays.append(pa.array(values, type=pa.list_(pa.string())))
        elif column.dtype == object and column.isna().all():
            arrays.append(pa.array([None] * len(column), type=pa.string()))
        else:
            arrays.append(pa.Array.from_pandas(column))
        names.append(str(name))
    return pa.Table.from_arrays(arrays, names=names)


def _replace_source(con: duckdb.DuckDBPyConnection, table: str, source: str,
                    frame: pd.DataFrame) -> None:
    if "source" not in frame.columns:
        raise PipelineError(f"table {table}: rows must carry a `source` column")
    incoming = to_arrow(frame)
    con.register("_incoming", incoming)
    try:
        if not warehouse.table_exists(con, table):
            con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM _incoming LIMIT 0')
        else:  # a new column in a new version of a pipeline: add it
            have = {r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                [table]).fetchall()}
            for name, dtype, *_ in con.execute("DESCRIBE SELECT * FROM _incoming").fetchall():
                if name not in have:
                    con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {dtype}')
        con.execute(f'DELETE FROM "{table}" WHERE source = ?', [source])
        if len(frame):
            con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM _incoming')
    finally:
        con.unregister("_incoming")


def _limited(source: Source, limit: int | None) -> int | None:
    """Reference data (regions, code lists) always loads whole: a quick look needs it all."""
    return None if source.reference else limit


def run_source(pipeline: str, source: Source,
               transform: Callable[[Source, Staged, Context], Output], context: Context,
               input_hash: str,
               after_write: Callable[[duckdb.DuckDBPyConnection], None] | None = None
               ) -> RunSummary:
    """Run one changed source of a pipeline into the run's private copy (`run_pipeline`
    decides which sources changed; see the module docstring for the guarantees)."""
    started = time.time()
    limit = _limited(source, context.limit)
    staged = source.read()
    if limit is not None and len(staged.rows) > limit:
        staged.rows = staged.rows.head(limit).reset_index(drop=True)
        staged.rows_read = len(staged.rows) + len(staged.rejects)
    if not staged.rows_read:
        staged.rows_read = len(staged.rows) + len(staged.rejects)
    output = transform(source, staged, context)
    record = warehouse.RunRecord(
        pipeline=pipeline, input=str(source.path or ""), input_hash=input_hash,
        rows_read=staged.rows_read, rows_stored=output.rows_stored,
        rows_duplicate=output.rows_duplicate, started=started,
    )
    for reject in [*staged.rejects, *output.rejects]:
        record.reject(*reject)
    record.rows_rejected = len(record.rejects)
    con = context.con
    writing = skillmatch_progress.bar(f"{pipeline}/{source.name}: writing",
                                      len(output.tables), "tables")
    with warehouse.transaction(con), writing:
        for done, (table, frame) in enumerate(output.tables.items(), start=1):
            _replace_source(con, table, source.name, frame)
            writing.update_to(done)
        if after_write is not None:
            after_write(con)
        record.write(con, source=source.name)
    return RunSummary(pipeline, source.name, "ok", record.rows_read, record.rows_stored,
                      record.rows_duplicate, record.rows_rejected, time.time() - started)


def _sources(module: ModuleType, context: Context, config: dict[str, Any], name: str,
             only: list[str] | None) -> list[Source]:
    sources = module.sources(context, config)
    unknown = set(only or []) - {s.name for s in sources}
    if unknown:
        raise PipelineError(f"pipeline {name!r} has no source {sorted(unknown)}; it has "
                            f"{', '.join(s.name for s in sources)}")
    return [s for s in sources if not only or s.name in only]


def run_pipeline(settings: Settings, name: str, only: list[str] | None = None,
                 limit: int | None = None, force: bool = False,
                 progress: Progress = print,
                 engine: InProcessEngine | DaskEngine | None = None) -> Iterator[RunSummary]:
    """Run every source of one pipeline (or the named ones) and publish the result once, at
    the end; the embedding-bound stages run on `engine` (in-process by default). When no
    source changed, nothing is copied or published."""
    module = load_definition(settings, name)
    config = pipeline_config(settings).get(name, {})
    engine = engine or InProcessEngine()
    fingerprint = engine_fingerprint(settings)
    # which sources changed, asked of the published warehouse (read-only: no copy needed)
    con = warehouse.connect(settings.warehouse, read_only=True)
    try:
        if not warehouse.table_exists(con, "esco_skill"):
            raise warehouse.WarehouseMissing(
                f"{settings.warehouse} has no ESCO taxonomy: run `skillmatch taxonomy load`")
        sources = _sources(module, Context(settings, con, limit, progress, engine), config,
                           name, only)
        hashes = {s.name: _input_hash(s, _limited(s, limit), fingerprint) for s in sources}
        changed = [s for s in sources
                   if force or _last_hash(con, name, s.name) != hashes[s.name]]
    finally:
        con.close()
    for source in sources:
        if source not in changed:
            yield RunSummary(name, source.name, "unchanged")
    if not changed:
        return
    with warehouse.publishing(settings.warehouse, f"pipeline {name}") as con:
        context = Context(settings, con, limit, progress, engine)
        for source in changed:
            progress(f"{name}/{source.name}: reading {source.path or '(generated)'}")
            yield run_source(name, source,
                             lambda src, staged, ctx: module.transform(src, staged, ctx,
                                                                       config),
                             context, hashes[source.name], getattr(module, "after_write", None))
        progress(f"{name}: publishing")
        skillmatch_progress.stage(f"{name}: publishing")
    skillmatch_progress.published(name)


def stored_problems(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Rows kept with a named problem (a repaired text, an unparseable date, no title), per
    table, source and kind of problem: what an operator should see, though nothing was lost."""
    tables = [r[0] for r in con.execute(
        """SELECT table_name FROM information_schema.columns WHERE column_name = 'problems'
           AND table_name IN (SELECT table_name FROM information_schema.columns
                              WHERE column_name = 'source') ORDER BY 1""").fetchall()]
    columns = ["table", "source", "problem", "rows"]
    if not tables:
        return pd.DataFrame(columns=columns)
    union = " UNION ALL ".join(
        f"""SELECT '{t}' AS "table", source, split_part(trim(p), ': ', 1) AS problem
            FROM (SELECT source, unnest(string_split(problems, '; ')) AS p FROM "{t}"
                  WHERE coalesce(problems, '') <> '')""" for t in tables)
    return con.execute(f"""SELECT "table", source, problem, count(*) AS "rows" FROM ({union})
                           GROUP BY ALL ORDER BY "rows" DESC, 1, 2, 3""").df()[columns]


def warehouse_status(settings: Settings, runs: int = 15) -> dict[str, Any]:
    """The published version, any run in progress, sources, table counts, the latest run of
    each source and its rejected records."""
    run = skillmatch_progress.read_run(settings.warehouse)
    try:
        con = warehouse.connect(settings.warehouse, read_only=True)
    except warehouse.WarehouseMissing:
        if run is None:
            raise
        return {"warehouse": str(settings.warehouse), "published": None, "run": run,
                "size_mb": 0.0, "tables": {}, "sources": [], "recent_runs": [],
                "rejects": [], "problems": []}
    try:
        latest = con.execute(
            """SELECT * EXCLUDE (rn) FROM (
                   SELECT *, row_number() OVER (PARTITION BY pipeline, coalesce(source, input)
                                                ORDER BY started_at DESC) AS rn FROM run)
               WHERE rn = 1 ORDER BY started_at""").df()
        recent = con.execute("SELECT * FROM run ORDER BY started_at DESC LIMIT ?",
                             [runs]).df()
        rejects = con.execute(
            """SELECT r.run_id, r.source, r.record, r.reason FROM reject r
               WHERE r.run_id IN (SELECT unnest(?::VARCHAR[]))""",
            [latest["run_id"].tolist()]).df()
        return {
            "warehouse": str(settings.warehouse),
            "published": warehouse.publication(con),
            "problems": stored_problems(con).to_dict("records"),
            "run": run,
            "size_mb": round(settings.warehouse.stat().st_size / 1e6, 1),
            "tables": warehouse.table_counts(con),
            "sources": latest.to_dict("records"),
            "recent_runs": recent.to_dict("records"),
            "rejects": rejects.to_dict("records"),
        }
    finally:
        con.close()
