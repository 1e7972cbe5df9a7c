"""Progress of long stages: a tqdm bar on the terminal and, while a run is in progress, a
small status file beside the warehouse that `skillmatch status` and the data-status page read
(another process cannot ask a running DuckDB writer anything, but it can read a file).

Library code only calls `bar(label, total, unit)`; the command that runs (build, pipeline run,
taxonomy load/index) wraps itself in `reporting(warehouse, what)`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

WRITE_EVERY_S = 1.0
# what a build publishes before any pipeline: the label vectors that search and mapping need
SEARCH_INDEX = "search index"
MAPPING_INDEX = "mapping index"


def run_file(warehouse: Path) -> Path:
    return Path(warehouse).with_name(f".{Path(warehouse).name}.run.json")


@dataclass
class RunState:
    """What a reader may know of the run in progress."""

    pid: int
    what: str
    started_at: float
    stage: str = "starting"
    done: int = 0
    total: int | None = None
    unit: str = ""
    rate: float | None = None
    seconds_left: float | None = None
    updated_at: float = field(default_factory=time.time)
    published: list[str] = field(default_factory=list)


class _Report:
    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.state = RunState(os.getpid(), what, time.time())
        self._written = 0.0
        self.write(force=True)

    def write(self, force: bool = False) -> None:
        now = time.time()
        if not force and now - self._written < WRITE_EVERY_S:
            return
        self.state.updated_at = now
        partial = self.path.with_name(self.path.name + f".{os.getpid()}")
        partial.write_text(json.dumps(asdict(self.state)), encoding="utf-8")
        os.replace(partial, self.path)  # readers see a whole file
        self._written = now


_current: _Report | None = None


@contextmanager
def reporting(warehouse: Path, what: str) -> Iterator[None]:
    """Publish this run's progress for other processes; a run inside a run (a pipeline inside
    a build) reports into the outer one."""
    global _current
    if _current is not None:
        yield
        return
    path = run_file(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    _current = _Report(path, what)
    try:
        yield
    finally:
        _current = None
        path.unlink(missing_ok=True)


def stage(name: str) -> None:
    """A stage without a count (e.g. "publishing")."""
    if _current is not None:
        _current.state.stage, _current.state.done, _current.state.total = name, 0, None
        _current.state.rate = _current.state.seconds_left = None
        _current.write(force=True)


def published(what: str) -> None:
    """Something became visible to readers during this run (a pipeline, the taxonomy)."""
    if _current is not None:
        _current.state.published.append(what)
        _current.write(force=True)


class Bar:
    """One counted stage: `bar.update_to(done)` (or `bar(done, total)`, the signature the
    encoder's progress callback has)."""

    def __init__(self, label: str, total: int | None, unit: str = "items",
                 shown: bool = True) -> None:
        self.label, self.unit, self.shown = label, unit, shown
        interactive = sys.stderr.isatty()
        self._bar = tqdm(total=total, desc=label, unit=f" {unit}", file=sys.stderr,
                         mininterval=0.5 if interactive else 30.0, dynamic_ncols=True,
                         leave=True, disable=not shown)
        self._started = time.perf_counter()
        if shown:
            stage(label)
        self.update_to(0, total)

    def update_to(self, done: int, total: int | None = None) -> None:
        if total is not None and total != self._bar.total:
            self._bar.total = total
        self._bar.update(done - self._bar.n)
        if _current is not None and self.shown:
            elapsed = time.perf_counter() - self._started
            rate = done / elapsed if done and elapsed > 0 else None
            total = self._bar.total
            state = _current.state
            state.stage, state.done, state.total, state.unit = self.label, done, total, \
                self.unit
            state.rate = rate
            state.seconds_left = (total - done) / rate if rate and total else None
            _current.write(force=done == total)

    __call__ = update_to

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def bar(label: str, total: int | None, unit: str = "items", shown: bool = True) -> Bar:
    """A counted stage; `shown=False` for calls that are usually too short to show."""
    return Bar(label, total, unit, shown)


def read_run(warehouse: Path) -> dict[str, Any] | None:
    """The run in progress on `warehouse`, if any; a file whose process is gone is reported
    as stopped (a killed run: what readers see is untouched, the next run starts afresh)."""
    path = run_file(warehouse)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    state["running"] = _alive(int(state.get("pid", 0)))
    return state


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def describe(state: dict[str, Any]) -> str:
    """One line: what runs, its stage, records done, rate and time left."""
    if not state.get("running"):
        return (f"a run ({state['what']}, pid {state['pid']}) stopped without finishing at "
                f"stage {state['stage']}; readers see the last published version")
    line = f"running: {state['what']} (pid {state['pid']}), stage {state['stage']}"
    if state.get("total"):
        line += f": {state['done']:,}/{state['total']:,} {state['unit']}"
    elif state.get("done"):
        line += f": {state['done']:,} {state['unit']}"
    if state.get("rate"):
        line += f" ({state['rate']:,.1f}/s"
        if state.get("seconds_left") is not None:
            line += f", {state['seconds_left'] / 60:,.1f} min left"
        line += ")"
    if state.get("published"):
        line += f"; published so far: {', '.join(state['published'])}"
    return line
