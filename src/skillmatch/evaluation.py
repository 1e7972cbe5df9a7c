"""The public development sets and their metrics, computed exactly as the benchmarks define them.

- Skill extraction (Decorte et al., HOUSE/TECH): RP@K per sentence = hits in the top K divided by
  min(K, number of gold skills), averaged over sentences that have at least one gold skill.
- MELO: MAP over corpus elements (the benchmark's headline), plus MRR and accuracy@1 over
  concepts (the ESCO URI of the corpus element).
- Job titles: accuracy@1 and MRR over occupations.
"""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from skillmatch.encoding import Encoder, get_encoder
from skillmatch.mapping import OccupationLinker, SkillExtractor
from skillmatch.search import LabelTable, TaxonomyIndex, normalise
from skillmatch.settings import Settings

NO_SKILL = {"LABEL NOT PRESENT", "UNDERSPECIFIED"}


@dataclass(frozen=True)
class SkillSentence:
    sentence: str
    gold: frozenset[str]  # ESCO preferred labels


def read_skill_set(path: Path) -> list[SkillSentence]:
    """Sentences with their gold skills (duplicates and no-skill rows removed)."""
    gold: dict[str, set[str]] = defaultdict(set)
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            gold.setdefault(row["sentence"], set())
            if row["label"] not in NO_SKILL:
                gold[row["sentence"]].add(row["label"])
    return [SkillSentence(s, frozenset(g)) for s, g in gold.items() if g]


def rp_at_k(ranked: Sequence[str], gold: frozenset[str], k: int) -> float:
    """R-precision at K as the skill-extraction benchmark defines it."""
    hits = len(set(ranked[:k]) & gold)
    return hits / min(k, len(gold))


def average_precision(ranked: Sequence[str], relevant: set[str]) -> float:
    """AP of a ranking against a set of relevant items (unranked relevant items count as 0)."""
    if not relevant:
        return 0.0
    hits, total = 0, 0.0
    for i, item in enumerate(ranked, start=1):
        if item in relevant:
            hits += 1
            total += hits / i
    return total / len(relevant)


def reciprocal_rank(ranked: Sequence[str], relevant: set[str]) -> float:
    for i, item in enumerate(ranked, start=1):
        if item in relevant:
            return 1.0 / i
    return 0.0


def dedupe(items: Sequence[str]) -> list[str]:
    """Keep the first occurrence of each item (a concept ranking from an element ranking)."""
    seen: set[str] = set()
    return [x for x in items if not (x in seen or seen.add(x))]


@dataclass
class MeloSet:
    """One MELO dataset: queries, corpus elements (surface forms) and their ESCO concepts."""

    queries: dict[str, str]
    corpus: dict[str, str]
    concept_of: dict[str, str]
    relevant: dict[str, set[str]]  # query id -> relevant corpus element ids


def _tsv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return [line.rstrip("\n").split("\t") for line in fh if line.strip()]


def read_melo(folder: Path) -> MeloSet:
    queries = {r[0]: r[1] for r in _tsv(folder / "queries.tsv")}
    corpus = {r[0]: r[1] for r in _tsv(folder / "corpus_elements.tsv")}
    concept_of = {r[0]: r[1] for r in _tsv(folder / "concept_mapping.tsv")}
    relevant: dict[str, set[str]] = defaultdict(set)
    for q, _, element, rel in _tsv(folder / "annotations.tsv"):
        if int(rel) > 0:
            relevant[q].add(element)
    return MeloSet(queries, corpus, concept_of, dict(relevant))


def read_job_titles(path: Path) -> list[tuple[str, str]]:
    """(vacancy title, ESCO occupation URI) pairs."""
    with open(path, encoding="utf-8", newline="") as fh:
        return [(r["vacancyTitle"], r["conceptUri"]) for r in csv.DictReader(fh)
                if r.get("vacancyTitle") and r.get("conceptUri")]


# --------------------------------------------------------------------------- runners


def evaluate_skill_extraction(extractor: SkillExtractor, path: Path) -> dict[str, float]:
    """RP@5 and RP@10 of the extractor's ranking on one HOUSE/TECH file."""
    data = read_skill_set(path)
    labels = extractor.vocab.skills["preferred_label"]
    scores = extractor.score_sentences([d.sentence for d in data], "en")
    rp5, rp10 = [], []
    for d, scored in zip(data, scores, strict=True):
        ranked = [labels.iat[k] for k, _ in sorted(scored.items(), key=lambda kv: -kv[1][0])]
        rp5.append(rp_at_k(ranked, d.gold, 5))
        rp10.append(rp_at_k(ranked, d.gold, 10))
    return {"RP@5": 100 * float(np.mean(rp5)), "RP@10": 100 * float(np.mean(rp10)),
            "n": len(data)}


def esco_concepts_of(con: duckdb.DuckDBPyConnection, texts: Sequence[str]) -> list[str]:
    """The ESCO concept each surface form names, from our own warehouse labels (any language):
    a text that is no ESCO label stands for itself."""
    labels = con.execute(
        "SELECT label, min(uri) AS uri FROM esco_label GROUP BY label"
    ).df()
    by_label: dict[str, str] = {}
    for label, uri in zip(labels["label"], labels["uri"], strict=True):
        by_label.setdefault(normalise(label), uri)
    return [by_label.get(normalise(t), f"text:{t}") for t in texts]


