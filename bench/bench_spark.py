"""Benchmark: the per-worker table of a store with the local engine and with Spark ``local[2]``.

Usage (from the repository root)::

    .venv/bin/python -m bench.bench_spark                         # 10 and 30 million events
    .venv/bin/python -m bench.bench_spark --events 1000000        # a quick check

For each size, a real store is written (``Store.add_events`` of ``bench_metrics``' synthetic
events: time-sorted, a few thousand workers, daily partitions), then two fresh processes, one
after the other, build the worker table from the store:

- **local**: ``load_team_data`` + ``worker_summary``, what ``export workers`` does. Wall time and
  the process's peak resident memory.
- **spark**: a ``local[2]`` session, then ``spark_worker_summary`` (``--engine spark``). Wall
  time of the table (and of the JVM start, apart), the Python driver's peak memory, the JVM's
  peak (``VmHWM`` of the java process in ``/proc``: in local mode the driver and the executors
  are that one JVM, so this is the executor memory) and the Python workers' peak (their summed
  resident memory, sampled every 0.2 s).

Both tables are checked equal. The script prints a markdown section (how each figure grows with
events) and writes ``bench/results/spark.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.store import schema
from analytics.store.store import Store
from bench.bench_metrics import synthetic_events
from bench.machine import (
    describe_machine,
    in_fresh_process,
    load_average,
    peak_rss_mb,
    write_results,
)

#: Spark's master for the measured runs: two cores, the issue's reference.
SPARK_MASTER = "local[2]"


def write_store(root: Path, n_events: int, n_workers: int, n_jobs: int, days: int) -> float:
    """A store of ``n_events`` synthetic events at ``root``; returns the seconds it took."""
    started = time.perf_counter()
    events = synthetic_events(n_events, n_workers, n_jobs, days, seed=4)
    rng = np.random.default_rng(5)
    keys = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), n_events, [None, pa.py_buffer(rng.bytes(16 * n_events))]
    )
    columns: dict[str, Any] = {}
    for field in schema.EVENTS:
        if field.name == "event_key":
            columns[field.name] = keys
        elif field.name == "raw_message":
            columns[field.name] = pa.array(np.full(n_events, "", dtype=object), pa.string())
        elif field.name in events.column_names:
            columns[field.name] = events.column(field.name).cast(field.type)
        else:
            columns[field.name] = pa.nulls(n_events, field.type)
    del events
    Store(root).add_events(pa.table(columns))
    return time.perf_counter() - started


def measure_local(root: str) -> dict[str, Any]:
    """In a fresh process: ``load_team_data`` + ``worker_summary`` of the store at ``root``."""
    from analytics.dataset import load_team_data
    from analytics.metrics.workers import worker_summary

    started = time.perf_counter()
    data = load_team_data(Store(root))
    loaded = time.perf_counter()
    table = worker_summary(data)
    done = time.perf_counter()
    return {
        "load_seconds": loaded - started,
        "summary_seconds": done - loaded,
        "wall_seconds": done - started,
        "peak_rss_mb": peak_rss_mb(),
        "table": table,
    }


def measure_spark(root: str) -> dict[str, Any]:
    """In a fresh process: a ``local[2]`` session, then ``spark_worker_summary`` of ``root``."""
    from analytics.spark.engine import spark_worker_summary
    from analytics.spark.session import spark_session

    sampler = _ChildMemory()
    sampler.start()
    started = time.perf_counter()
    spark = spark_session(SPARK_MASTER, timeout_seconds=600)
    session_ready = time.perf_counter()
    table = spark_worker_summary(spark, root)
    done = time.perf_counter()
    memory = sampler.stop()
    spark.stop()
    return {
        "start_seconds": session_ready - started,
        "wall_seconds": done - session_ready,
        "driver_peak_rss_mb": peak_rss_mb(),
        **memory,
        "table": table,
    }


class _ChildMemory:
    """The peak memory of this process's descendants, from ``/proc``: the JVM's own high-water
    mark (``VmHWM``) and the Python workers' summed resident memory, sampled."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._python_peak_kib = 0
        self._jvm_peak_kib = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._sample()
        self._stop.set()
        self._thread.join()
        return {
            "jvm_peak_rss_mb": self._jvm_peak_kib / 1024,
            "python_workers_peak_rss_mb": self._python_peak_kib / 1024,
        }

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def _sample(self) -> None:
        python_kib = 0
        for pid in _descendants(os.getpid()):
            status = _status(pid)
            if not status:
                continue
            if status.get("Name", "").startswith("java"):
                self._jvm_peak_kib = max(self._jvm_peak_kib, _kib(status.get("VmHWM")))
            else:
                python_kib += _kib(status.get("VmRSS"))
        self._python_peak_kib = max(self._python_peak_kib, python_kib)


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {
        name.strip(): value.strip()
        for name, value in (line.split(":", 1) for line in text.splitlines() if ":" in line)
    }


