"""Ingest throughput: JSON lines of worker-activity messages to the Parquet store, end to end.

Measures ``gt-throughput ingest`` work (read, parse, dedupe, write Parquet) on N synthetic events:
in this process (each run into a fresh store; the first run also loads the compiled scanner and
grows the memory pools), a re-ingest of the same file (every event a duplicate), and one whole
``gt-throughput ingest`` command in a new process (interpreter start and imports included). In the
same run, the baselines: the plain ``pandas.read_json(lines=True)`` route, exactly that call (parse
only, no dedupe, no store; pandas converts the time-like columns), and the same call with
``dtype=False`` (text only, no conversion at all: less work than an ingest does).

Whole commands, start-up included, taken in turns ``--commands`` times: ``gt-throughput ingest``
into a new store, and DuckDB's ``COPY (SELECT ... FROM read_json(...)) TO ... (FORMAT parquet,
PARTITION_BY ...)`` doing the same parse and time conversion (the documented time form, epoch
seconds, the filing time and its UTC date as the partition, the names from the ARNs) without keys,
dedupe or the raw message, in a new Python process that imports DuckDB.

``--exact-only`` hides Numba from the ingest (here and in the command), as where it is not
installed: every line then takes the exact path. The load average at the start is reported: the
figures need both cores.

Run: ``.venv/bin/python -m bench.bench_ingest [--events 1000000]``. Prints a markdown section and
writes ``bench/results/ingest.json`` (``ingest-exact.json`` with ``--exact-only``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from analytics.ingest.rules import MESSAGE_FIELDS
from analytics.ingest.run import ingest_paths
from analytics.ingest.times import format_java_time
from analytics.store.schema import MESSAGE_STRING_FIELDS, MESSAGE_TIME_FIELDS
from analytics.store.store import Store
from bench.machine import describe_machine, peak_rss_mb, write_results

START_EPOCH_S = 1_793_000_000  # 2026-10-25


def _java_time(epoch_s: int) -> str:
    return format_java_time(dt.datetime.fromtimestamp(epoch_s, dt.UTC))


def write_events(path: Path, count: int, seed: int = 7) -> int:
    """Write ``count`` distinct, realistic messages (about 640 bytes each); returns bytes."""
    rng = random.Random(seed)
    subs = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(200)]
    jobs = ["street-scenes-bbox", "product-photos-classify", "aerial-segmentation", "tickets"]
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            worker = rng.randrange(200)
            accepted = START_EPOCH_S + i * 2  # strictly increasing: every message is distinct
            outcome = accepted + rng.randrange(5, 400)
            returned = rng.random() < 0.03
            message = {
                "worker_id": f"{worker:016x}",
                "cognito_user_pool_id": "us-east-1_Sample7Gt",
                "cognito_sub_id": subs[worker],
                "task_accepted_time": _java_time(accepted),
                "task_submitted_time": "" if returned else _java_time(outcome),
                "task_returned_time": _java_time(outcome) if returned else "",
                "task_declined_time": "",
                "workteam_arn": "arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/"
                + ("image-team" if worker < 120 else "text-team"),
                "labeling_job_arn": "arn:aws:sagemaker:us-east-1:123456789012:labeling-job/"
                + jobs[worker % 4],
                "work_requester_account_id": "123456789012",
                "job_reference_code": f"{worker % 4:012x}",
                "job_type": "Private",
                "event_type": "TasksReturned" if returned else "TasksSubmitted",
                "event_timestamp": str(outcome),
            }
            out.write(json.dumps(message, separators=(",", ":")) + "\n")
        # On disk before timing: the kernel writing back this input must not run during the runs.
        out.flush()
        os.fsync(out.fileno())
    return path.stat().st_size


#: The time form of the benchmark's messages, for DuckDB's ``strptime``.
_DUCKDB_TIME_FORMAT = "%a %b %d %H:%M:%S UTC %Y"


def duckdb_copy_sql(source: Path, out: Path) -> str:
    """DuckDB's route for the benchmark's file: parse the JSON lines, convert the times, file each
    event under the UTC date of its outcome (else accepted, else ``event_timestamp``) time, write
    zstd Parquet partitioned by that date. No keys, no dedupe, no raw message."""
    columns = ", ".join(f"{name}: 'VARCHAR'" for name in MESSAGE_FIELDS)
    times = ", ".join(
        f"try_strptime(nullif({name}, ''), '{_DUCKDB_TIME_FORMAT}')::TIMESTAMPTZ AS {name}"
        for name in MESSAGE_TIME_FIELDS
    )
    return f"""
