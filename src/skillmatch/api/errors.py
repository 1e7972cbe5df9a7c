"""Every failure as one JSON shape, `{"error": {status, code, message, details}}`, and never a
traceback: validation errors name the field without echoing its (possibly huge or hostile)
value."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("skillmatch.api")

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 413: "body_too_large", 422: "invalid_input",
         429: "rate_limited", 500: "internal_error", 503: "unavailable"}


class ApiError(Exception):
    """An answer other than 200, raised anywhere in a request."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 details: Sequence[dict[str, Any]] = (), headers: dict[str, str] | None = None
                 ) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.code = code or CODES.get(status, "error")
        self.details, self.headers = list(details), headers


def invalid(field: str, message: str) -> ApiError:
    """A 422 naming the field at fault (limits the models cannot know: they are settings)."""
    return ApiError(422, f"{field}: {message}", details=[{"loc": field.split("."),
                                                           "msg": message}])


def error_response(status: int, code: str, message: str,
                   details: Sequence[dict[str, Any]] = (),
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "code": code, "message": message,
                                   "details": list(details)}}, status_code=status,
                        headers=headers)


def _short(value: object, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"loc": [str(p) for p in e.get("loc", ())], "msg": _short(e.get("msg", "")),
                    "type": e.get("type", "")} for e in exc.errors()[:20]]
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"][1:] if first["loc"][:1] == ["body"] else first["loc"])
        return error_response(422, "invalid_input",
                              f"{where or 'body'}: {first['msg']}", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, CODES.get(exc.status_code, "error"),
                              _short(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error",
                              "the server could not answer this request (logged)")
