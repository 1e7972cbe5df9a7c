"""Hybrid taxonomy search on the mini export with the real English model."""

from __future__ import annotations

import duckdb
import pytest

from skillmatch.encoding import get_encoder
from skillmatch.search import (
    TaxonomyIndex,
    get_index,
    lexical_similarity,
    normalise,
    read_labels,
)


@pytest.fixture(scope="module")
def index(mini_settings) -> TaxonomyIndex:
    con = duckdb.connect(str(mini_settings.warehouse), read_only=True)
    try:
        return get_index(con, mini_settings, get_encoder(mini_settings, "all-MiniLM-L6-v2"))
    finally:
        con.close()


def test_semantic_and_lexical_english(index: TaxonomyIndex) -> None:
    hits = index.search("weld metal", concept_type="skill")
    top = hits.iloc[0]
    # "weld metal" is an alternative label of "join metals": found by meaning and by spelling
    assert top["preferred_label"] == "join metals" and top["matched_label"] == "weld metal"
    assert top["found_by"] == "both"
    assert hits["preferred_label"].head(5).str.contains("weld").sum() >= 3
    assert hits["score"].is_monotonic_decreasing
    assert set(hits["found_by"]) <= {"semantic", "lexical", "both"}
    assert hits["uri"].is_unique


def test_dutch_title_reaches_the_occupation_through_dutch_labels(index: TaxonomyIndex) -> None:
    hits = index.search("verpleegkundige", concept_type="occupation")
    top = hits.iloc[0]
    assert top["preferred_label"] == "nurse responsible for general care"
    assert top["language"] == "nl"


@pytest.mark.parametrize("mention", ["C#", "R", "PostgreSQL"])
def test_short_exact_mentions(index: TaxonomyIndex, mention: str) -> None:
    top = index.search(mention).iloc[0]
    assert top["preferred_label"] == mention
    assert top["lexical"] == 1.0 and top["found_by"] in {"lexical", "both"}


def test_filters(index: TaxonomyIndex) -> None:
    assert set(index.search("teacher", concept_type="occupation")["concept_type"]) == {
        "occupation"}
    assert set(index.search("leraar", language="nl")["language"]) <= {"nl"}


@pytest.mark.parametrize("text", ["", "   ", "!!!", "<script>alert(1)</script>",
                                  "'; DROP TABLE esco_skill; --", "x" * 100_000, "\x00\x01"])
def test_hostile_and_empty_queries_do_not_crash(index: TaxonomyIndex, text: str) -> None:
    hits = index.search(text)
    assert list(hits.columns)[:3] == ["uri", "concept_type", "preferred_label"]


def test_labels_cover_every_skill_and_occupation(mini_settings) -> None:
    con = duckdb.connect(str(mini_settings.warehouse), read_only=True)
    table = read_labels(con)
    n_concepts = con.execute(
        "SELECT (SELECT count(*) FROM esco_skill) + (SELECT count(*) FROM esco_occupation)"
    ).fetchone()[0]
    assert table.labels["uri"].nunique() == n_concepts
    assert len(table.texts) == table.labels["label"].nunique()


def test_acronyms_match_only_as_whole_words() -> None:
    assert lexical_similarity("lasser", "r") < 0.5
    assert lexical_similarity("r", "r") == 1.0
    assert lexical_similarity("statistics in r", "r") == 0.9
    assert lexical_similarity("weld metal", "weld metal parts") > 0.8


def test_normalise() -> None:
    assert normalise("  Verpleegkundige, Algemeen! ") == "verpleegkundige algemeen"
    assert normalise("C#") == "c#" and normalise("IDS/IPS") == "ids/ips"
    assert normalise("Café") == "cafe"
