"""The acceptance model and its protocol: features, fitting, cross-validation, metrics."""

from __future__ import annotations

import numpy as np
import pytest

from skillmatch.mapping.acceptance import (
    DOCUMENT_BETA,
    DOCUMENT_SENTENCES,
    FEATURES,
    TREE_PARAMS,
    AcceptanceModel,
    BoostedTrees,
    Candidate,
    Context,
    best_threshold,
    features,
)
from skillmatch.mapping.training import Unit, cross_validated, fit_acceptance, fold_of, unit_metrics


def candidate(score: float, exact: bool = False, rank: int = 0) -> Candidate:
    return Candidate(score, "semantic", 0, 4, "some label", score, score, 0.0, exact, False,
                     rank, 2)


def test_feature_vector_matches_the_names() -> None:
    row = features(candidate(0.6, exact=True), 0.7, "knowledge", "transversal",
                   Context(section="requirements", mentions=3, language="nl",
                           occupation_prior=1.0, has_occupation=True))
    named = dict(zip(FEATURES, row, strict=True))
    assert named["exact"] == 1.0 and named["knowledge"] == 1.0
    assert named["reuse_transversal"] == 1.0 and named["reuse_cross-sector"] == 0.0
    assert named["section_requirements"] == 1.0 and named["section_offer"] == 0.0
    assert named["multilingual"] == 1.0 and named["occupation_prior"] == 1.0
    assert named["gap"] == pytest.approx(0.1)


def synthetic_units(n: int, seed: int = 0) -> list[Unit]:
    """Units where gold candidates score higher: a model must learn that."""
    rng = np.random.default_rng(seed)
    units = []
    for i in range(n):
        skills = np.arange(20)
        gold = set(rng.choice(20, 2, replace=False).tolist())
        cands = [candidate(float(rng.normal(0.7 if s in gold else 0.4, 0.1)), rank=s)
                 for s in skills]
        x = np.array([features(c, 0.8, "skill/competence", "cross-sector", Context())
                      for c in cands])
        units.append(Unit("synthetic" if i % 2 else "other", f"g{i}", skills, x,
                          [frozenset({g}) for g in sorted(gold)],
                          np.array([c.score for c in cands]),
                          np.array([f"skill:{s}" for s in skills], dtype=object)))
    return units


def test_fit_learns_and_saves_round_trip(tmp_path) -> None:
    units = synthetic_units(60)
    model = fit_acceptance(units)
    assert 0.0 < model.threshold < 1.0
    scored = [(model.probability(u.x, u.uris), model.threshold) for u in units]
    metrics = unit_metrics(units, scored)
    assert metrics["RP@5"] > 90 and metrics["F1"] > 0.7
    path = tmp_path / "acceptance.json"
    model.save(path)
    again = AcceptanceModel.load(path)
    x = units[0].x
    assert np.allclose(again.probability(x), model.probability(x), atol=1e-4)
    assert model.meta["datasets"] == {"other": 600, "synthetic": 600}
    assert again.trees is not None and model.meta["learners"] == "logistic + boosted trees"


def test_boosted_trees_walk_like_scikit_learn() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, 5))
    x[rng.random(x.shape) < 0.05] = np.nan  # missing values take the learned side
    y = ((np.nan_to_num(x[:, 0]) * np.nan_to_num(x[:, 1]) > 0) ^ (rng.random(2000) < 0.1))
    model = HistGradientBoostingClassifier(**{**TREE_PARAMS, "max_iter": 30}).fit(x, y)
    trees = BoostedTrees.from_sklearn(model)
    expected = model.predict_proba(x)[:, 1]
    assert np.allclose(1 / (1 + np.exp(-trees.decision(x))), expected, atol=1e-9)
    again = BoostedTrees.from_dict(trees.to_dict())
    assert np.allclose(again.decision(x), trees.decision(x))


def test_a_model_saved_without_trees_still_loads(tmp_path) -> None:
    model = fit_acceptance(synthetic_units(20), trees=False)
    path = tmp_path / "acceptance.json"
    model.save(path)
    again = AcceptanceModel.load(path)
    assert again.trees is None and "trees" not in path.read_text()
    x = synthetic_units(1)[0].x
    assert np.allclose(again.probability(x), model.probability(x), atol=1e-4)


