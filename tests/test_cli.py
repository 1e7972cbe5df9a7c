"""The `skillmatch` command, run as a user runs it (a real subprocess for the front door)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

from click.testing import CliRunner
from conftest import REPO, REPO_SETTINGS

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


def test_map_text_prints_skills_with_evidence(mini_settings) -> None:
    code, out = run(["map", "Experience with PostgreSQL and C#."], mini_settings)
    assert code == 0, out
    assert "PostgreSQL" in out and "“C#” in “Experience with PostgreSQL and C#.”" in out
    assert "Occupations:" in out


def test_map_batch_json_one_line_per_input(mini_settings, tmp_path) -> None:
    batch = tmp_path / "ads.txt"
    batch.write_text("Experience with PostgreSQL\n\nKnowledge of R for statistics\n",
                     encoding="utf-8")
    code, out = run(["map", "--batch", str(batch), "--top-k", "4", "--json"], mini_settings)
    assert code == 0, out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [d["line"] for d in lines] == [1, 2, 3]
    assert len(lines[0]["skills"]) == 4 and lines[1]["skills"] == []
    first = lines[0]["skills"][0]
    assert first["label"] == "PostgreSQL" and first["accepted"] is True
    assert {"uri", "label", "skill_type", "score", "evidence", "start", "end"} <= set(first)
    assert any(not s["accepted"] for s in lines[0]["skills"])  # top-k goes below threshold


def test_map_titles_batch(mini_settings, tmp_path) -> None:
    batch = tmp_path / "titles.txt"
    batch.write_text("verpleegkundige\nSenior Java Developer\n", encoding="utf-8")
    code, out = run(["map", "--titles", "--batch", str(batch), "--top-k", "2"], mini_settings)
    assert code == 0, out
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert rows[0]["occupations"][0]["preferred_label"] == "nurse responsible for general care"
    assert rows[1]["occupations"][0]["isco_code"] == "2512"


def test_map_batch_bad_encoding_is_named(mini_settings, tmp_path) -> None:
    batch = tmp_path / "latin1.txt"
    batch.write_bytes("Ervaring met lassen en café\n".encode("latin-1"))
    code, out = run(["map", "--batch", str(batch)], mini_settings)
    assert code == 1 and "latin1.txt: not UTF-8" in out


def test_train_acceptance_then_eval_on_tiny_sets(mini_settings, tmp_path) -> None:
    # the gold ad is read from the data root through the vacancies pipeline's own reader: a
    # data root of the mini taxonomy beside the real NHS feed
    data = tmp_path / "data"
    (data / "vacancies").mkdir(parents=True)
    (data / "esco").symlink_to(mini_settings.data_root / "esco")
    feed = "nhs_jobs_2020_schemaorg.jsonl.gz"
    (data / "vacancies" / feed).symlink_to(REPO_SETTINGS.data_root / "vacancies" / feed)
    settings = replace(mini_settings, data_root=data)
    bench = tmp_path / "bench" / "skill_extraction"
    bench.mkdir(parents=True)
    for name in ("house", "tech"):
        (bench / f"{name}_validation_annotations.csv").write_text(
            "sentence,span,sub_span,label\n"
            "Experience with PostgreSQL,PostgreSQL,,PostgreSQL\n"
            "Strong C# skills,C#,,C#\n"
            "You will write Java and R code,R,,R\n"
            "Great colleagues,colleagues,,UNDERSPECIFIED\n", encoding="utf-8")
        (bench / f"{name}_validation_nl.csv").write_text(
            "sentence_en,sentence_nl\nStrong C# skills,Sterke C#-vaardigheden\n",
            encoding="utf-8")
    gold = tmp_path / "gold"
    gold.mkdir()
    (gold / "ads.csv").write_text("source,record,title\nnhs,915390428,Salaried GP\n",
                                  encoding="utf-8")
    (gold / "ads_gold.csv").write_text(
        "source,record,item,uri,preferred_label,evidence\n"
        "nhs,915390428,1,http://data.europa.eu/esco/skill/nope,x,make decisions\n",
        encoding="utf-8")
    model = tmp_path / "acceptance.json"
    code, out = run(["train", "acceptance", "--bench-root", str(tmp_path / "bench"),
                     "--gold", str(gold), "--output", str(model)], settings)
    assert code == 0, out
    assert model.exists() and "threshold" in out
    code, out = run(["eval", "--only", "skills", "--bench-root", str(tmp_path / "bench"),
                     "--gold", str(gold), "--output", str(tmp_path / "results")],
                    settings)
    assert code == 0, out
    rows = json.loads((tmp_path / "results" / "eval.json").read_text())
    datasets = {r["dataset"] for r in rows}
    assert {"HOUSE validation", "HOUSE validation (nl)", "NHS ads"} <= datasets
    assert all({"value", "in_sample", "heuristic"} <= set(r) for r in rows)


def test_an_unexpected_failure_is_one_line_and_debug_shows_the_traceback(tmp_path) -> None:
    bad = tmp_path / "not_a_warehouse.duckdb"
    bad.write_bytes(b"this is not a DuckDB file" * 100)
    command = [sys.executable, "-m", "skillmatch.cli", "--warehouse", str(bad), "status"]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "status: IOException" in lines[0] and str(bad) in lines[0]
    assert "warehouse.py" in lines[0] and "--debug" in lines[0]
    debug = subprocess.run([*command[:3], "--debug", *command[3:]], capture_output=True,
                           text=True)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_a_project_error_is_its_own_line_without_a_type(tmp_path) -> None:
    done = subprocess.run([sys.executable, "-m", "skillmatch.cli", "--warehouse",
                           str(tmp_path / "none.duckdb"), "map", "nurse"],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"Error: python -m skillmatch.cli map: no warehouse at {tmp_path / 'none.duckdb'}: "
        "run `skillmatch taxonomy load` (or `skillmatch build`)"]
