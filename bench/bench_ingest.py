"""Ingest throughput: JSON lines of worker-activity messages to the Parquet store, end to end.

Measures ``gt-throughput ingest`` work (read, parse, dedupe, write Parquet) on N synthetic events:
in this process (each run into a fresh store; the first run also loads the compiled scanner and
grows the memory pools), a re-ingest of the same file (every event a duplicate), and one whole
``gt-throughput ingest`` command in a new process (interpreter start and imports included). In the
same run, the baselines: the plain ``pandas.read_json(lines=True)`` route, exactly that call (parse
only, no dedupe, no store; pandas converts the time-like columns), and the same call with
``dtype=False`` (text only, no conversion at all: less work than an ingest does).

Run: ``.venv/bin/python -m bench.bench_ingest [--events 1000000]``. Prints a markdown section and
writes ``bench/results/ingest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pandas as pd

from analytics.ingest import ingest_paths
from analytics.store import Store
from bench.machine import describe_machine, peak_rss_mb, write_results

START_EPOCH_S = 1_793_000_000  # 2026-10-25


def _java_time(epoch_s: int) -> str:
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(epoch_s))


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


def _timed(action: object) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()  # type: ignore[operator]
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="ingest runs; the best is kept")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        source = work / "events.jsonl"
        size = write_events(source, args.events)
        ingest_seconds = []
        for run in range(args.repeat):
            store = Store(work / f"store-{run}")
            seconds, report = _timed(lambda store=store: ingest_paths(store, [source]))
            assert report.new_events == args.events, report  # type: ignore[attr-defined]
            ingest_seconds.append(seconds)
        reingest_seconds, again = _timed(lambda: ingest_paths(Store(work / "store-0"), [source]))
        assert again.duplicates == args.events, again  # type: ignore[attr-defined]
        command = [sys.executable, "-m", "analytics.cli", "ingest", "--data", str(work / "cli")]
        command_seconds, done = _timed(
            lambda: subprocess.run([*command, str(source)], capture_output=True, check=True)
        )
        assert f"{args.events:,} new events" in done.stdout.decode(), done  # type: ignore[attr-defined]
        pandas_seconds, frame = _timed(lambda: pd.read_json(source, lines=True))
        assert len(frame) == args.events  # type: ignore[arg-type]
        del frame
        text_only_seconds, frame = _timed(lambda: pd.read_json(source, lines=True, dtype=False))
        del frame
        best = min(ingest_seconds)
        results = {
            "events": args.events,
            "input_bytes": size,
            "ingest_seconds": best,
            "ingest_runs_seconds": ingest_seconds,
            "ingest_events_per_second": args.events / best,
            "first_run_events_per_second": args.events / ingest_seconds[0],
            "reingest_seconds": reingest_seconds,
            "command_seconds": command_seconds,
            "pandas_read_json_seconds": pandas_seconds,
            "speedup_over_pandas": pandas_seconds / best,
            "pandas_text_only_seconds": text_only_seconds,
            "speedup_over_pandas_text_only": text_only_seconds / best,
            "peak_rss_mb": peak_rss_mb(),
            "machine": describe_machine(),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_results("ingest", results)
    print(
        f"### Ingest ({args.events:,} events, {size / 1e6:,.0f} MB of JSON lines)\n\n"
        "| measure | figure | target |\n| --- | --- | --- |\n"
        f"| ingest, end to end (best of {args.repeat}) | {best:.2f} s, "
        f"{args.events / best:,.0f} events/s | ≥ 500,000 events/s |\n"
        f"| ingest, first run of the process | {ingest_seconds[0]:.2f} s, "
        f"{args.events / ingest_seconds[0]:,.0f} events/s | |\n"
        f"| one `gt-throughput ingest` command (new process) | {command_seconds:.2f} s, "
        f"{args.events / command_seconds:,.0f} events/s | |\n"
        f"| re-ingest (all duplicates) | {reingest_seconds:.2f} s | |\n"
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
