"""``gt-throughput export`` against hostile identities and destinations that are not plain files.

Every case runs the CLI as a user does (a child process, bounded in time) and checks what is on
disk afterwards: a device, FIFO or symbolic link is still what it was, a failed write leaves the
good file and its folder as they were, and a CSV with hostile identities reads back as one row
per record with no cell a spreadsheet would run.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from analytics.store.store import Store
from analytics.text import escape_controls, has_controls
from tests.conftest import message_line
from tests.faults.support import assert_clean_error, assert_no_traceback, run_cli
from tests.support.hostile_identities import HOSTILE_TEXTS, cognito_users, formula_start

#: Every hostile text but the empty one: each becomes a worker's Cognito identity here.
HOSTILE_IDENTITIES = {name: text for name, text in HOSTILE_TEXTS.items() if text}


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        header, *records = list(csv.reader(handle))
    return header, records


def _assert_every_cell_safe(header: list[str], records: list[list[str]]) -> None:
    for record in records:
        assert len(record) == len(header)
        for name, cell in zip(header, record, strict=True):
            assert not has_controls(cell), (name, cell[:60])
            if formula_start(cell):  # only a number may start with "-"
                float(cell)


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store ingested by the CLI: one worker per hostile identity, with a Cognito user whose
    username and email are that identity too."""
    root = tmp_path_factory.mktemp("hostile")
    lines = [
        message_line(
            worker_id=f"{index:016x}",
            cognito_sub_id=value,
            event_timestamp=str(1565798480 + index),
        )
        for index, value in enumerate(HOSTILE_IDENTITIES.values())
    ]
    lines += [  # no Cognito identity: the worker ID is the worker's key
        message_line(
            worker_id=value + "#2", cognito_sub_id="", event_timestamp=str(1565799000 + index)
        )
        for index, value in enumerate(HOSTILE_IDENTITIES.values())
    ]
    log = root / "hostile.jsonl"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingested = run_cli("ingest", "--data", root / "store", log, "--no-progress")
    assert ingested.returncode == 0, ingested.stderr
    assert f"{len(lines)} new events" in ingested.stdout
    users = cognito_users({text: text for text in HOSTILE_IDENTITIES.values()})
    Store(root / "store").replace_table("users", users)
    return root / "store"


@pytest.mark.parametrize("what", ["workers", "tasks", "timesheet"])
def test_hostile_identities_export_one_safe_row_per_record(
    hostile_store: Path, tmp_path: Path, what: str
) -> None:
    out = tmp_path / f"{what}.csv"
    completed = run_cli("export", what, "--data", hostile_store, "--out", out)
    assert_no_traceback(completed)
    assert completed.returncode == 0, completed.stderr
    header, records = _read_csv(out)
    assert len(records) == 2 * len(HOSTILE_IDENTITIES)
    assert out.read_bytes().count(b"\n") == len(records) + 1
    _assert_every_cell_safe(header, records)
    rows = [dict(zip(header, record, strict=True)) for record in records]
    shown = {column: {row[column] for row in rows} for column in header}
    for value in HOSTILE_IDENTITIES.values():
        for column, written in [
            ("worker_key", value),
            ("worker_key", value + "#2"),
            ("worker_id", value + "#2"),
            ("username", value),
            ("email", value),
        ]:
            escaped = escape_controls(written)
            assert {escaped, "'" + escaped} & shown[column], (column, written[:40])
    definitions_header, definitions = _read_csv(out.with_name(f"{what}.definitions.csv"))
    assert [d[0] for d in definitions] == header
    _assert_every_cell_safe(definitions_header, definitions)


# --------------------------------------------------------------------------- destinations
@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding one worker's task, ingested by the CLI."""
    root = tmp_path_factory.mktemp("small")
    log = root / "one.jsonl"
    log.write_text(message_line() + "\n", encoding="utf-8")
    assert run_cli("ingest", "--data", root / "store", log, "--no-progress").returncode == 0
    return root / "store"


def _node(path: Path) -> tuple[object, ...]:
    """What is at ``path``, to compare before and after: type, link target, content."""
    try:
        status = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return ("missing",)
    if stat.S_ISLNK(status.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISREG(status.st_mode):
        return ("file", hashlib.sha256(path.read_bytes()).hexdigest())
    if stat.S_ISDIR(status.st_mode):
        return ("directory", tuple(sorted(os.listdir(path))))
    return (stat.S_IFMT(status.st_mode), status.st_rdev)


def _listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def _root_only() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (mount, chattr)")


@contextlib.contextmanager
def _tmpfs(where: Path, *options: str) -> Iterator[Path]:
    """A tiny tmpfs mounted at ``where`` (skips the test where mounting is not allowed)."""
    _root_only()
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(("size=64k", *options)), "tmpfs", str(where)],
        capture_output=True,
        check=False,
        timeout=30,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr!r}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True, timeout=30)


@dataclass(frozen=True)
class Refused:
    """A destination the export must refuse: the error's words, and the node left as it was."""

    make: Callable[[Path], Path]
    needles: tuple[str, ...]


