"""Vacancy steps after staging: normalisation, near-duplicate folding and sector inference.

Each step is a plain DataFrame -> DataFrame function without I/O. `normalise_vacancies` and
`infer_sector` are row-wise (they can run per partition); `find_near_duplicates` compares ads
with each other, so it needs all ads that could be copies of each other in one frame (they
share a normalised title, employer and location, so partitioning by that key keeps it exact).
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from skillmatch.progress import bar
from skillmatch.text import MAX_TEXT_CHARS, clean_text, detect_language

RAW_COLUMNS = [
    "source", "source_record", "title", "description", "employer", "posted_date",
    "valid_through", "location", "postcode", "country", "lat", "lon", "language",
    "sector_code", "employment_type", "salary", "url", "record", "problems",
]
"""The staged schema every vacancy reader produces: all text, "" when the source has none;
`problems` names what the reader repaired ("; "-joined)."""
MAX_FIELD_CHARS = 2_000  # a title, employer, URL ... longer than this is cut (and named)
NEAR_DUPLICATE_BAR = 5_000  # ads; fewer fold in a moment
FIELD_LIMITS = {c: MAX_FIELD_CHARS for c in RAW_COLUMNS if c not in ("description", "problems")}
FIELD_LIMITS["description"] = MAX_TEXT_CHARS
"""How long each text may be once normalised: longer values are cut and the cut named."""
DATE_RANGE = (pd.Timestamp("1900-01-01"), pd.Timestamp("2199-12-31"))

SECTION_LETTERS = "ABCDEFGHIJKLMNOPQRSTU"  # SBI 2008 / NACE Rev. 2 sections
COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}
_NL_POSTCODE = re.compile(r"^(\d{4})\s*([A-Z]{2})$")
_UK_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})?$")  # or district only
_BLANKS = re.compile(r"\s+")
_KEY_JUNK = re.compile(r"[\W_]+", re.U)
_WORD = re.compile(r"\w+", re.U)


def _problems_of(mask: pd.Series, message: str, problems: list[list[str]],
                 values: pd.Series | None = None) -> None:
    """Append `message` (followed by the row's value from `values`, when given) to the problem
    list of every row where `mask` holds."""
    for position in np.flatnonzero(mask.to_numpy(dtype=bool)):
        problems[position].append(message if values is None
                                  else f"{message}{values.iat[position]}")


def _text_column(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    return frame[column].fillna("").astype(str).str.strip()


def _dates(values: pd.Series, name: str, problems: list[list[str]],
           flag_missing: bool = False) -> pd.Series:
    """ISO dates/times (any offset) as naive UTC datetime64; unparseable -> NaT + problem."""
    present = values != ""
    parsed = pd.to_datetime(values.where(present), format="ISO8601", utc=True, errors="coerce")
    parsed = parsed.dt.tz_localize(None)
    # "9999-12-31" parses, but as nanoseconds it overflows: out of range is not a date
    parsed = parsed.where((parsed >= DATE_RANGE[0]) & (parsed <= DATE_RANGE[1]))
    parsed = parsed.astype("datetime64[ns]")
    _problems_of(present & parsed.isna(), f"{name} not a date: ", problems, values.str[:40])
    if flag_missing:
        _problems_of(~present, f"no {name}", problems)
    return parsed


def _coordinates(frame: pd.DataFrame, problems: list[list[str]]) -> tuple[pd.Series, pd.Series]:
    out = []
    for name, limit in (("lat", 90.0), ("lon", 180.0)):
        raw = _text_column(frame, name)
        number = pd.to_numeric(raw.str.replace(",", ".", regex=False).where(raw != ""),
                               errors="coerce").astype(float)
        _problems_of((raw != "") & number.isna(), f"{name} not a number: ", problems,
                     raw.str[:20])
        bad = number.abs() > limit
        _problems_of(bad, f"{name} out of range: ", problems, raw.str[:20])
        out.append(number.mask(bad))
    lat, lon = out
    null_island = (lat == 0) & (lon == 0)
    _problems_of(null_island, "lat/lon 0,0 (no location)", problems)
    return lat.mask(null_island), lon.mask(null_island)


def normalise_postcode(postcode: str, country: str) -> tuple[str, str]:
    """(normalised postcode, problem): NL "1234 AB"; UK outward + single space + inward (or
    the outward district alone, as some ads give); others upper-case with single spaces."""
    code = _BLANKS.sub(" ", postcode.strip().upper())
    if not code:
        return "", ""
    if country == "NL":
        found = _NL_POSTCODE.match(code)
        return (f"{found[1]} {found[2]}", "") if found else (code, f"not a Dutch postcode: {code}")
    if country == "GB":
        found = _UK_POSTCODE.match(code.replace(" ", ""))
        if found:
            return (f"{found[1]} {found[2]}" if found[2] else found[1]), ""
        return code, f"not a UK postcode: {code}"
    return code, ""


def _single_line(text: str) -> str:
    return _BLANKS.sub(" ", clean_text(text)).strip()


def normalise_vacancies(raw: pd.DataFrame) -> pd.DataFrame:
    """Staged vacancies (RAW_COLUMNS, all text) -> typed, cleaned vacancies.

    Adds `vacancy_id` ("source:source_record") and `quarter` ("2019Q1", "" without a posted
    date); `problems` ("; "-joined issues, "" when none) keeps the reader's and adds these.
    Dates become datetime64 (naive UTC), lat/lon float; bad values become NaT/NaN with a
    problem, over-long texts are cut (FIELD_LIMITS) with a problem, and the row is kept.
    Columns outside the raw schema are passed through unchanged."""
    missing = [c for c in ("source", "source_record", "title", "description") if c not in raw]
    if missing:
        raise ValueError(f"vacancies lack columns {missing}")
    frame = pd.DataFrame({c: _text_column(raw, c) for c in RAW_COLUMNS}, index=raw.index)
    problems: list[list[str]] = [p.split("; ") if p else [] for p in frame["problems"]]

    for column, limit in FIELD_LIMITS.items():
        sizes = frame[column].str.len()
        long_text = (sizes > limit).to_numpy(dtype=bool)
        for position in np.flatnonzero(long_text):
            problems[position].append(f"{column} cut to {limit:,} of {sizes.iat[position]:,} "
                                      "characters")
        if long_text.any():
            frame.loc[long_text, column] = frame.loc[long_text, column].str.slice(0, limit)
    for column in ("title", "employer", "location"):  # feeds escape these too ("St Mary&#39;s")
        frame[column] = frame[column].map(_single_line)
    frame["description"] = frame["description"].map(clean_text)
    no_title = frame["title"] == ""
    _problems_of(no_title & (frame["description"] == ""), "no text after cleaning", problems)
    _problems_of(no_title & (frame["description"] != ""), "no title", problems)

    undetected = (frame["language"] == "").to_numpy()  # positional: the index may repeat
    frame["language"] = frame["language"].str.lower()
    frame.loc[undetected, "language"] = [
        detect_language(f"{title}\n{text}")
        for title, text in zip(frame["title"].to_numpy()[undetected],
                               frame["description"].to_numpy()[undetected], strict=True)
    ]
    country = frame["country"].str.upper()
    frame["country"] = country.replace(COUNTRY_ALIASES)
    frame["sector_code"] = frame["sector_code"].str.upper()
    bad_sector = (frame["sector_code"] != "") & ~frame["sector_code"].isin(list(SECTION_LETTERS))
    _problems_of(bad_sector, "sector_code not a NACE section: ", problems, frame["sector_code"])
    frame.loc[bad_sector.to_numpy(), "sector_code"] = ""

    codes = [normalise_postcode(p, c) for p, c in zip(frame["postcode"], frame["country"],
                                                      strict=True)]
    frame["postcode"] = pd.Series([code for code, _ in codes], index=frame.index, dtype="str")
    for position, (_, problem) in enumerate(codes):
        if problem:
            problems[position].append(problem)

    frame["posted_date"] = _dates(frame["posted_date"], "posted_date", problems,
                                  flag_missing=True)
    frame["valid_through"] = _dates(frame["valid_through"], "valid_through", problems)
    frame["lat"], frame["lon"] = _coordinates(frame, problems)
    quarter = frame["posted_date"].dt.to_period("Q").astype(str)
    frame["quarter"] = quarter.where(frame["posted_date"].notna(), "").astype("str")
    frame["problems"] = pd.Series(["; ".join(p) for p in problems], index=frame.index,
                                  dtype="str")
    frame.insert(0, "vacancy_id", (frame["source"] + ":" + frame["source_record"]).astype("str"))
    extra = [c for c in raw.columns if c not in frame.columns]  # passed through untouched
    return pd.concat([frame, raw[extra]], axis=1) if extra else frame


# --- near duplicates -------------------------------------------------------------------------

def _key(text: str) -> str:
    """Case, accents, punctuation and spacing do not make a different title or employer."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _KEY_JUNK.sub(" ", text).strip()


def _shingles(text: str, size: int) -> frozenset[str]:
    words = _WORD.findall(text.casefold())
    if len(words) <= size:
        return frozenset([" ".join(words)]) if words else frozenset()
    return frozenset(" ".join(words[i:i + size]) for i in range(len(words) - size + 1))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


class _Components:
    """Union-find whose root is always the member with the lowest rank (the canonical)."""

    def __init__(self, ranks: np.ndarray) -> None:
        self.parent = np.arange(len(ranks))
        self.rank = ranks

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            if self.rank[b] < self.rank[a]:
                a, b = b, a
            self.parent[b] = a


_PRIME = (1 << 31) - 1
_PERMUTATIONS = np.random.default_rng(20_240_601).integers(1, _PRIME, size=(2, 64),
                                                           dtype=np.int64)


def _minhash_candidates(sets: list[frozenset[str]], bands: int = 8) -> set[tuple[int, int]]:
    """Pairs that share a MinHash band (64 hashes, 8 bands of 8: ~99% recall at Jaccard 0.9,
    ~3% false candidates at 0.5). Stable across runs: shingles are hashed with CRC32."""
    signatures = np.full((len(sets), _PERMUTATIONS.shape[1]), _PRIME, dtype=np.int64)
    a, b = _PERMUTATIONS
    for row, shingles in enumerate(sets):
        if shingles:
            x = np.fromiter((zlib.crc32(s.encode()) for s in shingles), dtype=np.int64,
                            count=len(shingles)) % _PRIME
            signatures[row] = ((np.outer(x, a) + b) % _PRIME).min(axis=0)
    rows = signatures.shape[1] // bands
    pairs: set[tuple[int, int]] = set()
    for band in range(bands):
        buckets: dict[bytes, list[int]] = {}
        for row in range(len(sets)):
            buckets.setdefault(signatures[row, band * rows:(band + 1) * rows].tobytes(),
                               []).append(row)
        for members in buckets.values():
            pairs.update((members[i], members[j]) for i in range(len(members))
                         for j in range(i + 1, len(members)))
    return pairs


def _candidate_pairs(sets: list[frozenset[str]], threshold: float,
                     max_pairwise: int) -> Iterable[tuple[int, int]]:
    if len(sets) <= max_pairwise:
        sizes = [len(s) for s in sets]
        for i in range(len(sets)):
            for j in range(i + 1, len(sets)):
                small, large = sorted((sizes[i], sizes[j]))
                if large == 0 or small / large >= threshold:  # Jaccard <= small/large
                    yield i, j
    else:
        yield from sorted(_minhash_candidates(sets))


def _fold_short(same: list[int], ids: np.ndarray, sources: np.ndarray,
                components: _Components) -> None:
    """Fold ads with one identical short text: repeats of one record, and one copy per other
    source (syndication); two records of one feed stay apart."""
    first_of_id: dict[str, int] = {}
    first_of_source: dict[str, int] = {}
    for position in sorted(same, key=lambda p: components.rank[p]):
        if ids[position] in first_of_id:
            components.union(first_of_id[ids[position]], position)
            continue
        first_of_id[ids[position]] = position
        first_of_source.setdefault(sources[position], position)
    heads = list(first_of_source.values())
    for position in heads[1:]:
        components.union(heads[0], position)


def find_near_duplicates(vacancies: pd.DataFrame, threshold: float = 0.9, *,
                         shingle_size: int = 3, min_shingles: int = 80,
                         max_pairwise: int = 200) -> pd.DataFrame:
    """Fold re-posted and syndicated ads: same normalised title, employer and location, and
    description word-`shingle_size`-gram Jaccard >= `threshold` (transitively). Adds
    `canonical_id` (the earliest posted ad of its group; tie: smallest vacancy_id, then frame
    order), `is_canonical` and `duplicate_count` (on canonical rows: ads folded into it).

    Location is part of the key because chains post one template per site (the same "Registered
    Nurse" text for two hospitals is two openings). Texts shorter than `min_shingles` shingles
    (feeds without full text) cannot tell openings apart (GGZ lists "Opleidingsplaats" niveau
    4 and niveau 6 with the same keywords), so they fold only when identical and either the
    same record listed twice or from different sources. Ads are compared only within a block:
    exactly when it has at most `max_pairwise` distinct texts, else through MinHash banding
    (then exact Jaccard)."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], not {threshold}")
    for column in ("vacancy_id", "title", "employer", "description"):
        if column not in vacancies:
            raise ValueError(f"vacancies lack column {column!r}")
    frame = vacancies.copy()
    count = len(frame)
    ids = frame["vacancy_id"].astype(str).to_numpy()
    posted = (pd.to_datetime(frame["posted_date"], errors="coerce", utc=True)
              if "posted_date" in frame else pd.Series(pd.NaT, index=frame.index))
    order = pd.DataFrame({"missing": posted.isna().to_numpy(),
                          "posted": posted.to_numpy(), "id": ids, "pos": np.arange(count)})
    order = order.sort_values(["missing", "posted", "id", "pos"], kind="stable")
    ranks = np.empty(count, dtype=np.int64)
    ranks[order["pos"].to_numpy()] = np.arange(count)

    components = _Components(ranks)
    columns = [frame[c].fillna("").astype(str) if c in frame else pd.Series("", index=frame.index)
               for c in ("title", "employer", "location")]
    keys = ["\x1f".join(_key(part) for part in parts) for parts in zip(*columns, strict=True)]
    blocks: dict[str, list[int]] = {}
    for position, key in enumerate(keys):
        blocks.setdefault(key, []).append(position)
    texts = frame["description"].fillna("").astype(str).to_numpy()
    sources = (frame["source"].fillna("").astype(str).to_numpy() if "source" in frame
               else np.full(count, "", dtype=object))
    seen = 0
    with bar("folding near-duplicates", count, "ads", shown=count > NEAR_DUPLICATE_BAR) \
            as folding:
        for members in blocks.values():
            seen += len(members)
            folding.update_to(seen)
            if len(members) < 2:
                continue
            # identical shingle sets fold at once; only distinct texts are compared
            distinct: dict[frozenset[str], list[int]] = {}
            for position in members:
                distinct.setdefault(_shingles(texts[position], shingle_size), []).append(position)
            for shingles, same in distinct.items():
                if len(shingles) >= min_shingles:
                    for position in same[1:]:
                        components.union(same[0], position)
                else:
                    _fold_short(same, ids, sources, components)
            sets = list(distinct)
            heads = [same[0] for same in distinct.values()]
            for i, j in _candidate_pairs(sets, threshold, max_pairwise):
                if min(len(sets[i]), len(sets[j])) < min_shingles:
                    continue  # short and not identical
                if _jaccard(sets[i], sets[j]) >= threshold:
                    components.union(heads[i], heads[j])

    roots = np.array([components.find(i) for i in range(count)], dtype=np.int64)
    frame["canonical_id"] = pd.Series(ids[roots], index=frame.index, dtype="str")
    frame["is_canonical"] = roots == np.arange(count)
    sizes = np.bincount(roots, minlength=count)
    frame["duplicate_count"] = np.where(frame["is_canonical"], sizes - 1, 0).astype(np.int64)
    return frame


# --- sectors ---------------------------------------------------------------------------------

ISCO_SECTOR_COLUMNS = ["isco_sub_major", "sector_code", "note"]


def read_isco_sector(path: Path) -> pd.DataFrame:
    """The ISCO-08 sub-major group -> SBI/NACE section table (`taxonomy/isco_sector.csv`),
    checked: two-digit codes, each once, section letters A-U."""
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from exc
    missing = [c for c in ISCO_SECTOR_COLUMNS if c not in table]
    if missing:
        raise ValueError(f"{path}: columns missing: {', '.join(missing)}")
    table = table[ISCO_SECTOR_COLUMNS].apply(lambda column: column.str.strip())
    bad_code = ~table["isco_sub_major"].str.fullmatch(r"\d{2}")
    bad_sector = ~table["sector_code"].isin(list(SECTION_LETTERS))
    repeated = table["isco_sub_major"].duplicated()
    if (bad_code | bad_sector | repeated).any():
        rows = table[bad_code | bad_sector | repeated]
        raise ValueError(f"{path}: bad rows (need a unique 2-digit ISCO sub-major group and "
                         f"a section letter A-U): {rows.to_dict('records')}")
    return table.reset_index(drop=True)


def infer_sector(vacancies: pd.DataFrame, isco_sector: pd.DataFrame) -> pd.DataFrame:
    """Fill an empty `sector_code` from the occupation's ISCO sub-major group (first two
    digits of `isco_code`) via the `isco_sector` table, and say where each code came from in
    `sector_source`: "given" (by the source), "inferred" (from the occupation) or ""."""
    frame = vacancies.copy()
    given = (frame["sector_code"].fillna("").astype(str).str.strip()
             if "sector_code" in frame else pd.Series("", index=frame.index, dtype=object))
    sector = given.copy()
    if "isco_code" in frame:
        sub_major = (frame["isco_code"].astype("string").fillna("").str.strip()
                     .str.extract(r"^(\d{2})", expand=False).fillna(""))
        lookup = dict(zip(isco_sector["isco_sub_major"].astype(str),
                          isco_sector["sector_code"].astype(str), strict=True))
        inferred = sub_major.map(lookup).fillna("").astype(object)
        sector = given.where(given != "", inferred)
    frame["sector_code"] = sector
    frame["sector_source"] = np.select([given != "", sector != ""], ["given", "inferred"], "")
    frame["sector_source"] = frame["sector_source"].astype(object)
    return frame
