"""The pipelines end to end on small real inputs: run records, rejects, idempotence, updates
in place, a killed run, bad files, and `skillmatch status` - with the real models and DuckDB."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from conftest import (
    LONG_AD,
    REPO,
    REPO_SETTINGS,
    SHARED,
    VDAB_ROWS,
    make_project,
    nhs_lines,
    write_nhs,
)

from skillmatch.cli import main
from skillmatch.settings import Settings

TABLES = ("vacancy", "vacancy_skill", "vacancy_occupation", "vacancy_duplicate", "reject")


@pytest.fixture
def project(tmp_path: Path, mini_settings: Settings) -> Settings:
    return make_project(tmp_path, mini_settings)


def env(settings: Settings) -> dict[str, str]:
    return {"SKILLMATCH_CONFIG": str(REPO / "skillmatch.toml"),
            "SKILLMATCH_DATA_ROOT": str(settings.data_root),
            "SKILLMATCH_WAREHOUSE": str(settings.warehouse),
            "SKILLMATCH_CACHE_DIR": str(settings.cache_dir),
            "SKILLMATCH_PIPELINES_DIR": str(settings.pipelines_dir),
            "SKILLMATCH_SEARCH_MODEL": "all-MiniLM-L6-v2"}


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env(settings))
    return result.exit_code, result.output


def snapshot(settings: Settings, tables=TABLES) -> dict[str, str]:
    """A content hash per table (order-independent), to compare warehouse states."""
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        out = {}
        for table in tables:
            exists = con.execute("SELECT count(*) FROM information_schema.tables "
                                 "WHERE table_name = ?", [table]).fetchone()[0]
            rows = sorted(map(repr, con.execute(f"SELECT * FROM {table}").fetchall())) \
                if exists else []
            out[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        return out
    finally:
        con.close()


def query(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_vacancy_pipeline_stores_mapped_ads_with_a_balanced_run_record(project) -> None:
    code, out = cli(project, "pipeline", "run", "vacancies", "--source", "nhs", "--source", "vdab")
    assert code == 0, out
    runs = query(project, "SELECT source, rows_read, rows_stored, rows_duplicate, rows_rejected,"
                          " input_hash FROM run WHERE pipeline = 'vacancies' ORDER BY source")
    by_source = {r[0]: r for r in runs}
    nhs = by_source["nhs"]
    assert nhs[1:5] == (13, 12, 1, 0)  # the re-post is folded into the original
    vdab = by_source["vdab"]
    assert vdab[1] == VDAB_ROWS and vdab[1] == vdab[2] + vdab[3] + vdab[4] and vdab[4] >= 1
    original = json.loads(nhs_lines(LONG_AD + 1)[LONG_AD])["_fileid"]
    assert query(project, "SELECT duplicate_count FROM vacancy WHERE vacancy_id = ?",
                 [f"nhs:{original}"]) == [(1,)]
    # every UK ad with coordinates lands in a NUTS 3 region; the sector is given (Q)
    located = query(project, "SELECT count(*), count(nuts3), count_if(sector_code = 'Q') "
                             "FROM vacancy WHERE source = 'nhs'")[0]
    assert located[0] == 12 and located[1] >= 11 and located[2] == 12
    # skills carry evidence whose span points into the ad's own text (not its title)
    rows = query(project, "SELECT v.description, s.evidence, s.phrase, s.span_start, "
                          "s.span_end, s.skill_uri, s.skill_label FROM vacancy_skill s "
                          "JOIN vacancy v USING (vacancy_id)")
    assert rows, "no skills extracted"
    for text, evidence, phrase, start, end, uri, label in rows:
        assert text[start:end] == phrase and phrase in evidence and evidence in text
        assert uri.startswith("http://data.europa.eu/esco/skill/")
        assert label
    occupations = query(project, "SELECT count(DISTINCT vacancy_id), min(rank) FROM "
                                 "vacancy_occupation WHERE source = 'vdab'")[0]
    assert occupations[0] > 0 and occupations[1] == 1
    rejects = query(project, "SELECT source, record, reason FROM reject WHERE source LIKE "
                             "'%vdab.csv'")
    assert len(rejects) == vdab[4] and all(r[1].startswith("row ") for r in rejects)


def test_rerun_changes_nothing_and_a_changed_file_updates_in_place(project) -> None:
    assert cli(project, "pipeline", "run", "vacancies", "--source", "nhs")[0] == 0
    before = snapshot(project, (*TABLES, "run"))
    code, out = cli(project, "pipeline", "run", "vacancies", "--source", "nhs")
    assert code == 0 and "unchanged" in out
    assert snapshot(project, (*TABLES, "run")) == before

    path = project.data_root / "vacancies" / "nhs.jsonl.gz"
    lines = nhs_lines(12)[:8]
    changed = json.loads(lines[0])
    changed["title"] = "Renamed Post Of Welder"
    write_nhs(path, [json.dumps(changed), *lines[1:]])
    code, out = cli(project, "pipeline", "run", "vacancies", "--source", "nhs")
    assert code == 0, out
    assert query(project, "SELECT count(*) FROM vacancy WHERE source = 'nhs'") == [(8,)]
    assert query(project, "SELECT title FROM vacancy WHERE vacancy_id = ?",
                 [f"nhs:{changed['_fileid']}"]) == [("Renamed Post Of Welder",)]
    assert query(project, "SELECT count(*) FROM vacancy_duplicate WHERE source = 'nhs'") == [(0,)]
    assert query(project, "SELECT count(*) FROM run WHERE pipeline = 'vacancies'") == [(2,)]


def test_a_killed_run_leaves_the_warehouse_as_it_was(project) -> None:
    assert cli(project, "pipeline", "run", "vacancies", "--source", "nhs")[0] == 0
    before = snapshot(project, (*TABLES, "run"))
    version = query(project, "SELECT max(version) FROM publication")[0][0]
    cmd = [sys.executable, "-m", "skillmatch.cli", "pipeline", "run", "vacancies", "--source",
           "nhs", "--force"]
    killed_mid_run = 0
    for delay in (2.0, 6.0, 10.0):
        proc = subprocess.Popen(cmd, env={**os.environ, **env(project)},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed_mid_run += 1
        proc.wait()
        now = query(project, "SELECT max(version) FROM publication")[0][0]
        if now == version:  # killed before it published: nothing of it is visible
            assert snapshot(project, (*TABLES, "run")) == before, f"state changed at {delay}s"
        else:  # it had published (then died on its way out): all of the run, not a part
            assert now == version + 1
            assert query(project, "SELECT status, rows_read = rows_stored + rows_duplicate + "
                                  "rows_rejected FROM run WHERE source = 'nhs' ORDER BY "
                                  "started_at DESC LIMIT 1") == [("ok", True)]
            before, version = snapshot(project, (*TABLES, "run")), now
    assert killed_mid_run >= 2


def test_bad_records_are_rejected_by_name_and_good_ones_survive(project) -> None:
    path = project.data_root / "vacancies" / "nhs.jsonl.gz"
    good = nhs_lines(3)
    huge = json.loads(good[2])
    huge["_fileid"] = "huge"
    huge["description"] = "<p>Care for patients.</p><script>alert('x')</script>" + \
        "Provide wound care. " * 260_000  # ~5 MB
    write_nhs(path, [good[0], good[1][:200], json.dumps(huge), "[1, 2]", good[2]])
    code, out = cli(project, "pipeline", "run", "vacancies", "--source", "nhs")
    assert code == 0, out
    run = query(project, "SELECT run_id, rows_read, rows_stored, rows_rejected FROM run "
                         "WHERE source = 'nhs'")[0]
    assert run[1:] == (5, 3, 2)
    reasons = dict(query(project, "SELECT record, reason FROM reject WHERE run_id = ?",
                         [run[0]]))
    assert set(reasons) == {"line 2", "line 4"}
    text = query(project, "SELECT description, problems FROM vacancy WHERE vacancy_id = "
                          "'nhs:huge'")[0]
    assert "alert" not in text[0] and "<p>" not in text[0] and text[1]


def test_an_unreadable_file_fails_cleanly_without_writing(project) -> None:
    cli(project, "pipeline", "run", "vacancies", "--source", "vdab")
    before = snapshot(project, (*TABLES, "run"))
    (project.data_root / "vacancies" / "vdab.csv").write_text("", encoding="utf-8")
    code, out = cli(project, "pipeline", "run", "vacancies", "--source", "vdab")
    assert code == 1 and "vdab.csv" in out and "Traceback" not in out
    assert snapshot(project, (*TABLES, "run")) == before


def test_credentials_candidates_shortage_regions_and_status(project) -> None:
    for name in ("regions", "shortage", "credentials", "candidates"):
        code, out = cli(project, "pipeline", "run", name)
        assert code == 0, out
    os.symlink(SHARED / "courses", project.data_root / "courses")
    code, out = cli(project, "pipeline", "run", "courses", "--limit", "15")
    assert code == 0, out
    assert query(project, "SELECT count(DISTINCT source), count(*) FROM course") == [(2, 30)]
    assert query(project, "SELECT count(DISTINCT course_id) FROM course_skill")[0][0] >= 15
    count = dict(query(project, "SELECT source, count(*) FROM credential GROUP BY 1"))
    assert count["demo_catalogue"] >= 60
    flagged = query(project, "SELECT count(DISTINCT credential_id) FROM credential_quality "
                             "WHERE source = 'demo_catalogue' AND severity = 'error'")[0][0]
    assert flagged == query(project, "SELECT count_if(NOT quality_ok) FROM credential "
                                     "WHERE source = 'demo_catalogue'")[0][0] > 0
    assert query(project, "SELECT count(*), bool_and(synthetic) FROM candidate") == [(300, True)]
    assert query(project, "SELECT count(*) FROM candidate_credential c LEFT JOIN credential k "
                          "USING (credential_id) WHERE k.credential_id IS NULL") == [(0,)]
    regions = dict(query(project, "SELECT level, count(*) FROM region GROUP BY 1"))
    assert regions["labour_market_region"] == 35
    assert query(project, "SELECT count(*) FROM shortage_sector WHERE quarter = '2023Q2' "
                          "AND sector_code = 'Q'") == [(1,)]
    code, out = cli(project, "status", "--json")
    assert code == 0, out
    report = json.loads(out)
    sources = {(r["pipeline"], r["source"]) for r in report["sources"]}
    assert {("credentials", "demo_catalogue"), ("candidates", "synthetic"),
            ("shortage", "cbs_sector"), ("regions", "geo")} <= sources
    assert report["tables"]["candidate"] == 300
    assert any(r["reason"].startswith("annual figure") for r in report["rejects"])
    code, out = cli(project, "status")
    assert code == 0 and "latest run per source" in out


def use_credential_file(settings: Settings, name: str, fmt: str, path: Path) -> None:
    """Point the project's credentials pipeline at this one file."""
    config = settings.pipelines_dir / "pipelines.toml"
    text = config.read_text(encoding="utf-8")
    start = text.index("files = [", text.index("[credentials]"))
    end = text.index("\n]\n", start) + 3
    config.write_text(text[:start] + f'files = [{{ name = "{name}", format = "{fmt}", '
                      f'path = "{path}" }}]\n' + text[end:], encoding="utf-8")


