"""Key management over HTTP (admin keys only; `skillmatch keys` does the same locally) and
the talent-search audit log."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends, Query, Request

from skillmatch.access import AccessError, ApiKey
from skillmatch.api import schemas
from skillmatch.api.errors import ApiError
from skillmatch.api.security import require

router = APIRouter(tags=["admin"])
ADMIN = Depends(require("keys"))


@router.get("/keys", response_model=list[schemas.KeyOut], summary="All keys (admin)")
def list_keys(request: Request, _: ApiKey = ADMIN) -> list[dict]:
    return [asdict(k) for k in request.app.state.keys.list()]


@router.post("/keys", response_model=schemas.NewKey, status_code=201,
             summary="Create a key; the key itself is in this answer only (admin)")
def create_key(body: schemas.KeyIn, request: Request, _: ApiKey = ADMIN) -> dict:
    key, secret = request.app.state.keys.create(body.role, body.name)
    return {**asdict(key), "key": secret}


@router.delete("/keys/{key_id}", response_model=schemas.KeyOut, summary="Revoke a key (admin)")
def revoke_key(key_id: str, request: Request, _: ApiKey = ADMIN) -> dict:
    try:
        return asdict(request.app.state.keys.revoke(key_id))
    except AccessError as exc:
        raise ApiError(404, str(exc)) from exc


@router.get("/audit/talent-searches", summary="The latest audited talent searches (admin)")
def audit(request: Request, limit: int = Query(100, ge=1, le=10_000),
          _: ApiKey = ADMIN) -> list[dict]:
    return request.app.state.keys.searches(limit)
