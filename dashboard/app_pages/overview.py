"""Overview: how is the team doing? KPIs against the previous period, throughput, when people
work, and what needs attention."""

from __future__ import annotations

import math
from typing import Literal, cast

import streamlit as st

from analytics.metrics.definitions import help_for
from dashboard import charts, data
from dashboard.literal import html_line, literal
from dashboard.view import current_source, current_view

source, view = current_source(), current_view()
# The chart's choices, read before their widgets are drawn below, so that every number of the
# page is computed up front, two at a time, when the caches do not hold it yet.
grouping = st.session_state.get("overview_grouping", "workteam")
frequency = st.session_state.get("overview_frequency", "D")
data.overview_numbers(source, view.key, view.timezone, grouping, frequency)
st.title("Team overview")
st.caption(view.window_label)

KPI_FORMATS = {
    "tasks_submitted": ("Tasks submitted", "{:,.0f}", "{:+,.0f}"),
    "active_workers": ("Active workers", "{:,.0f}", "{:+,.0f}"),
    "median_task_seconds": ("Median task time", "{:,.1f} s", "{:+,.1f} s"),
    "return_rate": ("Return rate", "{:.1%}", "{:+.1f} pp"),
}
# Fewer returns and (for the same work) shorter tasks are improvements: show them in green.
LOWER_IS_BETTER = {"median_task_seconds", "return_rate"}

kpis = {row["metric"]: row for row in data.kpi_table(source, view.key).to_dict("records")}
columns = st.columns(len(KPI_FORMATS))
for column, (name, (label, value_format, change_format)) in zip(
    columns, KPI_FORMATS.items(), strict=True
):
    row = kpis[name]
    value = "–" if math.isnan(row["value"]) else value_format.format(row["value"])
    change_value = row["change"] * (100 if name == "return_rate" else 1)  # rates: in points
    if math.isnan(change_value):
        change = None
    elif change_format.format(change_value).lstrip("+-") == change_format.format(0).lstrip("+-"):
        change = "no change"  # a rounded zero: neither better nor worse
    else:
        change = change_format.format(change_value)
    column.metric(
        label,
        value,
        delta=None if change is None else f"{change} vs previous period",
        delta_arrow="off" if change == "no change" else "auto",
        delta_color="off"
        if change == "no change"
        else ("inverse" if name in LOWER_IS_BETTER else "normal"),
        help=help_for(name) + " Compared with the period of the same length just before.",
        border=True,
    )

st.subheader("Throughput")
left, right = st.columns([3, 1])
with right:
    grouping = st.radio(
        "Lines by",
        ["workteam", "job"],
        format_func=lambda g: {"workteam": "Team", "job": "Job"}[g],
        horizontal=True,
        key="overview_grouping",
    )
    frequency = st.radio(
        "Per",
        ["D", "h"],
        format_func=lambda f: {"D": "Day", "h": "Hour"}[f],
        horizontal=True,
        key="overview_frequency",
    )
series = data.throughput_table(
    source,
    view.key,
    cast(Literal["workteam", "job"], grouping),
    cast(Literal["h", "D"], frequency),
    view.timezone,
)
with left:
    if series.empty:
        st.info("No task outcomes in this window.")
    else:
        # Lazy tabs: only the chart on screen is built and drawn (plotly is the Overview's
        # slowest part in the browser).
        by_group, by_outcome = st.tabs(
            ["Submitted by " + {"workteam": "team", "job": "job"}[grouping], "All outcomes"],
            key="overview_chart",
            on_change="rerun",
        )
        if by_group.open:
            by_group.plotly_chart(
                charts.submitted_by_group(
                    series, frequency, view.timezone, {"workteam": "team", "job": "job"}[grouping]
                ),
                key="overview_by_group",
            )
        if by_outcome.open:
            by_outcome.plotly_chart(
                charts.outcomes_over_time(series, frequency, view.timezone),
                key="overview_outcomes",
            )

st.subheader("When the team works")
heatmap = data.heatmap_table(source, view.key, view.timezone)
if heatmap["outcomes"].sum() == 0:
    st.info("No task outcomes in this window.")
else:
    st.plotly_chart(charts.activity_heatmap(heatmap, view.timezone), key="overview_heatmap")

st.subheader("Needs attention")
alerts = data.alert_table(source, view.key)
if alerts.empty:
    st.success("No slow or idle workers, high return rates or backlog at risk in this window.")
else:
    PAGES = {"workers": "app_pages/workers.py", "jobs": "app_pages/jobs.py"}
    for row in alerts.to_dict("records"):
        subject = (
            view.person(str(row["subject"]))
            if row["kind"] != "backlog" and view.private
            else row["subject"]
        )
        with st.container(border=True):
            text_column, link_column = st.columns([5, 1])
            html_line(
                f"<strong>{literal(str(row['kind']).title())}: {literal(subject)}</strong> — "
                f"{literal(row['message'])}",
                where=text_column,
            )
            link_column.page_link(
                PAGES[row["page"]], label="Explain", icon=":material/arrow_forward:"
            )
