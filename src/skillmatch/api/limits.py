"""Limits that protect the server: the body's size and encoding (checked before anything
parses it) and a request rate per key. Text lengths and batch sizes are checked per endpoint
(`check_texts`), since only the endpoint knows which fields are texts."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from skillmatch.api.errors import ApiError, error_response, invalid

# A \\u escape of a surrogate that is not part of a pair (an odd run of backslashes before
# the u makes it an escape): JSON allows it, but it is no character and no text can hold it.
_PAIR = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_LONE = re.compile(r"(?<!\\)(?:\\\\)*\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class SafetyHeaders:
    """ASGI middleware: every response says nosniff and no-store (a plain ASGI wrapper:
    Starlette's `@app.middleware("http")` costs a task and a stream per request)."""

    HEADERS = ((b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store"))

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *[h for h in self.HEADERS if h[0] not in present]]
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyGuard:
    """ASGI middleware: a body over `max_bytes` -> 413 (from Content-Length, or while it
    streams in); a JSON body that is not UTF-8 or escapes a lone surrogate -> 400 / 422.
    The body is read once here and replayed to the app."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if b"json" in headers.get(b"content-type", b""):
            problem = _encoding_problem(body)
            if problem:
                await problem(scope, receive, send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, "body_too_large",
                                  f"the request body is larger than {self.max_bytes:,} bytes "
                                  "(setting api_max_body_bytes)")
        await response(scope, receive, send)


def _encoding_problem(body: bytes):  # -> a response or None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return error_response(400, "bad_request",
                              f"the body is not valid UTF-8 (byte {exc.start})")
    if "\\u" in text and _LONE.search(_PAIR.sub("", text)):
        return error_response(422, "invalid_input",
                              "the body escapes a lone surrogate (\\ud800-\\udfff without its "
                              "pair): not a character; fix the text's encoding")
    return None


def check_texts(field: str, texts: Sequence[str], max_chars: int,
                max_batch: int | None = None) -> None:
    """422 for a batch larger than `max_batch` or a text longer than `max_chars`."""
    if max_batch is not None and len(texts) > max_batch:
        raise invalid(field, f"{len(texts):,} items; at most {max_batch:,} per request "
                             "(setting api_max_batch)")
    for i, text in enumerate(texts):
        if len(text) > max_chars:
            where = field if max_batch is None else f"{field}.{i}"
            raise invalid(where, f"{len(text):,} characters; at most {max_chars:,} "
                                 "(setting api_max_text_chars)")


class RateLimiter:
    """A token bucket per key: `per_minute` requests a minute, bursts up to that many. Per
    server process (with N workers a key may get up to N times the rate)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key_id: str) -> None:
        if self.per_minute <= 0:
            return
        now = time.monotonic()
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key_id, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[key_id] = (tokens, now)
                wait = max(1, int((1.0 - tokens) / rate + 0.999))
                raise ApiError(429, f"more than {self.per_minute} requests a minute for this "
                                    f"key (setting api_rate_per_minute); retry in {wait} s",
                               headers={"Retry-After": str(wait)})
            self._buckets[key_id] = (tokens - 1.0, now)
