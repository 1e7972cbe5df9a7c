"""Data status: what the warehouse holds, where it came from, and what was rejected."""

import pandas as pd
import streamlit as st

from app_pages import common
from skillmatch.pipeline import warehouse_status

st.title("Data status")
common.require_taxonomy()
status = warehouse_status(common.settings(), runs=50)

cols = st.columns(3)
cols[0].metric("Warehouse size", f"{status['size_mb']:,} MB")
cols[1].metric("Tables", f"{len(status['tables']):,}")
cols[2].metric("Sources", f"{len(status['sources']):,}")
st.caption(f"Warehouse: `{status['warehouse']}`")

st.subheader("Sources (latest run of each)")
sources = pd.DataFrame(status["sources"])
if sources.empty:
    st.info(f"No pipeline has run yet. {common.RUN_HINT}")
else:
    shown = sources[["pipeline", "source", "status", "rows_read", "rows_stored",
                     "rows_duplicate", "rows_rejected", "seconds", "started_at", "input"]]
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_config={"seconds": st.column_config.NumberColumn(format="%.1f")})
    failed = sources[sources["status"] != "ok"]
    if not failed.empty:
        st.error(f"{len(failed)} source(s) did not finish: "
                 f"{', '.join(failed['pipeline'] + '/' + failed['source'].fillna(''))}.")
    st.caption("Every run is one transaction: read = stored + duplicates + rejected. "
               "An unchanged input is skipped on the next build.")
    common.csv_download(shown, "sources.csv")

st.subheader("Rejected records")
rejects = pd.DataFrame(status["rejects"], columns=["run_id", "source", "record", "reason"])
if rejects.empty:
    st.success("The latest runs rejected no record.")
else:
    reasons = rejects.groupby(["source", "reason"]).size().rename("records").reset_index()
    st.dataframe(reasons.sort_values("records", ascending=False), hide_index=True,
                 width="stretch")
    st.caption("Each reason names the record and the problem; the full list is below.")
    st.dataframe(rejects, hide_index=True, width="stretch")
    common.csv_download(rejects, "rejected_records.csv")

st.subheader("Tables")
tables = pd.DataFrame(sorted(status["tables"].items()), columns=["table", "rows"])
st.dataframe(tables, hide_index=True, width="stretch")

st.subheader("Recent runs")
st.dataframe(pd.DataFrame(status["recent_runs"]), hide_index=True, width="stretch")
common.footer()
