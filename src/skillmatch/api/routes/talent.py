"""Talent search (employer keys only): pseudonymous candidates ranked against requirements
from a vacancy text, an occupation or a list, each match explained. Every search is audited
(key, time, a hash of the query, how many candidates were returned)."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, Depends, Request

from skillmatch import matching
from skillmatch.access import ApiKey, query_hash
from skillmatch.api import schemas
from skillmatch.api.common import records, require_tables, resources_of
from skillmatch.api.errors import invalid
from skillmatch.api.routes.learners import requirements_from_text
from skillmatch.api.security import require

router = APIRouter(prefix="/talent", tags=["talent"])


@router.post("/search", response_model=schemas.TalentResponse,
             summary="Candidates ranked and explained against requirements (employer)")
def search(body: schemas.TalentRequest, request: Request,
           key: ApiKey = Depends(require("talent"))) -> dict:
    snap = resources_of(request).current()
    require_tables(snap, "candidate", what="candidate profiles")
    parts = []
    if body.vacancy_text is not None:
        parts.append(requirements_from_text(request, snap, body.vacancy_text, "vacancy_text"))
    with snap.cursor() as cur:
        try:
            if body.occupation_uri is not None:
                parts.append(matching.requirements_for_occupation(
                    cur, body.occupation_uri, include_optional=body.include_optional))
            listed = [r.model_dump() for r in body.requirements]
            if listed:
                named = matching.requirements_from_skills(cur, [r["skill_uri"] for r in listed])
                chosen = pd.DataFrame(listed).drop_duplicates("skill_uri")
                parts.append(named.drop(columns=["importance", "weight"]).merge(
                    chosen, on="skill_uri"))
            requirements = (matching.normalise_requirements(pd.concat(parts, ignore_index=True))
                            if parts else pd.DataFrame())
        except ValueError as exc:
            raise invalid("requirements", str(exc)) from exc
    if requirements.empty:
        raise invalid("requirements", "no requirement: give a vacancy text in which skills "
                                      "are recognised, an occupation_uri or requirements")
    index = snap.get("talent", matching.TalentIndex.load)
    try:
        found = index.search(requirements, regions=tuple(body.regions), top_k=body.top_k)
    except ValueError as exc:
        raise invalid("regions", str(exc)) from exc
    candidates = records(found.drop(columns="missing_skill_uris"))
    for row in candidates[:body.explain]:
        row["explanation"] = records(index.explain(row["candidate_id"], requirements))
    request.app.state.keys.record_search(key.key_id, query_hash(body.model_dump()),
                                         len(candidates))
    return {"requirements": records(requirements), "candidates_searched": index.n_candidates,
            "candidates": candidates}
