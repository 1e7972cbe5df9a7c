"""The `skillmatch` command, run as a user runs it (a real subprocess for the front door)."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner
from conftest import REPO

from skillmatch.cli import main


def run(args: list[str], settings) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["--config", str(REPO / "skillmatch.toml"), "--warehouse",
               str(settings.warehouse), "--data-root", str(settings.data_root), *args],
        env={"SKILLMATCH_CACHE_DIR": str(settings.cache_dir),
             "SKILLMATCH_SEARCH_MODEL": "all-MiniLM-L6-v2"},
    )
    return result.exit_code, result.output


def test_info_prints_version_and_counts(mini_settings) -> None:
    code, out = run(["taxonomy", "info"], mini_settings)
    assert code == 0, out
    assert "ESCO v1.1.1" in out and "esco_occupation" in out
    code, out = run(["taxonomy", "info", "--json"], mini_settings)
    data = json.loads(out)
    assert data["counts"]["esco_occupation"] == 5 and data["version"] == "1.1.1"


def test_search_prints_scored_results(mini_settings) -> None:
    code, out = run(["taxonomy", "search", "verpleegkundige", "--top", "3"], mini_settings)
    assert code == 0, out
    assert "nurse responsible for general care" in out.splitlines()[0]
    code, out = run(["taxonomy", "search", "C#", "--json", "--type", "skill"], mini_settings)
    first = json.loads(out.splitlines()[0])
    assert first["preferred_label"] == "C#" and 0 < first["score"] <= 1


def test_missing_warehouse_says_what_to_run(tmp_path) -> None:
    result = CliRunner().invoke(main, ["--warehouse", str(tmp_path / "none.duckdb"),
                                       "taxonomy", "info"])
    assert result.exit_code == 1
    assert "skillmatch taxonomy load" in result.output
    assert "Traceback" not in result.output


def test_bad_export_is_one_clear_line(tmp_path) -> None:
    result = CliRunner().invoke(main, ["--warehouse", str(tmp_path / "w.duckdb"),
                                       "taxonomy", "load", "--export", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "ESCO export not found" in result.output and str(tmp_path / "none") in result.output


def test_console_script_front_door() -> None:
    out = subprocess.run([sys.executable, "-m", "skillmatch.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for command in ("taxonomy", "models", "build", "app"):
        assert command in out
