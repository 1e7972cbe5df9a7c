"""The most frequent accepted skills on the first N real NHS ads, each with its commonest
evidence sentence: the list to read when judging mapping noise (a skill whose evidence is a
heading, a benefit or the application process is noise). Ads are mapped as the vacancies
pipeline maps them (the ad's text, not its title).

    .venv/bin/python benchmarks/top_skills_evidence.py [--ads 1000] [--top 30]

Writes benchmarks/results/top_skills_evidence.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

import duckdb

from skillmatch.mapping import SkillExtractor
from skillmatch.settings import load_settings

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ads", type=int, default=1000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--output", type=Path,
                        default=REPO / "benchmarks/results/top_skills_evidence.json")
    args = parser.parse_args()
    settings = load_settings(REPO / "skillmatch.toml")
    path = settings.data_root / "vacancies" / "nhs_jobs_2020_schemaorg.jsonl.gz"
    texts = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            texts.append(json.loads(line).get("description", ""))
            if len(texts) >= args.ads:
                break
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    extractor = SkillExtractor(settings, con)
    con.close()
    started = time.perf_counter()
    results = extractor.extract_many(texts)
    seconds = time.perf_counter() - started
    counts: Counter[str] = Counter()
    evidence: dict[str, Counter[str]] = defaultdict(Counter)
    for matches in results:
        for m in matches:
            counts[m.label] += 1
            evidence[m.label][m.evidence] += 1
    top = [{"skill": label, "ads": n, "evidence": evidence[label].most_common(1)[0][0]}
           for label, n in counts.most_common(args.top)]
    summary = {"ads": len(texts), "seconds": round(seconds, 1),
               "accepted_per_ad": round(sum(counts.values()) / max(len(texts), 1), 2),
               "ads_with_a_skill": round(sum(bool(r) for r in results) / max(len(texts), 1), 3),
               "top": top}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print(f"{len(texts):,} ads in {seconds:.0f} s; {summary['accepted_per_ad']} accepted skills "
          f"per ad; {summary['ads_with_a_skill']:.1%} with at least one")
    for row in top:
        print(f"{row['ads']:>5}  {row['skill']}  <-  {row['evidence'][:100]}")


if __name__ == "__main__":
    main()
