"""The compiled kernels of the metrics (``analytics.metrics.kernels``) against plain references.

Each kernel is the one implementation of its rule, so the references here are written the slow,
obvious way: a sorted copy for quantiles, a dictionary of lists for the (worker, job) layout, a
per-worker loop for the sweep. Values must match to the bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from analytics.metrics import kernels
from analytics.metrics.grouping import sliced_quantiles
from analytics.metrics.outcomes import MISSING_MS, MS_PER_DAY
from analytics.metrics.sessions import interval_starts

QUANTILES = [0.5, 0.9, 0.1, 0.0, 1.0, 0.333]


def _reference_quantiles(values: np.ndarray, quantiles: list[float]) -> list[float]:
    """``low + (high - low) * weight`` on a sorted copy: ``sliced_quantiles``' definition."""
    ordered = np.sort(values)
    last = len(ordered) - 1
    result = []
    for q in quantiles:
        position = q * last
        lower = int(np.floor(position))
        weight = position - np.floor(position)
        low, high = ordered[lower], ordered[min(lower + 1, last)]
        result.append(low + (high - low) * weight)
    return result


def _sample_fooling(count: int) -> np.ndarray:
    """Zeros, except large values exactly where the narrowing samples: the band misses the
    median, so the whole slice is selected instead."""
    values = np.zeros(count)
    for i in range(64):
        values[(i * count) // 64] = 1e6 + i
    return values


QUANTILE_CASES = {
    "one value": np.array([7.0]),
    "two values": np.array([9.0, 3.0]),
    "short, ties": np.array([5.0, 1.0, 5.0, 5.0, 2.0, 1.0]),
    "long, random": np.random.default_rng(0).integers(0, 10**6, 5_000).astype(float),
    "long, few distinct": np.random.default_rng(1).integers(0, 3, 2_000).astype(float),
    "long, all equal": np.full(1_500, 42.0),
    "long, sorted": np.arange(3_000, dtype=float),
    "long, reversed": np.arange(3_000, dtype=float)[::-1].copy(),
    "long, sample fooled": _sample_fooling(1_000),
    "long, huge and fractional": np.random.default_rng(2).random(4_000) * 1e15,
}


@pytest.mark.parametrize("values", QUANTILE_CASES.values(), ids=QUANTILE_CASES.keys())
def test_quantiles_are_exact_order_statistics_interpolated(values: np.ndarray) -> None:
    before = values.copy()
    bounds = np.array([0, len(values)])
    got = sliced_quantiles(values, bounds, QUANTILES)[0]
    assert got.tobytes() == np.array(_reference_quantiles(values, QUANTILES)).tobytes()
    assert np.array_equal(values, before)  # the input is not reordered


def test_quantiles_of_many_slices_and_only_some() -> None:
    rng = np.random.default_rng(3)
    sizes = rng.choice([0, 1, 5, 600, 2_000], 40)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    values = rng.integers(0, 500, int(bounds[-1])).astype(float)
    only = np.flatnonzero(sizes != 600)  # slices not asked for stay NaN
    got = sliced_quantiles(values, bounds, [0.5, 0.9], only=only)
    for group, size in enumerate(sizes):
        if size == 0 or group not in only:
            assert np.isnan(got[group]).all()
        else:
            piece = values[bounds[group] : bounds[group + 1]]
            assert (
                got[group].tobytes() == np.array(_reference_quantiles(piece, [0.5, 0.9])).tobytes()
            )


def _pivot_killer(count: int, k: int) -> np.ndarray:
    """Ranks ``0..count - 1`` placed so that ``kernels._partition``'s pivot (the median of a
    slice's first, middle and last values) is always the second smallest of the slice still
    searched: each partition sets aside two values only, and selecting the ``k``-th smallest would
    take about ``k / 2`` partitions (quadratic).

    Played against the partition round by round: the two smallest ranks not given yet go to the
    slice's first and middle places, every other place holds a larger rank (given at the end).
    The partition then swaps the middle (the pivot) with the last place and the last with the
    second place, where the pivot stays; the search goes on right of it.
    """
    holder = np.arange(count)  # the input position of the value at each place, as they move
    rank = np.full(count, -1)
    given = 0
    low, high = 0, count - 1
    while low + 1 < k and high - low > 2:
        mid = (low + high) >> 1
        rank[holder[low]], rank[holder[mid]] = given, given + 1
        given += 2
        holder[[mid, high]] = holder[[high, mid]]
        holder[[low + 1, high]] = holder[[high, low + 1]]
        low += 2
    rest = rank < 0
    rank[rest] = given + np.arange(np.count_nonzero(rest))
    return rank.astype(float)


def test_quantiles_of_values_crafted_against_the_pivot_fall_back_to_sorting_and_are_exact() -> None:
    # 301 values: the median is the 150th smallest; partitions set aside two values each, so
    # selecting it passes the kernel's bound (8 + 2 * 8 partitions for 301 values) long before it
    # would end, and the rest of the slice is sorted instead. Fewer than 512 values: selected
    # directly, without the sample's narrowing.
    values = _pivot_killer(301, 150)
    quantiles = [0.5, 0.25, 0.75, 0.9, 0.0, 1.0]
    got = sliced_quantiles(values, np.array([0, len(values)]), quantiles)[0]
    assert got.tobytes() == np.quantile(values, quantiles, method="linear").tobytes()


@pytest.mark.parametrize("with_order", [False, True], ids=["input order", "given order"])
def test_pair_layout_puts_each_pair_and_worker_together(with_order: bool) -> None:
    rng = np.random.default_rng(4)
    n, n_workers, n_jobs = 5_000, 7, 5
    worker = rng.integers(-1, n_workers, n).astype(np.int32)  # -1: no worker, left out
    job = rng.integers(-1, n_jobs, n).astype(np.int32)  # -1: no job, slot 0
    values = rng.integers(0, 1_000, n).astype(float)
    values[rng.random(n) < 0.2] = np.nan  # left out
    order = rng.permutation(n).astype(np.int64) if with_order else np.zeros(0, dtype=np.int64)
    n_slots = n_jobs + 1
    # A tiny block size would change nothing but speed: the kernel's own one is used, so 3,000
    # pairs make several blocks.
    n_slots_wide = kernels.BLOCK_PAIRS // n_workers + 3
    for slots in (n_slots, n_slots_wide):
        bounds, totals = kernels.pair_counts(worker, job, values, order, n_workers, slots)
        laid = np.empty(int(bounds[-1]))
        block = int(np.diff(np.append(bounds[:: kernels.BLOCK_PAIRS], bounds[-1])).max())
        kernels.pair_scatter(
            worker,
            job,
            values,
            order,
            slots,
            bounds,
            laid,
            np.empty(len(laid), dtype=np.uint16),
            np.empty(block),
            np.empty(block, dtype=np.uint16),
        )
        expected: dict[int, list[float]] = {}
        expected_totals = np.zeros(n_workers)
        for i in order if with_order else range(n):
            if worker[i] >= 0 and not np.isnan(values[i]):
                expected.setdefault(int(worker[i]) * slots + int(job[i]) + 1, []).append(values[i])
                expected_totals[worker[i]] += values[i]
        for pair in range(n_workers * slots):
            assert laid[bounds[pair] : bounds[pair + 1]].tolist() == expected.get(pair, [])
        assert totals.tobytes() == expected_totals.tobytes()


def _reference_worker_sweep(
    start: list[int], end: list[int], gap_ms: float
) -> tuple[int, int, int, int]:
    """Covered ms, idle ms, sessions and UTC days of one worker's intervals, merged forwards."""
    intervals = sorted(zip(start, end, strict=True))
    covered = idle = 0
    sessions = 1
    reach_start, reach_end = intervals[0]
    for s, e in intervals[1:]:
        if s > reach_end:
            covered += reach_end - reach_start
            if s - reach_end > gap_ms:
                sessions += 1
            else:
                idle += s - reach_end
            reach_start, reach_end = s, e
        else:
            reach_end = max(reach_end, e)
    covered += reach_end - reach_start
    return covered, idle, sessions, len({e // MS_PER_DAY for e in end})


@pytest.mark.parametrize("seed", range(4))
def test_sweep_walk_per_worker_matches_a_forward_merge(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, n_workers = 400, 5
    end = 1_790_000_000_000 + np.sort(rng.integers(0, 4 * MS_PER_DAY, n))
    accepted = end - rng.integers(0, 4_000_000, n)
    accepted[rng.random(n) < 0.1] += 9_000_000  # after the outcome: an instant
    accepted[rng.random(n) < 0.1] = MISSING_MS  # an instant too
    end[rng.random(n) < 0.05] = MISSING_MS  # no time: left out
    worker = rng.integers(-1, n_workers, n).astype(np.int32)
    start = interval_starts(accepted, end)
    nothing = np.zeros(0, dtype=np.int64)
    gap_ms = 1_800_000.0
    order = nothing
    if seed % 2:  # out of time order, with the order that sorts them
        shuffle = rng.permutation(n)
        worker, accepted, end, start = (
            worker[shuffle],
            accepted[shuffle],
            end[shuffle],
            start[shuffle],
        )
        order = np.argsort(end, kind="stable")
    active, idle, sessions, first, last, days = kernels.sweep_walk(
        worker,
        accepted,
        end,
        order,
        n_workers,
        gap_ms,
        MISSING_MS,
        MS_PER_DAY,
        nothing,
        nothing,
        np.zeros(0, dtype=bool),
    )
    for w in range(n_workers):
        mine = (worker == w) & (end != MISSING_MS)
        if not mine.any():
            assert (active[w], idle[w], sessions[w], days[w]) == (0, 0, 0, 0)
            assert first[w] == last[w] == MISSING_MS
            continue
        expected = _reference_worker_sweep(start[mine].tolist(), end[mine].tolist(), gap_ms)
        assert (active[w], idle[w], sessions[w], days[w]) == expected
        assert (first[w], last[w]) == (end[mine].min(), end[mine].max())


GAP_CASES = {
    # (starts, ends) of one worker, gap 100 ms -> (covered, idle, sessions)
    "gap of exactly the limit is idle": ([0, 150], [50, 200], (100, 100, 1)),
    "one ms more ends a session": ([0, 151], [50, 200], (99, 0, 2)),
    "overlap merges": ([0, 20], [50, 80], (80, 0, 1)),
    "contained interval adds nothing": ([0, 10], [100, 20], (100, 0, 1)),
    "instants at the same time": ([5, 5], [5, 5], (0, 0, 1)),
}


@pytest.mark.parametrize(("starts", "ends", "expected"), GAP_CASES.values(), ids=GAP_CASES.keys())
def test_sweep_walk_gap_rules(
    starts: list[int], ends: list[int], expected: tuple[int, int, int]
) -> None:
    order = np.argsort(ends, kind="stable")
    start, end = np.array(starts)[order], np.array(ends)[order]
    nothing = np.zeros(0, dtype=np.int64)
    active, idle, sessions, *_ = kernels.sweep_walk(
        np.zeros(len(end), dtype=np.int32),
        start,
        end,
        nothing,
        1,
        100.0,
        MISSING_MS,
        MS_PER_DAY,
        nothing,
        nothing,
        np.zeros(0, dtype=bool),
    )
    assert (active[0], idle[0], sessions[0]) == expected
