"""The learned acceptance model: which candidate skills a text really asks for.

The candidate stage ranks ESCO skills by similarity; whether a candidate is *accepted* (stored,
counted on every dashboard) is decided here, by a logistic regression over features of the
candidate (similarities, lexical evidence, how specific the label is, the skill's ESCO type
and reuse level, the ad's section and its occupation's ESCO profile). Its probability ranks
the candidates too, so one calibrated number means the same in English and Dutch.

The model is a few dozen numbers (`taxonomy/acceptance.json`), trained by
`skillmatch train acceptance` from the public development sets and the project's real-ad gold
set (`benchmarks/gold/`); `skillmatch eval` reports it cross-validated.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from skillmatch.mapping.boilerplate import SECTION_NAMES

REUSE_LEVELS = ("transversal", "cross-sector", "sector-specific")


class Candidate(NamedTuple):
    """One skill proposed for one sentence, with the evidence the acceptance model reads."""

    score: float          # heuristic score: rescaled cosine + lexical bonus - penalty
    found_by: str         # semantic / lexical / both
    start: int            # span of the phrase in the sentence
    end: int
    label: str            # the label text matched
    sentence_cos: float   # rescaled cosine of that label with the whole sentence
    phrase_cos: float     # best rescaled cosine with one phrase (sentence_cos when none)
    extra: float          # share of the label's content words the text never said
    exact: bool           # a phrase or word of the sentence is one of the skill's labels
    acronym: bool         # ... written exactly so, case-sensitive (R, C#, SQL)
    rank: int             # rank of the skill in its sentence by heuristic score
    phrase_words: int     # words in the matched phrase (0: the whole sentence)
    stem_hit: bool = False  # every word of a multi-word label is said, in any order


@dataclass(frozen=True)
class Context:
    """What a document says around a candidate: its section, how often the skill came up,
    the sentence's length and the ad's occupation profile (essential = 1, optional = 0.5)."""

    section: str = ""
    mentions: int = 1
    sentence_words: int = 10
    position: float = 0.0      # 0 = first sentence, 1 = last
    occupation_prior: float = 0.0
    has_occupation: bool = False
    language: str = "en"


FEATURES = (
    "score", "best_cos", "sentence_cos", "phrase_gain", "extra", "exact", "acronym", "stem_hit",
    "log_rank", "gap", "label_words", "phrase_words", "single_word", "knowledge",
    *[f"reuse_{r}" for r in REUSE_LEVELS], *[f"section_{s}" for s in SECTION_NAMES],
    "log_mentions", "log_sentence_words", "position", "occupation_prior", "has_occupation",
    "multilingual", "multilingual_x_best_cos", "multilingual_x_score",
)


def features(c: Candidate, top_score: float, skill_type: str, reuse_level: str,
             ctx: Context) -> list[float]:
    """The feature vector of one candidate (order: FEATURES)."""
    best = max(c.sentence_cos, c.phrase_cos)
    nl = float(ctx.language != "en")
    label_words = len(c.label.split())
    return [
        c.score, best, c.sentence_cos, max(c.phrase_cos - c.sentence_cos, 0.0), c.extra,
        float(c.exact), float(c.acronym), float(c.stem_hit), math.log1p(c.rank),
        top_score - c.score,
        float(label_words), float(c.phrase_words), float(c.phrase_words == 1),
        float(skill_type == "knowledge"),
        *[float(reuse_level == r) for r in REUSE_LEVELS],
        *[float(ctx.section == s) for s in SECTION_NAMES],
        math.log1p(ctx.mentions - 1), math.log1p(ctx.sentence_words), ctx.position,
        ctx.occupation_prior, float(ctx.has_occupation),
        nl, nl * best, nl * c.score,
    ]


PRIOR_STRENGTH = 5.0  # pseudo-candidates that pull a skill's own gold rate to the base rate
PRIOR_MIN = 3         # candidates a skill needs before it has a prior of its own


def skill_prior(uris: Sequence[str], y: np.ndarray) -> dict[str, float]:
    """Per skill: how much more (or less) often than a typical candidate it was gold, as a
    smoothed log-odds offset. Generic requirements ("work in teams", "show commitment") are
    asked for far more often than their similarity alone says; this learns that."""
    uris = np.asarray(uris, dtype=object)
    base = float(np.clip(y.mean(), 1e-4, 1 - 1e-4))
    names, inverse, counts = np.unique(uris, return_inverse=True, return_counts=True)
    positives = np.bincount(inverse, weights=y, minlength=len(names))
    rate = (positives + PRIOR_STRENGTH * base) / (counts + PRIOR_STRENGTH)
    offset = np.log(rate / (1 - rate)) - np.log(base / (1 - base))
    return {str(n): round(float(o), 4) for n, o, k in zip(names, offset, counts, strict=True)
            if k >= PRIOR_MIN}


@dataclass
class AcceptanceModel:
    """Standardised logistic regression over FEATURES plus the skill's own prior;
    `threshold` on its probability accepts a skill."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    prior: dict[str, float] = field(default_factory=dict)  # skill URI -> log-odds offset
    meta: dict = field(default_factory=dict)

    def prior_column(self, uris: Sequence[str] | None, n: int) -> np.ndarray:
        if uris is None:
            return np.zeros((n, 1))
        return np.array([[self.prior.get(u, 0.0)] for u in uris]).reshape(n, 1)

    def probability(self, x: np.ndarray, uris: Sequence[str] | None = None) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0)
        full = np.hstack([np.asarray(x, dtype=np.float64), self.prior_column(uris, len(x))])
        z = ((full - self.mean) / self.scale) @ self.coef
        return 1.0 / (1.0 + np.exp(-(z + self.intercept)))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({
            "features": [*FEATURES, "skill_prior"], "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(), "coef": self.coef.round(6).tolist(),
            "intercept": round(self.intercept, 6), "threshold": round(self.threshold, 4),
            "meta": self.meta, "prior": dict(sorted(self.prior.items()))},
            indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> AcceptanceModel:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if tuple(doc["features"]) != (*FEATURES, "skill_prior"):
            raise ValueError(f"{path}: trained on other features; retrain with "
                             "`skillmatch train acceptance`")
        return cls(np.array(doc["mean"]), np.array(doc["scale"]), np.array(doc["coef"]),
                   float(doc["intercept"]), float(doc["threshold"]), doc.get("prior", {}),
                   doc.get("meta", {}))


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None, c: float = 0.5
        ) -> AcceptanceModel:
    """A logistic regression on standardised features, the last column being the skill prior
    (threshold and prior table set by the caller)."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    if len(np.unique(y)) < 2:  # nothing to tell apart (tiny sets): the base rate for all
        rate = float(np.clip(y.mean(), 1e-3, 1 - 1e-3))
        return AcceptanceModel(mean, scale, np.zeros(x.shape[1]),
                               float(np.log(rate / (1 - rate))), 0.5)
    model = LogisticRegression(C=c, max_iter=3000)
    model.fit((x - mean) / scale, y, sample_weight=weight)
    return AcceptanceModel(mean, scale, model.coef_[0], float(model.intercept_[0]), 0.5)


def best_threshold(prob: np.ndarray, y: np.ndarray, groups_gold: float) -> float:
    """The probability cut with the best F1 over pooled examples, where `groups_gold` is the
    number of gold items (so recall counts golds no candidate reached)."""
    order = np.argsort(-prob)
    tp = np.cumsum(y[order])
    k = np.arange(1, len(order) + 1)
    f1 = 2 * tp / (k + groups_gold)
    i = int(np.argmax(f1))
    return float(prob[order][i])


def f1_counts(accepted: Sequence[set], gold: Sequence[set]) -> dict[str, float]:
    """Micro precision, recall and F1 of accepted sets against gold sets."""
    tp = sum(len(a & g) for a, g in zip(accepted, gold, strict=True))
    n_acc = sum(len(a) for a in accepted)
    n_gold = sum(len(g) for g in gold)
    p = tp / n_acc if n_acc else 0.0
    r = tp / n_gold if n_gold else 0.0
    return {"P": p, "R": r, "F1": 2 * p * r / (p + r) if p + r else 0.0}
