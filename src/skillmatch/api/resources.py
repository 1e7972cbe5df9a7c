"""What the server keeps between requests: per published warehouse version, one read-only
connection and the objects built from it (skill extractor, occupation linker, search index,
talent index, credential catalogue), each built once on first use. A newly published
version is noticed on the next request (the file's inode changes) and used from then on;
requests already running finish on the version they started with."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import duckdb
from starlette.concurrency import run_in_threadpool

from skillmatch import warehouse
from skillmatch.api.errors import ApiError
from skillmatch.memory import release_free_memory
from skillmatch.settings import Settings

T = TypeVar("T")


@dataclass
class Snapshot:
    """One published warehouse version and what was built from it."""

    version: str
    con: duckdb.DuckDBPyConnection
    _built: dict[str, Any] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for this thread: the shared connection itself runs nothing, since two
        threads executing on one DuckDB connection read each other's results."""
        with self._guard:
            cur = self.con.cursor()
        cur.execute(f"USE {warehouse.SNAPSHOT}")
        try:
            yield cur
        finally:
            cur.close()

    async def aget(self, name: str, build: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """`get` for an async endpoint: a build (seconds) runs in a worker thread, so the
        event loop keeps serving meanwhile."""
        if name in self._built:
            return self._built[name]
        return await run_in_threadpool(self.get, name, build)

    def get(self, name: str, build: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """`build(cursor)` once per snapshot; concurrent first requests wait for one build."""
        if name in self._built:
            return self._built[name]
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if name not in self._built:
                with self.cursor() as cur:
                    self._built[name] = build(cur)
        return self._built[name]


def _version(settings: Settings) -> str | None:
    try:
        stat = settings.warehouse.stat()
    except FileNotFoundError:
        return None
    return f"{stat.st_ino}:{stat.st_mtime_ns}:{stat.st_size}"


class Resources:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self.batchers: dict[str, MicroBatcher] = {}

    def current(self) -> Snapshot:
        """The snapshot of the version published now (503 while there is none)."""
        version = _version(self.settings)
        if version is None:
            raise ApiError(503, f"no warehouse at {self.settings.warehouse} yet: run "
                                "`skillmatch build` (or `skillmatch taxonomy load`)")
        snap = self._snapshot
        if snap is not None and snap.version == version:
            return snap
        with self._lock:
            if self._snapshot is None or self._snapshot.version != version:
                try:
                    con = warehouse.connect_snapshot(self.settings.warehouse)
                except (duckdb.Error, warehouse.WarehouseMissing) as exc:
                    raise ApiError(503, f"the warehouse cannot be opened now: {exc}") from exc
                self._snapshot = Snapshot(version, con)  # the old one closes when unused
            return self._snapshot

    def batcher(self, name: str, run: Callable[[list], list]) -> MicroBatcher:
        with self._lock:
            if name not in self.batchers:
                self.batchers[name] = MicroBatcher(run)
            return self.batchers[name]


class MicroBatcher:
    """Requests that arrive while the model is busy are run together, as one batch: sentence
    encoding is far cheaper per text in batches, so concurrent clients get the batch mode's
    rate instead of queueing one forward pass each. One worker thread owns the model calls.

    `run(items)` gets the pending items (any objects) and returns one result per item."""

    def __init__(self, run: Callable[[list], list], max_items: int = 64) -> None:
        self.run, self.max_items = run, max_items
        self._pending: list[tuple[Any, Future]] = []
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="micro-batcher")
        self._thread.start()

    def submit(self, item: Any) -> Any:
        future: Future = Future()
        with self._wake:
            self._pending.append((item, future))
            self._wake.notify()
        return future.result()

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._pending:
                    self._wake.wait()
                batch = self._pending[:self.max_items]
                del self._pending[:self.max_items]
            try:
                results = self.run([item for item, _ in batch])
            except BaseException as exc:  # each waiting request gets the error, not a hang
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)
            release_free_memory()  # after answering: the batch's freed temporaries go back
