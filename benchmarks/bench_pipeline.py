"""The vacancies pipeline on the real NHS ads, end to end, into a scratch copy of the warehouse.

    .venv/bin/python benchmarks/bench_pipeline.py [--limit N] [--warehouse /tmp/bench.duckdb]

Reads, normalises, assigns regions, folds near-duplicates, links occupations, infers sectors,
extracts skills and writes the tables in one transaction (`skillmatch pipeline run vacancies
--source nhs`). Prints and writes benchmarks/results/pipeline.json: wall time, ads/s, share of
time in the encoder, peak memory, warehouse growth, duplicates, share of ads with >= 1 skill
and with an accepted occupation.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import time
from pathlib import Path

import duckdb

from skillmatch import encoding
from skillmatch.pipeline import run_pipeline
from skillmatch.settings import load_settings

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--warehouse", type=Path, default=Path("/tmp/skillmatch-bench.duckdb"))
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks/results/pipeline.json")
    args = parser.parse_args()
    base = load_settings(REPO / "skillmatch.toml")
    shutil.copy(base.warehouse, args.warehouse)
    settings = load_settings(REPO / "skillmatch.toml", warehouse=args.warehouse)
    size_before = args.warehouse.stat().st_size

    encoder_seconds = 0.0
    for name in ("encode_tokens", "encode_raw"):
        real = getattr(encoding.Encoder, name)

        def timed(self, *a, _real=real, **k):
            nonlocal encoder_seconds
            t = time.perf_counter()
            try:
                return _real(self, *a, **k)
            finally:
                encoder_seconds += time.perf_counter() - t

        setattr(encoding.Encoder, name, timed)

    started = time.perf_counter()
    summaries = list(run_pipeline(settings, "vacancies", ["nhs"], args.limit, force=True,
                                  progress=lambda m: print(m, flush=True)))
    wall = time.perf_counter() - started
    s = summaries[0]
    con = duckdb.connect(str(args.warehouse), read_only=True)
    ads = con.execute("SELECT count(*) FROM vacancy WHERE source = 'nhs'").fetchone()[0]
    with_skill = con.execute(
        "SELECT avg((skill_count > 0)::INT), avg(occupation_accepted::INT), "
        "avg((occupation_uri IS NOT NULL)::INT), avg((nuts3 IS NOT NULL)::INT) "
        "FROM vacancy WHERE source = 'nhs'").fetchone()
    con.close()
    result = {
        "ads_read": s.rows_read, "ads_stored": s.rows_stored, "duplicates": s.rows_duplicate,
        "rejected": s.rows_rejected, "wall_seconds": round(wall, 1),
        "ads_per_s": round(s.rows_read / wall, 2),
        "encoder_share_of_time": round(encoder_seconds / wall, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "warehouse_growth_mb": round((args.warehouse.stat().st_size - size_before) / 1e6, 1),
        "share_with_skill": round(with_skill[0], 4),
        "share_with_accepted_occupation": round(with_skill[1], 4),
        "share_with_any_occupation": round(with_skill[2], 4),
        "share_with_nuts3": round(with_skill[3], 4),
        "stored_ads": ads,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
