"""Fitting the acceptance model, and the honest protocol around it.

Training data are *units*: a benchmark sentence or a whole real ad, with the features of every
candidate the engine proposed for it and the gold items (each a set of alternative skill ids).
Folds are cut by group (a sentence and its translation share one), so a cross-validated
number never scores a text whose twin trained the model.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from skillmatch.mapping.acceptance import (
    DOCUMENT_BETA,
    DOCUMENT_SENTENCES,
    FEATURES,
    AcceptanceModel,
    best_threshold,
    fit,
    fit_trees,
    skill_prior,
)
from skillmatch.mapping.requirement import RequirementModel, fit_requirement

ASKS = FEATURES.index("asks")


@dataclass
class Unit:
    """One evaluated text (a sentence or a whole ad) and its candidates."""

    dataset: str
    group: str
    skills: np.ndarray                 # candidate skill ids
    x: np.ndarray                      # their features (acceptance.FEATURES)
    items: list[frozenset[int]]        # gold items: alternative skill ids each
    heuristic: np.ndarray              # the candidate stage's own score (the old engine)
    uris: np.ndarray                   # the candidates' skill URIs (the prior's keys)
    # the text's sentences, for the `asks` model: vectors of `encoder`, whether each asks
    # for a skill (gold), and each candidate's sentence
    encoder: str = ""
    sentence_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    asks_gold: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sentence_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def y(self) -> np.ndarray:
        gold = frozenset().union(*self.items) if self.items else frozenset()
        return np.array([int(s) in gold for s in self.skills], dtype=np.int64)


def fold_of(group: str, folds: int) -> int:
    return zlib.crc32(group.encode("utf-8")) % folds


INNER_FOLDS = 5
# a real-ad set weighs this many sentence sets: whole ads are what the vacancies pipeline
# maps (cross-validated: MODEL_CARD "Ideas measured")
AD_WEIGHT = 2.0


def is_ad(unit: Unit) -> bool:
    return unit.group.startswith("ad:")


def fit_requirements(units: Sequence[Unit]) -> RequirementModel:
    """One sentence model per encoder, from every unit's sentences."""
    model = RequirementModel()
    for encoder in dict.fromkeys(u.encoder for u in units if len(u.sentence_vectors)):
        part = [u for u in units if u.encoder == encoder and len(u.sentence_vectors)]
        fitted = fit_requirement(np.vstack([u.sentence_vectors for u in part]),
                                 np.concatenate([u.asks_gold for u in part]))
        if fitted is not None:
            model.weights[encoder] = fitted
    return model


def sentence_asks(unit: Unit, model: RequirementModel | None) -> np.ndarray:
    """P(asks) of each of the unit's sentences (NaN without a model for its encoder)."""
    if model is None or not len(unit.sentence_vectors):
        return np.full(len(unit.sentence_vectors), np.nan)
    return model.probability(unit.encoder, unit.sentence_vectors)


def features_with(unit: Unit, asks: np.ndarray) -> np.ndarray:
    """The unit's features with the `asks` column filled from its sentences' P(asks)."""
    if not len(unit.sentence_vectors) or not len(unit.skills):
        return unit.x
    x = unit.x.copy()
    x[:, ASKS] = asks[unit.sentence_of]
    return x


def out_of_fold_asks(units: Sequence[Unit], folds: int = INNER_FOLDS) -> list[np.ndarray]:
    """Per unit: its sentences' P(asks) from sentence models that never saw the unit's fold,
    so the acceptance model learns how far the `asks` of an unseen text can be trusted."""
    fold = np.array([fold_of(u.group, folds) for u in units])
    out = [np.full(len(u.sentence_vectors), np.nan) for u in units]
    for f in range(folds):
        if not (fold == f).any():
            continue
        model = fit_requirements([u for u, k in zip(units, fold, strict=True) if k != f])
        for i in np.flatnonzero(fold == f):
            out[i] = sentence_asks(units[i], model)
    return out


