"""Who is calling: the API key (header `Authorization: Bearer <key>` or `X-API-Key`), its
role's permission for the endpoint (401 without a valid key, 403 for the wrong role) and its
request rate (429)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from skillmatch.access import PERMISSIONS, ApiKey
from skillmatch.api.errors import ApiError

_bearer = HTTPBearer(auto_error=False, description="an API key from `skillmatch keys create`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def roles_with(permission: str) -> list[str]:
    return [role for role, allowed in PERMISSIONS.items() if permission in allowed]


def require(permission: str) -> Callable[..., ApiKey]:
    """A dependency: the calling key, when its role has `permission`."""

    # async: a key check is a quick SQLite read, cheaper on the event loop than the thread
    # hop FastAPI makes for a plain function
    async def dependency(request: Request,
                   bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
                   header: str | None = Depends(_header)) -> ApiKey:
        presented = bearer.credentials if bearer else header
        if not presented:
            raise ApiError(401, "an API key is required (Authorization: Bearer <key>)",
                           headers={"WWW-Authenticate": "Bearer"})
        state = request.app.state
        key = state.keys.verify(presented)
        if key is None:
            raise ApiError(401, "unknown or revoked API key",
                           headers={"WWW-Authenticate": "Bearer"})
        if not key.may(permission):
            raise ApiError(403, f"a {key.role} key may not do this; it needs one of: "
                                f"{', '.join(roles_with(permission))}")
        state.rate.take(key.key_id)
        return key

    dependency.__name__ = f"require_{permission}"
    return dependency
