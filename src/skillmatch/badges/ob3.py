"""Open Badges 3.0: where the Achievement is, its learning outcomes, and an ESCO skill
written into it as an Alignment.

The learning outcomes are those the catalogue reader reads (`ob_outcomes`): every
alignment but the EQF level and those SkillMatch added, its text the targetName. OB 3.0 has
no learning-outcome property of its own; European micro-credential profiles (the MyNextID
example among them) state each outcome as an alignment, so that is where they are looked
for. The description and criteria.narrative say what the badge is and how it is earned:
they are not mapped, and an achievement without outcome alignments gets no skills (its
quality check names `outcomes_missing`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from skillmatch.badges.core import (
    BadgeError,
    Outcome,
    append_after,
    esco_code,
    esco_key,
    pointer,
    short,
)
from skillmatch.sources import SourceError
from skillmatch.sources.credentials import (
    ADDED_ALIGNMENT_MARK,
    RecordError,
    node_types,
    ob_outcomes,
    open_badge_rows,
)

CREDENTIAL_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential"})
TYPES = CREDENTIAL_TYPES | {"Achievement"}


def achievement_path(document: dict[str, Any]) -> tuple[str | int, ...]:
    """Where the Achievement is: credentialSubject.achievement of a credential, or the
    document itself when it is a bare Achievement. BadgeError naming what is missing."""
    kinds = node_types(document)
    if "@graph" in document:
        raise BadgeError("an @graph of several badges: send one OpenBadgeCredential or "
                         "Achievement per document")
    if "credentialSubject" not in document and "Achievement" in kinds:
        return ()
    if "credentialSubject" not in document:
        raise BadgeError("an Open Badges 3.0 document needs credentialSubject.achievement "
                         "(an OpenBadgeCredential) or type Achievement; found neither")
    subject, path = document["credentialSubject"], ("credentialSubject",)
    if isinstance(subject, list):
        if len(subject) != 1:
            raise BadgeError(f"credentialSubject: expected one AchievementSubject, got a list "
                             f"of {len(subject)}")
        subject, path = subject[0], (*path, 0)
    if not isinstance(subject, dict):
        raise BadgeError("credentialSubject: expected an AchievementSubject object")
    achievement = subject.get("achievement")
    if achievement is None:
        raise BadgeError("credentialSubject has no achievement: nothing to align")
    if not isinstance(achievement, dict):
        raise BadgeError("credentialSubject.achievement: expected an Achievement object (a "
                         "reference cannot be aligned)")
    return (*path, "achievement")


def _at(document: dict[str, Any], path: tuple[str | int, ...]) -> dict[str, Any]:
    node: Any = document
    for part in path:
        node = node[part]
    return node


def catalogue_rows(document: dict[str, Any]) -> pd.DataFrame:
    """The credential as the catalogue reads it (title, provider, ECTS, EQF, outcomes…)."""
    achievement_path(document)  # what is missing named first, in OB3's terms
    try:
        staged = open_badge_rows(document, "badge")
    except SourceError as exc:
        raise BadgeError(str(exc)) from None
    if staged.rejects:
        raise BadgeError(staged.rejects[0][2])
    return staged.rows


def outcomes(document: dict[str, Any]) -> list[Outcome]:
    """The achievement's learning outcomes; the already declared alignment URLs are shared
    by all of them (one alignment list per achievement)."""
    path = achievement_path(document)
    achievement = _at(document, path)
    try:
        found = ob_outcomes(achievement)
    except RecordError as exc:
        raise BadgeError(f"achievement {exc}") from None
    alignment = achievement.get("alignment")
    items = alignment if isinstance(alignment, list) else [alignment]
    seen = {esco_key(item["targetUrl"]) for item in items
            if isinstance(item, dict) and isinstance(item.get("targetUrl"), str)}
    result = []
    for index, (position, text, esco) in enumerate(found, start=1):
        url = items[position].get("targetUrl")
        where = (*path, "alignment", position) if isinstance(alignment, list) else (
            *path, "alignment")
        result.append(Outcome(index=index, id=url if isinstance(url, str) else None,
                              path=pointer(where), text=text, declared=[esco] if esco else [],
                              targets=[achievement], seen=seen))
    return result


def entry(skill: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    """An added skill in OB3's Alignment shape; its targetDescription names the outcome it
    came from and marks it as added (`ADDED_ALIGNMENT_MARK`)."""
    return {
        "type": ["Alignment"],
        "targetName": skill["label"],
        "targetUrl": skill["uri"],
        "targetFramework": "ESCO",
        "targetCode": esco_code(skill["uri"]),
        "targetType": "ceasn:Competency",
        "targetDescription": f"{ADDED_ALIGNMENT_MARK} {outcome.index}: {short(outcome.text)}",
    }


def append(target: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """Added alignments after the declared ones, which stay as they were."""
    append_after(target, "alignment", entries)
