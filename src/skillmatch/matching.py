"""Talent matching: find candidates whose skills cover a vacancy's ESCO skill requirements.

A candidate *holds* a skill when they declared it (candidate_skill.skill_uri) or hold a
credential that teaches it (candidate_credential joined to the accepted credential_skill rows).
A requirement table lists skills with an importance ('essential' | 'optional') and a weight;
a candidate's score is the weight of the requirements they hold divided by the total weight.

Why a posting-list index: employers search interactively, so `TalentIndex.search` must answer
in milliseconds over 100,000+ candidates. Holdings are loaded once into a skills x candidates
sparse matrix whose rows are the posting lists of each skill (CSR over skills, i.e. the CSC
layout of candidates x skills). A search concatenates the requested skills' posting lists and
counts them per candidate with two `np.bincount`s (weighted: the score; essential only: the
tie-break), touching only those postings. Scores, ranking and region masks are then plain
numpy over int codes; labels and lists are built only for the top_k rows. `explain` uses
separate small per-candidate structures (declared skills, held credentials, the skills each
credential teaches) so every match can be traced back to its evidence. The server takes
`Requirements` (plain tuples) and asks for records: building pandas frames cost more than the
search itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from scipy import sparse

from skillmatch import warehouse

ESSENTIAL_WEIGHT = 1.0
OPTIONAL_WEIGHT = 0.5
IMPORTANCES = ("essential", "optional")
REQUIREMENT_COLUMNS = ["skill_uri", "skill_label", "importance", "weight"]
SEARCH_COLUMNS = ["rank", "candidate_id", "region", "current_occupation", "score",
                  "essential_matched", "essential_total", "optional_matched", "optional_total",
                  "matched_skills", "missing_skills", "missing_skill_uris"]
EXPLAIN_COLUMNS = ["skill_uri", "skill_label", "importance", "weight", "matched", "via",
                   "evidence"]
SCORE_DECIMALS = 9  # rounding makes mathematically equal scores tie exactly in the ranking
DECLARED_EVIDENCE = "declared by the candidate"


def _default_weights(essential_weight: float, optional_weight: float) -> dict[str, float]:
    """Validated default weight per importance."""
    weights = {"essential": float(essential_weight), "optional": float(optional_weight)}
    for importance, weight in weights.items():
        if not np.isfinite(weight) or weight < 0:
            raise ValueError(f"{importance}_weight must be a finite number >= 0, got {weight}")
    return weights


def _empty_requirements() -> pd.DataFrame:
    return pd.DataFrame({"skill_uri": pd.Series(dtype="str"),
                         "skill_label": pd.Series(dtype="str"),
                         "importance": pd.Series(dtype="str"),
                         "weight": pd.Series(dtype="float64")})


def requirements_for_occupation(con: duckdb.DuckDBPyConnection, occupation_uri: str, *,
                                include_optional: bool = True,
                                essential_weight: float = ESSENTIAL_WEIGHT,
                                optional_weight: float = OPTIONAL_WEIGHT) -> pd.DataFrame:
    """The ESCO skill profile of an occupation as a requirement table: essential skills first,
    then optional ones, each group in label order. A skill listed both ways counts as
    essential. Unknown occupation -> ValueError naming it."""
    weights = _default_weights(essential_weight, optional_weight)
    rows = con.execute(
        """
        SELECT os.skill_uri,
               coalesce(min(s.preferred_label), os.skill_uri) AS skill_label,
               min(CASE WHEN os.relation_type = 'essential' THEN 0 ELSE 1 END) AS rank
        FROM esco_occupation_skill os
        LEFT JOIN esco_skill s ON s.uri = os.skill_uri
        WHERE os.occupation_uri = ? AND os.skill_uri IS NOT NULL
          AND os.relation_type IN ('essential', 'optional')
        GROUP BY os.skill_uri
        """, [occupation_uri]).df()
    if rows.empty:
        known = con.execute("SELECT count(*) FROM esco_occupation WHERE uri = ?",
                            [occupation_uri]).fetchone()[0]
        if not known:
            raise ValueError(f"unknown occupation {occupation_uri!r}: not in esco_occupation")
        return _empty_requirements()
    if not include_optional:
        rows = rows[rows["rank"] == 0]
    rows = rows.assign(_label_key=rows["skill_label"].str.casefold())
    rows = rows.sort_values(["rank", "_label_key", "skill_uri"], kind="stable")
    importance = np.where(rows["rank"].to_numpy() == 0, "essential", "optional")
    return pd.DataFrame({
        "skill_uri": rows["skill_uri"].astype("str").to_numpy(),
        "skill_label": rows["skill_label"].astype("str").to_numpy(),
        "importance": importance,
        "weight": [weights[i] for i in importance],
    }).astype({"weight": "float64"})


def requirements_from_skills(con: duckdb.DuckDBPyConnection, skill_uris: Sequence[str],
                             importance: str = "essential", *,
                             essential_weight: float = ESSENTIAL_WEIGHT,
                             optional_weight: float = OPTIONAL_WEIGHT) -> pd.DataFrame:
    """A requirement table from a hand-picked list of ESCO skill URIs (all with the same
    importance), in the given order; duplicates dropped (first kept), blanks ignored. Labels
    come from esco_skill, so a URI that is not an ESCO skill -> ValueError listing them all."""
    weights = _default_weights(essential_weight, optional_weight)
    if importance not in IMPORTANCES:
        raise ValueError(f"importance must be 'essential' or 'optional', got {importance!r}")
    if isinstance(skill_uris, str):
        skill_uris = [skill_uris]
    uris = list(dict.fromkeys(u.strip() for u in skill_uris if u is not None and u.strip()))
    if not uris:
        return _empty_requirements()
    labels = con.execute(
        "SELECT uri, min(preferred_label) FROM esco_skill WHERE list_contains(?, uri) "
        "GROUP BY uri", [uris]).fetchall()
    label_of = {uri: (label if label is not None else uri) for uri, label in labels}
    return Requirements.from_skills(label_of, uris, importance, weights[importance]).frame()


def skill_labels(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every ESCO skill URI -> its preferred label (a server keeps it: no SQL per search)."""
    rows = con.execute("SELECT uri, min(preferred_label) FROM esco_skill GROUP BY uri").fetchall()
    return {uri: (label if label is not None else uri) for uri, label in rows}