def test_credentials_whose_outcomes_map_to_no_skill_keep_their_declared_skills(
        project, tmp_path) -> None:
    """The only learning outcome is a heading (skipped by the mapping engine), so no outcome
    gets a skill: the credential and its issuer-declared ESCO skill are still stored."""
    declared = query(project, "SELECT uri FROM esco_skill ORDER BY uri LIMIT 1")[0][0]
    template = REPO / "data" / "catalogue" / "credential_template.csv"
    header = template.read_text(encoding="utf-8").splitlines()[0]
    row = (f"nomap-1,Zorgmodule,ROC Test,mbo,Een korte module.,Learning outcomes:,{declared},"
           "3,4,84,nl,praktijkbeoordeling,Q,care,10,,,true,{}")
    catalogue = tmp_path / "nomap.csv"
    catalogue.write_text(f"{header}\n{row}\n", encoding="utf-8")
    use_credential_file(project, "nomap", "csv", catalogue)
    code, out = cli(project, "pipeline", "run", "credentials")
    assert code == 0, out
    assert query(project, "SELECT credential_id FROM credential") == [("nomap-1",)]
    assert query(project, "SELECT count(*) FROM credential_outcome") == [(1,)]
    assert query(project, "SELECT credential_id, skill_uri, found_by, outcome_no "
                          "FROM credential_skill") == [("nomap-1", declared, "declared", 0)]


