"""The encoding layer with the real offline model: vectors, the cache and model resolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

from skillmatch.encoding import Encoder, ModelUnavailable, model_path
from skillmatch.settings import load_settings


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(REPO / "skillmatch.toml", cache_dir=tmp_path / "cache")


def test_default_english_model_is_offline_and_normalised(settings) -> None:
    enc = Encoder(settings, "all-MiniLM-L6-v2")
    assert Path(enc.path).is_dir()
    vectors = enc.embed(["weld metal parts", "welding", "bake bread"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_cache_is_per_model_and_text_and_survives_a_new_process(settings) -> None:
    texts = ["use a welding torch", "provide nursing care", "use a welding torch"]
    enc = Encoder(settings, "all-MiniLM-L6-v2")
    first = enc.embed(texts)
    assert len(enc.cache) == 2  # duplicates embedded once
    again = Encoder(settings, "all-MiniLM-L6-v2")  # a fresh encoder reads the cache from disk
    assert len(again.cache) == 2
    assert again.cache.missing(np.array([], dtype="S16")).size == 0
    np.testing.assert_array_equal(again.embed(texts), first)
    assert again._model is None  # answered from the cache: the model was never loaded
    # a different prefix is a different text
    spec_e5 = settings.model("multilingual-e5-small")
    assert spec_e5.query_prefix == "query: "


def test_cache_matches_fresh_model_output(settings) -> None:
    enc = Encoder(settings, "all-MiniLM-L6-v2")
    cached = enc.embed(["install electrical wiring"])
    fresh = enc.embed(["install electrical wiring"], cache=False)
    np.testing.assert_allclose(cached, fresh, atol=1e-6)


def test_unknown_model_fails_clearly_without_network(settings) -> None:
    enc = Encoder(settings, "no-such-org/no-such-model")
    with pytest.raises(ModelUnavailable, match="no-such-model"):
        enc.embed(["anything"])


def test_model_path_from_a_local_folder(settings, tmp_path: Path) -> None:
    # a deployment names any sentence-transformers folder by path
    folder = Path(model_path(settings.model("all-MiniLM-L6-v2"), settings))
    enc = Encoder(settings, str(folder))
    assert enc.embed(["data analysis"]).shape == (1, 384)
