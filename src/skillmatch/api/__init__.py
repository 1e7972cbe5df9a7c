"""The HTTP API (`skillmatch serve`): FastAPI over the same library functions the app uses."""

from skillmatch.api.server import create_app

__all__ = ["create_app"]
