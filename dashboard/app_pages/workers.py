"""Workers: the per-worker table with flags and their reasons, task-time distributions within a
job, and a download of exactly the rows shown."""

from __future__ import annotations

import streamlit as st

from analytics import QUADRANTS, escape_controls, workers_csv_bytes
from dashboard import auth, cache, charts, components
from dashboard.cache import FilterKey
from dashboard.literal import literal
from dashboard.sidebar import current_source, current_view

source, view = current_source(), current_view()
st.title("Workers")
st.caption(view.window_label)

summary = cache.worker_table(source, view.key)
FLAGS = ("slow_flag", "idle_flag", "return_flag", "quality_flag")
flagged = summary[list(FLAGS)].any(axis=1)
# On screen, flagged workers first; the download keeps the export's order and columns.
workers = (
    summary.assign(_flagged=flagged)
    .sort_values(["_flagged", "tasks_submitted"], ascending=[False, False], kind="stable")
    .drop(columns="_flagged")
)
search_column, flag_column = st.columns([2, 1])
search = (
    search_column.text_input("Search", placeholder="name, email or id", key="workers_search")
    .strip()
    .lower()
)
flagged_only = flag_column.segmented_control(
    "Show", ["All", "Flagged"], default="All", key="workers_flagged"
)

rows = workers
if search:
    identity = components.shown(workers, view)
    haystack = (
        identity[["worker_key", "worker_id", "username", "email"]]
        .fillna("")  # the OIDC worker has no username or email
        .astype("str")
        .agg(" ".join, axis=1)
    ).str.lower()
    rows = rows[haystack.str.contains(search, regex=False).to_numpy()]
if flagged_only == "Flagged":
    rows = rows[rows[list(FLAGS)].any(axis=1).to_numpy()]

flags = [int(workers[name].sum()) for name in FLAGS]
st.markdown(
    f"**{len(rows):,}** of {len(workers):,} workers shown · "
    f"{flags[0]} slow · {flags[1]} idle · {flags[2]} returning many tasks · "
    f"{flags[3]} with low agreement. Hover a column header for its definition."
)
LEADING = [
    "username",
    "email",
    "slow_flag",
    "idle_flag",
    "return_flag",
    "tasks_submitted",
    "tasks_returned",
    "return_rate",
    "median_task_seconds",
    "p90_task_seconds",
    "tasks_per_active_hour",
    "active_hours",
    "last_activity",
    "quality_flag",
    "responses",
    "median_active_seconds",
    "active_share",
    "agreement_rate",
    "gold_accuracy",
]
ordered = rows[LEADING + [c for c in rows.columns if c not in LEADING]]
components.table(ordered, view, key="workers_table", height=420)

reasons = rows[rows[list(FLAGS)].any(axis=1).to_numpy()]
if not reasons.empty:
    with st.expander(f"Why these {len(reasons)} workers are flagged", expanded=True):
        items = []
        for row in reasons.to_dict("records"):
            name = literal(view.person(str(row["worker_key"]), row["username"], row["worker_id"]))
            for flag, reason in (
                (row["slow_flag"], row["slow_reason"]),
                (row["idle_flag"], row["idle_reason"]),
                (row["return_flag"], row["return_reason"]),
                (row["quality_flag"], row["quality_reason"]),
            ):
                if flag:
                    items.append(f"<li><strong>{name}</strong>: {literal(reason)}</li>")
        st.html(f"<ul>{''.join(items)}</ul>")

download, definitions = st.columns([1, 1])
download.download_button(
    "Download these rows (CSV)",
    data=workers_csv_bytes(
        summary.loc[rows.index.sort_values()], timezone=view.timezone, pseudonymize=view.private
    ),
    file_name="workers.csv",
    mime="text/csv",
    key="workers_download",
    on_click=auth.downloaded("workers.csv"),
    type="primary",
    help="Exactly the rows shown above, as `gt-throughput export workers` writes them.",
)
with definitions:
    components.definitions_download(list(ordered.columns), key="workers_definitions")

st.subheader("Task time by worker, within one job")
st.caption(
    "Task types differ by orders of magnitude, so workers are compared within a job. Box: middle "
    "half of a worker's tasks (p25–p75) with the median as a solid line and the mean dashed; "
    "whiskers: p10–p90. Wall-clock time from accepting to submitting, pauses included."
)
# Only the jobs the sidebar's team and job filters leave, busiest first.
job_rows = cache.job_table(source, view.key).sort_values("tasks_submitted", ascending=False)
jobs_in_view = [str(job) for job in job_rows["labeling_job_name"]]
if jobs_in_view:
    job = st.selectbox("Labeling job", jobs_in_view, format_func=escape_controls, key="workers_job")
    job_key = FilterKey(view.key.since, view.key.until, view.key.workteams, (job,))
    quantiles = cache.quantile_table(source, job_key, "worker")
    if quantiles.empty:
        st.info("No submitted task with a task time on this job in the window.")
    else:
        labels = {
            str(r["worker_key"]): view.person(str(r["worker_key"]), r["username"], r["worker_id"])
            for r in workers.to_dict("records")
        }
        st.plotly_chart(charts.task_time_boxes(quantiles, labels), key="workers_boxes")

st.subheader("Speed against agreement, within one job")
st.caption(
    "Each point is a worker on the job: median active seconds per response (pauses excluded, "
    "from the job's worker responses) against the agreement rate with the consolidated label; "
    "point size is the number of responses. The dotted lines are the job's medians."
)
quality_pairs = cache.worker_job_quality_table(source, view.key)
# Jobs with the most scored responses first: where agreement says most.
scored_by_job = (
    quality_pairs.assign(job=quality_pairs["labeling_job_name"].astype("str"))
    .groupby("job")["responses_scored"]
    .sum()
    .sort_index()
    .sort_values(ascending=False, kind="stable")
)
quality_jobs = scored_by_job.index.tolist()
if not quality_jobs:
    st.info(
        "No worker response in this window: speed and agreement need the labeling jobs' output "
        "(gt-throughput ingest of a job's output folder, or sync)."
    )
else:
    quality_job = st.selectbox(
        "Labeling job", quality_jobs, format_func=escape_controls, key="workers_quality_job"
    )
    pairs = quality_pairs[quality_pairs["labeling_job_name"].astype("str") == quality_job]
    people = {
        str(r["worker_key"]): view.person(str(r["worker_key"]), r["username"], r["worker_id"])
        for r in workers.to_dict("records")
    }
    # A worker known only from the responses is named by the privacy rule too.
    people |= {
        key: view.person(key)
        for key in pairs["worker_key"].astype("str").tolist()
        if key not in people
    }
    st.plotly_chart(
        charts.speed_against_agreement(pairs, people, QUADRANTS), key="workers_quality_scatter"
    )