def test_identifying_candidate_files_are_refused(project, tmp_path) -> None:
    bad = tmp_path / "people.csv"
    bad.write_text("candidate_id,name,email,region\nc1,Ann,ann@example.org,NL329\n",
                   encoding="utf-8")
    config = project.pipelines_dir / "pipelines.toml"
    text = config.read_text(encoding="utf-8").replace("files = []", f'files = ["{bad}"]')
    config.write_text(text.replace("generate = 300", "generate = 0"), encoding="utf-8")
    code, out = cli(project, "pipeline", "run", "candidates")
    assert code == 1 and "people.csv" in out and "email" in out


def test_build_runs_the_pipelines_in_order_and_skips_unchanged_inputs(project) -> None:
    code, out = cli(project, "build", "--skip-index", "--only", "regions", "--only", "shortage")
    assert code == 0, out
    assert out.index("regions/geo: read") < out.index("shortage/cbs_sector: read")
    code, out = cli(project, "build", "--skip-index", "--only", "regions", "--only", "shortage")
    assert code == 0 and out.count("unchanged since its last run") == 4
    code, out = cli(project, "pipeline", "list")
    assert code == 0 and out.split()[0] == "regions" and "candidates" in out


def test_a_new_mapping_engine_re_maps_unchanged_inputs(tmp_path) -> None:
    """`skillmatch build` re-maps when the engine could map differently: its version, its
    models' files, its acceptance model or a glossary changed (the input hash includes them)."""
    import shutil
    from dataclasses import replace

    from skillmatch.pipeline import engine_fingerprint

    shutil.copy(REPO / "taxonomy" / "esco.toml", tmp_path / "esco.toml")
    shutil.copy(REPO / "taxonomy" / "acceptance.json", tmp_path / "acceptance.json")
    shutil.copy(REPO / "taxonomy" / "skills_nl_unofficial.csv", tmp_path)
    shutil.copy(REPO / "taxonomy" / "glossary_nl_en.tsv", tmp_path)
    settings = replace(REPO_SETTINGS,
                       taxonomy_config=tmp_path / "esco.toml")
    before = engine_fingerprint(settings)
    assert before == engine_fingerprint(settings)
    # bf16 encoders give (slightly) other vectors: their mappings are another engine's
    assert engine_fingerprint(replace(settings, encoder_precision="bf16")) != before
    assert engine_fingerprint(replace(settings, encoder_precision="fp32")) == before
    (tmp_path / "acceptance.json").write_text("{}", encoding="utf-8")
    changed = engine_fingerprint(settings)
    assert changed != before
    with (tmp_path / "glossary_nl_en.tsv").open("a", encoding="utf-8") as fh:
        fh.write("zzwoord\tzz word\n")
    assert engine_fingerprint(settings) != changed
