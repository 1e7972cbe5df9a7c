"""Fine-tuning an encoder on pairs ESCO itself provides, reproducibly on CPU.

A model whose settings say `source = "trained"` is built by `skillmatch train encoder` (setup
runs it) from its `base` model: MultipleNegativesRankingLoss over (text, ESCO preferred label)
pairs — an alternative label or the description of a skill, an alternative label of an
occupation — with a fixed seed, so the same command on the same data gives the same model.
Nothing is downloaded and no weights are committed.
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from skillmatch.settings import Settings


@dataclass(frozen=True)
class Recipe:
    """How many pairs of each kind, and the optimiser's few knobs."""

    skill_alt: int = 7000
    skill_description: int = 2500
    occupation_alt: int = 2500
    batch_size: int = 32
    epochs: int = 1
    learning_rate: float = 5e-5
    seed: int = 13


def esco_tables(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The ESCO export read straight from the data root (no warehouse needed at setup), as
    an in-memory DuckDB with the warehouse's table names."""
    from skillmatch.taxonomy import build_tables, load_config

    tables, _ = build_tables(load_config(settings))
    con = duckdb.connect()
    for name, frame in tables.items():
        con.register(name, frame)
    return con


def training_pairs(con: duckdb.DuckDBPyConnection, recipe: Recipe) -> list[tuple[str, str]]:
    """(text, preferred label) pairs, sampled with the recipe's seed."""
    rng = random.Random(recipe.seed)

    def sample(rows: list[tuple[str, str]], n: int) -> list[tuple[str, str]]:
        rows = sorted(set(rows))
        rng.shuffle(rows)
        return rows[:n]

    alt = con.execute(
        """SELECT l.label, trim(s.preferred_label) FROM esco_label l
           JOIN esco_skill s USING (uri)
           WHERE l.kind = 'alt' AND l.language = 'en'""").fetchall()
    desc = con.execute(
        """SELECT split_part(description, '. ', 1), trim(preferred_label) FROM esco_skill
           WHERE length(description) > 20""").fetchall()
    occ = con.execute(
        """SELECT l.label, trim(o.preferred_label) FROM esco_label l
           JOIN esco_occupation o USING (uri)
           WHERE l.kind = 'alt' AND l.language = 'en'""").fetchall()
    pairs = (sample([(a, p) for a, p in alt if a.lower() != p.lower()], recipe.skill_alt)
             + sample(desc, recipe.skill_description)
             + sample([(a, p) for a, p in occ if a.lower() != p.lower()],
                      recipe.occupation_alt))
    rng.shuffle(pairs)
    return pairs


def finetune(base: str | Path, pairs: list[tuple[str, str]], output: Path, recipe: Recipe,
             progress: Callable[[str], None] = print) -> dict:
    """Train `base` on `pairs` and save a sentence-transformers folder at `output`
    (written beside it first and renamed, so a killed run leaves no half model)."""
    import torch
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.losses import MultipleNegativesRankingLoss
    from sentence_transformers.training_args import BatchSamplers
    from transformers import set_seed

    set_seed(recipe.seed)
    torch.manual_seed(recipe.seed)
    started = time.perf_counter()
    model = SentenceTransformer(str(base), device="cpu")
    data = Dataset.from_dict({"anchor": [a for a, _ in pairs],
                              "positive": [p for _, p in pairs]})
    work = output.with_name(output.name + ".training")
    args = SentenceTransformerTrainingArguments(
        output_dir=str(work / "checkpoints"), num_train_epochs=recipe.epochs,
        per_device_train_batch_size=recipe.batch_size, learning_rate=recipe.learning_rate,
        warmup_ratio=0.1, seed=recipe.seed, data_seed=recipe.seed,
        batch_sampler=BatchSamplers.NO_DUPLICATES, save_strategy="no", report_to=[],
        logging_steps=50, use_cpu=True, dataloader_num_workers=0,
        disable_tqdm=False,
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data,
                                         loss=MultipleNegativesRankingLoss(model))
    trainer.train()
    model.save(str(work / "model"))
    if output.exists():
        shutil.rmtree(output)
    (work / "model").rename(output)
    shutil.rmtree(work, ignore_errors=True)
    seconds = time.perf_counter() - started
    progress(f"trained on {len(pairs):,} pairs in {seconds:.0f} s -> {output}")
    return {"pairs": len(pairs), "seconds": round(seconds, 1)}
