"""The broader course offer (Coursera catalogues): courses -> ESCO skills from their
description and listed skills."""

from __future__ import annotations

from typing import Any

from skillmatch.mapping import SkillExtractor, extract_documents, skill_rows
from skillmatch.pipeline import Context, Output, Source
from skillmatch.sources import Staged
from skillmatch.sources.courses import read_coursera


def sources(ctx: Context, config: dict[str, Any]) -> list[Source]:
    hours = config.get("hours_per_week", 10.0)
    return [Source(entry["name"], (path := ctx.resolve(entry["path"])),
                   lambda p=path: read_coursera(p, str(p), hours), fingerprint=f"h={hours}")
            for entry in config.get("files", [])]


def transform(source: Source, staged: Staged, ctx: Context, config: dict[str, Any]) -> Output:
    courses = staged.rows.assign(source=source.name)  # the reader folded repeated courses
    texts = [
        "\n".join([title, description if isinstance(description, str) else "", *skills])
        for title, description, skills in zip(courses["title"], courses["description"],
                                               courses["listed_skills"], strict=True)
    ]
    extractor = ctx.cached("extractor", lambda: SkillExtractor(ctx.settings, ctx.con))
    matches = extract_documents(extractor, texts, ["en"] * len(texts),
                                label="courses")
    skills = skill_rows(courses["course_id"].tolist(), matches, "course_id",
                        config.get("skills_per_course", 10))
    return Output({"course": courses, "course_skill": skills.assign(source=source.name)},
                  rows_stored=len(courses), rows_duplicate=staged.duplicates)
