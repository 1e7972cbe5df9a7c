"""Job titles (optionally with their ad text) to ranked ESCO occupations."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from skillmatch.encoding import get_encoder
from skillmatch.mapping.training import fold_of
from skillmatch.search import LabelTable, TaxonomyIndex, get_index, read_labels
from skillmatch.settings import Settings
from skillmatch.text import clean_text, detect_language

EXAMPLE_FOLDS = 5
_INDEXES: dict[tuple, TaxonomyIndex] = {}


def example_fold(title: str) -> int:
    """The fold of a labelled title (evaluation holds one fold out of the examples)."""
    return fold_of(title.strip().lower(), EXAMPLE_FOLDS)


def read_title_examples(path: Path) -> list[tuple[str, str]]:
    """(vacancy title, ESCO occupation URI) pairs: `vacancyTitle,conceptUri` columns."""
    with open(path, encoding="utf-8", newline="") as fh:
        return [(r["vacancyTitle"].strip(), r["conceptUri"].strip())
                for r in csv.DictReader(fh) if r.get("vacancyTitle") and r.get("conceptUri")]


def example_labels(con: duckdb.DuckDBPyConnection, path: Path,
                   exclude_fold: int | None = None) -> pd.DataFrame:
    """Labelled vacancy titles as extra surface forms of their occupations (kind 'example'):
    how employers really write titles ("RN - Med/Surg Nights") is what ESCO's labels lack."""
    occupations = dict(con.execute(
        "SELECT uri, preferred_label FROM esco_occupation").fetchall())
    seen: dict[str, str] = {}
    for title, uri in read_title_examples(path):
        if uri in occupations and (exclude_fold is None or example_fold(title) != exclude_fold):
            seen.setdefault(title, uri)  # one concept per surface form: the first wins
    return pd.DataFrame({
        "uri": list(seen.values()), "concept_type": "occupation", "language": "en",
        "label": list(seen), "kind": "example",
        "preferred_label": [occupations[u] for u in seen.values()]})


class OccupationLinker:
    """Job titles (optionally with their ad text) to ranked ESCO occupations with ISCO group.

    Uses the multilingual model over occupation labels in every language: a Dutch title meets
    the Dutch labels, an English one the English labels, and both reach the same concepts.
    """

    def __init__(self, settings: Settings, con: duckdb.DuckDBPyConnection,
                 model: str | None = None, exclude_fold: int | None = None) -> None:
        self.settings = settings
        self.encoder = get_encoder(settings, model or settings.multilingual_model)
        examples = settings.occupation_examples
        if examples.is_file():
            self.index = self._index_with_examples(con, examples, exclude_fold)
        else:
            self.index = get_index(con, settings, self.encoder, ("occupation",))
        self.isco = con.execute(
            """SELECT o.uri, o.isco_code, g.preferred_label AS isco_label
               FROM esco_occupation o LEFT JOIN esco_isco_group g ON g.code = o.isco_code"""
        ).df().set_index("uri")

    def _index_with_examples(self, con: duckdb.DuckDBPyConnection, path: Path,
                             exclude_fold: int | None) -> TaxonomyIndex:
        loaded = con.execute("SELECT loaded_at FROM esco_release").fetchone()[0]
        key = (str(self.settings.warehouse), self.encoder.name + self.encoder.fingerprint,
               str(loaded), str(path), path.stat().st_mtime, exclude_fold)
        if key not in _INDEXES:
            table = read_labels(con, ("occupation",))
            extra = example_labels(con, path, exclude_fold)
            frame = pd.concat([table.labels.drop(columns="text_id"), extra], ignore_index=True)
            codes, texts = pd.factorize(frame["label"])
            frame["text_id"] = codes.astype(np.int32)
            _INDEXES[key] = TaxonomyIndex(LabelTable(frame, list(texts)), self.encoder,
                                          self.settings)
        return _INDEXES[key]

    def link_many(self, titles: Sequence[str], top_k: int = 10,
                  texts: Sequence[str | None] | None = None,
                  language: str | None = None) -> list[pd.DataFrame]:
        """Ranked occupations per title; titles are embedded in one batch."""
        cleaned = [clean_text(t)[:300] for t in titles]
        vectors = self.encoder.embed(cleaned, kind="query", cache=False)
        out = []
        step = 256  # label similarities for a block of titles in one matrix product
        for start in range(0, len(cleaned), step):
            sims = self.index.similarities(vectors[start:start + step])
            for row, title in enumerate(cleaned[start:start + step]):
                i = start + row
                lang = language
                if lang is None and texts is not None and texts[i]:
                    lang = detect_language(clean_text(texts[i][:5000]), default="") or None
                hits = self.index.search(title, concept_type="occupation", top_k=top_k,
                                         language=lang, sims=sims[row])
                if hits.empty and lang:  # no label in that language matches: every language
                    hits = self.index.search(title, concept_type="occupation", top_k=top_k,
                                             sims=sims[row])
                out.append(hits)
        if not out:
            return out
        # ISCO groups for every hit at once (a join per title costs more than the search)
        hits = pd.concat(out, keys=range(len(out))).join(self.isco, on="uri")
        hits["accepted"] = hits["score"] >= self.settings.occupation_accept_threshold
        parts = {k: g.reset_index(drop=True) for k, g in hits.groupby(level=0)}
        none = hits.iloc[0:0].reset_index(drop=True)
        return [parts.get(k, none) for k in range(len(out))]

    def link(self, title: str, text: str | None = None, top_k: int = 10,
             language: str | None = None) -> pd.DataFrame:
        return self.link_many([title], top_k, [text], language)[0]


