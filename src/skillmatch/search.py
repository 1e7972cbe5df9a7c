"""Hybrid search over ESCO labels: semantic similarity plus lexical matching, in any language.

Three retrievers propose candidate labels — exact normalised match (for short mentions such as
"C#" or "R" that n-grams cannot see), character n-gram TF-IDF (spelling variants, Dutch
compounds) and the embedding model (meaning, across languages) — and every candidate is then
scored by both a rescaled cosine and a rapidfuzz ratio. A concept's score is its best label's.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import torch
from rapidfuzz import fuzz
from sklearn.feature_extraction.text import TfidfVectorizer

from skillmatch.encoding import Encoder
from skillmatch.settings import Settings

CONCEPT_TYPES = ("skill", "occupation")
_NON_WORD = re.compile(r"[^\w+#./-]+")
_SPACES = re.compile(r"\s+")
INDEX_FORMAT = 2
MAX_QUERY_CHARS = 2000
RESULT_COLUMNS = ["uri", "concept_type", "preferred_label", "matched_label", "language",
                  "score", "semantic", "lexical", "found_by"]


@functools.lru_cache(maxsize=262_144)
def normalise(text: str) -> str:
    """Lower-case, accents folded, punctuation other than + # . / - turned into spaces.
    Cached: vacancy text repeats the same words and phrases endlessly."""
    if text.isascii():
        text = text.lower()
        text = _NON_WORD.sub(" ", text)
        return _SPACES.sub(" ", text).strip()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def lexical_similarity(query: str, label: str) -> float:
    """rapidfuzz WRatio (0..1) on normalised strings, except that a very short string (an
    acronym like "R", "C#", "IDE") only counts when it is a whole word of the other: otherwise
    partial matching would find "r" inside every word."""
    short, long_ = sorted((query, label), key=len)
    if len(short) <= 3 and short != long_:
        return 0.9 if short in long_.split() else fuzz.ratio(query, label) / 100.0
    return fuzz.WRatio(query, label) / 100.0


@dataclass
class TextScores:
    """Fused scores of the candidate label texts for one query."""

    candidates: np.ndarray  # text ids
    score: np.ndarray
    semantic: np.ndarray
    lexical: np.ndarray
    by_semantic: np.ndarray
    by_lexical: np.ndarray


@dataclass
class LabelTable:
    """The searchable labels: one row per (concept, label, language, kind)."""

    labels: pd.DataFrame  # uri, concept_type, language, label, kind, preferred_label, text_id
    texts: list[str]      # unique label texts; text_id indexes this list


def read_labels(con: duckdb.DuckDBPyConnection, concept_types=CONCEPT_TYPES) -> LabelTable:
    """Labels of skills and occupations with their concept's English preferred label (ESCO's
    own: the project's unofficial Dutch skill labels serve the mapping, not the search)."""
    frame = con.execute(
        """SELECT l.uri, l.concept_type, l.language, l.label, l.kind,
                  c.preferred_label
           FROM esco_label l JOIN esco_concept c ON c.uri = l.uri
           WHERE l.concept_type IN (SELECT unnest(?::VARCHAR[]))
             AND l.kind <> 'unofficial'
           ORDER BY l.concept_type, l.uri, l.language, l.kind, l.label""",
        [list(concept_types)],
    ).df()
    codes, uniques = pd.factorize(frame["label"])
    frame["text_id"] = codes.astype(np.int32)
    return LabelTable(frame, list(uniques))


