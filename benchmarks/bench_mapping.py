"""Mapping throughput on the real NHS ads, against the raw encoder rate on the same sentences.

    .venv/bin/python benchmarks/bench_mapping.py [--limit N] [--sample 3000]

1. raw encoder rate: `SentenceTransformer.encode` on a random sample of the ads' sentences;
2. mapping rate on exactly those sentences (`SkillExtractor.score_sentences`, duplicates kept
   apart so the ratio has no dedup advantage) -> ratio = mapping rate / raw rate;
3. end to end: every ad cleaned, segmented and mapped (`extract_many`), in chunks, with wall
   time, ads/s, sentences/s, share of time in the encoder, peak memory, and the 30 most
   frequent accepted skills with their commonest evidence (for judging noise).
Writes benchmarks/results/mapping.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import time
from collections import Counter, defaultdict
from pathlib import Path

import duckdb

from skillmatch.encoding import Encoder
from skillmatch.mapping import SkillExtractor, is_boilerplate
from skillmatch.settings import load_settings
from skillmatch.text import clean_text, split_sentences

REPO = Path(__file__).resolve().parents[1]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, help="Only the first N ads.")
    parser.add_argument("--sample", type=int, default=3000, help="Sentences for the ratio.")
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks/results/mapping.json")
    args = parser.parse_args()
    settings = load_settings(REPO / "skillmatch.toml")
    path = settings.data_root / "vacancies" / "nhs_jobs_2020_schemaorg.jsonl.gz"
    ads = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            ads.append(json.loads(line).get("description", ""))
            if args.limit and len(ads) >= args.limit:
                break

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    extractor = SkillExtractor(settings, con)
    con.close()
    encoder: Encoder = extractor.encoders_for("en")[0]
    extractor.label_vectors(encoder)
    encoder.model  # noqa: B018 - load before timing

    sentences = [s.text for ad in ads for s in split_sentences(clean_text(ad))
                 if not is_boilerplate(s.text)]
    sample = random.Random(3).sample(sentences, min(args.sample, len(sentences)))
    encoder.encode_raw(sample[:64])  # warm-up
    started = time.perf_counter()
    encoder.encode_raw(sample)
    raw_rate = len(sample) / (time.perf_counter() - started)
    distinct = [f"{s}\u200b{i}" for i, s in enumerate(sample)]  # defeat dedup for the ratio
    started = time.perf_counter()
    extractor.score_sentences(distinct, "en")
    map_rate = len(sample) / (time.perf_counter() - started)
    print(f"raw encoder {raw_rate:.0f} sentences/s, mapping {map_rate:.0f} sentences/s, "
          f"ratio {map_rate / raw_rate:.2f}", flush=True)

    encoder_seconds = 0.0
    real_encode = encoder.encode_tokens

    def timed_encode(*a, **k):
        nonlocal encoder_seconds
        t = time.perf_counter()
        try:
            return real_encode(*a, **k)
        finally:
            encoder_seconds += time.perf_counter() - t

    encoder.encode_tokens = timed_encode  # type: ignore[method-assign]
    started = time.perf_counter()
    with_skill = 0
    chunk = 500
    counts: Counter[str] = Counter()
    evidence: dict[str, Counter[str]] = defaultdict(Counter)
    for i in range(0, len(ads), chunk):
        results = extractor.extract_many(ads[i:i + chunk])
        with_skill += sum(bool(r) for r in results)
        for m in (m for r in results for m in r):
            counts[m.label] += 1
            evidence[m.label][m.evidence] += 1
        done = min(i + chunk, len(ads))
        elapsed = time.perf_counter() - started
        print(f"  {done:,}/{len(ads):,} ads, {done / elapsed:.1f} ads/s, "
              f"{(len(ads) - done) / (done / elapsed):.0f}s left", flush=True)
    wall = time.perf_counter() - started
    result = {
        "ads": len(ads),
        "sentences": len(sentences),
        "distinct_sentences": len(set(sentences)),
        "model": encoder.name,
        "raw_encoder_sentences_per_s": round(raw_rate, 1),
        "mapping_sentences_per_s_same_sentences": round(map_rate, 1),
        "ratio_to_raw_encoder": round(map_rate / raw_rate, 3),
        "end_to_end_seconds": round(wall, 1),
        "ads_per_s": round(len(ads) / wall, 2),
        "sentences_per_s_end_to_end": round(len(sentences) / wall, 1),
        "encoder_share_of_time": round(encoder_seconds / wall, 3),
        "ads_with_a_skill": round(with_skill / len(ads), 3),
        "accepted_skills_per_ad": round(sum(counts.values()) / len(ads), 2),
        "peak_rss_mb": round(peak_mb()),
        # what to read when judging noise: a skill whose commonest evidence is a heading, a
        # benefit or the application process is noise
        "top_skills": [{"skill": label, "ads": n,
                        "evidence": evidence[label].most_common(1)[0][0]}
                       for label, n in counts.most_common(30)],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
