"""Hostile labeling job output folders given to `gt-throughput ingest`, as a user runs it: nothing
hangs, nothing traces back, and each bad file affects only itself."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from analytics.store import Store
from tests.faults.support import assert_no_traceback, run_cli
from tests.support_job_outputs import make_answer, response_file, response_path, write_job_folder

#: What each hostile worker-response file holds, by name, with the reason it is rejected for.
HOSTILE_FILES: dict[str, tuple[bytes, str]] = {
    "truncated": (b'{"answers": [{"workerId": "x", ', "truncated_json"),
    "empty": (b"", "truncated_json"),
    "binary": (bytes(range(256)) * 4, "invalid_json"),
    "10,000-deep": (b"[" * 10_000 + b"]" * 10_000, "too_deeply_nested"),
    "html": (b"<!doctype html><title>Access Denied</title>", "invalid_json"),
    "answers not a list": (b'{"answers": "all of them"}', "unknown_shape"),
    "5 MB string": (b'{"answers": "' + b"x" * (5 << 20) + b'"}', "unknown_shape"),
}


def test_a_job_folder_full_of_hostile_files_is_read_around_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {response_path(0): response_file(make_answer("a"), make_answer("b"))}
    for number, (content, _) in enumerate(HOSTILE_FILES.values(), start=1):
        files[response_path(number)] = content
    folder = write_job_folder(tmp_path / "in", "hostile-job", files)
    special = folder / "annotations" / "worker-response" / "iteration-1" / "90"
    special.mkdir(parents=True)
    os.mkfifo(special / "fifo.json")
    (special / "dangling.json").symlink_to(tmp_path / "nowhere")
    monkeypatch.chdir(special)  # a socket's path must be short: bound relative to its folder
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind("socket.json")

        completed = run_cli("ingest", "--data", tmp_path / "store", "--no-progress", folder)

    assert_no_traceback(completed)
    assert completed.returncode == 0, completed.stderr
    assert "2 worker responses read, 2 new" in completed.stdout
    assert f"{len(HOSTILE_FILES)} unreadable response files" in completed.stdout
    warnings = [line for line in completed.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 3, completed.stderr
    rejected = Store(tmp_path / "store").load_rejected().to_pylist()
    reasons = sorted(r["reason"] for r in rejected)
    assert reasons == sorted(reason for _, reason in HOSTILE_FILES.values())
    assert all(len(r["raw_text"].encode()) <= 4096 * 3 for r in rejected)

    again = run_cli("ingest", "--data", tmp_path / "store", "--no-progress", folder)
    assert "2 worker responses read, 0 new, 2 already stored" in again.stdout
    assert Store(tmp_path / "store").load_rejected().num_rows == len(HOSTILE_FILES)


def test_a_job_folder_whose_name_holds_control_characters_is_stored_literally(
    tmp_path: Path,
) -> None:
    name = "job\x1b[31m-red"
    folder = write_job_folder(tmp_path, name, {response_path(0): response_file(make_answer())})

    completed = run_cli("ingest", "--data", tmp_path / "store", "--no-progress", folder)

    assert_no_traceback(completed)
    assert "\x1b" not in completed.stdout + completed.stderr
    (row,) = Store(tmp_path / "store").read_table("responses").to_pylist()
    assert row["labeling_job_name"] == name
