"""Talent search (employer keys only): pseudonymous candidates ranked against requirements
from a vacancy text, an occupation or a list, each match explained. Every search is audited
(key, time, a hash of the query, how many candidates were returned)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from skillmatch import matching
from skillmatch.access import ApiKey, query_hash
from skillmatch.api import schemas
from skillmatch.api.common import require_tables, resources_of
from skillmatch.api.errors import invalid
from skillmatch.api.resources import Snapshot
from skillmatch.api.routes.learners import requirements_from_text
from skillmatch.api.security import require

router = APIRouter(prefix="/talent", tags=["talent"])


@router.post("/search", response_model=schemas.TalentResponse,
             summary="Candidates ranked and explained against requirements (employer)")
async def search(body: schemas.TalentRequest, request: Request,
                 key: ApiKey = Depends(require("talent"))) -> dict:
    # async: a search is a few milliseconds of numpy, run on the event loop one at a time
    # (threads only contended for the GIL); the slow parts (a vacancy text's skills, an
    # occupation's profile from SQL, first builds) go to worker threads
    snap = resources_of(request).current()
    require_tables(snap, "candidate", what="candidate profiles")
    labels = await snap.aget("skill_labels", matching.skill_labels)
    requirements = matching.Requirements()
    if body.vacancy_text is not None:
        requirements += await run_in_threadpool(requirements_from_text, request, snap,
                                                body.vacancy_text, "vacancy_text")
    try:
        if body.occupation_uri is not None:
            requirements += await run_in_threadpool(_occupation, snap, body)
        requirements += _listed(body.requirements, labels)
    except ValueError as exc:
        raise invalid("requirements", str(exc)) from exc
    if not len(requirements):
        raise invalid("requirements", "no requirement: give a vacancy text in which skills "
                                      "are recognised, an occupation_uri or requirements")
    index = await snap.aget("talent", matching.TalentIndex.load)
    try:
        candidates = index.search_records(requirements, regions=tuple(body.regions),
                                          top_k=body.top_k)
    except ValueError as exc:
        raise invalid("regions", str(exc)) from exc
    shown = candidates[:body.explain]
    for row, explanation in zip(shown, index.explain_records(
            [row["candidate_id"] for row in shown], requirements), strict=True):
        row["explanation"] = explanation
    for row in candidates:
        del row["missing_skill_uris"]
    request.app.state.keys.record_search(key.key_id, query_hash(body.model_dump()),
                                         len(candidates))
    return {"requirements": requirements.records(), "candidates_searched": index.n_candidates,
            "candidates": candidates}


def _occupation(snap: Snapshot, body: schemas.TalentRequest) -> matching.Requirements:
    with snap.cursor() as cur:
        return matching.Requirements.from_frame(matching.requirements_for_occupation(
            cur, body.occupation_uri, include_optional=body.include_optional))


def _listed(listed: list[schemas.RequirementIn], labels: dict[str, str]
            ) -> matching.Requirements:
    """The request's own list (the first entry of a repeated skill), labels from ESCO."""
    first: dict[str, schemas.RequirementIn] = {}
    for r in listed:
        first.setdefault(r.skill_uri, r)
    named = matching.Requirements.from_skills(labels, list(first))  # unknown URIs: an error
    return matching.Requirements.from_rows(
        [(i, uri, label, first[uri].importance, first[uri].weight)
         for i, (uri, label) in enumerate(zip(named.uris, named.labels, strict=True))])