def test_cross_validation_never_scores_a_unit_with_its_own_model() -> None:
    units = synthetic_units(40)
    scored = cross_validated(units, folds=4)
    assert len(scored) == len(units)
    # a unit's twin (same group) always lands in the same fold
    assert fold_of("house:a sentence", 5) == fold_of("house:a sentence", 5)
    # the CV number is honest: close to, and not above, a well-fitted in-sample number
    cv = unit_metrics(units, scored)["F1"]
    model = fit_acceptance(units)
    fitted = unit_metrics(units, [(model.probability(u.x, u.uris), model.threshold) for u in units])
    assert 0.5 < cv <= fitted["F1"] + 0.05


def test_unit_metrics_by_hand() -> None:
    x = np.zeros((3, len(FEATURES)))
    unit = Unit("d", "g", np.array([7, 8, 9]), x, [frozenset({8}), frozenset({1, 9}),
                                                 frozenset({5})], np.zeros(3),
                np.array(["a", "b", "c"], dtype=object))
    # accepted 8 and 9 (both gold), 7 rejected; item {5} missed
    m = unit_metrics([unit], [(np.array([0.2, 0.9, 0.6]), 0.5)])
    assert m["P"] == 1.0 and m["R"] == pytest.approx(2 / 3)
    assert m["RP@5"] == pytest.approx(100 * 2 / 3)
    assert m["candidate recall"] == pytest.approx(2 / 3)
    empty = Unit("d", "h", np.array([3]), np.zeros((1, len(FEATURES))), [], np.zeros(1),
                 np.array(["d"], dtype=object))
    m = unit_metrics([empty], [(np.array([0.9]), 0.5)])
    assert m["P"] == 0.0  # a skill accepted where the gold is empty is a false positive


def test_best_threshold_counts_unreached_gold() -> None:
    prob = np.array([0.9, 0.8, 0.3])
    y = np.array([1, 0, 1])
    assert best_threshold(prob, y, groups_gold=2) == pytest.approx(0.3)
    # with many gold items no candidate reached, accepting more still pays
    assert best_threshold(prob, y, groups_gold=20) == pytest.approx(0.3)
    assert best_threshold(np.array([0.9, 0.8]), np.array([1, 0]), 1) == pytest.approx(0.9)


def test_best_threshold_with_a_precision_weighting_beta() -> None:
    prob = np.array([0.9, 0.8, 0.3])
    y = np.array([1, 0, 1])
    # F1 takes all three (0.8 > 0.67); F0.5 keeps only the sure one (0.83 > 0.71)
    assert best_threshold(prob, y, groups_gold=2) == pytest.approx(0.3)
    assert best_threshold(prob, y, groups_gold=2, beta=0.5) == pytest.approx(0.9)


def test_whole_ads_get_a_document_cut_that_survives_saving(tmp_path) -> None:
    units = synthetic_units(60)
    for u in units[::2]:
        u.group = f"ad:{u.group}"
    model = fit_acceptance(units)
    ads = [u for u in units if u.group.startswith("ad:")]
    prob = np.concatenate([model.probability(u.x, u.uris) for u in ads])
    y = np.concatenate([u.y for u in ads])
    expected = best_threshold(prob, y, sum(len(u.items) for u in ads), DOCUMENT_BETA)
    assert model.document_threshold == pytest.approx(expected, abs=1e-3)
    assert model.threshold_for(1) == model.threshold
    assert model.threshold_for(DOCUMENT_SENTENCES) == model.document_threshold
    path = tmp_path / "acceptance.json"
    model.save(path)
    again = AcceptanceModel.load(path)
    assert again.document_threshold == pytest.approx(model.document_threshold, abs=1e-4)
    # without ads to learn from, documents take the sentence cut
    plain = fit_acceptance(synthetic_units(20))
    assert plain.document_threshold is None
    assert plain.threshold_for(50) == plain.threshold
