"""Candidate profiles: the pseudonymous reader (identifier columns refused, personal values
rejected) and the vectorised synthetic generator."""

from __future__ import annotations

import gzip
import itertools
import json
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from skillmatch.candidates import (
    candidate_credential_rows,
    candidate_regions,
    candidate_skill_rows,
    generate_candidates,
    skill_supply_rows,
    unknown_credentials,
)
from skillmatch.sources import SourceError
from skillmatch.sources.candidates import (
    CANDIDATE_COLUMNS,
    identifier_columns,
    is_bsn,
    personal_value_problem,
    read_candidates,
)
from skillmatch.sources.credentials import read_credential_catalogue

ESCO_SKILL = "http://data.europa.eu/esco/skill/"
ESCO_OCC = "http://data.europa.eu/esco/occupation/"
REGIONS = [f"AM{i:02d}" for i in range(1, 36)]


@pytest.fixture(scope="module")
def catalogue() -> pd.DataFrame:
    return read_credential_catalogue(REPO / "data" / "catalogue" / "demo_microcredentials.json",
                                     "demo").rows


@pytest.fixture(scope="module")
def occupations() -> pd.DataFrame:
    """3,000 occupations with 1-30 essential skills each (real ESCO shape, made-up URIs)."""
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 31, size=3000)
    occ = np.repeat([f"{ESCO_OCC}{i:05d}" for i in range(3000)], counts)
    skills = [f"{ESCO_SKILL}{i:05d}" for i in rng.integers(0, 13000, size=len(occ))]
    return pd.DataFrame({"occupation_uri": occ, "skill_uri": skills})


def _write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- reader


def test_read_csv_and_json_forms(tmp_path: Path) -> None:
    csv_path = _write_csv(tmp_path / "c.csv", (
        "candidate_id,region,credentials,declared_skills,current_occupation,synthetic,notes\n"
        f"p-1,NL329,demo-mc-001;demo-mc-002,{ESCO_SKILL}0a1b-2c3d|welding,nurse,true,x\n"
        "p-2,am07,,,,false,\n"))
    staged = read_candidates(csv_path, "c.csv")
    assert staged.rows_read == 2 and not staged.rejects
    assert list(staged.rows.columns) == CANDIDATE_COLUMNS
    first = staged.rows.iloc[0]
    assert first["credentials"] == ["demo-mc-001", "demo-mc-002"]
    assert first["declared_skills"] == [f"{ESCO_SKILL}0a1b-2c3d", "welding"]
    assert bool(first["synthetic"]) and staged.rows.iloc[1]["region"] == "AM07"
    assert "notes" not in staged.rows.columns  # columns outside the schema are not read

    records = [{"candidate_id": "p-3", "region": "NL33C", "credentials": ["demo-mc-003"],
                "declared_skills": ["cloud computing"], "synthetic": True}]
    json_path = tmp_path / "c.json"
    json_path.write_text(json.dumps(records), encoding="utf-8")
    assert read_candidates(json_path, "j").rows.iloc[0]["credentials"] == ["demo-mc-003"]
    jsonl = tmp_path / "c.jsonl.gz"
    jsonl.write_bytes(gzip.compress(
        json.dumps(records[0]).encode() + b"\n\n{broken\n"
        + b'{"candidate_id": "caf\xe9"}\n' + b"[1]\n"))
    staged = read_candidates(jsonl, "l")
    assert staged.rows_read == len(staged.rows) + len(staged.rejects) == 4
    assert [r[1] for r in staged.rejects] == ["line 3", "line 4", "line 5"]
    assert staged.rejects[1][2].startswith("not UTF-8")


@pytest.mark.parametrize("columns", [
    ["candidate_id", "Name"], ["candidate_id", "first_name", "lastName"],
    ["candidate_id", "E-mail"], ["candidate_id", "contact_email"],
    ["candidate_id", "telefoonnummer"], ["candidate_id", "Telefoon"],
    ["candidate_id", "Adres"], ["candidate_id", "street_address"], ["candidate_id", "BSN"],
    ["candidate_id", "geboortedatum"], ["candidate_id", "date_of_birth"],
    ["candidate_id", "Voornaam", "Achternaam"], ["candidate_id", "phone"],
])
def test_identifier_columns_refuse_the_file(tmp_path: Path, columns: list[str]) -> None:
    path = _write_csv(tmp_path / "people.csv", ",".join(columns) + "\n"
                      + ",".join("x" for _ in columns) + "\n")
    with pytest.raises(SourceError) as info:
        read_candidates(path, "people.csv")
    message = str(info.value)
    assert str(path) in message and all(c in message for c in columns[1:])
    json_path = tmp_path / "people.json"
    json_path.write_text(json.dumps([{c: "x" for c in columns}]), encoding="utf-8")
    with pytest.raises(SourceError, match="direct identifiers"):
        read_candidates(json_path, "people.json")


