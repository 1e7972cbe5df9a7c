"""Badge alignment: a document in, the same document out with ESCO skills added per learning
outcome, and the quality-framework check beside it.

One path with the credentials pipeline: the credential is read by the catalogue readers
(`open_badge_rows`, `ElmDocument`), checked by `check_quality`, and its outcomes mapped by
`map_outcomes`, so a badge aligned here and the same badge in the catalogue get the same
skills and the same verdict.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from skillmatch.badges import elm, ob3
from skillmatch.badges.core import (
    MAX_OUTCOME_CHARS,
    MAX_OUTCOMES,
    MAX_SKILLS_PER_OUTCOME,
    BadgeError,
    Outcome,
    check_document,
    esco_key,
    json_kind,
)
from skillmatch.badges.schemas import schema_violations
from skillmatch.credentials import (
    DEFAULT_RULES,
    QualityRules,
    check_quality,
    map_outcomes,
    quality_issue_rows,
)
from skillmatch.sources.credentials import node_types

if TYPE_CHECKING:
    from skillmatch.mapping import SkillExtractor

FORMATS = ("open_badges_3", "elm")
_MODULES = {"open_badges_3": ob3, "elm": elm}
_OB3_CONTEXT = "purl.imsglobal.org/spec/ob/v3p0"
_ELM_CONTEXT = "data.europa.eu/snb/model"


def detect_format(document: object) -> str:
    """ "open_badges_3" or "elm", from the document's type (an @graph's node types for ELM),
    else its JSON-LD @context. BadgeError for anything else, naming what was found."""
    if not isinstance(document, dict):
        raise BadgeError(f"expected a JSON object (an Open Badges 3.0 credential or "
                         f"achievement, or an ELM v3 document), got {json_kind(document)}")
    kinds = node_types(document)
    if kinds & ob3.TYPES:
        return "open_badges_3"
    if kinds & elm.TYPES:
        return "elm"
    graph = document.get("@graph")
    if isinstance(graph, list) and any(node_types(node) & elm.TYPES for node in graph):
        return "elm"
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    text = " ".join(c for c in contexts if isinstance(c, str))
    if _OB3_CONTEXT in text:
        return "open_badges_3"
    if _ELM_CONTEXT in text:
        return "elm"
    if "achievementTitle" in document or "ectsPoints" in document:
        raise BadgeError("not an Open Badges 3.0 or ELM v3 document: this is MyNextID's "
                         "issuing form (achievementTitle, ectsPoints, …); align the "
                         "OpenBadgeCredential issued from it")
    found = ", ".join(sorted(kinds)) if kinds else "no type"
    raise BadgeError(f"not an Open Badges 3.0 or ELM v3 document ({found}): expected type "
                     "OpenBadgeCredential, AchievementCredential or Achievement, or an ELM "
                     "EuropeanDigitalCredential, Qualification, LearningAchievementSpecification"
                     " or LearningOpportunity")


@dataclass
class BadgeAlignment:
    """What `align_badge` returns; `as_dict()` is the JSON answer."""

    format: str
    document: dict[str, Any]  # the input with the added entries (a new object)
    outcomes: list[dict[str, Any]]
    quality: dict[str, Any]
    credential: dict[str, Any]
    schema_violations: list[str] = field(default_factory=list)  # of the input (and output)

    @property
    def n_added(self) -> int:
        return sum(len(o["added"]) for o in self.outcomes)

    def as_dict(self) -> dict[str, Any]:
        return {"format": self.format, "credential": dict(self.credential),
                "quality": dict(self.quality), "outcomes": list(self.outcomes),
                "n_added": self.n_added, "schema_violations": list(self.schema_violations),
                "document": self.document}


def _plain(value: Any) -> Any:
    """A frame cell as a JSON value (NA and NaN -> None, numpy numbers -> Python)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _quality(frame: pd.DataFrame, rules: QualityRules) -> dict[str, Any]:
    checked = check_quality(frame, rules).iloc[0]
    issues = quality_issue_rows(frame, rules)
    row = frame.iloc[0]
    return {
        "ok": bool(checked["quality_ok"]),
        "issues": [{"rule": r, "severity": s, "message": m} for r, s, m in zip(
            issues["rule"], issues["severity"], issues["message"], strict=True)],
        "ects": _plain(row["ects"]),
        "eqf_level": _plain(row["eqf_level"]),
        "study_load_hours": _plain(row["study_load_hours"]),
        "n_outcomes": len(row["learning_outcomes"]),
    }