SET TimeZone = 'UTC';
COPY (
  SELECT *, coalesce(strftime(event_time, '%Y-%m-%d'), 'unknown') AS date
  FROM (
    SELECT *, coalesce(task_submitted_time, task_returned_time, task_declined_time,
                       task_accepted_time, event_timestamp) AS event_time
    FROM (
      SELECT {", ".join(MESSAGE_STRING_FIELDS)}, {times},
        to_timestamp(try_cast(nullif(event_timestamp, '') AS BIGINT)) AS event_timestamp,
        split_part(workteam_arn, '/', -1) AS workteam_name,
        split_part(labeling_job_arn, '/', -1) AS labeling_job_name
      FROM read_json('{source}', format = 'newline_delimited', columns = {{{columns}}})
    )
  )
) TO '{out}' (FORMAT parquet, PARTITION_BY (date), COMPRESSION zstd);
"""


#: Run first in the child process of ``--exact-only``: ``import numba`` then fails.
_HIDE_NUMBA = "import sys; sys.modules['numba'] = None"


def _ingest_command(source: Path, store: Path, *, exact_only: bool) -> list[str]:
    """One whole ``gt-throughput ingest`` in a new process (Numba hidden with ``exact_only``)."""
    arguments = ["ingest", "--no-progress", "--data", str(store), str(source)]
    if not exact_only:
        return [sys.executable, "-m", "analytics.cli", *arguments]
    program = f"from analytics.cli.main import run_program\nrun_program({arguments!r})"
    script = f"{_HIDE_NUMBA}\n{program}"
    return [sys.executable, "-c", script]


def _duckdb_command(source: Path, out: Path) -> list[str]:
    script = f"import duckdb\nduckdb.connect().execute({duckdb_copy_sql(source, out)!r})"
    return [sys.executable, "-c", script]


def _run_command(command: list[str]) -> tuple[float, float, str]:
    """Run a command; its wall seconds, its CPU seconds (user and system) and its output."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, check=True)
    wall = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return wall, cpu, done.stdout.decode()


def _commands_compared(
    source: Path, work: Path, events: int, runs: int, *, exact_only: bool
) -> dict[str, list[float]]:
    """Wall and CPU seconds of whole commands, ours then DuckDB's in turns, each into a new
    folder."""
    # A runtime-only install has no DuckDB (the dev extra brings it): ours alone then.
    have_duckdb = importlib.util.find_spec("duckdb") is not None
    seconds: dict[str, list[float]] = {"ours": [], "ours_cpu": [], "duckdb": [], "duckdb_cpu": []}
    for run in range(runs):
        store = work / f"cli-{run}"
        wall, cpu, output = _run_command(_ingest_command(source, store, exact_only=exact_only))
        assert f"{events:,} new events" in output, output
        seconds["ours"].append(wall)
        seconds["ours_cpu"].append(cpu)
        shutil.rmtree(store)
        if not have_duckdb:
            continue
        out = work / f"duckdb-{run}"
        wall, cpu, _ = _run_command(_duckdb_command(source, out))
        written = sum(pq.read_metadata(file).num_rows for file in out.rglob("*.parquet"))
        assert written == events, written
        seconds["duckdb"].append(wall)
        seconds["duckdb_cpu"].append(cpu)
        shutil.rmtree(out)
    return seconds


