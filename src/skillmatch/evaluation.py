"""The public development sets, the project's real-ad gold set and their metrics, computed
exactly as the benchmarks define them.

- Skill extraction (Decorte et al., HOUSE/TECH, and their Dutch translations): RP@K per
  sentence = hits in the top K divided by min(K, number of gold skills), averaged over
  sentences that have at least one gold skill; plus precision / recall / F1 of the *accepted*
  skills (what the warehouse stores) over every sentence, those without gold included.
- Real ads (`benchmarks/gold/`, whole NHS and VDAB ads): precision / recall / F1 of the
  accepted skills per source, micro-averaged; an item may list alternative concepts.
- The acceptance model is trained on these same sets, so every number it touches is reported
  twice: in-sample and cross-validated (5 folds by ad: whole gold ads, and blocks of ten
  neighbouring benchmark sentences, which the files list ad by ad; a sentence and its Dutch
  translation share a fold). The cross-validated number is the one to quote.
- MELO: MAP over corpus elements (the benchmark's headline), plus MRR and accuracy@1 over
  concepts (the ESCO URI of the corpus element).
- Job titles: accuracy@1 and MRR over occupations.
"""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from skillmatch.encoding import Encoder, get_encoder
from skillmatch.mapping import OccupationLinker, SkillExtractor, mapping_params
from skillmatch.mapping.acceptance import AcceptanceModel, Context
from skillmatch.mapping.extractor import configured_acceptance
from skillmatch.mapping.occupations import example_fold, read_title_examples
from skillmatch.mapping.requirement import asks_labels
from skillmatch.mapping.training import (
    Unit,
    asks_auc,
    cross_validated,
    fit_acceptance,
    out_of_fold_asks,
    scored_by,
    sentence_asks,
    threshold_of,
    unit_metrics,
)
from skillmatch.search import LabelTable, TaxonomyIndex, normalise
from skillmatch.settings import Settings

NO_SKILL = {"LABEL NOT PRESENT", "UNDERSPECIFIED"}
SKILL_SETS = ("house", "tech")
FOLDS = 5
AD_BLOCK = 10  # consecutive benchmark sentences that form one CV group (about one ad)
TITLE_FOLD = 0  # the job-title fold evaluated; the linker's title examples leave it out


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class SkillSentence:
    sentence: str
    gold: frozenset[str]  # ESCO preferred labels (empty: the sentence asks for no skill)
    group: str = ""       # CV group: a block of neighbouring sentences (about one ad)


def read_skill_set(path: Path, keep_empty: bool = False) -> list[SkillSentence]:
    """Sentences with their gold skills (duplicates removed; sentences whose rows are all
    "LABEL NOT PRESENT" / "UNDERSPECIFIED" only with `keep_empty`)."""
    gold: dict[str, set[str]] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            gold.setdefault(row["sentence"], set())
            if row["label"] not in NO_SKILL:
                gold[row["sentence"]].add(row["label"].strip())
    # the files list an ad's sentences one after another: a fold takes whole blocks, so a CV
    # number never scores a sentence whose neighbour from the same ad trained the model
    return [SkillSentence(s, frozenset(g), f"block{i // AD_BLOCK}")
            for i, (s, g) in enumerate(gold.items()) if g or keep_empty]


def read_translated_set(path: Path, english: Sequence[SkillSentence]) -> list[SkillSentence]:
    """The Dutch translations (`sentence_en`, `sentence_nl`) with the English file's gold."""
    by_en = {s.sentence: s for s in english}
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [SkillSentence(r["sentence_nl"], by_en[r["sentence_en"]].gold,
                          by_en[r["sentence_en"]].group)
            for r in rows if r["sentence_en"] in by_en and r["sentence_nl"].strip()]


@dataclass(frozen=True)
class GoldAd:
    source: str
    record: str
    title: str
    items: tuple[frozenset[str], ...]  # each item: its alternative ESCO URIs
    evidence: tuple[str, ...] = ()     # the spans of the ad that motivate them


