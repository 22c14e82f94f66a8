"""The store in S3: ``publish`` against writing a Delta Lake table, on N events (issue 14).

Against the local emulator (moto over HTTP on 127.0.0.1: no network, but every byte goes through
HTTP and moto's Python), in this process:

- ours: ``ingest`` of N events into a new local store, then a first ``publish`` of it (the end to
  end of "the store in S3"); then 1% more events (half of them already stored) ingested and
  published again (incremental); then a publish with nothing new (the cost of checking).
- ``deltalake`` (installed for this measurement only): the same N events, as the store holds
  them, appended to a Delta table in the same bucket partitioned by the same UTC day; then the
  same 1% merged on ``event_key`` (insert when not matched: the dedupe a store needs), and,
  for scale, appended without dedupe.

``pyiceberg`` is not installed: the issue's figures stand for it (append 2.8 s, upsert 730 s on
1M events). The load average at the start is reported.

Run: ``.venv/bin/python -m bench.bench_publish [--events 1000000]``. Prints a markdown section and
writes ``bench/results/publish.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from analytics.ingest.run import ingest_paths
from analytics.publish import PublishOptions, publish_store
from analytics.s3_location import S3Location
from analytics.store.store import Store
from bench.bench_ingest import write_events
from bench.machine import describe_machine, peak_rss_mb, write_results
from tests.aws_emulator import running_emulator
from tests.aws_emulator.fixtures import TEST_ENVIRONMENT

REGION = TEST_ENVIRONMENT["AWS_DEFAULT_REGION"]
BUCKET = "bench-bucket"


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def _delta(events: pa.Table, extra: pa.Table, uri: str, endpoint: str) -> dict[str, float]:
    """Append ``events`` to a new Delta table at ``uri``, merge ``extra`` in, append it."""
    from deltalake import DeltaTable, write_deltalake  # measurement only: not a dependency

    storage = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ALLOW_HTTP": "true",
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": TEST_ENVIRONMENT["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": TEST_ENVIRONMENT["AWS_SECRET_ACCESS_KEY"],
        "AWS_S3_ALLOW_UNSAFE_RENAME": "true",
    }

    def with_day(table: pa.Table) -> pa.Table:
        day = pc.strftime(table.column("event_time"), format="%Y-%m-%d")
        return table.append_column("date", pc.fill_null(day, "unknown"))

    append_seconds, _ = _timed(
        lambda: write_deltalake(
            uri, with_day(events), partition_by=["date"], mode="append", storage_options=storage
        )
    )
    merge_seconds, merged = _timed(
        lambda: (
            DeltaTable(uri, storage_options=storage)
            .merge(
                with_day(extra),
                predicate="t.event_key = s.event_key",
                source_alias="s",
                target_alias="t",
            )
            .when_not_matched_insert_all()
            .execute()
        )
    )
    rows = DeltaTable(uri, storage_options=storage).to_pyarrow_dataset().count_rows()
    expected = events.num_rows + extra.num_rows // 2
    assert rows == expected, (rows, expected, merged)
    append_extra_seconds, _ = _timed(
        lambda: write_deltalake(
            uri, with_day(extra), partition_by=["date"], mode="append", storage_options=storage
        )
    )
    return {
        "delta_append_seconds": append_seconds,
        "delta_merge_dedupe_seconds": merge_seconds,
        "delta_append_increment_seconds": append_extra_seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--skip-delta", action="store_true", help="leave out deltalake")
    args = parser.parse_args(argv)
    os.environ.update(TEST_ENVIRONMENT)
    load_at_start = os.getloadavg()
    increment = max(args.events // 100, 2)
    with running_emulator() as emulator, tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        # One file of N + increment/2 events: the first N, then the increment's new half.
        write_events(work / "all.jsonl", args.events + increment // 2)
        lines = (work / "all.jsonl").read_text().splitlines(keepends=True)
        (work / "first.jsonl").write_text("".join(lines[: args.events]))
        # The increment: its second half new, its first half already stored.
        (work / "more.jsonl").write_text("".join(lines[args.events - increment // 2 :]))
        (work / "warm.jsonl").write_text("".join(lines[:100]))
        del lines
        import boto3

        boto3.client("s3", endpoint_url=emulator.endpoint_url, region_name=REGION).create_bucket(
            Bucket=BUCKET
        )
        options = PublishOptions(region=REGION, endpoint_url=emulator.endpoint_url)
        location = S3Location(BUCKET, "store")
        # Warm up: the scanner compiles (or loads its cache) on first use, not in the figures.
        ingest_paths(Store(work / "warm"), [work / "warm.jsonl"])
        store = Store(work / "store")
        ingest_seconds, _ = _timed(lambda: ingest_paths(store, [work / "first.jsonl"]))
        publish_seconds, first = _timed(lambda: publish_store(store, location, options))
        events = store.load_events(columns=None)
        more_ingest_seconds, _ = _timed(lambda: ingest_paths(store, [work / "more.jsonl"]))
        more_publish_seconds, second = _timed(lambda: publish_store(store, location, options))
        idle_publish_seconds, third = _timed(lambda: publish_store(store, location, options))
        assert third.uploaded == 0, third
        results: dict[str, Any] = {
            "events": args.events,
            "increment_events": increment,
            "load_average_at_start": load_at_start,
            "ingest_seconds": ingest_seconds,
            "publish_seconds": publish_seconds,
            "published_files": first.files,
            "published_bytes": first.uploaded_bytes,
            "end_to_end_seconds": ingest_seconds + publish_seconds,
            "increment_ingest_seconds": more_ingest_seconds,
            "increment_publish_seconds": more_publish_seconds,
            "increment_uploaded_files": second.uploaded,
            "increment_deleted_files": second.deleted,
            "idle_publish_seconds": idle_publish_seconds,
        }
        if importlib.util.find_spec("deltalake") is None:
            print("deltalake is not installed: its figures are left out", flush=True)
        elif not args.skip_delta:
            extra = Store(work / "extra")
            ingest_paths(extra, [work / "more.jsonl"])
            extra_events = extra.load_events(columns=None)
            results |= _delta(events, extra_events, f"s3://{BUCKET}/delta", emulator.endpoint_url)
        results["peak_rss_mb"] = peak_rss_mb()
        results["machine"] = describe_machine()
    path = write_results("publish", results)
    print(f"### The store in S3, {args.events:,} events (load average {load_at_start[0]:.1f})\n")
    print("| step | seconds |\n|---|---|")
    for key, value in results.items():
        if key.endswith("_seconds"):
            print(f"| {key.removesuffix('_seconds').replace('_', ' ')} | {value:.2f} |")
    print(f"\n(results in {path})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
