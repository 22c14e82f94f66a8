"""The dashboard's entry point: page setup, the data source, shared filters (``sidebar``),
navigation, then the look-ahead (``lookahead``).

Run it with ``gt-throughput dashboard`` (or ``make run``), which binds to 127.0.0.1 and turns
usage statistics off.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

import analytics
from dashboard import auth, freshness, lookahead
from dashboard.cache import choose_source
from dashboard.sidebar import render_sidebar

PAGES_DIR = Path(__file__).parent / "app_pages"

st.set_page_config(
    page_title="Ground Truth throughput",
    # A local image: a ":material/...:" icon would make the browser fetch it from Google.
    page_icon=str(Path(__file__).parent / "static" / "icon.png"),
    layout="wide",
    initial_sidebar_state="expanded",
)

# Before anything reads the store: who is this, and what may they see (sign-in, access rules).
scope = auth.signed_in_scope(str(analytics.data_dir(None)))
source = choose_source(scope)
st.session_state["source"] = source
if source.is_sample:
    # Words of ours only: the store's path (which may hold any character) is on the Data page,
    # in the commands that fill it.
    st.info(
        "**You are looking at the bundled sample team**, not your data: the store given to "
        "`gt-throughput dashboard --data` is empty or missing. Bring your own with "
        "`gt-throughput sync` (read-only AWS access) or `gt-throughput ingest` (exported logs): "
        "the Data page shows both commands for this store.",
        icon=":material/science:",
    )
st.session_state["view"] = render_sidebar(source)

pages = [
    st.Page(PAGES_DIR / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page(PAGES_DIR / "workers.py", title="Workers", icon=":material/groups:"),
    st.Page(PAGES_DIR / "worker_detail.py", title="Worker detail", icon=":material/person:"),
    st.Page(PAGES_DIR / "timesheet.py", title="Timesheet", icon=":material/schedule:"),
    st.Page(PAGES_DIR / "jobs.py", title="Jobs", icon=":material/work:"),
    st.Page(PAGES_DIR / "data.py", title="Data", icon=":material/database:"),
]
page = st.navigation(pages)
auth.record_view(source.configured_root, page.title, st.session_state["view"])
# "Data as of ..., synced ... ago", sync warnings; reruns the page when the store changes.
freshness.watch(source, st.session_state["view"].timezone, page)
page.run()
# While the manager reads this page, compute the views one filter change away.
lookahead.look_ahead(source, st.session_state["view"].key, st.session_state["view"].timezone)
