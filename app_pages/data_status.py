"""Data status: what the warehouse holds, where it came from, and what was rejected."""

import pandas as pd
import streamlit as st

from app_pages import common
from skillmatch.pipeline import warehouse_status
from skillmatch.progress import describe, read_run

st.title("Data status")
common.require_taxonomy()


@st.fragment(run_every=5)
def run_in_progress() -> None:
    """Re-drawn every 5 s: the build's stage and progress, and a notice when a new version
    was published since this page was drawn."""
    state = read_run(common.settings().warehouse)
    if state is None:
        st.caption("No build or pipeline run is in progress.")
    elif not state["running"]:
        st.warning(common.escape(describe(state)))
    else:
        st.info(common.escape(describe(state)))
        if state.get("total"):
            done = f"{state['stage']}: {state['done']:,}/{state['total']:,}"
            st.progress(min(state["done"] / state["total"], 1.0), text=common.escape(done))
    if common.version() != drawn_version:
        st.success("A new warehouse version was published: reload the page to see it.")


drawn_version = common.version()
status = warehouse_status(common.settings(), runs=50)
published = status["published"]
cols = st.columns(4)
cols[0].metric("Published version", published["version"] if published else "—")
cols[1].metric("Warehouse size", f"{status['size_mb']:,} MB")
cols[2].metric("Tables", f"{len(status['tables']):,}")
cols[3].metric("Sources", f"{len(status['sources']):,}")
st.caption(f"Warehouse: `{status['warehouse']}`"
           + (f" · published {published['published_at']:%Y-%m-%d %H:%M:%S} by "
              f"{common.escape(published['what'])}" if published else ""))
run_in_progress()

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
        names = ", ".join(failed["pipeline"] + "/" + failed["source"].fillna(""))
        st.error(f"{len(failed)} source(s) did not finish: {common.escape(names)}.")
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

st.subheader("Rows kept with a named problem")
problems = pd.DataFrame(status["problems"], columns=["table", "source", "problem", "rows"])
if problems.empty:
    st.success("No stored row carries a problem.")
else:
    st.caption("Nothing was lost: each row is stored with what the reader repaired or could "
               "not read (e.g. an unparseable date: kept, date empty) in its `problems` column.")
    st.dataframe(problems, hide_index=True, width="stretch")
    common.csv_download(problems, "stored_problems.csv")

st.subheader("Tables")
tables = pd.DataFrame(sorted(status["tables"].items()), columns=["table", "rows"])
st.dataframe(tables, hide_index=True, width="stretch")

st.subheader("Recent runs")
st.dataframe(pd.DataFrame(status["recent_runs"]), hide_index=True, width="stretch")
common.footer()
