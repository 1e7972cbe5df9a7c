"""The learned acceptance model: which candidate skills a text really asks for.

The candidate stage ranks ESCO skills by similarity; whether a candidate is *accepted* (stored,
counted on every dashboard) is decided here, over features of the candidate (similarities, how
well its sentence fits the skill's ESCO description, lexical evidence, how specific the label
is, the skill's ESCO type and reuse level, the ad's section and its occupation's ESCO profile,
whether its sentence asks anything of the candidate: `requirement.py`). Two learners read them:
a logistic regression (smooth, additive) and gradient-boosted trees (interactions: a high
cosine means less in the employer section than among the requirements). Their mean probability
ranks the candidates too, so one number means the same in English and Dutch; cross-validated,
the mean ranked better than either alone.

The model is plain numbers (`taxonomy/acceptance.json`: coefficients, tree nodes), trained by
`skillmatch train acceptance` from the public development sets and the project's real-ad gold
set (`benchmarks/gold/`); `skillmatch eval` reports it cross-validated.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy.special import expit

from skillmatch.mapping.boilerplate import SECTION_NAMES
from skillmatch.mapping.requirement import RequirementModel

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
    asks: float = 0.0       # P(its sentence asks something of the candidate): requirement.py
    described: float = 0.0  # cosine of the sentence with the skill's ESCO description
    described_gap: float = 0.0  # ... below the best-described candidate of the sentence


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
    "multilingual", "multilingual_x_best_cos", "multilingual_x_score", "asks",
    "described", "described_gap",
)


def features(c: Candidate, top_score: float, skill_type: str, reuse_level: str,
             ctx: Context) -> list[float]:
    """The feature vector of one candidate (order: FEATURES)."""
    return feature_matrix([(c, top_score, skill_type, reuse_level, ctx)])[0].tolist()


def feature_matrix(rows: Sequence[tuple[Candidate, float, str, str, Context]]) -> np.ndarray:
    """Feature vectors of (candidate, its sentence's top score, skill type, reuse level,
    context) rows, computed column-wise: an ad has hundreds of candidates."""
    if not rows:
        return np.zeros((0, len(FEATURES)))
    (score, sentence_cos, phrase_cos, extra, exact, acronym, stem_hit, rank, top, label_words,
     phrase_words, asks, described, described_gap, mentions, sentence_words, position,
     occupation_prior, has_occupation, nl) = np.array([
        (c.score, c.sentence_cos, c.phrase_cos, c.extra, c.exact, c.acronym, c.stem_hit,
         c.rank, top, len(c.label.split()), c.phrase_words, c.asks, c.described,
         c.described_gap, ctx.mentions,
         ctx.sentence_words, ctx.position, ctx.occupation_prior, ctx.has_occupation,
         ctx.language != "en") for c, top, _, _, ctx in rows], dtype=np.float64).T
    reuse = np.array([r[3] for r in rows], dtype=object)
    section = np.array([r[4].section for r in rows], dtype=object)
    best = np.maximum(sentence_cos, phrase_cos)
    return np.column_stack([
        score, best, sentence_cos, np.maximum(phrase_cos - sentence_cos, 0.0), extra,
        exact, acronym, stem_hit, np.log1p(rank), top - score,
        label_words, phrase_words, phrase_words == 1,
        [r[2] == "knowledge" for r in rows],
        *[reuse == r for r in REUSE_LEVELS], *[section == s for s in SECTION_NAMES],
        np.log1p(mentions - 1), np.log1p(sentence_words), position,
        occupation_prior, has_occupation, nl, nl * best, nl * score, asks,
        described, described_gap,
    ]).astype(np.float64)


# a text of this many sentences or more is a document (an ad, a course description) and is
# cut at the document threshold, fitted on the whole ads
DOCUMENT_SENTENCES = 3
# documents feed counts (demand per skill, gap index): there a wrong skill misleads more than
# a missed one, so their cut weighs precision above recall (F-beta, MODEL_CARD)
DOCUMENT_BETA = 0.85

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
class BoostedTrees:
    """Gradient-boosted trees from scikit-learn's HistGradientBoostingClassifier, kept as
    plain node arrays (all trees concatenated) so that the model is JSON, not a pickle tied to
    one scikit-learn version."""

    feature: np.ndarray       # per node: the feature it splits on
    cut: np.ndarray           # ... go left when the value is <= cut
    left: np.ndarray          # ... child node indices (absolute)
    right: np.ndarray
    missing_left: np.ndarray  # ... where NaN goes
    leaf: np.ndarray
    value: np.ndarray         # leaf values (learning rate included)
    roots: np.ndarray
    baseline: float
    _children: np.ndarray | None = field(default=None, repr=False, compare=False)

    FIELDS = ("feature", "cut", "left", "right", "missing_left", "leaf", "value")

    @classmethod
    def from_sklearn(cls, model) -> BoostedTrees:
        nodes = [tree[0].nodes for tree in model._predictors]
        offsets = np.cumsum([0] + [len(n) for n in nodes[:-1]])
        def column(name: str, shift: bool = False) -> np.ndarray:
            return np.concatenate([n[name].astype(np.int64) + o if shift else n[name]
                                   for n, o in zip(nodes, offsets, strict=True)])
        return cls(column("feature_idx").astype(np.int64), column("num_threshold"),
                   column("left", True), column("right", True),
                   column("missing_go_to_left").astype(bool), column("is_leaf").astype(bool),
                   column("value").astype(np.float64), offsets.astype(np.int64),
                   float(np.ravel(model._baseline_prediction)[0]))

    def decision(self, x: np.ndarray) -> np.ndarray:
        """Raw log-odds per row: all (row, tree) pairs walked at once, one level per step,
        each step over the pairs not yet at a leaf (most paths end long before the deepest)."""
        n, per_row = len(x), len(self.roots)
        if self._children is None:
            # per node: [right, left] child, so one gather picks the side a comparison chose
            self._children = np.stack([self.right, self.left], axis=1).ravel()
        flat = np.ascontiguousarray(x, dtype=np.float64).ravel()
        base = np.repeat(np.arange(n, dtype=np.int64) * x.shape[1], per_row)
        node = np.tile(self.roots, n)
        walking = np.flatnonzero(~self.leaf[node])
        missing = bool(np.isnan(flat).any())
        while walking.size:
            at = node[walking]
            value = flat[base[walking] + self.feature[at]]
            go_left = value <= self.cut[at]
            if missing:
                gap = np.isnan(value)
                go_left[gap] = self.missing_left[at[gap]]
            step = self._children[2 * at + go_left]
            node[walking] = step
            walking = walking[~self.leaf[step]]
        return self.baseline + self.value[node].reshape(n, per_row).sum(axis=1)

    def to_dict(self) -> dict:
        arrays = {f: getattr(self, f).tolist() for f in self.FIELDS}
        arrays.update(value=self.value.round(9).tolist(),
                      missing_left=self.missing_left.astype(int).tolist(),
                      leaf=self.leaf.astype(int).tolist())
        return {"baseline": self.baseline, "roots": self.roots.tolist(),
                **arrays}

    @classmethod
    def from_dict(cls, doc: dict) -> BoostedTrees:
        types = {"feature": np.int64, "left": np.int64, "right": np.int64,
                 "missing_left": bool, "leaf": bool}
        return cls(**{f: np.array(doc[f], dtype=types.get(f, np.float64)) for f in cls.FIELDS},
                   roots=np.array(doc["roots"], dtype=np.int64),
                   baseline=float(doc["baseline"]))


@dataclass
class AcceptanceModel:
    """Standardised logistic regression over FEATURES plus the skill's own prior, averaged
    with boosted trees over the same columns when it has them; `threshold` on the
    probability accepts a skill in a sentence, `document_threshold` in a whole document
    (an ad: DOCUMENT_SENTENCES sentences or more)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    prior: dict[str, float] = field(default_factory=dict)  # skill URI -> log-odds offset
    meta: dict = field(default_factory=dict)
    trees: BoostedTrees | None = None
    requirement: RequirementModel | None = None  # the `asks` feature's sentence model
    document_threshold: float | None = None  # None: `threshold` for documents too

    def threshold_for(self, sentences: int) -> float:
        """The cut for a text of this many sentences."""
        if sentences >= DOCUMENT_SENTENCES and self.document_threshold is not None:
            return self.document_threshold
        return self.threshold

    def prior_column(self, uris: Sequence[str] | None, n: int) -> np.ndarray:
        if uris is None:
            return np.zeros((n, 1))
        return np.array([[self.prior.get(u, 0.0)] for u in uris]).reshape(n, 1)

    def probability(self, x: np.ndarray, uris: Sequence[str] | None = None) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0)
        full = np.hstack([np.asarray(x, dtype=np.float64), self.prior_column(uris, len(x))])
        # a feature nobody could compute (`asks` under a model the file has no weights for)
        # counts as the training average: no evidence either way
        full = np.where(np.isnan(full), self.mean, full)
        z = ((full - self.mean) / self.scale) @ self.coef
        prob = expit(z + self.intercept)
        if self.trees is not None:
            prob = 0.5 * (prob + expit(self.trees.decision(full)))
        return prob

    def save(self, path: Path) -> None:
        text = json.dumps({
            "features": [*FEATURES, "skill_prior"], "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(), "coef": self.coef.round(6).tolist(),
            "intercept": round(self.intercept, 6), "threshold": round(self.threshold, 4),
            "document_threshold": None if self.document_threshold is None
            else round(self.document_threshold, 4),
            "meta": self.meta, "prior": dict(sorted(self.prior.items()))}, indent=1)
        # thousands of numbers: one line per array (or per encoder's weights), not per number
        blocks = {"requirement": self.requirement.to_dict() if self.requirement else {},
                  "trees": self.trees.to_dict() if self.trees is not None else None}
        for name, block in blocks.items():
            if block is not None:
                lines = ",\n  ".join(f"{json.dumps(k)}: {json.dumps(v)}"
                                     for k, v in block.items())
                text = text.removesuffix("\n}") + f',\n {json.dumps(name)}: {{\n  {lines}\n }}\n}}'
        path.write_text(text + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> AcceptanceModel:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if tuple(doc["features"]) != (*FEATURES, "skill_prior"):
            raise ValueError(f"{path}: trained on other features; retrain with "
                             "`skillmatch train acceptance`")
        return cls(np.array(doc["mean"]), np.array(doc["scale"]), np.array(doc["coef"]),
                   float(doc["intercept"]), float(doc["threshold"]), doc.get("prior", {}),
                   doc.get("meta", {}),
                   BoostedTrees.from_dict(doc["trees"]) if "trees" in doc else None,
                   RequirementModel.from_dict(doc.get("requirement") or {}),
                   doc.get("document_threshold"))


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


# regularised on purpose: a few thousand positives, most of them from 178 sentences and 74 ads
TREE_PARAMS = {"max_iter": 200, "learning_rate": 0.05, "max_leaf_nodes": 15,
               "min_samples_leaf": 40, "l2_regularization": 1.0, "early_stopping": False,
               "random_state": 0}


def fit_trees(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None
              ) -> BoostedTrees | None:
    """Boosted trees over the same columns as the regression (None if y has one class)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    if len(np.unique(y)) < 2:
        return None
    model = HistGradientBoostingClassifier(**TREE_PARAMS)
    model.fit(x, y, sample_weight=weight)
    return BoostedTrees.from_sklearn(model)


def best_threshold(prob: np.ndarray, y: np.ndarray, groups_gold: float, beta: float = 1.0
                   ) -> float:
    """The probability cut with the best F-beta over pooled examples, where `groups_gold` is
    the number of gold items (so recall counts golds no candidate reached)."""
    order = np.argsort(-prob)
    tp = np.cumsum(y[order])
    k = np.arange(1, len(order) + 1)
    f = (1 + beta**2) * tp / (k + beta**2 * groups_gold)
    i = int(np.argmax(f))
    return float(prob[order][i])


def f1_counts(accepted: Sequence[set], gold: Sequence[set]) -> dict[str, float]:
    """Micro precision, recall and F1 of accepted sets against gold sets."""
    tp = sum(len(a & g) for a, g in zip(accepted, gold, strict=True))
    n_acc = sum(len(a) for a in accepted)
    n_gold = sum(len(g) for g in gold)
    p = tp / n_acc if n_acc else 0.0
    r = tp / n_gold if n_gold else 0.0
    return {"P": p, "R": r, "F1": 2 * p * r / (p + r) if p + r else 0.0}
