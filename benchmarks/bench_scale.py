"""How dashboard queries and talent search grow with the data: 10k / 100k / 1M vacancies and
candidates. SCALED DATA: the real mapped ads are resampled (each copy keeps its skills,
occupation, region and quarter under a new id) and the candidates are generated; the numbers
say how the engine scales, not what a real 1M-ad feed would show.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 10000 100000 1000000]

Needs the built warehouse (`skillmatch build`). Each size gets its own DuckDB file under
--workdir; every measurement runs in a fresh process (cold: nothing cached, a new connection),
which also gives a clean peak-memory figure. Writes benchmarks/results/scale.json.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
KEEP = ("esco_", "region", "shortage_sector", "credential")  # tables copied as they are


def build_scaled(base: Path, target: Path, n: int, seed: int = 7) -> dict:
    """A warehouse with `n` vacancies resampled from the base one and `n` generated
    candidates (with their credentials, declared skills and skill supply)."""
    from skillmatch.analytics import index_demand
    from skillmatch.candidates import (
        candidate_credential_rows,
        candidate_skill_rows,
        generate_candidates,
        skill_supply_rows,
    )

    started = time.perf_counter()
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    con.execute("SET enable_progress_bar = false")
    con.execute(f"ATTACH '{base}' AS base (READ_ONLY)")
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'base' "
        "AND table_type = 'BASE TABLE'").fetchall()]
    for table in tables:
        if table.startswith(KEEP):
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM base.{table}")
    real = con.execute("SELECT count(*) FROM base.vacancy").fetchone()[0]
    copies = -(-n // real)
    con.execute(f"""CREATE TEMP TABLE pick AS
        SELECT vacancy_id AS original, k, vacancy_id || '~' || k AS vacancy_id
        FROM base.vacancy, range({copies}) r(k)
        ORDER BY hash(vacancy_id, k, {seed}) LIMIT {n}""")
    # long texts (ad text, raw record, evidence sentences) are left out of the copies: no
    # dashboard query reads them, and 1M copies would take tens of GB
    con.execute("""CREATE TABLE vacancy AS SELECT v.* REPLACE (p.vacancy_id AS vacancy_id,
                   NULL AS description, NULL AS record)
                   FROM base.vacancy v JOIN pick p ON p.original = v.vacancy_id""")
    con.execute("""CREATE TABLE vacancy_skill AS
                   SELECT s.* REPLACE (p.vacancy_id AS vacancy_id, NULL AS evidence)
                   FROM base.vacancy_skill s JOIN pick p ON p.original = s.vacancy_id""")
    index_demand(con)  # as the vacancies pipeline does after writing ads
    catalogue = con.execute("SELECT credential_id, stackable_with, times_issued "
                            "FROM credential ORDER BY 1").df()
    occupations = con.execute("SELECT occupation_uri, skill_uri FROM esco_occupation_skill "
                              "WHERE relation_type = 'essential' ORDER BY 1, 2").df()
    regions = [r[0] for r in con.execute("SELECT region_code FROM region WHERE country = 'NL' "
                                         "AND level = 'nuts3' ORDER BY 1").fetchall()]
    candidates = generate_candidates(catalogue, occupations, regions, n, seed)
    held = candidate_credential_rows(candidates)
    declared = candidate_skill_rows(candidates).rename(columns={"skill": "skill_uri"})
    teaches = con.execute("SELECT DISTINCT credential_id, skill_uri FROM credential_skill "
                          "WHERE accepted").df()
    supply = skill_supply_rows(candidates, held, declared, teaches)
    profile = candidates.drop(columns=["credentials", "declared_skills"])
    declared["skill"] = declared["skill_uri"]
    for name, frame in (("candidate", profile), ("candidate_credential", held),
                        ("candidate_skill", declared[["candidate_id", "skill", "skill_uri"]]),
                        ("skill_supply", supply)):
        con.register("staged", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM staged")
        con.unregister("staged")
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("vacancy", "vacancy_skill", "candidate", "candidate_credential",
                        "candidate_skill")}
    con.close()
    return {"build_s": round(time.perf_counter() - started, 1), "rows": counts,
            "file_mb": round(target.stat().st_size / 1e6, 1)}


def measure(warehouse: Path, queries: int) -> dict:
    """In a fresh process: each dashboard query cold, then talent search."""
    from skillmatch import analytics, matching
    from skillmatch.analytics import DemandFilter

    con = duckdb.connect(str(warehouse), read_only=True)
    f = DemandFilter()
    dashboard = {}

    def time_it(name: str, call) -> object:
        started = time.perf_counter()
        result = call()
        dashboard[name] = round(time.perf_counter() - started, 3)
        return result

    time_it("filter_options", lambda: analytics.filter_options(con))
    time_it("key_figures", lambda: analytics.key_figures(con, f))
    time_it("top_occupations", lambda: analytics.top_occupations(con, f))
    skills = time_it("top_skills", lambda: analytics.top_skills(con, f))
    time_it("skill_trend", lambda: analytics.skill_trend(con, f, list(skills["skill_uri"][:5])))
    time_it("emerging_skills", lambda: analytics.emerging_skills(con, f))
    time_it("collection_shares", lambda: analytics.collection_shares(con, f))
    time_it("skill_gap", lambda: analytics.skill_gap(con, f, top=20))
    time_it("regional_gap", lambda: analytics.regional_gap(con, f))
    rss_dashboard = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6

    started = time.perf_counter()
    index = matching.TalentIndex.load(con)
    load_s = time.perf_counter() - started
    rng = random.Random(7)
    occupations = [r[0] for r in con.execute(
        "SELECT DISTINCT occupation_uri FROM esco_occupation_skill ORDER BY 1").fetchall()]
    latencies = []
    for uri in rng.sample(occupations, queries):
        requirements = matching.requirements_for_occupation(con, uri)
        started = time.perf_counter()
        index.search(requirements, top_k=20)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    con.close()
    return {
        "dashboard_cold_s": dashboard,
        "dashboard_total_s": round(sum(dashboard.values()), 3),
        "dashboard_slowest_s": max(dashboard.values()),
        "dashboard_peak_rss_gb": round(rss_dashboard, 2),
        "talent_index_load_s": round(load_s, 2),
        "talent_search_p50_ms": round(latencies[len(latencies) // 2], 2),
        "talent_search_p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--base", type=Path)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/skillmatch-scale"))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks/results/scale.json")
    parser.add_argument("--keep", action="store_true", help="Keep the scaled warehouses.")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.queries)))
        return
    from skillmatch.settings import load_settings

    base = args.base or load_settings(REPO / "skillmatch.toml").warehouse
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = {"note": "SCALED: real ads resampled, candidates generated", "sizes": {}}
    for n in args.sizes:
        target = args.workdir / f"scale-{n}.duckdb"
        built = build_scaled(base, target, n)
        run = subprocess.run([sys.executable, __file__, "--measure", str(target),
                              "--queries", str(args.queries)], capture_output=True, text=True,
                             check=True)
        measured = json.loads(run.stdout.strip().splitlines()[-1])
        results["sizes"][str(n)] = {**built, **measured}
        print(f"{n:>9,} vacancies & candidates: built {built['build_s']} s "
              f"({built['file_mb']} MB); dashboard cold total {measured['dashboard_total_s']} s"
              f", slowest query {measured['dashboard_slowest_s']} s; talent index load "
              f"{measured['talent_index_load_s']} s, search p50 "
              f"{measured['talent_search_p50_ms']} / p95 {measured['talent_search_p95_ms']} ms;"
              f" peak RSS {measured['peak_rss_gb']} GB", flush=True)
        if not args.keep:
            target.unlink(missing_ok=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"written {args.output}")


if __name__ == "__main__":
    main()
