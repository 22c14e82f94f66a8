"""Compiled loops of the metrics: the interval sweep, the (worker, job) layout, quantiles.

Each kernel is THE implementation of its rule (``sessions.sweep_sorted``,
``grouping.sliced_quantiles`` and ``workers.worker_part`` call them; there is no NumPy copy
beside them). They are compiled by Numba on first use and cached in ``__pycache__``
(``numba_options.NJIT_OPTIONS``, as ``analytics.ingest.fast_scan``); they release the GIL, so
two of them run side by side on a thread pool. Constants they need (the missing-time marker, the
day length) are arguments, not globals: Numba freezes globals into its cached code and would not
see them change in another module.

Why compiled: on 10 million events one pass over the events with per-worker state replaces a
grouping (a counting sort and four scattered gathers of 10 million values), and one scatter by
(worker, job) replaces a Python loop of per-worker sorts (``docs/performance.md``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from analytics import numba_options

_LOG = logging.getLogger(__name__)


def _jit(function: Callable[..., Any]) -> Any:
    """``njit`` with ``numba_options.NJIT_OPTIONS``, or without ``cache`` where Numba finds no
    folder to cache in (a read-only install run by a user without a home folder): each process
    then compiles on first use, seconds slower, and the numbers are the same (ingest instead reads
    every line the exact way, ``parse._line_scanner``). Said once, in the log."""
    global _uncached
    try:
        return numba.njit(**numba_options.NJIT_OPTIONS)(function)
    except RuntimeError as exc:  # "cannot cache function ...: no locator available"
        if not _uncached:
            _LOG.warning(
                "compiled metrics code is not cached (%s): it compiles in each process", exc
            )
            _uncached = True
        in_memory: numba_options.NjitOptions = {**numba_options.NJIT_OPTIONS, "cache": False}
        return numba.njit(**in_memory)(function)


#: Whether a kernel was compiled without a cache (see ``_jit``): the warning is said once.
_uncached = False


def read_only(values: np.ndarray, dtype: type) -> np.ndarray:
    """``values`` as every kernel takes an input array: C-contiguous, of ``dtype``, read-only.

    Numba compiles a kernel again for each new type of argument, and a read-only array, a strided
    view or ``int64`` codes where ``int32`` came before are new types: seconds of compiling in
    front of a user, the first time. Inputs passed through here give each kernel one compiled
    version, the one ``make install`` compiles ahead (``analytics.warm``). No copy when
    ``values`` is already C-contiguous of ``dtype``.
    """
    array: np.ndarray = np.ascontiguousarray(values, dtype=dtype)
    view = array.view()
    view.flags.writeable = False
    return view


@_jit
def interval_start(start: int, end: int, missing_ms: int) -> int:
    """The start of a task's interval: its accepted time, or its outcome time when the accepted
    time is missing or later than the outcome (clock skew)."""
    return start if start != missing_ms and start <= end else end


@_jit
def interval_starts(start: np.ndarray, end: np.ndarray, missing_ms: int, out: np.ndarray) -> None:
    """``interval_start`` of each task, into ``out``."""
    for i in range(len(end)):
        out[i] = interval_start(start[i], end[i], missing_ms)


@_jit
def task_durations(
    rows: np.ndarray,
    kind: np.ndarray,
    start: np.ndarray,
    submitted: np.ndarray,
    returned: np.ndarray,
    declined: np.ndarray,
    missing_ms: int,
    submitted_kind: int,
    returned_kind: int,
    task: np.ndarray,
    before_return: np.ndarray,
    skew: np.ndarray,
) -> None:
    """Task ms, ms before return and clock skew ms of each task (see ``outcomes.Outcomes``).

    Task ``t`` is event ``rows[t]`` (event ``t`` when ``rows`` is empty) of kind ``kind[t]``
    (``submitted_kind``, ``returned_kind`` or another: declined). Its own time is the time field
    of its kind (``submitted``, ``returned``, ``declined``: columns of every event in epoch
    ms). ``own - start``, when both are known (not ``missing_ms``), is the clock skew when
    negative, else the task ms of a submitted task or the ms before return of a returned one;
    every other value is NaN. The results go to ``task``, ``before_return`` and ``skew``.
    """
    for t in range(len(kind)):
        i = rows[t] if len(rows) else t
        k = kind[t]
        own = submitted[i] if k == submitted_kind else declined[i]
        if k == returned_kind:
            own = returned[i]
        accepted = start[i]
        task[t] = np.nan
        before_return[t] = np.nan
        skew[t] = np.nan
        if own != missing_ms and accepted != missing_ms:
            took = np.float64(own - accepted)
            if took < 0:
                skew[t] = took
            elif k == submitted_kind:
                task[t] = took
            elif k == returned_kind:
                before_return[t] = took


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
    covered: np.ndarray,
    idle: np.ndarray,
    ends_session: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Merge each group's intervals walking them from the latest end back (see ``sessions``).

    The intervals are ``[interval_start(start[i], end[i]), end[i]]`` of group ``group[i]``,
    visited in the order ``order`` (all positions in turn when ``order`` is empty); inside a
    group that order must be by ``end`` (ties in any order: the merged time does not depend on
    it). Intervals with a negative group or an ``end`` of ``missing_ms`` are left out. Walking
    back, each group keeps
    the earliest start of its later-ending intervals (``later_start``): an interval adds
    ``max(min(end, later_start) - start, 0)`` of coverage, and ``later_start - end`` is the gap
    to the group's next task: over ``gap_ms`` it ends a session (the group's last interval always
    does), otherwise its positive part is idle time.

    Per interval (at its input position), the covered and idle ms and whether it ends a session
    go to ``covered``, ``idle`` and ``ends_session`` when they are not empty. Returns per
    group: covered and idle ms and sessions (``int64``), the first
    and last ``end`` (``missing_ms`` for a group without intervals), and the number of distinct
    UTC days (``end // ms_per_day``) among its ends.
    """
    n = len(order) if len(order) else len(end)
    per_interval = len(covered) > 0
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
        s = interval_start(start[i], e, missing_ms)
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
    return active_sum, idle_sum, sessions, first, last, days