def _blank(value: object) -> bool:
    """True for None, NaN/NA and empty or whitespace-only strings (what a UI editor leaves)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def normalise_requirements(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a requirement table edited by a person (e.g. in a UI data editor).

    Rows without a skill_uri are dropped; importance must be 'essential' or 'optional' (case
    and surrounding spaces ignored); a missing weight gets the importance's default; a weight
    must be a finite number >= 0; a missing label becomes the URI; a skill listed twice keeps
    its highest-weight row (the first of equals), in that row's position. Errors name the row
    (the frame's index label) so the person can find it."""
    return Requirements.from_frame(frame).frame()


@dataclass(frozen=True)
class Requirements:
    """A validated requirement list as plain tuples: what `normalise_requirements` gives as a
    frame. Searches take either; a server builds this one directly, since building pandas
    frames was most of a talent search's time."""

    uris: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    importances: tuple[str, ...] = ()
    weights: tuple[float, ...] = ()

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[object, object, object, object, object]]
                  ) -> Requirements:
        """(row name, skill_uri, label, importance, weight) rows, validated as
        `normalise_requirements` states."""
        defaults = {"essential": ESSENTIAL_WEIGHT, "optional": OPTIONAL_WEIGHT}
        kept: dict[str, tuple[str, str, float]] = {}  # skill_uri -> (label, importance, weight)
        for row, uri, label, importance, weight in rows:
            if _blank(uri):
                continue
            uri = str(uri).strip()
            where = f"row {row!r} (skill_uri {uri!r})"
            key = "" if _blank(importance) else str(importance).strip().casefold()
            if key not in defaults:
                raise ValueError(f"{where}: importance must be 'essential' or 'optional', "
                                 f"got {importance!r}")
            if _blank(weight):
                value = defaults[key]
            else:
                try:
                    value = float(weight)  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    raise ValueError(f"{where}: weight must be a number, got {weight!r}"
                                     ) from None
                if not np.isfinite(value) or value < 0:
                    raise ValueError(f"{where}: weight must be a finite number >= 0, "
                                     f"got {weight!r}")
            if uri in kept:
                if value <= kept[uri][2]:
                    continue
                del kept[uri]  # the heavier row wins, in its own position
            kept[uri] = (uri if _blank(label) else str(label), key, value)
        values = list(kept.values())
        return cls(tuple(kept), tuple(v[0] for v in values), tuple(v[1] for v in values),
                   tuple(v[2] for v in values))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Requirements:
        if "skill_uri" not in frame.columns:
            raise ValueError("requirements need a 'skill_uri' column")
        if "importance" not in frame.columns:
            raise ValueError("requirements need an 'importance' column "
                             "('essential' | 'optional')")
        n = len(frame)

        def column(name: str) -> list:
            return frame[name].tolist() if name in frame.columns else [None] * n

        return cls.from_rows(list(zip(frame.index, frame["skill_uri"].tolist(),
                                      column("skill_label"), frame["importance"].tolist(),
                                      column("weight"), strict=True)))

    @classmethod
    def from_skills(cls, label_of: Mapping[str, str], skill_uris: Sequence[str],
                    importance: str = "essential", weight: float | None = None
                    ) -> Requirements:
        """Skills by URI (labels from `label_of`, all one importance); a URI `label_of` lacks
        -> ValueError listing them all."""
        unknown = [u for u in dict.fromkeys(skill_uris) if u not in label_of]
        if unknown:
            raise ValueError(f"unknown skill URI(s), not in esco_skill: {', '.join(unknown)}")
        return cls.from_rows([(i, u, label_of[u], importance, weight)
                              for i, u in enumerate(skill_uris)])

    def __add__(self, other: Requirements) -> Requirements:
        """Both lists, validated again (a skill in both keeps its heavier entry)."""
        return Requirements.from_rows(list(zip(range(len(self) + len(other)),
                                               self.uris + other.uris,
                                               self.labels + other.labels,
                                               self.importances + other.importances,
                                               self.weights + other.weights, strict=True)))

    def __len__(self) -> int:
        return len(self.uris)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "skill_uri": list(self.uris), "skill_label": list(self.labels),
            "importance": list(self.importances),
            "weight": np.array(self.weights, dtype=np.float64),
        }, columns=REQUIREMENT_COLUMNS)

    def records(self) -> list[dict[str, object]]:
        return [dict(zip(REQUIREMENT_COLUMNS, row, strict=True)) for row in
                zip(self.uris, self.labels, self.importances, self.weights, strict=True)]


