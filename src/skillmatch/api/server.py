"""The HTTP API as one FastAPI application: `create_app(settings)`; `skillmatch serve` runs it
on uvicorn. Endpoints live in `routes/`, one module per concept, mounted under /v1."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware

from skillmatch import taxonomy, warehouse
from skillmatch.access import KeyStore
from skillmatch.api import errors, schemas
from skillmatch.api.limits import BodyGuard, RateLimiter, SafetyHeaders
from skillmatch.api.resources import Resources
from skillmatch.api.routes import credentials, demand, keys, learners, mapping, talent
from skillmatch.api.routes import taxonomy as taxonomy_routes
from skillmatch.settings import Settings, load_settings

API_VERSION = "v1"
DESCRIPTION = """SkillMatch links labour-market demand to micro-credentials and talent through
the ESCO taxonomy. Every endpoint but `/v1/health` needs an API key (`skillmatch keys create
--role ROLE`), sent as `Authorization: Bearer <key>`. Roles: `consortium` (aggregate figures),
`institution` (+ catalogue tagging, badge alignment, learner advice), `employer` (+ talent
search, audited), `admin` (keys). Errors are `{"error": {status, code, message, details}}`."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    app = FastAPI(title="SkillMatch API", version=API_VERSION, description=DESCRIPTION,
                  docs_url="/docs", redoc_url=None, openapi_url="/openapi.json",
                  responses={code: {"model": schemas.ErrorResponse}
                             for code in (401, 403, 413, 422, 429, 503)})
    app.state.settings = settings
    app.state.resources = Resources(settings)
    app.state.keys = KeyStore(settings.api_keys_db)
    app.state.rate = RateLimiter(settings.api_rate_per_minute)
    errors.install(app)
    origins = [o.strip() for o in settings.api_cors_origins.split(",") if o.strip()]
    if origins:  # off unless configured: no browser page elsewhere may call the API
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=False,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "X-API-Key"])
    app.add_middleware(BodyGuard, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(SafetyHeaders)

    @app.get(f"/{API_VERSION}/health", response_model=schemas.Health, tags=["service"],
             summary="Whether the server has a warehouse to answer from (no key needed)")
    def health(request: Request) -> dict:
        res: Resources = request.app.state.resources
        try:
            snap = res.current()
        except errors.ApiError as exc:
            return {"status": "no_warehouse", "version": "", "taxonomy": None,
                    "published": None, "message": exc.message}
        with snap.cursor() as cur:
            release = taxonomy.release(cur) if warehouse.table_exists(cur, "esco_release") \
                else None
            published = warehouse.publication(cur)
        return {"status": "ok", "version": snap.version,
                "taxonomy": _plain(release), "published": _plain(published)}

    for module in (mapping, taxonomy_routes, credentials, learners, demand, talent, keys):
        app.include_router(module.router, prefix=f"/{API_VERSION}")
    return app


def _plain(value: dict | None) -> dict | None:
    return None if value is None else {k: (v if isinstance(v, (int, float, str, bool))
                                           or v is None else str(v)) for k, v in value.items()}


def app_from_environment() -> FastAPI:
    """For uvicorn's worker processes (`skillmatch serve --workers N`): the settings come from
    the SKILLMATCH_* variables the CLI set."""
    logging.basicConfig(level=logging.INFO)
    return create_app(load_settings())
