"""What each app page computes, on the full demo warehouse, cold and cached; talent search
latency over every candidate.

    .venv/bin/python benchmarks/bench_app.py [--warehouse PATH] [--queries 300]

Build the warehouse first (`skillmatch build`: all NHS and VDAB ads, the catalogues, 100,000
generated candidates). Each page's data is fetched exactly as the page fetches it, through the
app's cache layer (`app_pages.common.cached`): the first pass computes (cold: a fresh process,
nothing cached), the second is served from Streamlit's cache. Talent search is timed once the
vacancy is mapped: requirement sets from the skills of real vacancies and from ESCO occupation
profiles, over all candidates and with a region filter. Writes benchmarks/results/app.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def quiet_streamlit() -> None:
    """st.cache_data outside `streamlit run` works, but warns on every call."""
    for name in ("streamlit", "streamlit.runtime.caching.cache_data_api",
                 "streamlit.runtime.scriptrunner_utils.script_run_context"):
        logging.getLogger(name).setLevel(logging.ERROR)


def timed(function: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warehouse", type=Path)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks/results/app.json")
    args = parser.parse_args()
    if args.warehouse:
        os.environ["SKILLMATCH_WAREHOUSE"] = str(args.warehouse)
    quiet_streamlit()
    from app_pages import common
    from skillmatch import analytics, matching, recommend, taxonomy
    from skillmatch.analytics import DemandFilter
    from skillmatch.candidates import candidate_regions
    from skillmatch.pipeline import warehouse_status
    quiet_streamlit()

    with common.connection() as con:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("vacancy", "vacancy_skill", "candidate", "credential")}
        nurse = con.execute("SELECT uri FROM esco_occupation WHERE preferred_label = "
                            "'nurse responsible for general care'").fetchone()[0]
        region = con.execute("SELECT nuts2 FROM vacancy GROUP BY 1 ORDER BY count(*) DESC "
                             "LIMIT 1").fetchone()[0]
    everything = DemandFilter()
    narrowed = DemandFilter(region_level="nuts2", regions=(region,), sectors=("Q",))

    def dashboard(flt: DemandFilter) -> Callable[[], None]:
        def run() -> None:
            common.cached(analytics.filter_options)
            common.cached(analytics.key_figures, flt)
            common.cached(analytics.top_occupations, flt, 15)
            skills = common.cached(analytics.top_skills, flt, 20)
            common.cached(analytics.skill_trend, flt, tuple(skills["skill_uri"].head(5)))
            common.cached(analytics.emerging_skills, flt, min_vacancies=10)
            common.cached(analytics.collection_shares, flt)
            common.cached(analytics.regional_gap, flt)
            common.cached(analytics.region_shapes, flt.region_level)
            common.cached(analytics.skill_gap, flt, by=None, top=20)
            common.cached(analytics.shortage_by_sector, flt.sectors)
        return run

    def talent() -> None:
        common.cached(candidate_regions)
        common.cached(taxonomy.preferred_labels, "occupation")
        common.cached(taxonomy.preferred_labels, "skill")
        common.cached(recommend.load_catalogue)

    def planner() -> None:
        common.cached(analytics.filter_options)
        common.module_proposals(common.version(), everything, 8, 5, 0, False)

    def planner_by_meaning() -> None:
        common.module_proposals(common.version(), everything, 8, 5, 0, True)

    def learner() -> None:
        catalogue = common.cached(recommend.load_catalogue)
        common.cached(taxonomy.preferred_labels, "skill")
        common.cached(taxonomy.preferred_labels, "occupation")
        with common.connection() as con:
            target = matching.requirements_for_occupation(con, nurse)
        held = recommend.held_skills(catalogue, ["demo-mc-001"], [])
        gap = recommend.skill_gap(target, held)
        recommend.rank_credentials(gap, catalogue, exclude=["demo-mc-001"], top_k=15)
        recommend.stackable_path(gap, catalogue, 15.0, exclude=["demo-mc-001"])

    def status() -> None:
        warehouse_status(common.settings(), runs=50)

    pages: dict[str, Callable[[], object]] = {
        "dashboard (all vacancies)": dashboard(everything),
        "dashboard (one NUTS 2 region, sector Q)": dashboard(narrowed),
        "talent search (page data)": talent,
        "module planner (co-occurrence)": planner,
        "module planner (+ label embeddings)": planner_by_meaning,
        "learner advice (nurse, 15 ECTS)": learner,
        "data status": status,
    }
    page_times = {}
    for name, function in pages.items():
        cold, _ = timed(function)
        cached = min(timed(function)[0] for _ in range(3))
        page_times[name] = {"cold_s": round(cold, 3), "cached_s": round(cached, 4)}
        print(f"{name:45s} cold {cold:7.3f} s   cached {cached:7.4f} s", flush=True)

    with common.connection() as con:
        load_s, index = timed(lambda: matching.TalentIndex.load(con))
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    rng = random.Random(7)
    with common.connection() as con:
        vacancy_ids = [r[0] for r in con.execute(
            "SELECT vacancy_id FROM vacancy WHERE skill_count > 0 ORDER BY vacancy_id"
        ).fetchall()]
        occupations = [r[0] for r in con.execute(
            "SELECT DISTINCT occupation_uri FROM esco_occupation_skill ORDER BY 1").fetchall()]
        requirement_sets = []
        for vacancy_id in rng.sample(vacancy_ids, args.queries // 2):
            uris = [r[0] for r in con.execute(
                "SELECT DISTINCT skill_uri FROM vacancy_skill WHERE vacancy_id = ? AND "
                "accepted ORDER BY 1", [vacancy_id]).fetchall()]
            requirement_sets.append(matching.requirements_from_skills(con, uris))
        for uri in rng.sample(occupations, args.queries - args.queries // 2):
            requirement_sets.append(matching.requirements_for_occupation(con, uri))
    regions = common.cached(candidate_regions)
    nuts2 = regions.loc[regions["level"] == "nuts2", "region_code"].tolist()
    search_ms, filtered_ms, explain_ms = [], [], []
    for i, requirements in enumerate(requirement_sets):
        t, results = timed(lambda r=requirements: index.search(r, top_k=20))
        search_ms.append(t * 1000)
        area = (nuts2[i % len(nuts2)],)
        t, _ = timed(lambda r=requirements, a=area: index.search(r, regions=a, top_k=20))
        filtered_ms.append(t * 1000)
        if not results.empty:
            t, _ = timed(lambda r=requirements, c=results["candidate_id"].iloc[0]:
                         index.explain(c, r))
            explain_ms.append(t * 1000)
    sizes = [len(r) for r in requirement_sets]
    talent_search = {
        "candidates": index.n_candidates, "holdings": index.n_holdings,
        "index_load_s": round(load_s, 2), "peak_rss_gb": round(rss_gb, 2),
        "queries": len(requirement_sets),
        "requirements_per_query_median": statistics.median(sizes),
        "search_p50_ms": round(percentile(search_ms, 50), 2),
        "search_p95_ms": round(percentile(search_ms, 95), 2),
        "search_region_p50_ms": round(percentile(filtered_ms, 50), 2),
        "search_region_p95_ms": round(percentile(filtered_ms, 95), 2),
        "explain_p95_ms": round(percentile(explain_ms, 95), 2),
    }
    print(json.dumps(talent_search, indent=1))
    out = {"warehouse": str(common.settings().warehouse), "rows": counts,
           "pages": page_times, "talent_search": talent_search,
           "machine": f"{os.cpu_count()} cores"}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=1), encoding="utf-8")
    print(f"written {args.output}")


if __name__ == "__main__":
    main()
