"""Locust users for `benchmarks/bench_api.py`: the HTTP API's three heavy workloads, one
request after another per user (closed loop, no think time).

    locust -f benchmarks/locustfile_api.py --headless -u 10 -r 10 -t 30s --host URL

bench_api.py starts the server, prepares the inputs and runs this file once per (workload,
concurrency); it passes everything through the environment:

- `SKILLMATCH_BENCH_WORKLOAD`: `skills`, `badges`, `talent` or `mixed` (all three, equal
  weight);
- `SKILLMATCH_BENCH_KEY`: an employer API key;
- `SKILLMATCH_BENCH_INPUTS`: a JSON file {"texts": [...], "badge": {...}, "talent": [...]};
- `SKILLMATCH_BENCH_TEXTS`: `START:END`, the slice of texts this run uses, each text once in
  order across all users (the server remembers every sentence it scored, so a repeated text
  would cost nothing); the run wraps around only if it gets through the whole slice, and
  says how often it did;
- `SKILLMATCH_BENCH_THINK`: seconds a user waits between requests (uniform in 0.5x-1.5x;
  default 0, back to back): interactive clients instead of a saturating loop;
- `SKILLMATCH_BENCH_RECORD`: where to write one JSON line per request (name, start time, ms,
  status, error) when Locust quits: exact percentiles instead of Locust's rounded ones.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from pathlib import Path

from locust import between, constant, events, task
from locust.contrib.fasthttp import FastHttpUser

WORKLOAD = os.environ.get("SKILLMATCH_BENCH_WORKLOAD", "mixed")
KEY = os.environ.get("SKILLMATCH_BENCH_KEY", "")
INPUTS = json.loads(Path(os.environ["SKILLMATCH_BENCH_INPUTS"]).read_text(encoding="utf-8")) \
    if os.environ.get("SKILLMATCH_BENCH_INPUTS") else {"texts": [], "badge": {}, "talent": []}
RECORD = os.environ.get("SKILLMATCH_BENCH_RECORD", "")
THINK = float(os.environ.get("SKILLMATCH_BENCH_THINK", "0") or 0)
_start, _, _end = os.environ.get("SKILLMATCH_BENCH_TEXTS", "0:").partition(":")
TEXTS = INPUTS["texts"][int(_start or 0):int(_end) if _end else None]
TALENT = INPUTS["talent"]
BADGE = INPUTS["badge"]

_next_text = itertools.count()  # one process, many greenlets: shared in order
_records: list[dict] = []
_wraps = {"texts": 0}


def _text() -> str:
    i = next(_next_text)
    if i and i % len(TEXTS) == 0:
        _wraps["texts"] += 1
    return TEXTS[i % len(TEXTS)]


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response=None,
            exception=None, start_time=None, **_kwargs) -> None:
    status = getattr(response, "status_code", None)
    _records.append({"name": name, "start": start_time, "end": time.time(),
                     "ms": response_time, "status": status,
                     "error": None if exception is None else str(exception)[:500]})


@events.quitting.add_listener
def _write(environment, **_kwargs) -> None:
    if RECORD:
        with open(RECORD, "w", encoding="utf-8") as fh:
            fh.write(json.dumps({"meta": {"workload": WORKLOAD, "text_wraps": _wraps["texts"],
                                          "texts_used": next(_next_text)}}) + "\n")
            for row in _records:
                fh.write(json.dumps(row) + "\n")


class ApiUser(FastHttpUser):
    wait_time = between(THINK / 2, THINK * 1.5) if THINK > 0 else constant(0)
    network_timeout = 300.0
    connection_timeout = 30.0

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {KEY}"}
        self.rng = random.Random(id(self))

    def _post(self, path: str, body: dict, check) -> None:
        with self.client.post(path, json=body, headers=self.headers, name=path,
                              catch_response=True) as response:
            if response.status_code != 200:
                why = (response.text or "")[:300] if response.status_code else \
                    f"no response: {getattr(response, 'error', None)!r}"[:300]
                response.failure(f"{response.status_code} {why}")
                return
            try:
                problem = check(response.json())
            except ValueError as exc:
                problem = f"not JSON: {exc}"
            if problem:
                response.failure(problem)

    def skills(self) -> None:
        self._post("/v1/skills", {"text": _text()},
                   lambda r: None if len(r.get("results", [])) == 1 else "not one result")

    def badges(self) -> None:
        self._post("/v1/badges/align", BADGE,
                   lambda r: None if isinstance(r, dict) and r else "empty answer")

    def talent(self) -> None:
        skills = TALENT[self.rng.randrange(len(TALENT))]
        body = {"requirements": [{"skill_uri": uri} for uri in skills], "top_k": 20,
                "explain": 3}
        self._post("/v1/talent/search", body,
                   lambda r: None if isinstance(r.get("candidates"), list) else "no candidates")

    @task
    def one(self) -> None:
        if WORKLOAD == "mixed":
            getattr(self, self.rng.choice(("skills", "badges", "talent")))()
        else:
            getattr(self, WORKLOAD)()
