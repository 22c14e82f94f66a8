"""The timesheet: one row per worker and local calendar day, for paying hourly contractors.

Nothing here is a new rule: the task intervals and their clamping are ``sessions.task_intervals``,
the union is ``sessions.sweep_intervals``, the sessions are ``sessions.worker_sessions`` with the
worker table's session gap, the outcome kinds and times are ``outcomes.outcomes_of``, the
responses' worker is ``quality.response_worker_keys`` and their window ``dataset.in_window``.
What is new is the cut: every task interval and every session is split at the local midnights of
the chosen time zone (daylight saving aware: a day may last 23 or 25 hours), and each piece
counts on its day. Midnights partition time, so a worker's days sum exactly to the worker table's
``active_hours`` and ``session_hours`` for the same window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.dataset import TeamData, in_window
from analytics.metrics.grouping import gather, group_bounds, group_sums, stable_order
from analytics.metrics.outcomes import (
    DECLINED,
    MISSING_MS,
    MS_PER_HOUR,
    RETURNED,
    SUBMITTED,
    column_epoch_ms,
    identity_lookup,
    ms_to_times,
    outcome_counts,
    outcomes_of,
)
from analytics.metrics.quality import response_worker_keys
from analytics.metrics.sessions import (
    sweep_intervals,
    sweep_sorted,
    task_intervals,
    worker_sessions,
)
from analytics.metrics.workers import Thresholds, worker_ids_of

TIMESHEET_COLUMNS = (
    "worker_key",
    "worker_id",
    "username",
    "email",
    "date",
    "first_activity",
    "last_activity",
    "tasks_submitted",
    "tasks_returned",
    "tasks_declined",
    "active_hours",
    "session_hours",
    "active_seconds_reported",
)


def local_midnights(first_ms: int, last_ms: int, timezone: str) -> tuple[np.ndarray, np.ndarray]:
    """The start of each local calendar day from the day of ``first_ms`` to the day after that of
    ``last_ms``, in epoch ms, and the days' dates (one fewer: the last start closes the last day).

    A day starts at its first instant: a midnight that does not exist (clocks jump forward at
    00:00) starts the day at the first time that does; a midnight that happens twice (clocks fall
    back to 00:00) starts it at the first of the two.
    """
    first_day, last_day = (
        pd.Timestamp(ms, unit="ms", tz="UTC").tz_convert(timezone).tz_localize(None).normalize()
        for ms in (first_ms, last_ms)
    )
    days = pd.date_range(first_day, last_day + pd.Timedelta(days=1), freq="D")
    starts = days.tz_localize(
        timezone, ambiguous=np.ones(len(days), dtype=bool), nonexistent="shift_forward"
    )
    return np.asarray(starts.as_unit("ms").asi8), np.asarray(days[:-1].date, dtype=object)


def _day_of(times_ms: np.ndarray, midnights: np.ndarray) -> np.ndarray:
    """The index of the local day holding each time (``midnights`` from ``local_midnights``)."""
    return np.searchsorted(midnights, times_ms, side="right") - 1


def split_at_midnights(
    owner: np.ndarray, start_ms: np.ndarray, end_ms: np.ndarray, midnights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut each ``[start, end]`` interval at the local midnights it crosses, in one pass.

    Returns ``(owner, day, start_ms, end_ms)`` of the pieces: an interval within one day is one
    piece; one ending exactly at a midnight ends on the day before (it has no time after it); an
    instant is one empty piece on its day.
    """
    first = _day_of(start_ms, midnights)
    last = _day_of(np.where(end_ms > start_ms, end_ms - 1, end_ms), midnights)
    pieces = last - first + 1
    source = np.repeat(np.arange(len(pieces)), pieces)
    offset = np.arange(len(source)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    day = first[source] + offset
    piece_start = np.maximum(start_ms[source], midnights[day])
    piece_end = np.minimum(end_ms[source], midnights[day + 1])
    return owner[source], day, piece_start, piece_end


def timesheet(
    data: TeamData,
    *,
    timezone: str = "UTC",
    session_gap_minutes: float = Thresholds.session_gap_minutes,
) -> pd.DataFrame:
    """One row per worker and local day of ``timezone`` with any activity in the window.

    Parameters
    ----------
    data
        What ``load_team_data`` returned.
    timezone
        The IANA time zone whose calendar days the rows are (daylight saving aware).
    session_gap_minutes
        The worker table's session gap (``Thresholds.session_gap_minutes``): sessions are found
        over the whole window, then cut at midnight.

    Returns
    -------
    pandas.DataFrame
        Columns ``TIMESHEET_COLUMNS`` (each defined in ``analytics.metrics.definitions``), sorted
        by ``worker_key`` then ``date`` (a ``datetime.date``). A day is listed when the worker
        has an outcome, a piece of a task interval or session, or a worker response on it.
        ``first_activity`` and ``last_activity`` are UTC times (the earliest and latest outcome
        that day); ``active_seconds_reported`` is NaN on a day without responses with active
        seconds.
    """
    outcomes = outcomes_of(data)
    keys = pd.Index(outcomes.worker_keys.astype("str"))
    # The outcomes: each counts on the day of its outcome time (tasks without one have no day).
    dated = (outcomes.worker >= 0) & (outcomes.end_ms != MISSING_MS)
    outcome_worker = outcomes.worker[dated].astype(np.int64)
    outcome_ms, outcome_kind = outcomes.end_ms[dated], outcomes.kind[dated]
    # The task intervals, clamped as for the worker table.
    task_worker, task_start, task_end = task_intervals(outcomes)
    # The sessions, found over the whole window with the worker table's gap.
    sessions = worker_sessions(data, session_gap_minutes)
    session_worker = keys.get_indexer(sessions["worker_key"].astype("str")).astype(np.int64)
    session_start = column_epoch_ms(sessions["session_start"])
    session_end = column_epoch_ms(sessions["session_end"])
    # The responses submitted in the window, by the log's worker_key rule.
    responses = data.responses
    rows = np.zeros(0, dtype=np.int64)
    response_keys = np.zeros(0, dtype=object)
    if len(responses):
        in_range = in_window(responses["submission_time"], data.filters)
        in_range &= responses["submission_time"].notna().to_numpy()
        rows = np.flatnonzero(in_range)
        response_keys = response_worker_keys(responses).to_numpy(dtype=object)[rows]
        known = pd.notna(response_keys)
        rows, response_keys = rows[known], response_keys[known]
    new_keys = pd.Index(pd.unique(response_keys)).difference(keys)
    keys = keys.append(pd.Index(new_keys, dtype=object).astype("str"))
    response_worker = keys.get_indexer(pd.Index(response_keys, dtype=object)).astype(np.int64)
    response_ms = column_epoch_ms(responses["submission_time"].iloc[rows])
    response_seconds = responses["active_seconds"].to_numpy(dtype=np.float64, na_value=np.nan)[rows]

    every_time = [outcome_ms, task_start, task_end, session_start, session_end, response_ms]
    present = [times for times in every_time if len(times)]
    if not present:
        return _empty()
    midnights, dates = local_midnights(
        min(int(times.min()) for times in present),
        max(int(times.max()) for times in present),
        timezone,
    )
    task_worker, task_day, task_start, task_end = split_at_midnights(
        task_worker.astype(np.int64), task_start, task_end, midnights
    )
    session_worker, session_day, session_start, session_end = split_at_midnights(
        session_worker, session_start, session_end, midnights
    )
    # Rows: every (worker, day) pair seen, coded worker * n_days + day.
    n_days = len(dates)
    pairs = [
        outcome_worker * n_days + _day_of(outcome_ms, midnights),
        task_worker * n_days + task_day,
        session_worker * n_days + session_day,
        response_worker * n_days + _day_of(response_ms, midnights),
    ]
    row_pairs, (outcome_row, task_row, session_row, response_row) = _dense_rows(
        pairs, len(keys) * n_days
    )
    n_rows = len(row_pairs)

    counts = outcome_counts(outcome_row, outcome_kind, n_rows)
    first_ms = np.full(n_rows, MISSING_MS, dtype=np.int64)
    last_ms = np.full(n_rows, MISSING_MS, dtype=np.int64)
    if len(outcome_row):
        by_row = pd.Series(outcome_ms).groupby(outcome_row)
        seen = by_row.min()
        first_ms[seen.index.to_numpy()] = seen.to_numpy()
        last_ms[seen.index.to_numpy()] = by_row.max().to_numpy()
    active_ms = _union_ms(task_row, task_start, task_end, n_rows)
    # Sessions of one worker never overlap: their pieces add up (float64 is exact for ms sums).
    session_ms = np.bincount(
        session_row, weights=(session_end - session_start).astype(np.float64), minlength=n_rows
    )
    reported = (
        pd.Series(response_seconds)
        .groupby(response_row)
        .sum(min_count=1)
        .reindex(range(n_rows))
        .to_numpy(dtype=np.float64)
    )

    worker = row_pairs // n_days
    day = row_pairs % n_days
    key_text = np.asarray(keys, dtype=object)[worker]
    # The log's worker_id (as in the worker table), else the one of the worker's responses.
    id_of = _response_ids(responses, rows, response_worker, len(keys))
    if len(data.events):
        ids = worker_ids_of(data, outcomes)
        id_of[: len(ids)] = np.where(pd.isna(ids), id_of[: len(ids)], ids)
    identities = identity_lookup(data)
    key_series = pd.Series(key_text, dtype="str")
    frame = pd.DataFrame(
        {
            "worker_key": key_series,
            "worker_id": pd.array(id_of[worker], dtype="str"),
            "username": key_series.map(identities["username"]).astype("str"),
            "email": key_series.map(identities["email"]).astype("str"),
            "date": dates[day],
            "first_activity": ms_to_times(first_ms),
            "last_activity": ms_to_times(last_ms),
            "tasks_submitted": counts[:, SUBMITTED].astype(np.int64),
            "tasks_returned": counts[:, RETURNED].astype(np.int64),
            "tasks_declined": counts[:, DECLINED].astype(np.int64),
            "active_hours": active_ms / MS_PER_HOUR,
            "session_hours": session_ms / MS_PER_HOUR,
            "active_seconds_reported": reported,
        }
    )
    frame = frame.sort_values(["worker_key", "date"], kind="stable")
    return frame[list(TIMESHEET_COLUMNS)].reset_index(drop=True)


#: Up to this many possible (worker, day) pairs, rows are numbered through a lookup table
#: (one pass) rather than a sort: 40 million is 320 MB of int64 at most.
_DENSE_PAIRS = 40_000_000


def _dense_rows(pairs: list[np.ndarray], n_pairs: int) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The distinct pair codes in order, and each array of ``pairs`` as row numbers into them."""
    if n_pairs > _DENSE_PAIRS:
        distinct = np.unique(np.concatenate(pairs))
        return distinct, tuple(np.searchsorted(distinct, codes) for codes in pairs)
    present = np.zeros(n_pairs, dtype=bool)
    for codes in pairs:
        present[codes] = True
    row_of = np.cumsum(present) - 1
    return np.flatnonzero(present), tuple(row_of[codes] for codes in pairs)


def _union_ms(row: np.ndarray, start: np.ndarray, end: np.ndarray, n_rows: int) -> np.ndarray:
    """The length of the union of each row's intervals (``sessions.sweep_sorted``), in ms.

    The sweep wants each row's intervals in end order. The store keeps events in time order,
    and cutting at midnight keeps that order inside a (worker, day) row (a piece cut at a
    midnight ends after every other piece of its day), so a stable grouping by row (one counting
    sort) is usually enough; it is checked, and a full sort is the fallback.
    """
    order = stable_order(row)
    bounds = group_bounds(row, n_rows)
    start, end = gather(start, order), gather(end, order)
    in_order = np.diff(end) >= 0
    in_order[bounds[1:-1][(bounds[1:-1] > 0) & (bounds[1:-1] < len(end))] - 1] = True
    if bool(in_order.all()):
        union = sweep_sorted(start, end, bounds, 0.0)
    else:
        union = sweep_intervals(gather(row, order), start, end, n_rows, 0.0)
    return group_sums(union.covered_ms, union.bounds)


def _response_ids(
    responses: pd.DataFrame, rows: np.ndarray, worker: np.ndarray, n_workers: int
) -> np.ndarray:
    """Each worker's ``worker_id`` from their last response that has one (None without): the
    fallback for workers the log does not name in the window."""
    chosen = np.full(n_workers, None, dtype=object)
    ids = responses["worker_id"].to_numpy(dtype=object)[rows]
    has_id = pd.notna(ids)
    chosen[worker[has_id]] = ids[has_id]
    return chosen


def _empty() -> pd.DataFrame:
    """The timesheet of a window without activity: no rows, the columns and their types."""
    frame = pd.DataFrame(
        {name: pd.Series(dtype="str") for name in ("worker_key", "worker_id", "username", "email")}
    )
    frame["date"] = pd.Series(dtype=object)
    for name in ("first_activity", "last_activity"):
        frame[name] = pd.Series(dtype="datetime64[ms, UTC]")
    for name in ("tasks_submitted", "tasks_returned", "tasks_declined"):
        frame[name] = pd.Series(dtype="int64")
    for name in ("active_hours", "session_hours", "active_seconds_reported"):
        frame[name] = pd.Series(dtype="float64")
    return frame


TIMESHEET_TOTAL_COLUMNS = (
    "date",
    "active_workers",
    "tasks_submitted",
    "tasks_returned",
    "tasks_declined",
    "active_hours",
    "session_hours",
    "active_seconds_reported",
)


def timesheet_totals(sheet: pd.DataFrame) -> pd.DataFrame:
    """The team's total per local day of a ``timesheet`` (the rows given, e.g. one team's).

    Returns
    -------
    pandas.DataFrame
        Columns ``TIMESHEET_TOTAL_COLUMNS``, one row per ``date`` in order: ``active_workers`` is
        the workers with an outcome that day, the other columns are the sums of the timesheet's
        (``active_seconds_reported`` empty on a day without any).
    """
    outcomes = sheet[["tasks_submitted", "tasks_returned", "tasks_declined"]].sum(axis=1)
    by_day = sheet.assign(active_workers=(outcomes > 0).astype(np.int64)).groupby("date", sort=True)
    totals = by_day[list(TIMESHEET_TOTAL_COLUMNS[1:-1])].sum()
    totals["active_seconds_reported"] = by_day["active_seconds_reported"].sum(min_count=1)
    return totals.reset_index()[list(TIMESHEET_TOTAL_COLUMNS)]
