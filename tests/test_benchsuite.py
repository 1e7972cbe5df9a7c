"""`skillmatch bench`: the summary page is written from whatever result files exist."""

from __future__ import annotations

import json
from pathlib import Path

from skillmatch import benchsuite


def test_summary_reports_the_results_it_finds(tmp_path: Path) -> None:
    (tmp_path / "dask.json").write_text(json.dumps({"same_rows": True, "configs": {
        "in-process": {"ads_per_s": 4.78, "ratio_to_in_process": 1.0,
                       "startup_and_warm_up_s": 24.0},
        "dask, 2 workers x 1 thread": {"ads_per_s": 4.17, "ratio_to_in_process": 0.872,
                                       "startup_and_warm_up_s": 34.6}}}))
    (tmp_path / "scale.json").write_text(json.dumps({"sizes": {"1000000": {
        "dashboard_total_s": 8.3, "dashboard_slowest_s": 1.97, "talent_index_load_s": 6.5,
        "talent_search_p50_ms": 13.1, "talent_search_p95_ms": 23.2, "peak_rss_gb": 12.1}}}))
    (tmp_path / "api.json").write_text(json.dumps({"cells": [
        {"workload": "talent", "clients": 10, "requests": 460, "failures": 0, "p50_ms": 638.1,
         "p95_ms": 824.4, "req_per_s": 15.32}],
        "aims": [{"aim": "no errors under load", "measured": "0 failed", "met": True}]}))
    (tmp_path / "dutch.json").write_text(json.dumps({
        "ads": 300, "ads_per_s": {"with glossary": 3.64, "without glossary": 4.91},
        "cost_ratio": 1.346, "glossed_label_vectors_mb": 180}))
    page = benchsuite.summary(tmp_path)
    assert ("- 300 ads: 3.64 ads/s with the glossary reading, 4.91 without (cost ratio "
            "1.346); glossed label vectors 180 MB") in page
    assert "| talent | 10 | 460 | 0 | 638.1 | 824.4 | 15.32 |" in page
    assert "- no errors under load: 0 failed (met)" in page
    assert "| dask, 2 workers x 1 thread | 4.17 | 0.872 | 34.6 s |" in page
    assert "| 1,000,000 | 8.3 s | 1.97 s | 6.5 s | 13.1 / 23.2 ms | 12.1 GB |" in page
    assert "Mapping throughput" not in page  # no mapping.json: no section
