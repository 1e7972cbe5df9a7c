"""Learner advice: the gap between a learner's profile and a target occupation or vacancy,
credentials ranked by gap covered per ECTS, and a stackable path within a study budget."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from skillmatch import matching, recommend
from skillmatch.access import ApiKey
from skillmatch.api import schemas
from skillmatch.api.common import extract, records, require_tables, resources_of, settings_of
from skillmatch.api.errors import invalid
from skillmatch.api.limits import check_texts
from skillmatch.api.resources import Snapshot
from skillmatch.api.security import require

router = APIRouter(prefix="/learners", tags=["learners"])


def requirements_from_text(request: Request, snap: Snapshot, text: str, field: str
                           ) -> matching.Requirements:
    """The accepted skills of a vacancy text as essential requirements."""
    check_texts(field, [text], settings_of(request).api_max_text_chars)
    found = extract(request, snap, [text])[0]
    return matching.Requirements.from_skills(snap.get("skill_labels", matching.skill_labels),
                                             [m.uri for m in found if m.accepted])


@router.post("/advice", response_model=schemas.LearnerResponse,
             summary="Gap, credentials that close it and a stackable path (institution, "
                     "employer)")
def advice(body: schemas.LearnerRequest, request: Request,
           _: ApiKey = Depends(require("learners"))) -> dict:
    if (body.target_occupation is None) == (body.vacancy_text is None):
        raise invalid("target_occupation", "give either `target_occupation` (an ESCO URI) or "
                                           "`vacancy_text`")
    snap = resources_of(request).current()
    require_tables(snap, "credential", "credential_skill", what="credential catalogue")
    catalogue = snap.get("catalogue", recommend.load_catalogue)
    if body.vacancy_text is not None:
        target = requirements_from_text(request, snap, body.vacancy_text,
                                        "vacancy_text").frame()
    with snap.cursor() as cur:
        try:
            if body.target_occupation is not None:
                target = matching.requirements_for_occupation(
                    cur, body.target_occupation, include_optional=body.include_optional)
            held = recommend.held_skills(catalogue, body.credentials_held, body.skills, cur)
        except ValueError as exc:
            raise invalid("target_occupation" if "occupation" in str(exc)
                          else "credentials_held", str(exc)) from exc
    gap = recommend.skill_gap(target, held)
    ranked = recommend.rank_credentials(gap, catalogue, exclude=body.credentials_held,
                                        top_k=body.top_k)
    path = recommend.stackable_path(gap, catalogue, body.budget_ects,
                                    exclude=body.credentials_held)
    return {"target": records(target), "held": records(held), "gap": records(gap),
            "credentials": records(ranked), "path": records(path),
            "path_strategy": path.attrs.get("strategy")}
