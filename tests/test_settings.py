"""Settings: file, environment and overrides, in that order; paths relative to the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillmatch.settings import SettingsError, load_settings


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_file_values_and_relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SKILLMATCH_WAREHOUSE", raising=False)
    cfg = write(tmp_path / "skillmatch.toml", """
[paths]
data_root = "input"
warehouse = "out/w.duckdb"
[search]
search_top_k = 7
semantic_weight = 0.5
[models.my-model]
source = "/models/jobbert"
query_prefix = "q: "
""")
    s = load_settings(cfg)
    assert s.data_root == tmp_path / "input"
    assert s.warehouse == tmp_path / "out" / "w.duckdb"
    assert s.search_top_k == 7 and s.semantic_weight == 0.5
    assert s.model("my-model").source == "/models/jobbert"
    assert s.model("my-model").query_prefix == "q: "
    # defaults for models still there; unknown names are sentence-transformers names or paths
    assert s.model("all-MiniLM-L6-v2").source.startswith("package:")
    assert s.model("sentence-transformers/other").source == "sentence-transformers/other"


def test_environment_beats_file_and_overrides_beat_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write(tmp_path / "skillmatch.toml", '[search]\nsearch_top_k = 7\n')
    monkeypatch.setenv("SKILLMATCH_SEARCH_TOP_K", "3")
    monkeypatch.setenv("SKILLMATCH_WAREHOUSE", "/abs/w.duckdb")
    s = load_settings(cfg)
    assert s.search_top_k == 3 and s.warehouse == Path("/abs/w.duckdb")
    assert load_settings(cfg, search_top_k=12).search_top_k == 12


def test_config_found_from_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write(tmp_path / "other.toml", '[embedding]\nsearch_model = "all-MiniLM-L6-v2"\n')
    monkeypatch.setenv("SKILLMATCH_CONFIG", str(cfg))
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.config_file == cfg and s.search_model == "all-MiniLM-L6-v2"
    monkeypatch.setenv("SKILLMATCH_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(SettingsError, match=r"missing\.toml"):
        load_settings()


@pytest.mark.parametrize(
    "text, message",
    [
        ("[paths]\nwarehose = 'x'\n", "unknown setting 'warehose'"),
        ("[search]\nsearch_top_k = 'many'\n", "search_top_k"),
        ("[paths\n", "cannot read settings"),
        ("[models.x]\nsorce = 'y'\n", "unknown keys"),
        ("[embedding]\nencoder_precision = 'int4'\n", "encoder_precision.*auto, fp32, bf16"),
        ("[engine]\nengine = 'spark'\n", "engine.*in-process, dask"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(write(tmp_path / "skillmatch.toml", text))


def test_word_choices_are_checked_at_load_and_normalised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write(tmp_path / "skillmatch.toml", "[embedding]\nencoder_precision = ' BF16 '\n")
    assert load_settings(cfg).encoder_precision == "bf16"
    monkeypatch.setenv("SKILLMATCH_ENCODER_PRECISION", "half")
    with pytest.raises(SettingsError, match="'half'"):
        load_settings(cfg)
