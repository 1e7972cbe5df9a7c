"""Curriculum planning: which new micro-credential modules an education institution should build.

A module proposal is a bundle of skills that vacancies ask for *together* and that few or no
credentials in the catalogue teach yet, ranked by how many vacancies it serves, how scarce those
vacancies' sectors are and whether the demand is growing. Each proposal carries the evidence a
programme committee needs (sample vacancy sentences, occupations, sectors, regions) and the
nearest existing credentials, so an institution does not build a duplicate.

Method (all figures over the vacancies a `DemandFilter` selects; every vacancy counts once):

* Candidate skills (`uncovered_skills`): accepted vacancy skills with at least `min_vacancies`
  vacancies and at most `max_credentials` credentials teaching them, the `limit` highest by
  weighted demand (the sum of the vacancies' sector shortage weights, see analytics.py).
* Similarity between two skills: Ochiai (the cosine of the binary vacancy columns),
  co-vacancies / sqrt(vacancies_a x vacancies_b): 1 when they always appear together, 0 when
  never. Ochiai rather than Jaccard because it does not punish a rare skill for travelling with
  a common one. With `embed`, similarity = 0.5 x Ochiai + 0.5 x max(0, label cosine), so
  near-synonyms that ads never name together still meet.
* Bundles: average-linkage hierarchical clustering on 1 - similarity, cut where the average
  similarity between two groups drops below `LINK_MIN` (deterministic: same input order, same
  tree). Groups larger than the maximum bundle size are split along their own tree (2 at a
  time). Decision on leftovers: a group smaller than the minimum is too thin to be a module;
  each of its skills (most demanded first) joins the bundle holding its most similar skill when
  that similarity is at least `ATTACH_MIN` and the bundle has room, otherwise it forms no module
  (it stays visible in `uncovered_skills`).
* Score = vacancies x mean shortage weight x growth factor = weighted demand x (1 + g / 100),
  with g the bundle's growth in % clipped to `GROWTH_CLIP` (-50..+50, so one noisy quarter can
  halve or add half, never dominate volume); g unknown -> factor 1.
* Growth: the share of the filtered vacancies asking for >= 1 bundle skill in the latest quarter
  against that share in the quarter before (shares, so a busier quarter is no trend); None with
  fewer than two quarters or no such vacancy in the earlier one.
* Suggested ECTS = bundle size x the catalogue's median ECTS per taught skill (per credential:
  ects / its accepted skills; 1.0 when the catalogue has none), rounded half up to whole
  credits (the catalogue's ECTS are whole numbers; 1 ECTS = 25-30 study hours, finer steps are
  false precision) and clipped to 3..30 (the micro-credential range).
* Suggested EQF: the mode of `ISCO_EQF` over the related vacancies' occupations (accepted
  occupation links; any ISCO code when none is accepted), each vacancy weighted by its shortage
  weight; ties go to the lower level; `DEFAULT_EQF` when no occupation is known.
* Nearest credentials: set cosine (Ochiai) of the bundle's skills and a credential's accepted
  skills, |shared| / sqrt(|bundle| x |credential|): 1 = the same skills, and unlike Jaccard a
  credential teaching the whole bundle plus a little more still scores high. With `embed`
  it is blended 0.5/0.5 with the cosine of label centroids (the credential's skill labels,
  or its title when it has none), since uncovered skills by definition share few URIs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from skillmatch.analytics import DemandFilter, credential_coverage, vacancy_weights

# ISCO-08 major group -> typical EQF level, via the ISCO skill levels (ILO, ISCO-08 vol. 1):
# 1 managers and 2 professionals work at skill level 4 (first degree or higher: EQF 6);
# 3 technicians and associate professionals at level 3 (short-cycle tertiary: EQF 5);
# 4-8 (clerks, service, agriculture, crafts, operators) at level 2 (upper-secondary vocational:
# EQF 4); 9 elementary occupations at level 1, where a module is set at entry VET (EQF 3);
# 0 armed forces spans all levels and takes the middle (EQF 4).
ISCO_EQF = {"1": 6, "2": 6, "3": 5, "4": 4, "5": 4, "6": 4, "7": 4, "8": 4, "9": 3, "0": 4}
DEFAULT_EQF = 4
LINK_MIN = 0.25        # average similarity at which two skill groups merge
ATTACH_MIN = 0.3       # similarity at which a leftover skill joins its nearest bundle
EMBED_BLEND = 0.5      # weight of label cosine next to co-occurrence when `embed` is given
GROWTH_CLIP = (-50.0, 50.0)
ECTS_RANGE = (3.0, 30.0)
DEFAULT_ECTS_PER_SKILL = 1.0
CANDIDATE_SKILLS = 200  # uncovered skills propose_modules clusters (the most demanded)

SKILL_COLUMNS = ["skill_uri", "skill", "vacancies", "weighted_demand", "credentials",
                 "growth_pct"]
CREDENTIAL_COLUMNS = ["credential_id", "title", "provider", "ects", "shared_skills",
                      "similarity"]
EVIDENCE_COLUMNS = ["vacancy_id", "title", "employer", "skill", "evidence"]

Embed = Callable[[list[str]], np.ndarray]


@dataclass
class ModuleProposal:
    """One proposed micro-credential module (see the module docstring for the formulas)."""

    rank: int
    title: str
    skills: pd.DataFrame
    vacancies: int
    weighted_demand: float
    growth_pct: float | None
    mean_shortage_weight: float
    score: float
    suggested_ects: float
    suggested_eqf: int
    occupations: pd.DataFrame
    sectors: pd.DataFrame
    regions: pd.DataFrame
    evidence: pd.DataFrame
    nearest_credentials: pd.DataFrame

    def summary(self) -> dict:
        """One flat row for a ranked table of proposals."""
        nearest = self.nearest_credentials
        has_nearest = not nearest.empty
        return {
            "rank": self.rank, "title": self.title, "n_skills": len(self.skills),
            "skills": "; ".join(self.skills["skill"]), "vacancies": self.vacancies,
            "weighted_demand": self.weighted_demand, "growth_pct": self.growth_pct,
            "mean_shortage_weight": self.mean_shortage_weight, "score": self.score,
            "suggested_ects": self.suggested_ects, "suggested_eqf": self.suggested_eqf,
            "nearest_credential": nearest["title"].iloc[0] if has_nearest else None,
            "nearest_similarity": float(nearest["similarity"].iloc[0]) if has_nearest else None,
        }


def _tables(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """The warehouse's table names, asked once per call (each question is a query)."""
    return frozenset(r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables").fetchall())


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 = blank) and the sorted names they index, so per-bundle counts are a
    bincount and ties break by name through the code."""
    text = values.astype(object).where(values.notna(), "").astype(str).to_numpy(dtype=object)
    text[np.isin(text, ["", "nan", "None"])] = ""
    codes, names = pd.factorize(text, sort=True)
    if len(names) and names[0] == "":
        codes, names = codes - 1, names[1:]
    return codes, np.asarray(names, dtype=object)


@dataclass
class _Demand:
    """The filtered vacancies as arrays, and their accepted skill mentions as integer pairs,
    so the co-occurrence work is numpy on codes instead of pandas on strings."""

    vacancy_ids: np.ndarray       # per vacancy (ordered by id, as vacancy_weights returns them)
    employers: np.ndarray
    weights: np.ndarray
    latest: np.ndarray | None     # vacancy in the latest quarter of the filter
    previous: np.ndarray | None   # ... in the quarter before; None with < 2 quarters
    sectors: tuple[np.ndarray, np.ndarray]
    regions: tuple[np.ndarray, np.ndarray]
    occupations: tuple[np.ndarray, np.ndarray]   # accepted occupation links, names (label, isco)
    eqf: np.ndarray               # EQF of an accepted occupation's ISCO group, else 0
    eqf_any: np.ndarray           # ... of any occupation's ISCO group, else 0
    rows: np.ndarray              # mention -> vacancy
    codes: np.ndarray             # mention -> index in `uris`
    uris: np.ndarray              # skill uris
    tables: frozenset[str]        # the warehouse's tables

    @property
    def size(self) -> int:
        return len(self.vacancy_ids)


def _load_demand(con: duckdb.DuckDBPyConnection, f: DemandFilter) -> _Demand | None:
    tables = _tables(con)
    if not {"vacancy", "vacancy_skill"} <= tables:
        return None
    vacancies = vacancy_weights(con, f)
    if vacancies.empty:
        return None
    where, params = f.where()
    # row numbers follow vacancy_weights' ORDER BY vacancy_id over the same filter
    pairs = con.execute(f"""
        WITH fv AS (SELECT v.vacancy_id, row_number() OVER (ORDER BY v.vacancy_id) - 1 AS row
                    FROM vacancy v WHERE {where}),
             sk AS (SELECT skill_uri, row_number() OVER (ORDER BY skill_uri) - 1 AS code
                    FROM (SELECT DISTINCT skill_uri FROM vacancy_skill
                          WHERE accepted AND skill_uri IS NOT NULL))
        SELECT fv.row, sk.code FROM vacancy_skill s
        JOIN fv USING (vacancy_id) JOIN sk USING (skill_uri) WHERE s.accepted""",
        params).fetchnumpy()
    uris = np.array([r[0] for r in con.execute(
        "SELECT DISTINCT skill_uri FROM vacancy_skill WHERE accepted AND skill_uri IS NOT NULL "
        "ORDER BY skill_uri").fetchall()], dtype=object)
    # a skill named twice in one ad counts once (deduplicated here: cheaper than SQL DISTINCT)
    rows = np.asarray(pairs["row"], dtype=np.int64)
    codes = np.asarray(pairs["code"], dtype=np.int64)
    keep = (rows < len(vacancies)) & (codes < len(uris))  # guard against a concurrent write
    pair = np.sort(rows[keep] * len(uris) + codes[keep])
    pair = pair[np.r_[True, pair[1:] != pair[:-1]]] if len(pair) else pair
    rows, codes = np.divmod(pair, max(len(uris), 1))

    quarter_codes, quarters = _codes(vacancies["quarter"])
    latest = previous = None
    if len(quarters) >= 2:
        latest, previous = quarter_codes == len(quarters) - 1, quarter_codes == len(quarters) - 2
    accepted = vacancies["occupation_accepted"].fillna(False).astype(bool).to_numpy()
    label = vacancies["occupation_label"].astype(object)
    isco = vacancies["isco_code"].astype(object).where(vacancies["isco_code"].notna(), "")
    occupation = (label.where(accepted & label.notna().to_numpy(), "").astype(str)
                  + "\t" + isco.astype(str))
    occupation = occupation.where(~occupation.str.startswith("\t"), "")
    eqf_any = isco.astype(str).str[:1].map(ISCO_EQF).fillna(0).astype(int).to_numpy()
    return _Demand(
        vacancy_ids=vacancies["vacancy_id"].to_numpy(dtype=object),
        employers=vacancies["employer"].astype(object).to_numpy(dtype=object),
        weights=vacancies["weight"].to_numpy(dtype=float), latest=latest, previous=previous,
        sectors=_codes(vacancies["sector_code"]), regions=_codes(vacancies["region"]),
        occupations=_codes(occupation), eqf=np.where(accepted, eqf_any, 0), eqf_any=eqf_any,
        rows=rows, codes=codes, uris=uris, tables=tables)


def _growth(latest: np.ndarray, previous: np.ndarray, d: _Demand) -> np.ndarray:
    """Growth in % of the share of vacancies (latest quarter vs the one before); NaN where
    unknown."""
    if d.latest is None or d.previous is None:
        return np.full(len(latest), np.nan)
    before = previous / d.previous.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = (latest / d.latest.sum() / before - 1) * 100
    return np.where(previous > 0, np.round(growth, 1), np.nan)


def _labels(con: duckdb.DuckDBPyConnection, uris: list[str],
            tables: frozenset[str]) -> dict[str, str]:
    """Preferred ESCO labels, else the label the extraction stored, else the uri."""
    found: dict[str, str] = {}
    if "esco_skill" in tables:
        found = dict(con.execute("SELECT uri, preferred_label FROM esco_skill WHERE uri IN "
                                 "(SELECT unnest(?)) AND preferred_label IS NOT NULL",
                                 [uris]).fetchall())
    missing = [u for u in uris if u not in found]
    if missing and "vacancy_skill" in tables:
        found.update(con.execute("SELECT skill_uri, min(skill_label) FROM vacancy_skill "
                                 "WHERE skill_uri IN (SELECT unnest(?)) GROUP BY 1",
                                 [missing]).fetchall())
    return {u: (found.get(u) or u).strip() for u in uris}


def _uncovered(con: duckdb.DuckDBPyConnection, d: _Demand, min_vacancies: int,
               max_credentials: int, limit: int) -> pd.DataFrame:
    """`uncovered_skills` plus `code` (index into d.uris), most demanded first."""
    size = len(d.uris)
    count = np.bincount(d.codes, minlength=size)
    weighted = np.round(np.bincount(d.codes, weights=d.weights[d.rows], minlength=size), 6)
    coverage = credential_coverage(con)
    credentials = (coverage.set_index("skill_uri")["credentials"].reindex(d.uris)
                   .fillna(0).to_numpy(dtype=np.int64))
    keep = np.flatnonzero((count >= min_vacancies) & (credentials <= max_credentials))
    table = pd.DataFrame({"code": keep, "skill_uri": d.uris[keep], "vacancies": count[keep],
                          "weighted_demand": weighted[keep],
                          "credentials": credentials[keep]})
    table = table.sort_values(["weighted_demand", "vacancies", "skill_uri"],
                              ascending=[False, False, True]).head(limit)
    labels = _labels(con, table["skill_uri"].tolist(), d.tables)
    table.insert(2, "skill", table["skill_uri"].map(labels))
    if d.latest is not None and d.previous is not None and len(table):
        chosen = np.isin(d.codes, table["code"].to_numpy())
        per_quarter = [np.bincount(d.codes[chosen & m[d.rows]], minlength=size)
                       [table["code"].to_numpy()] for m in (d.latest, d.previous)]
        table["growth_pct"] = _growth(per_quarter[0], per_quarter[1], d)
    else:
        table["growth_pct"] = np.nan
    table["weighted_demand"] = table["weighted_demand"].round(3)
    return table.reset_index(drop=True)


def _empty_skills() -> pd.DataFrame:
    return pd.DataFrame({"skill_uri": pd.Series(dtype=str), "skill": pd.Series(dtype=str),
                         "vacancies": pd.Series(dtype="int64"),
                         "weighted_demand": pd.Series(dtype=float),
                         "credentials": pd.Series(dtype="int64"),
                         "growth_pct": pd.Series(dtype=float)})


def uncovered_skills(con: duckdb.DuckDBPyConnection, f: DemandFilter, *,
                     min_vacancies: int = 5, max_credentials: int = 0,
                     limit: int = 200) -> pd.DataFrame:
    """Demanded skills the catalogue (almost) does not teach: accepted vacancy skills in the
    filter with >= `min_vacancies` vacancies and <= `max_credentials` credentials teaching
    them, the `limit` highest by weighted demand. growth_pct: share of vacancies, latest
    quarter against the one before (NaN when unknown)."""
    d = _load_demand(con, f)
    if d is None:
        return _empty_skills()
    table = _uncovered(con, d, min_vacancies, max_credentials, limit)
    return table[SKILL_COLUMNS] if len(table) else _empty_skills()


# --- clustering -------------------------------------------------------------------------------

def _similarity(matrix: sp.csc_matrix, vectors: np.ndarray | None) -> np.ndarray:
    """Ochiai between the binary skill columns, blended with label cosine when given."""
    together = (matrix.T @ matrix).toarray().astype(float)
    counts = np.sqrt(np.diag(together))
    with np.errstate(divide="ignore", invalid="ignore"):
        sim = np.nan_to_num(together / np.outer(counts, counts))
    if vectors is not None:
        cosine = np.clip(vectors @ vectors.T, 0.0, 1.0)
        sim = (1 - EMBED_BLEND) * sim + EMBED_BLEND * cosine
    np.fill_diagonal(sim, 1.0)
    return sim


def _tree(sim: np.ndarray) -> np.ndarray:
    distance = np.clip(1.0 - (sim + sim.T) / 2, 0.0, None)
    np.fill_diagonal(distance, 0.0)
    return linkage(squareform(distance, checks=False), method="average")


def _groups(labels: np.ndarray, members: list[int]) -> list[list[int]]:
    """Members per cluster label, each group and the groups in input (= demand) order."""
    groups: dict[int, list[int]] = {}
    for label, member in zip(labels, members, strict=True):
        groups.setdefault(int(label), []).append(member)
    return sorted(groups.values(), key=lambda g: g[0])


def _split(group: list[int], sim: np.ndarray, largest: int) -> list[list[int]]:
    """Cut an oversized group in two along its own tree until every part fits."""
    if len(group) <= largest:
        return [group]
    parts = _groups(fcluster(_tree(sim[np.ix_(group, group)]), 2, criterion="maxclust"),
                    group)
    if len(parts) < 2:  # no structure left (all equally similar): halve in demand order
        half = len(group) // 2
        parts = [group[:half], group[half:]]
    return [piece for part in parts for piece in _split(part, sim, largest)]


def _bundles(sim: np.ndarray, smallest: int, largest: int) -> list[list[int]]:
    """Skill bundles as lists of indices into `sim` (see the module docstring)."""
    k = len(sim)
    if k == 0:
        return []
    members = list(range(k))
    groups = ([members] if k == 1 else
              _groups(fcluster(_tree(sim), 1.0 - LINK_MIN, criterion="distance"), members))
    pieces = [piece for group in groups for piece in _split(group, sim, largest)]
    bundles = [piece for piece in pieces if len(piece) >= smallest]
    leftovers = sorted(s for piece in pieces if len(piece) < smallest for s in piece)
    for skill in leftovers:
        best, best_sim = None, ATTACH_MIN
        for i, bundle in enumerate(bundles):
            nearest = float(sim[skill, bundle].max())
            if len(bundle) < largest and nearest >= best_sim and (best is None
                                                                   or nearest > best_sim):
                best, best_sim = i, nearest
        if best is not None:
            bundles[best].append(skill)
    return [sorted(bundle) for bundle in bundles]


# --- the catalogue ----------------------------------------------------------------------------

@dataclass
class _Catalogue:
    """The credentials (ordered by id) and the skills each teaches (accepted links)."""

    ids: list[str]
    titles: list[str]
    providers: list
    ects: list
    taught: dict[str, set[str]]    # credential_id -> skill uris
    labels: dict[str, str]         # skill uri -> label
    ects_per_skill: float


def _load_catalogue(con: duckdb.DuckDBPyConnection, tables: frozenset[str]) -> _Catalogue:
    links: list[tuple[str, str, str]] = []
    if "credential_skill" in tables:
        esco = ("LEFT JOIN (SELECT uri, min(preferred_label) AS preferred_label FROM esco_skill "
                "GROUP BY 1) e ON e.uri = s.skill_uri" if "esco_skill" in tables
                else "LEFT JOIN (SELECT NULL AS uri, NULL AS preferred_label) e ON FALSE")
        links = con.execute(f"""
            SELECT s.credential_id, s.skill_uri,
                   coalesce(min(e.preferred_label), min(s.skill_label), s.skill_uri)
            FROM credential_skill s {esco}
            WHERE s.accepted AND s.skill_uri IS NOT NULL
            GROUP BY s.credential_id, s.skill_uri ORDER BY 1, 2""").fetchall()
    taught: dict[str, set[str]] = {}
    for credential_id, uri, _ in links:
        taught.setdefault(credential_id, set()).add(uri)
    labels = {uri: label for _, uri, label in links}
    rows = []
    if "credential" in tables:
        rows = con.execute("""
            SELECT credential_id, coalesce(any_value(title), ''), any_value(provider),
                   any_value(ects)
            FROM credential GROUP BY 1 ORDER BY 1""").fetchall()
    per_skill = [float(ects) / len(taught[c]) for c, _, _, ects in rows
                 if ects is not None and not math.isnan(ects) and ects > 0 and taught.get(c)]
    return _Catalogue(ids=[r[0] for r in rows], titles=[r[1] for r in rows],
                      providers=[r[2] for r in rows], ects=[r[3] for r in rows],
                      taught=taught, labels=labels,
                      ects_per_skill=(float(np.median(per_skill)) if per_skill
                                      else DEFAULT_ECTS_PER_SKILL))


def _centroid(vectors: np.ndarray) -> np.ndarray:
    mean = vectors.mean(axis=0)
    norm = np.linalg.norm(mean)
    return mean / norm if norm > 0 else mean


def _credential_vectors(catalogue: _Catalogue, embed: Embed) -> np.ndarray | None:
    """Per credential (catalogue order): centroid of its skill labels, else its title."""
    texts = [sorted(catalogue.labels[u] for u in catalogue.taught[c]) if catalogue.taught.get(c)
             else [title] for c, title in zip(catalogue.ids, catalogue.titles, strict=True)]
    unique = sorted({t for group in texts for t in group})
    if not unique:
        return None
    vectors = dict(zip(unique, np.asarray(embed(unique), dtype=float), strict=True))
    return np.vstack([_centroid(np.vstack([vectors[t] for t in group])) for group in texts])


def _nearest(bundle: list[str], catalogue: _Catalogue, centroid: np.ndarray | None,
             credential_vectors: np.ndarray | None, top: int = 3) -> pd.DataFrame:
    """The `top` credentials most like the bundle (skill uris), most similar first."""
    if not catalogue.ids:
        return pd.DataFrame(columns=CREDENTIAL_COLUMNS)
    wanted = set(bundle)
    shared = [wanted & catalogue.taught.get(c, set()) for c in catalogue.ids]
    overlap = np.array([len(s) / math.sqrt(len(wanted) * len(catalogue.taught[c])) if s else 0.0
                        for s, c in zip(shared, catalogue.ids, strict=True)])
    similarity = overlap
    if centroid is not None and credential_vectors is not None:
        cosine = np.clip(credential_vectors @ centroid, 0.0, 1.0)
        similarity = (1 - EMBED_BLEND) * overlap + EMBED_BLEND * cosine
    similarity = np.round(similarity, 3)
    order = sorted((i for i in range(len(catalogue.ids)) if similarity[i] > 0),
                   key=lambda i: (-similarity[i], catalogue.ids[i]))[:top]
    return pd.DataFrame([{
        "credential_id": catalogue.ids[i], "title": catalogue.titles[i],
        "provider": catalogue.providers[i], "ects": catalogue.ects[i],
        "shared_skills": sorted(catalogue.labels[u] for u in shared[i]),
        "similarity": float(similarity[i])} for i in order], columns=CREDENTIAL_COLUMNS)


# --- proposals --------------------------------------------------------------------------------

def _top(coded: tuple[np.ndarray, np.ndarray], related: np.ndarray, name: str,
         n: int) -> pd.DataFrame:
    """The `n` most frequent names among the related vacancies (ties by name)."""
    codes, names = coded
    counts = np.bincount(codes[related & (codes >= 0)], minlength=len(names))
    order = np.lexsort((np.arange(len(names)), -counts))[:n]
    order = order[counts[order] > 0]
    return pd.DataFrame({name: names[order].astype(str),
                         "vacancies": counts[order].astype(np.int64)})


def _occupations(d: _Demand, related: np.ndarray) -> pd.DataFrame:
    top = _top(d.occupations, related, "occupation", 5)
    parts = top["occupation"].str.split("\t", n=1, expand=True, regex=False)
    return pd.DataFrame({
        "occupation_label": parts[0] if len(top) else pd.Series(dtype=str),
        "isco_code": parts[1] if len(top) else pd.Series(dtype=str),
        "vacancies": top["vacancies"]})


def _eqf(d: _Demand, related: np.ndarray) -> int:
    """Shortage-weighted mode of the EQF levels (ties: the lower level)."""
    for eqf in (d.eqf, d.eqf_any):
        use = related & (eqf > 0)
        if use.any():
            votes = np.bincount(eqf[use], weights=d.weights[use])
            return int(np.flatnonzero(np.isclose(votes, votes.max()))[0])
    return DEFAULT_EQF


def _ects(n_skills: int, per_skill: float) -> float:
    ects = math.floor(n_skills * per_skill + 0.5)
    return float(min(max(ects, ECTS_RANGE[0]), ECTS_RANGE[1]))


def _title(labels: list[str]) -> str:
    title = " & ".join(labels[:2])
    return title[:1].upper() + title[1:]


def _picks(d: _Demand, matrix: sp.csc_matrix, bundle: list[int], uris: np.ndarray,
           labels: np.ndarray, n: int = 3) -> list[tuple[str, str, str, str]]:
    """Sample vacancies for the evidence: those naming most bundle skills (then the highest
    shortage weight, then by id), one per employer while possible, each with its most demanded
    bundle skill: (vacancy_id, skill_uri, skill, employer)."""
    sub = matrix[:, bundle].tocsr()
    per_row = np.diff(sub.indptr)
    candidates = np.flatnonzero(per_row)
    candidates = candidates[np.lexsort((candidates, -d.weights[candidates],
                                        -per_row[candidates]))]
    chosen: list[int] = []
    seen: set = set()
    for r in candidates[:200]:
        if d.employers[r] not in seen:
            chosen.append(int(r))
            seen.add(d.employers[r])
        if len(chosen) == n:
            break
    chosen += [int(r) for r in candidates if int(r) not in chosen][:n - len(chosen)]
    picks = []
    for r in chosen:
        column = bundle[sub.indices[sub.indptr[r]:sub.indptr[r + 1]].min()]
        picks.append((d.vacancy_ids[r], uris[column], labels[column], d.employers[r]))
    return picks


def _evidence(con: duckdb.DuckDBPyConnection, picks: list[tuple[str, str, str, str]]
              ) -> pd.DataFrame:
    """Title and sentence for (vacancy_id, skill_uri, skill, employer) picks, in order."""
    if not picks:
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    found = {(v, u): (title, evidence) for v, u, title, evidence in con.execute("""
        WITH p AS (SELECT DISTINCT * FROM (SELECT unnest(?) AS vacancy_id,
                                                  unnest(?) AS skill_uri))
        SELECT p.vacancy_id, p.skill_uri,
               (SELECT any_value(v.title) FROM vacancy v WHERE v.vacancy_id = p.vacancy_id),
               first(s.evidence ORDER BY s.score DESC NULLS LAST, s.evidence)
        FROM p LEFT JOIN vacancy_skill s
             ON s.vacancy_id = p.vacancy_id AND s.skill_uri = p.skill_uri AND s.accepted
        GROUP BY p.vacancy_id, p.skill_uri""",
        [[p[0] for p in picks], [p[1] for p in picks]]).fetchall()}
    return pd.DataFrame([{"vacancy_id": v, "title": found[(v, u)][0], "employer": employer,
                          "skill": skill, "evidence": found[(v, u)][1] or ""}
                         for v, u, skill, employer in picks], columns=EVIDENCE_COLUMNS)


def propose_modules(con: duckdb.DuckDBPyConnection, f: DemandFilter, *, n: int = 10,
                    min_vacancies: int = 5, max_credentials: int = 0,
                    bundle_size: tuple[int, int] = (3, 8),
                    embed: Embed | None = None) -> list[ModuleProposal]:
    """The `n` best new modules: bundles of co-demanded, (almost) untaught skills ranked by
    score (see the module docstring). `embed` (labels -> L2-normalised vectors) also groups
    near-synonyms and compares credentials by meaning. Deterministic for the same warehouse."""
    smallest, largest = bundle_size
    if not 1 <= smallest <= largest:
        raise ValueError("bundle_size must be (smallest, largest) with 1 <= smallest <= largest")
    d = _load_demand(con, f)
    if d is None or n <= 0:
        return []
    skills = _uncovered(con, d, min_vacancies, max_credentials, CANDIDATE_SKILLS)
    if skills.empty:
        return []

    # vacancy x candidate-skill incidence, columns in demand order
    column = np.full(len(d.uris), -1)
    column[skills["code"].to_numpy()] = np.arange(len(skills))
    chosen = column[d.codes] >= 0
    matrix = sp.csc_matrix((np.ones(int(chosen.sum())),
                            (d.rows[chosen], column[d.codes[chosen]])),
                           shape=(d.size, len(skills)))
    vectors = (np.asarray(embed(skills["skill"].tolist()), dtype=float)
               if embed is not None else None)
    bundles = _bundles(_similarity(matrix, vectors), smallest, largest)

    scored = []
    for bundle in bundles:
        related = np.zeros(d.size, dtype=bool)
        for j in bundle:
            related[matrix.indices[matrix.indptr[j]:matrix.indptr[j + 1]]] = True
        weighted = float(d.weights[related].sum())
        growth = None
        if d.latest is not None and d.previous is not None:
            g = _growth(np.array([(related & d.latest).sum()]),
                        np.array([(related & d.previous).sum()]), d)[0]
            growth = None if np.isnan(g) else float(g)
        factor = 1 + (float(np.clip(growth, *GROWTH_CLIP)) / 100 if growth is not None else 0.0)
        scored.append((round(weighted * factor, 3), int(related.sum()), bundle, related,
                       weighted, growth))
    scored.sort(key=lambda s: (-s[0], -s[1], s[2][0]))

    catalogue = _load_catalogue(con, d.tables)
    credential_vectors = _credential_vectors(catalogue, embed) if embed is not None else None
    uris, labels = skills["skill_uri"].to_numpy(), skills["skill"].to_numpy()
    proposals, picks = [], []
    for rank, (score, count, bundle, related, weighted, growth) in enumerate(scored[:n], 1):
        table = skills.iloc[bundle][SKILL_COLUMNS].reset_index(drop=True)
        picks.append(_picks(d, matrix, bundle, uris, labels))
        centroid = _centroid(vectors[bundle]) if vectors is not None else None
        proposals.append(ModuleProposal(
            rank=rank, title=_title(table["skill"].tolist()), skills=table, vacancies=count,
            weighted_demand=round(weighted, 3), growth_pct=growth,
            mean_shortage_weight=round(weighted / count, 3), score=score,
            suggested_ects=_ects(len(bundle), catalogue.ects_per_skill),
            suggested_eqf=_eqf(d, related), occupations=_occupations(d, related),
            sectors=_top(d.sectors, related, "sector_code", 3),
            regions=_top(d.regions, related, "region", 3),
            evidence=pd.DataFrame(columns=EVIDENCE_COLUMNS),
            nearest_credentials=_nearest(table["skill_uri"].tolist(), catalogue, centroid,
                                         credential_vectors)))
    evidence = _evidence(con, [p for group in picks for p in group])
    start = 0
    for proposal, group in zip(proposals, picks, strict=True):
        proposal.evidence = evidence.iloc[start:start + len(group)].reset_index(drop=True)
        start += len(group)
    return proposals
