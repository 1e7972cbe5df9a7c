"""The committed real-ad gold set is what `skillmatch eval` judges and the acceptance model
learns from, so a broken row (a mistyped URI, a label that is not ESCO's, evidence from
another ad) would silently move every real-ad number: check it against the real ESCO export
and the ads exactly as the vacancies pipeline reads them."""

from __future__ import annotations

import csv
import zipfile
from collections import Counter, defaultdict

from conftest import EN_FOLDER, REAL_EXPORT, REPO, REPO_SETTINGS, _read_lines, needs_shared

from skillmatch.evaluation import gold_ad_texts, read_ad_gold
from skillmatch.mapping.requirement import evidence_text

GOLD = REPO / "benchmarks" / "gold"


def gold_rows() -> list[dict[str, str]]:
    with open(GOLD / "ads_gold.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@needs_shared
def test_gold_rows_name_esco_skills_by_their_preferred_label() -> None:
    header, rows = _read_lines(zipfile.ZipFile(REAL_EXPORT / f"{EN_FOLDER}.zip"),
                               "skills_en.csv")
    label = {r[header.index("conceptUri")]: r[header.index("preferredLabel")].strip()
             for r in rows}
    gold = gold_rows()
    assert len(gold) > 2_000
    wrong = [(r["record"], r["uri"], r["preferred_label"]) for r in gold
             if label.get(r["uri"]) != r["preferred_label"]]
    assert wrong == []


def test_gold_ads_are_listed_once_and_items_number_from_one() -> None:
    ads = [(a.source, a.record) for a in read_ad_gold(GOLD)]
    assert [ad for ad, n in Counter(ads).items() if n > 1] == []
    items: dict[tuple[str, str], dict[str, int]] = defaultdict(Counter)
    for r in gold_rows():
        items[(r["source"], r["record"])][r["item"]] += 1
    assert set(items) <= set(ads)
    for ad, concepts in items.items():
        assert sorted(map(int, concepts)) == list(range(1, len(concepts) + 1)), ad
        assert max(concepts.values()) <= 3, ad  # at most three alternatives an item
    assert {source for source, _ in ads} == {"nhs", "vdab"}


@needs_shared
def test_every_evidence_span_is_in_the_ad_the_pipeline_maps() -> None:
    ads = read_ad_gold(GOLD)
    texts = gold_ad_texts(REPO_SETTINGS, ads)
    assert len(texts) == len(ads)  # no gold ad is lost by the pipeline's readers
    text = {(r.source, str(r.source_record)): evidence_text(f"{r.title}\n{r.description}")
            for r in texts.itertuples()}
    missing = [(r["record"], r["evidence"][:60]) for r in gold_rows()
               if evidence_text(r["evidence"]) not in text[(r["source"], r["record"])]]
    assert missing == []
