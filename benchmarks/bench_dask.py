"""What distribution costs: the embedding-bound vacancy stage (occupations from titles, skills
from texts: `pipelines/vacancies.py: map_ads`) on the same ads and machine, in-process and on a
local Dask cluster of 1 and 2 single-threaded workers.

    .venv/bin/python benchmarks/bench_dask.py [--ads 600] [--partition 100] [--rounds 2]

The input is the same `--ads` canonical NHS ads from the warehouse: whole employers, as a feed
delivers them, in the pipeline's partition order. Each configuration runs in its own process
and first maps a warm-up set (other employers) on every worker, so model loading is reported
apart from throughput; throughput is ads per second of the timed call. The in-process engine
uses every core (torch decides); Dask workers use one thread each. In-process and 2 workers run
alternately `--rounds` times, so drift of this shared machine shows in the per-round ratios.
Writes benchmarks/results/dask.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIGS = {"in-process": (None, 0), "dask, 1 worker x 1 thread": (1, 1),
           "dask, 2 workers x 1 thread": (2, 1)}
WARM_UP = 40


def run_one(name: str, ads: int, partition: int) -> dict:
    import duckdb

    from skillmatch.engine import DaskEngine, InProcessEngine, Workspace
    from skillmatch.pipeline import load_definition
    from skillmatch.settings import load_settings

    settings = load_settings(REPO / "skillmatch.toml")
    workers, threads = CONFIGS[name]
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    # a slice of the feed as it arrives: whole employers (whose ads share paragraphs) in the
    # pipeline's partition order; the warm-up set comes from other employers
    sample = ("SELECT vacancy_id, title, description, language, employer FROM vacancy "
              "WHERE source = 'nhs' ORDER BY hash(employer) {}, vacancy_id LIMIT ?")
    frame = con.execute(sample.format("ASC"), [ads]).df()
    warm = con.execute(sample.format("DESC"), [WARM_UP]).df()
    pipeline = load_definition(settings, "vacancies")  # by path: pickled by value
    step = pipeline.map_ads
    frame = pipeline.mapping_order(frame)
    started = time.perf_counter()
    if workers is None:
        engine = InProcessEngine()
        workspace = Workspace(settings, {"occupations_per_vacancy": 3}, _con=con)
    else:
        engine = DaskEngine(dataclasses.replace(settings, torch_threads=threads),
                            workers=workers, threads_per_worker=threads)
        # workers read ESCO from a snapshot file, never the warehouse
        workspace = Workspace(settings, {"occupations_per_vacancy": 3},
                              taxonomy=engine.snapshot(con))
    engine.warm_up(step, warm, workspace)  # on every worker
    warm_up_s = time.perf_counter() - started
    started = time.perf_counter()
    out = engine.map_partitions(step, frame, workspace, partition_rows=partition)
    seconds = time.perf_counter() - started
    engine.close()
    return {"ads": ads, "seconds": round(seconds, 1), "ads_per_s": round(ads / seconds, 2),
            "startup_and_warm_up_s": round(warm_up_s, 1),
            "skill_rows": len(out["vacancy_skill"]),
            "occupation_rows": len(out["vacancy_occupation"])}


def measure(name: str, args: argparse.Namespace) -> dict:
    run = subprocess.run([sys.executable, __file__, "--config", name, "--ads", str(args.ads),
                          "--partition", str(args.partition)], capture_output=True, text=True)
    if run.returncode:
        raise SystemExit(f"{name} failed:\n{run.stderr[-3000:]}")
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"{name:28s} {result['ads_per_s']:6.2f} ads/s ({result['seconds']} s; start-up + "
          f"warm-up {result['startup_and_warm_up_s']} s)", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ads", type=int, default=600)
    parser.add_argument("--partition", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2,
                        help="in-process / 2-worker pairs, run alternately (noise shows)")
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks/results/dask.json")
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.config:
        print(json.dumps(run_one(args.config, args.ads, args.partition)))
        return
    one, two = "dask, 1 worker x 1 thread", "dask, 2 workers x 1 thread"
    runs: dict[str, list[dict]] = {name: [] for name in CONFIGS}
    for round_ in range(max(1, args.rounds)):
        for name in ("in-process", one, two) if round_ == 0 else ("in-process", two):
            runs[name].append(measure(name, args))
    base = statistics.mean(r["ads_per_s"] for r in runs["in-process"])
    results = {}
    for name, done in runs.items():
        rate = statistics.mean(r["ads_per_s"] for r in done)
        results[name] = {**done[-1], "ads_per_s": round(rate, 2),
                         "seconds": round(statistics.mean(r["seconds"] for r in done), 1),
                         "runs_ads_per_s": [r["ads_per_s"] for r in done],
                         "ratio_to_in_process": round(rate / base, 3)}
    per_round = [round(d["ads_per_s"] / p["ads_per_s"], 3)
                 for p, d in zip(runs["in-process"], runs[two], strict=True)]
    same = len({(r["skill_rows"], r["occupation_rows"])
                for done in runs.values() for r in done}) == 1
    print(f"ratio 2 workers / in-process: {results[two]['ratio_to_in_process']} "
          f"(per round {per_round}; floor 0.8); same rows out: {same}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"configs": results, "ratio_per_round": per_round,
                                       "same_rows": same}, indent=1), encoding="utf-8")
    print(f"written {args.output}")


if __name__ == "__main__":
    main()