def fit_acceptance(units: Sequence[Unit], c: float = 0.5, use_prior: bool = True,
                   trees: bool = True) -> AcceptanceModel:
    """One logistic regression (and, with `trees`, boosted trees) over every unit's
    candidates; each dataset weighs the same (an ad has a thousand candidates, a sentence
    sixty) except that an ad set weighs AD_WEIGHT. The threshold is the probability with the
    best pooled F1; the document threshold the one with the best F-beta (DOCUMENT_BETA) over
    the ads' candidates."""
    units = [u for u in units if len(u.skills)]
    if not units:
        raise ValueError("no candidates to learn from: are the evaluation sets empty?")
    y = np.concatenate([u.y for u in units])
    uris = np.concatenate([u.uris for u in units])
    # the prior a training row sees comes from the other folds only: its own label must not
    # leak into its feature (else the model learns to trust the prior too much)
    fold = np.concatenate([[fold_of(u.group, INNER_FOLDS)] * len(u.skills) for u in units])
    oof = np.zeros(len(y))
    for f in range(INNER_FOLDS if use_prior else 0):
        table = skill_prior(uris[fold != f], y[fold != f]) if (fold != f).any() else {}
        oof[fold == f] = [table.get(u, 0.0) for u in uris[fold == f]]
    asks = out_of_fold_asks(units)
    x = np.hstack([np.vstack([features_with(u, a) for u, a in zip(units, asks, strict=True)]),
                   oof[:, None]])
    unknown = np.isnan(x[:, ASKS])  # an encoder no other fold had: no evidence either way
    if unknown.any():
        x[unknown, ASKS] = np.nanmean(x[~unknown, ASKS]) if (~unknown).any() else 0.0
    datasets = np.concatenate([[u.dataset] * len(u.skills) for u in units])
    names, counts = np.unique(datasets, return_counts=True)
    per = dict(zip(names, counts, strict=True))
    ad = np.concatenate([[is_ad(u)] * len(u.skills) for u in units])
    weight = (np.array([len(y) / (len(names) * per[d]) for d in datasets])
              * np.where(ad, AD_WEIGHT, 1.0))
    model = fit(x, y, weight, c)
    model.trees = fit_trees(x, y, weight) if trees else None
    model.prior = skill_prior(uris, y) if use_prior else {}
    model.requirement = fit_requirements(units)
    asked = np.concatenate([u.asks_gold for u in units]) if units else np.zeros(0)
    # the threshold is picked where `asks` is as good as on unseen text (out of fold)
    prob = np.concatenate([model.probability(features_with(u, a), u.uris)
                           for u, a in zip(units, asks, strict=True)])
    n_gold = sum(len(u.items) for u in units)
    model.threshold = best_threshold(prob, y, n_gold)
    if ad.any() and y[ad].any():
        model.document_threshold = best_threshold(
            prob[ad], y[ad], sum(len(u.items) for u in units if is_ad(u)), DOCUMENT_BETA)
    model.meta = {"examples": len(y), "positives": int(y.sum()), "units": len(units),
                  "datasets": {str(k): int(v) for k, v in per.items()}, "C": c,
                  "ad_weight": AD_WEIGHT,
                  "learners": "logistic + boosted trees" if model.trees else "logistic",
                  "asks": {"sentences": len(asked), "asking": int(asked.sum()),
                           "encoders": sorted(model.requirement.weights)}}
    return model


def cross_validated(units: Sequence[Unit], folds: int = 5, c: float = 0.5
                    ) -> list[tuple[np.ndarray, float]]:
    """Per unit: (probabilities, threshold) from a model fitted without the unit's fold."""
    fold = np.array([fold_of(u.group, folds) for u in units])
    out: list[tuple[np.ndarray, float] | None] = [None] * len(units)
    for f in range(folds):
        train = [u for u, k in zip(units, fold, strict=True) if k != f and len(u.skills)]
        if not train or not (fold == f).any():
            train = [u for u in units if len(u.skills)]  # tiny sets: no fold to leave out
        model = fit_acceptance(train, c)
        for i in np.flatnonzero(fold == f):
            out[i] = (scored_by(model, units[i]), threshold_of(model, units[i]))
    return out  # type: ignore[return-value]


def threshold_of(model: AcceptanceModel, unit: Unit) -> float:
    """The cut the engine applies to this unit: a gold ad is a document."""
    return model.threshold_for(DOCUMENT_SENTENCES if is_ad(unit) else 1)


def scored_by(model: AcceptanceModel, unit: Unit) -> np.ndarray:
    """The model's probability for each of a unit's candidates (its own `asks` model)."""
    return model.probability(features_with(unit, sentence_asks(unit, model.requirement)),
                             unit.uris)


def asks_auc(units: Sequence[Unit], asks: Sequence[np.ndarray]) -> float:
    """How well P(asks) orders the units' sentences (ROC AUC; NaN with one class)."""
    from sklearn.metrics import roc_auc_score

    y = np.concatenate([u.asks_gold for u in units]) if units else np.zeros(0)
    p = np.concatenate(list(asks)) if units else np.zeros(0)
    keep = ~np.isnan(p)
    if len(np.unique(y[keep])) < 2:
        return float("nan")
    return float(roc_auc_score(y[keep], p[keep]))


def unit_metrics(units: Sequence[Unit], scored: Sequence[tuple[np.ndarray, float]]
                 ) -> dict[str, float]:
    """RP@5 / RP@10 (units with gold) and accepted-set P / R / F1 (every unit)."""
    rp5, rp10 = [], []
    tp = n_acc = hit = n_items = 0
    for u, (prob, threshold) in zip(units, scored, strict=True):
        order = np.argsort(-prob, kind="stable")
        ranked = u.skills[order]
        accepted = {int(s) for s, p in zip(u.skills, prob, strict=True) if p >= threshold}
        gold = frozenset().union(*u.items) if u.items else frozenset()
        tp += len(accepted & gold)
        n_acc += len(accepted)
        hit += sum(bool(item & accepted) for item in u.items)
        n_items += len(u.items)
        if u.items:
            for k, bucket in ((5, rp5), (10, rp10)):
                top = {int(s) for s in ranked[:k]}
                bucket.append(sum(bool(item & top) for item in u.items) / min(k, len(u.items)))
    p = tp / n_acc if n_acc else 0.0
    r = hit / n_items if n_items else 0.0
    return {"RP@5": 100 * float(np.mean(rp5)) if rp5 else float("nan"),
            "RP@10": 100 * float(np.mean(rp10)) if rp10 else float("nan"),
            "P": p, "R": r, "F1": 2 * p * r / (p + r) if p + r else 0.0,
            "accepted per unit": n_acc / max(len(units), 1),
            "candidate recall": sum(bool(item & {int(s) for s in u.skills}) for u in units
                                    for item in u.items) / max(n_items, 1)}
