"""The DuckDB warehouse: connections, publishing, all-or-nothing writes and run records.

Readers (the app, every read-only command) open the *published* file. A writer never touches
it: `publishing` gives it a private copy, and when the writer's block ends without error the
copy replaces the published file in one atomic rename. So readers are never locked out (DuckDB
allows no reader beside a writer of the same file), never see half a rebuild, and a failed or
killed run leaves them exactly what they had. A reader that still holds the previous version
keeps reading it: on POSIX the replaced file lives on until its last reader closes it.
Inside the copy, every load still replaces its tables in one transaction.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

RUN_DDL = """
CREATE TABLE IF NOT EXISTS run (
    run_id VARCHAR PRIMARY KEY,
    pipeline VARCHAR NOT NULL,
    input VARCHAR,
    input_hash VARCHAR,
    rows_read BIGINT,
    rows_stored BIGINT,
    rows_duplicate BIGINT,
    rows_rejected BIGINT,
    started_at TIMESTAMP,
    seconds DOUBLE,
    status VARCHAR,
    source VARCHAR
);
ALTER TABLE run ADD COLUMN IF NOT EXISTS source VARCHAR;
CREATE TABLE IF NOT EXISTS publication (
    version BIGINT,
    published_at TIMESTAMP,
    what VARCHAR,
    pid BIGINT
);
CREATE TABLE IF NOT EXISTS reject (
    run_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    record VARCHAR,
    reason VARCHAR NOT NULL
);
"""


class WarehouseMissing(FileNotFoundError):
    """The warehouse file does not exist yet; the message says what to run."""


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; reading a missing one is an error that says how to build it."""
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseMissing(
            f"no warehouse at {path}: run `skillmatch taxonomy load` (or `skillmatch build`)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    if not read_only:
        con.execute(RUN_DDL)
    return con


SNAPSHOT = "warehouse"


def connect_snapshot(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the version published under `path` now, for a long-running
    reader (the API server). `duckdb.connect` would hand back the instance this process
    already holds for the path, i.e. an older version; attaching to a fresh in-memory
    database opens the file anew. Take its cursors with `cursor(con)`."""
    path = Path(path)
    if not path.exists():
        raise WarehouseMissing(
            f"no warehouse at {path}: run `skillmatch taxonomy load` (or `skillmatch build`)")
    con = duckdb.connect(":memory:")
    literal = str(path).replace("'", "''")  # ATTACH takes no parameters
    con.execute(f"ATTACH '{literal}' AS {SNAPSHOT} (READ_ONLY)")
    con.execute(f"USE {SNAPSHOT}")
    return con


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of `con` (for another thread, or temp tables of its own) reading the same
    database: a plain `con.cursor()` starts on the instance's default one, which for a
    `connect_snapshot` connection is the empty in-memory database."""
    database = con.execute("SELECT current_database()").fetchone()[0]
    cur = con.cursor()
    cur.execute(f'USE "{database.replace(chr(34), chr(34) * 2)}"')
    return cur


class WarehouseBusy(RuntimeError):
    """Another run is writing this warehouse; one writer at a time."""


def private_path(path: Path) -> Path:
    """Where a run writes before it publishes (next to the warehouse: the rename must not
    cross file systems)."""
    return path.with_name(f".{path.name}.next")


def lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


def _remove(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


@contextmanager
def writer_lock(path: Path, what: str) -> Iterator[None]:
    """The one writer of `path`: a second run stops at once, naming the first one."""
    lock = lock_path(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another run"
            raise WarehouseBusy(f"{path} is being written by {holder}: wait for it to finish "
                                f"(`skillmatch status` shows its progress)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} ({what})".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def publishing(path: Path, what: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A writable connection to a private copy of the warehouse; the copy is published over
    `path` atomically when the block ends without error, and thrown away otherwise."""
    path = Path(path)
    with writer_lock(path, what):
        private = private_path(path)
        _remove(private)  # left behind by a killed run
        if path.exists():
            shutil.copyfile(path, private)
        con = connect(private)
        try:
            yield con
            version = con.execute("SELECT coalesce(max(version), 0) + 1 FROM publication"
                                  ).fetchone()[0]
            con.execute("INSERT INTO publication VALUES (?, now()::TIMESTAMP, ?, ?)",
                        [version, what, os.getpid()])
            con.execute("CHECKPOINT")
        except BaseException:
            con.close()
            _remove(private)
            raise
        con.close()
        if private.with_name(private.name + ".wal").exists():
            raise RuntimeError(f"{private}: the write-ahead log was not checkpointed; "
                               "nothing was published")
        _fsync(private)
        os.replace(private, path)
        _fsync(path.parent)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publication(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The published version a connection reads: number, time and what published it."""
    if not table_exists(con, "publication"):
        return None
    row = con.execute("SELECT version, published_at, what FROM publication "
                      "ORDER BY version DESC LIMIT 1").fetchone()
    return dict(zip(("version", "published_at", "what"), row, strict=True)) if row else None


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    return bool(row and row[0])


def table_counts(con: duckdb.DuckDBPyConnection, prefix: str = "") -> dict[str, int]:
    """Row counts of every table (optionally only those whose name starts with `prefix`)."""
    names = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' ORDER BY table_name"
        ).fetchall()
        if r[0].startswith(prefix)
    ]
    return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Commit on success, roll back on any error (including KeyboardInterrupt)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def replace_table(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    """Replace a table by a DataFrame's rows (inside the caller's transaction)."""
    view = f"_incoming_{name}"
    con.register(view, frame)
    try:
        con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM "{view}"')
    finally:
        con.unregister(view)


def file_sha256(path: Path) -> str:
    """Content hash recorded with each run, so a changed input is visible."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class RunRecord:
    """What one pipeline run read, stored and rejected; written in the run's transaction."""

    pipeline: str
    input: str
    input_hash: str = ""
    rows_read: int = 0
    rows_stored: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started: float = field(default_factory=time.time)
    rejects: list[tuple[str, str, str]] = field(default_factory=list)

    def reject(self, source: str, record: str, reason: str) -> None:
        self.rejects.append((source, record, reason))
        self.rows_rejected += 1

    def write(self, con: duckdb.DuckDBPyConnection, status: str = "ok",
              source: str | None = None) -> None:
        """Store the record (and its rejects) after checking read = stored + dup + rejected."""
        if self.rows_read != self.rows_stored + self.rows_duplicate + self.rows_rejected:
            raise RuntimeError(
                f"run {self.run_id} ({self.pipeline}): rows read {self.rows_read} != stored "
                f"{self.rows_stored} + duplicates {self.rows_duplicate} + rejected "
                f"{self.rows_rejected}"
            )
        con.execute(
            """INSERT INTO run (run_id, pipeline, input, input_hash, rows_read, rows_stored,
                   rows_duplicate, rows_rejected, started_at, seconds, status, source)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, to_timestamp(?), ?, ?, ?)""",
            [
                self.run_id,
                self.pipeline,
                self.input,
                self.input_hash,
                self.rows_read,
                self.rows_stored,
                self.rows_duplicate,
                self.rows_rejected,
                self.started,
                time.time() - self.started,
                status,
                source or self.pipeline,
            ],
        )
        if self.rejects:
            con.executemany(
                "INSERT INTO reject VALUES (?, ?, ?, ?)",
                [(self.run_id, *r) for r in self.rejects],
            )