def evaluate_melo(settings: Settings, encoder: Encoder, folder: Path,
                  con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """MAP over corpus elements, MRR and accuracy@1 over concepts, with the same hybrid
    scorer as taxonomy search, every corpus element scored.

    Two rankings of the corpus elements are scored:
    - element-wise: each surface form on its own, as MELO's baselines rank them;
    - concept-aware (SkillMatch's answer, the headline MAP): an element scores as the best
      surface form of its ESCO concept, because SkillMatch links titles to concepts and knows
      every label of each. Which concept a surface form names comes from our own ESCO
      warehouse, not from the benchmark's concept mapping (which only defines relevance).
    """
    melo = read_melo(folder)
    element_ids = list(melo.corpus)
    labels = pd.DataFrame({
        "uri": [melo.concept_of[e] for e in element_ids],
        "concept_type": "occupation",
        "language": "",
        "label": [melo.corpus[e] for e in element_ids],
        "kind": "element",
    })
    labels["preferred_label"] = labels["label"]
    codes, texts = pd.factorize(labels["label"])
    labels["text_id"] = codes
    index = TaxonomyIndex(LabelTable(labels, list(texts)), encoder, settings)
    concept_codes, _ = pd.factorize(pd.Series(esco_concepts_of(con, labels["label"])))
    query_ids = [q for q in melo.queries if q in melo.relevant]
    vectors = encoder.embed([melo.queries[q] for q in query_ids], kind="query", cache=False)
    element_text = labels["text_id"].to_numpy()
    aps_element, aps, rrs, acc = [], [], [], []
    for q, vector in zip(query_ids, vectors, strict=True):
        scored = index.score_texts(melo.queries[q], vector, everything=True)
        text_score = np.full(len(texts), -1.0) if scored is None else scored.score
        element_score = text_score[element_text]
        best = np.full(concept_codes.max() + 1, -1.0)
        np.maximum.at(best, concept_codes, element_score)
        # ties within a concept: its better-matching surface forms first
        pooled = np.lexsort((-element_score, -best[concept_codes]))
        aps_element.append(average_precision(
            [element_ids[i] for i in np.argsort(-element_score, kind="stable")],
            melo.relevant[q]))
        aps.append(average_precision([element_ids[i] for i in pooled], melo.relevant[q]))
        gold_concepts = {melo.concept_of[e] for e in melo.relevant[q]}
        ranked_concepts = dedupe([melo.concept_of[element_ids[i]] for i in pooled[:2000]])
        rrs.append(reciprocal_rank(ranked_concepts, gold_concepts))
        acc.append(float(bool(ranked_concepts) and ranked_concepts[0] in gold_concepts))
    return {"MAP": float(np.mean(aps)), "MAP element-wise": float(np.mean(aps_element)),
            "MRR": float(np.mean(rrs)), "acc@1": float(np.mean(acc)), "n": len(query_ids)}


def evaluate_job_titles(linker: OccupationLinker, path: Path, limit: int | None = None
                        ) -> dict[str, float]:
    """accuracy@1 and MRR of title -> occupation linking."""
    pairs = read_job_titles(path)
    if limit:
        pairs = pairs[:limit]
    rrs, acc = [], []
    step = 512
    for start in range(0, len(pairs), step):
        chunk = pairs[start:start + step]
        results = linker.link_many([t for t, _ in chunk], top_k=20)
        for (_, gold), hits in zip(chunk, results, strict=True):
            ranked = hits["uri"].tolist()
            rrs.append(reciprocal_rank(ranked, {gold}))
            acc.append(float(bool(ranked) and ranked[0] == gold))
    return {"acc@1": float(np.mean(acc)), "MRR": float(np.mean(rrs)), "n": len(pairs)}


def run_all(settings: Settings, con: duckdb.DuckDBPyConnection, bench_root: Path,
            titles_limit: int | None = None, progress: Callable[[str], None] = print
            ) -> pd.DataFrame:
    """Every development set; one row per (task, dataset, metric)."""
    rows: list[dict] = []

    def add(task: str, dataset: str, metrics: dict[str, float], seconds: float) -> None:
        for metric, value in metrics.items():
            if metric != "n":
                rows.append({"task": task, "dataset": dataset, "metric": metric,
                             "value": round(value, 4), "n": metrics["n"],
                             "seconds": round(seconds, 1)})
        progress(f"{task} {dataset}: {metrics}")

    extractor = SkillExtractor(settings, con)
    for name in ("house", "tech"):
        started = time.perf_counter()
        path = bench_root / "skill_extraction" / f"{name}_validation_annotations.csv"
        add("skill extraction", f"{name.upper()} validation",
            evaluate_skill_extraction(extractor, path), time.perf_counter() - started)
    encoder = get_encoder(settings, settings.multilingual_model)
    for name in ("bel_q_nl_c_nl", "usa_q_en_c_en"):
        started = time.perf_counter()
        add("occupation linking", f"MELO {name}",
            evaluate_melo(settings, encoder, bench_root / "occupation_linking" / "melo" / name,
                          con),
            time.perf_counter() - started)
    started = time.perf_counter()
    linker = OccupationLinker(settings, con)
    add("job titles", "titles validation" + (f" (first {titles_limit})" if titles_limit else ""),
        evaluate_job_titles(linker, bench_root / "job_titles" / "titles_validation.csv",
                            titles_limit), time.perf_counter() - started)
    return pd.DataFrame(rows)