def _fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "pipe")
    return tmp / "pipe"


def _directory(tmp: Path) -> Path:
    (tmp / "folder").mkdir()
    return tmp / "folder"


def _under_a_file(tmp: Path) -> Path:
    (tmp / "notes.txt").write_text("keep me\n", encoding="utf-8")
    return tmp / "notes.txt" / "workers.csv"


def _socket(tmp: Path) -> Path:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp / "socket"))
    server.close()
    return tmp / "socket"


def _link_to(target: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        (tmp / "link.csv").symlink_to(target)
        return tmp / "link.csv"

    return make


REFUSED = [
    pytest.param(Refused(_fifo, ("--out", "pipe", "FIFO nobody reads")), id="fifo-without-reader"),
    pytest.param(Refused(_directory, ("--out", "is a directory", "folder/workers.csv")), id="dir"),
    pytest.param(Refused(_under_a_file, ("notes.txt is a file, not a folder",)), id="under-file"),
    pytest.param(Refused(_socket, ("--out", "is a socket", "name a regular file")), id="socket"),
    pytest.param(
        Refused(lambda _: Path("/dev/full"), ("--out /dev/full", "No space left on device")),
        id="device-full",
    ),
    pytest.param(
        Refused(_link_to("/dev/full"), ("link.csv", "No space left on device")),
        id="link-to-device-full",
    ),
    pytest.param(
        Refused(_link_to("/proc/version"), ("link.csv", "cannot write")), id="link-to-proc-file"
    ),
]


@pytest.mark.parametrize("case", REFUSED)
def test_a_destination_that_cannot_take_the_csv_is_refused_and_left_as_it_was(
    small_store: Path, tmp_path: Path, case: Refused
) -> None:
    out = case.make(tmp_path)
    before = (_node(out), _listing(tmp_path))
    completed = run_cli("export", "workers", "--data", small_store, "--out", out, timeout=60)
    assert_clean_error(completed, *case.needles)
    assert completed.returncode == 2
    assert (_node(out), _listing(tmp_path)) == before


def _read_fifo_in_background(fifo: Path) -> tuple[threading.Thread, list[bytes]]:
    received: list[bytes] = []

    def read() -> None:
        with fifo.open("rb") as handle:  # blocks until the export opens it for writing
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader, received


def test_a_fifo_with_a_reader_gets_the_csv_and_stays_a_fifo(
    small_store: Path, tmp_path: Path
) -> None:
    fifo = _fifo(tmp_path)
    reader, received = _read_fifo_in_background(fifo)
    completed = run_cli("export", "workers", "--data", small_store, "--out", fifo, timeout=60)
    reader.join(timeout=30)
    assert completed.returncode == 0, completed.stderr
    assert "add --definitions FILE" in completed.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert _listing(tmp_path) == ["pipe"]  # no pipe.definitions.csv, no temporary file
    rows = list(csv.reader(io.StringIO(received[0].decode("utf-8"), newline="")))
    assert rows[0][0] == "worker_key"
    assert len(rows) == 2


WRITTEN_THROUGH = [
    pytest.param(lambda _: Path("/dev/null"), id="dev-null"),
    pytest.param(_link_to("/dev/null"), id="link-to-dev-null"),
]


@pytest.mark.parametrize("make", WRITTEN_THROUGH)
def test_a_device_is_written_through_never_replaced(
    small_store: Path, tmp_path: Path, make: Callable[[Path], Path]
) -> None:
    out = make(tmp_path)
    before = (_node(out), _node(Path("/dev/null")), _listing(tmp_path))
    completed = run_cli("export", "workers", "--data", small_store, "--out", out)
    assert completed.returncode == 0, completed.stderr
    assert (_node(out), _node(Path("/dev/null")), _listing(tmp_path)) == before
    assert not Path("/dev/null.definitions.csv").exists()


def test_dev_stdout_carries_the_csv_only(small_store: Path, tmp_path: Path) -> None:
    completed = run_cli("export", "tasks", "--data", small_store, "--out", "/dev/stdout")
    assert completed.returncode == 0, completed.stderr
    header, *records = list(csv.reader(io.StringIO(completed.stdout, newline="")))
    assert header[0] == "worker_key"
    assert len(records) == 1
    assert "wrote 1 rows to /dev/stdout" in completed.stderr
    assert not Path("/dev/stdout.definitions.csv").exists()
    with_definitions = run_cli(
        "export", "tasks", "--data", small_store, "--out", "/dev/stdout",
        "--definitions", tmp_path / "tasks.definitions.csv",
    )  # fmt: skip
    assert with_definitions.returncode == 0, with_definitions.stderr
    assert (tmp_path / "tasks.definitions.csv").read_text(encoding="utf-8").startswith('"name"')


def test_dev_stdout_redirected_to_a_file_appends_as_the_shell_says(
    small_store: Path, tmp_path: Path
) -> None:
    log = tmp_path / "log.csv"
    log.write_text("kept line\n", encoding="utf-8")
    with log.open("a", encoding="utf-8") as append:
        completed = subprocess.run(
            [sys.executable, "-m", "analytics.cli", "export", "workers", "--data", str(small_store),
             "--out", "/dev/stdout"],
            stdout=append, stderr=subprocess.PIPE, text=True, check=False, timeout=120,
        )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "kept line"
    assert lines[1].startswith('"worker_key"')
    assert len(lines) == 3
    assert _listing(tmp_path) == ["log.csv"]


def test_a_link_to_a_file_replaces_the_file_and_keeps_the_link(
    small_store: Path, tmp_path: Path
) -> None:
    (tmp_path / "real.csv").write_text("old\n", encoding="utf-8")
    link = _link_to("real.csv")(tmp_path)
    completed = run_cli("export", "workers", "--data", small_store, "--out", link)
    assert completed.returncode == 0, completed.stderr
    assert os.readlink(link) == "real.csv"
    assert (tmp_path / "real.csv").read_text(encoding="utf-8").startswith('"worker_key"')
    assert _listing(tmp_path) == ["link.csv", "link.definitions.csv", "real.csv"]


# --------------------------------------------------------------------------- failed writes
@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a 64 KiB tmpfs holding ``good.csv`` and a filler that used the rest."""
    with _tmpfs(tmp_path / "disk") as disk:
        (disk / "good.csv").write_text("good\n", encoding="utf-8")
        filler = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
        with contextlib.suppress(OSError):
            while True:
                os.write(filler, b"x" * 4096)
        os.close(filler)
        yield disk


@pytest.fixture
def read_only_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a tmpfs mounted read-only, holding ``good.csv``."""
    with _tmpfs(tmp_path / "disk") as disk:
        (disk / "good.csv").write_text("good\n", encoding="utf-8")
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True, timeout=30)
        yield disk


