"""Can the numbers be trusted? Log against metrics, clock skew, rejected lines, identities, gaps.

Also the returns analysis (who returns tasks, on which jobs, after how long). Pure functions of a
``TeamData``; re-exported by ``analytics.metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.dataset import TeamData
from analytics.sources.cognito import UNKNOWN_USER_STATUS
from analytics.tasks import (
    MISSING_MS,
    MS_PER_DAY,
    MS_PER_SECOND,
    OUTCOME_TYPES,
    RETURNED,
    SUBMITTED,
    ms_to_times,
    outcomes_of,
)


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
        & metrics["metric_name"].isin(OUTCOME_TYPES)
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
            "metric": np.asarray(OUTCOME_TYPES, dtype=object)[outcomes.kind[timed]],
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
    ``NOT_IN_COGNITO`` (``sources.cognito.UNKNOWN_USER_STATUS``: seen in the log, absent from
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


# --------------------------------------------------------------------------- returns
@dataclass(frozen=True)
class ReturnsSummary:
    """Returns against submits, by worker and job, and where they cluster.

    Attributes
    ----------
    by_worker_job
        ``worker_key``, ``labeling_job_name``, ``tasks_submitted``, ``tasks_returned``,
        ``return_rate``, ``mean_seconds_before_return``, ``median_seconds_before_return``,
        ``share_of_job_returns`` (this worker's returns / all returns on the job).
    by_job
        ``labeling_job_name``, ``tasks_submitted``, ``tasks_returned``, ``return_rate``,
        ``median_seconds_before_return``, ``workers_returning``, ``top_returner`` and
        ``top_returner_share`` (where the job's returns cluster).
    by_hour
        ``hour`` (UTC, of the return) and ``tasks_returned``.
    """

    by_worker_job: pd.DataFrame
    by_job: pd.DataFrame
    by_hour: pd.DataFrame


def returns_summary(data: TeamData) -> ReturnsSummary:
    """Who returns tasks, on which jobs, after how long; see ``ReturnsSummary``.

    ``return_rate = tasks_returned / (tasks_submitted + tasks_returned)``; seconds before return =
    ``task_returned_time - task_accepted_time`` (wall clock) when both are known and not negative.
    """
    outcomes = outcomes_of(data)
    keep = (outcomes.kind != 2) & (outcomes.worker >= 0) & (outcomes.job >= 0)
    frame = pd.DataFrame(
        {
            "worker": outcomes.worker[keep],
            "job": outcomes.job[keep],
            "submitted": (outcomes.kind[keep] == SUBMITTED).astype(np.int64),
            "returned": (outcomes.kind[keep] == RETURNED).astype(np.int64),
            "return_seconds": outcomes.return_ms[keep] / MS_PER_SECOND,
        }
    )
    pairs = frame.groupby(["worker", "job"], as_index=False).agg(
        tasks_submitted=("submitted", "sum"),
        tasks_returned=("returned", "sum"),
        mean_seconds_before_return=("return_seconds", "mean"),
        median_seconds_before_return=("return_seconds", "median"),
    )
    pairs["return_rate"] = pairs["tasks_returned"] / (
        pairs["tasks_submitted"] + pairs["tasks_returned"]
    ).where(lambda total: total > 0)
    job_returns = pairs.groupby("job")["tasks_returned"].transform("sum")
    pairs["share_of_job_returns"] = pairs["tasks_returned"] / job_returns.where(job_returns > 0)
    workers = np.asarray(outcomes.worker_keys.astype("str"), dtype=object)
    jobs = np.asarray(outcomes.job_names.astype("str"), dtype=object)
    by_worker_job = pd.DataFrame(
        {
            "worker_key": pd.array(workers[pairs["worker"].to_numpy()], dtype="str"),
            "labeling_job_name": pd.array(jobs[pairs["job"].to_numpy()], dtype="str"),
            "tasks_submitted": pairs["tasks_submitted"].to_numpy(dtype=np.int64),
            "tasks_returned": pairs["tasks_returned"].to_numpy(dtype=np.int64),
            "return_rate": pairs["return_rate"].to_numpy(dtype=np.float64),
            "mean_seconds_before_return": pairs["mean_seconds_before_return"].to_numpy(),
            "median_seconds_before_return": pairs["median_seconds_before_return"].to_numpy(),
            "share_of_job_returns": pairs["share_of_job_returns"].to_numpy(dtype=np.float64),
        }
    ).sort_values(["tasks_returned", "worker_key"], ascending=[False, True], ignore_index=True)
    by_job = _returns_by_job(frame, by_worker_job, jobs)
    returned = outcomes.kind == RETURNED
    timed = returned & (outcomes.end_ms != MISSING_MS)
    hours = (outcomes.end_ms[timed] // 3_600_000) % 24
    by_hour = pd.DataFrame(
        {"hour": np.arange(24), "tasks_returned": np.bincount(hours, minlength=24).astype(np.int64)}
    )
    return ReturnsSummary(by_worker_job=by_worker_job, by_job=by_job, by_hour=by_hour)


def _returns_by_job(
    frame: pd.DataFrame, by_worker_job: pd.DataFrame, jobs: np.ndarray
) -> pd.DataFrame:
    grouped = frame.groupby("job")
    totals = pd.DataFrame(
        {
            "tasks_submitted": grouped["submitted"].sum(),
            "tasks_returned": grouped["returned"].sum(),
            "median_seconds_before_return": grouped["return_seconds"].median(),
        }
    )
    totals["labeling_job_name"] = pd.array(jobs[totals.index.to_numpy()], dtype="str")
    totals = totals.reset_index(drop=True)
    totals["return_rate"] = totals["tasks_returned"] / (
        totals["tasks_submitted"] + totals["tasks_returned"]
    ).where(lambda total: total > 0)
    returning = by_worker_job[by_worker_job["tasks_returned"] > 0]
    top = returning.sort_values(
        ["labeling_job_name", "tasks_returned", "worker_key"], ascending=[True, False, True]
    ).drop_duplicates("labeling_job_name")
    top = top.set_index("labeling_job_name")
    counts = returning.groupby("labeling_job_name")["worker_key"].nunique()
    totals["workers_returning"] = totals["labeling_job_name"].map(counts).fillna(0).astype(np.int64)
    totals["top_returner"] = totals["labeling_job_name"].map(top["worker_key"]).astype("str")
    totals["top_returner_share"] = (
        totals["labeling_job_name"].map(top["share_of_job_returns"]).astype("float64")
    )
    columns = [
        "labeling_job_name",
        "tasks_submitted",
        "tasks_returned",
        "return_rate",
        "median_seconds_before_return",
        "workers_returning",
        "top_returner",
        "top_returner_share",
    ]
    totals = totals.astype({"tasks_submitted": np.int64, "tasks_returned": np.int64})
    return totals[columns].sort_values(
        ["tasks_returned", "labeling_job_name"], ascending=[False, True], ignore_index=True
    )


__all__ = [
    "DataHealth",
    "ReturnsSummary",
    "clock_skew",
    "data_health",
    "days_without_events",
    "log_vs_metrics",
    "rejected_by_reason",
    "returns_summary",
    "time_issues",
    "unknown_identities",
]
