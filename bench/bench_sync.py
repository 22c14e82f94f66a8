"""Sync throughput against the local emulator: events per second, API calls per 10,000 events.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python bench/bench_sync.py [--events 60000] [--incremental 10000]

It seeds a worker-activity log group with synthetic events of typical size (about 600 bytes),
runs a first sync over the whole range, then adds events and runs an incremental sync, and
prints the figures for docs/performance.md. The emulator answers at local speed: against
AWS, FilterLogEvents allows 5 requests per second per account and region, which bounds a real
sync at about 5 pages a second (up to 10,000 events or 1 MB each).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import tempfile
import time
import uuid
from pathlib import Path

from analytics.store.store import Store
from analytics.sync import LOG_OVERLAP, SyncOptions, sync_from_aws
from tests.aws_emulator import running_emulator
from tests.aws_emulator.fixtures import TEST_ENVIRONMENT
from tests.aws_emulator.seed import SAMPLE_LOG_GROUP, LogRecord, seed_log_records
from tests.aws_emulator.server import EVENT_OVERHEAD_BYTES, PAGE_BYTES_LIMIT

REGION = "us-east-1"
ARN_PREFIX = "arn:aws:sagemaker:us-east-1:123456789012"
START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


def java_time(moment: dt.datetime) -> str:
    return moment.strftime("%a %b %d %H:%M:%S UTC %Y")


def synthetic_records(
    count: int, start: dt.datetime, span: dt.timedelta, seed: int
) -> list[LogRecord]:
    """``count`` distinct worker-activity events spread over ``[start, start + span)``."""
    rng = random.Random(seed)
    workers = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(60)]
    records = []
    for index in range(count):
        submitted = start + span * (index / count)
        accepted = submitted - dt.timedelta(seconds=rng.randint(5, 600))
        message = {
            "worker_id": f"{rng.getrandbits(64):016x}",
            "cognito_user_pool_id": "us-east-1_Bench0001",
            "cognito_sub_id": rng.choice(workers),
            "task_accepted_time": java_time(accepted),
            "task_submitted_time": java_time(submitted),
            "task_returned_time": "",
            "task_declined_time": "",
            "workteam_arn": f"{ARN_PREFIX}:workteam/private-crowd/bench-team",
            "labeling_job_arn": f"{ARN_PREFIX}:labeling-job/bench-job-{index % 7}",
            "work_requester_account_id": "123456789012",
            "job_reference_code": f"{rng.getrandbits(48):012x}",
            "job_type": "Private",
            "event_type": "TasksSubmitted",
            "event_timestamp": str(int(submitted.timestamp())),
            "sequence": index,
        }
        records.append(LogRecord(int(submitted.timestamp() * 1000), json.dumps(message)))
    return records


def minimum_calls(records: list[LogRecord]) -> int:
    """The fewest FilterLogEvents pages that can hold ``records`` (10,000 events or 1 MB a page)."""
    size = sum(len(r.message.encode()) + EVENT_OVERHEAD_BYTES for r in records)
    return max(1, math.ceil(size / PAGE_BYTES_LIMIT), math.ceil(len(records) / 10_000))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=60_000, help="events of the first sync")
    parser.add_argument("--days", type=int, default=7, help="days they span")
    parser.add_argument("--incremental", type=int, default=10_000, help="events added after")
    args = parser.parse_args()
    os.environ.update(TEST_ENVIRONMENT)

    first_end = START + dt.timedelta(days=args.days)
    first = synthetic_records(args.events, START, first_end - START, seed=1)
    later_span = dt.timedelta(hours=6)
    later = synthetic_records(args.incremental, first_end, later_span, seed=2)

    with running_emulator() as emulator, tempfile.TemporaryDirectory() as scratch:
        seed_log_records(first, region=REGION, log_group=SAMPLE_LOG_GROUP)
        store = Store(Path(scratch) / "store")
        options = SyncOptions(region=REGION, endpoint_url=emulator.endpoint_url, since=START)
        emulator.calls.clear()
        began = time.perf_counter()
        report = sync_from_aws(store, options, now=first_end)
        first_seconds = time.perf_counter() - began
        first_calls = emulator.count("logs:FilterLogEvents")
        all_first_calls = len(emulator.calls)
        assert report.new_events == len(first), report.summary_text()

        seed_log_records(later, region=REGION, log_group=SAMPLE_LOG_GROUP)
        emulator.calls.clear()
        began = time.perf_counter()
        incremental_options = SyncOptions(region=REGION, endpoint_url=emulator.endpoint_url)
        report = sync_from_aws(store, incremental_options, now=first_end + later_span)
        incremental_seconds = time.perf_counter() - began
        incremental_calls = emulator.count("logs:FilterLogEvents")
        assert report.new_events == len(later), report.summary_text()
        overlap_start_ms = int((first_end - LOG_OVERLAP).timestamp() * 1000)
        re_read = [r for r in first if r.timestamp_epoch_ms >= overlap_start_ms]
        incremental_minimum = minimum_calls(later + re_read)

    first_minimum = minimum_calls(first)
    print(f"first sync: {len(first):,} events over {args.days} days")
    print(f"  {first_seconds:.2f} s, {len(first) / first_seconds:,.0f} events/s (all parts)")
    print(
        f"  FilterLogEvents calls: {first_calls} (minimum {first_minimum}),"
        f" {first_calls * 10_000 / len(first):.1f} per 10,000 events;"
        f" all API calls: {all_first_calls}"
    )
    print(f"incremental sync: {len(later):,} new events, {len(re_read):,} re-read in the overlap")
    print(f"  {incremental_seconds:.2f} s, {len(later) / incremental_seconds:,.0f} events/s")
    print(
        f"  FilterLogEvents calls: {incremental_calls} (minimum {incremental_minimum}),"
        f" ratio {incremental_calls / incremental_minimum:.2f},"
        f" {incremental_calls * 10_000 / len(later):.1f} per 10,000 new events"
    )
    print(
        "  at the real 5 requests/s FilterLogEvents quota the first sync needs at least"
        f" {first_calls / 5:.1f} s of API time"
    )


if __name__ == "__main__":
    main()
