"""Shortage statistics: CBS vacancies per sector and quarter, per sector and province, with
derived indicators; plus a consortium's own tension indicators (docs/tension_schema.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from skillmatch.pipeline import Context, Output, Source
from skillmatch.shortage import read_tension_csv, regional_indicators, sector_indicators
from skillmatch.sources import SourceError, Staged
from skillmatch.sources.cbs import read_cbs_regional, read_cbs_vacancies


def sources(ctx: Context, config: dict[str, Any]) -> list[Source]:
    sector = ctx.resolve(config["cbs_vacancies"])
    metadata = ctx.resolve(config["cbs_vacancies_metadata"])
    regional = ctx.resolve(config["cbs_regional"])
    found = [
        Source("cbs_sector", sector, lambda: read_cbs_vacancies(sector, metadata, str(sector)),
               kind="sector", reference=True),
        Source("cbs_region", regional, lambda: read_cbs_regional(regional, str(regional)),
               kind="region", reference=True),
    ]
    for entry in config.get("tension", []):
        path = ctx.resolve(entry)
        found.append(Source(f"tension:{path.stem}", path,
                            lambda p=path: read_tension_csv(p, str(p)), kind="tension",
                            reference=True))
    return found


def _indicators(source: Source, step: Callable[[pd.DataFrame], pd.DataFrame],
                rows: pd.DataFrame) -> pd.DataFrame:
    """The indicators of a file's good rows; rows they cannot be computed from (no A-U
    total to compare with) make the whole file unusable, said in one line."""
    try:
        return step(rows)
    except ValueError as exc:
        raise SourceError(f"{source.path}: {exc}") from exc


def transform(source: Source, staged: Staged, ctx: Context, config: dict[str, Any]) -> Output:
    # a figure given twice for one key and period was folded by the reader (the later kept)
    if source.kind == "sector":  # rows by company size instead of sector: kept apart
        by_size = staged.rows["sector_code"].isna()
        sectors = _indicators(source, sector_indicators, staged.rows[~by_size])
        sectors = sectors.assign(source=source.name)
        sizes = staged.rows[by_size].assign(source=source.name)
        return Output({"shortage_sector": sectors, "shortage_size_class": sizes},
                      rows_stored=len(sectors) + len(sizes), rows_duplicate=staged.duplicates)
    table, step = {
        "region": ("shortage_region", regional_indicators),
        "tension": ("tension", lambda frame: frame),
    }[source.kind]
    rows = _indicators(source, step, staged.rows).assign(source=source.name)
    return Output({table: rows}, rows_stored=len(rows), rows_duplicate=staged.duplicates)
