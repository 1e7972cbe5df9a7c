"""Does a sentence ask something of the candidate?

Most false skills on real ads come from sentences that ask nothing: the employer describing its
services, the team, the benefits. The section patterns catch the obvious ones; this learns the
rest from the sentence vector the candidate stage already computed (no extra encoder pass): a
logistic regression per encoder, trained on the benchmark sentences (gold or not) and on the
sentences of the real-ad gold set (holding a gold evidence span or not). Its probability is the
`asks` feature of every candidate from that sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

C = 1.0  # ridge of the regression: 384 weights from a few thousand sentences


@dataclass
class RequirementModel:
    """Per encoder name: the weights and intercept over that encoder's sentence vectors."""

    weights: dict[str, tuple[np.ndarray, float]] = field(default_factory=dict)

    def probability(self, encoder: str, vectors: np.ndarray) -> np.ndarray:
        """P(sentence asks for a skill) per row; NaN where this encoder has no model."""
        if encoder not in self.weights:
            return np.full(len(vectors), np.nan)
        coef, intercept = self.weights[encoder]
        return expit(np.asarray(vectors, dtype=np.float64) @ coef + intercept)

    def to_dict(self) -> dict:
        return {name: {"coef": coef.round(6).tolist(), "intercept": round(b, 6)}
                for name, (coef, b) in sorted(self.weights.items())}

    @classmethod
    def from_dict(cls, doc: dict) -> RequirementModel:
        return cls({name: (np.array(w["coef"], dtype=np.float64), float(w["intercept"]))
                    for name, w in doc.items()})


def fit_requirement(vectors: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float] | None:
    """One encoder's regression (None when the labels have one class)."""
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(labels)) < 2:
        return None
    model = LogisticRegression(C=C, max_iter=3000).fit(vectors, labels)
    return model.coef_[0].astype(np.float64), float(model.intercept_[0])


def evidence_text(text: str) -> str:
    """A text as gold evidence is matched against it: case and runs of whitespace ignored."""
    return re.sub(r"\s+", " ", text.casefold()).strip()


def asks_labels(sentences: Sequence[str], evidence: Sequence[str]) -> np.ndarray:
    """1 for a sentence of a gold ad that holds (or lies inside) one of the ad's gold
    evidence spans, else 0."""
    spans = [e for e in (evidence_text(e) for e in evidence) if e]
    out = np.zeros(len(sentences), dtype=np.int64)
    for i, sentence in enumerate(sentences):
        s = evidence_text(sentence)
        out[i] = any(span in s or (len(s) > 20 and s in span) for span in spans)
    return out
