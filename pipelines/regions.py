"""Regions: NUTS 2021 levels 2 and 3 and the Dutch labour-market regions, with geometry for
maps (skillmatch.regions)."""

from __future__ import annotations

from typing import Any

from skillmatch.pipeline import Context, Output, Source
from skillmatch.regions import RegionIndex, region_table
from skillmatch.sources import Staged


def sources(ctx: Context, config: dict[str, Any]) -> list[Source]:
    folder = ctx.resolve(config.get("geo", "geo"))

    def read() -> Staged:
        index = ctx.cached("region_index", lambda: RegionIndex.load(ctx.settings.data_root))
        rows = region_table(index)
        return Staged(rows, rows_read=len(rows))

    return [Source("geo", folder, read, reference=True)]


def transform(source: Source, staged: Staged, ctx: Context, config: dict[str, Any]) -> Output:
    regions = staged.rows.assign(source=source.name)
    return Output({"region": regions}, rows_stored=len(regions))
