"""Benchmark: the per-worker table on 10 million synthetic events, against DuckDB SQL.

Usage (from the repository root)::

    .venv/bin/python -m bench.bench_metrics                      # 10 million events
    .venv/bin/python -m bench.bench_metrics --events 1000000 --workers 500

The synthetic events look like a store's: sorted by ``event_time`` (the store writes each day's
partition sorted), text columns dictionary-encoded. They are generated once and written to an
Arrow file; then two fresh processes, one after the other, read that file and measure:

- **pandas**: read the file, build a ``TeamData`` (``team_data_from_tables``, what
  ``load_team_data`` does after reading Parquet), drop the Arrow table, run ``worker_summary``
  ``--repeat`` times. Reports the load time, the best and every ``worker_summary`` time (wall and
  CPU, to tell a slow run from a busy machine), and the process's peak resident memory: the
  "load + summary" figure the issue targets (under 2 GB).
- **DuckDB**: read the same file, run the same aggregation in SQL (counts, mean, median, p90,
  first/last activity, active days, active hours as the union of task intervals, sessions, idle
  time, the per-job modified z-score slow flag) ``--repeat`` times, with its own peak memory.

Separate processes keep each side's peak memory its own. The script then checks that both
results agree on every compared column, prints a markdown section and writes
``bench/results/metrics.json``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics import Thresholds, worker_summary
from analytics.dataset import team_data_from_tables
from bench.machine import (
    describe_machine,
    in_fresh_process,
    load_average,
    peak_rss_mb,
    write_results,
)

START_MS = 1_790_000_000_000  # 2026-09-21
DAY_MS = 86_400_000


def synthetic_events(n_events: int, n_workers: int, n_jobs: int, days: int, seed: int) -> pa.Table:
    """``n_events`` outcome events over ``days`` days, sorted by outcome time."""
    rng = np.random.default_rng(seed)
    end_ms = np.sort(rng.integers(START_MS, START_MS + days * DAY_MS, n_events))
    worker = rng.integers(0, n_workers, n_events).astype(np.int32)
    # Each worker sticks to a few jobs, and jobs differ in task time by orders of magnitude.
    job = ((worker.astype(np.int64) * 7 + rng.integers(0, 3, n_events)) % n_jobs).astype(np.int32)
    job_median_s = np.exp(rng.uniform(np.log(5), np.log(600), n_jobs))
    worker_speed = np.where(rng.random(n_workers) < 0.01, 2.5, rng.lognormal(0, 0.1, n_workers))
    seconds = job_median_s[job] * worker_speed[worker] * rng.lognormal(0, 0.5, n_events)
    start_ms = end_ms - (seconds * 1000).astype(np.int64)
    kind = rng.choice(3, size=n_events, p=[0.977, 0.02, 0.003]).astype(np.int32)
    missing_accept = rng.random(n_events) < 0.01
    skew = rng.random(n_events) < 0.001
    start_ms = np.where(skew, end_ms + 60_000, start_ms)

    def times(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
        stamps = values.astype("datetime64[ms]")
        return pa.array(stamps, type=pa.timestamp("ms", tz="UTC"), mask=mask)

    def text(codes: np.ndarray, names: list[str]) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(names))

    workers = [f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(n_workers)]
    jobs = [f"job-{i:03d}" for i in range(n_jobs)]
    teams = [f"team-{i:02d}" for i in range(max(n_jobs // 5, 1))]
    types = ["TasksSubmitted", "TasksReturned", "TasksDeclined"]
    return pa.table(
        {
            "worker_key": text(worker, workers),
            "worker_id": text(worker, [f"{i:016x}" for i in range(n_workers)]),
            "cognito_sub_id": text(worker, workers),
            "event_type": text(kind, types),
            "event_time": times(end_ms),
            "task_accepted_time": times(start_ms, missing_accept),
            "task_submitted_time": times(end_ms, kind != 0),
            "task_returned_time": times(end_ms, kind != 1),
            "task_declined_time": times(end_ms, kind != 2),
            "workteam_name": text((job // 5).astype(np.int32), teams),
            "labeling_job_name": text(job, jobs),
            "source": text(np.zeros(n_events, dtype=np.int32), ["bench"]),
        }
    )


DUCKDB_SQL = """
WITH o AS (
    SELECT
        CAST(worker_key AS VARCHAR) AS worker_key,
        CAST(labeling_job_name AS VARCHAR) AS job,
        CAST(event_type AS VARCHAR) AS event_type,
        epoch_ms(event_time) AS end_ms,
        CASE WHEN task_accepted_time IS NOT NULL AND task_accepted_time <= event_time
             THEN epoch_ms(task_accepted_time) ELSE epoch_ms(event_time) END AS start_ms,
        CASE WHEN CAST(event_type AS VARCHAR) = 'TasksSubmitted'
                  AND task_submitted_time >= task_accepted_time
             THEN epoch_ms(task_submitted_time) - epoch_ms(task_accepted_time) END AS task_ms,
        CASE WHEN CAST(event_type AS VARCHAR) = 'TasksReturned'
                  AND task_returned_time >= task_accepted_time
             THEN epoch_ms(task_returned_time) - epoch_ms(task_accepted_time) END AS return_ms
    FROM events
    WHERE CAST(event_type AS VARCHAR) IN ('TasksSubmitted', 'TasksReturned', 'TasksDeclined')
),
counts AS (
    SELECT worker_key,
        count(*) FILTER (WHERE event_type = 'TasksSubmitted') AS tasks_submitted,
        count(*) FILTER (WHERE event_type = 'TasksReturned') AS tasks_returned,
        count(*) FILTER (WHERE event_type = 'TasksDeclined') AS tasks_declined,
        avg(task_ms) / 1000.0 AS mean_task_seconds,
        quantile_cont(task_ms, 0.5) / 1000.0 AS median_task_seconds,
        quantile_cont(task_ms, 0.9) / 1000.0 AS p90_task_seconds,
        avg(return_ms) / 1000.0 AS mean_seconds_before_return,
        min(end_ms) AS first_ms, max(end_ms) AS last_ms,
        count(DISTINCT end_ms // 86400000) AS active_days
    FROM o GROUP BY worker_key
),
intervals AS (
    SELECT worker_key, start_ms, end_ms,
        max(end_ms) OVER (PARTITION BY worker_key ORDER BY start_ms, end_ms
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_end
    FROM o
),
coverage AS (
    SELECT worker_key,
        sum(greatest(end_ms - greatest(start_ms, coalesce(previous_end, start_ms)), 0))
            / 3600000.0 AS active_hours,
        count(*) FILTER (WHERE previous_end IS NULL OR start_ms - previous_end > $gap)
            AS session_count,
        coalesce(sum(start_ms - previous_end) FILTER (
            WHERE start_ms > previous_end AND start_ms - previous_end <= $gap), 0)
            / 60000.0 AS idle_minutes
    FROM intervals GROUP BY worker_key
),
pairs AS (
    SELECT worker_key, job, median(task_ms) AS median_ms
    FROM o WHERE task_ms IS NOT NULL GROUP BY worker_key, job HAVING count(*) >= $min_tasks
),
job_medians AS (SELECT job, median(median_ms) AS job_median FROM pairs GROUP BY job),
deviations AS (
    SELECT p.worker_key, p.job, p.median_ms, j.job_median,
        abs(p.median_ms - j.job_median) AS deviation
    FROM pairs p JOIN job_medians j USING (job)
),
spread AS (
    SELECT job, median(deviation) AS mad, avg(deviation) AS mean_ad FROM deviations GROUP BY job
),
slow AS (
    SELECT worker_key, bool_or(
        CASE WHEN mad > 0 THEN 0.6745 * (median_ms - job_median) / mad
             WHEN mean_ad > 0 THEN (median_ms - job_median) / (1.253314 * mean_ad)
             ELSE 0 END > $z) AS slow_flag
    FROM deviations JOIN spread USING (job) GROUP BY worker_key
)
SELECT c.*, v.active_hours, v.session_count, v.idle_minutes,
    c.tasks_submitted / nullif(v.active_hours, 0) AS tasks_per_active_hour,
    coalesce(s.slow_flag, false) AS slow_flag
FROM counts c LEFT JOIN coverage v USING (worker_key) LEFT JOIN slow s USING (worker_key)
ORDER BY worker_key
"""


def _timed(function: Any, *args: Any) -> tuple[float, float, Any]:
    """Wall and CPU seconds of one call, and its result."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def measure_pandas(path: str, repeat: int) -> dict[str, Any]:
    """In a fresh process: load ``path`` into a ``TeamData`` and time ``worker_summary``."""
    thresholds = Thresholds()
    started = time.perf_counter()
    events = feather.read_table(path, memory_map=False)
    read_seconds = time.perf_counter() - started
    started = time.perf_counter()
    data = team_data_from_tables(events)
    load_seconds = time.perf_counter() - started
    del events  # as in load_team_data: the Arrow table is gone once the frames are built
    pa.default_memory_pool().release_unused()
    load_peak = peak_rss_mb()
    runs = [_timed(worker_summary, data, thresholds) for _ in range(repeat)]
    summary = runs[-1][2]
    peak = peak_rss_mb()
    tracemalloc.start()
    worker_summary(data, thresholds)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "read_seconds": read_seconds,
        "load_seconds": load_seconds,
        "summary_wall_seconds": [wall for wall, _, _ in runs],
        "summary_cpu_seconds": [cpu for _, cpu, _ in runs],
        "peak_rss_after_load_mb": load_peak,
        "peak_rss_mb": peak,
        "summary_numpy_allocated_mb": traced_peak / 2**20,
        "summary": summary,
    }


def measure_duckdb(path: str, repeat: int) -> dict[str, Any]:
    """In a fresh process: run ``DUCKDB_SQL`` over the events of ``path``."""
    import duckdb

    thresholds = Thresholds()
    events = feather.read_table(path, memory_map=False)
    connection = duckdb.connect()
    connection.register("events", events)
    parameters = {
        "gap": thresholds.session_gap_minutes * 60_000,
        "min_tasks": thresholds.slow_min_tasks,
        "z": thresholds.slow_z,
    }
    runs = [_timed(lambda: connection.execute(DUCKDB_SQL, parameters).df()) for _ in range(repeat)]
    connection.close()
    return {
        "threads": _cpus(),
        "wall_seconds": [wall for wall, _, _ in runs],
        "cpu_seconds": [cpu for _, cpu, _ in runs],
        "peak_rss_mb": peak_rss_mb(),
        "summary": runs[-1][2],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=2_000)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as directory:
        path = str(Path(directory) / "events.arrow")
        started = time.perf_counter()
        events = synthetic_events(args.events, args.workers, args.jobs, args.days, args.seed)
        feather.write_feather(events, path, compression="uncompressed")
        del events
        generate_seconds = time.perf_counter() - started
        ours = in_fresh_process(measure_pandas, path, args.repeat)
        duck = in_fresh_process(measure_duckdb, path, args.repeat)
    _check_agreement(ours.pop("summary"), duck.pop("summary"))

    best = min(ours["summary_wall_seconds"])
    duck_best = min(duck["wall_seconds"])
    results = {
        "machine": describe_machine(),
        "load_average_1min": load_average(),
        "events": args.events,
        "workers": args.workers,
        "jobs": args.jobs,
        "days": args.days,
        "repeat": args.repeat,
        "generate_seconds": generate_seconds,
        "pandas": ours,
        "duckdb": duck,
        "worker_summary_best_seconds": best,
        "duckdb_best_seconds": duck_best,
        "ratio_to_duckdb": best / duck_best,
        "targets": {
            "worker_summary_under_1_s": best < 1.0,
            "within_2x_of_duckdb": best <= 2 * duck_best,
            "load_and_summary_peak_under_2_gb": ours["peak_rss_mb"] < 2048,
        },
    }
    print(_markdown(results))
    print(f"results: {write_results('metrics', results)}")
    return 0


def _markdown(results: dict[str, Any]) -> str:
    ours, duck = results["pandas"], results["duckdb"]

    def seconds(values: list[float]) -> str:
        return ", ".join(f"{value:.3f}" for value in values)

    def met(flag: bool) -> str:
        return "met" if flag else "**not met**"

    targets = results["targets"]
    lines = [
        f"### Per-worker table: {results['events']:,} events, {results['workers']:,} workers",
        "",
        f"Machine: {results['machine']['cores']} cores ({results['machine']['cpu']}), load "
        f"average {results['load_average_1min']:.1f} at the start; best of {results['repeat']}.",
        "",
        "| step | figure |",
        "| --- | --- |",
        f"| Arrow table -> `TeamData` | {ours['load_seconds']:.2f} s |",
        f"| `worker_summary`, best (wall) | {results['worker_summary_best_seconds']:.3f} s |",
        f"| `worker_summary`, every run: wall | {seconds(ours['summary_wall_seconds'])} s |",
        f"| `worker_summary`, every run: CPU | {seconds(ours['summary_cpu_seconds'])} s |",
        f"| DuckDB SQL, best (wall, {duck['threads']} threads) | "
        f"{results['duckdb_best_seconds']:.3f} s |",
        f"| ratio `worker_summary` / DuckDB | {results['ratio_to_duckdb']:.2f} |",
        f"| peak memory, load + summary process | {ours['peak_rss_mb']:,.0f} MB |",
        f"| of which after load | {ours['peak_rss_after_load_mb']:,.0f} MB |",
        f"| NumPy memory `worker_summary` allocates (tracemalloc) | "
        f"{ours['summary_numpy_allocated_mb']:,.0f} MB |",
        f"| peak memory, DuckDB process | {duck['peak_rss_mb']:,.0f} MB |",
        "",
        f"- under 1 s: {met(targets['worker_summary_under_1_s'])}",
        f"- within 2x of DuckDB: {met(targets['within_2x_of_duckdb'])}",
        f"- load + summary under 2 GB: {met(targets['load_and_summary_peak_under_2_gb'])}",
    ]
    return "\n".join(lines)


def _check_agreement(summary: object, duck: object) -> None:
    import pandas as pd

    assert isinstance(summary, pd.DataFrame)
    assert isinstance(duck, pd.DataFrame)
    ours = summary.set_index(summary["worker_key"].astype("str")).sort_index()
    theirs = duck.set_index(duck["worker_key"].astype("str")).sort_index()
    assert list(ours.index) == list(theirs.index), "different workers"
    for column in (
        "tasks_submitted",
        "tasks_returned",
        "tasks_declined",
        "active_days",
        "session_count",
        "slow_flag",
    ):
        assert (ours[column].to_numpy() == theirs[column].to_numpy()).all(), column
    for column in (
        "mean_task_seconds",
        "median_task_seconds",
        "p90_task_seconds",
        "active_hours",
        "idle_minutes",
        "tasks_per_active_hour",
    ):
        a = ours[column].to_numpy(dtype=float)
        b = theirs[column].to_numpy(dtype=float)
        assert np.allclose(a, b, rtol=1e-9, equal_nan=True), column
    print("worker_summary and DuckDB agree on every compared column\n")


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
