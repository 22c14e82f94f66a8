"""Streaming labeling jobs: how long the queued backlog takes to clear, and what is at risk.

Facts from the AWS documentation (see the project's ground-truth facts, section 4): a streaming
job's objects wait in the SQS queue ``GroundTruth-<job name>``; an object not handed to a worker
within 14 days expires; a streaming job with nothing sent to its input topic and nothing in its
queue for 10 days stops by itself.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analytics.dataset import TeamData
from analytics.errors import UsageError
from analytics.metrics.outcomes import MS_PER_DAY, SUBMITTED, column_epoch_ms, outcome_kinds

#: Days after which a queued object expires (SQS retention Ground Truth uses).
MESSAGE_EXPIRY_DAYS = 14.0
#: Days of idleness after which Ground Truth stops a streaming job.
IDLE_STOP_DAYS = 10.0
#: Job statuses after which no one works on the job's objects any more.
FINISHED_STATUSES = ("Completed", "Stopped", "Failed")
#: The longest rate window (ten years): further back is no "recent" rate, and a window start
#: before 1677 does not fit a Timestamp.
MAX_RATE_DAYS = 3_660

BACKLOG_COLUMNS = (
    "labeling_job_name",
    "queue_name",
    "status",
    "observed_at",
    "backlog_messages",
    "in_flight_messages",
    "pending_messages",
    "rate_window_days",
    "tasks_submitted_recently",
    "submit_rate_per_day",
    "workers_per_object",
    "objects_per_day",
    "eta_days",
    "oldest_message_age_days",
    "days_until_oldest_expires",
    "expiry_warning",
    "days_idle",
    "idle_stop_warning",
    "warnings",
)


def _streaming_jobs(data: TeamData) -> pd.DataFrame:
    jobs = data.jobs
    names: set[str] = set(data.backlog["labeling_job_name"].dropna().astype("str"))
    if len(jobs):
        streaming = jobs[jobs["is_streaming"].fillna(False).astype(bool)]
        names |= set(streaming["labeling_job_name"].dropna().astype("str"))
    frame = pd.DataFrame({"labeling_job_name": pd.array(sorted(names), dtype="str")})
    if len(jobs):
        table = jobs.drop_duplicates("labeling_job_name", keep="last")
        table = table.set_index(table["labeling_job_name"].astype("str"))
        frame["status"] = frame["labeling_job_name"].map(table["status"]).astype("str")
        frame["workers_per_object"] = (
            frame["labeling_job_name"].map(table["workers_per_object"]).astype("Int64")
        )
    else:
        frame["status"] = pd.array([pd.NA] * len(frame), dtype="str")
        frame["workers_per_object"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    return frame


def _oldest_age_from_metrics(data: TeamData) -> pd.Series:
    """Latest ``ApproximateAgeOfOldestMessage`` (seconds) per queue, from the AWS/SQS metric."""
    metrics = data.metrics
    if not len(metrics):
        return pd.Series(dtype="float64")
    rows = metrics[
        (metrics["metric_name"] == "ApproximateAgeOfOldestMessage") & metrics["queue_name"].notna()
    ]
    if not len(rows):
        return pd.Series(dtype="float64")
    latest = rows.sort_values("timestamp").drop_duplicates("queue_name", keep="last")
    return pd.Series(
        latest["value"].to_numpy(dtype=np.float64), index=latest["queue_name"].astype("str")
    )


def check_rate_days(rate_days: object) -> float:
    """``rate_days`` as a number of days, or a ``UsageError`` saying what it must be: above 0 and
    at most ``MAX_RATE_DAYS`` (NaN, infinities and non-numbers are refused)."""
    if not (
        isinstance(rate_days, int | float)
        and not isinstance(rate_days, bool)
        and math.isfinite(rate_days)
        and 0 < rate_days <= MAX_RATE_DAYS
    ):
        raise UsageError(
            f"rate_days must be a number of days above 0 and at most {MAX_RATE_DAYS:,}, e.g. 7 "
            f"(got {rate_days!r})"
        )
    return float(rate_days)


def rate_window_start(data: TeamData, rate_days: float) -> pd.Timestamp:
    """Where a recent rate's window starts: ``rate_days`` before the window end, or the window's
    start when that is later (a shorter window gives a shorter rate window)."""
    rate_start = data.as_of - pd.Timedelta(days=rate_days)
    since = data.filters.since
    if since is not None and pd.Timestamp(since) > rate_start:
        rate_start = pd.Timestamp(since).tz_convert("UTC")
    return rate_start


def backlog_status(
    data: TeamData,
    *,
    rate_days: float = 7.0,
    expiry_margin_days: float = 3.0,
    idle_margin_days: float = 3.0,
) -> pd.DataFrame:
    """Per streaming job: backlog, recent submit rate, time to clear and the two risks.

    Parameters
    ----------
    data
        What ``load_team_data`` returned; needs the synced jobs and backlog tables (empty
        result otherwise).
    rate_days
        The submit rate is measured over the last ``rate_days`` before the window's end (fewer
        when the window is shorter).
    expiry_margin_days
        Warn when ``oldest_message_age_days + eta_days`` reaches ``14 - expiry_margin_days``.
    idle_margin_days
        Warn when ``days_idle`` reaches ``10 - idle_margin_days``.

    Returns
    -------
    pandas.DataFrame
        Columns ``BACKLOG_COLUMNS``. ``pending_messages = backlog_messages + in_flight_messages``
        from the latest SQS snapshot; ``submit_rate_per_day`` = submitted tasks on the job in the
        rate window / its days; ``objects_per_day = submit_rate_per_day / workers_per_object``
        (1 when unknown); ``eta_days = pending_messages / objects_per_day`` (inf when nothing was
        submitted but messages wait); ``oldest_message_age_days`` is the snapshot's age plus the
        time from the snapshot to the window's end; ``days_idle`` = days from the later of the
        last task outcome on the job and the last snapshot with pending messages to the window's
        end (0 while messages wait: the log does not show what is sent to the input topic, so
        this is an estimate); ``warnings`` says what is at risk in words.

    Raises
    ------
    UsageError
        ``rate_days`` not above 0 and at most ``MAX_RATE_DAYS`` (``check_rate_days``).
    """
    rate_days = check_rate_days(rate_days)
    frame = _streaming_jobs(data)
    as_of = data.as_of
    if not len(frame):
        return _empty_backlog()
    backlog = data.backlog.sort_values("observed_at")
    latest = backlog.drop_duplicates("labeling_job_name", keep="last")
    latest = latest.set_index(latest["labeling_job_name"].astype("str"))
    names = frame["labeling_job_name"]
    # One row of the latest snapshot per job of the frame, missing values where a job has none
    # (reindex keeps each column's type, where ``map`` of an empty datetime column fails).
    snapshot = latest.reindex(names.astype("str").to_numpy())
    snapshot.index = frame.index
    frame["queue_name"] = snapshot["queue_name"].astype("str")
    frame["queue_name"] = frame["queue_name"].where(
        snapshot["queue_name"].notna(), "GroundTruth-" + names.str.lower()
    )
    frame["observed_at"] = pd.to_datetime(snapshot["observed_at"], utc=True).dt.as_unit("ms")
    visible = snapshot["messages_visible"].astype("float64")
    in_flight = snapshot["messages_in_flight"].astype("float64")
    frame["backlog_messages"] = visible.astype("Int64")
    frame["in_flight_messages"] = in_flight.astype("Int64")
    pending = visible.fillna(0) + in_flight.fillna(0)
    pending = pending.where(visible.notna() | in_flight.notna())
    frame["pending_messages"] = pending.astype("Int64")

    rate_start = rate_window_start(data, rate_days)
    window_days = max((as_of - rate_start) / pd.Timedelta(days=1), 0.0)
    events = data.events
    kinds = outcome_kinds(events["event_type"])
    end_ms = column_epoch_ms(events["event_time"])
    recent = (
        (kinds == SUBMITTED)
        & (end_ms >= rate_start.value // 1_000_000)
        & (end_ms < as_of.value // 1_000_000)
    )
    submitted = events["labeling_job_name"][recent].astype("str").value_counts()
    frame["rate_window_days"] = window_days
    frame["tasks_submitted_recently"] = names.map(submitted).fillna(0).astype(np.int64)
    rate = frame["tasks_submitted_recently"] / window_days if window_days > 0 else np.nan
    frame["submit_rate_per_day"] = rate
    per_object = frame["workers_per_object"].astype("float64").fillna(1.0).clip(lower=1.0)
    frame["objects_per_day"] = frame["submit_rate_per_day"] / per_object
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = pending / frame["objects_per_day"]
    eta = eta.where(~((pending == 0) & (frame["objects_per_day"] == 0)), 0.0)
    frame["eta_days"] = eta.astype("float64")

    age_seconds = names.map(latest["oldest_message_age_seconds"]).astype("float64")
    from_metrics = frame["queue_name"].map(_oldest_age_from_metrics(data)).astype("float64")
    age_seconds = age_seconds.fillna(from_metrics)
    since_snapshot = ((as_of - frame["observed_at"]).dt.total_seconds()).clip(lower=0).fillna(0)
    age_days = (age_seconds + since_snapshot.where(pending > 0, 0.0)) / 86_400.0
    frame["oldest_message_age_days"] = age_days
    frame["days_until_oldest_expires"] = MESSAGE_EXPIRY_DAYS - age_days
    limit = MESSAGE_EXPIRY_DAYS - expiry_margin_days
    running = ~frame["status"].fillna("InProgress").isin(FINISHED_STATUSES)
    expiry = running & (
        (age_days.fillna(0) + frame["eta_days"].fillna(0) >= limit) | (age_days.fillna(0) >= limit)
    )
    frame["expiry_warning"] = expiry.to_numpy(dtype=bool)

    last_outcome = (
        pd.Series(end_ms[(kinds >= 0) & (end_ms > np.iinfo(np.int64).min)])
        .groupby(
            events["labeling_job_name"]
            .astype("str")
            .to_numpy()[(kinds >= 0) & (end_ms > np.iinfo(np.int64).min)]
        )
        .max()
    )
    busy = backlog[
        (backlog["messages_visible"].fillna(0) + backlog["messages_in_flight"].fillna(0)) > 0
    ]
    last_busy = busy.groupby(busy["labeling_job_name"].astype("str"))["observed_at"].max()
    last_busy_ms = column_epoch_ms(last_busy) if len(last_busy) else np.array([], dtype=np.int64)
    last_busy_series = pd.Series(last_busy_ms, index=last_busy.index, dtype="int64")
    last_ms = pd.concat([last_outcome, last_busy_series]).groupby(level=0).max()
    last_seen = names.map(last_ms)
    idle_days = (as_of.value // 1_000_000 - last_seen) / MS_PER_DAY
    idle_days = idle_days.where(~(pending > 0), 0.0).clip(lower=0)
    frame["days_idle"] = idle_days.astype("float64")
    idle_limit = IDLE_STOP_DAYS - idle_margin_days
    frame["idle_stop_warning"] = (running & (frame["days_idle"] >= idle_limit)).to_numpy(dtype=bool)
    frame["warnings"] = [
        _warning_text(row, limit, idle_limit) for row in frame.itertuples(index=False)
    ]
    frame["warnings"] = frame["warnings"].astype("str")
    return frame[list(BACKLOG_COLUMNS)].reset_index(drop=True)


def _warning_text(row: Any, expiry_limit: float, idle_limit: float) -> str:
    parts = []
    if getattr(row, "expiry_warning", False):
        age = row.oldest_message_age_days
        eta = row.eta_days
        eta_text = "never at the current rate" if not np.isfinite(eta) else f"in {eta:.1f} days"
        parts.append(
            f"objects may expire: the oldest queued object is {age:.1f} days old (objects "
            f"expire at {MESSAGE_EXPIRY_DAYS:g} days) and the backlog of {row.pending_messages:,} "
            f"objects (queued + held by workers) clears {eta_text}"
        )
    if getattr(row, "idle_stop_warning", False):
        parts.append(
            f"idle for {row.days_idle:.1f} days: Ground Truth stops a streaming job "
            f"after {IDLE_STOP_DAYS:g} idle days"
        )
    return "; ".join(parts)


def _empty_backlog() -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(dtype="float64") for name in BACKLOG_COLUMNS})
    for name in ("labeling_job_name", "queue_name", "status", "warnings"):
        frame[name] = pd.Series(dtype="str")
    for name in (
        "backlog_messages",
        "in_flight_messages",
        "pending_messages",
        "workers_per_object",
    ):
        frame[name] = pd.Series(dtype="Int64")
    frame["tasks_submitted_recently"] = pd.Series(dtype="int64")
    frame["observed_at"] = pd.Series(dtype="datetime64[ms, UTC]")
    for name in ("expiry_warning", "idle_stop_warning"):
        frame[name] = pd.Series(dtype="bool")
    return frame


__all__ = [
    "BACKLOG_COLUMNS",
    "FINISHED_STATUSES",
    "IDLE_STOP_DAYS",
    "MAX_RATE_DAYS",
    "MESSAGE_EXPIRY_DAYS",
    "backlog_status",
    "check_rate_days",
    "rate_window_start",
]