def test_schema_columns_are_not_identifiers() -> None:
    assert identifier_columns(["candidate_id", "region", "credentials", "declared_skills",
                               "current_occupation", "synthetic", "age_band"]) == []


def test_personal_values_reject_the_record(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "v.csv", (
        "candidate_id,region,declared_skills,current_occupation\n"
        "ok-1,AM01,welding,welder\n"
        "jan@example.nl,AM01,welding,welder\n"
        "ok-3,AM01,call me on 06-12345678,welder\n"
        "ok-4,AM01,welding,+31 20 123 4567\n"
        "111222333,AM01,welding,welder\n"
        "ok-6,Amsterdam,welding,welder\n"
        "ok-7,AM01,ISO 9001 auditing;2010-2020 experience,welder\n"))
    staged = read_candidates(path, "v.csv")
    assert staged.rows["candidate_id"].tolist() == ["ok-1", "ok-7"]
    reasons = {record: reason for _, record, reason in staged.rejects}
    assert reasons["row 3"].startswith("candidate_id: a value looks like an e-mail")
    assert "phone" in reasons["row 4 (id=ok-3)"] and "phone" in reasons["row 5 (id=ok-4)"]
    assert "BSN" in reasons["row 6"]
    assert reasons["row 7 (id=ok-6)"].startswith("region:")
    assert "jan@example.nl" not in json.dumps(staged.rejects)  # never copied into rejects


def test_personal_value_patterns() -> None:
    assert is_bsn("111222333") and not is_bsn("123456789")
    assert personal_value_problem("0612345678") == "looks like a phone number"
    assert personal_value_problem("+44 20 7946 0958") == "looks like a phone number"
    for harmless in ("syn-000001", f"{ESCO_SKILL}80f308e6-0e09-404a-80cd-ec5f50f6f304",
                     "demo-mc-012", "NL329", "2023-05-05"):
        assert personal_value_problem(harmless) is None


def test_unusable_candidate_files(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="empty file"):
        read_candidates(_write_csv(tmp_path / "e.csv", ""), "e")
    with pytest.raises(SourceError, match="candidate_id"):
        read_candidates(_write_csv(tmp_path / "m.csv", "region\nAM01\n"), "m")
    with pytest.raises(SourceError, match="empty file"):
        read_candidates(_write_csv(tmp_path / "e.jsonl", "\n\n"), "e")


# --------------------------------------------------------------------------- generator


def test_generator_shape_and_content(catalogue: pd.DataFrame,
                                     occupations: pd.DataFrame) -> None:
    frame = generate_candidates(catalogue, occupations, REGIONS, 5000, seed=7)
    assert list(frame.columns) == CANDIDATE_COLUMNS and len(frame) == 5000
    assert frame["candidate_id"].is_unique
    assert frame["candidate_id"].iloc[0] == "syn-000001"
    assert frame["synthetic"].dtype == bool and frame["synthetic"].all()
    assert set(frame["region"]) <= set(REGIONS)
    sizes = frame["credentials"].map(len)
    assert sizes.min() == 1 and sizes.max() == 4
    assert frame["credentials"].map(lambda v: len(set(v)) == len(v)).all()
    assert unknown_credentials(frame, catalogue).empty
    essential = set(zip(occupations["occupation_uri"], occupations["skill_uri"], strict=True))
    skills = candidate_skill_rows(frame).merge(frame[["candidate_id", "current_occupation"]])
    assert skills["is_esco_uri"].all()
    assert all((o, s) in essential for o, s in zip(skills["current_occupation"],
                                                   skills["skill"], strict=True))
    assert frame["declared_skills"].map(len).between(1, 5).all()
    nxt = {c: t[0] for c, t in zip(catalogue["credential_id"], catalogue["stackable_with"],
                                   strict=True) if t}
    steps = sum(nxt.get(a) == b for held in frame["credentials"]
                for a, b in itertools.pairwise(held))
    assert steps > 1000  # stack paths are followed often
    held = candidate_credential_rows(frame)
    assert len(held) == sizes.sum()


