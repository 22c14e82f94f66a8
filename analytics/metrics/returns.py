"""Who returns tasks, on which jobs, after how long, and where returns cluster.

A *return* is a ``TasksReturned`` outcome: the worker gave the task back. Pure function of a
``TeamData``; ``return_rate = tasks_returned / (tasks_submitted + tasks_returned)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.dataset import TeamData
from analytics.metrics.outcomes import (
    DECLINED,
    MISSING_MS,
    MS_PER_SECOND,
    RETURNED,
    SUBMITTED,
    outcomes_of,
)


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
    keep = (outcomes.kind != DECLINED) & (outcomes.worker >= 0) & (outcomes.job >= 0)
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
