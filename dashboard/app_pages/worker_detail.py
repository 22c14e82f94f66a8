"""Worker detail: one worker's tasks on a timeline, sessions and idle gaps, their task times
against their job's, returns, and a per-task download."""

from __future__ import annotations

import math
from typing import Any

import streamlit as st

from analytics import escape_controls, help_for, tasks_csv_bytes
from dashboard import auth, cache, charts, components
from dashboard.cache import FilterKey
from dashboard.literal import html_line, literal
from dashboard.sidebar import current_source, current_view

source, view = current_source(), current_view()
st.title("Worker detail")
st.caption(view.window_label)

workers = cache.worker_table(source, view.key).sort_values(
    ["tasks_submitted", "worker_key"], ascending=[False, True]
)
if workers.empty:
    st.info("No worker in this window.")
    st.stop()
names = {
    str(r["worker_key"]): view.person(str(r["worker_key"]), r["username"], r["worker_id"])
    for r in workers.to_dict("records")
}
keys = list(names)
wanted = st.query_params.get("worker")
if wanted in names and st.session_state.get("worker_detail_key") not in names:
    st.session_state["worker_detail_key"] = wanted
worker_key = st.selectbox(
    "Worker",
    keys,
    format_func=lambda k: escape_controls(names[k]),
    key="worker_detail_key",
    help="Sorted by tasks submitted in the window.",
)
st.query_params["worker"] = worker_key
worker = workers[workers["worker_key"] == worker_key].to_dict("records")[0]

FLAG_WORDS = {
    "slow_flag": "Slow",
    "idle_flag": "Idle",
    "return_flag": "Returns",
    "quality_flag": "Low agreement",
}
for flag, reason in (
    ("slow_flag", "slow_reason"),
    ("idle_flag", "idle_reason"),
    ("return_flag", "return_reason"),
    ("quality_flag", "quality_reason"),
):
    if bool(worker[flag]):
        with st.container(border=True):
            html_line(f"<strong>{FLAG_WORDS[flag]}</strong>: {literal(worker[reason])}")


def _number(value: Any, pattern: str) -> str:
    return (
        "–"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else pattern.format(value)
    )


cards = st.columns(5)
for column, (name, label, pattern) in zip(
    cards,
    [
        ("tasks_submitted", "Tasks submitted", "{:,.0f}"),
        ("median_task_seconds", "Median task time", "{:,.1f} s"),
        ("return_rate", "Return rate", "{:.1%}"),
        ("active_hours", "Active hours", "{:,.1f} h"),
        ("idle_minutes", "Idle between tasks", "{:,.0f} min"),
    ],
    strict=True,
):
    column.metric(label, _number(worker[name], pattern), help=help_for(name), border=True)

tasks = cache.task_rows(source, view.key, worker_key)
st.subheader("Tasks")
if tasks.empty:
    st.info("No task outcome in this window: this member has not worked in it.")
else:
    st.plotly_chart(charts.worker_timeline(tasks, view.timezone), key="worker_timeline")

sessions = cache.session_table(source, view.key, 30.0)
own_sessions = sessions[sessions["worker_key"] == worker_key]
st.subheader("Sessions and idle time")
st.caption(
    "A session ends when more than 30 minutes pass between one task's outcome and the next "
    "task's acceptance. Idle time is time inside a session with no task open."
)
if own_sessions.empty:
    st.info("No session in this window.")
else:
    components.table(own_sessions.drop(columns=["worker_key"]), view, key="worker_sessions")

st.subheader("Task time against the job")
job_names = (
    sorted(tasks["labeling_job_name"].dropna().astype("str").unique()) if not tasks.empty else []
)
if job_names:
    job = st.selectbox(
        "Labeling job", job_names, format_func=escape_controls, key="worker_detail_job"
    )
    job_key = FilterKey(view.key.since, view.key.until, view.key.workteams, (job,))
    job_histogram = cache.histogram_table(source, job_key, "job", job)
    worker_histogram = cache.histogram_table(source, job_key, "worker", job)
    own = worker_histogram[worker_histogram["group"].astype("str") == worker_key]
    if own.empty:
        st.info("No submitted task with a task time on this job.")
    else:
        st.plotly_chart(
            charts.distribution_against_job(own, job_histogram, names[worker_key]),
            key="worker_distribution",
        )

st.subheader("Active and wall time, agreement per task")
st.caption(
    "Wall clock from the activity log (pauses included) beside the active time of the task's "
    "worker response (pauses excluded) and its agreement with the consolidated label. A task "
    "matches its response when worker and job are the same and acceptance and submission are "
    "each within one second."
)
submitted = tasks[tasks["outcome"] == "submitted"] if not tasks.empty else tasks
if submitted.empty or submitted["active_seconds"].isna().all():
    st.caption("No task of this worker matches a worker response in this window.")
else:
    components.table(
        submitted[
            [
                "labeling_job_name",
                "task_accepted_time",
                "outcome_time",
                "task_seconds",
                "active_seconds",
                "agreement_score",
            ]
        ],
        view,
        key="worker_detail_active",
    )
gold = cache.gold_rows(source, view.key, worker_key)
st.subheader(f"Gold answers ({len(gold)})")
if gold.empty:
    st.caption("No response of this worker on an object with a gold answer in this window.")
else:
    correct = int(gold["gold_correct"].fillna(False).sum())
    compared = int(gold["gold_correct"].notna().sum())
    st.caption(f"{correct} of {compared} compared answers equal the gold label.")
    components.table(gold.drop(columns=["worker_key"]), view, key="worker_detail_gold")

returned = tasks[tasks["outcome"] == "returned"] if not tasks.empty else tasks
st.subheader(f"Returns ({len(returned)})")
if returned.empty:
    st.caption("No task returned in this window.")
else:
    components.table(
        returned[
            ["labeling_job_name", "task_accepted_time", "outcome_time", "seconds_before_return"]
        ],
        view,
        key="worker_returns",
    )

st.download_button(
    "Download this worker's tasks (CSV)",
    data=tasks_csv_bytes(tasks, timezone=view.timezone, pseudonymize=view.private),
    file_name=f"tasks-{names[worker_key]}.csv",
    mime="text/csv",
    key="worker_detail_download",
    on_click=auth.downloaded("tasks.csv"),
    type="primary",
    disabled=tasks.empty,
)