def test_generator_is_deterministic(catalogue: pd.DataFrame,
                                    occupations: pd.DataFrame) -> None:
    a = generate_candidates(catalogue, occupations, REGIONS, 2000, seed=11)
    b = generate_candidates(catalogue, occupations, REGIONS, 2000, seed=11)
    c = generate_candidates(catalogue, occupations, REGIONS, 2000, seed=12)
    pd.testing.assert_frame_equal(a, b)
    assert not a["credentials"].equals(c["credentials"])
    assert generate_candidates(catalogue, occupations, REGIONS, 0, seed=1).empty


def test_generator_makes_100k_fast(catalogue: pd.DataFrame, occupations: pd.DataFrame) -> None:
    start = time.perf_counter()
    frame = generate_candidates(catalogue, occupations, REGIONS, 100_000, seed=3)
    elapsed = time.perf_counter() - start
    assert len(frame) == 100_000 and frame["candidate_id"].iloc[-1] == "syn-100000"
    assert elapsed < 8, f"{elapsed:.1f} s"


def test_generated_profiles_pass_the_reader(catalogue: pd.DataFrame,
                                            occupations: pd.DataFrame, tmp_path: Path) -> None:
    frame = generate_candidates(catalogue, occupations, ["NL329", "AM01"], 300, seed=5)
    out = frame.drop(columns=["source", "source_record"]).copy()
    for column in ("credentials", "declared_skills"):
        out[column] = out[column].map(";".join)
    path = tmp_path / "synthetic.csv"
    out.to_csv(path, index=False)
    staged = read_candidates(path, "synthetic.csv")
    assert not staged.rejects
    cols = ["candidate_id", "region", "credentials", "declared_skills", "current_occupation",
            "synthetic"]
    pd.testing.assert_frame_equal(staged.rows[cols], frame[cols])


def test_generator_refuses_empty_inputs(catalogue: pd.DataFrame,
                                        occupations: pd.DataFrame) -> None:
    with pytest.raises(ValueError):
        generate_candidates(catalogue.iloc[:0], occupations, REGIONS, 10, seed=1)
    with pytest.raises(ValueError):
        generate_candidates(catalogue, occupations.iloc[:0], REGIONS, 10, seed=1)
    with pytest.raises(ValueError):
        generate_candidates(catalogue, occupations, [], 10, seed=1)


def test_skill_supply_counts_each_holder_once_per_region() -> None:
    """k1 holds s1 twice (declared and through c1) and s2 through c1; k2 holds s1 through c2;
    k3 elsewhere declares s2. Unknown credentials teach nothing."""
    candidates = pd.DataFrame({"candidate_id": ["k1", "k2", "k3"],
                               "region": ["NL329", "NL329", "NL332"],
                               "credentials": [["c1"], ["c2", "cX"], []],
                               "declared_skills": [["s1"], [], ["s2"]]})
    teaches = pd.DataFrame({"credential_id": ["c1", "c1", "c2"],
                            "skill_uri": ["s1", "s2", "s1"]})
    declared = candidate_skill_rows(candidates).rename(columns={"skill": "skill_uri"})
    supply = skill_supply_rows(candidates, candidate_credential_rows(candidates), declared,
                               teaches)
    got = {(r.region, r.skill_uri): r.holders for r in supply.itertuples()}
    assert got == {("NL329", "s1"): 2, ("NL329", "s2"): 1, ("NL332", "s2"): 1}


def test_candidate_regions_add_their_nuts2_parents() -> None:
    con = duckdb.connect(":memory:")
    con.execute("""CREATE TABLE candidate AS SELECT * FROM (VALUES ('k1', 'NL329'),
        ('k2', 'NL329'), ('k3', 'NL332'), ('k4', 'AM18')) t(candidate_id, region)""")
    con.execute("""CREATE TABLE region AS SELECT * FROM (VALUES
        ('NL32', 'Noord-Holland', 'nuts2'), ('NL33', 'Zuid-Holland', 'nuts2'),
        ('NL329', 'Groot-Amsterdam', 'nuts3'), ('NL332', 'Agglomeratie Den Haag', 'nuts3'),
        ('AM18', 'Groot Amsterdam', 'labour_market_region')) t(region_code, name, level)""")
    regions = candidate_regions(con)
    assert regions[["region_code", "level", "candidates"]].values.tolist() == [
        ["AM18", "labour_market_region", 1], ["NL32", "nuts2", 2], ["NL33", "nuts2", 1],
        ["NL329", "nuts3", 2], ["NL332", "nuts3", 1]]
