"""Hostile input to `gt-throughput ingest`, driven as a user runs it: absurd values in every field,
special files, broken and odd files. Nothing hangs, nothing traces back, one bad line or file
affects only itself, and what is stored can be shown and exported."""

from __future__ import annotations

import gzip
import os
import socket
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest

from analytics.ingest.rules import REJECT_REASONS
from analytics.ingest.times import PLAUSIBLE_FROM_MS, PLAUSIBLE_UNTIL_MS
from analytics.store.store import Store
from tests.conftest import message_line
from tests.faults.support import assert_clean_error, assert_no_traceback, run_cli
from tests.support.hostile_values import (
    ABSURD_VALUES,
    ENVELOPE_FIELDS,
    MESSAGE_FIELDS,
    TIME_FIELD_ISSUE_NAMES,
    absurd_line,
)

#: Commands around a hanging read are cut off after this: the test fails instead of hanging.
SHORT_TIMEOUT_SECONDS = 60
#: Good lines in file 1: over 1 MB, so the compiled scanner reads the file as well as the exact
#: path (a chunk of 1 MB or more takes the scanner).
GOOD_LINES = 2_000


def good_line(number: int, prefix: str = "f1") -> bytes:
    return message_line(job_reference_code=f"{prefix}-{number}").encode()


def ingest(store: Path, *inputs: str | Path) -> subprocess.CompletedProcess[str]:
    completed = run_cli("ingest", "--no-progress", "--data", store, *inputs)
    assert_no_traceback(completed)
    return completed


def assert_store_is_usable(store: Path, tmp_path: Path) -> None:
    """`status` and both exports run clean on the store, and every stored time is plausible."""
    status = run_cli("status", "--data", store)
    assert_no_traceback(status)
    assert status.returncode == 0, status.stderr
    for what in ("workers", "tasks"):
        out = tmp_path / f"{what}.csv"
        exported = run_cli("export", what, "--data", store, "--out", out, "--since", "2000-01-01")
        assert_no_traceback(exported)
        assert exported.returncode == 0, exported.stderr
        assert out.stat().st_size > 0
    events = Store(store).load_events()
    for field in events.schema:
        if field.type == pa.timestamp("ms", tz="UTC"):
            values = [v for v in events.column(field.name).cast(pa.int64()).to_pylist() if v]
            assert all(PLAUSIBLE_FROM_MS <= v < PLAUSIBLE_UNTIL_MS for v in values), field.name


@pytest.mark.parametrize("field", ENVELOPE_FIELDS + MESSAGE_FIELDS)
def test_an_absurd_value_in_any_field_affects_only_its_own_line(field: str, tmp_path: Path) -> None:
    # File 1: good lines, and every absurd value for this field on a line of its own among them.
    lines = [good_line(i) for i in range(GOOD_LINES)]
    spacing = GOOD_LINES // len(ABSURD_VALUES)
    bad_lines: dict[str, tuple[int, str]] = {}  # job reference -> (line number, value name)
    for offset, (name, value) in enumerate(ABSURD_VALUES.items()):
        at = 1 + offset * (spacing + 1)
        lines.insert(at, absurd_line(field, value, job_reference_code=f"bad-{offset}"))
        bad_lines[f"bad-{offset}"] = (at + 1, name)
    first = tmp_path / "in" / "1.jsonl"
    second = tmp_path / "in" / "2.jsonl"
    first.parent.mkdir()
    first.write_bytes(b"\n".join(lines) + b"\n")
    second.write_bytes(b"\n".join(good_line(i, "f2") for i in range(10)) + b"\n")
    store = tmp_path / "store"

    completed = ingest(store, first, second)

    # Rejected lines do not make a run fail; both files are read.
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert "from 2 files" in completed.stdout
    events = Store(store).load_events()
    rejected = Store(store).load_rejected()
    references = events.column("job_reference_code").to_pylist()
    good = {f"f1-{i}" for i in range(GOOD_LINES)} | {f"f2-{i}" for i in range(10)}
    assert good <= set(references)
    # Each bad line has exactly one verdict: rejected with a documented reason where it is, or
    # stored, with its time flagged when the absurd value was in a time field.
    bad_numbers = {number for number, _ in bad_lines.values()}
    locations = [int(location) for location in rejected.column("location").to_pylist()]
    assert set(rejected.column("reason").to_pylist()) <= set(REJECT_REASONS)
    assert {Path(source).name for source in rejected.column("source").to_pylist()} <= {"1.jsonl"}
    assert len(set(locations)) == len(locations)
    assert set(locations) <= bad_numbers
    stored_bad = [row for row in events.to_pylist() if row["job_reference_code"] not in good]
    assert len(stored_bad) + len(locations) == len(bad_lines)
    issue_name = TIME_FIELD_ISSUE_NAMES.get(field)
    for row in stored_bad:
        # The reference tells the line, unless the absurd value is the reference itself.
        if row["job_reference_code"] not in bad_lines:
            assert field == "job_reference_code"
            continue
        number, name = bad_lines[row["job_reference_code"]]
        assert number not in locations
        if issue_name and name not in ("null", "empty string"):
            assert issue_name in (row["time_issues"] or ""), (name, row["time_issues"])
    assert not any(r["time_issues"] for r in events.to_pylist() if r["job_reference_code"] in good)
    assert_store_is_usable(store, tmp_path)