def _mapped(outcomes: list[Outcome], language: str, extractor: SkillExtractor,
            skills_per_outcome: int) -> dict[int, list[dict[str, Any]]]:
    """The best accepted skills per outcome index (declared ones not yet removed: the cut
    comes first, so aligning the output again finds the same skills, all declared)."""
    if not outcomes or not skills_per_outcome:
        return {}
    frame = pd.DataFrame({"credential_id": "badge",
                          "outcome_no": [o.index for o in outcomes],
                          "outcome_text": [o.text for o in outcomes]})
    rows = map_outcomes(frame, extractor, [language] * len(outcomes), skills_per_outcome)
    found: dict[int, list[dict[str, Any]]] = {}
    for row in rows.itertuples(index=False):
        found.setdefault(int(row.outcome_no), []).append({
            "uri": str(row.skill_uri), "label": str(row.skill_label),
            "skill_type": _plain(row.skill_type) or "", "score": float(row.score),
            "evidence": str(row.evidence), "phrase": str(row.phrase),
            "language": str(row.language)})
    return found


def align_badge(document: dict[str, Any], extractor: SkillExtractor, *,
                skills_per_outcome: int = 5,
                rules: QualityRules = DEFAULT_RULES) -> BadgeAlignment:
    """Add the ESCO skills of each learning outcome to a copy of an Open Badges 3.0 or ELM v3
    document: the best `skills_per_outcome` accepted skills of each outcome, less those
    already declared there. Declared entries stay as they were, first; the input is never
    changed. BadgeError (a ValueError) names what makes a document unusable."""
    if (isinstance(skills_per_outcome, bool) or not isinstance(skills_per_outcome, int)
            or not 0 <= skills_per_outcome <= MAX_SKILLS_PER_OUTCOME):
        raise BadgeError(f"skills_per_outcome must be a whole number from 0 to "
                         f"{MAX_SKILLS_PER_OUTCOME}, got {skills_per_outcome!r}")
    check_document(document)
    fmt = detect_format(document)
    module = _MODULES[fmt]
    violations = schema_violations(document, fmt)
    # an independent copy (no object shared with the input, nor within itself)
    output = json.loads(json.dumps(document, ensure_ascii=False))
    frame = module.catalogue_rows(output)
    outcomes = module.outcomes(output)
    if len(outcomes) > MAX_OUTCOMES:
        raise BadgeError(f"{len(outcomes)} learning outcomes, more than the {MAX_OUTCOMES} a "
                         "document may have")
    for outcome in outcomes:
        if len(outcome.text) > MAX_OUTCOME_CHARS:
            raise BadgeError(f"learning outcome {outcome.index} ({outcome.path}) has "
                             f"{len(outcome.text):,} characters, more than the "
                             f"{MAX_OUTCOME_CHARS:,} allowed")
    row = frame.iloc[0]
    language = _plain(row["language"]) or ""
    mapped = _mapped(outcomes, language, extractor, skills_per_outcome)
    for outcome in outcomes:
        skills = mapped.get(outcome.index, [])
        outcome.language = skills[0]["language"] if skills else (
            language if language in ("en", "nl") else "")
        for skill in skills:
            key = esco_key(skill["uri"])
            if key not in outcome.seen:
                outcome.seen.add(key)
                outcome.added.append({k: v for k, v in skill.items() if k != "language"})
        if outcome.added:
            entries = [module.entry(skill, outcome) for skill in outcome.added]
            for target in outcome.targets:
                module.append(target, entries)
    credential = {"title": _plain(row["title"]), "provider": _plain(row["provider"]),
                  "credential_id": _plain(row["credential_id"]), "language": language or None}
    return BadgeAlignment(format=fmt, document=output,
                          outcomes=[o.as_dict() for o in outcomes],
                          quality=_quality(frame, rules), credential=credential,
                          schema_violations=violations)
