"""Micro-credentials: Open Badges 3.0, European Learning Model v3, the CSV template and the
project's demo catalogue -> quality framework check -> learning outcomes -> ESCO skills."""

from __future__ import annotations

from typing import Any

import pandas as pd

from skillmatch.credentials import (
    check_quality,
    map_outcomes,
    outcome_languages,
    outcome_rows,
    quality_issue_rows,
    stack_rows,
)
from skillmatch.mapping import SkillExtractor
from skillmatch.pipeline import Context, Output, PipelineError, Source
from skillmatch.sources import Staged
from skillmatch.sources.credentials import (
    read_credential_catalogue,
    read_credential_csv,
    read_elm,
    read_open_badge,
)

READERS = {"catalogue": read_credential_catalogue, "csv": read_credential_csv,
           "elm": read_elm, "open_badge": read_open_badge}


def sources(ctx: Context, config: dict[str, Any]) -> list[Source]:
    found = []
    for entry in config.get("files", []):
        if entry.get("format") not in READERS:
            raise PipelineError(f"credentials file {entry.get('name')}: format must be one of "
                                f"{sorted(READERS)}")
        path, reader = ctx.resolve(entry["path"]), READERS[entry["format"]]
        found.append(Source(entry["name"], path, lambda p=path, r=reader: r(p, str(p))))
    return found


def extractor(ctx: Context) -> SkillExtractor:
    return ctx.cached("extractor", lambda: SkillExtractor(ctx.settings, ctx.con))


def transform(source: Source, staged: Staged, ctx: Context, config: dict[str, Any]) -> Output:
    credentials = check_quality(staged.rows).assign(source=source.name)
    outcomes = outcome_rows(credentials)
    language = outcome_languages(credentials, outcomes)
    mapped = map_outcomes(outcomes, extractor(ctx), language,
                          config.get("skills_per_outcome", 5), label="learning outcomes")
    # outcomes the issuer already linked to ESCO (ELM, OB3 alignments) are kept as declared
    declared = credentials[["credential_id", "esco_skill_uris"]].explode("esco_skill_uris")
    declared = declared[declared["esco_skill_uris"].notna()].rename(
        columns={"esco_skill_uris": "skill_uri"})
    declared = declared.assign(found_by="declared", score=1.0, accepted=True, outcome_no=0)
    skills = pd.concat([mapped, declared], ignore_index=True)
    labels = ctx.con.execute("SELECT uri, preferred_label, skill_type FROM esco_skill").df()
    skills = skills.merge(labels, left_on="skill_uri", right_on="uri", how="left")
    skills["skill_label"] = skills["skill_label"].fillna(skills["preferred_label"])
    skills["skill_type"] = skills["skill_type_x"].fillna(skills["skill_type_y"])
    skills = skills.drop(columns=["uri", "preferred_label", "skill_type_x", "skill_type_y"])
    tables = {
        "credential": credentials,
        "credential_outcome": outcomes.assign(source=source.name),
        "credential_skill": skills.assign(source=source.name),
        "credential_quality": quality_issue_rows(credentials).assign(source=source.name),
        "credential_stack": stack_rows(credentials).assign(source=source.name),
    }
    # a credential listed twice in one file was folded by its reader (the last one kept)
    return Output(tables, rows_stored=len(credentials), rows_duplicate=staged.duplicates)
