"""Taxonomy search and concept look-up: what the Taxonomy explorer shows."""

from __future__ import annotations

from typing import Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request

from skillmatch import search, taxonomy
from skillmatch.access import ApiKey
from skillmatch.api import schemas
from skillmatch.api.common import records, resources_of, settings_of, wait_for
from skillmatch.api.errors import ApiError
from skillmatch.api.routes.mapping import check_language
from skillmatch.api.security import require
from skillmatch.encoding import get_encoder
from skillmatch.progress import SEARCH_INDEX

router = APIRouter(prefix="/taxonomy", tags=["taxonomy"])


@router.get("/search", response_model=schemas.SearchResponse,
            summary="Hybrid semantic + lexical search over ESCO labels (any user role)")
def search_taxonomy(request: Request, q: str = Query(..., min_length=1, max_length=500),
                    type: Literal["skill", "occupation"] | None = None,
                    top_k: int = Query(10, ge=1, le=100),
                    language: str | None = None,
                    _: ApiKey = Depends(require("taxonomy"))) -> dict:
    settings = settings_of(request)
    wait_for(settings, SEARCH_INDEX)
    snap = resources_of(request).current()
    index = snap.get("search", lambda cur: search.get_index(
        cur, settings, get_encoder(settings, settings.search_model)))
    hits = index.search(q, concept_type=type, top_k=top_k, language=check_language(language))
    return {"query": q, "results": records(hits)}


def _concept(request: Request, concept_type: str, uri: str) -> dict:
    """A skill or occupation with its parts (tables as records); 404 when unknown."""
    lookup = taxonomy.skill_detail if concept_type == "skill" else taxonomy.occupation_detail
    with resources_of(request).current().cursor() as cur:
        detail = lookup(cur, uri)
    if detail is None:
        raise ApiError(404, f"no ESCO {concept_type} {uri!r}")
    parts = {k: records(v) if isinstance(v, pd.DataFrame) else v for k, v in detail.items()}
    return {"concept_type": concept_type,
            "concept": records(pd.DataFrame([parts.pop(concept_type)]))[0], "parts": parts}


@router.get("/skill", response_model=schemas.ConceptResponse,
            summary="A skill: hierarchy, collections, related skills, occupations (any user role)")
def skill(request: Request, uri: str = Query(..., max_length=300),
          _: ApiKey = Depends(require("taxonomy"))) -> dict:
    return _concept(request, "skill", uri)


@router.get("/occupation", response_model=schemas.ConceptResponse,
            summary="An occupation: ISCO group, essential and optional skills (any user role)")
def occupation(request: Request, uri: str = Query(..., max_length=300),
               _: ApiKey = Depends(require("taxonomy"))) -> dict:
    return _concept(request, "occupation", uri)
