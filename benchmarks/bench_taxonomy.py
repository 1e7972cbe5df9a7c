"""Foundation benchmark: ESCO load time, label embedding time per model, search latency, memory.

    .venv/bin/python benchmarks/bench_taxonomy.py [--models all-MiniLM-L6-v2,multilingual-e5-small]

Prints a table and writes benchmarks/results/taxonomy.json. Embedding runs on a fresh cache
folder so the times are cold; search latency is measured warm (index and model loaded) over
real English and Dutch queries from the shared benchmark sets.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import psutil

from skillmatch import taxonomy
from skillmatch.encoding import Encoder
from skillmatch.search import TaxonomyIndex, read_labels
from skillmatch.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "taxonomy.json"


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sample_queries(data_root: Path, n: int) -> list[str]:
    """Real job titles (English) and MELO queries (Dutch), plus skill phrases from HOUSE/TECH."""
    bench = data_root.parent / "bench"
    rng = random.Random(7)
    out: list[str] = []
    with open(bench / "job_titles" / "titles_validation.csv", encoding="utf-8") as fh:
        titles = [r["vacancyTitle"] for r in csv.DictReader(fh)]
    out += rng.sample(titles, n // 3)
    nl = bench / "occupation_linking" / "melo" / "bel_q_nl_c_nl" / "queries.tsv"
    with open(nl, encoding="utf-8") as fh:
        queries = [line.rstrip("\n").split("\t")[-1] for line in fh if "\t" in line]
    out += rng.sample(queries, n // 3)
    spans: list[str] = []
    for name in ("house", "tech"):
        path = bench / "skill_extraction" / f"{name}_validation_annotations.csv"
        with open(path, encoding="utf-8") as fh:
            spans += [r["span"] for r in csv.DictReader(fh) if r.get("span")]
    out += rng.sample(sorted(set(spans)), n - len(out))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="all-MiniLM-L6-v2,multilingual-e5-small")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--sample", type=int,
                        help="Time embedding on N random skill labels and extrapolate to all "
                             "(labelled as such); search then runs on the warm data/cache.")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="skillmatch-bench-"))
    settings = load_settings(REPO / "skillmatch.toml", warehouse=work / "w.duckdb",
                             cache_dir=work / "cache")
    results: dict = {"machine": {"cpus": psutil.cpu_count(), "python": platform.python_version(),
                                 "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)}}

    loads = []
    for _ in range(3):
        started = time.perf_counter()
        meta = taxonomy.load(settings)
        loads.append(time.perf_counter() - started)
    results["esco_load"] = {
        "seconds_median": round(statistics.median(loads), 2),
        "seconds_all": [round(x, 2) for x in loads],
        "read_seconds": meta["read_seconds"],
        "rows": sum(meta["counts"].values()),
        "warehouse_mb": round(settings.warehouse.stat().st_size / 2**20, 1),
        "peak_rss_mb_after": round(peak_mb()),
    }
    print(f"ESCO load: {results['esco_load']}", flush=True)

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    table = read_labels(con)
    con.close()
    skill_texts = table.labels.loc[table.labels["concept_type"] == "skill", "label"].unique()
    queries = sample_queries(settings.data_root, args.queries)
    results["models"] = {}
    warm = load_settings(REPO / "skillmatch.toml", warehouse=settings.warehouse)
    for name in args.models.split(","):
        rss_before = rss_mb()
        encoder = Encoder(settings, name)
        encoder.model  # load outside the timing  # noqa: B018
        texts = list(skill_texts)
        if args.sample:
            texts = random.Random(1).sample(texts, min(args.sample, len(texts)))
        started = time.perf_counter()
        encoder.embed(texts, kind="document")
        skill_seconds = (time.perf_counter() - started) * len(skill_texts) / len(texts)
        if args.sample:  # search on the project's warm cache (all labels embedded already)
            encoder = Encoder(warm, name)
        started = time.perf_counter()
        index = TaxonomyIndex(table, encoder, settings)  # embeds the remaining labels
        rest_seconds = time.perf_counter() - started
        for q in queries[:10]:
            index.search(q)  # warm-up
        latencies = []
        for q in queries:
            t = time.perf_counter()
            index.search(q)
            latencies.append((time.perf_counter() - t) * 1000)
        latencies.sort()
        entry = {
            "embedding_timed_on": len(texts),
            "extrapolated": bool(args.sample),
            "skill_labels": len(skill_texts),
            "skill_label_embed_seconds": round(skill_seconds, 1),
            "skill_labels_per_second": round(len(skill_texts) / skill_seconds),
            "all_search_labels": len(table.texts),
            "remaining_labels_and_index_seconds": round(rest_seconds, 1),
            "search_queries": len(latencies),
            "search_ms_p50": round(statistics.median(latencies), 1),
            "search_ms_p95": round(latencies[int(0.95 * len(latencies)) - 1], 1),
            "rss_mb_added": round(rss_mb() - rss_before),
            "peak_rss_mb": round(peak_mb()),
        }
        results["models"][name] = entry
        print(f"{name}: {entry}", flush=True)

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))
    print("\n| model | skill labels | embed s | labels/s | search p50 ms | p95 ms | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for name, e in results["models"].items():
        print(f"| {name} | {e['skill_labels']:,} | {e['skill_label_embed_seconds']} | "
              f"{e['skill_labels_per_second']} | {e['search_ms_p50']} | {e['search_ms_p95']} | "
              f"{e['peak_rss_mb']} |")
    print(f"ESCO load into DuckDB: {results['esco_load']['seconds_median']} s (median of 3)")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
