"""Compiled loops of the metrics: the interval sweep, the (worker, job) layout, quantiles.

Each kernel is THE implementation of its rule (``sessions.sweep_sorted``,
``grouping.sliced_quantiles`` and ``workers.worker_part`` call them; there is no NumPy copy
beside them). They are compiled by Numba on first use and cached in ``__pycache__``
(``njit(nogil=True, cache=True, boundscheck=False)``, as ``analytics.ingest.fast_scan``); they
release the GIL, so two of them run side by side on a thread pool. Constants they need (the
missing-time marker, the day length) are arguments, not globals: Numba freezes globals into its
cached code and would not see them change in another module.

Why compiled: on 10 million events one pass over the events with per-worker state replaces a
grouping (a counting sort and four scattered gathers of 10 million values), and one scatter by
(worker, job) replaces a Python loop of per-worker sorts (``docs/performance.md``).
"""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(nogil=True, cache=True, boundscheck=False)


@_jit
def sweep_walk(
    group: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    order: np.ndarray,
    n_groups: int,
    gap_ms: float,
    missing_ms: int,
    ms_per_day: int,
    per_interval: bool,
) -> tuple[np.ndarray, ...]:
    """Merge each group's intervals walking them from the latest end back (see ``sessions``).

    The intervals are ``[start[i], end[i]]`` of group ``group[i]``, visited in the order
    ``order`` (all positions in turn when ``order`` is empty); inside a group that order must be
    by ``end`` (ties in any order: the merged time does not depend on it). Intervals with a
    negative group or an ``end`` of ``missing_ms`` are left out. Walking back, each group keeps
    the earliest start of its later-ending intervals (``later_start``): an interval adds
    ``max(min(end, later_start) - start, 0)`` of coverage, and ``later_start - end`` is the gap
    to the group's next task: over ``gap_ms`` it ends a session (the group's last interval always
    does), otherwise its positive part is idle time.

    Returns ``(covered, idle, ends_session)`` per interval (in input positions; empty unless
    ``per_interval``), then per group: covered and idle ms and sessions (``int64``), the first
    and last ``end`` (``missing_ms`` for a group without intervals), and the number of distinct
    UTC days (``end // ms_per_day``) among its ends.
    """
    n = len(order) if len(order) else len(end)
    size = len(end) if per_interval else 0
    covered = np.zeros(size, dtype=np.int64)
    idle = np.zeros(size, dtype=np.int64)
    ends_session = np.zeros(size, dtype=np.bool_)
    active_sum = np.zeros(n_groups, dtype=np.int64)
    idle_sum = np.zeros(n_groups, dtype=np.int64)
    sessions = np.zeros(n_groups, dtype=np.int64)
    first = np.full(n_groups, missing_ms, dtype=np.int64)
    last = np.full(n_groups, missing_ms, dtype=np.int64)
    days = np.zeros(n_groups, dtype=np.int64)
    later_start = np.zeros(n_groups, dtype=np.int64)
    day_seen = np.zeros(n_groups, dtype=np.int64)
    seen = np.zeros(n_groups, dtype=np.bool_)
    for step in range(n - 1, -1, -1):
        i = order[step] if len(order) else step
        g = group[i]
        e = end[i]
        if g < 0 or e == missing_ms:
            continue
        s = start[i]
        day = e // ms_per_day
        if seen[g]:
            later = later_start[g]
            cover = min(e, later) - s
            gap = later - e
            ends = gap > gap_ms
            gap = 0 if ends or gap < 0 else gap
            if s < later:
                later_start[g] = s
            if day != day_seen[g]:
                days[g] += 1
                day_seen[g] = day
        else:
            seen[g] = True
            cover = e - s
            gap = 0
            ends = True
            later_start[g] = s
            last[g] = e
            days[g] = 1
            day_seen[g] = day
        cover = cover if cover > 0 else 0
        first[g] = e
        active_sum[g] += cover
        idle_sum[g] += gap
        if ends:
            sessions[g] += 1
        if per_interval:
            covered[i] = cover
            idle[i] = gap
            ends_session[i] = ends
    return covered, idle, ends_session, active_sum, idle_sum, sessions, first, last, days


@_jit
def pair_layout(
    worker: np.ndarray,
    job: np.ndarray,
    values: np.ndarray,
    order: np.ndarray,
    n_workers: int,
    n_slots: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``values`` (NaN and negative workers left out) laid out by (worker, job) pair.

    Pair ``worker * n_slots + job + 1`` (slot 0 of a worker holds its values without a job, code
    ``-1``; ``n_slots`` is at least the largest job code plus 2) is
    ``laid[bounds[p]:bounds[p + 1]]``: pairs are worker-major,
    so each worker's values are contiguous too. One counting pass and one scatter, visiting the
    positions in ``order`` (all in turn when empty). Also returns each worker's sum of values,
    added in that order.
    """
    n = len(order) if len(order) else len(values)
    bounds = np.zeros(n_workers * n_slots + 1, dtype=np.int64)
    totals = np.zeros(n_workers, dtype=np.float64)
    for step in range(n):
        i = order[step] if len(order) else step
        w = worker[i]
        v = values[i]
        if w >= 0 and not np.isnan(v):
            bounds[w * n_slots + job[i] + 2] += 1
            totals[w] += v
    for p in range(1, len(bounds)):
        bounds[p] += bounds[p - 1]
    cursor = bounds[:-1].copy()
    laid = np.empty(bounds[-1], dtype=np.float64)
    for step in range(n):
        i = order[step] if len(order) else step
        w = worker[i]
        v = values[i]
        if w >= 0 and not np.isnan(v):
            p = w * n_slots + job[i] + 1
            laid[cursor[p]] = v
            cursor[p] += 1
    return laid, bounds, totals


@_jit
def slice_quantiles(
    values: np.ndarray, bounds: np.ndarray, groups: np.ndarray, quantiles: np.ndarray
) -> np.ndarray:
    """Quantiles (linear interpolation, NumPy's default) of ``values[bounds[g]:bounds[g + 1]]``
    for each ``g`` in ``groups``; see ``grouping.sliced_quantiles``.

    A quantile ``q`` of ``count`` values sits at ``q * (count - 1)`` in sorted order: the values
    at its floor and the next position, weighted by its fraction, read after one
    ``np.partition`` (exact order statistics, whatever the selection algorithm). Rows of the
    result follow ``groups``; ``values`` is not changed.
    """
    n_quantiles = len(quantiles)
    out = np.full((len(groups), n_quantiles), np.nan)
    lower = np.empty(n_quantiles, dtype=np.int64)
    upper = np.empty(n_quantiles, dtype=np.int64)
    weight = np.empty(n_quantiles, dtype=np.float64)
    kth = np.empty(2 * n_quantiles, dtype=np.int64)
    for row in range(len(groups)):
        g = groups[row]
        low_bound = bounds[g]
        count = bounds[g + 1] - low_bound
        if count <= 0:
            continue
        last = count - 1
        for j in range(n_quantiles):
            position = quantiles[j] * last
            lower_float = np.floor(position)
            weight[j] = position - lower_float
            lower[j] = np.int64(lower_float)
            upper[j] = min(lower[j] + 1, last)
            kth[j] = lower[j]
            kth[n_quantiles + j] = upper[j]
        ordered = np.partition(values[low_bound : low_bound + count], kth)
        for j in range(n_quantiles):
            low_value = ordered[lower[j]]
            high_value = ordered[upper[j]]
            out[row, j] = low_value + (high_value - low_value) * weight[j]
    return out
