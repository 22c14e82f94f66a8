"""Active time, idle time and working sessions: how each worker's task intervals merge.

Each task spans its acceptance to its outcome (an instant at its outcome when the acceptance time is
missing or later than the outcome). Overlapping tasks merge into active time; a gap between tasks
longer than the session gap ends a working session, shorter gaps are idle time inside it. One
compiled sweep (``kernels.sweep_walk``) serves the worker table's columns and the session table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.dataset import TeamData
from analytics.metrics import kernels
from analytics.metrics.grouping import gather, group_bounds
from analytics.metrics.outcomes import (
    MISSING_MS,
    MS_PER_DAY,
    MS_PER_HOUR,
    Outcomes,
    ms_to_times,
    outcomes_of,
)


def interval_starts(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Accepted times, replaced by the outcome time where missing or after it (clock skew): the
    rule is ``kernels.interval_start``."""
    starts = np.empty(len(end), dtype=np.int64)
    kernels.interval_starts(
        kernels.read_only(start, np.int64), kernels.read_only(end, np.int64), MISSING_MS, starts
    )
    return starts


@dataclass(frozen=True)
class Sweep:
    """Intervals grouped by worker in end-time order, with what the sweep found for each."""

    bounds: np.ndarray  # group g's intervals are [bounds[g], bounds[g + 1])
    start_ms: np.ndarray
    end_ms: np.ndarray
    covered_ms: np.ndarray  # int64: the part of the interval not covered by later-ending ones
    idle_ms: np.ndarray  # int64: uncovered time before the group's next task, inside a session
    ends_session: np.ndarray  # bool: the next task starts over the gap later (or there is none)


def task_intervals(outcomes: Outcomes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each timed task's ``[accepted, outcome]`` interval in ms, with its worker code.

    A task without a usable acceptance time (missing, or after the outcome: clock skew) is the
    instant of its outcome: it starts and ends sessions but adds no active time. Tasks without any
    time are left out.
    """
    timed = (outcomes.end_ms != MISSING_MS) & (outcomes.worker >= 0)
    end = outcomes.end_ms[timed]
    return outcomes.worker[timed], interval_starts(outcomes.start_ms[timed], end), end


def sweep_intervals(
    group: np.ndarray, start: np.ndarray, end: np.ndarray, n_groups: int, gap_ms: float
) -> Sweep:
    """Merge each group's intervals (any order) in one vectorised pass; see ``sweep_sorted``."""
    keys = pa.table({"group": group, "end": end})
    order = pc.sort_indices(keys, [("group", "ascending"), ("end", "ascending")])
    bounds = group_bounds(group, n_groups)
    return sweep_sorted(gather(start, order), gather(end, order), bounds, gap_ms)


def sweep_sorted(start: np.ndarray, end: np.ndarray, bounds: np.ndarray, gap_ms: float) -> Sweep:
    """Merge each group's intervals, already grouped (``bounds``) and in end order inside a group.

    Walking a group from its latest end backwards with the earliest start among its later-ending
    intervals (``later_start``): an interval adds ``min(end, later_start) - start`` of new
    coverage (none when negative), and the uncovered ``later_start - end`` is a gap between
    tasks; a gap over ``gap_ms`` ends a session, and the group's last interval always ends one.
    The walk is ``kernels.sweep_walk``, the one implementation of this rule.
    """
    sizes = np.diff(bounds)
    group = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    # Zeros: an interval without an outcome time is left out by the walk (callers drop them).
    covered = np.zeros(len(end), dtype=np.int64)
    idle = np.zeros(len(end), dtype=np.int64)
    ends_session = np.zeros(len(end), dtype=bool)
    kernels.sweep_walk(
        kernels.read_only(group, np.int32),
        kernels.read_only(start, np.int64),
        kernels.read_only(end, np.int64),
        kernels.read_only(np.zeros(0), np.int64),
        len(sizes),
        float(gap_ms),
        MISSING_MS,
        MS_PER_DAY,
        covered,
        idle,
        ends_session,
    )
    return Sweep(
        bounds=bounds,
        start_ms=start,
        end_ms=end,
        covered_ms=covered,
        idle_ms=idle,
        ends_session=ends_session,
    )


SESSION_COLUMNS = (
    "worker_key",
    "session_number",
    "session_start",
    "session_end",
    "tasks",
    "session_hours",
    "active_hours",
    "idle_minutes",
)


def worker_sessions(data: TeamData, gap_minutes: float = 30.0) -> pd.DataFrame:
    """Working sessions: a worker's tasks separated by gaps of at most ``gap_minutes``.

    Each task spans its acceptance to its outcome (an instant at its outcome when the acceptance
    time is missing or later than the outcome). Overlapping tasks merge; a gap between one task's
    end and the next task's start longer than ``gap_minutes`` ends the session.

    Returns
    -------
    pandas.DataFrame
        Columns ``SESSION_COLUMNS``: ``session_number`` counts from 1 per worker in time order;
        ``session_hours`` = end - start; ``active_hours`` = time covered by at least one task;
        ``idle_minutes`` = the rest (gaps between tasks inside the session).
    """
    outcomes = outcomes_of(data)
    n = len(outcomes.worker_keys)
    group, start, end = task_intervals(outcomes)
    sweep = sweep_intervals(group, start, end, n, gap_minutes * 60_000.0)
    if len(sweep.end_ms) == 0:
        frame = pd.DataFrame({name: pd.Series(dtype="float64") for name in SESSION_COLUMNS})
        frame["worker_key"] = frame["worker_key"].astype("str")
        for name in ("session_start", "session_end"):
            frame[name] = pd.Series(dtype="datetime64[ms, UTC]")
        return frame.astype({"session_number": "int64", "tasks": "int64"})
    # A session starts at a worker's first task and after each task that ended one.
    ends_session = sweep.ends_session
    starts_session = np.empty(len(ends_session), dtype=bool)
    starts_session[0] = True
    starts_session[1:] = ends_session[:-1]
    session = np.cumsum(starts_session) - 1
    first = np.flatnonzero(starts_session)
    n_sessions = len(first)
    session_start = np.minimum.reduceat(sweep.start_ms, first)
    session_end = np.maximum.reduceat(sweep.end_ms, first)
    tasks = np.bincount(session, minlength=n_sessions)
    active = np.add.reduceat(sweep.covered_ms, first).astype(np.float64)
    idle = np.add.reduceat(sweep.idle_ms, first).astype(np.float64)
    session_group = np.searchsorted(sweep.bounds, first, side="right") - 1
    number = np.arange(n_sessions) - np.searchsorted(session_group, session_group, side="left") + 1
    keys = np.asarray(outcomes.worker_keys.astype("str"), dtype=object)
    return pd.DataFrame(
        {
            "worker_key": pd.array(keys[session_group], dtype="str"),
            "session_number": number.astype(np.int64),
            "session_start": ms_to_times(session_start),
            "session_end": ms_to_times(session_end),
            "tasks": tasks.astype(np.int64),
            "session_hours": (session_end - session_start) / MS_PER_HOUR,
            "active_hours": active / MS_PER_HOUR,
            "idle_minutes": idle / 60_000.0,
        }
    )
