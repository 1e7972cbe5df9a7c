"""What every page shares: settings, a read-only warehouse, cached search and the footer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pandas as pd
import streamlit as st

from skillmatch import search, taxonomy, warehouse
from skillmatch.encoding import get_encoder
from skillmatch.settings import Settings, load_settings


def settings() -> Settings:
    """Read on every rerun (a small TOML file), so changed settings apply at once."""
    return load_settings()


@contextmanager
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection, so `skillmatch` commands can write in between."""
    con = warehouse.connect(settings().warehouse, read_only=True)
    try:
        yield con
    finally:
        con.close()


def require_taxonomy() -> dict:
    """Stop the page with instructions when the warehouse or the taxonomy is missing."""
    try:
        with connection() as con:
            release = taxonomy.release(con)
    except warehouse.WarehouseMissing:
        release = None
    except duckdb.Error as exc:
        st.error(f"The warehouse at `{settings().warehouse}` cannot be read: {exc}")
        st.stop()
    if release is None:
        st.warning(
            f"No ESCO taxonomy in the warehouse at `{settings().warehouse}`. Build it with:\n\n"
            "```\nskillmatch build\n```\n(or `skillmatch taxonomy load` for the taxonomy only)."
        )
        footer()
        st.stop()
    return release


def search_index(release: dict) -> search.TaxonomyIndex:
    s = settings()
    return _search_index(str(s.warehouse), str(release["loaded_at"]), s.search_model)


@st.cache_resource(show_spinner="Loading the search index…")
def _search_index(warehouse_path: str, loaded_at: str, model: str) -> search.TaxonomyIndex:
    """One index per warehouse, taxonomy load and model (the arguments are the cache key)."""
    s = settings()
    with connection() as con:
        return search.get_index(con, s, get_encoder(s, model))


def taxonomy_info(release: dict) -> dict:
    return _taxonomy_info(str(settings().warehouse), str(release["loaded_at"]))


@st.cache_data(show_spinner=False)
def _taxonomy_info(warehouse_path: str, loaded_at: str) -> dict:
    with connection() as con:
        return taxonomy.info(con)


def csv_download(frame: pd.DataFrame, name: str, label: str = "Download CSV") -> None:
    st.download_button(label, frame.to_csv(index=False).encode("utf-8"), file_name=name,
                       mime="text/csv", key=f"dl-{name}")


def footer() -> None:
    st.divider()
    st.caption(
        "This service uses the ESCO classification of the European Commission. "
        "SkillMatch's search results and mappings are derived from ESCO and are not endorsed "
        "by the European Commission."
    )
