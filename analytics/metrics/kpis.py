"""The headline numbers of the window against the same-length window before it (the Overview)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.dataset import TeamData
from analytics.metrics.outcomes import MS_PER_SECOND, RETURNED, SUBMITTED, outcomes_of

KPI_NAMES = ("tasks_submitted", "active_workers", "median_task_seconds", "return_rate")


def _kpi_values(data: TeamData) -> dict[str, float]:
    outcomes = outcomes_of(data)
    submitted = int(np.count_nonzero(outcomes.kind == SUBMITTED))
    returned = int(np.count_nonzero(outcomes.kind == RETURNED))
    timed = outcomes.task_ms[~np.isnan(outcomes.task_ms)]
    workers = outcomes.worker[outcomes.worker >= 0]
    return {
        "tasks_submitted": float(submitted),
        "active_workers": float(len(np.unique(workers))),
        "median_task_seconds": float(np.median(timed)) / MS_PER_SECOND if len(timed) else np.nan,
        "return_rate": returned / (submitted + returned) if submitted + returned else np.nan,
    }


def kpis(current: TeamData, previous: TeamData) -> pd.DataFrame:
    """The headline numbers of the window and the same-length window before it.

    Returns
    -------
    pandas.DataFrame
        One row per ``KPI_NAMES`` (``metric``), columns ``metric``, ``value``, ``previous_value``,
        ``change`` (value - previous) and ``change_ratio`` (change / previous; empty when the
        previous value is 0 or unknown). ``active_workers`` = workers with at least one outcome;
        ``median_task_seconds`` over every submitted task with task seconds.
    """
    now, before = _kpi_values(current), _kpi_values(previous)
    if previous.events.empty:
        before = dict.fromkeys(before, np.nan)
    rows = []
    for name in KPI_NAMES:
        value, prior = now[name], before[name]
        change = value - prior
        ratio = change / prior if prior and not np.isnan(prior) else np.nan
        rows.append(
            {
                "metric": name,
                "value": value,
                "previous_value": prior,
                "change": change,
                "change_ratio": ratio,
            }
        )
    frame = pd.DataFrame(rows)
    frame["metric"] = frame["metric"].astype("str")
    return frame
