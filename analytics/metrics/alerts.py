"""What a manager should look at first: flagged workers and backlog warnings, one row each."""

from __future__ import annotations

import pandas as pd

from analytics.dataset import TeamData

ALERT_COLUMNS = ("kind", "subject", "message", "page")


def worker_names(workers: pd.DataFrame) -> pd.Series:
    """How an alert names each worker of ``worker_summary``: the username, else the worker key."""
    return workers["username"].where(workers["username"].notna(), workers["worker_key"])


def alerts(data: TeamData, workers: pd.DataFrame, backlog: pd.DataFrame) -> pd.DataFrame:
    """What a manager should look at first: flagged workers and backlog warnings.

    Parameters
    ----------
    data
        The window (for its end in messages).
    workers
        ``worker_summary(data)``.
    backlog
        ``backlog_status(data)``.

    Returns
    -------
    pandas.DataFrame
        Columns ``kind`` (``slow``, ``idle``, ``returns``, ``backlog``), ``subject`` (worker or
        job), ``message`` (the flag's reason), ``page`` (``workers`` or ``jobs``).
    """
    rows: list[dict[str, str]] = []
    name = worker_names(workers)
    for kind, flag, reason in (
        ("slow", "slow_flag", "slow_reason"),
        ("returns", "return_flag", "return_reason"),
        ("idle", "idle_flag", "idle_reason"),
    ):
        flagged = workers[workers[flag].astype(bool)]
        for subject, message in zip(name[flagged.index], flagged[reason], strict=True):
            rows.append(
                {"kind": kind, "subject": str(subject), "message": str(message), "page": "workers"}
            )
    if len(backlog):
        warned = backlog[backlog["warnings"].fillna("") != ""]
        for job, message in zip(warned["labeling_job_name"], warned["warnings"], strict=True):
            rows.append(
                {"kind": "backlog", "subject": str(job), "message": str(message), "page": "jobs"}
            )
    frame = pd.DataFrame(rows, columns=list(ALERT_COLUMNS))
    return frame.astype(dict.fromkeys(ALERT_COLUMNS, "str"))