@pytest.fixture
def unwritable_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder holding ``good.csv`` in which no file can be created (immutable as root)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "good.csv").write_text("good\n", encoding="utf-8")
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    locked = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False)
    if locked.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {locked.stderr!r}")
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


FAILED_WRITES = [
    pytest.param("full_disk", "No space left on device", id="full-disk"),
    pytest.param("read_only_disk", "Read-only file system", id="read-only"),
    pytest.param("unwritable_folder", "name a file in a folder you may write to", id="unwritable"),
]


@pytest.mark.parametrize(("folder_fixture", "message"), FAILED_WRITES)
def test_a_failed_write_keeps_the_good_file_and_leaves_nothing_behind(
    small_store: Path, request: pytest.FixtureRequest, folder_fixture: str, message: str
) -> None:
    folder: Path = request.getfixturevalue(folder_fixture)
    before = {name: _node(folder / name) for name in _listing(folder)}
    completed = run_cli("export", "workers", "--data", small_store, "--out", folder / "good.csv")
    error = assert_clean_error(completed, "--out", "good.csv", message, "nothing was changed")
    assert completed.returncode == 2, error
    assert {name: _node(folder / name) for name in _listing(folder)} == before


def test_a_full_disk_under_the_definitions_keeps_the_csv_too(
    small_store: Path, full_disk: Path, tmp_path: Path
) -> None:
    out = tmp_path / "workers.csv"
    out.write_text("good\n", encoding="utf-8")
    completed = run_cli(
        "export", "workers", "--data", small_store, "--out", out,
        "--definitions", full_disk / "workers.definitions.csv",
    )  # fmt: skip
    assert_clean_error(completed, "--definitions", "No space left on device")
    assert out.read_text(encoding="utf-8") == "good\n"
    assert _listing(tmp_path) == ["disk", "workers.csv"]


# --------------------------------------------------------------------------- arguments
ARGUMENT_CASES = [
    pytest.param([], "the following arguments are required", id="nothing"),
    pytest.param(["workers"], "--out", id="no-out"),
    pytest.param(["people", "--out", "x.csv"], "invalid choice", id="unknown-table"),
    pytest.param(["workers", "--out", "x.csv", "--since", "soon"], "--since must be", id="since"),
    pytest.param(["workers", "--out", "x.csv", "--timezone", "Mars/Base"], "--timezone", id="tz"),
    pytest.param(["workers", "--out", "x.csv", "--timezone", ""], "--timezone", id="empty-tz"),
    pytest.param(["workers", "--out", ""], "is a directory", id="empty-out"),
    pytest.param(
        ["workers", "--out", "x.csv", "--definitions", "x.csv"], "is the --out file", id="same"
    ),
]


@pytest.mark.parametrize(("extra", "needle"), ARGUMENT_CASES)
def test_wrong_arguments_say_what_to_fix(
    small_store: Path, tmp_path: Path, extra: list[str], needle: str
) -> None:
    completed = run_cli("export", *extra, "--data", small_store, cwd=tmp_path)
    assert_no_traceback(completed)
    assert completed.returncode == 2
    assert needle in completed.stderr
    assert _listing(tmp_path) == []


def test_help_describes_out_and_definitions() -> None:
    completed = run_cli("export", "--help")
    assert completed.returncode == 0
    assert_no_traceback(completed)
    assert "/dev/stdout" in completed.stdout
    assert "--definitions FILE" in completed.stdout
