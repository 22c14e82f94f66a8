"""The store under faults: readers while a writer merges, and every file of it damaged.

Each test drives ``gt-throughput`` as a user runs it (``run_cli``, a child process).
"""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import message_line
from tests.faults.support import assert_no_traceback, run_cli

#: The day a writer adds to while readers read; other days are not written meanwhile.
HOT_DAY = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def submitted_lines(first: int, count: int, day: dt.datetime = HOT_DAY) -> str:
    """``count`` distinct TasksSubmitted messages of one UTC day, numbered from ``first``."""
    lines = []
    for number in range(first, first + count):
        submitted = day + dt.timedelta(seconds=number % 80_000)
        stamp = submitted.strftime("%a %b %d %H:%M:%S UTC %Y")
        accepted = (submitted - dt.timedelta(seconds=30)).strftime("%a %b %d %H:%M:%S UTC %Y")
        lines.append(
            message_line(
                worker_id=f"worker-{number % 7}",
                cognito_sub_id=f"00000000-0000-0000-0000-{number % 7:012d}",
                task_accepted_time=accepted,
                task_submitted_time=stamp,
                event_timestamp=str(int(submitted.timestamp())),
            )
        )
    return "\n".join(lines) + "\n"


#: A writer that adds ``batch`` events at a time to one day, as fast as it can, and after each
#: write records how many events are committed; it stops when the stop file appears. It merges
#: the day's files after every other write (``COMPACT_AFTER_FILES`` 1 instead of 12): the same
#: merge, only often enough that a reader's read always overlaps several.
WRITER = """
import os, sys
from pathlib import Path
import analytics.store
from analytics.parsing import parse_bytes
from analytics.store import Store
from tests.faults.test_store_faults import submitted_lines

analytics.store.COMPACT_AFTER_FILES = 1

root, progress, stop, first, batch = sys.argv[1:6]
first, batch = int(first), int(batch)
store = Store(root)
committed, writes = first, 0
while not os.path.exists(stop):
    events = parse_bytes(submitted_lines(committed, batch).encode(), "writer").events
    assert store.add_events(events).new == batch
    committed += batch
    writes += 1
    Path(progress + ".tmp").write_text(f"{committed} {writes}")
    os.replace(progress + ".tmp", progress)
"""


def workers_submitted(csv_path: Path) -> int:
    with open(csv_path, newline="", encoding="utf-8") as stream:
        return sum(int(row["tasks_submitted"]) for row in csv.DictReader(stream))


def test_export_sees_one_snapshot_while_a_writer_adds_and_merges(tmp_path: Path) -> None:
    """Every export succeeds and counts a state some moment of the writer's run had: all that
    was committed before it started, nothing twice, each write whole or not at all."""
    root, batch = tmp_path / "store", 5
    # A thousand later days of one event: a reader lists the hot day first and opens its files
    # only after listing those (a second or so), by when a writer has merged it several times.
    cold = "".join(
        submitted_lines(number, 1, HOT_DAY + dt.timedelta(days=1 + number))
        for number in range(1000)
    )
    logs = tmp_path / "cold.jsonl"
    logs.write_text(cold)
    assert run_cli("ingest", "--data", root, logs, "--no-progress").returncode == 0
    base = 1000
    progress, stop = tmp_path / "progress", tmp_path / "stop"
    progress.write_text(f"{base} 0")

    def committed() -> tuple[int, int]:
        events, writes = progress.read_text().split()
        return int(events), int(writes)

    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root), str(progress), str(stop), str(base), str(batch)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while committed()[1] < 4:  # the writer is merging before reads begin
            assert writer.poll() is None, writer.communicate()[1]
            time.sleep(0.05)
        failures, seen_counts = [], []
        for read in range(8):
            before, writes_before = committed()
            out = tmp_path / f"workers-{read}.csv"
            completed = run_cli("export", "workers", "--data", root, "--out", out)
            after, writes_after = committed()
            assert_no_traceback(completed)
            if completed.returncode != 0:
                failures.append(completed.stderr.strip())
                continue
            seen = workers_submitted(out)
            seen_counts.append(seen)
            assert before <= seen <= after + batch, (before, seen, after)
            assert (seen - base) % batch == 0, seen
            # The writer merged the day's files several times while this export ran.
            assert writes_after - writes_before >= 6, (writes_before, writes_after)
        assert not failures, (len(failures), failures[:1])
    finally:
        stop.touch()
        _, errors = writer.communicate(timeout=60)
    assert writer.returncode == 0, errors
    final = run_cli("export", "workers", "--data", root, "--out", tmp_path / "final.csv")
    assert workers_submitted(tmp_path / "final.csv") == committed()[0], final.stderr
