"""What every page shares: settings, a read-only warehouse, cached search and the footer."""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from skillmatch import matching, planning, search, taxonomy, warehouse
from skillmatch.analytics import DemandFilter
from skillmatch.encoding import get_encoder
from skillmatch.exports import safe_csv
from skillmatch.mapping import SkillExtractor
from skillmatch.progress import SEARCH_INDEX, describe, read_run
from skillmatch.settings import Settings, load_settings


def settings() -> Settings:
    """Read on every rerun (a small TOML file), so changed settings apply at once."""
    return load_settings()


@contextmanager
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection to the published warehouse: runs write a private
    copy (never blocking this), and the next connection sees a newly published version."""
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
        st.error(f"The warehouse at `{settings().warehouse}` cannot be read: {escape(exc)}")
        st.stop()
    if release is None:
        st.warning(
            f"No ESCO taxonomy in the warehouse at `{settings().warehouse}`. Build it with:\n\n"
            "```\nskillmatch build\n```\n(or `skillmatch taxonomy load` for the taxonomy only)."
        )
        footer()
        st.stop()
    return release


def version() -> str:
    """Changes whenever a new warehouse version is published (a new file under the same name):
    part of every cache key, so a rebuilt warehouse is never served from a stale cache."""
    try:
        stat = settings().warehouse.stat()
    except FileNotFoundError:
        return "missing"
    return f"{settings().warehouse}:{stat.st_ino}:{stat.st_mtime_ns}:{stat.st_size}"


RUN_HINT = ("Build it with:\n\n```\nskillmatch build\n```\n(or `make run`, which also "
            "installs everything); `skillmatch pipeline run NAME` runs one pipeline.")


def require_tables(*tables: str, what: str) -> None:
    """Stop the page with what to run when the warehouse lacks the tables it needs (or has
    them empty), instead of failing."""
    require_taxonomy()
    with connection() as con:
        missing = [t for t in tables if not warehouse.table_exists(con, t)
                   or not con.execute(f'SELECT count(*) > 0 FROM "{t}"').fetchone()[0]]
    if missing:
        st.warning(f"The warehouse has no {what} yet (empty or missing: "
                   f"{', '.join(f'`{t}`' for t in missing)}). {RUN_HINT}")
        footer()
        st.stop()


def cached(function: Callable, *args: Any, **kwargs: Any) -> Any:
    """`function(con, *args, **kwargs)` for a library function, cached per warehouse version
    (arguments must be hashable by Streamlit: plain values, tuples, frozen dataclasses)."""
    return _cached(f"{function.__module__}:{function.__qualname__}", version(), args,
                   tuple(sorted(kwargs.items())))


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(name: str, version: str, args: tuple, kwargs: tuple) -> Any:
    module, _, qualname = name.partition(":")
    function = importlib.import_module(module)
    for part in qualname.split("."):
        function = getattr(function, part)
    with connection() as con:
        return function(con, *args, **dict(kwargs))


def choices(concept_type: str) -> dict[str, str]:
    """Preferred label -> URI of every skill or occupation, for pickers."""
    labels = cached(taxonomy.preferred_labels, concept_type)
    return dict(zip(labels["preferred_label"], labels["uri"], strict=False))


@st.cache_resource(show_spinner="Loading candidate profiles…", max_entries=2)
def talent_index(version: str) -> matching.TalentIndex:
    with connection() as con:
        return matching.TalentIndex.load(con)


@st.cache_resource(show_spinner="Loading the skill extractor…", max_entries=2)
def skill_extractor(version: str) -> SkillExtractor:
    with connection() as con:
        return SkillExtractor(settings(), con)


@st.cache_data(show_spinner="Clustering uncovered demand…", max_entries=64)
def module_proposals(version: str, flt: DemandFilter, n: int, min_vacancies: int,
                     max_credentials: int, by_meaning: bool) -> list[planning.ModuleProposal]:
    """`planning.propose_modules`, with label embeddings of the English model (from the
    embedding cache) when `by_meaning`, so near-synonyms group."""
    embed = None
    if by_meaning:
        encoder = get_encoder(settings(), settings().english_model)
        embed = functools.partial(encoder.embed, kind="document")
    with connection() as con:
        return planning.propose_modules(con, flt, n=n, min_vacancies=min_vacancies,
                                        max_credentials=max_credentials, embed=embed)


def wait_for_index(what: str = SEARCH_INDEX) -> None:
    """While a build is still embedding the labels a page needs (the first `make run`), say so
    and stop the page, instead of embedding them a second time in the app's own process."""
    state = read_run(settings().warehouse)
    if state and state["running"] and state["what"] == "build" and what not in state["published"]:
        st.info(f"The {what} is being built by the build that runs behind the app; this page "
                "works when it is done.\n\n" + escape(describe(state)))
        footer()
        st.stop()


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
    """Every download goes through here, so no page can hand out a CSV whose source text a
    spreadsheet would run as a formula (`skillmatch.exports.safe_csv`)."""
    st.download_button(label, safe_csv(frame), file_name=name, mime="text/csv",
                       key=f"dl-{name}")


_MARKDOWN_INLINE = re.compile(r"[\\`*_\[\]<>&~$:|]")
_MARKDOWN_LINE_START = re.compile(r"^(\s*\d*)([#+=-]|(?<=\d)[.)](?=\s|$))", re.MULTILINE)


def escape(value: object) -> str:
    """`value` (source or user text: titles, employers, labels, descriptions, errors) as
    markdown that Streamlit shows literally: no emphasis, link, image, HTML, math, colour
    directive, table, heading or list can come from it. Use it for every interpolation into
    `st.markdown`, `st.write`, `st.caption`, alerts, headers and labels; None is empty."""
    text = _MARKDOWN_INLINE.sub(r"\\\g<0>", "" if value is None else str(value))
    return _MARKDOWN_LINE_START.sub(r"\1\\\2", text)


def link(url: str) -> str:
    """A markdown link to a source URL, or the URL as escaped text when it is not plain http(s)
    (a `javascript:` or malformed URL never becomes a link)."""
    if re.fullmatch(r"https?://[^\s()<>\[\]`\\]+", url or ""):
        return f"[{escape(url)}]({url})"
    return escape(url)


def footer() -> None:
    st.divider()
    st.caption(
        "This service uses the ESCO classification of the European Commission. "
        "SkillMatch's search results and mappings are derived from ESCO and are not endorsed "
        "by the European Commission."
    )
