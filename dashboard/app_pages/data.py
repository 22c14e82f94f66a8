"""Data: what the store holds, how fresh it is, what was rejected and why, how far the logs and
the CloudWatch metrics agree, and how to bring in more."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

import analytics
from analytics import REJECT_REASONS, escape_controls
from dashboard import cache, components
from dashboard.literal import html_line, literal
from dashboard.sidebar import current_source, current_view

source, view = current_source(), current_view()
st.title("Data")
summary = cache.store_summary(source)
state = cache.sync_state(source)

html_line(f"Showing {'the bundled sample team' if source.is_sample else literal(source.root)}.")
cards = st.columns([1, 2, 1, 1])
cards[0].metric("Events", f"{summary.events:,}", border=True)
first = f"{summary.first_event_time:%b %d}" if summary.first_event_time else "–"
last = f"{summary.last_event_time:%b %d, %Y}" if summary.last_event_time else "–"
cards[1].metric("Date range (UTC)", f"{first} – {last}", border=True)
cards[2].metric("Workers in the logs", f"{summary.workers:,}", border=True)
cards[3].metric("Rejected lines", f"{summary.rejected_lines:,}", border=True)

st.subheader("Sync")
# As ``analytics.sync`` and ``gt-throughput serve`` record them (``analytics.sync_health``).
sync = analytics.sync_health(state, dt.datetime.now(dt.UTC))
if sync.interval_seconds is not None:
    schedule = f"Scheduled every {sync.interval_seconds / 60:g} min by `gt-throughput serve`"
    if sync.next_run_at is not None:
        next_run = pd.Timestamp(sync.next_run_at).tz_convert(view.timezone)
        schedule += f"; next run at {next_run:%H:%M}"
    st.caption(schedule + ".")
if sync.schedule_failures:
    st.html(
        '<p data-testid="gt-data-sync-failing" style="margin:0;color:#7d1a12">'
        + literal(
            f"The last {sync.schedule_failures} scheduled "
            f"sync{'s' if sync.schedule_failures != 1 else ''} failed: "
        )
        + literal(sync.schedule_error)
        + "</p>"
    )
if sync.parts:
    # Cells are drawn as text by st.dataframe: AWS's messages need only their controls escaped.
    def when(moment: dt.datetime | None) -> pd.Timestamp | None:
        return pd.Timestamp(moment).tz_convert(view.timezone) if moment is not None else None

    rows = [
        {
            "part": escape_controls(part.name),
            "last run": when(part.last_run_at),
            "result": "synced" if part.ok else "not synced",
            "last success": when(part.last_success_at),
            "last error": when(part.last_error_at),
            "error": escape_controls(part.last_error),
            "message": escape_controls(part.message),
        }
        for part in sync.parts
    ]
    moment = st.column_config.DatetimeColumn(format="MMM D, HH:mm")
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={"last run": moment, "last success": moment, "last error": moment},
    )
elif sync.interval_seconds is None:
    st.caption(
        "Never synced from AWS: the data came from files."
        if not source.is_sample
        else "The sample was built from files and recorded API responses."
    )

health = cache.data_health(source, view.key)
st.subheader("Rejected lines")
st.caption("Lines that could not become events are kept with their reason, never dropped.")
rejected = health.rejected_by_reason
if rejected.empty:
    st.success("No rejected line.")
else:
    explained = rejected.assign(meaning=rejected["reason"].map(REJECT_REASONS))
    components.table(explained, view, key="data_rejected")

st.subheader("Logs against CloudWatch metrics")
st.caption(
    "Ground Truth delivers the AWS/SageMaker/Workteam metrics on a best-effort basis, so they "
    "can undercount the worker-activity log. Both counts are shown; neither is silently preferred."
)
comparison = health.log_vs_metrics
if comparison.empty:
    st.caption("No Workteam metrics in the store for this window.")
else:
    differing = comparison[comparison["difference"] != 0]
    st.markdown(f"{len(differing)} of {len(comparison)} team, job, day and metric rows differ.")
    components.table(
        differing if not differing.empty else comparison, view, key="data_log_vs_metrics"
    )

skew, unknown, empty_days, issues = (
    health.clock_skew,
    health.unknown_identities,
    health.days_without_events,
    health.time_issues,
)
columns = st.columns(2)
with columns[0]:
    st.markdown(f"**Clock skew** ({len(skew)} tasks with an outcome before their acceptance)")
    if not skew.empty:
        components.table(skew, view, key="data_skew")
    st.markdown(
        f"**Unparseable times** ({int(issues['events'].sum()) if not issues.empty else 0} events)"
    )
    if not issues.empty:
        components.table(issues, view, key="data_time_issues")
with columns[1]:
    st.markdown(
        f"**Unknown identities** ({len(unknown)} worker{'s' if len(unknown) != 1 else ''} with no "
        "Cognito user: deleted?)"
    )
    if not unknown.empty:
        components.table(unknown, view, key="data_unknown")
    st.markdown(f"**Days without events** ({len(empty_days)})")
    if not empty_days.empty:
        components.table(empty_days, view, key="data_empty_days")

st.subheader("Worker responses against the activity log")
st.caption(
    "The two sources side by side, never merged: responses (from the jobs' output) that match no "
    "submitted task in the log, and submitted log tasks (on jobs with responses) that match no "
    "response. Same worker and job, acceptance and submission each within one second."
)
coverage = cache.response_coverage(source, view.key)
sides = st.columns(2)
with sides[0]:
    lonely = coverage.responses_without_task
    st.markdown(f"**Responses without a log task** ({len(lonely):,})")
    if not lonely.empty:
        components.table(lonely, view, key="data_responses_without_task")
with sides[1]:
    lonely = coverage.tasks_without_response
    st.markdown(f"**Log tasks without a response** ({len(lonely):,})")
    if not lonely.empty:
        components.table(lonely, view, key="data_tasks_without_response")

st.subheader("Bring in more data")
root = escape_controls(str(source.configured_root))
st.code(
    f"gt-throughput sync --data {root} --region us-east-1  # from AWS, read-only, incremental\n"
    f"gt-throughput ingest --data {root} exported-logs/    # JSON lines, CLI output, S3 exports\n"
    f"gt-throughput status --data {root}",
    language="bash",
)
