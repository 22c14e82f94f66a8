"""From events to tasks: outcome events, their durations, and the grouping helpers metrics use.

An *outcome* is an event of type ``TasksSubmitted``, ``TasksReturned`` or ``TasksDeclined``
(``schema.OUTCOME_EVENT_TYPES``); each one is one *task*. Other event types count toward no metric.

The helpers here work on NumPy arrays of integer codes rather than on pandas groupbys: 10 million
events must summarise in well under a second on two cores (see ``bench/bench_metrics.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
    """Integer codes (``-1`` for missing) and the distinct values, without copying categories.

    Codes are ``int32``: half the memory of ``int64`` on 10 million events, and wide enough that
    ``code * small number`` cannot overflow (pandas' own codes may be ``int8``); pair codes are
    built in ``int64`` (see ``pair_codes``).
    """
    codes, names = category_codes(series)
    return codes.astype(np.int32), names


def category_codes(series: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Like ``codes_of`` but in pandas' own code type (``int8`` to ``int32``), without a copy.

    For lookups and comparisons only: arithmetic on ``int8`` codes would overflow silently.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(), pd.Index(series.cat.categories)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return np.asarray(codes), pd.Index(uniques)


def pair_codes(first: np.ndarray, second: np.ndarray, n_second: int) -> np.ndarray:
    """``first * n_second + second`` in ``int64``: no overflow, and what ``np.bincount`` uses."""
    product = first.astype(np.int64)
    product *= n_second
    product += second
    return product


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
        ``int32`` codes into ``worker_keys``, ``job_names``, ``team_names`` (``-1`` when missing).
    kind
        ``SUBMITTED``, ``RETURNED`` or ``DECLINED`` (``int8``).
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
    codes, names = category_codes(event_types)
    lookup = np.full(len(names) + 1, -1, dtype=np.int8)  # the extra slot serves code -1
    for kind, name in enumerate(OUTCOME_TYPES):
        where = names.get_indexer(pd.Index([name]))[0]
        if where >= 0:
            lookup[where] = kind
    return lookup[codes]


def outcomes_of(data: TeamData) -> Outcomes:
    """Extract the tasks of ``data`` (see ``Outcomes``); O(n), no sorting.

    When every event is an outcome (the usual case) the time arrays are views of the frame's
    columns, and only the three duration arrays are new: 10 million events need about 400 MB.
    """
    events = data.events
    kind_all = outcome_kinds(events["event_type"])
    every_row = bool((kind_all >= 0).all())
    index_type = np.int32 if len(kind_all) < np.iinfo(np.int32).max else np.int64
    rows = (
        np.arange(len(kind_all), dtype=index_type)
        if every_row
        else np.flatnonzero(kind_all >= 0).astype(index_type)
    )

    def take(values: np.ndarray) -> np.ndarray:
        return values if every_row else values[rows]

    kind = take(kind_all)
    worker_all, worker_keys = codes_of(events["worker_key"])
    job_all, job_names = codes_of(events["labeling_job_name"])
    team_all, team_names = codes_of(events["workteam_name"])
    end_ms = take(epoch_ms(events["event_time"]))
    start_ms = take(epoch_ms(events["task_accepted_time"]))
    # The time that ends each task: its submitted, returned or declined time, by its kind.
    own_ms = take(epoch_ms(events["task_submitted_time"])).copy()
    for code, column in ((RETURNED, "task_returned_time"), (DECLINED, "task_declined_time")):
        np.copyto(own_ms, take(epoch_ms(events[column])), where=kind == code)
    known = (own_ms != MISSING_MS) & (start_ms != MISSING_MS)
    np.subtract(own_ms, start_ms, out=own_ms, where=known)
    own_float = own_ms.astype(np.float64)
    del own_ms
    own_float[~known] = np.nan
    del known
    skew_ms = np.where(own_float < 0, own_float, np.nan)
    return_ms = np.where((kind == RETURNED) & (own_float >= 0), own_float, np.nan)
    # Reuse the last temporary as ``task_ms`` rather than allocating a fourth float array.
    own_float[~((kind == SUBMITTED) & (own_float >= 0))] = np.nan
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
        task_ms=own_float,
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
    order = _stable_sort_indices(codes).to_numpy().view(np.int64)
    return order, _bounds_of(codes, n_groups)


def _stable_sort_indices(codes: np.ndarray) -> pa.Array:
    """Positions that sort ``codes`` stably, as an Arrow array (for ``take``).

    Arrow sorts integers of a small range with one counting-sort pass (stable, documented):
    about four times faster than NumPy's stable radix argsort on 10 million codes.
    """
    return pc.array_sort_indices(pa.array(codes))


def _bounds_of(codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Start offsets of each code's rows once sorted by code (length ``n_groups + 1``)."""
    bounds = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(codes, minlength=n_groups), out=bounds[1:])
    return bounds


