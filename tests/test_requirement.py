"""The sentence model behind the `asks` feature: labels from gold evidence, fitting out of
fold, a round trip through the model file, and what the committed model says on real models."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_acceptance import synthetic_units

from skillmatch.mapping.acceptance import FEATURES
from skillmatch.mapping.requirement import RequirementModel, asks_labels, fit_requirement
from skillmatch.mapping.training import (
    fit_acceptance,
    fit_requirements,
    out_of_fold_asks,
    scored_by,
)


def test_a_sentence_asks_when_it_holds_a_gold_evidence_span() -> None:
    sentences = ["You will  administer medication and dress wounds.",
                 "We offer free parking.",
                 "Excellent communication skills"]
    evidence = ["administer medication", "excellent communication skills are essential", ""]
    # the span inside the first sentence; the third sentence inside a longer span
    assert asks_labels(sentences, evidence).tolist() == [1, 0, 1]
    assert asks_labels(sentences, []).tolist() == [0, 0, 0]


def with_sentences(units, dim: int = 8, seed: int = 0):
    """Synthetic units given one sentence each whose vector says (noisily) if it asks."""
    rng = np.random.default_rng(seed)
    out = []
    for i, u in enumerate(units):
        asks = int(i % 3 != 0)
        vector = rng.normal(size=(1, dim)) + (2.0 if asks else -2.0)
        out.append(dataclasses.replace(u, encoder="m", sentence_vectors=vector,
                                       asks_gold=np.array([asks]),
                                       sentence_of=np.zeros(len(u.skills), dtype=np.int64)))
    return out


def test_out_of_fold_asks_come_from_models_without_the_units_fold() -> None:
    units = with_sentences(synthetic_units(30))
    oof = out_of_fold_asks(units, folds=3)
    assert all(a.shape == (1,) and 0 <= a[0] <= 1 for a in oof)
    asks = np.concatenate(oof)
    gold = np.concatenate([u.asks_gold for u in units])
    assert asks[gold == 1].min() > asks[gold == 0].max()  # separable: learned out of fold
    model = fit_requirements(units)
    assert set(model.weights) == {"m"}
    assert np.isnan(model.probability("another model", np.zeros((2, 8)))).all()


def test_the_asks_model_travels_with_the_acceptance_model(tmp_path) -> None:
    from skillmatch.mapping.acceptance import AcceptanceModel

    units = with_sentences(synthetic_units(40))
    model = fit_acceptance(units)
    assert model.requirement is not None and "m" in model.requirement.weights
    path = tmp_path / "acceptance.json"
    model.save(path)
    again = AcceptanceModel.load(path)
    assert np.allclose(scored_by(again, units[0]), scored_by(model, units[0]), atol=1e-4)
    # a feature nobody could compute counts as average, not as NaN through the regression
    x = units[0].x.copy()
    x[:, FEATURES.index("asks")] = np.nan
    assert np.isfinite(again.probability(x)).all()


def test_fit_needs_both_classes() -> None:
    assert fit_requirement(np.ones((4, 3)), np.ones(4, dtype=np.int64)) is None
    doc = RequirementModel({"m": (np.array([1.0, -1.0]), 0.5)}).to_dict()
    again = RequirementModel.from_dict(doc)
    assert again.probability("m", np.array([[1.0, 0.0]]))[0] == pytest.approx(
        1 / (1 + np.exp(-1.5)))


def test_the_committed_model_tells_requirements_from_employer_text(mini_settings) -> None:
    """On the real models, English and Dutch: a requirement asks more than a benefits line."""
    import duckdb

    from skillmatch.mapping import SkillExtractor

    con = duckdb.connect(str(mini_settings.warehouse), read_only=True)
    try:
        extractor = SkillExtractor(mini_settings, con)
    finally:
        con.close()
    assert extractor.acceptance is not None and extractor.acceptance.requirement is not None
    for language, asking, offering in (
            ("en", "You must have excellent communication skills and experience of Excel.",
             "We offer free parking, a generous pension scheme and flexible working."),
            ("nl", "Je hebt goede communicatieve vaardigheden en ervaring met Excel.",
             "Wij bieden gratis parkeren, een goed pensioen en flexibele werktijden.")):
        ask, offer = (max(c.asks for c in scored.values())
                      for scored in extractor.score_sentences([asking, offering], language))
        assert 0.0 <= offer < ask <= 1.0, language
