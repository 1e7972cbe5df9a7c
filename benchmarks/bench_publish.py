"""What publishing costs, and what readers see during a rebuild.

    .venv/bin/python benchmarks/bench_publish.py [--scaled 1000000] [--seconds 20]

Works on copies under --workdir (the live warehouse is never written). Measures:
- publishing (copy to the private file, checkpoint, fsync, atomic rename) of the built demo
  warehouse and of one with `--scaled` resampled vacancies (SCALED: bench_scale's recipe);
  the extra disk a run needs is one private copy of the warehouse;
- read latency of a dashboard query, asked every 100 ms from another process, while idle and
  during a real `skillmatch pipeline run vacancies --source vdab --force`: p50, p95, errors.
Needs the built warehouse (`skillmatch build`). Writes benchmarks/results/publish.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from skillmatch import probe

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

# a dashboard-like aggregate: the most demanded skill and its ads
QUERY = """SELECT skill_uri, count(DISTINCT vacancy_id) AS ads FROM vacancy_skill
           WHERE accepted GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"""

def publish_cost(path: Path, rounds: int = 3) -> dict:
    from skillmatch import warehouse

    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        with warehouse.publishing(path, "bench_publish"):
            pass
        seconds.append(time.perf_counter() - started)
    return {"file_mb": round(path.stat().st_size / 1e6, 1),
            "publish_s_median": round(statistics.median(seconds), 2),
            "publish_s_max": round(max(seconds), 2),
            "extra_disk_during_run_mb": round(path.stat().st_size / 1e6, 1)}


def latencies(lines: list[dict]) -> dict:
    ms = sorted(line["ms"] for line in lines if "ms" in line)
    pick = (lambda q: round(ms[min(len(ms) - 1, int(q * len(ms)))], 1)) if ms else \
        (lambda q: None)
    return {"queries": len(ms), "errors": sum("error" in line for line in lines),
            "p50_ms": pick(0.5), "p95_ms": pick(0.95), "max_ms": round(ms[-1], 1) if ms else None}


def read_during(path: Path, workdir: Path, seconds: float, run: list[str] | None) -> dict:
    out, stop = workdir / f"reads-{time.time_ns()}.jsonl", workdir / "stop"
    stop.unlink(missing_ok=True)
    reader = subprocess.Popen([sys.executable, "-m", "skillmatch.probe", str(path), str(out),
                               str(stop), QUERY])
    started = time.perf_counter()
    try:
        time.sleep(2)  # the reader's own start-up is not a latency
        skip = len(probe.read(out))
        if run is None:
            time.sleep(seconds)
            run_s = None
        else:
            done = subprocess.run(run, capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"the rebuild failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
            run_s = round(time.perf_counter() - started - 2, 1)
    finally:
        stop.touch()
        reader.wait(60)
    result = latencies(probe.read(out)[skip:])
    result["rebuild_s"] = run_s
    return result


def main() -> None:
    from skillmatch.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warehouse", type=Path, help="Built warehouse (default: settings).")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) /
                        "skillmatch-bench-publish")
    parser.add_argument("--scaled", type=int, default=1_000_000,
                        help="Vacancies in the scaled warehouse (0: skip).")
    parser.add_argument("--seconds", type=float, default=20.0, help="Idle reading time.")
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks/results/publish.json")
    args = parser.parse_args()
    settings = load_settings()
    base = args.warehouse or settings.warehouse
    args.workdir.mkdir(parents=True, exist_ok=True)
    demo = args.workdir / "demo.duckdb"
    shutil.copyfile(base, demo)
    results: dict = {"warehouse": str(base), "demo": publish_cost(demo)}
    print("publishing the demo warehouse:", results["demo"], flush=True)

    rebuild = [sys.executable, "-m", "skillmatch.cli", "--warehouse", str(demo),
               "--data-root", str(settings.data_root), "pipeline", "run", "vacancies",
               "--source", "vdab", "--force"]
    results["reads_idle"] = read_during(demo, args.workdir, args.seconds, None)
    print("reads, idle:", results["reads_idle"], flush=True)
    results["reads_during_rebuild"] = read_during(demo, args.workdir, args.seconds, rebuild)
    print("reads during a rebuild:", results["reads_during_rebuild"], flush=True)

    if args.scaled:
        from bench_scale import build_scaled

        scaled = args.workdir / f"scaled-{args.scaled}.duckdb"
        built = build_scaled(demo, scaled, args.scaled)
        results["scaled"] = {"vacancies": args.scaled, "build": built, **publish_cost(scaled)}
        print(f"publishing {args.scaled:,} scaled vacancies:", results["scaled"], flush=True)
        scaled.unlink()
    demo.unlink()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"-> {args.output}")


if __name__ == "__main__":
    main()
