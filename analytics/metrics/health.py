"""Can the numbers be trusted? Log against metrics, clock skew, rejected lines, identities, gaps.

Pure functions of a ``TeamData``; ``data_health`` runs every check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.dataset import TeamData
from analytics.metrics.outcomes import (
    MISSING_MS,
    MS_PER_DAY,
    MS_PER_SECOND,
    ms_to_times,
    outcomes_of,
)
from analytics.store.schema import OUTCOME_EVENT_TYPES, UNKNOWN_USER_STATUS


@dataclass(frozen=True)
class DataHealth:
    """What ``data_health`` found; every frame may be empty.

    Attributes
    ----------
    log_vs_metrics
        Per team, job, UTC day and metric (``TasksSubmitted``, ``TasksReturned``,
        ``TasksDeclined``) where both exist: ``log_count``, ``metric_count`` (Sum of the
        ``AWS/SageMaker/Workteam`` metric), ``difference`` = log - metric. Metric delivery is best
        effort, so neither is silently preferred.
    clock_skew
        Outcomes whose outcome time is before their accepted time: ``worker_key``,
        ``labeling_job_name``, ``event_type``, ``task_accepted_time``, ``outcome_time``,
        ``skew_seconds`` (negative), ``source``.
    rejected_by_reason
        Lines ingest could not read: ``reason``, ``lines``, ``files`` (distinct sources),
        ``example`` (one detail).
    unknown_identities
        Cognito subs in the log with no Cognito user (only when the users table is not empty):
        ``worker_key``, ``worker_id``, ``cognito_user_pool_id``, ``events``, ``last_event_time``.
    days_without_events
        UTC days in the window (from ``since``, else the first event, to the window's end) with no
        event at all: ``day``.
    time_issues
        Events with a time field present but unreadable: ``field``, ``events``.
    """

    log_vs_metrics: pd.DataFrame
    clock_skew: pd.DataFrame
    rejected_by_reason: pd.DataFrame
    unknown_identities: pd.DataFrame
    days_without_events: pd.DataFrame
    time_issues: pd.DataFrame


def _name(values: pd.Series) -> pd.Series:
    """Team or job names from a metric dimension value (a name or an ARN)."""
    return values.astype("str").str.replace(r"^.*/", "", regex=True)


def log_vs_metrics(data: TeamData) -> pd.DataFrame:
    """Log outcome counts against the ``AWS/SageMaker/Workteam`` metrics per team, job and day.

    Metric rows: statistic ``Sum``, both a ``workteam`` and a ``labeling_job`` dimension, no worker
    dimension (the per-worker dimension set would count the same tasks again), summed per UTC day.
    Only (team, job, day, metric) combinations present in the metrics are compared.
    """
    columns = [
        "workteam_name",
        "labeling_job_name",
        "day",
        "metric",
        "log_count",
        "metric_count",
        "difference",
    ]
    metrics = data.metrics
    if not len(metrics):
        return _typed_empty(columns)
    rows = metrics[
        (metrics["namespace"] == "AWS/SageMaker/Workteam")
        & metrics["metric_name"].isin(OUTCOME_EVENT_TYPES)
        & (metrics["statistic"] == "Sum")
        & metrics["workteam"].notna()
        & metrics["labeling_job"].notna()
        & metrics["worker"].isna()
    ]
    if not len(rows):
        return _typed_empty(columns)
    metric_counts = (
        pd.DataFrame(
            {
                "workteam_name": _name(rows["workteam"]),
                "labeling_job_name": _name(rows["labeling_job"]),
                "day": rows["timestamp"].dt.floor("D"),
                "metric": rows["metric_name"].astype("str"),
                "metric_count": rows["value"].astype("float64"),
            }
        )
        .groupby(["workteam_name", "labeling_job_name", "day", "metric"], as_index=False)
        .sum()
    )
    outcomes = outcomes_of(data)
    timed = outcomes.end_ms != MISSING_MS
    log = pd.DataFrame(
        {
            "workteam_name": np.asarray(outcomes.team_names.astype("str"), dtype=object)[
                outcomes.team[timed]
            ]
            if len(outcomes.team_names)
            else np.array([], dtype=object),
            "labeling_job_name": np.asarray(outcomes.job_names.astype("str"), dtype=object)[
                outcomes.job[timed]
            ]
            if len(outcomes.job_names)
            else np.array([], dtype=object),
            "day": ms_to_times(outcomes.end_ms[timed] // MS_PER_DAY * MS_PER_DAY),
            "metric": np.asarray(OUTCOME_EVENT_TYPES, dtype=object)[outcomes.kind[timed]],
        }
    )
    log_counts = (
        log.groupby(list(log.columns), as_index=False).size().rename(columns={"size": "log_count"})
    )
    log_counts = log_counts.astype(
        {"workteam_name": "str", "labeling_job_name": "str", "metric": "str"}
    )
    merged = metric_counts.merge(
        log_counts, on=["workteam_name", "labeling_job_name", "day", "metric"], how="left"
    )
    merged["log_count"] = merged["log_count"].fillna(0).astype(np.int64)
    merged["difference"] = merged["log_count"] - merged["metric_count"]
    merged = merged.sort_values(["day", "workteam_name", "labeling_job_name", "metric"])
    return merged[columns].reset_index(drop=True)


def _typed_empty(columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(dtype="str") for name in columns})
    for name in columns:
        if name in ("log_count", "events", "lines", "files"):
            frame[name] = pd.Series(dtype="int64")
        elif name in ("metric_count", "difference", "skew_seconds"):
            frame[name] = pd.Series(dtype="float64")
        elif name in ("day", "task_accepted_time", "outcome_time", "last_event_time"):
            frame[name] = pd.Series(dtype="datetime64[ms, UTC]")
    return frame


def clock_skew(data: TeamData) -> pd.DataFrame:
    """Outcomes filed before their acceptance (negative durations): counted, but untimed."""
    outcomes = outcomes_of(data)
    skewed = ~np.isnan(outcomes.skew_ms)
    rows = outcomes.rows[skewed]
    events = data.events.iloc[rows]
    return pd.DataFrame(
        {
            "worker_key": events["worker_key"].astype("str").to_numpy(),
            "labeling_job_name": events["labeling_job_name"].astype("str").to_numpy(),
            "event_type": events["event_type"].astype("str").to_numpy(),
            "task_accepted_time": events["task_accepted_time"].reset_index(drop=True),
            "outcome_time": events["event_time"].reset_index(drop=True),
            "skew_seconds": outcomes.skew_ms[skewed] / MS_PER_SECOND,
            "source": events["source"].astype("str").to_numpy(),
        }
    ).astype(
        {"worker_key": "str", "labeling_job_name": "str", "event_type": "str", "source": "str"}
    )


def rejected_by_reason(data: TeamData) -> pd.DataFrame:
    """Rejected lines per reason, with how many files and one example detail."""
    rejected = data.rejected
    if not len(rejected):
        return _typed_empty(["reason", "lines", "files", "example"])
    grouped = rejected.groupby(rejected["reason"].astype("str"))
    frame = pd.DataFrame(
        {
            "lines": grouped.size().astype(np.int64),
            "files": grouped["source"].nunique().astype(np.int64),
            "example": grouped["detail"].first().astype("str"),
        }
    )
    frame.index.name = "reason"
    return frame.reset_index().sort_values(
        ["lines", "reason"], ascending=[False, True], ignore_index=True
    )


def unknown_identities(data: TeamData) -> pd.DataFrame:
    """Cognito subs in the log that Cognito does not know (deleted, or from another pool).

    A sub is unknown when the users table has no row for it, or only a row the sync marked
    ``NOT_IN_COGNITO`` (``store.schema.UNKNOWN_USER_STATUS``: seen in the log, absent from
    ListUsers). Empty when the users table is empty (identities were never synced).
    """
    columns = ["worker_key", "worker_id", "cognito_user_pool_id", "events", "last_event_time"]
    events = data.events
    if not len(data.users) or not len(events):
        return _typed_empty(columns)
    has_sub = events["cognito_sub_id"].notna() & (events["cognito_sub_id"].astype("str") != "")
    with_sub = events[has_sub.to_numpy()]
    users = data.users[data.users["status"].astype("str") != UNKNOWN_USER_STATUS]
    known = set(users["sub"].dropna().astype("str"))
    subs = with_sub["cognito_sub_id"].astype("str")
    unknown = with_sub[~subs.isin(known).to_numpy()]
    if not len(unknown):
        return _typed_empty(columns)
    grouped = unknown.groupby(unknown["cognito_sub_id"].astype("str"))
    frame = pd.DataFrame(
        {
            "worker_id": grouped["worker_id"].first().astype("str"),
            "cognito_user_pool_id": grouped["cognito_user_pool_id"].first().astype("str"),
            "events": grouped.size().astype(np.int64),
            "last_event_time": grouped["event_time"].max(),
        }
    )
    frame.index.name = "worker_key"
    frame = frame.reset_index()
    frame["worker_key"] = frame["worker_key"].astype("str")
    return frame[columns].sort_values("worker_key", ignore_index=True)


def days_without_events(data: TeamData) -> pd.DataFrame:
    """UTC days of the window without a single event (a gap in the logs or a day off)."""
    times = data.events["event_time"].dropna()
    since = data.filters.since
    if since is not None:
        first = pd.Timestamp(since).tz_convert("UTC").floor("D")
    elif len(times):
        first = times.min().floor("D")
    else:
        return _typed_empty(["day"])
    end = data.as_of
    last = (end - pd.Timedelta(milliseconds=1)).floor("D")
    if last < first:
        return _typed_empty(["day"])
    days = pd.date_range(first, last, freq="D", unit="ms")
    seen = pd.DatetimeIndex(times.dt.floor("D").unique())
    missing = days.difference(seen)
    return pd.DataFrame({"day": pd.Series(missing, dtype="datetime64[ms, UTC]")})


def time_issues(data: TeamData) -> pd.DataFrame:
    """Events per time field that was present but could not be read."""
    issues = data.events["time_issues"].dropna().astype("str")
    if not len(issues):
        return _typed_empty(["field", "events"])
    fields = issues.str.split(",").explode().str.strip()
    counted = fields[fields != ""].value_counts()
    return pd.DataFrame(
        {"field": counted.index.astype("str"), "events": counted.to_numpy(dtype=np.int64)}
    )


def data_health(data: TeamData) -> DataHealth:
    """Every data-quality check of the window (see ``DataHealth``)."""
    return DataHealth(
        log_vs_metrics=log_vs_metrics(data),
        clock_skew=clock_skew(data),
        rejected_by_reason=rejected_by_reason(data),
        unknown_identities=unknown_identities(data),
        days_without_events=days_without_events(data),
        time_issues=time_issues(data),
    )


__all__ = [
    "DataHealth",
    "clock_skew",
    "data_health",
    "days_without_events",
    "log_vs_metrics",
    "rejected_by_reason",
    "time_issues",
    "unknown_identities",
]
