"""Vacancies: schema.org JobPosting and declared CSV sources -> normalised ads -> regions ->
near-duplicates folded -> occupation (with ISCO group) -> sector -> ESCO skills with evidence.

Steps are the library's plain DataFrame functions; only canonical ads are mapped (a folded
duplicate is the same ad and is counted on its canonical row). The mapping stage (`map_ads`)
runs per partition on the run's engine: in-process, or on Dask workers (`--engine dask`)."""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from skillmatch.analytics import index_demand
from skillmatch.engine import Workspace
from skillmatch.mapping import (
    OccupationLinker,
    SkillExtractor,
    extract_documents,
    occupation_rows,
    skill_rows,
)
from skillmatch.pipeline import Context, Output, Source
from skillmatch.regions import RegionIndex, assign_regions
from skillmatch.sources import Staged
from skillmatch.sources.tabular import load_csv_specs, read_source
from skillmatch.vacancies import (
    find_near_duplicates,
    infer_sector,
    normalise_vacancies,
    read_isco_sector,
)


def sources(ctx: Context, config: dict[str, Any]) -> list[Source]:
    specs = load_csv_specs(ctx.resolve(config["sources_file"]))
    root = ctx.settings.data_root
    return [Source(name, spec.resolve(root), lambda s=spec: read_source(s, root),
                   fingerprint=repr(spec)) for name, spec in specs.items()]


def map_ads(ads: pd.DataFrame, ws: Workspace) -> dict[str, pd.DataFrame]:
    """One partition of canonical ads, in-process or on a Dask worker: ranked occupations
    from the titles (their texts pick the label language), ESCO skills with evidence from
    the texts. The mapping engine is built once per process."""
    linker = ws.cached("linker", lambda: ws.build(OccupationLinker))
    extractor = ws.cached("extractor", lambda: ws.build(SkillExtractor))
    ids = ads["vacancy_id"].tolist()
    hits = linker.link_many(ads["title"].tolist(), top_k=ws.params["occupations_per_vacancy"],
                            texts=ads["description"].tolist())
    # skills from the ad's text only: a title names the occupation, and mapped as a sentence
    # it yields skills nobody wrote ("Staff Nurse" -> "work with nursing staff")
    texts = ads["description"].fillna("").tolist()
    # the linked occupations' ESCO profiles inform which skills are accepted
    matches = extract_documents(extractor, texts, ads["language"].tolist(),
                                chunk=max(len(texts), 1),
                                occupations=[h["uri"].tolist() for h in hits])
    return {"vacancy_occupation": occupation_rows(ids, hits, "vacancy_id"),
            "vacancy_skill": skill_rows(ids, matches, "vacancy_id")}


def mapping_order(ads: pd.DataFrame) -> pd.DataFrame:
    """The ads in the order they are cut into partitions: whole employers together. An
    employer's ads share paragraphs, and a worker scores each sentence once but only remembers
    its own: on the NHS file, 2 workers re-score 6.9 % of the sentences in file order and
    1.7 % by employer (8 workers: 17 % and 2.6 %)."""
    return ads.sort_values(["employer", "vacancy_id"], na_position="last", kind="stable")


def transform(source: Source, staged: Staged, ctx: Context, config: dict[str, Any]) -> Output:
    vacancies = normalise_vacancies(staged.rows)
    index = ctx.cached("region_index", lambda: RegionIndex.load(ctx.settings.data_root))
    vacancies = assign_regions(vacancies, index)
    vacancies = find_near_duplicates(vacancies, config.get("near_duplicate_threshold", 0.9))
    duplicates = vacancies.loc[~vacancies["is_canonical"], ["vacancy_id", "canonical_id"]]
    ads = vacancies[vacancies["is_canonical"]].drop(columns=["is_canonical", "canonical_id"])
    ads = ads.reset_index(drop=True)

    mapped = ctx.engine.map_partitions(
        map_ads, mapping_order(ads), ctx.workspace({"occupations_per_vacancy":
                                     config.get("occupations_per_vacancy", 3)}),
        partition_rows=config.get("chunk", 500), label="ads")
    occupations = mapped.get("vacancy_occupation", occupation_rows([], [], "vacancy_id"))
    skills = mapped.get("vacancy_skill", skill_rows([], [], "vacancy_id"))
    best = occupations[occupations["rank"] == 1].set_index("vacancy_id")
    # typed, so that ads none of which found an occupation still store text and numbers
    for column, target, dtype in (("occupation_uri", "occupation_uri", "string"),
                                  ("occupation_label", "occupation_label", "string"),
                                  ("isco_code", "isco_code", "string"),
                                  ("score", "occupation_score", "float64"),
                                  ("accepted", "occupation_accepted", "boolean")):
        ads[target] = pd.Series(best[column].reindex(ads["vacancy_id"]).to_numpy(),
                                index=ads.index).astype(dtype)
    ads["occupation_accepted"] = ads["occupation_accepted"].fillna(False).astype(bool)
    ads = infer_sector(ads, read_isco_sector(ctx.resolve(config["isco_sector"])))
    ads["skill_count"] = skills.groupby("vacancy_id").size().reindex(
        ads["vacancy_id"]).fillna(0).astype("int64").to_numpy()
    tables = {
        "vacancy": ads.assign(source=source.name),
        "vacancy_duplicate": duplicates.assign(source=source.name),
        "vacancy_occupation": occupations.assign(source=source.name),
        "vacancy_skill": skills.assign(source=source.name),
    }
    # a record listed twice in the feed was folded by the reader; a re-post here
    return Output(tables, rows_stored=len(ads),
                  rows_duplicate=staged.duplicates + len(duplicates))


def after_write(con: duckdb.DuckDBPyConnection) -> None:
    """Re-key the dashboard's demand index over all sources' ads, in the write's transaction."""
    index_demand(con)
