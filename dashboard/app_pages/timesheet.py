"""Timesheet: hours and outcomes per worker and local day of the view's time zone, the team's total
per day, and a download of the rows as ``gt-throughput export timesheet`` writes them."""

from __future__ import annotations

import streamlit as st

from analytics import timesheet_csv_bytes, timesheet_totals
from dashboard import auth, cache, components
from dashboard.sidebar import current_source, current_view

source, view = current_source(), current_view()
st.title("Timesheet")
st.caption(view.window_label)

sheet = cache.timesheet_table(source, view.key, view.timezone)
if sheet.empty:
    st.info("No task, session or worker response in this window.")
    st.stop()

# Our words only: the zone name is one of the sidebar's choices, not data.
st.caption(
    f"One row per worker and calendar day in {view.timezone} (daylight saving aware: a day of a "
    "clock change lasts 23 or 25 hours). A task or session running past midnight counts on both "
    "days; outcomes count on the day of their outcome time. Hover a column header for its "
    "definition."
)

st.subheader("Per day")
components.table(timesheet_totals(sheet), view, key="timesheet_totals")

st.subheader("Per worker and day")
components.table(sheet, view, key="timesheet_table", height=420)

download, definitions = st.columns([1, 1])
download.download_button(
    "Download the timesheet (CSV)",
    data=timesheet_csv_bytes(sheet, timezone=view.timezone, pseudonymize=view.private),
    file_name="timesheet.csv",
    mime="text/csv",
    key="timesheet_download",
    on_click=auth.downloaded("timesheet.csv"),
    type="primary",
    help="Every row above, as `gt-throughput export timesheet` writes them for this window.",
)
with definitions:
    components.definitions_download(list(sheet.columns), key="timesheet_definitions")