@dataclass(frozen=True)
class _Requirements:
    """Validated requirements as arrays, with the skill codes of this index."""

    table: Requirements
    codes: np.ndarray       # skill code per requirement, -1 when no candidate holds it
    essential: np.ndarray   # bool per requirement
    weights: np.ndarray     # float64 per requirement


def _csr_rows(owners: np.ndarray, values: np.ndarray, n_owners: int) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """indptr / indices of a CSR layout from (owner, value) pairs already sorted by owner."""
    indptr = np.zeros(n_owners + 1, dtype=np.int64)
    np.cumsum(np.bincount(owners, minlength=n_owners), out=indptr[1:])
    return indptr, np.ascontiguousarray(values, dtype=np.int32)


def _codes(result: dict[str, np.ndarray], *names: str) -> list[np.ndarray]:
    return [np.asarray(result[name], dtype=np.int32) for name in names]


# Dense int codes are assigned once in DuckDB, in temporary tables of a cursor of its own: they
# vanish when it closes, never clash with another session's, and work on a read-only warehouse.
# Every join after the first step is on integers, which keeps 40M+ holdings fast to build.
_LOAD_STEPS = [
    """CREATE TEMP TABLE tm_cand AS
       SELECT candidate_id, (row_number() OVER (ORDER BY candidate_id) - 1)::INTEGER AS c,
              region, current_occupation
       FROM (SELECT candidate_id, coalesce(min(region), '') AS region,
                    coalesce(min(current_occupation), '') AS current_occupation
             FROM candidate WHERE candidate_id IS NOT NULL GROUP BY candidate_id)""",
    """CREATE TEMP TABLE tm_held_id AS
       SELECT DISTINCT t.c, cc.credential_id
       FROM candidate_credential cc JOIN tm_cand t USING (candidate_id)
       WHERE cc.credential_id IS NOT NULL""",
    """CREATE TEMP TABLE tm_cred AS
       SELECT credential_id, (row_number() OVER (ORDER BY credential_id) - 1)::INTEGER AS k
       FROM (SELECT DISTINCT credential_id FROM tm_held_id)""",
    """CREATE TEMP TABLE tm_taught_uri AS
       SELECT DISTINCT r.k, cs.skill_uri
       FROM credential_skill cs JOIN tm_cred r USING (credential_id)
       WHERE cs.accepted AND cs.skill_uri IS NOT NULL""",
    """CREATE TEMP TABLE tm_declared_uri AS
       SELECT DISTINCT t.c, cs.skill_uri
       FROM candidate_skill cs JOIN tm_cand t USING (candidate_id)
       WHERE cs.skill_uri IS NOT NULL""",
    """CREATE TEMP TABLE tm_skill AS
       SELECT skill_uri, (row_number() OVER (ORDER BY skill_uri) - 1)::INTEGER AS s
       FROM (SELECT skill_uri FROM tm_declared_uri UNION SELECT skill_uri FROM tm_taught_uri)""",
    """CREATE TEMP TABLE tm_held AS
       SELECT h.c, r.k FROM tm_held_id h JOIN tm_cred r USING (credential_id)""",
    """CREATE TEMP TABLE tm_taught AS
       SELECT t.k, s.s FROM tm_taught_uri t JOIN tm_skill s USING (skill_uri)""",
    """CREATE TEMP TABLE tm_declared AS
       SELECT d.c, s.s FROM tm_declared_uri d JOIN tm_skill s USING (skill_uri)""",
]
_LOAD_QUERIES = {
    "candidates": "SELECT candidate_id, region, current_occupation FROM tm_cand ORDER BY c",
    "skills": "SELECT skill_uri FROM tm_skill ORDER BY s",
    "credentials": """
        SELECT r.credential_id, coalesce(t.title, '') AS title FROM tm_cred r
        LEFT JOIN (SELECT credential_id, min(title) AS title FROM credential
                   GROUP BY credential_id) t USING (credential_id)
        ORDER BY r.k""",
    "declared": "SELECT c, s FROM tm_declared ORDER BY c, s",
    "held": "SELECT c, k FROM tm_held ORDER BY c, k",
    "taught": "SELECT k, s FROM tm_taught ORDER BY k, s",
    # a skill held both ways, or via two credentials, is listed twice: `_distinct_pairs` folds
    # them (a numpy sort of int64 keys beats a DISTINCT + ORDER BY here several times over)
    "holdings": """
        SELECT s, c FROM tm_declared
        UNION ALL
        SELECT t.s, h.c FROM tm_held h JOIN tm_taught t USING (k)""",
}


