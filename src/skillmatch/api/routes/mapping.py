"""Skills from text (vacancy texts, CV lines, learning outcomes) and occupations from job
titles: the mapping engine, as `skillmatch map` gives it."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request

from skillmatch.access import ApiKey
from skillmatch.api import schemas
from skillmatch.api.common import extract, linker, records, resources_of, settings_of
from skillmatch.api.errors import invalid
from skillmatch.api.limits import check_texts
from skillmatch.api.security import require
from skillmatch.text import clean_text, detect_language

router = APIRouter(tags=["mapping"])
LANGUAGE = re.compile(r"[a-z]{2}")


def one_or_many(one: str | None, many: list[str] | None, field: str) -> list[str]:
    if (one is None) == (many is None):
        raise invalid(field, f"give either `{field}` (one) or `{field}s` (a list)")
    return [one] if one is not None else list(many or [])


def check_language(language: str | None) -> str | None:
    if language is not None and not LANGUAGE.fullmatch(language):
        raise invalid("language", "a two-letter code such as 'en' or 'nl'")
    return language


@router.post("/skills", response_model=schemas.SkillsResponse,
             summary="ESCO skills in one text or a batch, with evidence (any user role)")
def skills(body: schemas.SkillsRequest, request: Request,
           _: ApiKey = Depends(require("mapping"))) -> dict:
    settings = settings_of(request)
    texts = one_or_many(body.text, body.texts, "text")
    check_texts("texts" if body.texts is not None else "text", texts,
                settings.api_max_text_chars, settings.api_max_batch)
    language = check_language(body.language)
    snap = resources_of(request).current()
    found = extract(request, snap, texts, top_k=body.top_k, language=language)
    results = []
    for text, matches in zip(texts, found, strict=True):
        lang = matches[0].language if matches else (
            language or detect_language(clean_text(text[:5000]), default="") or None)
        results.append({"language": lang, "skills": [m.as_dict() for m in matches]})
    return {"results": results}


@router.post("/occupations", response_model=schemas.OccupationsResponse,
             summary="ESCO occupations for job titles, with ISCO group (any user role)")
def occupations(body: schemas.OccupationsRequest, request: Request,
                _: ApiKey = Depends(require("mapping"))) -> dict:
    settings = settings_of(request)
    titles = one_or_many(body.title, body.titles, "title")
    check_texts("titles" if body.titles is not None else "title", titles, 300,
                settings.api_max_batch)
    snap = resources_of(request).current()
    hits = linker(request, snap).link_many(titles, top_k=body.top_k,
                                           language=check_language(body.language))
    return {"results": [
        {"title": title, "occupations": [
            {**r, "label": r["preferred_label"]} for r in records(frame)]}
        for title, frame in zip(titles, hits, strict=True)]}
