"""The job and team tables: one row per labeling job and per work team, the same counts and times.

Both group the outcomes like the worker table (``GROUP_COLUMNS``) and add what sync knows: the job
table adds ``DescribeLabelingJob`` facts and the streaming backlog, the team table its Cognito
members and who of them did no task.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.dataset import TeamData
from analytics.metrics.grouping import grouped_quantiles, join_names, pair_codes
from analytics.metrics.outcomes import (
    DECLINED,
    MISSING_MS,
    MS_PER_SECOND,
    RETURNED,
    SUBMITTED,
    Outcomes,
    ms_to_times,
    outcome_counts,
    outcomes_of,
)
from analytics.metrics.quality import JOB_AGREEMENT_COLUMNS, QUALITY_COLUMNS, job_quality
from analytics.metrics.workers import time_spent_metric_seconds

GROUP_COLUMNS = (
    "tasks_submitted",
    "tasks_returned",
    "tasks_declined",
    "return_rate",
    "mean_task_seconds",
    "median_task_seconds",
    "p90_task_seconds",
    "mean_seconds_before_return",
    "active_workers",
    "first_activity",
    "last_activity",
)


def _group_stats(outcomes: Outcomes, codes: np.ndarray, names: pd.Index, key: str) -> pd.DataFrame:
    """The counts and times of ``GROUP_COLUMNS`` for each value of ``codes``."""
    n = len(names)
    ok = codes >= 0
    counts = outcome_counts(codes, outcomes.kind, n)
    timed = ok & ~np.isnan(outcomes.task_ms)
    timed_count = np.bincount(codes[timed], minlength=n)
    timed_total = np.bincount(codes[timed], weights=outcomes.task_ms[timed], minlength=n)
    quantiles, _ = grouped_quantiles(codes, outcomes.task_ms, n, [0.5, 0.9])
    returned = ok & ~np.isnan(outcomes.return_ms)
    return_count = np.bincount(codes[returned], minlength=n)
    return_total = np.bincount(codes[returned], weights=outcomes.return_ms[returned], minlength=n)
    pair_ok = ok & (outcomes.worker >= 0)
    n_workers = max(len(outcomes.worker_keys), 1)
    pairs = pd.unique(pair_codes(codes[pair_ok], outcomes.worker[pair_ok], n_workers))
    workers = np.bincount(pairs // n_workers, minlength=n)
    timed_end = ok & (outcomes.end_ms != MISSING_MS)
    first = pd.Series(outcomes.end_ms[timed_end]).groupby(codes[timed_end]).min()
    last = pd.Series(outcomes.end_ms[timed_end]).groupby(codes[timed_end]).max()
    first_ms = np.full(n, MISSING_MS, dtype=np.int64)
    last_ms = np.full(n, MISSING_MS, dtype=np.int64)
    first_ms[first.index.to_numpy()] = first.to_numpy()
    last_ms[last.index.to_numpy()] = last.to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        return_rate = counts[:, RETURNED] / (counts[:, SUBMITTED] + counts[:, RETURNED])
        mean_ms = timed_total / timed_count
        mean_return_ms = return_total / return_count
    frame = pd.DataFrame(
        {
            key: pd.array(np.asarray(names.astype("str"), dtype=object), dtype="str"),
            "tasks_submitted": counts[:, SUBMITTED].astype(np.int64),
            "tasks_returned": counts[:, RETURNED].astype(np.int64),
            "tasks_declined": counts[:, DECLINED].astype(np.int64),
            "return_rate": return_rate,
            "mean_task_seconds": mean_ms / MS_PER_SECOND,
            "median_task_seconds": quantiles[:, 0] / MS_PER_SECOND,
            "p90_task_seconds": quantiles[:, 1] / MS_PER_SECOND,
            "mean_seconds_before_return": mean_return_ms / MS_PER_SECOND,
            "active_workers": workers.astype(np.int64),
            "first_activity": ms_to_times(first_ms),
            "last_activity": ms_to_times(last_ms),
        }
    )
    return frame[counts.sum(axis=1) > 0].reset_index(drop=True)


def _zero_rows(names: list[str], key: str) -> pd.DataFrame:
    frame = pd.DataFrame({key: pd.array(names, dtype="str")})
    for name in ("tasks_submitted", "tasks_returned", "tasks_declined", "active_workers"):
        frame[name] = np.zeros(len(names), dtype=np.int64)
    return frame


JOB_TABLE_COLUMNS = (
    "status",
    "is_streaming",
    "task_title",
    "task_time_limit_seconds",
    "max_concurrent_task_count",
    "workers_per_object",
    "total_labeled",
    "human_labeled",
    "machine_labeled",
    "failed_non_retryable",
    "unlabeled",
    "pending_human",
)

JOB_COLUMNS = (
    "labeling_job_name",
    "workteams",
    *GROUP_COLUMNS,
    "time_spent_metric_seconds",
    *JOB_TABLE_COLUMNS,
    "backlog_messages",
    "backlog_in_flight",
    "backlog_observed_at",
    *QUALITY_COLUMNS,
    *JOB_AGREEMENT_COLUMNS,
)


def job_summary(data: TeamData) -> pd.DataFrame:
    """One row per labeling job: the worker table's counts and times, plus what sync knows.

    Jobs in the synced jobs table appear even without a task in the window (zero tasks). Job
    status, label counters and the pending backlog come from sync and are empty when only files
    were ingested.

    Returns
    -------
    pandas.DataFrame
        Columns ``JOB_COLUMNS``: ``GROUP_COLUMNS`` as in ``worker_summary``, ``active_workers`` =
        workers with at least one outcome on the job; ``workteams`` = teams seen on it;
        ``JOB_TABLE_COLUMNS`` from ``DescribeLabelingJob``; ``backlog_*`` = the latest SQS snapshot
        (streaming jobs); ``QUALITY_COLUMNS`` and ``JOB_AGREEMENT_COLUMNS`` from the worker
        responses (``quality.job_quality``; empty for jobs whose output was not read).
    """
    outcomes = outcomes_of(data)
    frame = _group_stats(outcomes, outcomes.job, outcomes.job_names, "labeling_job_name")
    quality = job_quality(data)
    known = data.jobs["labeling_job_name"].dropna().astype("str").tolist()
    known += quality["labeling_job_name"].astype("str").tolist()
    missing = sorted(set(known) - set(frame["labeling_job_name"]))
    if missing:
        frame = pd.concat([frame, _zero_rows(missing, "labeling_job_name")], ignore_index=True)
    teams = join_names(outcomes.job, outcomes.team, outcomes.team_names, len(outcomes.job_names))
    team_of = pd.Series(teams, index=outcomes.job_names.astype("str"), dtype="str")
    frame["workteams"] = frame["labeling_job_name"].map(team_of).fillna("")
    if len(data.jobs):
        table_teams = (
            data.jobs.set_index(data.jobs["labeling_job_name"].astype("str"))["workteam_arn"]
            .astype("str")
            .str.replace(r"^.*/", "", regex=True)
        )
        frame["workteams"] = frame["workteams"].where(
            frame["workteams"] != "", frame["labeling_job_name"].map(table_teams).fillna("")
        )
    frame["time_spent_metric_seconds"] = (
        frame["labeling_job_name"]
        .map(time_spent_metric_seconds(data.metrics, "labeling_job"))
        .astype("float64")
    )
    jobs = data.jobs.drop_duplicates("labeling_job_name", keep="last")
    jobs = jobs.set_index(jobs["labeling_job_name"].astype("str"))
    jobs_here = frame["labeling_job_name"]
    for name in JOB_TABLE_COLUMNS:
        frame[name] = lookup(jobs_here, jobs[name])
    latest = _latest_backlog(data)
    frame["backlog_messages"] = lookup(jobs_here, latest["messages_visible"])
    frame["backlog_in_flight"] = lookup(jobs_here, latest["messages_in_flight"])
    frame["backlog_observed_at"] = lookup(jobs_here, latest["observed_at"])
    for name in ("tasks_submitted", "tasks_returned", "tasks_declined", "active_workers"):
        frame[name] = frame[name].fillna(0).astype(np.int64)
    frame["workteams"] = frame["workteams"].astype("str")
    quality = quality.set_index(quality["labeling_job_name"].astype("str"))
    for name in (*QUALITY_COLUMNS, *JOB_AGREEMENT_COLUMNS):
        column = quality[name]
        # Counts stay integers, empty (not 0) for jobs whose output was not read.
        frame[name] = lookup(
            jobs_here, column.astype("Int64") if column.dtype == np.int64 else column
        )
    frame = frame.sort_values(["tasks_submitted", "labeling_job_name"], ascending=[False, True])
    return frame[list(JOB_COLUMNS)].reset_index(drop=True)


def lookup(keys: pd.Series, table: pd.Series) -> pd.Series:
    """``table[key]`` for each of ``keys`` (missing where absent), keeping ``table``'s dtype."""
    found = table[~table.index.duplicated(keep="last")].reindex(pd.Index(keys.astype("str")))
    return pd.Series(found.to_numpy(), index=keys.index, dtype=table.dtype)


