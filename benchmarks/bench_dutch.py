"""What reading Dutch through the glossary costs: the VDAB ads mapped with and without it.

    .venv/bin/python benchmarks/bench_dutch.py [--rounds 2]

Both extractors are built in one process and warmed (label vectors loaded) before timing;
the two are timed in alternation, `--rounds` times each, on the same ads (no sentence memo
between rounds), so the ratio is read within one run. Writes benchmarks/results/dutch.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import time
from dataclasses import replace
from pathlib import Path

import duckdb

from skillmatch.mapping import SkillExtractor
from skillmatch.mapping.extractor import mapping_params
from skillmatch.settings import load_settings

REPO = Path(__file__).resolve().parents[1]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks/results/dutch.json")
    args = parser.parse_args()
    settings = load_settings(REPO / "skillmatch.toml")
    path = settings.data_root / "vacancies" / "vdab_flanders_2025-10_sample.csv"
    csv.field_size_limit(1 << 26)
    with path.open(encoding="utf-8", newline="") as fh:
        ads = [r["full_description"] for r in csv.DictReader(fh) if r.get("full_description")]
    params = mapping_params(settings)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    # no sentence memo: every round scores every sentence
    variants = {
        "with glossary": SkillExtractor(settings, con, params=params, memo_sentences=0),
        "without glossary": SkillExtractor(
            settings, con, memo_sentences=0,
            params=replace(params, use_glossaries=False)),
    }
    con.close()
    for extractor in variants.values():
        extractor.extract_many(ads[:5], language="nl")  # loads models and label vectors
    glossed = variants["with glossary"]
    vocab = glossed.vocabulary_for("nl")
    extra_mb = sum(glossed.label_vectors(enc, vocab, glossary).numpy().nbytes
                   for enc, glossary in glossed.readings_for("nl") if glossary) / 2**20
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    accepted: dict[str, int] = {}
    for _ in range(args.rounds):
        for name, extractor in variants.items():
            started = time.perf_counter()
            results = extractor.extract_many(ads, language="nl")
            seconds[name].append(time.perf_counter() - started)
            accepted[name] = sum(len(r) for r in results)
    best = {name: min(s) for name, s in seconds.items()}
    result = {
        "ads": len(ads),
        "rounds": args.rounds,
        "seconds_best": {k: round(v, 1) for k, v in best.items()},
        "ads_per_s": {k: round(len(ads) / v, 2) for k, v in best.items()},
        "cost_ratio": round(best["with glossary"] / best["without glossary"], 3),
        "accepted_skills_per_ad": {k: round(v / len(ads), 2) for k, v in accepted.items()},
        "glossed_label_vectors_mb": round(extra_mb),
        "peak_rss_mb": round(peak_mb()),
    }
    print(json.dumps(result, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
