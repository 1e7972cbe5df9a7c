"""Fine-tuning an encoder on ESCO pairs: reproducible pairs, a loadable model folder."""

from __future__ import annotations

from pathlib import Path

from skillmatch.encoding import model_path
from skillmatch.mapping.finetune import Recipe, esco_tables, finetune, training_pairs


def test_pairs_are_reproducible_and_come_from_esco(mini_settings) -> None:
    recipe = Recipe(skill_alt=30, skill_description=10, occupation_alt=5)
    first = training_pairs(esco_tables(mini_settings), recipe)
    again = training_pairs(esco_tables(mini_settings), recipe)
    assert first == again and 30 <= len(first) <= 45
    other = training_pairs(esco_tables(mini_settings), Recipe(skill_alt=30, skill_description=10,
                                                              occupation_alt=5, seed=1))
    assert other != first
    assert all(a and p and a.lower() != p.lower() for a, p in first)


def test_a_tiny_fine_tune_gives_a_model_that_loads(mini_settings, tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    recipe = Recipe(skill_alt=16, skill_description=8, occupation_alt=8, batch_size=16)
    pairs = training_pairs(esco_tables(mini_settings), recipe)
    base = model_path(mini_settings.model("all-MiniLM-L6-v2"), mini_settings)
    out = tmp_path / "tiny-model"
    result = finetune(base, pairs, out, recipe, progress=lambda _: None)
    assert result["pairs"] == len(pairs)
    assert (out / "modules.json").exists() and not (tmp_path / "tiny-model.training").exists()
    vectors = SentenceTransformer(str(out), device="cpu").encode(["weld metal", "welding"])
    assert vectors.shape == (2, 384)
