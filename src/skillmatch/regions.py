"""Region assignment for vacancies, talent and statistics: NUTS 2021 and Dutch labour-market
regions, by point-in-polygon and, for Dutch rows without coordinates, by postcode.

Polygons are Eurostat's 1:20M NUTS 2021 generalisation (coarse: coastal points can fall just
outside every polygon, so a point that misses is given the nearest polygon within
`nearest_max_deg` degrees, method "nearest") and the 35 arbeidsmarktregio's 2024.

The postcode table (Eurostat TERCET) uses NUTS 2024 codes. NUTS 2024 recoded Utrecht and
Zuid-Holland (NL31/NL33 -> NL35/NL36) and redrew a few regions (NL111/NL113, NL124/NL125,
NL324/NL329, NL412/NL413). `NUTS3_2024_TO_2021` maps every NUTS 2024 code to the 2021 region
that holds most of it, so all codes here are NUTS 2021 and join to the same polygons. Near the
redrawn boundaries (and Vijfheerenlanden, which moved from Zuid-Holland to Utrecht) a postcode
can land one region off.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

NUTS_FILES = {
    "nuts2": "geo/NUTS_RG_20M_2021_4326_LEVL_2.geojson",
    "nuts3": "geo/NUTS_RG_20M_2021_4326_LEVL_3.geojson",
}
LABOUR_MARKET_FILE = "geo/arbeidsmarktregio_2024_wgs84.geojson"
POSTCODE_FILE = "geo/nl_postcode6_to_nuts3.csv.gz"
NEAREST_MAX_DEG = 0.05  # about 5.5 km north-south, 3.4 km east-west at 52 degrees N
TABLE_COUNTRIES = ("NL", "UK", "BE")
TABLE_SIMPLIFY_DEG = 0.002

# NUTS 2024 code -> NUTS 2021 code holding most of it (checked on postcodes of the main towns:
# 2511 Den Haag NL361, 2611 Delft NL362, 2311 Leiden NL363, 3311 Dordrecht NL364, 2801 Gouda
# NL365, 3011 Rotterdam NL366, 2011 Haarlem NL32A, 1011 Amsterdam NL32B, 9711 Groningen NL115,
# 9671 Winschoten NL114, 8911 Leeuwarden NL127, 8601 Sneek NL128, 5038 Tilburg NL415,
# 5211 's-Hertogenbosch NL416, 3511 Utrecht NL350).
NUTS3_2024_TO_2021 = {
    "NL114": "NL111", "NL115": "NL113",
    "NL127": "NL124", "NL128": "NL125",
    "NL32A": "NL324", "NL32B": "NL329",
    "NL350": "NL310",
    "NL361": "NL332", "NL362": "NL333", "NL363": "NL337",
    "NL364": "NL33A", "NL365": "NL33B", "NL366": "NL33C",
    "NL415": "NL412", "NL416": "NL413",
}
NL_COUNTRY_NAMES = {"NL", "NLD", "NETHERLANDS", "THE NETHERLANDS", "NEDERLAND", "HOLLAND"}
_POSTCODE6 = re.compile(r"^(\d{4})\s*([A-Z]{2})$")
_POSTCODE4 = re.compile(r"^(\d{4})(?:\s*[A-Z]{0,2})?$")


class RegionError(ValueError):
    """A region file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class RegionLayer:
    """One set of polygons with its codes, names and a spatial index."""

    level: str
    codes: np.ndarray
    names: np.ndarray
    countries: np.ndarray
    geometries: np.ndarray
    tree: shapely.STRtree

    @classmethod
    def from_features(cls, level: str, features: list[dict], code_key: str, name_key: str,
                      country: str | None = None) -> RegionLayer:
        codes, names, countries, geoms = [], [], [], []
        for feature in features:
            props = feature.get("properties") or {}
            geometry = feature.get("geometry")
            if not geometry or not props.get(code_key):
                continue
            codes.append(str(props[code_key]))
            names.append(str(props.get(name_key) or props[code_key]))
            countries.append(country or str(props.get("CNTR_CODE", "")))
            geoms.append(shapely.from_geojson(json.dumps(geometry)))
        geometries = shapely.make_valid(np.array(geoms, dtype=object))
        return cls(level, np.array(codes, dtype=object), np.array(names, dtype=object),
                   np.array(countries, dtype=object), geometries, shapely.STRtree(geometries))

    def locate(self, lon: np.ndarray, lat: np.ndarray,
               max_distance: float) -> tuple[np.ndarray, np.ndarray]:
        """(polygon index or -1, found-by-nearest flag) per point, all vectorised."""
        points = shapely.points(lon, lat)
        found = np.full(len(points), -1, dtype=np.int64)
        if len(points):
            hit_point, hit_poly = self.tree.query(points, predicate="intersects")
            # first polygon wins where a point lies on a shared border
            found[hit_point[::-1]] = hit_poly[::-1]
        nearest = np.zeros(len(points), dtype=bool)
        missing = np.flatnonzero(found < 0)
        if len(missing) and max_distance > 0:
            near_point, near_poly = self.tree.query_nearest(
                points[missing], max_distance=max_distance, all_matches=False)
            found[missing[near_point]] = near_poly
            nearest[missing[near_point]] = True
        return found, nearest


