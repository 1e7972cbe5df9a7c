"""The benchmark metrics on hand-built rankings whose answers are known."""

from __future__ import annotations

import pytest

from skillmatch.evaluation import average_precision, dedupe, reciprocal_rank, rp_at_k


def test_rp_at_k_uses_min_of_k_and_gold_size() -> None:
    gold = frozenset({"a", "b"})
    assert rp_at_k(["a", "x", "b", "y", "z"], gold, 5) == 1.0
    assert rp_at_k(["a", "x", "y", "z", "w", "b"], gold, 5) == 0.5
    many = frozenset("abcdefg")
    assert rp_at_k(list("abxyz"), many, 5) == pytest.approx(2 / 5)


def test_average_precision_and_reciprocal_rank() -> None:
    assert average_precision(["a", "x", "b"], {"a", "b"}) == pytest.approx((1 + 2 / 3) / 2)
    assert average_precision(["x", "y"], {"a"}) == 0.0
    assert average_precision(["a"], {"a", "b"}) == 0.5  # unranked relevant items count as 0
    assert reciprocal_rank(["x", "a"], {"a"}) == 0.5
    assert reciprocal_rank([], {"a"}) == 0.0


def test_dedupe_keeps_first_occurrence() -> None:
    assert dedupe(["c1", "c2", "c1", "c3"]) == ["c1", "c2", "c3"]