def gather(values: np.ndarray, indices: pa.Array) -> np.ndarray:
    """``values[indices]`` through Arrow's ``take``.

    On 10 million scattered positions (grouping time-ordered tasks by worker) Arrow's gather is
    about a third faster than NumPy's fancy indexing. NaN stays NaN (no nulls are made), and the
    result is a NumPy array.
    """
    taken: np.ndarray = pc.take(pa.array(values), indices).to_numpy()
    return taken


def group_sums(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Exact ``int64`` sum of each ``values[bounds[i]:bounds[i + 1]]`` (integers or booleans)."""
    sizes = np.diff(bounds)
    sums = np.zeros(len(sizes), dtype=np.int64)
    nonempty = sizes > 0
    if len(values):
        # ``reduceat`` sums from each start to the next start: with empty groups left out, the
        # next start is exactly this group's end.
        sums[nonempty] = np.add.reduceat(values, bounds[:-1][nonempty], dtype=np.int64)
    return sums


def kept_bounds(keep: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """The group bounds of ``values[keep]`` for groups given by ``bounds`` over ``values``."""
    kept = np.zeros(len(bounds), dtype=np.int64)
    np.cumsum(group_sums(keep, bounds), out=kept[1:])
    return kept


def sliced_quantiles(
    values: np.ndarray,
    bounds: np.ndarray,
    quantiles: Sequence[float],
    only: np.ndarray | None = None,
) -> np.ndarray:
    """Quantiles (linear interpolation, NumPy's default) of each ``values[bounds[i]:bounds[i+1]]``.

    ``values`` must hold no NaN. Returns an array of shape ``(len(bounds) - 1, len(quantiles))``,
    NaN for empty slices (and for slices not in ``only``, the slice numbers to compute, when
    given). One ``np.partition`` per slice: linear in the number of values. A quantile ``q`` of
    ``count`` values sits at ``q * (count - 1)`` in sorted order: the values at its floor and the
    next position, weighted by its fraction. Positions and weights are computed for every slice at
    once, so the loop does only the partition: thousands of slices cost little more than their
    values.
    """
    n_groups = len(bounds) - 1
    out = np.full((n_groups, len(quantiles)), np.nan)
    sizes = np.diff(bounds)
    groups = np.flatnonzero(sizes) if only is None else only[sizes[only] > 0]
    if not len(groups):
        return out
    last = sizes[groups, None] - 1
    position = np.asarray(quantiles, dtype=np.float64)[None, :] * last
    lower_float = np.floor(position)
    weight = position - lower_float
    lower = lower_float.astype(np.int64)
    upper = np.minimum(lower + 1, last)
    kth = np.concatenate([lower, upper], axis=1)
    low_values = np.empty(position.shape)
    high_values = np.empty(position.shape)
    for row, group in enumerate(groups.tolist()):
        ordered = np.partition(values[bounds[group] : bounds[group + 1]], kth[row])
        low_values[row] = ordered[lower[row]]
        high_values[row] = ordered[upper[row]]
    out[groups] = low_values + (high_values - low_values) * weight
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
    first, second = pair_first, pair_second
    if not bool(keep.all()):
        first, second = pair_first[keep], pair_second[keep]
    n_second = max(len(names), 1)
    if n_first * n_second <= 50_000_000:
        present = np.bincount(pair_codes(first, second, n_second), minlength=n_first * n_second)
        first_u, second_u = np.divmod(np.flatnonzero(present), n_second)
    else:
        unique = pd.unique(pair_codes(first, second, n_second))
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
class WorkerTasks:
    """Each worker's tasks side by side, in outcome-time order inside a worker.

    Built once by ``worker_tasks`` and shared by every per-worker pass of ``worker_summary`` (the
    interval sweep, the task-time quantiles, the per-job medians): grouping 10 million tasks is
    the most expensive step, so it is done once. Only tasks with a worker are kept; tasks without
    an outcome time come first in their worker's slice.

    Attributes
    ----------
    bounds
        Worker ``w``'s tasks are ``[bounds[w], bounds[w + 1])``; length ``n_workers + 1``.
    end_ms
        Outcome time (``Outcomes.end_ms``).
    start_ms
        Start of the task's interval: the accepted time, or the outcome time when the accepted
        time is missing or later than the outcome (see ``task_intervals``).
    task_ms, job
        As in ``Outcomes``.
    """

    bounds: np.ndarray
    end_ms: np.ndarray
    start_ms: np.ndarray
    task_ms: np.ndarray
    job: np.ndarray


def _interval_starts(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Accepted times, replaced by the outcome time where missing or after it (clock skew)."""
    return np.where((start != MISSING_MS) & (start <= end), start, end)


def worker_tasks(outcomes: Outcomes, pool: Executor | None = None) -> WorkerTasks:
    """Group ``outcomes`` by worker, in outcome-time order inside each worker (see ``WorkerTasks``).

    The store keeps events in time order, so a stable grouping by worker is enough (one counting
    sort); otherwise the tasks are sorted by worker, then outcome time. With a ``pool``, half of
    the four gathers run on it (each is a scattered read of 10 million values).
    """
    n_workers = len(outcomes.worker_keys)
    worker, end = outcomes.worker, outcomes.end_ms
    with_worker = worker >= 0
    selected: np.ndarray | None = None
    if not bool(with_worker.all()):
        selected = np.flatnonzero(with_worker)
        worker, end = worker[selected], end[selected]
    del with_worker
    if len(end) < 2 or bool(np.all(end[1:] >= end[:-1])):
        order = _stable_sort_indices(worker)
    else:
        keys = pa.table({"worker": worker, "end": end})
        order = pc.sort_indices(keys, [("worker", "ascending"), ("end", "ascending")])
    bounds = _bounds_of(worker, n_workers)
    if selected is not None:
        order = pa.array(gather(selected, order))
    task_ms: Future[np.ndarray] | np.ndarray
    job: Future[np.ndarray] | np.ndarray
    if pool is not None:
        task_ms = pool.submit(gather, outcomes.task_ms, order)
        job = pool.submit(gather, outcomes.job, order)
    else:
        task_ms, job = gather(outcomes.task_ms, order), gather(outcomes.job, order)
    end_ms = gather(outcomes.end_ms, order)
    start_ms = _interval_starts(gather(outcomes.start_ms, order), end_ms)
    return WorkerTasks(
        bounds=bounds,
        end_ms=end_ms,
        start_ms=start_ms,
        task_ms=task_ms.result() if isinstance(task_ms, Future) else task_ms,
        job=job.result() if isinstance(job, Future) else job,
    )


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
    return outcomes.worker[timed], _interval_starts(outcomes.start_ms[timed], end), end


def sweep_intervals(
    group: np.ndarray, start: np.ndarray, end: np.ndarray, n_groups: int, gap_ms: float
) -> Sweep:
    """Merge each group's intervals (any order) in one vectorised pass; see ``sweep_sorted``."""
    keys = pa.table({"group": group, "end": end})
    order = pc.sort_indices(keys, [("group", "ascending"), ("end", "ascending")])
    bounds = _bounds_of(group, n_groups)
    return sweep_sorted(gather(start, order), gather(end, order), bounds, gap_ms)


def sweep_sorted(start: np.ndarray, end: np.ndarray, bounds: np.ndarray, gap_ms: float) -> Sweep:
    """Merge each group's intervals, already grouped (``bounds``) and in end order inside a group.

    Walking a group from its latest end backwards with a running minimum of starts: an interval
    adds ``min(end, later_start) - start`` of new coverage, where ``later_start`` is the earliest
    start among the group's later-ending intervals, and the uncovered ``later_start - end`` is a
    gap between tasks; a gap over ``gap_ms`` ends a session. Offsetting each group's times by
    ``group * span`` (``span`` longer than all the times plus the gap) lets one running minimum
    serve every group: a later group's starts are always larger, and the last interval of a group
    always sees a gap over ``gap_ms``.
    """
    n = len(end)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Sweep(bounds, start, end, empty, empty, np.zeros(0, dtype=bool))
    sizes = np.diff(bounds)
    origin = int(start.min())
    span = int(end.max()) - origin + int(gap_ms) + 2
    shifted = np.repeat(np.arange(len(sizes), dtype=np.int64) * span - origin, sizes)
    shifted += start
    later_start = np.empty(n, dtype=np.int64)
    later_start[-1] = len(sizes) * span  # past every group: the last interval ends its session
    # later_start[i] = min(shifted[i + 1:]): a running minimum over the reversed array.
    np.minimum.accumulate(shifted[:0:-1], out=later_start[-2::-1])
    later_start -= np.subtract(shifted, start, out=shifted)  # back from shifted times
    del shifted
    covered = np.minimum(end, later_start)
    covered -= start
    np.maximum(covered, 0, out=covered)
    gap = np.subtract(later_start, end, out=later_start)
    ends_session = gap > gap_ms
    np.maximum(gap, 0, out=gap)
    gap[ends_session] = 0
    return Sweep(
        bounds=bounds,
        start_ms=start,
        end_ms=end,
        covered_ms=covered,
        idle_ms=gap,
        ends_session=ends_session,
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
