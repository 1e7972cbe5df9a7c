"""Synthetic candidate profiles and candidate pipeline steps.

No real learner data is available to the project (and none is needed to demonstrate it), so
`generate_candidates` makes pseudonymous synthetic profiles that look like the real thing in
shape: holders of credentials from the catalogue (often along its stackable paths), with a
current occupation and a few of that occupation's essential ESCO skills, spread over regions.
Every profile says `synthetic=True` in the data itself, so it can never pass for a person.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from skillmatch.sources.candidates import CANDIDATE_COLUMNS

ESCO_URI_PREFIX = "http://data.europa.eu/esco/"


def _successors(catalogue: pd.DataFrame, index_of: dict[str, int]) -> np.ndarray:
    """Per credential, the position of its first known stackable successor, or -1."""
    succ = np.full(len(catalogue), -1, dtype=np.int64)
    for pos, targets in enumerate(catalogue["stackable_with"]):
        for target in targets if isinstance(targets, (list, tuple, np.ndarray)) else []:
            if target in index_of:
                succ[pos] = index_of[target]
                break
    return succ


def _first_occurrence(matrix: np.ndarray) -> np.ndarray:
    """True where a value has not appeared earlier in its row (small fixed width)."""
    keep = np.ones(matrix.shape, dtype=bool)
    for j in range(1, matrix.shape[1]):
        keep[:, j] = ~(matrix[:, :j] == matrix[:, [j]]).any(axis=1)
    return keep


def _rows_to_lists(values: np.ndarray, matrix: np.ndarray, mask: np.ndarray) -> list[list]:
    """Row-wise lists of values[matrix] where mask holds (order within a row kept)."""
    flat = values[matrix[mask]]
    counts = mask.sum(axis=1)
    return [part.tolist() for part in np.split(flat, np.cumsum(counts)[:-1])]


def generate_candidates(catalogue: pd.DataFrame, occupations: pd.DataFrame,
                        regions: list[str], n: int, seed: int, *,
                        max_credentials: int = 4, max_skills: int = 5,
                        follow_path_share: float = 0.6) -> pd.DataFrame:
    """`n` synthetic pseudonymous profiles (candidate_id "syn-000001", ...), deterministic
    for a seed.

    catalogue: credential_id, stackable_with (times_issued, when present, makes popular
    credentials more common). occupations: occupation_uri, skill_uri (essential skills).
    Each profile holds 1..max_credentials distinct credentials; after the first, each next
    one follows the stackable path with probability `follow_path_share` (else a random one);
    declared_skills are 1..max_skills distinct essential skills of the current occupation.
    Vectorised: 100,000 profiles take about a second."""
    if n < 0:
        raise ValueError("n must be >= 0")
    if catalogue.empty or not regions:
        raise ValueError("generate_candidates needs a non-empty catalogue and region list")
    pairs = occupations[["occupation_uri", "skill_uri"]].dropna().drop_duplicates()
    if pairs.empty:
        raise ValueError("generate_candidates needs occupations with essential skills")
    rng = np.random.default_rng(seed)

    credential_ids = catalogue["credential_id"].astype(str).to_numpy(dtype=object)
    index_of = {cid: pos for pos, cid in enumerate(credential_ids)}
    succ = _successors(catalogue, index_of)
    if "times_issued" in catalogue:
        weight = pd.to_numeric(catalogue["times_issued"], errors="coerce").astype(float)
        weight = weight.fillna(weight.median() if weight.notna().any() else 1.0).clip(lower=0)
        weight = weight.to_numpy() + 1.0
    else:
        weight = np.ones(len(catalogue))
    weight = weight / weight.sum()
    steps = max(1, max_credentials)
    start = rng.choice(len(credential_ids), size=n, p=weight)
    random_next = rng.choice(len(credential_ids), size=(n, steps - 1), p=weight)
    follow = rng.random((n, steps - 1)) < follow_path_share
    held = np.empty((n, steps), dtype=np.int64)
    held[:, 0] = start
    for j in range(1, steps):
        nxt = succ[held[:, j - 1]]
        held[:, j] = np.where(follow[:, j - 1] & (nxt >= 0), nxt, random_next[:, j - 1])
    n_held = rng.integers(1, steps + 1, size=n)
    held_mask = (np.arange(steps)[None, :] < n_held[:, None]) & _first_occurrence(held)

    pairs = pairs.sort_values(["occupation_uri", "skill_uri"], kind="stable")
    occ_codes, occ_values = pd.factorize(pairs["occupation_uri"], sort=True)
    skill_values = pairs["skill_uri"].astype(str).to_numpy(dtype=object)
    counts = np.bincount(occ_codes, minlength=len(occ_values))
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    occupation = rng.integers(0, len(occ_values), size=n)
    width = max(1, max_skills)
    picks = offsets[occupation][:, None] + (
        rng.random((n, width)) * counts[occupation][:, None]).astype(np.int64)
    n_skills = np.minimum(rng.integers(1, width + 1, size=n), counts[occupation])
    skill_mask = (np.arange(width)[None, :] < n_skills[:, None]) & _first_occurrence(picks)

    region_values = np.asarray(regions, dtype=object)
    frame = pd.DataFrame({
        "candidate_id": pd.Series([f"syn-{i:06d}" for i in range(1, n + 1)], dtype="str"),
        "source": pd.Series([f"generate_candidates(seed={seed})"] * n, dtype="str"),
        "source_record": pd.Series([None] * n, dtype="str"),
        "region": pd.Series(region_values[rng.integers(0, len(region_values), size=n)],
                            dtype="str"),
        "credentials": pd.Series(_rows_to_lists(credential_ids, held, held_mask) if n else [],
                                 dtype=object),
        "declared_skills": pd.Series(_rows_to_lists(skill_values, picks, skill_mask) if n
                                     else [], dtype=object),
        "current_occupation": pd.Series(np.asarray(occ_values, dtype=object)[occupation],
                                        dtype="str"),
        "synthetic": np.ones(n, dtype=bool),
        "problems": pd.Series([""] * n, dtype="str"),
    })
    return frame[CANDIDATE_COLUMNS]


def candidate_credential_rows(candidates: pd.DataFrame) -> pd.DataFrame:
    """One row per (candidate, credential held): candidate_id, credential_id."""
    exploded = candidates[["candidate_id", "credentials"]].explode("credentials")
    exploded = exploded[exploded["credentials"].notna()]
    return pd.DataFrame({
        "candidate_id": exploded["candidate_id"].astype("str").to_numpy(),
        "credential_id": exploded["credentials"].astype("str").to_numpy(),
    })


def candidate_skill_rows(candidates: pd.DataFrame) -> pd.DataFrame:
    """One row per declared skill: candidate_id, skill, is_esco_uri (free-text skills still
    need the mapping engine; ESCO URIs can be joined directly)."""
    exploded = candidates[["candidate_id", "declared_skills"]].explode("declared_skills")
    exploded = exploded[exploded["declared_skills"].notna()]
    skills = exploded["declared_skills"].astype("str")
    return pd.DataFrame({
        "candidate_id": exploded["candidate_id"].astype("str").to_numpy(),
        "skill": skills.to_numpy(),
        "is_esco_uri": skills.str.startswith(ESCO_URI_PREFIX).to_numpy(dtype=bool),
    })


def skill_supply_rows(candidates: pd.DataFrame, held: pd.DataFrame, declared: pd.DataFrame,
                      teaches: pd.DataFrame) -> pd.DataFrame:
    """Per region and skill: how many candidates hold it, by declaring it or through a
    credential that teaches it (`teaches`: credential_id, skill_uri), each candidate once.
    Stored at build time so the skill-gap figures need not join millions of holdings."""
    via_credential = held.merge(teaches, on="credential_id")[["candidate_id", "skill_uri"]]
    holdings = pd.concat([via_credential, declared[["candidate_id", "skill_uri"]]],
                         ignore_index=True).drop_duplicates()
    region = candidates.set_index("candidate_id")["region"]
    holdings["region"] = holdings["candidate_id"].map(region).fillna("")
    supply = holdings.groupby(["region", "skill_uri"], as_index=False).size()
    return supply.rename(columns={"size": "holders"}).astype({"holders": "int64"})


def unknown_credentials(candidates: pd.DataFrame, catalogue: pd.DataFrame) -> pd.DataFrame:
    """Held credentials that are not in the catalogue (to report, not to drop)."""
    held = candidate_credential_rows(candidates)
    known = set(catalogue["credential_id"].astype(str))
    return held[~held["credential_id"].isin(known)].reset_index(drop=True)


def candidate_regions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The regions candidates live in, with their NUTS 2 parents (a NUTS code's first four
    characters) and how many candidates each holds: what a region filter can offer."""
    return con.execute("""
        WITH own AS (SELECT region, count(*) AS n FROM candidate WHERE region IS NOT NULL
                     GROUP BY 1),
             codes AS (SELECT region AS region_code, n FROM own
                       UNION ALL
                       SELECT left(region, 4), n FROM own r
                       WHERE length(region) = 5 AND EXISTS (SELECT 1 FROM region g
                             WHERE g.region_code = left(r.region, 4) AND g.level = 'nuts2'))
        SELECT c.region_code, coalesce(any_value(g.name), c.region_code) AS name,
               coalesce(any_value(g.level), '') AS level, sum(c.n)::BIGINT AS candidates
        FROM codes c LEFT JOIN region g ON g.region_code = c.region_code
        GROUP BY 1 ORDER BY level, region_code""").df()
