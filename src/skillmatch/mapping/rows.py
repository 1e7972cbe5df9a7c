"""Warehouse rows from mapping results: one per document and skill or ranked occupation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from skillmatch.mapping.extractor import SkillMatch


def skill_rows(ids: Sequence[str], results: Sequence[Sequence[SkillMatch]],
               id_column: str, per_document: int | None = None) -> pd.DataFrame:
    """Warehouse rows (one per document and skill) from `extract_many` results."""
    rows = [{id_column: doc_id, "skill_uri": m.uri, "skill_label": m.label,
             "skill_type": m.skill_type, "score": m.score, "accepted": m.accepted,
             "found_by": m.found_by, "matched_label": m.matched_label, "evidence": m.evidence,
             "phrase": m.phrase, "span_start": m.start, "span_end": m.end,
             "language": m.language}
            for doc_id, matches in zip(ids, results, strict=True)
            for m in list(matches)[:per_document]]
    return pd.DataFrame(rows, columns=[id_column, *SKILL_ROW_COLUMNS])


SKILL_ROW_COLUMNS = ["skill_uri", "skill_label", "skill_type", "score", "accepted", "found_by",
                     "matched_label", "evidence", "phrase", "span_start", "span_end",
                     "language"]


def occupation_rows(ids: Sequence[str], results: Sequence[pd.DataFrame], id_column: str
                    ) -> pd.DataFrame:
    """Warehouse rows (one per document and ranked occupation) from `link_many` results."""
    frames = []
    for doc_id, hits in zip(ids, results, strict=True):
        if hits.empty:
            continue
        frames.append(pd.DataFrame({
            id_column: doc_id, "rank": np.arange(1, len(hits) + 1),
            "occupation_uri": hits["uri"].to_numpy(),
            "occupation_label": hits["preferred_label"].to_numpy(),
            "matched_label": hits["matched_label"].to_numpy(),
            "isco_code": hits["isco_code"].to_numpy(),
            "isco_label": hits["isco_label"].to_numpy(),
            "score": hits["score"].to_numpy(), "accepted": hits["accepted"].to_numpy(),
        }))
    columns = [id_column, "rank", "occupation_uri", "occupation_label", "matched_label",
               "isco_code", "isco_label", "score", "accepted"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(
        columns=columns)