def test_an_absurd_envelope_timestamp_no_longer_stops_the_run(tmp_path: Path) -> None:
    envelope = absurd_line("timestamp", b"9223372036854775808")
    first = tmp_path / "1.jsonl"
    second = tmp_path / "2.jsonl"
    first.write_bytes(good_line(1) + b"\n" + envelope + b"\n" + good_line(2) + b"\n")
    second.write_bytes(good_line(3, "f2") + b"\n")
    completed = ingest(tmp_path / "store", first, second)
    assert completed.returncode == 0, completed.stderr
    assert "read 4 records from 2 files: 4 new events" in completed.stdout
    events = Store(tmp_path / "store").load_events()
    assert sorted(filter(None, events.column("time_issues").to_pylist())) == ["log_timestamp"]


# --------------------------------------------------------------------------- special files
def special_file(kind: str, tmp_path: Path) -> Path:
    """A file that is not a regular file, of ``kind``, under ``tmp_path``."""
    if kind == "FIFO":
        path = tmp_path / "pipe.jsonl"
        os.mkfifo(path)
    elif kind == "symlink to a FIFO":
        os.mkfifo(tmp_path / "target-pipe")
        path = tmp_path / "link.jsonl"
        path.symlink_to(tmp_path / "target-pipe")
    elif kind == "socket":
        path = tmp_path / "sock.jsonl"
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        server.close()  # the socket file stays
    elif kind == "symlink to /dev/zero":
        path = tmp_path / "zero.log"
        path.symlink_to("/dev/zero")
    elif kind == "symlink loop":
        path = tmp_path / "loop.jsonl"
        path.symlink_to(tmp_path / "loop-b.jsonl")
        (tmp_path / "loop-b.jsonl").symlink_to(path)
    elif kind == "broken symlink":
        path = tmp_path / "broken.jsonl"
        path.symlink_to(tmp_path / "nothing-here")
    else:
        raise AssertionError(kind)
    return path


