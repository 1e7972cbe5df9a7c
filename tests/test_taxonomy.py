"""Loading ESCO: the real export's numbers, idempotence, atomicity and clear errors."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest
from conftest import (
    EN_FOLDER,
    ORPHAN_OCCUPATION,
    REAL_EXPORT,
    SHARED_FOLDER,
    make_settings,
    needs_shared,
)

from skillmatch import taxonomy, warehouse

ESCO_TABLES = [
    "esco_skill", "esco_occupation", "esco_isco_group", "esco_skill_group",
    "esco_skill_hierarchy", "esco_skill_broader", "esco_occupation_broader",
    "esco_occupation_skill", "esco_skill_skill", "esco_collection_member", "esco_label",
    "esco_issue",
]


def snapshot(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
                for t in ESCO_TABLES}
    finally:
        con.close()


@pytest.fixture(scope="module")
def real_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not REAL_EXPORT.exists():
        pytest.skip("real ESCO export not available")
    root = tmp_path_factory.mktemp("real")
    settings = make_settings(root, REAL_EXPORT.parents[1])
    meta = taxonomy.load(settings)
    assert meta["version"] == "1.1.1" and meta["version_source"] == "file names"
    return settings.warehouse


@needs_shared
def test_real_export_counts(real_warehouse: Path) -> None:
    con = duckdb.connect(str(real_warehouse), read_only=True)
    info = taxonomy.info(con)
    counts = info["counts"]
    assert counts["esco_skill"] == 13_896
    assert counts["esco_occupation"] == 3_007
    assert counts["esco_isco_group"] == 619
    assert counts["esco_skill_group"] == 640
    assert counts["esco_occupation_skill"] == 123_855
    assert info["essential_relations"] == 64_946
    assert info["optional_relations"] == 58_909
    assert info["version"] == "1.1.1"
    collections = dict(con.execute(
        "SELECT collection, count(*) FROM esco_collection_member GROUP BY 1").fetchall())
    assert collections["green"] == 570 and collections["digital"] == 1_201
    assert collections["transversal"] == 96 and collections["language"] == 346


@needs_shared
def test_every_relation_resolves_or_is_reported(real_warehouse: Path) -> None:
    con = duckdb.connect(str(real_warehouse), read_only=True)
    unresolved_occ = con.execute("""
        SELECT count(*) FROM esco_occupation_skill r
        WHERE r.occupation_uri NOT IN (SELECT uri FROM esco_occupation)""").fetchone()[0]
    unresolved_skill = con.execute("""
        SELECT count(*) FROM esco_occupation_skill r
        WHERE r.skill_uri NOT IN (SELECT uri FROM esco_skill)""").fetchone()[0]
    reported = con.execute(
        "SELECT count(*), count(DISTINCT uri) FROM esco_issue "
        "WHERE problem LIKE 'occupation URI not in occupations_en.csv'").fetchone()
    assert unresolved_occ == 67 and reported[0] == 67
    assert unresolved_skill == 0
    # and each report names the file and the record
    row = con.execute("SELECT file, record FROM esco_issue LIMIT 1").fetchone()
    assert "occupationSkillRelations.csv" in row[0] and row[1].startswith("record ")


@needs_shared
def test_labels_one_row_per_label_with_dutch(real_warehouse: Path) -> None:
    con = duckdb.connect(str(real_warehouse), read_only=True)
    # skills_en.csv: 13,896 preferred + 97,483 alternative labels (multi-line cells split)
    by_kind = dict(con.execute("""SELECT kind, count(*) FROM esco_label
        WHERE concept_type = 'skill' AND language = 'en' GROUP BY 1""").fetchall())
    assert by_kind["preferred"] == 13_896
    assert by_kind["alt"] > 90_000
    assert con.execute("SELECT count(*) FROM esco_label WHERE label LIKE '%\n%'").fetchone()[0] == 0
    nl = con.execute("""SELECT label FROM esco_label WHERE language = 'nl' AND kind = 'preferred'
        AND uri = 'http://data.europa.eu/esco/occupation/8d3e8aaa-791b-4c75-a465-f3f827028f50'
        """).fetchall()
    assert nl and "verpleegkundige" in nl[0][0]
    nl_isco = con.execute("""SELECT count(*) FROM esco_label
        WHERE language = 'nl' AND concept_type = 'isco_group' AND kind = 'preferred'""").fetchone()
    assert nl_isco[0] == 619


@needs_shared
def test_zip_and_extracted_folder_give_the_same_tables(
    real_warehouse: Path, mini_data_root: Path, tmp_path: Path
) -> None:
    # the mini export is extracted folders; zip the same folders and load both
    zipped_root = tmp_path / "data"
    shutil.copytree(mini_data_root, zipped_root)
    export = zipped_root / "esco" / "v1.1.1"
    for folder in (EN_FOLDER, SHARED_FOLDER):
        with zipfile.ZipFile(export / f"{folder}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            for f in sorted((export / folder).iterdir()):
                archive.write(f, f.name)
        shutil.rmtree(export / folder)
    a = make_settings(tmp_path / "a", mini_data_root)
    b = make_settings(tmp_path / "b", zipped_root)
    taxonomy.load(a)
    taxonomy.load(b)
    sa, sb = snapshot(a.warehouse), snapshot(b.warehouse)
    sa.pop("esco_issue"), sb.pop("esco_issue")  # file names differ by design
    assert sa == sb


def test_load_twice_is_identical(mini_data_root: Path, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, mini_data_root)
    taxonomy.load(settings)
    first = snapshot(settings.warehouse)
    taxonomy.load(settings)
    assert snapshot(settings.warehouse) == first
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    runs = con.execute("SELECT pipeline, status, rows_read, rows_stored FROM run").fetchall()
    assert len(runs) == 2 and all(r[0] == "taxonomy" and r[2] == r[3] > 0 for r in runs)


def test_mini_export_reports_orphan_relations(mini_settings) -> None:
    con = duckdb.connect(str(mini_settings.warehouse), read_only=True)
    issues = con.execute("SELECT DISTINCT uri FROM esco_issue").fetchall()
    assert issues == [(ORPHAN_OCCUPATION,)]


def _corrupt_copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst / "esco" / "v1.1.1"


@pytest.mark.parametrize(
    "damage, expected",
    [
        ("truncate_relations", "occupationSkillRelations.csv"),
        ("missing_file", "skillSkillRelations.csv"),
        ("wrong_columns", "missing columns"),
        ("not_utf8", "not UTF-8"),
        ("empty_file", "empty file"),
    ],
)
def test_bad_export_fails_clearly_and_keeps_previous_warehouse(
    mini_data_root: Path, tmp_path: Path, damage: str, expected: str
) -> None:
    settings = make_settings(tmp_path, mini_data_root)
    taxonomy.load(settings)
    before = snapshot(settings.warehouse)

    bad_root = tmp_path / "bad"
    export = _corrupt_copy(mini_data_root, bad_root)
    shared = export / SHARED_FOLDER
    if damage == "truncate_relations":
        path = shared / "occupationSkillRelations.csv"
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])  # cut in the middle of a row
    elif damage == "missing_file":
        (shared / "skillSkillRelations.csv").unlink()
    elif damage == "wrong_columns":
        path = export / EN_FOLDER / "skills_en.csv"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("preferredLabel", "prefLabel", 1), encoding="utf-8")
    elif damage == "not_utf8":
        path = export / EN_FOLDER / "occupations_en.csv"
        path.write_bytes(path.read_bytes().replace(b"welder", "wélder".encode("latin-1"), 1))
    elif damage == "empty_file":
        (shared / "broaderRelationsOccPillar.csv").write_bytes(b"")

    bad = make_settings(tmp_path, bad_root)
    assert bad.warehouse == settings.warehouse
    with pytest.raises(taxonomy.EscoExportError, match=expected):
        taxonomy.load(bad)
    assert snapshot(settings.warehouse) == before


def test_failure_while_writing_rolls_back(mini_data_root: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash half-way through the write transaction leaves the previous taxonomy."""
    settings = make_settings(tmp_path, mini_data_root)
    taxonomy.load(settings)
    before = snapshot(settings.warehouse)
    real_replace = warehouse.replace_table
    written: list[str] = []

    def failing_replace(con, name, frame):
        if len(written) == 5:
            raise OSError("disk full (simulated half-way through the load)")
        written.append(name)
        real_replace(con, name, frame.iloc[: len(frame) // 2])

    monkeypatch.setattr(warehouse, "replace_table", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        taxonomy.load(settings)
    monkeypatch.undo()
    assert snapshot(settings.warehouse) == before


def test_truncated_zip_is_named(tmp_path: Path) -> None:
    if not REAL_EXPORT.exists():
        pytest.skip("real ESCO export not available")
    export = tmp_path / "esco"
    export.mkdir()
    for z in REAL_EXPORT.glob("*.zip"):
        data = z.read_bytes()
        (export / z.name).write_bytes(data[: len(data) - 4096] if "- en -" in z.name else data)
    settings = make_settings(tmp_path, tmp_path)
    with pytest.raises(taxonomy.EscoExportError, match=r"- en - csv\.zip"):
        taxonomy.load(settings, export=export)


def test_absent_export_and_wrong_version(tmp_path: Path, mini_data_root: Path) -> None:
    settings = make_settings(tmp_path, tmp_path / "nowhere")
    with pytest.raises(taxonomy.EscoExportError, match="not found"):
        taxonomy.load(settings)
    other = tmp_path / "v"
    shutil.copytree(mini_data_root / "esco" / "v1.1.1", other / "esco" / "v1.2.0")
    for folder in list((other / "esco" / "v1.2.0").iterdir()):
        folder.rename(folder.with_name(folder.name.replace("v1.1.1", "v1.2.0")))
    with pytest.raises(taxonomy.EscoExportError, match=r"v1\.2\.0 but taxonomy/esco\.toml expects"):
        taxonomy.load(settings, export=other / "esco" / "v1.2.0")


def test_occupation_and_skill_lookups(mini_settings) -> None:
    con = duckdb.connect(str(mini_settings.warehouse), read_only=True)
    nurse = con.execute(
        "SELECT uri FROM esco_occupation WHERE preferred_label = "
        "'nurse responsible for general care'").fetchone()[0]
    detail = taxonomy.occupation_detail(con, nurse)
    assert detail["isco_group"]["code"] == "2221"
    assert detail["isco_group"]["label_nl"]  # Dutch ISCO label
    assert len(detail["essential"]) > 20 and detail["optional"].empty  # mini: essential only
    assert set(detail["labels"]["language"]) == {"en", "nl"}

    skill_uri = detail["essential"]["uri"].iloc[0]
    skill = taxonomy.skill_detail(con, skill_uri)
    assert nurse in set(skill["occupations"]["uri"])
    assert len(skill["broader"]) >= 1  # at least one skill group above it
    assert taxonomy.skill_detail(con, "http://example.org/none") is None
    assert taxonomy.occupation_detail(con, skill_uri) is None


@needs_shared
def test_stray_whitespace_tidied_and_original_kept(real_warehouse: Path) -> None:
    con = duckdb.connect(str(real_warehouse), read_only=True)
    untidy = con.execute("""SELECT count(*) FROM esco_skill
        WHERE preferred_label <> preferred_label_original""").fetchone()[0]
    assert untidy >= 70  # v1.1.1 has 78 labels such as "plan "
    assert con.execute("""SELECT count(*) FROM esco_skill
        WHERE preferred_label <> trim(preferred_label)""").fetchone()[0] == 0
    assert con.execute("""SELECT count(*) FROM esco_label
        WHERE label <> trim(label)""").fetchone()[0] == 0


@needs_shared
def test_unofficial_dutch_skill_labels_are_marked(real_warehouse: Path) -> None:
    con = duckdb.connect(str(real_warehouse), read_only=True)
    rows = con.execute("""SELECT l.label FROM esco_label l JOIN esco_skill s USING (uri)
        WHERE s.preferred_label = 'manage staff' AND l.language = 'nl'""").fetchall()
    kinds = {k for (k,) in con.execute("""SELECT DISTINCT kind FROM esco_label
        WHERE concept_type = 'skill' AND language = 'nl'""").fetchall()}
    assert kinds == {"unofficial"}  # no official Dutch skill file in this data root
    assert "personeel beheren" in {r[0] for r in rows}


def test_official_dutch_skill_labels_win_over_the_project_layer(
        mini_data_root: Path, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, mini_data_root)
    taxonomy.load(settings)
    con0 = duckdb.connect(str(settings.warehouse), read_only=True)
    uri, = con0.execute("""SELECT uri FROM esco_label WHERE kind = 'unofficial'
        ORDER BY uri LIMIT 1""").fetchone()
    con0.close()
    # ESCO's own skills_nl.csv appears in the data root: it is read, and the project's
    # unofficial labels stay out for the skills it covers
    official = mini_data_root / "esco" / "nl" / "skills_nl.csv"
    official.write_text(f"conceptUri,preferredLabel,altLabels\n{uri},officieel label,\n",
                        encoding="utf-8")
    try:
        taxonomy.load(settings)
        con = duckdb.connect(str(settings.warehouse), read_only=True)
        kinds = dict(con.execute("""SELECT label, kind FROM esco_label
            WHERE uri = ? AND language = 'nl'""", [uri]).fetchall())
        con.close()
        assert kinds == {"officieel label": "preferred"}
    finally:
        official.unlink()
