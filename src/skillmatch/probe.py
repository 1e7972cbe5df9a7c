"""A read probe: another process that asks the published warehouse one query every 100 ms,
as the app does, and records each answer (or error) with its latency. It is how the tests and
`benchmarks/bench_publish.py` show that readers keep answering during a rebuild.

    python -m skillmatch.probe WAREHOUSE OUT.jsonl STOP_FILE "SELECT ..."

Runs until STOP_FILE exists; one JSON line per query: {"answer": [...], "ms": ...} or
{"error": "..."}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from skillmatch import warehouse

INTERVAL_S = 0.1


def poll(path: Path, out: Path, stop: Path, query: str) -> None:
    with open(out, "w", encoding="utf-8") as sink:
        while not stop.exists():
            started = time.perf_counter()
            try:
                con = warehouse.connect(path, read_only=True)
                try:
                    row = con.execute(query).fetchone()
                finally:
                    con.close()
                line = {"answer": list(row or []),
                        "ms": (time.perf_counter() - started) * 1000}
            except Exception as exc:  # an answer that failed is what the probe records
                line = {"error": f"{type(exc).__name__}: {exc}"}
            sink.write(json.dumps(line, default=str) + "\n")
            sink.flush()
            time.sleep(INTERVAL_S)


def read(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line]


if __name__ == "__main__":
    poll(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])
