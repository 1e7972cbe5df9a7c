"""Labour-shortage indicators from vacancy statistics, and a consortium's own tension file.

Plain DataFrame -> DataFrame steps over what `sources.cbs` reads (no I/O). Quarters are
"YYYYQn" strings; growth and trends look up the same series k quarters earlier by quarter
arithmetic, so a missing quarter gives NaN instead of silently comparing the wrong quarters.

The shortage weight (used to weight skill demand by how hard a sector's vacancies are to fill):

    pooled tension   T_s  = (O4_s + k * T_tot) / (F4_s + k)
    national tension T_tot = O4_tot / F4_tot                      (the A-U total)
    relative tension R_s  = T_s / T_tot
    growth factor    G_s  = 1 + beta * clip(yoy_s, -c, c)        (yoy as a fraction, NaN -> 0)
    raw weight       W_s  = R_s * G_s
    shortage_weight       = W_s / mean(W over the SBI sections A..U in the same quarter)

O4 / F4 are open / filled vacancies summed over the last four quarters (quarters where both
are published). CBS rounds filled vacancies to thousands, so a published 0 means "under 500" and
counts as 500 / 2 (half the rounding unit). Pooling, that floor and the prior k (in vacancies,
default 2,000) keep tiny sectors near the national level instead of swinging on rounding.
Defaults beta = 0.5, c = 0.5 let growth move a weight by at most +/-25 %. The mean over the
sections is exactly 1 in every quarter; above 1 = harder to fill than the average sector.
See docs/tension_schema.md for the tension file and these formulas.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from skillmatch.sources import SourceError, Staged, clean_field, join_problems
from skillmatch.sources.cbs import TOTAL_SECTOR, delimited_records, full_records

PRIOR_FILLED = 2000.0
ROUNDING_UNIT = 1000.0  # CBS publishes filled vacancies in whole thousands
GROWTH_BETA = 0.5
GROWTH_CLIP = 0.5

# UWV "spanningsindicator" bands: vacancies per job seeker, upper bounds (exclusive).
TENSION_CLASSES: tuple[tuple[float, str], ...] = (
    (0.15, "very loose"),
    (0.30, "loose"),
    (0.67, "average"),
    (1.50, "tight"),
    (math.inf, "very tight"),
)
TENSION_REQUIRED = ("region_code", "occupation", "period")
TENSION_COLUMNS = ["region_code", "region_scheme", "occupation", "occupation_scheme", "period",
                   "period_type", "vacancies", "job_seekers", "tension", "tension_computed",
                   "tension_class", "source_note", "problems"]
MAX_NOTE_CHARS = 2000

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_ESCO_OCC = re.compile(r"^https?://data\.europa\.eu/esco/occupation/[0-9a-f-]{36}$")
_ESCO_ISCO = re.compile(r"^https?://data\.europa\.eu/esco/isco/C(\d{1,4})$")
_ISCO = re.compile(r"^(?:ISCO[- ]?(?:08)?[: ]?)?(\d{1,4})$", re.IGNORECASE)
_REGION = re.compile(r"^[A-Z]{2}[0-9A-Z]{0,3}$")


def quarter_index(quarters: pd.Series) -> np.ndarray:
    """"2019Q1" -> 2019 * 4 + 0, so a year earlier is index - 4. Raises on another format."""
    parts = quarters.astype("str").str.extract(_QUARTER)
    if parts.isna().any().any():
        bad = quarters[parts[0].isna()].iloc[0]
        raise ValueError(f"quarter {bad!r} is not 'YYYYQn'")
    return parts[0].astype(int).to_numpy() * 4 + parts[1].astype(int).to_numpy() - 1


def _lagged(frame: pd.DataFrame, keys: list[str], t: np.ndarray, value: str,
            lag: int) -> np.ndarray:
    """`value` of the same series `lag` quarters earlier (NaN where that quarter is absent)."""
    left = frame[keys].assign(_t=t)
    right = frame[keys].assign(_t=t + lag, _v=frame[value].to_numpy())
    return left.merge(right, on=[*keys, "_t"], how="left")["_v"].to_numpy(dtype="float64")


def _growth(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(before > 0, (now / before - 1.0) * 100.0, np.nan)


def _time_indicators(frame: pd.DataFrame, keys: list[str], t: np.ndarray) -> pd.DataFrame:
    """Growth vs the previous quarter and a year earlier, and the 4-quarter OLS slope."""
    if frame.assign(_t=t).duplicated([*keys, "_t"]).any():
        raise ValueError(f"more than one row per {keys} and quarter")
    v = frame["open_vacancies"].to_numpy(dtype="float64")
    lags = {k: _lagged(frame, keys, t, "open_vacancies", k) for k in (1, 2, 3, 4)}
    out = frame.copy()
    out["open_growth_qoq_pct"] = _growth(v, lags[1])
    out["open_growth_yoy_pct"] = _growth(v, lags[4])
    # OLS slope over x = -3..0 (x - mean = -1.5, -0.5, 0.5, 1.5; sum of squares 5).
    slope = (-1.5 * lags[3] - 0.5 * lags[2] + 0.5 * lags[1] + 1.5 * v) / 5.0
    mean4 = (lags[3] + lags[2] + lags[1] + v) / 4.0
    out["trend_slope"] = slope
    with np.errstate(divide="ignore", invalid="ignore"):
        out["trend_slope_pct"] = np.where(mean4 > 0, slope / mean4 * 100.0, np.nan)
    return out


def _share(values: pd.Series, totals: pd.Series) -> np.ndarray:
    num, den = values.to_numpy(dtype="float64"), totals.to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den * 100.0, np.nan)


def sector_indicators(stats: pd.DataFrame, *, prior_filled: float = PRIOR_FILLED,
                      growth_beta: float = GROWTH_BETA,
                      growth_clip: float = GROWTH_CLIP,
                      rounding_unit: float = ROUNDING_UNIT) -> pd.DataFrame:
    """Per sector and quarter: growth, share of all open vacancies, tension and shortage weight.

    Input: rows of `read_cbs_vacancies` (sector_code, quarter, open_vacancies,
    filled_vacancies); rows without a sector_code (company-size classes) are left out, and the
    A-U total must be present. Adds open_growth_qoq_pct, open_growth_yoy_pct, open_share_pct
    (of A-U open vacancies), vacancy_filled_ratio (open / filled, same quarter), trend_slope
    (vacancies per quarter, OLS over the last 4 quarters), trend_slope_pct (slope / 4-quarter
    mean), tension_4q, relative_tension and shortage_weight (formula in the module docstring:
    R_s * (1 + beta * clip(yoy, -c, c)), divided by its mean over the SBI sections; where a
    quarter has no section rows, over all rows but the total)."""
    needed = {"sector_code", "quarter", "open_vacancies", "filled_vacancies"}
    if missing := needed - set(stats.columns):
        raise ValueError(f"sector_indicators needs columns {sorted(missing)}")
    frame = stats[stats["sector_code"].notna()].reset_index(drop=True)
    if len(frame) and not (frame["sector_code"] == TOTAL_SECTOR).any():  # none: none out
        raise ValueError(f"sector_indicators needs the {TOTAL_SECTOR} total rows")
    t = quarter_index(frame["quarter"])
    out = _time_indicators(frame, ["sector_code"], t)
    is_total = (frame["sector_code"] == TOTAL_SECTOR).to_numpy()
    total_open = pd.Series(frame["open_vacancies"].to_numpy()[is_total], index=t[is_total])
    out["open_share_pct"] = _share(frame["open_vacancies"], total_open.reindex(t))
    opened = frame["open_vacancies"].to_numpy(dtype="float64")
    filled = frame["filled_vacancies"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["vacancy_filled_ratio"] = np.where(filled > 0, opened / filled, np.nan)

    # Pooled 4-quarter sums over quarters where both figures are published.
    both = np.isfinite(opened) & np.isfinite(filled)
    floored = np.where(filled == 0, rounding_unit / 2.0, filled)
    pooled = frame[["sector_code"]].assign(
        _o=np.where(both, opened, 0.0), _f=np.where(both, floored, 0.0), _n=both.astype(float))
    o4 = f4 = n4 = 0.0
    for lag in range(4):
        o4 = o4 + np.nan_to_num(_lagged(pooled, ["sector_code"], t, "_o", lag))
        f4 = f4 + np.nan_to_num(_lagged(pooled, ["sector_code"], t, "_f", lag))
        n4 = n4 + np.nan_to_num(_lagged(pooled, ["sector_code"], t, "_n", lag))
    with np.errstate(divide="ignore", invalid="ignore"):
        total_tension = pd.Series(np.where(f4 > 0, o4 / f4, np.nan)[is_total],
                                  index=t[is_total]).reindex(t).to_numpy()
        tension = np.where(n4 > 0, (o4 + prior_filled * total_tension) / (f4 + prior_filled),
                           np.nan)
        relative = tension / total_tension
    yoy = np.nan_to_num(out["open_growth_yoy_pct"].to_numpy() / 100.0, nan=0.0)
    raw = relative * (1.0 + growth_beta * np.clip(yoy, -growth_clip, growth_clip))
    out["tension_4q"] = tension
    out["relative_tension"] = relative
    sections = frame["sector_code"].str.fullmatch(r"[A-U]").to_numpy()
    reference = pd.Series(np.where(sections, raw, np.nan)).groupby(t).transform("mean")
    fallback = pd.Series(np.where(~is_total, raw, np.nan)).groupby(t).transform("mean")
    norm = reference.fillna(fallback).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["shortage_weight"] = np.where(norm > 0, raw / norm, np.nan)
    return out


def regional_indicators(regional: pd.DataFrame) -> pd.DataFrame:
    """Per sector, region and quarter: growth, trend and shares of `read_cbs_regional` rows.

    Adds open_growth_qoq_pct, open_growth_yoy_pct, trend_slope, trend_slope_pct,
    share_of_region_pct (sector / A-U in the same region), share_of_country_pct (region /
    the country row for the same sector) and location_quotient (the sector's share in the region
    over its share in the country; > 1 = the region leans on that sector more)."""
    needed = {"sector_code", "region_code", "region_level", "quarter", "open_vacancies"}
    if missing := needed - set(regional.columns):
        raise ValueError(f"regional_indicators needs columns {sorted(missing)}")
    frame = regional[regional["sector_code"].notna()].reset_index(drop=True)
    t = quarter_index(frame["quarter"])
    out = _time_indicators(frame, ["sector_code", "region_code"], t)
    keyed = frame.assign(_t=t)
    total = keyed[keyed["sector_code"] == TOTAL_SECTOR][["region_code", "_t", "open_vacancies"]]
    region_total = keyed[["region_code", "_t"]].merge(
        total, on=["region_code", "_t"], how="left")["open_vacancies"]
    country = keyed[keyed["region_level"] == "country"][["sector_code", "_t", "open_vacancies"]]
    country_value = keyed[["sector_code", "_t"]].merge(
        country, on=["sector_code", "_t"], how="left")["open_vacancies"]
    country_total = pd.Series(t).map(
        country[country["sector_code"] == TOTAL_SECTOR].set_index("_t")["open_vacancies"])
    out["share_of_region_pct"] = _share(frame["open_vacancies"], region_total)
    out["share_of_country_pct"] = _share(frame["open_vacancies"], country_value)
    national_share = _share(country_value, country_total)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["location_quotient"] = np.where(
            national_share > 0, out["share_of_region_pct"].to_numpy() / national_share, np.nan)
    return out


def tension_class(tension: float) -> str:
    """The UWV-style band of a tension value (vacancies per job seeker)."""
    for upper, name in TENSION_CLASSES:
        if tension < upper:
            return name
    return TENSION_CLASSES[-1][1]


def _occupation(raw: str) -> tuple[str, str] | None:
    """(normalised code, scheme) for an ESCO occupation URI or an ISCO-08 code."""
    value = raw.strip()
    if _ESCO_OCC.match(value):
        return value, "esco"
    for pattern in (_ESCO_ISCO, _ISCO):
        match = pattern.match(value)
        if match:
            return match.group(1), "isco"
    return None


def _period(raw: str) -> tuple[str, str] | None:
    """(normalised period, type) for "2024", "2024Q1" / "2024-Q1" or "2024-03"."""
    value = raw.strip().upper().replace(" ", "")
    if re.fullmatch(r"(19|20)\d\d", value):
        return value, "year"
    match = re.fullmatch(r"((?:19|20)\d\d)-?Q([1-4])", value)
    if match:
        return f"{match.group(1)}Q{match.group(2)}", "quarter"
    match = re.fullmatch(r"((?:19|20)\d\d)-(0[1-9]|1[0-2])", value)
    if match:
        return f"{match.group(1)}-{match.group(2)}", "month"
    return None


def _region_scheme(code: str) -> str:
    if re.fullmatch(r"AM\d\d", code):
        return "labour_market_region"
    if re.fullmatch(r"PV\d\d", code):
        return "cbs_province"
    if re.fullmatch(r"LD\d\d", code):
        return "cbs_landsdeel"
    return "nuts"


def _count(raw: str, name: str) -> float:
    value = raw.strip()
    if not value:
        return math.nan
    try:
        number = float(value.replace(",", ".") if value.count(",") == 1 and "." not in value
                       else value)
    except ValueError:
        raise ValueError(f"{name} {value[:40]!r} is not a number") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} {value[:40]!r} must be a number >= 0")
    return number


def read_tension_csv(path: Path, source: str | None = None) -> Staged:
    """A consortium's tension indicator per occupation, region and period (docs/tension_schema.md).

    Columns: region_code, region_scheme (nuts / labour_market_region / cbs_province /
    cbs_landsdeel), occupation (ESCO occupation URI or ISCO-08 code), occupation_scheme
    (esco / isco), period, period_type (year / quarter / month), vacancies, job_seekers,
    tension (as given, else vacancies / job_seekers), tension_computed (bool), tension_class
    (UWV-style band), source_note, problems (what was repaired, "; "-joined). Unknown extra
    columns are ignored. A figure given twice for one region, occupation and period keeps
    the later line; the earlier counts as a duplicate."""
    path = Path(path)
    source = source or str(path)
    header, records = delimited_records(path)
    names = [h.strip().lower() for h in header]
    missing = [c for c in TENSION_REQUIRED if c not in names]
    if missing:
        raise SourceError(f"{path}: missing columns {missing} (has {header})")
    has_counts = "vacancies" in names and "job_seekers" in names
    if not has_counts and "tension" not in names:
        raise SourceError(f"{path}: needs a tension column or both vacancies and job_seekers")
    staged = Staged(rows=pd.DataFrame())
    rows: list[dict[str, object]] = []
    for number, fields in full_records(records, len(names), staged, source):
        record = f"line {number}"
        cell = {name: value.strip() for name, value in zip(names, fields, strict=True)}
        try:
            row = _tension_row(cell)
        except ValueError as exc:
            staged.reject(source, record, str(exc))
            continue
        rows.append(row)
    frame = pd.DataFrame(rows, columns=TENSION_COLUMNS)
    for col in ("vacancies", "job_seekers", "tension"):
        frame[col] = frame[col].astype("float64")
    frame["tension_computed"] = frame["tension_computed"].astype(bool)
    for col in set(TENSION_COLUMNS) - {"vacancies", "job_seekers", "tension",
                                       "tension_computed"}:
        frame[col] = frame[col].astype("str")
    staged.rows = frame
    staged.rows_read = len(frame) + len(staged.rejects)
    staged.fold(["region_code", "occupation", "period"])
    return staged


def _tension_row(cell: dict[str, str]) -> dict[str, object]:
    """One checked tension record; ValueError names the first problem."""
    region = cell["region_code"].upper().replace(" ", "")
    if not region:
        raise ValueError("region_code is empty")
    if not _REGION.match(region):
        raise ValueError(f"region_code {cell['region_code'][:40]!r} is not a NUTS, AM, PV or "
                         "LD code")
    occupation = _occupation(cell["occupation"])
    if occupation is None:
        raise ValueError(f"occupation {cell['occupation'][:60]!r} is neither an ESCO occupation "
                         "URI nor an ISCO-08 code")
    period = _period(cell["period"])
    if period is None:
        raise ValueError(f"period {cell['period'][:40]!r} is not YYYY, YYYYQn or YYYY-MM")
    vacancies = _count(cell.get("vacancies", ""), "vacancies")
    seekers = _count(cell.get("job_seekers", ""), "job_seekers")
    tension = _count(cell.get("tension", ""), "tension")
    computed = math.isnan(tension)
    if computed:
        if math.isnan(vacancies) or math.isnan(seekers):
            raise ValueError("no tension and not both vacancies and job_seekers")
        if seekers == 0:
            raise ValueError("tension undefined: job_seekers is 0")
        tension = vacancies / seekers
    problems: list[str] = []
    note = " ".join(clean_field(cell.get("source_note", ""), "source_note", problems).split())
    if len(note) > MAX_NOTE_CHARS:
        raise ValueError(f"source_note longer than {MAX_NOTE_CHARS} characters")
    return {"region_code": region, "region_scheme": _region_scheme(region),
            "occupation": occupation[0], "occupation_scheme": occupation[1],
            "period": period[0], "period_type": period[1], "vacancies": vacancies,
            "job_seekers": seekers, "tension": tension, "tension_computed": computed,
            "tension_class": tension_class(tension), "source_note": note,
            "problems": join_problems(problems)}