@dataclass(frozen=True)
class RegionIndex:
    """Everything `assign_regions` needs, loaded once and reused for every batch."""

    nuts2: RegionLayer
    nuts3: RegionLayer
    labour_market: RegionLayer
    postcode6: pd.Series  # "1011AB" -> NUTS 2021 level-3 code
    postcode4: pd.Series  # "1011" -> most common NUTS 2021 level-3 code of its postcodes
    nearest_max_deg: float = NEAREST_MAX_DEG

    @classmethod
    def load(cls, data_root: Path, nearest_max_deg: float = NEAREST_MAX_DEG) -> RegionIndex:
        """Read the NUTS, labour-market and postcode files under `data_root`."""
        root = Path(data_root)
        nuts = {level: _features(root / name) for level, name in NUTS_FILES.items()}
        labour = _features(root / LABOUR_MARKET_FILE)
        nuts3 = RegionLayer.from_features("nuts3", nuts["nuts3"], "NUTS_ID", "NUTS_NAME")
        six, four = _postcodes(root / POSTCODE_FILE, set(nuts3.codes))
        return cls(
            nuts2=RegionLayer.from_features("nuts2", nuts["nuts2"], "NUTS_ID", "NUTS_NAME"),
            nuts3=nuts3,
            labour_market=RegionLayer.from_features(
                "labour_market_region", labour, "statcode", "statnaam", country="NL"),
            postcode6=six, postcode4=four, nearest_max_deg=nearest_max_deg,
        )


def _features(path: Path) -> list[dict]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegionError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegionError(f"{path}: not a readable GeoJSON file ({exc})") from exc
    features = doc.get("features") if isinstance(doc, dict) else None
    if not features:
        raise RegionError(f"{path}: no features")
    return features


