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


def test_precision_setting_resolves_and_rejects_unknown_values(settings) -> None:
    from dataclasses import replace

    from skillmatch.encoding import encoder_precision, native_bf16

    assert encoder_precision(replace(settings, encoder_precision="fp32")) == "fp32"
    assert encoder_precision(replace(settings, encoder_precision=" BF16 ")) == "bf16"
    auto = encoder_precision(replace(settings, encoder_precision="auto"))
    assert auto == ("bf16" if native_bf16() else "fp32")
    with pytest.raises(ValueError, match="auto, fp32, bf16"):
        encoder_precision(replace(settings, encoder_precision="int4"))


def test_bf16_vectors_match_fp32_and_are_cached_apart(settings) -> None:
    from dataclasses import replace

    texts = ["administer prescribed medication to patients", "use Microsoft Excel",
             "Je verzorgt wonden en overlegt met artsen."]
    fp32 = Encoder(replace(settings, encoder_precision="fp32"), "all-MiniLM-L6-v2")
    bf16 = Encoder(replace(settings, encoder_precision="bf16"), "all-MiniLM-L6-v2")
    assert fp32.fingerprint != bf16.fingerprint and fp32.cache.folder != bf16.cache.folder
    a, b = fp32.embed(texts), bf16.embed(texts)
    assert b.dtype == np.float32 and not np.array_equal(a, b)  # bf16 really ran
    assert (a * b).sum(axis=1).min() > 0.999
    # the token pass the mapping uses pools to the same sentence vector at bf16 as well
    pooled = np.stack([r[0] for r in bf16.encode_tokens(texts)])
    np.testing.assert_allclose(pooled, b, atol=2e-3)


@pytest.mark.parametrize("name", ["all-MiniLM-L6-v2", "multilingual-e5-small"])
def test_token_pass_is_independent_of_batch_and_keeps_spans(settings, name: str) -> None:
    # texts are batched by token count; whatever they are batched with, and in whatever order
    # they come, each gets the vector and the token spans it gets alone
    texts = ["Je verzorgt wonden.", "", "Excellent written and verbal communication skills, "
             "including the ability to explain clinical risk to patients and families.",
             "SQL", "Manage a caseload of patients in the community"]
    enc = Encoder(settings, name)
    batch = enc.encode_tokens(texts)
    assert enc.encode_tokens([]) == []
    for text, (vector, tokens, spans) in zip(texts, batch, strict=True):
        alone = enc.encode_tokens([text])[0]
        np.testing.assert_allclose(vector, alone[0], atol=1e-5)
        np.testing.assert_array_equal(spans, alone[2])
        assert tokens.shape == (len(spans), 384)
        real = spans[spans[:, 0] >= 0]
        assert all(text[s:e].strip() for s, e in real)  # every real token names its text
    np.testing.assert_allclose(np.stack([r[0] for r in batch]), enc.embed(texts), atol=1e-5)
