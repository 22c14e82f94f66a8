"""The store under faults: readers while a writer merges, and every file of it damaged.

Each test drives ``gt-throughput`` as a user runs it (``run_cli``, a child process).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from analytics.dataset import load_team_data
from analytics.errors import StoreError
from analytics.ingest.parse import parse_bytes
from analytics.store import schema
from analytics.store.store import Store
from analytics.text import escape_controls
from tests.conftest import POOL, message_line
from tests.faults.support import assert_clean_error, assert_no_traceback, run_cli

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
import analytics.store.compaction
from analytics.ingest.parse import parse_bytes
from analytics.store.store import Store
from tests.faults.test_store_faults import submitted_lines

analytics.store.compaction.COMPACT_AFTER_FILES = 1

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


# --------------------------------------------------------------------------- damaged files
DAMAGED_DAY = "date=2019-08-14"
#: What the base store holds: events on two days and one without a time, a rejected line, a
#: synced users table and a sync state.
BASE_EVENTS = 4


@pytest.fixture(scope="module")
def base_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("base") / "store"
    store = Store(root)
    day_1 = message_line(task_submitted_time="Wed Aug 14 16:01:20 UTC 2019")
    day_1_other = message_line(worker_id="w2", cognito_sub_id="")
    day_2 = message_line(
        task_accepted_time="Thu Aug 15 09:00:00 UTC 2019",
        task_submitted_time="Thu Aug 15 09:00:30 UTC 2019",
        event_timestamp="1565859630",
    )
    timeless = message_line(
        task_accepted_time="", task_submitted_time="", event_timestamp="", worker_id="w3"
    )
    for lines in ([day_1], [day_1_other, day_2, timeless]):
        store.add_events(parse_bytes("\n".join(lines).encode(), "base.jsonl").events)
    store.add_rejected(parse_bytes(b"not json\n", "base.jsonl").rejected)
    users = {
        "user_pool_id": [POOL],
        "sub": ["11111111-2222-3333-4444-555555555555"],
        "username": ["ana"],
        "email": ["ana@example.com"],
        "name": ["Ana"],
        "status": ["CONFIRMED"],
        "enabled": [True],
        "created": [dt.datetime(2019, 1, 1, tzinfo=dt.UTC)],
        "last_modified": [dt.datetime(2019, 1, 1, tzinfo=dt.UTC)],
    }
    store.replace_table("users", pa.table(users))
    store.write_state(
        {"last_sync": {"worker activity": {"at": "2019-08-16T00:00:00+00:00", "ok": True}}}
    )
    return root


def _a_part_file(root: Path, folder: str) -> Path:
    return sorted((root / folder).glob("*.parquet"))[0]


def _write(relative: str, content: bytes | str) -> Callable[[Path], Path]:
    def damage(root: Path) -> Path:
        path = root / relative
        path.unlink(missing_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return damage


def _delete(relative: str) -> Callable[[Path], Path]:
    def damage(root: Path) -> Path:
        (root / relative).unlink()
        return root / relative

    return damage


def _part(folder: str, change: Callable[[Path], None]) -> Callable[[Path], Path]:
    def damage(root: Path) -> Path:
        path = _a_part_file(root, folder)
        change(path)
        return path

    return damage


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _not_parquet(path: Path) -> None:
    path.write_text("these are notes, not Parquet\n")


def _foreign(path: Path) -> None:
    pq.write_table(pa.table({"city": ["Lyon"], "population": [522_000]}), path)


def _without(column: str) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        pq.write_table(pq.read_table(path).drop_columns([column]), path)

    return change


def _with_extra_column(path: Path) -> None:
    table = pq.read_table(path)
    pq.write_table(table.append_column("note", pa.array(["x"] * table.num_rows)), path)


def _retyped(column: str, values: object) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        table = pq.read_table(path)
        index = table.column_names.index(column)
        retyped = pa.array([values] * table.num_rows)
        pq.write_table(table.set_column(index, column, retyped), path)

    return change


def _lock_directory(root: Path) -> Path:
    (root / ".lock").unlink(missing_ok=True)
    (root / ".lock").mkdir()
    return root / ".lock"


def _lock_loop(root: Path) -> Path:
    (root / ".lock").unlink(missing_ok=True)
    (root / ".lock").symlink_to(".lock")
    return root / ".lock"


def _bad_partition(root: Path) -> Path:
    folder = root / "events" / "date=garbage"
    folder.mkdir()
    shutil.copy(_a_part_file(root, f"events/{DAMAGED_DAY}"), folder / "part-copied.parquet")
    return folder


def _stray(root: Path) -> Path:
    path = root / "events" / DAMAGED_DAY / "notes.txt"
    path.write_text("notes\n")
    return path


def _journal(content: str) -> Callable[[Path], Path]:
    """A journal beside a merge a crash cut after its rename: the merged file and the files it
    replaced are all there, so each event is in two files."""

    def damage(root: Path) -> Path:
        folder = root / "events" / DAMAGED_DAY
        merged = ds.dataset([str(p) for p in folder.glob("*.parquet")], schema=schema.EVENTS)
        pq.write_table(merged.to_table(), folder / "part-merged.parquet")
        (folder / ".compaction.json").write_text(content)
        return folder / ".compaction.json"

    return damage


FUTURE_META = json.dumps({"schema_version": schema.STORE_SCHEMA_VERSION + 1})
STATE_OF_A_LATER_VERSION = json.dumps({"version": 9, "logs": {}, "checkpoints": [1, 2]})
ALL = frozenset({"status", "export", "ingest", "load_team_data"})
READERS = frozenset({"status", "export", "load_team_data"})
EVENT_FILE = f"events/{DAMAGED_DAY}"

#: (damage, the commands that must fail with a one-line error naming the file, words of it);
#: every other command must work, and count every stored event.
DAMAGE_CASES = [
    pytest.param(_delete("meta.json"), frozenset(), "", id="meta-deleted"),
    pytest.param(_write("meta.json", ""), ALL, "move that file aside", id="meta-empty"),
    pytest.param(_write("meta.json", '{"schema_ver'), ALL, "not JSON", id="meta-truncated"),
    pytest.param(
        _write("meta.json", '{"schema_version": "2"}'), ALL, "schema_version", id="meta-types"
    ),
    pytest.param(_write("meta.json", "[2]"), ALL, "not a JSON object", id="meta-not-object"),
    pytest.param(_write("meta.json", FUTURE_META), ALL, "upgrade", id="meta-future"),
    pytest.param(_delete("state.json"), frozenset(), "", id="state-deleted"),
    pytest.param(_write("state.json", ""), READERS, "move it aside", id="state-empty"),
    pytest.param(_write("state.json", '{"logs": {'), READERS, "not JSON", id="state-truncated"),
    pytest.param(
        _write("state.json", '{"logs": []}'), READERS, "object of objects", id="state-types"
    ),
    pytest.param(
        _write("state.json", STATE_OF_A_LATER_VERSION), frozenset(), "", id="state-future"
    ),
    pytest.param(_journal(""), frozenset(), "", id="journal-empty"),
    pytest.param(_journal('{"merges": [{"merg'), frozenset(), "", id="journal-truncated"),
    pytest.param(
        _journal('{"merged": "../../meta.json", "replaced": 3}'),
        frozenset(),
        "",
        id="journal-types",
    ),
    pytest.param(_journal('{"version": 7, "steps": []}'), frozenset(), "", id="journal-future"),
    pytest.param(_lock_directory, {"ingest"}, "remove it", id="lock-directory"),
    pytest.param(_lock_loop, {"ingest"}, "remove it", id="lock-unreadable"),
    pytest.param(_part(EVENT_FILE, _truncate), ALL, "move it out", id="events-truncated"),
    pytest.param(_part(EVENT_FILE, _empty), ALL, "empty file", id="events-zero-bytes"),
    pytest.param(_part(EVENT_FILE, _not_parquet), ALL, "not a readable", id="events-not-parquet"),
    pytest.param(_part(EVENT_FILE, _foreign), ALL, "no column", id="events-foreign"),
    pytest.param(
        _part(EVENT_FILE, _without("worker_key")), ALL, "worker_key", id="events-missing-column"
    ),
    pytest.param(_part(EVENT_FILE, _with_extra_column), frozenset(), "", id="events-extra-column"),
    pytest.param(
        _part(EVENT_FILE, _retyped("event_time", "yesterday")),
        ALL,
        "column event_time",
        id="events-wrong-type",
    ),
    pytest.param(_stray, frozenset(), "", id="events-stray-file"),
    pytest.param(_bad_partition, ALL, "not a partition", id="events-bad-partition-name"),
    pytest.param(_part("rejected", _truncate), ALL, "move it out", id="rejected-truncated"),
    pytest.param(_part("rejected", _foreign), ALL, "no column", id="rejected-foreign"),
    pytest.param(
        _part("rejected", _retyped("rejected_at", "yesterday")),
        ALL,
        "column rejected_at",
        id="rejected-wrong-type",
    ),
    pytest.param(_part("tables", _truncate), READERS, "sync again", id="table-truncated"),
    pytest.param(_part("tables", _foreign), READERS, "no column", id="table-foreign"),
    pytest.param(
        _part("tables", _retyped("enabled", "yes")), READERS, "column enabled", id="table-types"
    ),
]


@pytest.mark.parametrize(("damage", "failing", "words"), DAMAGE_CASES)
def test_a_damaged_store_file_is_named_with_its_repair_and_no_event_is_lost(
    base_store: Path,
    tmp_path: Path,
    damage: Callable[[Path], Path],
    failing: frozenset[str],
    words: str,
) -> None:
    root = tmp_path / "store"
    shutil.copytree(base_store, root, symlinks=True)
    damaged = damage(root)
    new_events = tmp_path / "new.jsonl"
    new_events.write_text(message_line(worker_id="w9", cognito_sub_id="") + "\nnot json\n")
    outcomes = {
        "status": lambda: run_cli("status", "--data", root),
        "export": lambda: run_cli("export", "workers", "--data", root, "--out", tmp_path / "w.csv"),
        "load_team_data": lambda: _load_team_data(root),
        "ingest": lambda: run_cli("ingest", "--data", root, new_events, "--no-progress"),
    }
    for command, run in outcomes.items():  # ingest last: it is the one that writes
        completed = run()
        if command in failing:
            error = assert_clean_error(completed, damaged.name, words)
            assert escape_controls(str(damaged)) in error or damaged.name in error, error
            assert damaged.exists() or damaged.is_symlink(), "a damaged file is never removed"
        else:
            assert_no_traceback(completed)
            assert completed.returncode == 0, (command, completed.stderr)
        if command == "status" and completed.returncode == 0:
            assert "events:" in completed.stdout, completed.stdout  # never "no store yet"
            if damage is _stray:
                assert f"warning: {damaged} was not written by gt-throughput" in completed.stdout
    if not failing & READERS:
        # Every stored event is still counted (once), and so is the one ingest added.
        status = run_cli("status", "--data", root)
        expected = BASE_EVENTS + (0 if "ingest" in failing else 1)
        assert f"events:       {expected}\n" in status.stdout, status.stdout + status.stderr


def _load_team_data(root: Path) -> subprocess.CompletedProcess[str]:
    """The dashboard's loader, as a result shaped like a command's: a StoreError is an error."""
    try:
        data = load_team_data(Store(root))
    except StoreError as exc:
        return subprocess.CompletedProcess([], 2, "", f"error: {exc}\n")
    return subprocess.CompletedProcess([], 0, f"{len(data.events)} events\n", "")
