"""Micro-credential pipeline steps: the quality check, learning outcomes one per row, their
ESCO skills (`map_outcomes`) and stackable links.

Each step is a plain DataFrame -> DataFrame function over the canonical credential schema
(`skillmatch.sources.credentials.CREDENTIAL_COLUMNS`), with no I/O, so it can run per
partition. The quality check only flags: a credential that fails it stays in the catalogue
(a learner may still hold it), marked `quality_ok = False` with its issues named. The
credentials pipeline and badge alignment (`skillmatch.badges`) share these steps, so a
credential gets the same check and the same skills either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from skillmatch.mapping import SkillExtractor

ISSUE_COLUMNS = ["credential_id", "rule", "severity", "message"]


@dataclass(frozen=True)
class QualityRules:
    """The quality framework of the Dutch micro-credential pilot as this project applies it:
    3-30 ECTS inclusive, learning outcomes, an EQF level and a stated study load of about
    28 hours per ECTS. A deployment can pass its own limits (e.g. from its config)."""

    min_ects: float = 3.0
    max_ects: float = 30.0
    min_eqf: int = 1
    max_eqf: int = 8
    # 1 ECTS = 25-30 hours; outside this wider band the stated load is implausible (warning).
    min_hours_per_ects: float = 20.0
    max_hours_per_ects: float = 40.0


DEFAULT_RULES = QualityRules()


def _fmt(values: pd.Series) -> pd.Series:
    """Numbers as short text for messages (5.0 -> '5', 7.5 -> '7.5')."""
    return values.astype("Float64").round(2).astype(object).map(
        lambda v: f"{v:g}" if v is not pd.NA else "?")


def _issue_frame(credentials: pd.DataFrame, rules: QualityRules) -> pd.DataFrame:
    """All issues with `row` = position in `credentials` (ids may repeat before dedupe)."""
    ects = credentials["ects"].astype("Float64")
    eqf = credentials["eqf_level"].astype("Int64")
    hours = credentials["study_load_hours"].astype("Float64")
    n_outcomes = credentials["learning_outcomes"].map(
        lambda v: len(v) if isinstance(v, (list, tuple, np.ndarray)) else 0)
    ratio = hours / ects.where(ects > 0)
    checks: list[tuple[str, str, pd.Series, pd.Series]] = [
        ("ects_missing", "error", ects.isna(),
         pd.Series("no ECTS credits stated", index=credentials.index)),
        ("ects_range", "error",
         ects.notna() & ((ects < rules.min_ects) | (ects > rules.max_ects)),
         "ECTS " + _fmt(ects) + f" outside {rules.min_ects:g}-{rules.max_ects:g}"),
        ("outcomes_missing", "error", n_outcomes == 0,
         pd.Series("no learning outcomes", index=credentials.index)),
        ("eqf_missing", "error", eqf.isna(),
         pd.Series("no EQF level", index=credentials.index)),
        ("eqf_range", "error", eqf.notna() & ((eqf < rules.min_eqf) | (eqf > rules.max_eqf)),
         "EQF level " + eqf.astype(str) + f" outside {rules.min_eqf}-{rules.max_eqf}"),
        ("study_load_missing", "error", hours.isna(),
         pd.Series("no study load (hours)", index=credentials.index)),
        ("study_load_ratio", "warning",
         ratio.notna() & ((ratio < rules.min_hours_per_ects)
                          | (ratio > rules.max_hours_per_ects)),
         _fmt(ratio) + " hours per ECTS (" + _fmt(hours) + " h / " + _fmt(ects)
         + f" ECTS), outside {rules.min_hours_per_ects:g}-{rules.max_hours_per_ects:g}"),
    ]
    positions = np.arange(len(credentials))
    parts = []
    for rule, severity, mask, message in checks:
        hit = mask.fillna(False).to_numpy(dtype=bool)
        if hit.any():
            parts.append(pd.DataFrame({
                "row": positions[hit],
                "credential_id": credentials["credential_id"].to_numpy()[hit],
                "rule": rule,
                "severity": severity,
                "message": np.asarray(message, dtype=object)[hit],
            }))
    if not parts:
        return pd.DataFrame({"row": pd.Series(dtype="int64"),
                             **{c: pd.Series(dtype="str") for c in ISSUE_COLUMNS}})
    issues = pd.concat(parts, ignore_index=True)
    return issues.sort_values(["row", "rule"], kind="stable").reset_index(drop=True)


def quality_issue_rows(credentials: pd.DataFrame,
                       rules: QualityRules = DEFAULT_RULES) -> pd.DataFrame:
    """One row per (credential, broken rule): credential_id, rule, severity (error /
    warning), message. Errors make a credential non-compliant; warnings only inform."""
    issues = _issue_frame(credentials, rules)
    return issues[ISSUE_COLUMNS].astype("str").reset_index(drop=True)


def check_quality(credentials: pd.DataFrame, rules: QualityRules = DEFAULT_RULES) -> pd.DataFrame:
    """The credentials with `quality_ok` (no error-level issue) and `quality_issues` (the
    rule ids broken, errors and warnings, as a list). Never drops a row."""
    issues = _issue_frame(credentials, rules)
    out = credentials.copy()
    rule_lists: list[list[str]] = [[] for _ in range(len(out))]
    ok = np.ones(len(out), dtype=bool)
    for row, rule, severity in zip(issues["row"], issues["rule"], issues["severity"],
                                   strict=True):
        rule_lists[row].append(rule)
        if severity == "error":
            ok[row] = False
    out["quality_ok"] = ok
    out["quality_issues"] = pd.Series(rule_lists, index=out.index, dtype=object)
    return out


def outcome_rows(credentials: pd.DataFrame) -> pd.DataFrame:
    """One row per learning outcome: credential_id, outcome_no (1-based, in the credential's
    order), outcome_text. These texts are what the mapping engine maps to ESCO skills."""
    frame = credentials[["credential_id", "learning_outcomes"]].reset_index(drop=True)
    exploded = frame.explode("learning_outcomes")
    exploded = exploded[exploded["learning_outcomes"].notna()]
    exploded = exploded[exploded["learning_outcomes"].astype(str).str.strip() != ""]
    numbers = exploded.groupby(level=0).cumcount() + 1
    return pd.DataFrame({
        "credential_id": exploded["credential_id"].astype("str").to_numpy(),
        "outcome_no": numbers.astype("int64").to_numpy(),
        "outcome_text": exploded["learning_outcomes"].astype("str").to_numpy(),
    })


def outcome_languages(credentials: pd.DataFrame, outcomes: pd.DataFrame) -> list[str]:
    """Per outcome row, its credential's stated language ('' when none): what `map_outcomes`
    takes."""
    return credentials.set_index("credential_id")["language"].reindex(
        outcomes["credential_id"]).fillna("").tolist()


def map_outcomes(outcomes: pd.DataFrame, extractor: SkillExtractor, languages: Sequence[str],
                 skills_per_outcome: int | None = 5, label: str | None = None) -> pd.DataFrame:
    """The accepted ESCO skills of each learning outcome (`outcome_rows`' frame), best first,
    at most `skills_per_outcome` each: the skill row columns (`SKILL_ROW_COLUMNS`), then
    credential_id and outcome_no. `languages` has one entry per outcome: "en" or "nl" as the
    credential states it; anything else is detected from the text. With a `label`, a
    progress bar."""
    # the mapping engine loads torch: imported when mapping, not with the quality check
    from skillmatch.mapping import extract_documents, skill_rows

    matches = extract_documents(extractor, outcomes["outcome_text"].tolist(),
                                [lg if lg in ("en", "nl") else "" for lg in languages],
                                label=label)
    keys = [f"{c}#{n}" for c, n in zip(outcomes["credential_id"], outcomes["outcome_no"],
                                       strict=True)]
    mapped = skill_rows(keys, matches, "outcome_key", skills_per_outcome)
    parts = mapped["outcome_key"].astype(str).str.rsplit("#", n=1)  # (also when none mapped)
    mapped["credential_id"] = parts.str[0]
    mapped["outcome_no"] = parts.str[1].astype("int64")
    return mapped.drop(columns="outcome_key")


def stack_rows(credentials: pd.DataFrame) -> pd.DataFrame:
    """One row per stackable link: credential_id, stackable_with (the next credential in a
    stackable path) and target_known (whether that credential is in `credentials`). Links to
    unknown credentials are kept and reported, not dropped: the catalogue may be partial."""
    frame = credentials[["credential_id", "stackable_with"]].reset_index(drop=True)
    exploded = frame.explode("stackable_with")
    exploded = exploded[exploded["stackable_with"].notna()]
    known = set(credentials["credential_id"].astype(str))
    targets = exploded["stackable_with"].astype("str")
    return pd.DataFrame({
        "credential_id": exploded["credential_id"].astype("str").to_numpy(),
        "stackable_with": targets.to_numpy(),
        "target_known": targets.isin(known).to_numpy(dtype=bool),
    })


def unknown_stack_targets(credentials: pd.DataFrame) -> pd.DataFrame:
    """The stackable links whose target credential is not in the catalogue (to report)."""
    links = stack_rows(credentials)
    return links[~links["target_known"]].reset_index(drop=True)
