"""Candidates: pseudonymous learner profiles from files (direct identifiers refused) plus
generated demo profiles, marked synthetic in the data. Declared skills that are not ESCO URIs
go through the mapping engine; credentials held link to the credential catalogue."""

from __future__ import annotations

import hashlib
from typing import Any

import duckdb
import pandas as pd

from skillmatch.candidates import (
    ESCO_URI_PREFIX,
    candidate_credential_rows,
    candidate_skill_rows,
    generate_candidates,
    skill_supply_rows,
)
from skillmatch.mapping import SkillExtractor, extract_documents
from skillmatch.pipeline import Context, Output, PipelineError, Source
from skillmatch.sources import Staged
from skillmatch.sources.candidates import read_candidates


def generator_inputs(ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The catalogue, occupations' essential skills and regions the generator draws from."""
    con = ctx.con
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables").fetchall()}
    if not {"credential", "region"} <= tables:
        raise PipelineError("generating candidates needs the credential and region tables: "
                            "run `skillmatch pipeline run credentials` and `... run regions`")
    catalogue = con.execute(
        "SELECT credential_id, stackable_with, times_issued FROM credential ORDER BY 1").df()
    occupations = con.execute(
        """SELECT occupation_uri, skill_uri FROM esco_occupation_skill
           WHERE relation_type = 'essential' ORDER BY 1, 2""").df()
    regions = [r[0] for r in con.execute(
        # NUTS 3 only: it nests in NUTS 2, so a region filter at either level finds them
        "SELECT region_code FROM region WHERE country = 'NL' AND level = 'nuts3' ORDER BY 1"
    ).fetchall()]
    return catalogue, occupations, regions


def credential_skills(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The skills each credential teaches (accepted mappings): what holding it means."""
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables").fetchall()}
    if "credential_skill" not in tables:
        return pd.DataFrame({"credential_id": pd.Series(dtype=str),
                             "skill_uri": pd.Series(dtype=str)})
    return con.execute("""SELECT DISTINCT credential_id, skill_uri FROM credential_skill
                          WHERE accepted ORDER BY 1, 2""").df()


def _digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy()
                          .tobytes()).hexdigest()[:16]


def sources(ctx: Context, config: dict[str, Any]) -> list[Source]:
    # the supply table depends on what credentials teach: a re-mapped catalogue reruns this
    teaches = f"credential_skills={_digest(credential_skills(ctx.con))}"
    found = [Source(f"file:{p.stem}", p, lambda p=p: read_candidates(p, str(p)),
                    fingerprint=teaches)
             for p in map(ctx.resolve, config.get("files", []))]
    n, seed = int(config.get("generate", 0)), int(config.get("seed", 0))
    if n:
        catalogue, occupations, regions = generator_inputs(ctx)
        inputs = f"{_digest(catalogue[['credential_id']])} regions={_digest(pd.DataFrame(regions))}"

        def generate() -> Staged:
            rows = generate_candidates(catalogue, occupations, regions, n, seed)
            return Staged(rows.assign(source="synthetic"), rows_read=len(rows))

        found.append(Source("synthetic", None, generate,
                            fingerprint=f"n={n} seed={seed} catalogue={inputs} {teaches}"))
    return found


def transform(source: Source, staged: Staged, ctx: Context, config: dict[str, Any]) -> Output:
    candidates = staged.rows  # the reader folded repeated candidates (the last one kept)
    held = candidate_credential_rows(candidates)
    declared = candidate_skill_rows(candidates)
    free = declared.loc[~declared["is_esco_uri"], "skill"].drop_duplicates().tolist()
    mapped: dict[str, str] = {}
    if free:
        extractor = ctx.cached("extractor", lambda: SkillExtractor(ctx.settings, ctx.con))
        for text, matches in zip(free, extract_documents(extractor, free), strict=True):
            if matches:
                mapped[text] = matches[0].uri
    declared["skill_uri"] = declared["skill"].where(declared["is_esco_uri"],
                                                    declared["skill"].map(mapped))
    declared = declared.dropna(subset=["skill_uri"])
    profile = candidates.assign(
        credential_count=candidates["credentials"].map(len),
        declared_skill_count=candidates["declared_skills"].map(len),
        occupation_is_esco=candidates["current_occupation"].astype(str)
        .str.startswith(ESCO_URI_PREFIX),
    ).drop(columns=["credentials", "declared_skills"])
    tables = {
        "candidate": profile.assign(source=source.name),
        "skill_supply": skill_supply_rows(candidates, held, declared,
                                          credential_skills(ctx.con)).assign(source=source.name),
        "candidate_credential": held.assign(source=source.name),
        "candidate_skill": declared[["candidate_id", "skill", "skill_uri"]].assign(
            source=source.name),
    }
    return Output(tables, rows_stored=len(candidates), rows_duplicate=staged.duplicates)