def read_ad_gold(folder: Path) -> list[GoldAd]:
    """`ads.csv` (the annotated ads) and `ads_gold.csv` (their items), see GUIDELINE.md."""
    with open(folder / "ads.csv", encoding="utf-8", newline="") as fh:
        ads = list(csv.DictReader(fh))
    items: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    evidence: dict[tuple[str, str], list[str]] = defaultdict(list)
    with open(folder / "ads_gold.csv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            items[(r["source"], r["record"])][r["item"]].add(r["uri"])
            evidence[(r["source"], r["record"])].append(r.get("evidence") or "")
    return [GoldAd(a["source"], a["record"], a["title"],
                   tuple(frozenset(v) for v in items[(a["source"], a["record"])].values()),
                   tuple(dict.fromkeys(evidence[(a["source"], a["record"])])))
            for a in ads]


def gold_ad_texts(settings: Settings, ads: Sequence[GoldAd]) -> pd.DataFrame:
    """The gold ads exactly as the vacancies pipeline maps them (its own readers and
    normalisation): source, source_record, title, description, language."""
    from skillmatch.pipeline import pipeline_config, resolve
    from skillmatch.sources.tabular import load_csv_specs, read_source
    from skillmatch.vacancies import normalise_vacancies

    declared = pipeline_config(settings).get("vacancies", {}).get(
        "sources_file", "project:pipelines/sources.toml")
    specs = load_csv_specs(resolve(settings, declared))  # the vacancies pipeline's own file
    frames = []
    for source in sorted({a.source for a in ads}):
        wanted = {a.record for a in ads if a.source == source}
        staged = read_source(specs[source], settings.data_root).rows
        staged = staged[staged["source_record"].astype(str).isin(wanted)]
        staged = staged.drop_duplicates("source_record", keep="last")
        frames.append(normalise_vacancies(staged.reset_index(drop=True)))
    return pd.concat(frames, ignore_index=True)

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


# --------------------------------------------------------------------------- runners


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


def evaluate_job_titles(linker: OccupationLinker, path: Path, limit: int | None = None,
                        fold: int | None = None) -> dict[str, float]:
    """accuracy@1 and MRR of title -> occupation linking (on one example fold if given)."""
    pairs = read_title_examples(path)
    if fold is not None:
        pairs = [p for p in pairs if example_fold(p[0]) == fold]
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




# --------------------------------------------------------------------------- skill units


def _label_ids(extractor: SkillExtractor) -> dict[str, tuple[int, ...]]:
    out: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(extractor.vocab.skills["preferred_label"]):
        out[normalise(label)].append(i)
    return {k: tuple(v) for k, v in out.items()}


def sentence_units(extractor: SkillExtractor, data: Sequence[SkillSentence], dataset: str,
                   family: str, language: str) -> list[Unit]:
    """One unit per benchmark sentence: its candidates' features and its gold skills."""
    ids = _label_ids(extractor)
    uris = extractor.vocab.skills["uri"].to_numpy()
    scored = extractor.score_sentences([d.sentence for d in data], language)
    encoder = extractor.encoders_for(language)[0]
    vectors = encoder.embed([d.sentence for d in data], kind="query", cache=False)
    units = []
    for d, sc, vector in zip(data, scored, vectors, strict=True):
        top = max((c.score for c in sc.values()), default=0.0)
        ctx = Context(language=language, sentence_words=len(d.sentence.split()))
        cands = [(k, c, top, ctx) for k, c in sc.items()]
        units.append(Unit(
            dataset, f"{family}:{d.group}", np.array(list(sc), dtype=np.int64),
            extractor.feature_matrix(cands),
            [frozenset(ids.get(normalise(g), ())) for g in sorted(d.gold)],
            np.array([c.score for c in sc.values()]), uris[list(sc)],
            encoder.name, vector[None, :], np.array([int(bool(d.gold))]),
            np.zeros(len(sc), dtype=np.int64)))
    return units


def ad_units(extractor: SkillExtractor, linker: OccupationLinker, settings: Settings,
             ads: Sequence[GoldAd]) -> list[Unit]:
    """One unit per gold ad, mapped as the vacancies pipeline maps it (title linked to
    occupations, whose ESCO profiles are context; skills from the ad's text)."""
    texts = gold_ad_texts(settings, ads)
    by_record = {(r.source, str(r.source_record)): r for r in texts.itertuples()}
    found = [a for a in ads if (a.source, a.record) in by_record]
    rows = [by_record[(a.source, a.record)] for a in found]
    hits = linker.link_many([r.title for r in rows], top_k=3,
                            texts=[r.description for r in rows])
    docs = [extractor.prepare(r.description, r.language or None, h["uri"].tolist())
            for r, h in zip(rows, hits, strict=True)]
    uris = extractor.vocab.skills["uri"].to_numpy()
    index = {u: i for i, u in enumerate(uris)}
    units = []
    for ad, doc, per in zip(found, docs, extractor.score_documents(docs), strict=True):
        cands = extractor.candidates(doc, per)
        skills = np.array([c[0] for c in cands], dtype=np.int64)
        sentences = [seg.text for seg in doc.segments]
        row = {s: i for i, s in enumerate(sentences)}
        encoder = extractor.encoders_for(doc.language)[0]
        units.append(Unit(
            f"{ad.source.upper()} ads", f"ad:{ad.source}:{ad.record}", skills,
            extractor.feature_matrix([c[:4] for c in cands]),
            [frozenset(index[u] for u in item if u in index) for item in ad.items],
            np.array([c[1].score for c in cands]), uris[skills],
            encoder.name, encoder.embed(sentences, kind="query", cache=False),
            asks_labels(sentences, ad.evidence),
            np.array([row[c[4].text] for c in cands], dtype=np.int64)))
    return units


def skill_units(settings: Settings, con: duckdb.DuckDBPyConnection, bench_root: Path,
                gold_dir: Path | None, progress: Callable[[str], None] = print
                ) -> list[Unit]:
    """Every unit the acceptance model learns from and is judged on: HOUSE and TECH
    validation sentences in English and Dutch (with their no-skill sentences) and the
    real-ad gold set."""
    extractor = SkillExtractor(settings, con, acceptance=False)
    units: list[Unit] = []
    for name in SKILL_SETS:
        folder = bench_root / "skill_extraction"
        english = read_skill_set(folder / f"{name}_validation_annotations.csv", keep_empty=True)
        started = time.perf_counter()
        units += sentence_units(extractor, english, f"{name.upper()} validation", name, "en")
        dutch_path = folder / f"{name}_validation_nl.csv"
        if dutch_path.exists():
            dutch = read_translated_set(dutch_path, english)
            units += sentence_units(extractor, dutch, f"{name.upper()} validation (nl)", name,
                                    "nl")
        progress(f"{name}: candidates in {time.perf_counter() - started:.0f} s")
    if gold_dir is not None and (gold_dir / "ads_gold.csv").exists():
        started = time.perf_counter()
        linker = OccupationLinker(settings, con)
        units += ad_units(extractor, linker, settings, read_ad_gold(gold_dir))
        progress(f"gold ads: candidates in {time.perf_counter() - started:.0f} s")
    return units


def evaluate_skill_units(units: Sequence[Unit], model: AcceptanceModel | None,
                         heuristic_threshold: float, folds: int = FOLDS) -> pd.DataFrame:
    """Per dataset and metric: the cross-validated acceptance model (the number to quote),
    the same model in-sample (`model`, else one fitted on all units) and the candidate stage
    alone (heuristic score, its fixed threshold: the engine before the acceptance model)."""
    model = model or fit_acceptance(units)
    oof_asks = out_of_fold_asks(units, folds)
    columns = {
        "value": cross_validated(units, folds),
        "in_sample": [(scored_by(model, u), threshold_of(model, u)) for u in units],
        "heuristic": [(u.heuristic, heuristic_threshold) for u in units],
    }
    rows = []
    for dataset in dict.fromkeys(u.dataset for u in units):
        pick = [i for i, u in enumerate(units) if u.dataset == dataset]
        part = [units[i] for i in pick]
        metrics = {name: unit_metrics(part, [scored[i] for i in pick])
                   for name, scored in columns.items()}
        task = "real ads" if dataset.endswith("ads") else "skill extraction"
        for metric in metrics["value"]:
            rows.append({"task": task, "dataset": dataset, "metric": metric,
                         **{name: round(m[metric], 4) for name, m in metrics.items()},
                         "n": len(part)})
        # the `asks` sentence model on its own: out of fold as above, and in-sample
        rows.append({"task": task, "dataset": dataset, "metric": "sentence asks AUC",
                     "value": round(asks_auc(part, [oof_asks[i] for i in pick]), 4),
                     "in_sample": round(asks_auc(part, [sentence_asks(u, model.requirement)
                                                        for u in part]), 4),
                     "heuristic": float("nan"), "n": len(part)})
    return pd.DataFrame(rows)


def run_all(settings: Settings, con: duckdb.DuckDBPyConnection, bench_root: Path,
            titles_limit: int | None = None, progress: Callable[[str], None] = print,
            gold_dir: Path | None = None, only: Sequence[str] = ()
            ) -> pd.DataFrame:
    """Every development set and the real-ad gold; one row per (task, dataset, metric):
    `value` is the number to quote (cross-validated wherever a learned part saw the data),
    `in_sample` and `heuristic` sit beside it for skills."""
    frames: list[pd.DataFrame] = []
    rows: list[dict] = []

    def add(task: str, dataset: str, metrics: dict[str, float], seconds: float) -> None:
        for metric, value in metrics.items():
            if metric != "n":
                rows.append({"task": task, "dataset": dataset, "metric": metric,
                             "value": round(value, 4), "n": metrics["n"],
                             "seconds": round(seconds, 1)})
        progress(f"{task} {dataset}: {metrics}")

    if not only or "skills" in only:
        started = time.perf_counter()
        units = skill_units(settings, con, bench_root, gold_dir, progress)
        table = evaluate_skill_units(units, configured_acceptance(settings),
                                     mapping_params(settings).accept_threshold)
        table["seconds"] = round(time.perf_counter() - started, 1)
        frames.append(table)
        progress(table.to_string(index=False))
    if not only or "occupations" in only:
        encoder = get_encoder(settings, settings.multilingual_model)
        for name in ("bel_q_nl_c_nl", "usa_q_en_c_en"):
            started = time.perf_counter()
            add("occupation linking", f"MELO {name}",
                evaluate_melo(settings, encoder,
                              bench_root / "occupation_linking" / "melo" / name, con),
                time.perf_counter() - started)
        titles = bench_root / "job_titles" / "titles_validation.csv"
        limit = f", first {titles_limit}" if titles_limit else ""
        for name, linker_settings in (
                ("ESCO labels only", replace(settings, occupation_examples=Path(""))),
                ("with title examples of the other folds", settings)):
            started = time.perf_counter()
            linker = OccupationLinker(linker_settings, con, exclude_fold=TITLE_FOLD)
            add("job titles", f"titles validation, held-out fold {TITLE_FOLD} ({name}{limit})",
                evaluate_job_titles(linker, titles, titles_limit, fold=TITLE_FOLD),
                time.perf_counter() - started)
    frames.append(pd.DataFrame(rows))
    return pd.concat([f for f in frames if not f.empty], ignore_index=True)
