"""Hostile labeling job output folders given to `gt-throughput ingest`, as a user runs it: nothing
hangs, nothing traces back, and each bad file affects only itself."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from analytics.store.store import Store
from tests.faults.support import assert_clean_error, assert_no_traceback, run_cli
from tests.support.job_outputs import make_answer, response_file, response_path, write_job_folder

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


GOLD_CASES = [
    pytest.param(b'{"0": "cat"}\n{"1": "dog"\n', ("line 2", "not JSON"), id="truncated-line"),
    pytest.param(b'{"0": "cat"}\n\n[1, 2]\n', ("line 3", "not a JSON object"), id="array"),
    pytest.param(b'{"x": "cat"}\n', ("line 1", 'object index "x"'), id="index-not-a-number"),
    pytest.param(b'{"0": 7}\n', ("line 1", "label of object 0"), id="label-a-number"),
    pytest.param(b'{"0": "a"}\n{"0": "b"}\n', ("line 2", "object 0"), id="object-twice"),
    pytest.param(b"\xff\xfe{}", ("line 1", "not JSON"), id="not-utf8"),
    pytest.param(b"", ("no gold answer",), id="empty"),
]


@pytest.mark.parametrize(("content", "needles"), GOLD_CASES)
def test_a_malformed_gold_file_is_refused_and_the_stored_set_kept(
    tmp_path: Path, content: bytes, needles: tuple[str, ...]
) -> None:
    store = tmp_path / "store"
    good = tmp_path / "good.jsonl"
    good.write_bytes(b'{"0": "cat"}\n{"3": "dog"}\n')
    first = run_cli("gold", "--data", store, "--job", "cats-2026", good)
    assert first.returncode == 0, first.stderr
    assert "stored 2 gold answers of job cats-2026" in first.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(content)

    completed = run_cli("gold", "--data", store, "--job", "cats-2026", bad)

    assert_clean_error(completed, str(bad), *needles)
    assert completed.returncode == 2
    gold = Store(store).read_table("gold").to_pylist()
    assert sorted((g["object_index"], g["label"]) for g in gold) == [(0, "cat"), (3, "dog")]


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        pytest.param(lambda p: None, "No such file", id="missing"),
        pytest.param(lambda p: p.mkdir(), "a folder", id="folder"),
        pytest.param(lambda p: os.mkfifo(p), "FIFO", id="fifo"),
    ],
)
def test_a_gold_path_that_is_not_a_file_is_a_clean_error_without_waiting(
    tmp_path: Path, make: Callable[[Path], object], needle: str
) -> None:
    path = tmp_path / "gold.jsonl"
    make(path)

    completed = run_cli("gold", "--data", tmp_path / "s", "--job", "j1", path, timeout=60)

    assert_clean_error(completed, str(path), needle, "name a JSON lines file")


def test_a_job_name_sagemaker_cannot_give_is_refused(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_bytes(b'{"0": "cat"}\n')

    completed = run_cli("gold", "--data", tmp_path / "s", "--job", "cats_\x1b[31m", gold)

    assert_clean_error(completed, "--job", "not a labeling job name")
    assert "\x1b" not in completed.stderr