SPECIAL_KINDS = {
    "FIFO": "a FIFO (named pipe), not a regular file",
    "symlink to a FIFO": "a FIFO (named pipe), not a regular file",
    "socket": "a socket, not a regular file",
    "symlink to /dev/zero": "a character device, not a regular file",
    "symlink loop": "a symbolic link loop",
    "broken symlink": "a symbolic link to nothing",
}


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_a_special_file_named_as_input_is_refused_and_the_others_are_read(
    kind: str, tmp_path: Path
) -> None:
    special = special_file(kind, tmp_path)
    good = tmp_path / "good.jsonl"
    good.write_bytes(good_line(1) + b"\n")
    completed = run_cli(
        "ingest", "--data", tmp_path / "store", special, good, timeout=SHORT_TIMEOUT_SECONDS
    )
    error = assert_clean_error(completed, str(special), SPECIAL_KINDS[kind])
    assert completed.returncode == 1, error
    assert "read 1 records from 1 file: 1 new events" in completed.stdout


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_a_device_named_as_input_is_refused_at_once(device: str, tmp_path: Path) -> None:
    completed = run_cli("ingest", "--data", tmp_path / "store", device, timeout=30)
    assert_clean_error(completed, device, "a character device, not a regular file")
    assert completed.returncode == 1


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_a_special_file_in_a_folder_is_skipped_with_a_warning(kind: str, tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    special = special_file(kind, folder)
    (folder / "good.jsonl").write_bytes(good_line(1) + b"\n")
    completed = run_cli(
        "ingest", "--data", tmp_path / "store", folder, timeout=SHORT_TIMEOUT_SECONDS
    )
    assert_no_traceback(completed)
    assert completed.returncode == 0, completed.stderr
    warnings = [line for line in completed.stderr.splitlines() if line.startswith("warning:")]
    assert any(str(special) in w and SPECIAL_KINDS[kind] in w for w in warnings), warnings
    assert "read 1 records from 1 file: 1 new events" in completed.stdout
    assert "that are not regular files" in completed.stdout


def test_a_fifo_without_an_ending_in_a_folder_is_not_opened_to_look_at_it(tmp_path: Path) -> None:
    # Files without an ending are sniffed (S3 exports are named 000000): a FIFO must not be.
    folder = tmp_path / "export"
    folder.mkdir()
    os.mkfifo(folder / "000001")
    (folder / "000000").write_bytes(b"2019-08-14T16:01:21.000Z " + good_line(1) + b"\n")
    completed = run_cli("ingest", "--data", tmp_path / "store", folder, timeout=30)
    assert_no_traceback(completed)
    assert completed.returncode == 0, completed.stderr
    assert "000001: a FIFO (named pipe)" in completed.stderr


# --------------------------------------------------------------------------- broken and odd files
def test_a_truncated_gzip_keeps_what_it_read_and_counts_the_file(tmp_path: Path) -> None:
    lines = b"".join(good_line(i) + b"\n" for i in range(60_000))
    compressed = gzip.compress(lines, compresslevel=1)
    cut = tmp_path / "big.jsonl.gz"
    cut.write_bytes(compressed[: len(compressed) // 2])
    other = tmp_path / "other.jsonl"
    other.write_bytes(good_line(1, "f2") + b"\n")
    store = tmp_path / "store"
    completed = run_cli("ingest", "--data", store, cut, other)
    error = assert_clean_error(completed, str(cut), "cut short or damaged", "records before")
    assert completed.returncode == 1, error
    # Every whole line before the cut is stored; the line the cut went through is kept as
    # truncated; the other file is read; both files count.
    events = Store(store).load_events().num_rows
    rejected = Store(store).load_rejected()
    assert 20_000 < events < 60_001
    assert rejected.column("reason").to_pylist() == ["truncated_json"]
    assert f"the {events:,} records before the damage were stored" in error
    assert f"read {events + 1:,} records from 2 files: {events:,} new events" in completed.stdout


@pytest.mark.parametrize(
    ("name", "content", "summary"),
    [
        pytest.param(name, content, summary, id=name)
        for name, content, summary in [
            ("empty.jsonl", b"", "read 0 records from 1 file"),
            ("newlines.jsonl", b"\n" * 10_000, "read 0 records from 1 file"),
            ("zero.gz", b"", "read 0 records from 1 file"),
            ("plain-text.gz", b"not gzip at all\n", "read 1 records from 1 file: 0 new events"),
            ("empty-member.gz", gzip.compress(b""), "read 0 records from 1 file"),
            ("crlf.jsonl", good_line(1) + b"\r\n\r\n", "read 1 records from 1 file: 1 new"),
            ("no-final-newline.jsonl", good_line(1), "read 1 records from 1 file: 1 new events"),
        ]
    ],
)
def test_odd_files_are_read_without_fuss(
    name: str, content: bytes, summary: str, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    completed = run_cli("ingest", "--data", tmp_path / "store", path, timeout=SHORT_TIMEOUT_SECONDS)
    assert_no_traceback(completed)
    assert completed.returncode == 0, completed.stderr
    assert summary in completed.stdout


def test_a_gzip_that_is_garbage_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.gz"
    path.write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    completed = run_cli("ingest", "--data", tmp_path / "store", path)
    assert_clean_error(completed, str(path), "cannot be read")
    assert "read 0 records from 0 files" in completed.stdout


def test_a_line_nested_too_deep_is_rejected_with_its_own_reason(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    deep_line = b"[" * 10_000 + b"]" * 10_000
    path.write_bytes(good_line(1) + b"\n" + deep_line + b"\n" + good_line(2) + b"\n")
    store = tmp_path / "store"
    completed = ingest(store, path)
    assert completed.returncode == 0, completed.stderr
    assert Store(store).load_rejected().column("reason").to_pylist() == ["too_deeply_nested"]
    status = run_cli("status", "--data", store)
    assert "too_deeply_nested: the line nests arrays or objects more than 1024 deep" in (
        status.stdout
    )


def test_file_names_that_are_not_utf8_are_read_and_shown_escaped(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    name = os.fsencode(folder) + b"/caf\xe9-\xff.jsonl"
    with open(name, "wb") as handle:
        handle.write(good_line(1) + b"\n" + b"not json\n")
    os.mkfifo(os.fsencode(folder) + b"/pipe-\xff.jsonl")
    store = tmp_path / "store"
    completed = ingest(store, folder)
    assert completed.returncode == 0, completed.stderr
    assert "read 2 records from 1 file: 1 new events" in completed.stdout
    assert "pipe-\\xff.jsonl: a FIFO" in completed.stderr
    assert Store(store).load_events().column("source").to_pylist() == [
        f"{folder.resolve()}/caf\\xe9-\\xff.jsonl"
    ]
    assert_store_is_usable(store, tmp_path)


def test_a_folder_of_thousands_of_files_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(500):
        (folder / f"{i:05d}.jsonl").write_bytes(good_line(i) + b"\n")
    completed = ingest(tmp_path / "store", folder)
    assert completed.returncode == 0, completed.stderr
    assert "read 500 records from 500 files" in completed.stdout
