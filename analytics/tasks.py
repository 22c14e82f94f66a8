"""From events to tasks: outcome events, their durations, and the grouping helpers metrics use.

An *outcome* is an event of type ``TasksSubmitted``, ``TasksReturned`` or ``TasksDeclined``
(``schema.OUTCOME_EVENT_TYPES``); each one is one *task*. Other event types count toward no metric.

The helpers here work on NumPy arrays of integer codes rather than on pandas groupbys: 10 million
events must summarise in well under a second on two cores (see ``bench/bench_metrics.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.dataset import TeamData

#: NumPy's integer for a missing time (``NaT`` viewed as int64).
MISSING_MS = np.iinfo(np.int64).min

SUBMITTED, RETURNED, DECLINED = 0, 1, 2
#: Outcome kind code -> event type and the short word used in task tables.
OUTCOME_TYPES = ("TasksSubmitted", "TasksReturned", "TasksDeclined")
OUTCOME_WORDS = ("submitted", "returned", "declined")

MS_PER_SECOND = 1_000.0
MS_PER_HOUR = 3_600_000.0
MS_PER_DAY = 86_400_000


def codes_of(series: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (``-1`` for missing) and the distinct values, without copying categories."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy().astype(np.int64), pd.Index(series.cat.categories)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), pd.Index(uniques)


def epoch_ms(series: pd.Series) -> np.ndarray:
    """A UTC time column as epoch milliseconds (``MISSING_MS`` where missing); a view if it can."""
    if not isinstance(series.dtype, pd.DatetimeTZDtype):
        series = pd.to_datetime(series, utc=True)
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) and dtype.unit != "ms":
        series = series.dt.as_unit("ms")
    return np.asarray(series.array.asi8)


def ms_to_times(values: np.ndarray) -> pd.DatetimeIndex:
    """Epoch milliseconds (``MISSING_MS`` = missing) as UTC times."""
    return pd.DatetimeIndex(np.asarray(values, dtype=np.int64).view("datetime64[ms]")).tz_localize(
        "UTC"
    )


@dataclass(frozen=True)
class Outcomes:
    """The outcome events of a ``TeamData`` as aligned arrays (one element per task).

    Attributes
    ----------
    rows
        Position of each task in ``TeamData.events``.
    worker, job, team
        Codes into ``worker_keys``, ``job_names``, ``team_names`` (``-1`` when missing).
    kind
        ``SUBMITTED``, ``RETURNED`` or ``DECLINED``.
    end_ms
        The outcome's filed time (``event_time``) in epoch ms, ``MISSING_MS`` when unknown.
    start_ms
        ``task_accepted_time`` in epoch ms, ``MISSING_MS`` when unknown.
    task_ms
        Submitted tasks: ``task_submitted_time - task_accepted_time`` when both are known and the
        difference is not negative, else NaN. NaN for other outcomes.
    return_ms
        Returned tasks: ``task_returned_time - task_accepted_time`` under the same rule, else NaN.
    skew_ms
        The outcome time minus the accepted time when it is negative (clock skew), else NaN.
    """

    rows: np.ndarray
    worker: np.ndarray
    worker_keys: pd.Index
    job: np.ndarray
    job_names: pd.Index
    team: np.ndarray
    team_names: pd.Index
    kind: np.ndarray
    end_ms: np.ndarray
    start_ms: np.ndarray
    task_ms: np.ndarray
    return_ms: np.ndarray
    skew_ms: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)


def outcome_kinds(event_types: pd.Series) -> np.ndarray:
    """Outcome kind of each event (``-1`` for every other event type)."""
    codes, names = codes_of(event_types)
    lookup = np.full(len(names) + 1, -1, dtype=np.int8)  # the extra slot serves code -1
    for kind, name in enumerate(OUTCOME_TYPES):
        where = names.get_indexer(pd.Index([name]))[0]
        if where >= 0:
            lookup[where] = kind
    return lookup[codes]


def outcomes_of(data: TeamData) -> Outcomes:
    """Extract the tasks of ``data`` (see ``Outcomes``); O(n), no sorting."""
    events = data.events
    kind_all = outcome_kinds(events["event_type"])
    every_row = bool((kind_all >= 0).all())
    rows = np.arange(len(kind_all)) if every_row else np.flatnonzero(kind_all >= 0)

    def take(values: np.ndarray) -> np.ndarray:
        return values if every_row else values[rows]

    kind = take(kind_all)
    worker_all, worker_keys = codes_of(events["worker_key"])
    job_all, job_names = codes_of(events["labeling_job_name"])
    team_all, team_names = codes_of(events["workteam_name"])
    end_ms = take(epoch_ms(events["event_time"]))
    start_ms = take(epoch_ms(events["task_accepted_time"]))
    # The time that ends each task: submitted, returned or declined, by the outcome's type.
    outcome_ms = take(epoch_ms(events["task_submitted_time"])).copy()
    for code, column in ((RETURNED, "task_returned_time"), (DECLINED, "task_declined_time")):
        mine = kind == code
        if mine.any():
            outcome_ms[mine] = take(epoch_ms(events[column]))[mine]
    known = (outcome_ms != MISSING_MS) & (start_ms != MISSING_MS)
    own = np.subtract(outcome_ms, start_ms, where=known, out=np.zeros(len(kind), np.int64))
    own_ms = np.where(known, own, np.nan)
    skew_ms = np.where(own_ms < 0, own_ms, np.nan)
    task_ms = np.where((kind == SUBMITTED) & (own_ms >= 0), own_ms, np.nan)
    return_ms = np.where((kind == RETURNED) & (own_ms >= 0), own_ms, np.nan)
    return Outcomes(
        rows=rows,
        worker=take(worker_all),
        worker_keys=worker_keys,
        job=take(job_all),
        job_names=job_names,
        team=take(team_all),
        team_names=team_names,
        kind=kind,
        end_ms=end_ms,
        start_ms=start_ms,
        task_ms=task_ms,
        return_ms=return_ms,
        skew_ms=skew_ms,
    )


_TIME_COLUMNS = (
    "event_time",
    "task_accepted_time",
    "task_submitted_time",
    "task_returned_time",
    "task_declined_time",
)


# --------------------------------------------------------------------------- grouping helpers
def group_order(codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """A stable order that puts equal codes together, and each group's start offsets.

    Stable, so rows keep their input order inside a group. Codes must be in ``[0, n_groups)``.
    Returns ``(order, bounds)`` with ``bounds`` of length ``n_groups + 1``.
    """
    # NumPy sorts 16-bit integers with a radix sort: several times faster than a comparison sort.
    small = codes.astype(np.int16) if n_groups <= np.iinfo(np.int16).max else codes
    order = np.argsort(small, kind="stable")
    counts = np.bincount(codes, minlength=n_groups)
    bounds = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(counts, out=bounds[1:])
    return order, bounds


def quantile_positions(count: int, quantile: float) -> tuple[int, int, float]:
    """Lower and upper sorted positions and the weight of the upper one (linear interpolation)."""
    position = quantile * (count - 1)
    lower = int(np.floor(position))
    return lower, min(lower + 1, count - 1), position - lower


def sliced_quantiles(
    values: np.ndarray, bounds: np.ndarray, quantiles: Sequence[float]
) -> np.ndarray:
    """Quantiles (linear interpolation, NumPy's default) of each ``values[bounds[i]:bounds[i+1]]``.

    ``values`` must hold no NaN. Returns an array of shape ``(len(bounds) - 1, len(quantiles))``,
    NaN for empty slices. One ``np.partition`` per slice: linear in the number of values.
    """
    n_groups = len(bounds) - 1
    out = np.full((n_groups, len(quantiles)), np.nan)
    sizes = np.diff(bounds)
    for group in np.flatnonzero(sizes):
        start, stop = bounds[group], bounds[group + 1]
        count = int(stop - start)
        chunk = values[start:stop]
        if count == 1:
            out[group, :] = chunk[0]
            continue
        positions = [quantile_positions(count, q) for q in quantiles]
        kth = sorted({p for lower, upper, _ in positions for p in (lower, upper)})
        ordered = np.partition(chunk, kth)
        for column, (lower, upper, weight) in enumerate(positions):
            low_value = ordered[lower]
            out[group, column] = low_value + (ordered[upper] - low_value) * weight
    return out


def grouped_quantiles(
    codes: np.ndarray, values: np.ndarray, n_groups: int, quantiles: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Per-group quantiles of ``values`` ignoring NaN and codes ``-1``; also the group counts."""
    keep = (codes >= 0) & ~np.isnan(values)
    kept_codes = codes[keep]
    order, bounds = group_order(kept_codes, n_groups)
    result = sliced_quantiles(values[keep][order], bounds, quantiles)
    return result, np.diff(bounds)


def join_names(
    pair_first: np.ndarray, pair_second: np.ndarray, names: pd.Index, n_first: int
) -> list[str]:
    """For each ``first`` code, the sorted distinct ``names[second]`` joined by ``", "``."""
    keep = (pair_first >= 0) & (pair_second >= 0)
    first, second = pair_first[keep], pair_second[keep]
    n_second = max(len(names), 1)
    if n_first * n_second <= 50_000_000:
        present = np.bincount(first * n_second + second, minlength=n_first * n_second)
        first_u, second_u = np.divmod(np.flatnonzero(present), n_second)
    else:
        unique = pd.unique(first * n_second + second)
        first_u, second_u = np.divmod(np.sort(unique), n_second)
    labels: list[str] = (
        list(np.asarray(names.astype("str"), dtype=object)[second_u]) if len(second_u) else []
    )
    result: list[list[str]] = [[] for _ in range(n_first)]
    for f, label in zip(first_u.tolist(), list(labels), strict=True):
        result[f].append(label)
    return [", ".join(sorted(items)) for items in result]


# --------------------------------------------------------------------------- task intervals
@dataclass(frozen=True)
class Sweep:
    """Intervals grouped by worker, latest end first inside a group, with their sweep results."""

    group: np.ndarray
    start_ms: np.ndarray
    end_ms: np.ndarray
    covered_ms: np.ndarray  # the part of each interval not covered by later-ending ones
    gap_ms: np.ndarray  # uncovered time between this end and the later tasks (inf for the last)
    new_session: np.ndarray  # this task is the last of a session


def task_intervals(outcomes: Outcomes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each timed task's ``[accepted, outcome]`` interval in ms, with its worker code.

    A task without a usable acceptance time (missing, or after the outcome: clock skew) is the
    instant of its outcome: it starts and ends sessions but adds no active time. Tasks without any
    time are left out.
    """
    timed = (outcomes.end_ms != MISSING_MS) & (outcomes.worker >= 0)
    end = outcomes.end_ms[timed]
    start = outcomes.start_ms[timed]
    start = np.where((start != MISSING_MS) & (start <= end), start, end)
    return outcomes.worker[timed], start, end


def sweep_intervals(
    group: np.ndarray, start: np.ndarray, end: np.ndarray, n_groups: int, gap_ms: float
) -> Sweep:
    """Merge each group's intervals in one vectorised pass.

    Sorted by group then end time, then walked from the latest end backwards with a running
    minimum of starts: an interval adds ``min(end, later_start) - start`` of new coverage, and the
    uncovered ``later_start - end`` is a gap between tasks; a gap over ``gap_ms`` ends a session.
    Offsetting each group's times by ``group * span`` lets one running minimum serve all groups.
    """
    if len(end) and not bool(np.all(end[1:] >= end[:-1])):
        by_time = np.argsort(end, kind="stable")
        group, start, end = group[by_time], start[by_time], end[by_time]
    order, _ = group_order(group, n_groups)
    group, start, end = group[order], start[order], end[order]
    if len(end) == 0:
        empty = np.zeros(0)
        return Sweep(group, start, end, empty, empty, np.zeros(0, dtype=bool))
    origin = int(start.min())
    span = int(end.max()) - origin + int(gap_ms) + 2
    offset = group.astype(np.int64) * span - origin
    reversed_start = (start + offset)[::-1]
    reversed_end = (end + offset)[::-1]
    later_start = np.empty_like(reversed_start)
    later_start[0] = np.iinfo(np.int64).max
    np.minimum.accumulate(reversed_start[:-1], out=later_start[1:])
    first_of_group = np.empty(len(end), dtype=bool)
    first_of_group[0] = True
    reversed_group = group[::-1]
    first_of_group[1:] = reversed_group[1:] != reversed_group[:-1]
    covered = np.maximum(np.minimum(reversed_end, later_start) - reversed_start, 0)
    gap = np.where(first_of_group, np.inf, (later_start - reversed_end).astype(np.float64))
    new_session = gap > gap_ms
    return Sweep(
        group=reversed_group,
        start_ms=reversed_start - offset[::-1],
        end_ms=reversed_end - offset[::-1],
        covered_ms=covered.astype(np.float64),
        gap_ms=gap,
        new_session=new_session,
    )


# --------------------------------------------------------------------------- task table
TASK_COLUMNS = (
    "worker_key",
    "worker_id",
    "username",
    "email",
    "workteam_name",
    "labeling_job_name",
    "outcome",
    "task_accepted_time",
    "outcome_time",
    "task_seconds",
    "seconds_before_return",
    "clock_skew_seconds",
    "source",
)


def identity_lookup(data: TeamData) -> pd.DataFrame:
    """``username`` and ``email`` by ``worker_key`` (the Cognito sub): users first, then members."""
    parts = []
    for frame in (data.users, data.memberships):
        if len(frame):
            parts.append(frame[["sub", "username", "email"]])
    if not parts:
        return pd.DataFrame(
            {"username": pd.Series(dtype="str"), "email": pd.Series(dtype="str")},
            index=pd.Index([], name="worker_key", dtype="str"),
        )
    table = pd.concat(parts, ignore_index=True).dropna(subset=["sub"])
    table = table.drop_duplicates(subset=["sub"], keep="first")
    table = table.rename(columns={"sub": "worker_key"}).set_index("worker_key")
    return table.astype({"username": "str", "email": "str"})


def task_table(data: TeamData, worker_key: str | None = None) -> pd.DataFrame:
    """One row per task (outcome event), for drill-down and ``export tasks``.

    Parameters
    ----------
    data
        What ``load_team_data`` returned.
    worker_key
        Only this worker's tasks (the Cognito sub, else the worker id); None for everyone.

    Returns
    -------
    pandas.DataFrame
        Columns ``TASK_COLUMNS``, sorted by ``outcome_time``: ``outcome`` is ``submitted``,
        ``returned`` or ``declined``; ``task_seconds`` (submitted tasks) and
        ``seconds_before_return`` (returned tasks) are wall-clock seconds from acceptance, empty
        when a time is missing or the difference is negative; ``clock_skew_seconds`` is that
        negative difference (outcome before acceptance) when there is one.
    """
    outcomes = outcomes_of(data)
    events = data.events
    select = np.ones(len(outcomes), dtype=bool)
    if worker_key is not None:
        where = outcomes.worker_keys.get_indexer(pd.Index([worker_key]))[0]
        select = outcomes.worker == where if where >= 0 else np.zeros(len(outcomes), dtype=bool)
    rows = outcomes.rows[select]
    picked = events.iloc[rows]
    frame = pd.DataFrame(
        {
            "worker_key": picked["worker_key"].astype("str").to_numpy(),
            "worker_id": picked["worker_id"].astype("str").to_numpy(),
            "workteam_name": picked["workteam_name"].astype("str").to_numpy(),
            "labeling_job_name": picked["labeling_job_name"].astype("str").to_numpy(),
            "outcome": np.asarray(OUTCOME_WORDS, dtype=object)[outcomes.kind[select]],
            "task_accepted_time": picked["task_accepted_time"].reset_index(drop=True),
            "outcome_time": picked["event_time"].reset_index(drop=True),
            "task_seconds": outcomes.task_ms[select] / MS_PER_SECOND,
            "seconds_before_return": outcomes.return_ms[select] / MS_PER_SECOND,
            "clock_skew_seconds": outcomes.skew_ms[select] / MS_PER_SECOND,
            "source": picked["source"].astype("str").to_numpy(),
        }
    )
    frame["outcome"] = frame["outcome"].astype("str")
    identities = identity_lookup(data)
    frame["username"] = frame["worker_key"].map(identities["username"]).astype("str")
    frame["email"] = frame["worker_key"].map(identities["email"]).astype("str")
    frame = frame.sort_values("outcome_time", kind="stable", na_position="last")
    return frame[list(TASK_COLUMNS)].reset_index(drop=True)