def _distinct_pairs(rows: np.ndarray, cols: np.ndarray,
                    n_cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (row, col) pairs sorted by row, then col."""
    width = max(n_cols, 1)
    key = np.asarray(rows, dtype=np.int64) * width + np.asarray(cols, dtype=np.int64)
    key.sort()
    if len(key):
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    return (key // width).astype(np.int32), (key % width).astype(np.int32)


def _load_arrays(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, np.ndarray]]:
    """Run the load steps on a cursor of their own and fetch every result as numpy."""
    cursor = warehouse.cursor(con)
    try:
        for step in _LOAD_STEPS:
            cursor.execute(step)
        return {name: cursor.execute(query).fetchnumpy()
                for name, query in _LOAD_QUERIES.items()}
    finally:
        cursor.close()


class TalentIndex:
    """Candidates and the skills they hold, indexed for fast, explainable matching."""

    def __init__(self, *, candidate_ids: np.ndarray, regions: np.ndarray,
                 occupations: np.ndarray, skill_uris: np.ndarray, holdings: sparse.csr_array,
                 declared: tuple[np.ndarray, np.ndarray], held: tuple[np.ndarray, np.ndarray],
                 taught: tuple[np.ndarray, np.ndarray], credential_ids: np.ndarray,
                 credential_titles: np.ndarray) -> None:
        """Arrays by int code: candidate c is candidate_ids[c] (sorted), skill s is
        skill_uris[s]; holdings is skills x candidates with sorted posting lists; declared
        and held are CSR (indptr, indices) per candidate, taught per credential."""
        self._ids = np.asarray(candidate_ids, dtype=object)
        self._occupations = np.asarray(occupations, dtype=object)
        region_values, region_codes = np.unique(np.asarray(regions, dtype=object).astype(str),
                                                return_inverse=True)
        self._region_values = region_values.astype(object)
        self._region_codes = region_codes.astype(np.int32)
        self._skill_uris = np.asarray(skill_uris, dtype=object)
        self._skill_code = {uri: code for code, uri in enumerate(self._skill_uris)}
        self._holdings = holdings
        self._declared = declared
        self._held = held
        self._taught = taught
        self._credential_ids = np.asarray(credential_ids, dtype=object)
        self._credential_titles = np.asarray(credential_titles, dtype=object)
        ids = self._ids
        # Sorted ids allow a binary search; a non-binary collation falls back to a dict.
        self._id_lookup: dict[str, int] | None = None
        if len(ids) > 1 and not bool(np.all(ids[:-1] < ids[1:])):
            self._id_lookup = {cid: code for code, cid in enumerate(ids)}

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> TalentIndex:
        """Read candidate, candidate_skill, candidate_credential, credential_skill (accepted)
        and credential titles from the warehouse; all joins and code assignment in DuckDB."""
        data = _load_arrays(con)
        cands = data["candidates"]
        n = len(cands["candidate_id"])
        n_skills = len(data["skills"]["skill_uri"])
        n_creds = len(data["credentials"]["credential_id"])
        s, c = _distinct_pairs(*_codes(data["holdings"], "s", "c"), n)
        indptr, indices = _csr_rows(s, c, n_skills)
        holdings = sparse.csr_array(
            (np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(n_skills, n))
        holdings.has_sorted_indices = True
        d_c, d_s = _codes(data["declared"], "c", "s")
        h_c, h_k = _codes(data["held"], "c", "k")
        t_k, t_s = _codes(data["taught"], "k", "s")
        return cls(candidate_ids=cands["candidate_id"], regions=cands["region"],
                   occupations=cands["current_occupation"],
                   skill_uris=data["skills"]["skill_uri"],
                   holdings=holdings, declared=_csr_rows(d_c, d_s, n),
                   held=_csr_rows(h_c, h_k, n), taught=_csr_rows(t_k, t_s, n_creds),
                   credential_ids=data["credentials"]["credential_id"],
                   credential_titles=data["credentials"]["title"])

    @property
    def n_candidates(self) -> int:
        return len(self._ids)

    @property
    def n_holdings(self) -> int:
        """Distinct (candidate, skill) holdings in the index."""
        return int(self._holdings.nnz)

    def _code_of(self, candidate_id: str) -> int:
        if self._id_lookup is not None:
            code = self._id_lookup.get(candidate_id)
            if code is None:
                raise KeyError(candidate_id)
            return code
        code = int(np.searchsorted(self._ids, candidate_id))
        if code >= len(self._ids) or self._ids[code] != candidate_id:
            raise KeyError(candidate_id)
        return code

    def _requirements(self, requirements: pd.DataFrame | Requirements) -> _Requirements:
        table = (requirements if isinstance(requirements, Requirements)
                 else Requirements.from_frame(requirements))
        get = self._skill_code.get
        codes = np.fromiter((get(u, -1) for u in table.uris), dtype=np.int64,
                            count=len(table))
        return _Requirements(table=table, codes=codes,
                             essential=np.array([i == "essential" for i in table.importances],
                                                dtype=bool),
                             weights=np.array(table.weights, dtype=np.float64))

    def _region_mask(self, regions: Sequence[str]) -> np.ndarray | None:
        """Per region code, whether it lies under one of the requested codes (NUTS codes are
        hierarchical, so a prefix selects every sub-region); None = no filter."""
        if isinstance(regions, str):
            regions = [regions]
        prefixes = tuple({str(r).strip() for r in regions if not _blank(r)})
        if not prefixes:
            return None
        return np.fromiter((v != "" and v.startswith(prefixes) for v in self._region_values),
                           dtype=bool, count=len(self._region_values))

    def _holds(self, skill_codes: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Bool matrix (requirements x candidates): which candidate holds which skill, by a
        binary search in each skill's sorted posting list."""
        out = np.zeros((len(skill_codes), len(candidates)), dtype=bool)
        indptr, indices = self._holdings.indptr, self._holdings.indices
        for i, code in enumerate(skill_codes):
            if code < 0:
                continue
            postings = indices[indptr[code]:indptr[code + 1]]
            if len(postings):
                at = np.searchsorted(postings, candidates)
                found = at < len(postings)
                found[found] = postings[at[found]] == candidates[found]
                out[i] = found
        return out

    def search(self, requirements: pd.DataFrame | Requirements, *,
               regions: Sequence[str] = (), top_k: int = 20, min_score: float = 0.0
               ) -> pd.DataFrame:
        """The top_k candidates by score (held requirement weight / total weight), then
        essential skills matched, then candidate_id. Candidates holding nothing of weight
        (score 0) are never returned; regions are code prefixes of any NUTS level."""
        return pd.DataFrame(self.search_columns(requirements, regions=regions, top_k=top_k,
                                                min_score=min_score), columns=SEARCH_COLUMNS)

    def search_records(self, requirements: pd.DataFrame | Requirements, *,
                       regions: Sequence[str] = (), top_k: int = 20, min_score: float = 0.0
                       ) -> list[dict[str, object]]:
        """`search` as plain records (JSON-ready Python values), without a frame."""
        columns = self.search_columns(requirements, regions=regions, top_k=top_k,
                                      min_score=min_score)
        if not columns:
            return []
        plain = [v.tolist() if isinstance(v, np.ndarray) else v for v in columns.values()]
        return [dict(zip(columns, row, strict=True)) for row in zip(*plain, strict=True)]

    def search_columns(self, requirements: pd.DataFrame | Requirements, *,
                       regions: Sequence[str] = (), top_k: int = 20, min_score: float = 0.0
                       ) -> dict[str, object]:
        """`search`'s columns ({} when nothing matches)."""
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        req = self._requirements(requirements)
        total = float(req.weights.sum())
        if total <= 0 or self.n_candidates == 0:
            return {}
        # The requested skills' posting lists, counted per candidate with their weights:
        # touches only those postings, in two bincounts (a sparse product cost more to set up
        # than to run at this size); equal scores tie exactly once rounded below
        n = self.n_candidates
        indptr, indices = self._holdings.indptr, self._holdings.indices
        known = np.flatnonzero(req.codes >= 0)
        postings = [indices[indptr[c]:indptr[c + 1]] for c in req.codes[known].tolist()]
        sizes = np.array([len(p) for p in postings], dtype=np.int64)
        held_by = np.concatenate(postings) if postings else np.zeros(0, dtype=np.int32)
        matched = np.bincount(held_by, weights=np.repeat(req.weights[known], sizes),
                              minlength=n)
        essential = np.bincount(held_by[np.repeat(req.essential[known], sizes)], minlength=n)
        cand = np.flatnonzero(matched > 0)
        mask = self._region_mask(regions)
        if mask is not None:
            cand = cand[mask[self._region_codes[cand]]]
        score = np.round(matched[cand] / total, SCORE_DECIMALS)
        keep = (score > 0) & (score >= min_score)
        if not keep.all():
            cand, score = cand[keep], score[keep]
        if len(cand) == 0:
            return {}
        order = _top_positions(score, essential[cand], top_k)
        top, top_score = cand[order], score[order]
        holds = self._holds(req.codes, top)
        labels = np.array(req.table.labels, dtype=object)
        uris = np.array(req.table.uris, dtype=object)
        ess_total = int(req.essential.sum())
        return {
            "rank": np.arange(1, len(top) + 1, dtype=np.int64),
            "candidate_id": self._ids[top],
            "region": self._region_values[self._region_codes[top]],
            "current_occupation": self._occupations[top],
            "score": top_score,
            "essential_matched": (holds & req.essential[:, None]).sum(axis=0).astype(np.int64),
            "essential_total": np.full(len(top), ess_total, dtype=np.int64),
            "optional_matched": (holds & ~req.essential[:, None]).sum(axis=0).astype(np.int64),
            "optional_total": np.full(len(top), len(uris) - ess_total, dtype=np.int64),
            "matched_skills": [labels[holds[:, j]].tolist() for j in range(len(top))],
            "missing_skills": [labels[~holds[:, j]].tolist() for j in range(len(top))],
            "missing_skill_uris": [uris[~holds[:, j]].tolist() for j in range(len(top))],
        }

    def explain(self, candidate_id: str, requirements: pd.DataFrame | Requirements
                ) -> pd.DataFrame:
        """Per requirement, whether the candidate holds it and the evidence: each held
        credential that teaches it ("credential <id> '<title>'") and/or "declared by the
        candidate". Unknown candidate -> KeyError."""
        req = self._requirements(requirements)
        matched, via, evidence = self._explain(candidate_id, req)
        return req.table.frame().assign(matched=np.asarray(matched, dtype=bool), via=via,
                                        evidence=evidence)[EXPLAIN_COLUMNS]

    def explain_records(self, candidate_ids: Sequence[str],
                        requirements: pd.DataFrame | Requirements
                        ) -> list[list[dict[str, object]]]:
        """`explain` for several candidates as plain records, the requirements read once."""
        req = self._requirements(requirements)
        base = req.table.records()
        return [[{**row, "matched": m, "via": v, "evidence": e}
                 for row, m, v, e in zip(base, *self._explain(cid, req), strict=True)]
                for cid in candidate_ids]

    def _explain(self, candidate_id: str, req: _Requirements
                 ) -> tuple[list[bool], list[str], list[str]]:
        code = self._code_of(candidate_id)
        d_ptr, d_idx = self._declared
        declared = set(d_idx[d_ptr[code]:d_ptr[code + 1]].tolist())
        h_ptr, h_idx = self._held
        t_ptr, t_idx = self._taught
        via_credentials: dict[int, list[int]] = {}
        for k in h_idx[h_ptr[code]:h_ptr[code + 1]].tolist():
            for s in t_idx[t_ptr[k]:t_ptr[k + 1]].tolist():
                via_credentials.setdefault(s, []).append(k)
        matched, via, evidence = [], [], []
        for s in req.codes.tolist():
            creds = via_credentials.get(s, []) if s >= 0 else []
            is_declared = s >= 0 and s in declared
            parts = [self._credential_evidence(k) for k in creds]
            if is_declared:
                parts.append(DECLARED_EVIDENCE)
            kinds = (["credential"] if creds else []) + (["declared"] if is_declared else [])
            matched.append(bool(kinds))
            via.append("+".join(kinds))
            evidence.append("; ".join(parts))
        return matched, via, evidence

    def _credential_evidence(self, k: int) -> str:
        title = self._credential_titles[k]
        credential_id = self._credential_ids[k]
        return f"credential {credential_id} {title!r}" if title else f"credential {credential_id}"


def _top_positions(score: np.ndarray, essential: np.ndarray, top_k: int) -> np.ndarray:
    """Positions of the top_k by (score desc, essential desc, position asc), in that order.

    Positions follow candidate code order (= candidate_id order), so the last key needs no
    sort. Linear-time selection first, then a sort of at most top_k items, so a query where
    thousands of candidates tie stays fast."""
    n = len(score)
    if n <= top_k:
        chosen = np.arange(n)
    else:
        threshold = np.partition(score, n - top_k)[n - top_k]
        above = np.flatnonzero(score > threshold)
        ties = np.flatnonzero(score == threshold)
        need = top_k - len(above)
        if len(ties) > need:
            tie_ess = essential[ties]
            m = len(ties)
            ess_threshold = np.partition(tie_ess, m - need)[m - need]
            better = ties[tie_ess > ess_threshold]
            equal = ties[tie_ess == ess_threshold]
            ties = np.concatenate([better, equal[:need - len(better)]])
        chosen = np.concatenate([above, ties])
    order = np.lexsort((chosen, -essential[chosen], -score[chosen]))
    return chosen[order]