def _postcodes(path: Path, known: set[str]) -> tuple[pd.Series, pd.Series]:
    """6-character and 4-digit postcode lookups, translated to NUTS 2021 codes."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            table = pd.read_csv(fh, dtype="str")
    except FileNotFoundError:
        raise RegionError(f"{path}: file not found") from None
    except (OSError, EOFError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise RegionError(f"{path}: cannot read ({exc})") from exc
    if not {"postcode", "nuts3"} <= set(table.columns):
        raise RegionError(f"{path}: needs postcode and nuts3 columns, has {list(table.columns)}")
    key = table["postcode"].str.upper().str.replace(" ", "", regex=False)
    code = table["nuts3"].str.strip()
    code = code.map(NUTS3_2024_TO_2021).fillna(code)
    good = key.str.fullmatch(r"\d{4}[A-Z]{2}") & code.notna()
    table = pd.DataFrame({"key": key[good], "nuts3": code[good]})
    six = table.drop_duplicates("key").set_index("key")["nuts3"]
    table["pc4"] = table["key"].str[:4]
    counts = table.groupby(["pc4", "nuts3"]).size().rename("n").reset_index()
    four = (counts.sort_values(["pc4", "n", "nuts3"], ascending=[True, False, True])
            .drop_duplicates("pc4").set_index("pc4")["nuts3"])
    unknown = set(six.unique()) - known
    if unknown:
        raise RegionError(f"{path}: NUTS codes with no polygon and no crosswalk: "
                          f"{sorted(unknown)[:10]}")
    return six, four


def _is_nl(country: pd.Series, postcode: pd.Series) -> np.ndarray:
    """Dutch rows: a Dutch country value, or no country and a "1234 AB" postcode."""
    named = country.str.upper().str.strip()
    blank = named.isna() | (named == "")
    return (named.isin(NL_COUNTRY_NAMES) | (blank & postcode.str.match(_POSTCODE6))).to_numpy(
        dtype=bool, na_value=False)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype="str")
    return frame[name].astype("str").where(frame[name].notna())


def assign_regions(frame: pd.DataFrame, index: RegionIndex) -> pd.DataFrame:
    """Add nuts2, nuts3, labour_market_region and region_method to rows with lat, lon,
    postcode and country (any may be missing or empty).

    Order: a valid lat/lon inside a NUTS 3 polygon ("point"), else within
    `index.nearest_max_deg` of one ("nearest"); else, for Dutch rows, the 6-character postcode,
    or the most common NUTS 3 region of its 4-digit part ("postcode"); else nothing (NaN codes,
    method ""). nuts2 is the first 4 characters of nuts3. labour_market_region (AM01..) comes
    from the point only, for points in a Dutch NUTS 3 region. (0, 0) counts as no point."""
    n = len(frame)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype="float64") \
        if "lat" in frame.columns else np.full(n, np.nan)
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype="float64") \
        if "lon" in frame.columns else np.full(n, np.nan)
    with np.errstate(invalid="ignore"):
        has_point = (np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90)
                     & (np.abs(lon) <= 180) & ~((lat == 0) & (lon == 0)))
    nuts3 = np.full(n, None, dtype=object)
    method = np.full(n, "", dtype=object)
    labour = np.full(n, None, dtype=object)
    rows = np.flatnonzero(has_point)
    if len(rows):
        found, near = index.nuts3.locate(lon[rows], lat[rows], index.nearest_max_deg)
        ok = found >= 0
        nuts3[rows[ok]] = index.nuts3.codes[found[ok]]
        method[rows[ok]] = np.where(near[ok], "nearest", "point")
        dutch = rows[ok][index.nuts3.countries[found[ok]] == "NL"]
        if len(dutch):
            am, _ = index.labour_market.locate(lon[dutch], lat[dutch], index.nearest_max_deg)
            labour[dutch[am >= 0]] = index.labour_market.codes[am[am >= 0]]

    postcode = _column(frame, "postcode").str.upper().str.strip()
    todo = np.flatnonzero(pd.isna(nuts3) & _is_nl(_column(frame, "country"), postcode))
    if len(todo):
        codes = postcode.iloc[todo]
        parts = codes.str.extract(_POSTCODE6)
        six = parts[0] + parts[1]
        four = codes.str.extract(_POSTCODE4)[0]
        found = six.map(index.postcode6).fillna(four.map(index.postcode4)).to_numpy(dtype=object)
        hit = pd.notna(found)
        nuts3[todo[hit]] = found[hit]
        method[todo[hit]] = "postcode"

    out = frame.copy()
    out["nuts3"] = pd.Series(nuts3, index=frame.index, dtype="str")
    out["nuts2"] = out["nuts3"].str[:4]
    out["labour_market_region"] = pd.Series(labour, index=frame.index, dtype="str")
    out["region_method"] = pd.Series(method, index=frame.index, dtype="str")
    return out


def region_table(index: RegionIndex, countries: tuple[str, ...] = TABLE_COUNTRIES,
                 simplify_deg: float = TABLE_SIMPLIFY_DEG) -> pd.DataFrame:
    """Every region (NUTS 2, NUTS 3, labour-market region) with its name and country; GeoJSON
    geometry (simplified by `simplify_deg`, coordinates rounded to 1e-4 degrees) only for
    `countries`, to keep the warehouse small. Columns: region_code, name, level, country,
    geometry_geojson (str or NaN)."""
    parts = []
    for layer in (index.nuts2, index.nuts3, index.labour_market):
        keep = np.isin(layer.countries, list(countries))
        geometry = np.full(len(layer.codes), None, dtype=object)
        if keep.any():
            shapes = layer.geometries[keep]
            if simplify_deg > 0:
                shapes = shapely.simplify(shapes, simplify_deg, preserve_topology=True)
            shapes = shapely.set_precision(shapes, 1e-4)
            geometry[keep] = shapely.to_geojson(shapes)
        parts.append(pd.DataFrame({
            "region_code": layer.codes, "name": layer.names, "level": layer.level,
            "country": layer.countries, "geometry_geojson": geometry,
        }))
    table = pd.concat(parts, ignore_index=True)
    return table.astype({c: "str" for c in table.columns})

