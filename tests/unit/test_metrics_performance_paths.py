"""The fast paths of the per-worker table against simple reference computations.

``worker_summary`` walks the tasks in time order with per-worker state (``kernels.sweep_walk``,
the merge ``analytics.metrics.sessions.sweep_sorted`` also uses) and lays task times out by
(worker, job) pair (``kernels.pair_scatter``); these tests pin the branches the hand-worked
cases of ``test_metrics.py`` do not reach: events out of time order, tasks without a time,
groups without tasks, and the integer helpers (``analytics.metrics.grouping``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from analytics.dataset import events_frame, team_data_from_tables
from analytics.metrics.grouping import group_sums, pair_codes
from analytics.metrics.sessions import sweep_sorted
from analytics.metrics.workers import worker_summary

BASE_MS = 1_790_000_000_000


def _random_events(rng: np.random.Generator, count: int) -> pd.DataFrame:
    """Outcome events of a few workers with overlapping tasks, skew and missing times."""
    end = BASE_MS + np.sort(rng.integers(0, 3 * 86_400_000, count))
    start = end - rng.integers(0, 3_600_000, count)
    start[rng.random(count) < 0.1] += 7_200_000  # accepted after the outcome: clock skew
    kind = rng.choice(
        ["TasksSubmitted", "TasksReturned", "TasksDeclined"], count, p=[0.8, 0.15, 0.05]
    )

    def times(values: np.ndarray, missing: np.ndarray) -> pd.Series:
        series = pd.Series(pd.to_datetime(values, unit="ms", utc=True)).dt.as_unit("ms")
        return series.where(~missing)

    workers = np.array([f"w{i}" for i in rng.integers(0, 4, count)], dtype=object)
    return pd.DataFrame(
        {
            "worker_key": workers,
            "worker_id": workers,
            "event_type": kind,
            "event_time": times(end, np.zeros(count, dtype=bool)),
            "task_accepted_time": times(start, rng.random(count) < 0.1),
            "task_submitted_time": times(end, kind != "TasksSubmitted"),
            "task_returned_time": times(end, kind != "TasksReturned"),
            "task_declined_time": times(end, kind != "TasksDeclined"),
            "labeling_job_name": rng.choice(["job-a", "job-b"], count),
            "workteam_name": "team",
            "source": "test",
        }
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_worker_summary_does_not_depend_on_event_order(seed: int) -> None:
    rng = np.random.default_rng(seed)
    events = _random_events(rng, 300)
    shuffled = events.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    in_order = worker_summary(team_data_from_tables(events))
    out_of_order = worker_summary(team_data_from_tables(shuffled))
    pd.testing.assert_frame_equal(in_order, out_of_order, check_exact=False, rtol=1e-12)


def test_tasks_without_time_count_but_add_no_activity() -> None:
    events = _random_events(np.random.default_rng(5), 60)
    without_time = events.copy()
    without_time.loc[::7, ["event_time", "task_submitted_time", "task_returned_time"]] = pd.NaT
    without_time.loc[::7, "task_declined_time"] = pd.NaT
    summary = worker_summary(team_data_from_tables(without_time)).set_index("worker_key")
    timed = without_time.dropna(subset=["event_time"])
    reference = worker_summary(team_data_from_tables(timed)).set_index("worker_key")
    counts = without_time.groupby("worker_key")["event_type"].value_counts().unstack(fill_value=0)
    assert (summary["tasks_submitted"] == counts["TasksSubmitted"]).all()
    for column in ("active_hours", "session_count", "idle_minutes", "active_days"):
        assert summary[column].equals(reference.loc[summary.index, column]), column


def _reference_sweep(start: list[int], end: list[int], gap_ms: float) -> tuple[int, int, int]:
    """Union length, session count and idle ms of one worker's intervals, the obvious way."""
    intervals = sorted(zip(start, end, strict=True))
    covered = idle = 0
    sessions = 0
    current_end: int | None = None
    for low, high in intervals:
        if current_end is None or low - current_end > gap_ms:
            sessions += 1
        elif low > current_end:
            idle += low - current_end
        if current_end is None or low > current_end:
            covered += high - low
        elif high > current_end:
            covered += high - current_end
        current_end = high if current_end is None else max(current_end, high)
    return covered, sessions, idle


@pytest.mark.parametrize("seed", range(5))
def test_sweep_matches_a_plain_interval_union(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, 30, 6)  # some groups are empty
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    starts, ends = [], []
    for size in sizes:
        end = np.sort(rng.integers(0, 20_000, size))
        starts.append(end - rng.integers(0, 3_000, size))
        ends.append(end)
    start, end = np.concatenate(starts), np.concatenate(ends)
    sweep = sweep_sorted(start, end, bounds, gap_ms=1_000.0)
    covered = group_sums(sweep.covered_ms, bounds)
    sessions = group_sums(sweep.ends_session, bounds)
    idle = group_sums(sweep.idle_ms, bounds)
    for group in range(len(sizes)):
        expected = _reference_sweep(list(starts[group]), list(ends[group]), 1_000.0)
        assert (covered[group], sessions[group], idle[group]) == expected


def test_group_sums_with_empty_groups() -> None:
    bounds = np.array([0, 0, 3, 3, 5, 5])
    values = np.array([1, 2, 3, 4, 5])
    assert group_sums(values, bounds).tolist() == [0, 6, 0, 9, 0]
    assert group_sums(np.zeros(0, dtype=np.int64), np.zeros(3, dtype=np.int64)).tolist() == [0, 0]


def test_pair_codes_do_not_overflow() -> None:
    first = np.array([0, 70_000], dtype=np.int32)
    second = np.array([1, 69_999], dtype=np.int32)
    codes = pair_codes(first, second, 70_000)
    assert codes.dtype == np.int64
    assert codes.tolist() == [1, 70_000 * 70_000 + 69_999]
    small = np.array([-1, 100], dtype=np.int8)  # pandas' own codes can be this narrow
    assert pair_codes(small, small, 3).tolist() == [-4, 400]


def test_events_frame_fills_missing_text_columns_with_empty_categories() -> None:
    frame = events_frame(pa.table({"worker_key": ["a", "b"], "event_type": ["x", "y"]}))
    missing = frame["workteam_name"]
    assert isinstance(missing.dtype, pd.CategoricalDtype)
    assert missing.isna().all()
    assert len(missing) == 2
    assert str(frame["event_time"].dtype) == "datetime64[ms, UTC]"
