"""Jobs: each labeling job's status, counters, throughput and returns; for streaming jobs the
backlog history, the time to clear it at the recent rate, and expiry or idle-stop warnings; for
every job with a backlog, the staffing a deadline the manager picks needs."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from typing import Any

import pandas as pd
import streamlit as st

from analytics import DEFINITIONS, STAFFING_ASSUMPTIONS, escape_controls, help_for
from dashboard import cache, charts, components
from dashboard.cache import FilterKey
from dashboard.literal import html_line, literal
from dashboard.sidebar import current_source, current_view

source, view = current_source(), current_view()
st.title("Labeling jobs")
st.caption(view.window_label)

jobs = cache.job_table(source, view.key)
if jobs.empty:
    st.info("No labeling job in this window.")
    st.stop()
LEADING = [
    "labeling_job_name",
    "status",
    "is_streaming",
    "tasks_submitted",
    "tasks_returned",
    "return_rate",
    "median_task_seconds",
    "active_workers",
    "pending_human",
    "backlog_messages",
]
components.table(
    jobs[LEADING + [c for c in jobs.columns if c not in LEADING]], view, key="jobs_table"
)

st.subheader("Agreement between workers, active against wall time")
st.caption(
    "From the jobs' worker responses: the share of objects every worker labeled alike, "
    "Krippendorff's alpha for nominal labels (1 perfect, 0 chance), and the median active time "
    "(pauses excluded) beside the log's wall-clock task time. Hover a header for its definition."
)
with_responses = jobs[jobs["responses"].notna().to_numpy()]
if with_responses.empty:
    st.caption("No worker response in this window for these jobs.")
else:
    components.table(
        with_responses[
            [
                "labeling_job_name",
                "responses",
                "objects_compared",
                "unanimous_share",
                "krippendorff_alpha",
                "agreement_rate",
                "median_active_seconds",
                "median_task_seconds",
                "active_share",
            ]
        ],
        view,
        key="jobs_agreement",
    )
    st.plotly_chart(charts.active_against_wall(with_responses), key="jobs_active_wall")

teams = cache.team_table(source, view.key)
if not teams.empty:
    st.subheader("Work teams")
    components.table(teams, view, key="jobs_teams")


def metric_card(
    column: Any,
    label: str,
    value: Any,
    pattern: str,
    name: str,
) -> None:
    text = (
        "–"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else pattern.format(value)
    )
    column.metric(label, text, help=help_for(name), border=True)


st.subheader("Streaming backlog")
backlog = cache.backlog_table(source, view.key)
history = cache.backlog_history(source, view.key)
if backlog.empty:
    st.caption("No streaming job (input from an SNS topic) in this window.")
for row in backlog.to_dict("records"):
    with st.container(border=True):
        html_line(literal(row["labeling_job_name"]), style="heading")
        observed = row["observed_at"].tz_convert(view.timezone)
        html_line(
            f"Queue {literal(row['queue_name'])} · status {literal(row['status'])} · "
            f"observed {observed:%b %d %H:%M} ({literal(view.timezone)})",
            style="caption",
        )
        cards = st.columns(4)

        metric_card(
            cards[0],
            "Backlog (queued + in flight)",
            row["pending_messages"],
            "{:,.0f}",
            "pending_messages",
        )
        metric_card(cards[1], "Time to clear", row["eta_days"], "{:,.1f} days", "eta_days")
        metric_card(
            cards[2],
            "Oldest message",
            row["oldest_message_age_days"],
            "{:,.1f} days",
            "oldest_message_age_days",
        )
        metric_card(
            cards[3],
            "Submitted per day (recent)",
            row["submit_rate_per_day"],
            "{:,.0f}",
            "submit_rate_per_day",
        )
        if isinstance(row["warnings"], str) and row["warnings"]:
            with st.container(border=True):
                html_line(f"<strong>At risk</strong>: {literal(row['warnings'])}")
        rows = history[history["labeling_job_name"].astype("str") == str(row["labeling_job_name"])]
        if not rows.empty:
            st.plotly_chart(
                charts.backlog_history(rows, view.timezone),
                key=f"jobs_backlog_{row['labeling_job_name']}",
            )

st.subheader("Staffing")
st.caption(
    "For each job with a backlog: when it clears if the team keeps its recent pace, and how many "
    "workers the deadline you pick needs. Rates are from the last 7 days of the window (all of "
    "it when shorter: choose at least 7 days); today (the window's last day) is not counted as a "
    "working day. Hover a number for its definition."
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
picked_days = st.multiselect(
    f"Working days ({escape_controls(view.timezone)})",
    options=list(range(7)),
    default=[0, 1, 2, 3, 4],
    format_func=lambda day: WEEKDAYS[day],
    key="jobs_staffing_days",
)
working_days = tuple(sorted(picked_days))
today = cache.window_end(source, view.key).tz_convert(view.timezone).date()
jobs_with_backlog = (
    cache.staffing_table(source, view.key, view.timezone, working_days) if working_days else None
)
if jobs_with_backlog is None:
    st.warning("Pick at least one working day to plan with.")
elif jobs_with_backlog.empty:
    st.caption("No job with a backlog (queued streaming objects, or objects pending people).")
else:
    # Each job's card first, with its deadline picker; the numbers fill in once every deadline
    # is known (one plan for all of them).
    deadlines: list[tuple[str, dt.date]] = []
    slots = {}
    for number, name in enumerate(jobs_with_backlog["labeling_job_name"].astype("str")):
        card = st.container(border=True)
        html_line(literal(name), style="heading", where=card)
        # Keyed by position and a digest of the name: a name from data is no widget key.
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        picked = card.date_input(
            "Deadline (cleared by the end of that day)",
            value=today + dt.timedelta(days=7),
            key=f"jobs_staffing_deadline_{number}_{digest}",
        )
        if isinstance(picked, dt.date):
            deadlines.append((name, picked))
        slots[name] = card.container()
    plan = cache.staffing_table(source, view.key, view.timezone, working_days, tuple(deadlines))
    for row in plan.to_dict("records"):
        slot = slots.get(str(row["labeling_job_name"]))
        if slot is None:
            continue
        with slot:
            html_line(literal(row["message"]))
            # Two rows of three: a date and long labels do not fit five to a row.
            first, second = st.columns(3), st.columns(3)
            metric_card(
                first[0], "Tasks to do", row["remaining_tasks"], "{:,.0f}", "remaining_tasks"
            )
            clears = row["clears_on"]
            metric_card(
                first[1],
                "Clears on",
                None if pd.isna(clears) else clears,
                "{:%a %d %b %Y}",
                "clears_on",
            )
            needed = row["workers_needed"]
            metric_card(
                first[2],
                "Workers needed",
                None if pd.isna(needed) else int(needed),
                "{:,d}",
                "workers_needed",
            )
            metric_card(
                second[0],
                "Tasks per active hour (per worker)",
                row["tasks_per_active_hour"],
                "{:,.1f}",
                "tasks_per_active_hour",
            )
            metric_card(
                second[1],
                "Active hours per worker-day",
                row["active_hours_per_worker_day"],
                "{:,.2f}",
                "active_hours_per_worker_day",
            )
            html_line(
                f"Backlog read from {literal(row['remaining_source'])} · rates over the last "
                f"{row['rate_window_days']:.3g} days · working days {literal(row['working_days'])}",
                style="caption",
            )
    with st.expander("How these numbers are worked out"):
        for name in STAFFING_ASSUMPTIONS:
            label = literal(DEFINITIONS[name].label)
            html_line(f"<strong>{label}</strong>: {literal(help_for(name))}")

st.subheader("Throughput of one job")
job = st.selectbox(
    "Labeling job",
    jobs["labeling_job_name"].astype("str").tolist(),
    format_func=escape_controls,
    key="jobs_job",
)
job_key = FilterKey(view.key.since, view.key.until, view.key.workteams, (job,))
series = cache.throughput_table(source, job_key, "job", "D", view.timezone)
if series.empty:
    st.info("No task outcome on this job in the window.")
else:
    st.plotly_chart(charts.outcomes_over_time(series, "D", view.timezone), key="jobs_throughput")
returns = cache.returns(source, view.key).by_job
own = returns[returns["labeling_job_name"].astype("str") == job]
workers = cache.worker_table(source, view.key)
names = {
    str(r["worker_key"]): view.person(str(r["worker_key"]), r["username"], r["worker_id"])
    for r in workers.to_dict("records")
}
own = own.assign(top_returner=own["top_returner"].astype("str").map(names))
if not own.empty:
    st.caption("Where this job's returns come from")
    components.table(own, view, key="jobs_returns")
