"""What the endpoints share: the server's state, frames as JSON records, the shared model
objects of the current warehouse version and the build-in-progress check."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from fastapi import Request

from skillmatch import warehouse
from skillmatch.api.errors import ApiError
from skillmatch.api.resources import Resources, Snapshot
from skillmatch.mapping import OccupationLinker, SkillExtractor
from skillmatch.progress import read_run
from skillmatch.settings import Settings

# scored sentences a server remembers (~26 KB each, measured with tracemalloc: 20,000 held
# ~0.5 GB and a 15-minute soak's RSS was still climbing while they filled)
SERVER_MEMO_SENTENCES = 5_000


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def resources_of(request: Request) -> Resources:
    return request.app.state.resources


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-ready records (numpy values, NaN -> null, dates as ISO text)."""
    if frame is None or frame.empty:
        return []
    return json.loads(frame.to_json(orient="records", date_format="iso", default_handler=str))


def wait_for(settings: Settings, what: str) -> None:
    """503 while the first build is still embedding the labels `what` needs, instead of
    embedding them a second time inside a request."""
    state = read_run(settings.warehouse)
    if state and state["running"] and state["what"] == "build" and what not in state["published"]:
        raise ApiError(503, f"the {what} is being built (skillmatch build); try again later",
                       headers={"Retry-After": "60"})


def require_tables(snap: Snapshot, *tables: str, what: str) -> None:
    """503 naming what to run when the warehouse lacks tables (looked up once a version)."""
    missing = snap.get("missing:" + ",".join(tables), lambda cur: [
        t for t in tables if not warehouse.table_exists(cur, t)])
    if missing:
        raise ApiError(503, f"the warehouse has no {what} yet (missing: {', '.join(missing)}); "
                            "run `skillmatch build`")


def extractor(request: Request, snap: Snapshot) -> SkillExtractor:
    from skillmatch.progress import MAPPING_INDEX

    settings = settings_of(request)
    wait_for(settings, MAPPING_INDEX)
    # a smaller sentence memo than a pipeline's: a server runs for weeks on varied texts
    return snap.get("extractor", lambda cur: SkillExtractor(
        settings, cur, memo_sentences=SERVER_MEMO_SENTENCES))


def linker(request: Request, snap: Snapshot) -> OccupationLinker:
    settings = settings_of(request)
    return snap.get("linker", lambda cur: OccupationLinker(settings, cur))


def extract(request: Request, snap: Snapshot, texts: list[str], *, top_k: int | None = None,
            language: str | None = None) -> list[list]:
    """Skills per text through the server's micro-batcher (one model call for the texts of
    all requests waiting at that moment)."""
    found = extractor(request, snap)
    batcher = resources_of(request).batcher("skills", _run_extraction)
    return batcher.submit((found, texts, top_k, language))


def _run_extraction(items: list[tuple]) -> list[list[list]]:
    """Items (extractor, texts, top_k, language) grouped by all but the texts, each group one
    `extract_many` call."""
    out: list[list[list] | None] = [None] * len(items)
    groups: dict[tuple, list[int]] = {}
    for i, (found, _, top_k, language) in enumerate(items):
        groups.setdefault((id(found), top_k, language), []).append(i)
    for members in groups.values():
        found, _, top_k, language = items[members[0]]
        texts = [t for i in members for t in items[i][1]]
        results = found.extract_many(texts, top_k=top_k, language=language)
        start = 0
        for i in members:
            n = len(items[i][1])
            out[i] = results[start:start + n]
            start += n
    return out  # type: ignore[return-value]