def _timed(action: object) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()  # type: ignore[operator]
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="ingest runs; the best is kept")
    parser.add_argument(
        "--commands", type=int, default=3, help="whole commands of each kind, taken in turns"
    )
    parser.add_argument(
        "--exact-only",
        action="store_true",
        help="hide Numba, as where it is not installed: every line takes the exact path",
    )
    parser.add_argument(
        "--skip-pandas", action="store_true", help="leave out the pandas baselines (slow)"
    )
    args = parser.parse_args(argv)
    if args.exact_only:
        sys.modules["numba"] = None  # type: ignore[assignment]
    load_at_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        source = work / "events.jsonl"
        size = write_events(source, args.events)
        ingest_seconds = []
        # CPU time of both threads: less shaken than wall time by other work on the machine.
        ingest_cpu_seconds = []
        for run in range(args.repeat):
            store = Store(work / f"store-{run}")
            cpu_start = time.process_time()
            seconds, report = _timed(lambda store=store: ingest_paths(store, [source]))
            ingest_cpu_seconds.append(time.process_time() - cpu_start)
            assert report.new_events == args.events, report  # type: ignore[attr-defined]
            ingest_seconds.append(seconds)
        reingest_seconds, again = _timed(lambda: ingest_paths(Store(work / "store-0"), [source]))
        assert again.duplicates == args.events, again  # type: ignore[attr-defined]
        for run in range(args.repeat):
            shutil.rmtree(work / f"store-{run}")
        commands = _commands_compared(
            source, work, args.events, args.commands, exact_only=args.exact_only
        )
        pandas_seconds = text_only_seconds = float("nan")
        if not args.skip_pandas:
            pandas_seconds, frame = _timed(lambda: pd.read_json(source, lines=True))
            assert len(frame) == args.events  # type: ignore[arg-type]
            del frame
            text_only_seconds, frame = _timed(lambda: pd.read_json(source, lines=True, dtype=False))
            del frame
        best = min(ingest_seconds)
        command_best = min(commands["ours"])
        duckdb_best = min(commands["duckdb"], default=float("nan"))
        results = {
            "events": args.events,
            "input_bytes": size,
            "exact_path_only": args.exact_only,
            "load_average_at_start": load_at_start,
            "ingest_seconds": best,
            "ingest_runs_seconds": ingest_seconds,
            "ingest_runs_cpu_seconds": ingest_cpu_seconds,
            "ingest_events_per_second": args.events / best,
            "first_run_events_per_second": args.events / ingest_seconds[0],
            "reingest_seconds": reingest_seconds,
            "command_seconds": command_best,
            "command_runs_seconds": commands["ours"],
            "command_runs_cpu_seconds": commands["ours_cpu"],
            "duckdb_command_seconds": duckdb_best,
            "duckdb_command_runs_seconds": commands["duckdb"],
            "duckdb_command_runs_cpu_seconds": commands["duckdb_cpu"],
            "command_over_duckdb": command_best / duckdb_best,
            "pandas_read_json_seconds": pandas_seconds,
            "speedup_over_pandas": pandas_seconds / best,
            "pandas_text_only_seconds": text_only_seconds,
            "speedup_over_pandas_text_only": text_only_seconds / best,
            "peak_rss_mb": peak_rss_mb(),
            "machine": describe_machine(),
            "load_average_at_end": os.getloadavg(),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_results("ingest-exact" if args.exact_only else "ingest", results)
    path = "exact path only (Numba hidden)" if args.exact_only else "compiled scanner"
    runs = ", ".join(f"{seconds:.2f}" for seconds in commands["ours"])
    cpu_runs = ", ".join(f"{seconds:.2f}" for seconds in ingest_cpu_seconds)
    command_cpu = ", ".join(f"{seconds:.2f}" for seconds in commands["ours_cpu"])
    duckdb_cpu = ", ".join(f"{seconds:.2f}" for seconds in commands["duckdb_cpu"]) or "-"
    duckdb_runs = ", ".join(f"{seconds:.2f}" for seconds in commands["duckdb"]) or "DuckDB missing"
    load = ", ".join(f"{value:.1f}" for value in load_at_start)
    print(
        f"### Ingest ({args.events:,} events, {size / 1e6:,.0f} MB of JSON lines, {path})\n\n"
        f"Load average at the start: {load} (1, 5, 15 min).\n\n"
        "| measure | figure | target |\n| --- | --- | --- |\n"
        f"| ingest, end to end (best of {args.repeat}) | {best:.2f} s, "
        f"{args.events / best:,.0f} events/s | ≥ 500,000 events/s |\n"
        f"| ingest, CPU time of each run (both threads) | {cpu_runs} s | |\n"
        f"| ingest, first run of the process | {ingest_seconds[0]:.2f} s, "
        f"{args.events / ingest_seconds[0]:,.0f} events/s | |\n"
        f"| re-ingest (all duplicates) | {reingest_seconds:.2f} s | |\n"
        f"| one `gt-throughput ingest` command (new process), best of {args.commands} | "
        f"{command_best:.2f} s, {args.events / command_best:,.0f} events/s (runs {runs}) | |\n"
        f"| DuckDB `COPY (SELECT ... FROM read_json(...)) TO ... (FORMAT parquet, PARTITION_BY "
        f"...)` command (new process), best of {args.commands} | {duckdb_best:.2f} s "
        f"(runs {duckdb_runs}) | |\n"
        f"| our command / DuckDB's | {command_best / duckdb_best:.2f} | < 1 |\n"
        f"| CPU time of each command (user + system): ours; DuckDB's | {command_cpu} s; "
        f"{duckdb_cpu} s | |\n"
        f"| `pandas.read_json(lines=True)`, parse only | {pandas_seconds:.2f} s | |\n"
        f"| speed-up over pandas (best run) | {pandas_seconds / best:.1f}x | ≥ 10x |\n"
        "| `pandas.read_json(lines=True, dtype=False)`, text only | "
        f"{text_only_seconds:.2f} s | |\n"
        f"| speed-up over the text-only read (best run) | {text_only_seconds / best:.1f}x | |\n"
        f"| peak memory (process) | {results['peak_rss_mb']:,.0f} MB | |\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