def _latest_backlog(data: TeamData) -> pd.DataFrame:
    backlog = data.backlog
    if not len(backlog):
        return pd.DataFrame(
            {
                "messages_visible": pd.Series(dtype="Int64"),
                "messages_in_flight": pd.Series(dtype="Int64"),
                "oldest_message_age_seconds": pd.Series(dtype="float64"),
                "observed_at": pd.Series(dtype="datetime64[ms, UTC]"),
            }
        )
    latest = backlog.sort_values("observed_at").drop_duplicates("labeling_job_name", keep="last")
    return latest.set_index(latest["labeling_job_name"].astype("str"))


TEAM_COLUMNS = (
    "workteam_name",
    "members",
    "members_without_tasks",
    "jobs",
    *GROUP_COLUMNS,
    "tasks_per_active_worker",
)


def team_summary(data: TeamData) -> pd.DataFrame:
    """One row per work team: the worker table's counts and times, plus its members.

    Returns
    -------
    pandas.DataFrame
        Columns ``TEAM_COLUMNS``: ``members`` = Cognito members of the team (empty when not
        synced); ``members_without_tasks`` = members with no outcome on the team in the window;
        ``jobs`` = labeling jobs with an outcome from the team; ``tasks_per_active_worker`` =
        ``tasks_submitted / active_workers``.
    """
    outcomes = outcomes_of(data)
    frame = _group_stats(outcomes, outcomes.team, outcomes.team_names, "workteam_name")
    member_teams = data.memberships["workteam_name"].dropna().astype("str")
    known = set(member_teams) | set(data.workteams["workteam_name"].dropna().astype("str"))
    missing = sorted(known - set(frame["workteam_name"]))
    if missing:
        frame = pd.concat([frame, _zero_rows(missing, "workteam_name")], ignore_index=True)
    n_teams = len(outcomes.team_names)
    job_pairs = (outcomes.team >= 0) & (outcomes.job >= 0)
    jobs_per_team = pd.Series(
        pd.unique(
            pair_codes(
                outcomes.team[job_pairs], outcomes.job[job_pairs], max(len(outcomes.job_names), 1)
            )
        )
    )
    job_counts = np.bincount(
        (jobs_per_team // max(len(outcomes.job_names), 1)).to_numpy(dtype=np.int64),
        minlength=n_teams,
    )
    frame["jobs"] = (
        frame["workteam_name"]
        .map(pd.Series(job_counts, index=outcomes.team_names.astype("str")))
        .fillna(0)
        .astype(np.int64)
    )
    members = data.memberships.dropna(subset=["sub"])
    if len(members):
        member_count = members.groupby(members["workteam_name"].astype("str"))["sub"].nunique()
        worked = (
            set(
                zip(
                    outcomes.team_names.astype("str").to_numpy()[outcomes.team[outcomes.team >= 0]],
                    outcomes.worker_keys.astype("str").to_numpy()[
                        outcomes.worker[outcomes.team >= 0]
                    ],
                    strict=True,
                )
            )
            if len(outcomes)
            else set()
        )
        idle = members[
            [
                (team, sub) not in worked
                for team, sub in zip(
                    members["workteam_name"].astype("str"),
                    members["sub"].astype("str"),
                    strict=True,
                )
            ]
        ]
        idle_count = idle.groupby(idle["workteam_name"].astype("str"))["sub"].nunique()
        frame["members"] = frame["workteam_name"].map(member_count).astype("Int64")
        frame["members_without_tasks"] = (
            frame["workteam_name"].map(idle_count).astype("Int64").where(frame["members"].notna())
        )
        frame["members_without_tasks"] = (
            frame["members_without_tasks"].fillna(0).where(frame["members"].notna()).astype("Int64")
        )
    else:
        frame["members"] = pd.array([pd.NA] * len(frame), dtype="Int64")
        frame["members_without_tasks"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    for name in ("tasks_submitted", "tasks_returned", "tasks_declined", "active_workers"):
        frame[name] = frame[name].fillna(0).astype(np.int64)
    frame["tasks_per_active_worker"] = frame["tasks_submitted"] / frame["active_workers"].where(
        frame["active_workers"] > 0
    )
    frame = frame.sort_values(["tasks_submitted", "workteam_name"], ascending=[False, True])
    return frame[list(TEAM_COLUMNS)].reset_index(drop=True)
