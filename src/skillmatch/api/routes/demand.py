"""Aggregate labour-market figures (the dashboard's): demand, trend and the gap index for a
region layer, region, sector, ISCO group and period. No candidate-level data here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request

from skillmatch import analytics
from skillmatch.access import ApiKey
from skillmatch.analytics import DemandFilter
from skillmatch.api import schemas
from skillmatch.api.common import records, require_tables, resources_of
from skillmatch.api.errors import invalid
from skillmatch.api.security import require

router = APIRouter(prefix="/demand", tags=["demand"])
QUARTER = r"^\d{4}Q[1-4]$"


def _codes(values: list[str], field: str) -> tuple[str, ...]:
    """Repeated or comma-separated query values."""
    out = tuple(v.strip() for value in values for v in value.split(",") if v.strip())
    if any(len(v) > 300 for v in out) or len(out) > 500:
        raise invalid(field, "at most 500 codes of at most 300 characters")
    return out


def demand_filter(
        region_level: Literal["nuts2", "nuts3", "labour_market_region"] = "nuts2",
        region: list[str] = Query([], description="region codes at that level"),
        sector: list[str] = Query([], description="SBI/NACE section letters"),
        isco: list[str] = Query([], description="ISCO codes at any level"),
        period_from: str | None = Query(None, pattern=QUARTER),
        period_to: str | None = Query(None, pattern=QUARTER),
        source: list[str] = Query([], description="vacancy sources"),
) -> DemandFilter:
    period = None
    if period_from or period_to:
        period = (period_from or "0000Q1", period_to or "9999Q4")
    try:
        return DemandFilter(region_level=region_level, regions=_codes(region, "region"),
                            sectors=_codes(sector, "sector"), isco_groups=_codes(isco, "isco"),
                            period=period, sources=_codes(source, "source"))
    except ValueError as exc:
        raise invalid("region_level", str(exc)) from exc


def _answer(request: Request, f: DemandFilter,
            compute: Callable[..., pd.DataFrame | dict]) -> dict:
    snap = resources_of(request).current()
    require_tables(snap, "vacancy", "vacancy_skill", what="vacancies")
    with snap.cursor() as cur:
        result = compute(cur)
    body: dict = {"filter": asdict(f), "rows": []}
    if isinstance(result, dict):
        body["figures"] = result
    else:
        body["rows"] = records(result)
    return body


AGGREGATE = Depends(require("demand"))


@router.get("/figures", response_model=schemas.DemandResponse,
            summary="Key figures: vacancies, employers, occupations, shares mapped")
def figures(request: Request, f: DemandFilter = Depends(demand_filter),
            _: ApiKey = AGGREGATE) -> dict:
    return _answer(request, f, lambda cur: analytics.key_figures(cur, f))


@router.get("/skills", response_model=schemas.DemandResponse,
            summary="The most demanded skills (vacancies and shortage-weighted demand)")
def skills(request: Request, f: DemandFilter = Depends(demand_filter),
           n: int = Query(20, ge=1, le=500),
           skill_type: Literal["skill/competence", "knowledge"] | None = None,
           _: ApiKey = AGGREGATE) -> dict:
    return _answer(request, f, lambda cur: analytics.top_skills(cur, f, n, skill_type))


@router.get("/occupations", response_model=schemas.DemandResponse,
            summary="The occupations with the most vacancies")
def occupations(request: Request, f: DemandFilter = Depends(demand_filter),
                n: int = Query(15, ge=1, le=500), _: ApiKey = AGGREGATE) -> dict:
    return _answer(request, f, lambda cur: analytics.top_occupations(cur, f, n))


@router.get("/trend", response_model=schemas.DemandResponse,
            summary="Vacancies per quarter mentioning each of the given skills")
def trend(request: Request, f: DemandFilter = Depends(demand_filter),
          skill: list[str] = Query(..., description="ESCO skill URIs"),
          _: ApiKey = AGGREGATE) -> dict:
    uris = list(_codes(skill, "skill"))
    return _answer(request, f, lambda cur: analytics.skill_trend(cur, f, uris))


@router.get("/emerging", response_model=schemas.DemandResponse,
            summary="Skills growing fastest between the latest two quarters")
def emerging(request: Request, f: DemandFilter = Depends(demand_filter),
             min_vacancies: int = Query(10, ge=1), n: int = Query(20, ge=1, le=500),
             _: ApiKey = AGGREGATE) -> dict:
    return _answer(request, f, lambda cur: analytics.emerging_skills(
        cur, f, min_vacancies=min_vacancies, n=n))


@router.get("/gap", response_model=schemas.DemandResponse,
            summary="The gap index per skill (demand share - supply share), per area")
def gap(request: Request, f: DemandFilter = Depends(demand_filter),
        by: Literal["region", "sector"] | None = None,
        top: int | None = Query(None, ge=1, le=1000), _: ApiKey = AGGREGATE) -> dict:
    return _answer(request, f, lambda cur: analytics.skill_gap(cur, f, by=by, top=top))


@router.get("/regions", response_model=schemas.DemandResponse,
            summary="Per region: vacancies, demand, candidates, mismatch, largest gap")
def regions(request: Request, f: DemandFilter = Depends(demand_filter),
            _: ApiKey = AGGREGATE) -> dict:
    return _answer(request, f, lambda cur: analytics.regional_gap(cur, f))


@router.get("/coverage", response_model=schemas.DemandResponse,
            summary="Per skill: how many credentials in the catalogue teach it")
def coverage(request: Request, _: ApiKey = AGGREGATE) -> dict:
    snap = resources_of(request).current()
    require_tables(snap, "credential_skill", what="credential catalogue")
    with snap.cursor() as cur:
        return {"filter": {}, "rows": records(analytics.credential_coverage(cur))}