@_jit
def pair_counts(
    worker: np.ndarray,
    job: np.ndarray,
    values: np.ndarray,
    order: np.ndarray,
    n_workers: int,
    n_slots: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Where each (worker, job) pair's values go in ``pair_scatter``'s layout, and each worker's
    sum of values (NaN and negative workers left out).

    Pair ``worker * n_slots + job + 1`` (slot 0 of a worker holds its values without a job, code
    ``-1``; ``n_slots`` is at least the largest job code plus 2) will be
    ``laid[bounds[p]:bounds[p + 1]]``: pairs are worker-major, so each worker's values are
    contiguous too. The sums are added in the order ``order`` (all positions in turn when empty).
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
    return bounds, totals


@_jit
def pair_scatter(
    worker: np.ndarray,
    job: np.ndarray,
    values: np.ndarray,
    order: np.ndarray,
    n_slots: int,
    bounds: np.ndarray,
    laid: np.ndarray,
    pair_numbers: np.ndarray,
    block_values: np.ndarray,
    block_pairs: np.ndarray,
) -> None:
    """Lay ``values`` out in ``laid`` by (worker, job) pair as ``pair_counts`` planned
    (``bounds``), visiting them in ``order`` (all positions in turn when empty), which is kept
    inside a pair.

    Two scatters: first to blocks of ``BLOCK_PAIRS`` pairs (a few dozen places written at a
    time; ``pair_numbers`` holds each value's pair inside its block), then inside each block,
    copied to ``block_values`` and ``block_pairs`` (as long as the largest block), which fits
    in cache. One scatter straight to thousands of pairs was twice as slow (a cache and TLB miss
    per value).
    """
    n = len(order) if len(order) else len(values)
    n_pairs = len(bounds) - 1
    n_blocks = (n_pairs + BLOCK_PAIRS - 1) // BLOCK_PAIRS
    block_cursor = np.empty(n_blocks, dtype=np.int64)
    for b in range(n_blocks):
        block_cursor[b] = bounds[b * BLOCK_PAIRS]
    for step in range(n):
        i = order[step] if len(order) else step
        w = worker[i]
        v = values[i]
        if w >= 0 and not np.isnan(v):
            p = w * n_slots + job[i] + 1
            b = p // BLOCK_PAIRS
            laid[block_cursor[b]] = v
            pair_numbers[block_cursor[b]] = p - b * BLOCK_PAIRS
            block_cursor[b] += 1
    cursor = np.empty(BLOCK_PAIRS, dtype=np.int64)
    for b in range(n_blocks):
        first_pair = b * BLOCK_PAIRS
        last_pair = min(first_pair + BLOCK_PAIRS, n_pairs)
        low, high = bounds[first_pair], bounds[last_pair]
        size = high - low
        block_values[:size] = laid[low:high]
        block_pairs[:size] = pair_numbers[low:high]
        for p in range(last_pair - first_pair):
            cursor[p] = bounds[first_pair + p]
        for k in range(size):
            p = block_pairs[k]
            laid[cursor[p]] = block_values[k]
            cursor[p] += 1


#: Pairs per block of ``pair_scatter``'s first scatter (its pair numbers are ``uint16``).
BLOCK_PAIRS = 2048


@_jit
def _partition(values: np.ndarray, low: int, high: int) -> int:
    """Partition ``values[low:high + 1]`` around the median of its first, middle and last values;
    return the pivot's final position (smaller values before it, larger after).

    Numba's own ``np.partition`` step: regular on sorted, reverse-sorted and uniform slices.
    """
    mid = (low + high) >> 1
    if values[mid] < values[low]:
        values[low], values[mid] = values[mid], values[low]
    if values[high] < values[mid]:
        values[high], values[mid] = values[mid], values[high]
    if values[mid] < values[low]:
        values[low], values[mid] = values[mid], values[low]
    pivot = values[mid]
    values[high], values[mid] = values[mid], values[high]
    i = low
    j = high - 1
    while True:
        while i < high and values[i] < pivot:
            i += 1
        while j >= low and pivot < values[j]:
            j -= 1
        if i >= j:
            break
        values[i], values[j] = values[j], values[i]
        i += 1
        j -= 1
    values[i], values[high] = values[high], values[i]
    return i


@_jit
def _select(values: np.ndarray, k: int, low: int, high: int) -> None:
    """Put the ``k``-th smallest of ``values[low:high + 1]`` at ``k``, smaller values before it
    and larger after (in place). After a bounded number of partitions (values crafted against
    the pivot choice) the rest is sorted instead: never quadratic."""
    rounds = 0
    limit = 8
    size = high - low + 1
    while size > 1:
        size >>= 1
        limit += 2
    while high > low:
        if rounds > limit:
            part = values[low : high + 1]
            part[:] = part[np.argsort(part, kind="mergesort")]
            return
        i = _partition(values, low, high)
        if i == k:
            return
        if i < k:
            low = i + 1
        else:
            high = i - 1
        rounds += 1


@_jit
def slice_quantiles(
    values: np.ndarray,
    bounds: np.ndarray,
    groups: np.ndarray,
    quantiles: np.ndarray,
    scratch: np.ndarray,
) -> np.ndarray:
    """Quantiles (linear interpolation, NumPy's default) of ``values[bounds[g]:bounds[g + 1]]``
    for each ``g`` in ``groups``; see ``grouping.sliced_quantiles``.

    A quantile ``q`` of ``count`` values sits at ``q * (count - 1)`` in sorted order: the values
    at its floor and the next position (``_neighbours``: exact order statistics, whatever the
    selection algorithm), weighted by its fraction. Rows of the
    result follow ``groups``; ``values`` is not changed (``scratch``, as long as the longest
    slice, is). ``values`` must hold no NaN.
    """
    n_quantiles = len(quantiles)
    out = np.full((len(groups), n_quantiles), np.nan)
    for row in range(len(groups)):
        g = groups[row]
        low_bound = bounds[g]
        count = bounds[g + 1] - low_bound
        if count <= 0:
            continue
        part = values[low_bound : low_bound + count]
        last = count - 1
        for j in range(n_quantiles):
            position = quantiles[j] * last
            lower_float = np.floor(position)
            weight = position - lower_float
            lower = int(lower_float)
            low_value, high_value = _neighbours(part, lower, scratch)
            if lower == last:
                high_value = low_value
            out[row, j] = low_value + (high_value - low_value) * weight
    return out


#: Slices shorter than this are selected directly; longer ones are first narrowed by a sample.
_NARROW_FROM = 512


@_jit
def _neighbours(part: np.ndarray, k: int, scratch: np.ndarray) -> tuple[float, float]:
    """The ``k``-th and ``k + 1``-th smallest of ``part`` (the ``k``-th twice when ``k`` is the
    last position); ``part`` is not changed.

    A long slice is narrowed first (as in Floyd and Rivest's selection): two values of a
    regular sample of it, just below and above the sample's own ``k``-th position, bound a
    band; one pass counts the values below the band and copies the band's values. When both
    positions fall inside the band they are selected among its values only (a small fraction of
    the slice); otherwise, and for short slices, the whole slice is copied and selected.
    Either way the values are exact order statistics.
    """
    count = len(part)
    upper = min(k + 1, count - 1)
    if count >= _NARROW_FROM:
        n_sample = 64
        while n_sample * n_sample < 2 * count and n_sample < 1024:
            n_sample *= 2
        sample = np.empty(n_sample, dtype=np.float64)
        for i in range(n_sample):
            sample[i] = part[(i * count) // n_sample]
        sample.sort()
        centre = (k * n_sample) // count
        margin = int(np.sqrt(n_sample)) + 2
        below = sample[max(centre - margin, 0)]
        above = sample[min(centre + margin, n_sample - 1)]
        n_below = 0
        n_band = 0
        for i in range(count):
            # Without branches (each value is written, and kept by moving on when in the band):
            # which side a value falls on is a coin toss that a branch would mispredict.
            v = part[i]
            n_below += v < below
            scratch[n_band] = v
            n_band += (v >= below) & (v <= above)
        if n_below <= k and upper < n_below + n_band:
            return _select_pair(scratch, k - n_below, upper - n_below, n_band)
    scratch[:count] = part
    return _select_pair(scratch, k, upper, count)


@_jit
def _select_pair(values: np.ndarray, k: int, upper: int, count: int) -> tuple[float, float]:
    """The ``k``-th and ``upper``-th (``k`` or ``k + 1``) smallest of ``values[:count]``
    (reordered in place)."""
    _select(values, k, 0, count - 1)
    low_value = values[k]
    if upper == k:
        return low_value, low_value
    return low_value, values[k + 1 : count].min()


# Numba itself only watches this file: a change of the options compiles the kernels afresh.
numba_options.forget_stale_compiled_code(sys.modules[__name__], (numba_options,))
