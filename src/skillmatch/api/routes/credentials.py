"""For institutions: their own catalogue tagged with ESCO skills and checked against the
quality framework, and Open Badges 3.0 / ELM documents returned with ESCO alignments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request

from skillmatch import badges
from skillmatch.access import ApiKey
from skillmatch.api import schemas
from skillmatch.api.common import extractor, records, resources_of, settings_of
from skillmatch.api.errors import invalid
from skillmatch.api.limits import check_texts
from skillmatch.api.security import require
from skillmatch.credentials import (
    check_quality,
    map_outcomes,
    outcome_languages,
    outcome_rows,
    quality_issue_rows,
)
from skillmatch.sources.credentials import RecordError, credential_frame, normalise_record

router = APIRouter(tags=["credentials"])
CATALOGUE = Depends(require("catalogue"))


@router.post("/catalogue/tag", response_model=schemas.CatalogueResponse,
             summary="Tag credentials' learning outcomes with ESCO skills and check them "
                     "against the quality framework (institution, employer)")
def tag_catalogue(body: schemas.CatalogueRequest, request: Request,
                  _: ApiKey = CATALOGUE) -> dict:
    settings = settings_of(request)
    if len(body.credentials) > settings.api_max_batch:
        raise invalid("credentials", f"{len(body.credentials):,} credentials; at most "
                                     f"{settings.api_max_batch:,} per request")
    rows = []
    for i, credential in enumerate(body.credentials):
        check_texts(f"credentials.{i}.learning_outcomes", credential.learning_outcomes,
                    settings.api_max_text_chars, settings.api_max_batch)
        try:
            rows.append(normalise_record(credential.model_dump(exclude_none=True)))
        except RecordError as exc:
            raise invalid(f"credentials.{i}", str(exc)) from exc
    checked = check_quality(credential_frame(rows))
    issues = quality_issue_rows(checked)
    outcomes = outcome_rows(checked)
    language = outcome_languages(checked, outcomes)
    snap = resources_of(request).current()
    mapped = map_outcomes(outcomes, extractor(request, snap), language,
                          body.skills_per_outcome)  # as the credentials pipeline maps them
    skills: dict[tuple[str, int], list[dict]] = {}
    for row in mapped.itertuples():
        skills.setdefault((row.credential_id, row.outcome_no), []).append({
            "uri": row.skill_uri, "label": row.skill_label, "skill_type": row.skill_type,
            "score": row.score, "phrase": row.phrase})
    tagged = []
    for row in checked.itertuples():
        mine = outcomes[outcomes["credential_id"] == row.credential_id]
        tagged.append({
            "credential_id": row.credential_id, "title": row.title,
            "quality": {"ok": bool(row.quality_ok), "issues": records(
                issues[issues["credential_id"] == row.credential_id].drop(
                    columns="credential_id"))},
            "outcomes": [{"outcome_no": int(o.outcome_no), "text": o.outcome_text,
                          "skills": skills.get((row.credential_id, o.outcome_no), [])}
                         for o in mine.itertuples()],
            "declared_skill_uris": list(row.esco_skill_uris),
        })
    return {"credentials": tagged}


@router.post("/badges/align", response_model=schemas.AlignmentResponse,
             summary="An Open Badges 3.0 or ELM document back with ESCO alignments per "
                     "learning outcome, and its quality check (institution, employer)")
def align_badge(request: Request, document: dict[str, Any] = Body(
        ..., description="an OpenBadgeCredential / Achievement (OB 3.0) or an ELM credential "
                         "or learning opportunity (JSON-LD)"),
        skills_per_outcome: int = 5, _: ApiKey = CATALOGUE) -> dict:
    if not 1 <= skills_per_outcome <= 20:
        raise invalid("skills_per_outcome", "between 1 and 20")
    snap = resources_of(request).current()
    try:
        aligned = badges.align_badge(document, extractor(request, snap),
                                     skills_per_outcome=skills_per_outcome)
    except badges.BadgeError as exc:
        raise invalid("document", str(exc)) from exc
    return aligned.as_dict()
