"""Fitting the acceptance model, and the honest protocol around it.

Training data are *units*: a benchmark sentence or a whole real ad, with the features of every
candidate the engine proposed for it and the gold items (each a set of alternative skill ids).
Folds are cut by group (a sentence and its translation share one), so a cross-validated
number never scores a text whose twin trained the model.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from skillmatch.mapping.acceptance import (
    AcceptanceModel,
    best_threshold,
    fit,
    fit_trees,
    skill_prior,
)


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

    @property
    def y(self) -> np.ndarray:
        gold = frozenset().union(*self.items) if self.items else frozenset()
        return np.array([int(s) in gold for s in self.skills], dtype=np.int64)


def fold_of(group: str, folds: int) -> int:
    return zlib.crc32(group.encode("utf-8")) % folds


INNER_FOLDS = 5


def fit_acceptance(units: Sequence[Unit], c: float = 0.5, use_prior: bool = True,
                   trees: bool = True) -> AcceptanceModel:
    """One logistic regression (and, with `trees`, boosted trees) over every unit's
    candidates; each dataset weighs the same (an ad has a thousand candidates, a sentence
    sixty), and the threshold is the probability with the best pooled F1."""
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
    x = np.hstack([np.vstack([u.x for u in units]), oof[:, None]])
    datasets = np.concatenate([[u.dataset] * len(u.skills) for u in units])
    names, counts = np.unique(datasets, return_counts=True)
    per = dict(zip(names, counts, strict=True))
    weight = np.array([len(y) / (len(names) * per[d]) for d in datasets])
    model = fit(x, y, weight, c)
    model.trees = fit_trees(x, y, weight) if trees else None
    model.prior = skill_prior(uris, y) if use_prior else {}
    prob = np.concatenate([model.probability(u.x, u.uris) for u in units])
    n_gold = sum(len(u.items) for u in units)
    model.threshold = best_threshold(prob, y, n_gold)
    model.meta = {"examples": len(y), "positives": int(y.sum()), "units": len(units),
                  "datasets": {str(k): int(v) for k, v in per.items()}, "C": c,
                  "learners": "logistic + boosted trees" if model.trees else "logistic"}
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
            out[i] = (model.probability(units[i].x, units[i].uris), model.threshold)
    return out  # type: ignore[return-value]


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