class TaxonomyIndex:
    """Everything `search` needs in memory; built once per (model, label set) and cached."""

    def __init__(self, table: LabelTable, encoder: Encoder, settings: Settings) -> None:
        self.settings = settings
        self.encoder = encoder
        self.labels = table.labels
        self.texts = table.texts
        self.label_uri = self.labels["uri"].to_numpy()
        self.label_text = self.labels["text_id"].to_numpy()
        self.label_type = self.labels["concept_type"].to_numpy()
        self.label_language = self.labels["language"].to_numpy()
        self.spec = encoder.spec
        self._load_or_build_lexical(settings.cache_dir)
        self.vectors = encoder.embed(self.texts, kind="document")
        self._vectors_t = torch.from_numpy(np.ascontiguousarray(self.vectors))
        # text_id -> label rows, to go from a matched text to every concept that uses it
        order = np.argsort(self.label_text, kind="stable")
        bounds = np.searchsorted(self.label_text[order], np.arange(len(self.texts) + 1))
        self._rows_of_text = (order, bounds)

    # ---------------------------------------------------------------- lexical structures
    def _load_or_build_lexical(self, cache_dir: Path) -> None:
        digest = hashlib.sha1("\n".join(self.texts).encode()).hexdigest()[:16]
        path = cache_dir / "search" / f"lexical-v{INDEX_FORMAT}-{digest}.pkl"
        if path.exists():
            with open(path, "rb") as fh:
                self.normalised, self.vectorizer, self.ngram_matrix, self.exact = pickle.load(fh)
            return
        self.normalised = normalised = [normalise(t) for t in self.texts]
        self.vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 4), min_df=1, sublinear_tf=True
        )
        self.ngram_matrix = (
            self.vectorizer.fit_transform(normalised).astype(np.float32).tocsc()
        )
        self.exact: dict[str, list[int]] = {}
        for i, t in enumerate(normalised):
            self.exact.setdefault(t, []).append(i)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            pickle.dump((self.normalised, self.vectorizer, self.ngram_matrix, self.exact), fh,
                        protocol=5)
        tmp.rename(path)

    def _lexical_candidates(self, query_norm: str, k: int) -> np.ndarray:
        q = self.vectorizer.transform([query_norm])
        if q.nnz == 0:
            return np.zeros(0, int)
        scores = self.ngram_matrix[:, q.indices] @ q.data.astype(np.float32)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        return top[scores[top] > 0]

    def _ngram_cosine(self, query_norm: str) -> np.ndarray:
        q = self.vectorizer.transform([query_norm]).astype(np.float32)
        return np.asarray((self.ngram_matrix @ q.T).todense()).ravel()

    # ---------------------------------------------------------------- search
    def similarities(self, vectors: np.ndarray) -> np.ndarray:
        """Cosines of many query vectors with every label text, in one matrix product."""
        return (torch.from_numpy(np.ascontiguousarray(vectors)) @ self._vectors_t.T).numpy()

    def score_texts(self, query: str, vector: np.ndarray | None = None,
                    everything: bool = False, sims: np.ndarray | None = None
                    ) -> TextScores | None:
        """Candidate label texts for a query with their fused scores (None: nothing to match).

        `vector` is the query's embedding when the caller embedded many queries at once.
        `everything` scores every label text, not only the candidates (full rankings for
        evaluation): texts outside the candidates get the n-gram TF-IDF cosine as lexical
        score instead of the costlier fuzzy ratio."""
        s = self.settings
        query_norm = normalise(query.strip()[:MAX_QUERY_CHARS])
        if not query_norm:
            return None
        n = s.search_candidates
        exact = np.array(self.exact.get(query_norm, []), int)
        lexical = self._lexical_candidates(query_norm, n)
        if sims is None:
            if vector is None:
                vector = self.encoder.embed([query.strip()[:MAX_QUERY_CHARS]], kind="query",
                                            cache=False)[0]
            # torch, not numpy: one thread pool shared with the encoder (OpenBLAS threads
            # spinning next to torch's doubled single-query latency on 2 cores)
            sims = (self._vectors_t @ torch.from_numpy(np.ascontiguousarray(vector))).numpy()
        k = min(n, len(sims) - 1)
        semantic = np.argpartition(-sims, k)[:k] if k > 0 else np.arange(len(sims))
        shortlist = np.unique(np.concatenate([exact, lexical, semantic]))
        candidates = np.arange(len(sims)) if everything else shortlist

        floor = self.spec.similarity_floor
        sem = np.clip((sims[candidates] - floor) / (1.0 - floor), 0.0, 1.0)
        fuzzy = [lexical_similarity(query_norm, self.normalised[t]) for t in shortlist.tolist()]
        if everything:
            lex = self._ngram_cosine(query_norm)
            lex[shortlist] = fuzzy
        else:
            lex = np.array(fuzzy)
        is_exact = np.isin(candidates, exact)
        lex[is_exact] = 1.0
        return TextScores(
            candidates=candidates,
            score=s.semantic_weight * sem + s.lexical_weight * lex,
            semantic=sem,
            lexical=lex,
            by_semantic=np.isin(candidates, semantic),
            by_lexical=np.isin(candidates, lexical) | is_exact,
        )

    def search(
        self,
        query: str,
        concept_type: str | None = None,
        top_k: int | None = None,
        language: str | None = None,
        vector: np.ndarray | None = None,
        sims: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """Top concepts for a query, each with its best label, scores and how it was found."""
        s = self.settings
        top_k = top_k or s.search_top_k
        scored = self.score_texts(query, vector, sims=sims)
        if scored is None:
            return pd.DataFrame(columns=RESULT_COLUMNS)
        candidates, score, lex = scored.candidates, scored.score, scored.lexical

        # expand matched texts to the label rows (concepts) that carry them
        order, bounds = self._rows_of_text
        counts = bounds[candidates + 1] - bounds[candidates]
        rows = np.concatenate([order[bounds[t]:bounds[t + 1]] for t in candidates.tolist()])
        which = np.repeat(np.arange(len(candidates)), counts)
        keep = score[which] >= s.search_min_score
        if concept_type:
            keep &= self.label_type[rows] == concept_type
        if language:
            keep &= self.label_language[rows] == language
        rows, which = rows[keep], which[keep]
        # best label per concept: sort by score (then lexical), keep first row of each uri
        ranking = np.lexsort((-lex[which], -score[which]))
        rows, which = rows[ranking], which[ranking]
        _, first = np.unique(self.label_uri[rows], return_index=True)
        best = np.sort(first)[:top_k]
        rows, which = rows[best], which[best]
        by_sem, by_lex = scored.by_semantic[which], scored.by_lexical[which]
        found = np.where(by_sem & by_lex, "both", np.where(by_sem, "semantic", "lexical"))
        picked = self.labels.iloc[rows]
        return pd.DataFrame({
            "uri": picked["uri"].to_numpy(),
            "concept_type": picked["concept_type"].to_numpy(),
            "preferred_label": picked["preferred_label"].to_numpy(),
            "matched_label": picked["label"].to_numpy(),
            "language": picked["language"].to_numpy(),
            "score": score[which].round(4),
            "semantic": scored.semantic[which].round(4),
            "lexical": lex[which].round(4),
            "found_by": found,
        }, columns=RESULT_COLUMNS)


_INDEXES: dict[tuple[str, ...], TaxonomyIndex] = {}


def get_index(con: duckdb.DuckDBPyConnection, settings: Settings, encoder: Encoder,
              concept_types: tuple[str, ...] = CONCEPT_TYPES) -> TaxonomyIndex:
    """The process-wide index for this warehouse, model and concept types (built once)."""
    loaded = con.execute("SELECT loaded_at FROM esco_release").fetchone()[0]
    key = (str(settings.warehouse), encoder.name + encoder.fingerprint, str(loaded),
           *concept_types)
    if key not in _INDEXES:
        _INDEXES[key] = TaxonomyIndex(read_labels(con, concept_types), encoder, settings)
    return _INDEXES[key]
