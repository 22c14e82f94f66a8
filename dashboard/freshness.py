"""How fresh the data is, on every page, and an open page that follows the store.

``watch`` draws "data as of 09:14, synced 3 min ago" (with a warning when sync is stale or
failing) in a fragment that reruns every ``$GT_THROUGHPUT_REFRESH_SECONDS`` (``[dashboard]
refresh_seconds`` of ``gt-throughput serve``; 30 s otherwise). Each time it reads the store's
version token, one small file: when a sync or an ingest changed the store, it reruns the whole
page, whose caches are keyed on that version, so the open page shows the new data within one
refresh and no restart.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

import analytics
from dashboard import cache
from dashboard.cache import Source
from dashboard.literal import html_line, literal

DEFAULT_REFRESH_SECONDS = 30.0


def refresh_seconds() -> float:
    """How often an open page checks the store version (at least one second)."""
    try:
        value = float(os.environ.get(analytics.REFRESH_ENV_VAR, DEFAULT_REFRESH_SECONDS))
    except ValueError:
        value = DEFAULT_REFRESH_SECONDS
    return max(1.0, value) if value == value else DEFAULT_REFRESH_SECONDS  # NaN: the default


def show(source: Source, timezone: str) -> None:
    """The freshness line and, when they apply, the stale and failing warnings."""
    now = dt.datetime.now(dt.UTC)
    health = analytics.sync_health(cache.sync_state(source), now)
    as_of = cache.as_of(source)
    data_as_of = None if as_of is None or as_of != as_of else as_of.to_pydatetime()
    line = analytics.freshness_line(health, data_as_of, now, timezone)
    html_line(literal(line[:1].upper() + line[1:] + "."), style="caption")
    stale = analytics.stale_warning(health, now)
    if stale is not None:
        st.warning(stale, icon=":material/schedule:")
    if health.failing:
        # Texts from AWS: drawn as HTML we escape, never as markdown.
        st.html(
            '<div role="alert" data-testid="gt-sync-failing" style="padding:0.5rem 1rem;'
            'border-radius:0.5rem;background:#fdecea;color:#7d1a12">'
            + "<br>".join(literal(text) for text in health.failing)
            + "</div>"
        )


@st.fragment(run_every=refresh_seconds())
def watch(source: Source, timezone: str, page: StreamlitPage) -> None:
    """``show``, redrawn every refresh; the whole ``page`` reruns when the store changed."""
    if source.is_sample:
        # The sample is shown while the configured store is empty: rerun once it changes, and
        # the page shows it as soon as it holds data.
        seen = st.session_state.setdefault(
            "freshness_configured_version", cache.store_version(Path(source.configured_root))
        )
        changed = cache.store_version(Path(source.configured_root)) != seen
        if changed:
            del st.session_state["freshness_configured_version"]
    else:
        changed = cache.store_version(Path(source.root)) != source.version
    if changed:
        # Not ``st.rerun()``: from a fragment's timed run it may rerun the default page instead
        # of this one. The page and its URL parameters (the filters) are named explicitly.
        params = [
            (name, value) for name in st.query_params for value in st.query_params.get_all(name)
        ]
        st.switch_page(page, query_params=params)
    show(source, timezone)
