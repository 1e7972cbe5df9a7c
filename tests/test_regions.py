"""Region assignment: NUTS 2021 and Dutch labour-market regions from points and postcodes."""

from __future__ import annotations

import gzip
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import REPO_SETTINGS

from skillmatch.regions import (
    LABOUR_MARKET_FILE,
    NUTS3_2024_TO_2021,
    RegionError,
    RegionIndex,
    assign_regions,
    region_table,
)
from skillmatch.sources.cbs import PROVINCE_NUTS2

DATA = REPO_SETTINGS.data_root
NHS = DATA / "vacancies" / "nhs_jobs_2020_schemaorg.jsonl.gz"
pytestmark = pytest.mark.skipif(not (DATA / "geo").exists(),
                                reason=f"geo files not found under {DATA}")


@pytest.fixture(scope="module")
def index() -> RegionIndex:
    return RegionIndex.load(DATA)


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["lat", "lon", "postcode", "country"])


def test_known_points_and_postcodes(index: RegionIndex) -> None:
    out = assign_regions(_frame([
        (52.37, 4.89, "", "NL"),               # Amsterdam
        (51.507, -0.128, "", "GB"),            # London, Trafalgar Square
        (None, None, "1011 AB", "NL"),         # Amsterdam postcode, no point
        (None, None, "1011zz", "Nederland"),   # unknown 6-char postcode -> its 4-digit part
        (None, None, "2511", "NL"),            # Den Haag, 4 digits only
        (54.0, -20.0, "", ""),                 # Atlantic
        (52.375, 4.52, "", "NL"),              # Zandvoort beach, just off the 1:20M coast
        (0, 0, "3011 AA", None),               # (0, 0) = no point; Dutch postcode, no country
        (None, None, "1011 AB", "BE"),         # not Dutch: no postcode lookup
        ("x", "y", None, None),                # junk
    ]), index)
    rows = out[["nuts3", "nuts2", "labour_market_region", "region_method"]].astype(object)
    rows = rows.where(rows.notna(), None).values.tolist()
    assert rows == [
        ["NL329", "NL32", "AM18", "point"],
        ["UKI32", "UKI3", None, "point"],
        ["NL329", "NL32", None, "postcode"],
        ["NL329", "NL32", None, "postcode"],
        ["NL332", "NL33", None, "postcode"],
        [None, None, None, ""],
        ["NL324", "NL32", "AM37", "nearest"],
        ["NL33C", "NL33", None, "postcode"],
        [None, None, None, ""],
        [None, None, None, ""],
    ]
    assert list(out.columns[:4]) == ["lat", "lon", "postcode", "country"]
    assert str(out["nuts3"].dtype) == "str" and str(out["region_method"].dtype) == "str"


def test_labour_market_codes_are_the_named_regions(index: RegionIndex) -> None:
    table = region_table(index).set_index("region_code")
    assert table.loc["AM18", "name"] == "Groot Amsterdam"
    assert table.loc["AM37", "name"] == "Zuid-Kennemerland en IJmond"
    assert table.loc["NL329", "name"] == "Groot-Amsterdam"


def test_missing_columns_and_empty_frame(index: RegionIndex) -> None:
    only_points = assign_regions(pd.DataFrame({"lat": [52.09], "lon": [5.12]}), index)
    assert only_points.loc[0, "nuts3"] == "NL310"  # Utrecht
    empty = assign_regions(_frame([]), index)
    assert empty.empty and "region_method" in empty.columns


def test_postcode_table_codes_are_nuts_2021(index: RegionIndex) -> None:
    polygons = set(index.nuts3.codes)
    assert set(index.postcode6.unique()) <= polygons
    assert set(NUTS3_2024_TO_2021.values()) <= polygons
    assert index.postcode6["1011AB"] == "NL329" and index.postcode4["3011"] == "NL33C"
    assert len(index.postcode6) == 464_884


def test_fifteen_thousand_points_are_fast(index: RegionIndex) -> None:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"lat": rng.uniform(50.7, 53.5, 15_000),
                          "lon": rng.uniform(3.3, 7.2, 15_000),
                          "postcode": None, "country": "NL"})
    start = time.perf_counter()
    out = assign_regions(frame, index)
    assert time.perf_counter() - start < 5.0  # about 0.2 s on one core
    assert out["nuts3"].notna().mean() > 0.7  # the box holds a lot of North Sea
    polygons = dict(zip(index.nuts3.codes, index.nuts3.geometries, strict=True))
    sample = out[out["region_method"] == "point"].head(300)
    assert all(polygons[code].intersects(shapely.Point(lon, lat))
               for code, lon, lat in zip(sample["nuts3"], sample["lon"], sample["lat"],
                                         strict=True))


def test_nhs_points_get_nuts3(index: RegionIndex) -> None:
    if not NHS.exists():
        pytest.skip(f"{NHS} not found")
    rows = []
    with gzip.open(NHS, "rt", encoding="utf-8") as fh:
        for number, line in enumerate(fh):
            if number == 2000:
                break
            place = json.loads(line).get("jobLocation") or {}
            place = place[0] if isinstance(place, list) else place
            geo, address = place.get("geo") or {}, place.get("address") or {}
            rows.append((geo.get("latitude"), geo.get("longitude"),
                         address.get("postalCode"), address.get("addressCountry")))
    out = assign_regions(_frame(rows), index)
    share = out["nuts3"].notna().mean()
    assert share > 0.99  # 99.55 %: the rest are in Guernsey and Jersey (not in NUTS)
    assert (out["region_method"] == "point").mean() > 0.95
    assert set(out["nuts3"].dropna().str[:2]) == {"UK"}
    assert out.loc[out["nuts3"].isna(), "postcode"].str[:2].isin(["GY", "JE"]).all()


def test_region_table(index: RegionIndex) -> None:
    table = region_table(index)
    assert table["level"].value_counts().to_dict() == {
        "nuts3": 1512, "nuts2": 333, "labour_market_region": 35}
    assert list(table.columns) == ["region_code", "name", "level", "country",
                                   "geometry_geojson"]
    has_geometry = table["geometry_geojson"].notna()
    assert set(table.loc[has_geometry, "country"]) == {"NL", "UK", "BE"}
    assert has_geometry.sum() == (table["country"].isin(["NL", "UK", "BE"])).sum()
    assert table["geometry_geojson"].str.len().sum() < 2_000_000
    row = table[table["region_code"] == "NL329"].iloc[0]
    shape = shapely.from_geojson(row["geometry_geojson"])
    assert shape.contains(shapely.Point(4.89, 52.37))
    nuts2 = set(table.loc[table["level"] == "nuts2", "region_code"])
    assert set(PROVINCE_NUTS2.values()) <= nuts2  # the CBS provinces join to the map


def test_unusable_region_files_raise(tmp_path: Path) -> None:
    with pytest.raises(RegionError, match="file not found"):
        RegionIndex.load(tmp_path)
    (tmp_path / "geo").mkdir()
    for source in (DATA / "geo").iterdir():
        shutil.copyfile(source, tmp_path / "geo" / source.name)  # contents only, writable
    broken = tmp_path / LABOUR_MARKET_FILE
    broken.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(RegionError, match="not a readable GeoJSON"):
        RegionIndex.load(tmp_path)
