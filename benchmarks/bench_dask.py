"""What distribution costs: the embedding-bound vacancy stage (occupations from titles, skills
from texts: `pipelines/vacancies.py: map_ads`) on the same ads and machine, in-process and on a
local Dask cluster of 1 and 2 single-threaded workers.

    .venv/bin/python benchmarks/bench_dask.py [--ads 600] [--partition 100]

Each configuration runs in its own process and first maps a separate warm-up set (so model
loading is reported apart from throughput), then maps the same `--ads` canonical NHS ads from
the warehouse; throughput is ads per second of that second call. The in-process engine uses
every core (torch decides); Dask workers use one thread each. Writes
benchmarks/results/dask.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIGS = {"in-process": (None, 0), "dask, 1 worker x 1 thread": (1, 1),
           "dask, 2 workers x 1 thread": (2, 1)}
WARM_UP = 40


def map_ads():
    spec = importlib.util.spec_from_file_location("vacancies_pipeline",
                                                  REPO / "pipelines" / "vacancies.py")
    module = importlib.util.module_from_spec(spec)  # not in sys.modules: pickled by value
    spec.loader.exec_module(module)
    return module.map_ads


def run_one(name: str, ads: int, partition: int) -> dict:
    import duckdb

    from skillmatch.engine import DaskEngine, InProcessEngine, Workspace
    from skillmatch.settings import load_settings

    settings = load_settings(REPO / "skillmatch.toml")
    workers, threads = CONFIGS[name]
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    frame = con.execute(
        "SELECT vacancy_id, title, description, language FROM vacancy WHERE source = 'nhs' "
        "ORDER BY hash(vacancy_id) LIMIT ?", [WARM_UP + ads]).df()
    step = map_ads()
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
    quiet = {"progress": lambda _m: None, "partition_rows": partition}
    engine.map_partitions(step, frame.iloc[:WARM_UP], workspace, **quiet)
    warm_up_s = time.perf_counter() - started
    started = time.perf_counter()
    out = engine.map_partitions(step, frame.iloc[WARM_UP:], workspace, **quiet)
    seconds = time.perf_counter() - started
    engine.close()
    return {"ads": ads, "seconds": round(seconds, 1), "ads_per_s": round(ads / seconds, 2),
            "startup_and_warm_up_s": round(warm_up_s, 1),
            "skill_rows": len(out["vacancy_skill"]),
            "occupation_rows": len(out["vacancy_occupation"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ads", type=int, default=600)
    parser.add_argument("--partition", type=int, default=100)
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks/results/dask.json")
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.config:
        print(json.dumps(run_one(args.config, args.ads, args.partition)))
        return
    results = {}
    for name in CONFIGS:
        run = subprocess.run([sys.executable, __file__, "--config", name, "--ads",
                              str(args.ads), "--partition", str(args.partition)],
                             capture_output=True, text=True)
        if run.returncode:
            raise SystemExit(f"{name} failed:\n{run.stderr[-3000:]}")
        results[name] = json.loads(run.stdout.strip().splitlines()[-1])
        print(f"{name:28s} {results[name]['ads_per_s']:6.2f} ads/s "
              f"({results[name]['seconds']} s; start-up + warm-up "
              f"{results[name]['startup_and_warm_up_s']} s)", flush=True)
    base = results["in-process"]["ads_per_s"]
    for name in CONFIGS:
        results[name]["ratio_to_in_process"] = round(results[name]["ads_per_s"] / base, 3)
    same = len({(r["skill_rows"], r["occupation_rows"]) for r in results.values()}) == 1
    print(f"ratio 2 workers / in-process: "
          f"{results['dask, 2 workers x 1 thread']['ratio_to_in_process']} (floor 0.8); "
          f"same rows out: {same}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"configs": results, "same_rows": same}, indent=1),
                           encoding="utf-8")
    print(f"written {args.output}")


if __name__ == "__main__":
    main()
