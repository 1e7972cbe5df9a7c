"""Micro-credential recommendations: close a learner's skill gap within an ECTS budget.

The gap is the target requirements (see `matching`) the learner does not hold yet, either from
a credential they hold or a skill they declared. Credentials are ranked by the gap weight they
cover per ECTS (a learner's scarce resource is study time), and `stackable_path` picks a set
of credentials within a budget.

Choosing that set is budgeted maximum coverage, which is NP-hard; the greedy rule (take the
credential with the most newly covered weight per ECTS that still fits) can be arbitrarily bad
alone (a cheap credential covering a sliver crowds out the one that covers almost everything),
but the better of greedy and the best single credential that fits is guaranteed to cover at
least (1 - 1/e) / 2 of the optimum (Khuller, Moss & Naor 1999). The chosen credentials are then
ordered so that a credential comes after the one it builds on along a stackable path.

A credential without ECTS gets an estimate: study_load_hours / 28 (the ECTS users' guide puts
one credit at 25-30 hours), else 5 ECTS (a common micro-credential size); `ects_estimated` says
so, so a page can show it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from skillmatch.matching import REQUIREMENT_COLUMNS, normalise_requirements

DEFAULT_ECTS = 5.0
HOURS_PER_ECTS = 28.0
CREDENTIAL_COLUMNS = ["credential_id", "title", "provider", "ects", "ects_estimated", "eqf_level",
                      "url", "stackable_with"]
SKILL_COLUMNS = ["credential_id", "skill_uri", "skill_label"]
STACK_COLUMNS = ["credential_id", "stackable_with"]
HELD_COLUMNS = ["skill_uri", "skill_label", "via"]
RANK_COLUMNS = ["credential_id", "title", "provider", "ects", "ects_estimated", "eqf_level",
                "covers", "covered_weight", "covered_share", "weight_per_ects"]
PATH_COLUMNS = ["step", "credential_id", "title", "ects", "cumulative_ects", "new_skills",
                "covered_weight_after", "reason"]
_FIT_TOLERANCE = 1e-9  # ECTS sums like 0.1 + 0.2 must still fit a 0.3 budget


@dataclass
class Catalogue:
    """The micro-credential catalogue: credentials (ECTS filled in), the skills each teaches
    (accepted credential_skill rows) and the known stackable links between them."""

    credentials: pd.DataFrame  # CREDENTIAL_COLUMNS
    skills: pd.DataFrame       # SKILL_COLUMNS
    stack: pd.DataFrame        # STACK_COLUMNS, credential -> the credential that builds on it


def _as_list(value: object) -> list[str]:
    """A list column value (list, numpy array or NULL) as a list of strings."""
    if value is None or (not isinstance(value, (list, tuple, np.ndarray)) and pd.isna(value)):
        return []
    return [str(v) for v in value if v is not None]


def _fill_ects(ects: pd.Series, hours: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """ECTS as published when positive, else estimated from the study hours, else the
    default; and whether it was estimated."""
    given = pd.to_numeric(ects, errors="coerce").to_numpy(dtype=np.float64)
    study = pd.to_numeric(hours, errors="coerce").to_numpy(dtype=np.float64)
    has_given = np.isfinite(given) & (given > 0)
    has_hours = np.isfinite(study) & (study > 0)
    filled = np.where(has_given, given,
                      np.where(has_hours, study / HOURS_PER_ECTS, DEFAULT_ECTS))
    return filled, ~has_given


def load_catalogue(con: duckdb.DuckDBPyConnection) -> Catalogue:
    """Read credential, credential_skill (accepted, one row per credential and skill; labels
    from esco_skill where known) and credential_stack (links whose target is known)."""
    rows = con.execute(
        "SELECT DISTINCT ON (credential_id) credential_id, title, provider, ects, "
        "study_load_hours, eqf_level, url, stackable_with FROM credential "
        "WHERE credential_id IS NOT NULL ORDER BY credential_id").df()
    ects, estimated = _fill_ects(rows["ects"], rows["study_load_hours"])
    credentials = pd.DataFrame({
        "credential_id": rows["credential_id"].astype("str"),
        "title": rows["title"].fillna("").astype("str"),
        "provider": rows["provider"].fillna("").astype("str"),
        "ects": ects,
        "ects_estimated": estimated,
        "eqf_level": pd.array(rows["eqf_level"], dtype="Int64"),
        "url": rows["url"].fillna("").astype("str"),
        "stackable_with": [_as_list(v) for v in rows["stackable_with"]],
    }, columns=CREDENTIAL_COLUMNS)
    skills = con.execute(
        """
        SELECT cs.credential_id, cs.skill_uri,
               coalesce(min(e.preferred_label), min(cs.skill_label), cs.skill_uri)
                   AS skill_label
        FROM credential_skill cs
        JOIN (SELECT DISTINCT credential_id FROM credential) c USING (credential_id)
        LEFT JOIN esco_skill e ON e.uri = cs.skill_uri
        WHERE cs.accepted AND cs.skill_uri IS NOT NULL
        GROUP BY cs.credential_id, cs.skill_uri
        ORDER BY cs.credential_id, min(cs.outcome_no), cs.skill_uri
        """).df()
    stack = con.execute(
        "SELECT DISTINCT credential_id, stackable_with FROM credential_stack "
        "WHERE target_known AND credential_id IS NOT NULL AND stackable_with IS NOT NULL "
        "ORDER BY credential_id, stackable_with").df()
    return Catalogue(credentials=credentials.reset_index(drop=True),
                     skills=skills[SKILL_COLUMNS].astype("str").reset_index(drop=True),
                     stack=stack[STACK_COLUMNS].astype("str").reset_index(drop=True))


def _skill_labels(catalogue: Catalogue) -> dict[str, str]:
    """First catalogue label per skill URI."""
    skills = catalogue.skills.drop_duplicates("skill_uri")
    return dict(zip(skills["skill_uri"], skills["skill_label"], strict=True))


def held_skills(catalogue: Catalogue, credentials_held: Sequence[str],
                declared_skill_uris: Sequence[str],
                con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """The skills a learner holds: one row per skill, with where it comes from ("credential
    <id>" and/or "declared", joined with '; '). Declared skills are labelled from the
    catalogue, else from esco_skill when a connection is given, else by their URI. A held
    credential that is not in the catalogue -> ValueError naming them (a typo would otherwise
    silently widen the gap)."""
    if isinstance(credentials_held, str):
        credentials_held = [credentials_held]
    if isinstance(declared_skill_uris, str):
        declared_skill_uris = [declared_skill_uris]
    held_ids = list(dict.fromkeys(str(c).strip() for c in credentials_held if c is not None))
    held_ids = [c for c in held_ids if c]
    known = set(catalogue.credentials["credential_id"])
    unknown = [c for c in held_ids if c not in known]
    if unknown:
        raise ValueError(f"unknown credential id(s), not in the catalogue: {', '.join(unknown)}")
    labels: dict[str, str] = {}
    sources: dict[str, list[str]] = {}
    taught = catalogue.skills[catalogue.skills["credential_id"].isin(held_ids)]
    for credential_id in held_ids:
        rows = taught[taught["credential_id"] == credential_id]
        for uri, label in zip(rows["skill_uri"], rows["skill_label"], strict=True):
            labels.setdefault(uri, label)
            sources.setdefault(uri, []).append(f"credential {credential_id}")
    declared = list(dict.fromkeys(str(u).strip() for u in declared_skill_uris
                                  if u is not None and str(u).strip()))
    catalogue_labels = _skill_labels(catalogue)
    missing = [u for u in declared if u not in labels and u not in catalogue_labels]
    esco_labels: dict[str, str] = {}
    if missing and con is not None:
        esco_labels = dict(con.execute(
            "SELECT uri, min(preferred_label) FROM esco_skill "
            "WHERE list_contains(?, uri) AND preferred_label IS NOT NULL GROUP BY uri",
            [missing]).fetchall())
    for uri in declared:
        labels.setdefault(uri, catalogue_labels.get(uri) or esco_labels.get(uri) or uri)
        sources.setdefault(uri, []).append("declared")
    return pd.DataFrame({"skill_uri": list(labels),
                         "skill_label": [labels[u] for u in labels],
                         "via": ["; ".join(sources[u]) for u in labels]}, columns=HELD_COLUMNS)


def skill_gap(target: pd.DataFrame, held: pd.DataFrame) -> pd.DataFrame:
    """The target requirements whose skill is not held: same columns, same order."""
    held_uris = set(held["skill_uri"]) if "skill_uri" in held.columns else set()
    return target[~target["skill_uri"].isin(held_uris)].reset_index(drop=True)


@dataclass(frozen=True)
class _Coverage:
    """Which gap requirements (by position) each eligible credential covers."""

    gap: pd.DataFrame              # normalised gap
    weights: np.ndarray            # per gap position
    credentials: pd.DataFrame      # eligible credentials, catalogue columns, catalogue order
    covers: list[np.ndarray]       # per eligible credential: sorted gap positions covered


def _coverage(gap: pd.DataFrame, catalogue: Catalogue, exclude: Sequence[str]) -> _Coverage:
    """Credentials (not excluded) that cover at least one gap skill, and what they cover."""
    table = normalise_requirements(gap) if len(gap) else pd.DataFrame(columns=REQUIREMENT_COLUMNS)
    weights = table["weight"].to_numpy(dtype=np.float64)
    if isinstance(exclude, str):
        exclude = [exclude]
    position = pd.Series(np.arange(len(table)), index=table["skill_uri"].to_numpy())
    skills = catalogue.skills[catalogue.skills["skill_uri"].isin(position.index)]
    skills = skills[~skills["credential_id"].isin(set(exclude))]
    pairs = pd.DataFrame({"credential_id": skills["credential_id"].to_numpy(),
                          "pos": position.loc[skills["skill_uri"]].to_numpy()})
    pairs = pairs.drop_duplicates().sort_values(["credential_id", "pos"])
    grouped = {cid: group["pos"].to_numpy() for cid, group in
               pairs.groupby("credential_id", sort=True)}
    credentials = catalogue.credentials[catalogue.credentials["credential_id"].isin(grouped)]
    credentials = credentials.drop_duplicates("credential_id").reset_index(drop=True)
    covers = [grouped[cid] for cid in credentials["credential_id"]]
    return _Coverage(gap=table, weights=weights, credentials=credentials, covers=covers)


def rank_credentials(gap: pd.DataFrame, catalogue: Catalogue, *, exclude: Sequence[str] = (),
                     top_k: int | None = None) -> pd.DataFrame:
    """Credentials that cover at least one gap skill, best value first: gap weight covered
    per ECTS, then weight covered, then credential_id. exclude = credentials already held."""
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1 or None, got {top_k}")
    cov = _coverage(gap, catalogue, exclude)
    if cov.credentials.empty:
        return pd.DataFrame(columns=RANK_COLUMNS)
    total = float(cov.weights.sum())
    labels = cov.gap["skill_label"].to_numpy(dtype=object)
    covered = np.array([cov.weights[c].sum() for c in cov.covers], dtype=np.float64)
    ects = cov.credentials["ects"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_ects = np.where(ects > 0, covered / ects, np.inf)
    out = pd.DataFrame({
        "credential_id": cov.credentials["credential_id"].to_numpy(),
        "title": cov.credentials["title"].to_numpy(),
        "provider": cov.credentials["provider"].to_numpy(),
        "ects": ects,
        "ects_estimated": cov.credentials["ects_estimated"].to_numpy(dtype=bool),
        "eqf_level": cov.credentials["eqf_level"].array,
        "covers": [labels[c].tolist() for c in cov.covers],
        "covered_weight": covered,
        "covered_share": covered / total if total > 0 else np.zeros(len(covered)),
        "weight_per_ects": per_ects,
    }, columns=RANK_COLUMNS)
    out = out.sort_values(["weight_per_ects", "covered_weight", "credential_id"],
                          ascending=[False, False, True], kind="stable")
    if top_k is not None:
        out = out.head(top_k)
    return out.reset_index(drop=True)


def credentials_for_missing(missing_skill_uris: Sequence[str], catalogue: Catalogue,
                            top_k: int = 3, *, exclude: Sequence[str] = ()) -> pd.DataFrame:
    """The best credentials to learn a candidate's missing skills (each weighing 1), for the
    talent page; same columns as `rank_credentials`."""
    if isinstance(missing_skill_uris, str):
        missing_skill_uris = [missing_skill_uris]
    uris = list(dict.fromkeys(str(u) for u in missing_skill_uris if u is not None and str(u)))
    labels = _skill_labels(catalogue)
    gap = pd.DataFrame({"skill_uri": uris, "skill_label": [labels.get(u, u) for u in uris],
                        "importance": ["essential"] * len(uris), "weight": [1.0] * len(uris)},
                       columns=REQUIREMENT_COLUMNS)
    return rank_credentials(gap, catalogue, exclude=exclude, top_k=top_k)


def _fits(ects: float, budget: float) -> bool:
    return ects <= budget + _FIT_TOLERANCE


def _greedy(cov: _Coverage, ects: np.ndarray, ids: np.ndarray, budget: float) -> list[int]:
    """Repeatedly take the credential with the most new gap weight per ECTS that still fits
    the remaining budget (ties: more new weight, then credential_id)."""
    covered = np.zeros(len(cov.weights), dtype=bool)
    chosen: list[int] = []
    spent = 0.0
    while True:
        best: tuple[float, float, str] | None = None
        pick = -1
        for i, positions in enumerate(cov.covers):
            if i in chosen or not _fits(spent + ects[i], budget):
                continue
            gain = float(cov.weights[positions[~covered[positions]]].sum())
            if gain <= 0:
                continue
            ratio = gain / ects[i] if ects[i] > 0 else math.inf
            if best is None or (ratio, gain) > best[:2] or \
                    ((ratio, gain) == best[:2] and ids[i] < best[2]):
                best, pick = (ratio, gain, ids[i]), i
        if pick < 0:
            return chosen
        chosen.append(pick)
        covered[cov.covers[pick]] = True
        spent += ects[pick]


def _best_single(cov: _Coverage, ects: np.ndarray, ids: np.ndarray,
                 budget: float) -> tuple[int, float]:
    """The single fitting credential covering the most gap weight (ties: fewer ECTS, then
    credential_id); (-1, 0.0) when none covers any weight."""
    best: tuple[float, float, str] | None = None
    pick = -1
    for i, positions in enumerate(cov.covers):
        if not _fits(ects[i], budget):
            continue
        gain = float(cov.weights[positions].sum())
        key = (-gain, ects[i], ids[i])
        if gain > 0 and (best is None or key < best):
            best, pick = key, i
    return pick, (-best[0] if best is not None else 0.0)


def _stack_order(chosen: list[int], ids: np.ndarray,
                 builds_on: dict[str, set[str]]) -> list[int]:
    """Chosen credentials reordered so that a credential follows every chosen credential it
    builds on; otherwise (and to break a cycle) the given order is kept."""
    remaining = list(chosen)
    placed: set[str] = set()
    chosen_ids = {ids[i] for i in chosen}
    order: list[int] = []
    while remaining:
        ready = next((i for i in remaining
                      if (builds_on.get(ids[i], set()) & chosen_ids) <= placed), remaining[0])
        order.append(ready)
        placed.add(ids[ready])
        remaining.remove(ready)
    return order


def _builds_on(catalogue: Catalogue) -> dict[str, set[str]]:
    """credential -> the credentials it builds on (A lists B in stackable_with: B builds on A),
    from credential_stack and the credentials' own stackable_with lists."""
    edges: dict[str, set[str]] = {}
    pairs = list(zip(catalogue.stack["credential_id"], catalogue.stack["stackable_with"],
                     strict=True))
    for source, targets in zip(catalogue.credentials["credential_id"],
                               catalogue.credentials["stackable_with"], strict=True):
        pairs.extend((source, target) for target in _as_list(targets))
    for source, target in pairs:
        if source != target:
            edges.setdefault(str(target), set()).add(str(source))
    return edges


def _ects_text(ects: float) -> str:
    return f"{round(ects, 1):g}"


def stackable_path(gap: pd.DataFrame, catalogue: Catalogue, budget_ects: float, *,
                   exclude: Sequence[str] = ()) -> pd.DataFrame:
    """A set of credentials within `budget_ects` that covers as much gap weight as it can,
    as ordered steps (see the module docstring for the rule and its guarantee).

    `attrs["strategy"]` on the result says which rule won: "greedy" or "best_single"."""
    budget = float(budget_ects)
    if not budget > 0:
        raise ValueError(f"budget_ects must be > 0, got {budget_ects}")
    empty = pd.DataFrame(columns=PATH_COLUMNS)
    cov = _coverage(gap, catalogue, exclude)
    if cov.credentials.empty:
        return empty
    ids = cov.credentials["credential_id"].to_numpy(dtype=object)
    ects = cov.credentials["ects"].to_numpy(dtype=np.float64)
    chosen = _greedy(cov, ects, ids, budget)
    greedy_weight = float(cov.weights[np.unique(np.concatenate(
        [cov.covers[i] for i in chosen]))].sum()) if chosen else 0.0
    single, single_weight = _best_single(cov, ects, ids, budget)
    strategy = "greedy"
    if single >= 0 and single_weight > greedy_weight + _FIT_TOLERANCE:
        chosen, strategy = [single], "best_single"
    if not chosen:
        return empty
    builds_on = _builds_on(catalogue)
    order = _stack_order(chosen, ids, builds_on)
    titles = cov.credentials["title"].to_numpy(dtype=object)
    labels = cov.gap["skill_label"].to_numpy(dtype=object)
    total = float(cov.weights.sum())
    covered = np.zeros(len(cov.weights), dtype=bool)
    spent = 0.0
    rows = []
    for step, i in enumerate(order, start=1):
        positions = cov.covers[i]
        new = positions[~covered[positions]]
        covered[new] = True
        spent += ects[i]
        new_labels = labels[new].tolist()
        if new_labels:
            noun = "skill" if len(new_labels) == 1 else "skills"
            reason = (f"Adds {len(new_labels)} missing {noun} ({', '.join(new_labels)}) "
                      f"for {_ects_text(ects[i])} ECTS")
        else:
            reason = f"Adds no skills beyond the earlier steps, for {_ects_text(ects[i])} ECTS"
        earlier = [j for j in order[:step - 1] if ids[j] in builds_on.get(ids[i], set())]
        if earlier:
            reason += "; builds on " + " and ".join(str(titles[j]) for j in earlier)
        if strategy == "best_single":
            reason += ("; on its own it covers more of the gap than the best-value "
                       "combination that fits the budget")
        rows.append({"step": step, "credential_id": ids[i], "title": titles[i],
                     "ects": float(ects[i]), "cumulative_ects": spent,
                     "new_skills": new_labels,
                     "covered_weight_after": float(cov.weights[covered].sum()) / total,
                     "reason": reason + "."})
    out = pd.DataFrame(rows, columns=PATH_COLUMNS)
    out.attrs["strategy"] = strategy
    return out
