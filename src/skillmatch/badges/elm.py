"""European Learning Model v3: its LearningOutcome nodes and an ESCO skill written into one
as a relatedESCOSkill Concept.

A LearningOutcome is mapped wherever it sits (under a Qualification, a
LearningAchievementSpecification, a learning opportunity, an @graph). JSON-LD may write one
node out several times (the same id) and refer to it elsewhere by its id alone: the full
occurrences of one id are one outcome, and each of them gets the added skills, so the
copies stay equal; references are left alone. Its text is the reader's
(`elm_outcome_text`: the English title, else the description).

The quality check and the credential summary are those of the specification nearest the
document's root (`ElmDocument.main_spec`): the issued credential's own claim, or the
learning opportunity's specification. Outcomes of its parts are aligned too.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from skillmatch.badges.core import (
    ESCO_SKILLS_SCHEME,
    BadgeError,
    Outcome,
    append_after,
    esco_key,
    pointer,
    short,
)
from skillmatch.sources import SourceError
from skillmatch.sources.credentials import (
    ElmDocument,
    RecordError,
    credential_frame,
    elm_outcome_text,
    node_types,
    skill_uri,
)

TYPES = frozenset({"EuropeanDigitalCredential", "Qualification",
                   "LearningAchievementSpecification", "LearningOpportunity",
                   "LearningAchievement", "LearningOutcome"})
_REFERENCE_KEYS = {"id", "@id", "type", "@type"}
_SKILL_KEYS = ("relatedESCOSkill", "relatedSkill")


def catalogue_rows(document: dict[str, Any]) -> pd.DataFrame:
    """The main specification as the catalogue reads it (title, provider, ECTS, EQF…)."""
    try:
        elm = ElmDocument(document)
        return credential_frame([elm.row(elm.main_spec())])
    except (SourceError, RecordError) as exc:
        raise BadgeError(str(exc)) from None


def _declared(node: dict[str, Any]) -> tuple[list[str], set[str]]:
    """The ESCO skill URIs a LearningOutcome names, and the keys of every id it relates
    (an ESCO URI written with https counts as the same skill)."""
    uris: list[str] = []
    keys: set[str] = set()
    for key in _SKILL_KEYS:
        value = node.get(key)
        for skill in value if isinstance(value, list) else [value]:
            ident = skill.get("id") if isinstance(skill, dict) else skill
            if isinstance(ident, str):
                keys.add(esco_key(ident))
            uri = skill_uri(skill)
            if uri and uri not in uris:
                uris.append(uri)
    return uris, keys


def outcomes(document: dict[str, Any]) -> list[Outcome]:
    """Every LearningOutcome with a text, in document order (depth first, as written)."""
    found: list[Outcome] = []
    by_id: dict[str, Outcome] = {}
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, list):
            stack.extend(reversed([(v, (*path, i)) for i, v in enumerate(value)]))
            continue
        if not isinstance(value, dict):
            continue
        stack.extend(reversed([(v, (*path, k)) for k, v in value.items() if k != "@context"]))
        if "LearningOutcome" not in node_types(value) or set(value) <= _REFERENCE_KEYS:
            continue
        try:
            text = elm_outcome_text(value)
        except RecordError as exc:
            raise BadgeError(f"{short(pointer(path), 200)}: {exc}") from None
        uris, keys = _declared(value)
        node_id = value.get("id", value.get("@id"))
        known = by_id.get(node_id) if isinstance(node_id, str) else None
        if known is not None:  # the same node written out again
            known.targets.append(value)
            known.declared.extend(u for u in uris if u not in known.declared)
            known.seen |= keys
            known.text = known.text or text or ""
            continue
        outcome = Outcome(index=0, id=node_id if isinstance(node_id, str) else None,
                          path=pointer(path), text=text or "", declared=uris,
                          targets=[value], seen=keys)
        found.append(outcome)
        if outcome.id:
            by_id[outcome.id] = outcome
    kept = [o for o in found if o.text]
    for index, outcome in enumerate(kept, start=1):
        outcome.index = index
    return kept


def entry(skill: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    """An added skill in the Concept shape the ELM examples use for relatedESCOSkill."""
    return {
        "id": skill["uri"],
        "type": "Concept",
        "inScheme": {"id": ESCO_SKILLS_SCHEME, "type": "ConceptScheme"},
        "notation": "Skill",
        "prefLabel": {"en": skill["label"]},
    }


def append(target: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """Added Concepts after the declared ones; one declared object becomes the first item
    of a list (only when something is added)."""
    entries = [{**e, "inScheme": dict(e["inScheme"]), "prefLabel": dict(e["prefLabel"])}
               for e in entries]  # each occurrence its own objects
    append_after(target, "relatedESCOSkill", entries)