def _kib(value: str | None) -> int:
    return int(value.split()[0]) if value else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--events", type=int, nargs="+", default=[10_000_000, 30_000_000], metavar="N"
    )
    parser.add_argument("--workers", type=int, default=2_000)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()

    sizes = []
    for n_events in args.events:
        with tempfile.TemporaryDirectory(prefix="bench-spark-") as directory:
            root = Path(directory) / "store"
            load_before = load_average()
            store_seconds = write_store(root, n_events, args.workers, args.jobs, args.days)
            local = in_fresh_process(measure_local, str(root))
            spark = in_fresh_process(measure_spark, str(root))
        pd.testing.assert_frame_equal(
            spark.pop("table"), local.pop("table"), check_exact=False, rtol=1e-12
        )
        sizes.append(
            {
                "events": n_events,
                "load_average_1min": load_before,
                "store_write_seconds": store_seconds,
                "local": local,
                "spark": spark,
                "spark_to_local_time": spark["wall_seconds"] / local["wall_seconds"],
            }
        )
        print(f"{n_events:,} events: the tables agree", flush=True)
    results = {
        "machine": describe_machine(),
        "spark_master": SPARK_MASTER,
        "workers": args.workers,
        "jobs": args.jobs,
        "days": args.days,
        "sizes": sizes,
    }
    print(_markdown(results))
    print(f"results: {write_results('spark', results)}")
    return 0


def _markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        f"### Per-worker table: local engine and Spark `{results['spark_master']}`",
        "",
        f"Machine: {machine['cores']} cores ({machine['cpu']}), {machine['memory_gib']} GiB; "
        f"{results['workers']:,} workers, {results['jobs']} jobs, {results['days']} days.",
        "",
        "| events | load avg | local: wall | local: peak | Spark: wall (start apart) | "
        "Spark / local | Spark JVM peak | Spark Python workers peak | Spark driver (Python) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in results["sizes"]:
        local, spark = size["local"], size["spark"]
        lines.append(
            f"| {size['events']:,} | {size['load_average_1min']:.1f} "
            f"| {local['wall_seconds']:.1f} s | {local['peak_rss_mb']:,.0f} MB "
            f"| {spark['wall_seconds']:.1f} s ({spark['start_seconds']:.1f} s) "
            f"| {size['spark_to_local_time']:.1f}x | {spark['jvm_peak_rss_mb']:,.0f} MB "
            f"| {spark['python_workers_peak_rss_mb']:,.0f} MB "
            f"| {spark['driver_peak_rss_mb']:,.0f} MB |"
        )
    lines += [
        "",
        "Local wall = read the store + `worker_summary`; Spark wall = `spark_worker_summary` "
        "from an open session (it reads the store too). Targets: Spark's memory bounded as the "
        "store grows; on 10M events, Spark within 10x of the local engine's time.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
