"""Ingesting files: every format, idempotence, interruptions, and what the summary says."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pytest

from analytics.errors import StoreError
from analytics.ingest import parse
from analytics.ingest.run import ingest_paths
from analytics.store import schema
from analytics.store.store import Store
from tests.support.ingest import WriteFile, day_messages, snapshot
from tests.support.tricky_lines import TRICKY_LINES


def test_every_format_in_a_folder_is_read(store: Store, write_file: WriteFile) -> None:
    lines = day_messages(6)
    envelope = {"eventId": "1", "timestamp": 1, "logStreamName": "s", "message": lines[1]}
    write_file("plain.jsonl", lines[0] + "\n")
    write_file("envelopes.jsonl", json.dumps(envelope) + "\n")
    write_file("cli.json", json.dumps({"events": [{**envelope, "message": lines[2]}]}, indent=2))
    write_file("export/000000.gz", gzip.compress(f"2019-08-12T10:00:00.000Z {lines[3]}\n".encode()))
    write_file("export/000001", f"2019-08-12T10:00:00.000Z {lines[4]}\n")
    write_file("export/plain.log", f"2019-08-12T10:00:00.000Z {lines[5]}\n")
    write_file("notes.md", "# not a log\n")
    write_file("LICENSE", "Apache License\n")
    write_file("recorded-api-response.json", json.dumps({"Users": []}, indent=2))
    folder = store.root.parent / "input"
    report = ingest_paths(store, [folder])
    assert (report.files_read, report.records, report.new_events, report.rejected) == (6, 6, 6, 0)
    assert sorted(report.skipped) == [
        f"{folder / 'LICENSE'}: not worker-activity log data",
        f"{folder / 'recorded-api-response.json'}: not worker-activity log data",
    ]
    assert store.load_events().num_rows == 6


def test_a_gzip_file_is_detected_by_its_bytes_not_its_name(
    store: Store, write_file: WriteFile
) -> None:
    path = write_file(
        "export-without-suffix", gzip.compress(("\n".join(day_messages(3)) + "\n").encode())
    )
    assert ingest_paths(store, [path]).new_events == 3


def test_ingesting_again_changes_nothing(store: Store, write_file: WriteFile) -> None:
    path = write_file("a.jsonl", "\n".join([*day_messages(50), "garbage"]) + "\n")
    first = ingest_paths(store, [path])
    before = (snapshot(store), store.load_rejected().num_rows)
    second = ingest_paths(store, [path])
    assert (first.new_events, first.rejected) == (50, 1)
    assert (second.new_events, second.duplicates, second.rejected) == (0, 50, 1)
    assert (snapshot(store), store.load_rejected().num_rows) == before


def test_duplicates_across_files_and_formats_count_once(
    store: Store, write_file: WriteFile
) -> None:
    lines = day_messages(4)
    a = write_file("a.jsonl", "\n".join(lines[:3]) + "\n" + lines[0] + "\n")
    b = write_file(
        "b.gz",
        gzip.compress(
            f"2019-08-12T00:00:00Z {lines[2]}\n2019-08-12T00:00:00Z {lines[3]}\n".encode()
        ),
    )
    report = ingest_paths(store, [a, b])
    assert (report.records, report.new_events, report.duplicates) == (6, 4, 2)


def test_summary_line_accounts_for_every_record(store: Store, write_file: WriteFile) -> None:
    path = write_file(
        "a.jsonl", "\n".join([*day_messages(3), "", "nope", day_messages(1)[0]]) + "\n"
    )
    report = ingest_paths(store, [path])
    assert report.records == report.new_events + report.duplicates + report.rejected
    assert report.summary_line() == (
        "read 5 records from 1 file: 3 new events, 1 duplicates, 1 rejected "
        "(kept with their reasons; see `gt-throughput status`)"
    )


def test_a_missing_file_is_reported_and_the_others_still_read(
    store: Store, write_file: WriteFile
) -> None:
    good = write_file("a.jsonl", day_messages(1)[0])
    report = ingest_paths(store, [store.root.parent / "missing.jsonl", good])
    assert report.new_events == 1
    assert report.unreadable == [f"{store.root.parent / 'missing.jsonl'}: no such file or folder"]


def test_a_corrupt_gzip_file_is_unreadable_not_a_crash(store: Store, write_file: WriteFile) -> None:
    compressed = gzip.compress(("\n".join(day_messages(200)) + "\n").encode())
    path = write_file("broken.gz", compressed[: len(compressed) // 2])
    report = ingest_paths(store, [path])
    assert len(report.unreadable) == 1
    assert "broken.gz: cannot be read" in report.unreadable[0]


@pytest.mark.parametrize("compress", [False, True])
def test_chunked_reading_keeps_line_numbers(
    store: Store, write_file: WriteFile, compress: bool
) -> None:
    lines = day_messages(400)
    lines[10] = "bad line 11"
    lines[333] = "bad line 334"
    content = ("\n".join(lines) + "\n").encode()
    path = write_file(
        "big.gz" if compress else "big.jsonl", gzip.compress(content) if compress else content
    )
    report = ingest_paths(store, [path], chunk_bytes=4096)
    assert report.new_events == 398
    assert sorted(store.load_rejected().column("location").to_pylist(), key=int) == ["11", "334"]


def test_an_interruption_between_chunks_is_completed_by_a_rerun(
    tmp_path: Path, write_file: WriteFile
) -> None:
    path = write_file("big.jsonl", "\n".join(day_messages(600)) + "\n")
    reference = Store(tmp_path / "reference")
    ingest_paths(reference, [path], chunk_bytes=8192)

    calls = 0

    def interrupt_after_three_chunks(done: int, total: int | None, label: str) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt

    store = Store(tmp_path / "interrupted")
    with pytest.raises(KeyboardInterrupt):
        ingest_paths(store, [path], progress=interrupt_after_three_chunks, chunk_bytes=8192)
    partial = store.load_events().num_rows
    assert 0 < partial < 600
    rerun = ingest_paths(store, [path], chunk_bytes=8192)
    assert (rerun.new_events, rerun.duplicates) == (600 - partial, partial)
    assert snapshot(store) == snapshot(reference)


def test_a_killed_ingest_leaves_a_readable_store_that_a_rerun_completes(
    tmp_path: Path, write_file: WriteFile
) -> None:
    path = write_file("big.jsonl", "\n".join(day_messages(800)) + "\n")
    reference = Store(tmp_path / "reference")
    ingest_paths(reference, [path], chunk_bytes=8192)
    killed = tmp_path / "killed"
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from analytics.ingest.run import ingest_paths
        from analytics.store.store import Store
        calls = 0
        def kill_after_four_chunks(done, total, label):
            global calls
            calls += 1
            if calls == 4:
                os.kill(os.getpid(), signal.SIGKILL)
        ingest_paths(Store({str(killed)!r}), [Path({str(path)!r})],
                     progress=kill_after_four_chunks, chunk_bytes=8192)
        """
    )
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    completed = subprocess.run(
        [sys.executable, "-c", script], env=environment, check=False, timeout=300
    )
    assert completed.returncode == -9
    store = Store(killed)
    partial = store.load_events().num_rows
    assert 0 < partial < 800
    ingest_paths(store, [path], chunk_bytes=8192)
    assert snapshot(store) == snapshot(reference)


def test_a_crash_inside_a_write_leaves_the_previous_store_intact(
    tmp_path: Path, write_file: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write_file("first.jsonl", "\n".join(day_messages(20)) + "\n")
    second = write_file("second.jsonl", "\n".join(day_messages(60)[20:]) + "\n")
    store = Store(tmp_path / "store")
    ingest_paths(store, [first])
    before = snapshot(store)

    import analytics.store.parquet_files as store_module

    real_replace = store_module.os.replace
    replaced = 0

    def crash_on_second_rename(source: str, target: str) -> None:
        nonlocal replaced
        replaced += 1
        if replaced == 2:
            raise OSError("disk full (simulated)")
        real_replace(source, target)

    monkeypatch.setattr(store_module.os, "replace", crash_on_second_rename)
    with pytest.raises(StoreError, match="simulated"):
        ingest_paths(store, [second])
    monkeypatch.undo()
    after_crash = snapshot(store)
    assert set(before) <= set(after_crash)
    assert not list(store.events_dir.rglob(".tmp-*"))
    ingest_paths(store, [second])
    assert len(snapshot(store)) == 60


def test_events_table_matches_the_schema(store: Store, write_file: WriteFile) -> None:
    from analytics.store import schema

    ingest_paths(store, [write_file("a.jsonl", day_messages(1)[0])])
    table = store.load_events(columns=schema.EVENTS.names)
    assert table.schema.remove_metadata() == schema.EVENTS.remove_metadata()
    assert isinstance(table, pa.Table)


def test_a_broken_gzip_named_json_in_a_folder_is_unreadable_not_a_crash(
    store: Store, write_file: WriteFile
) -> None:
    write_file("a.jsonl", day_messages(1)[0] + "\n")
    compressed = gzip.compress(("\n".join(day_messages(50)) + "\n").encode())
    write_file("b.json", compressed[: len(compressed) // 2])
    report = ingest_paths(store, [store.root.parent / "input"])
    assert report.new_events == 1
    assert len(report.unreadable) == 1
    assert "b.json: cannot be read" in report.unreadable[0]


def test_crlf_lines_in_a_later_chunk_keep_their_events_and_numbers(
    store: Store, write_file: WriteFile
) -> None:
    lines = day_messages(300)
    lines[250] = "{"
    content = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()
    path = write_file("windows.jsonl", content)
    report = ingest_paths(store, [path], chunk_bytes=4096)
    assert (report.new_events, report.rejected) == (299, 1)
    assert store.load_rejected().column("location").to_pylist() == ["251"]


def test_a_store_that_cannot_be_created_is_a_clear_error_not_the_input_files_fault(
    tmp_path: Path, write_file: WriteFile
) -> None:
    path = write_file("a.jsonl", day_messages(1)[0] + "\n")
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the store's parent folder should be")
    completed = subprocess.run(
        [sys.executable, "-m", "analytics.cli", "ingest", "--data", str(blocker / "s"), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.startswith(f"error: cannot create the store in {blocker / 's'}")
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize("fast_chunk_bytes", [None, 100_000], ids=["one-chunk", "many-chunks"])
def test_fast_and_exact_paths_build_identical_stores(
    tmp_path: Path, write_file: WriteFile, monkeypatch: pytest.MonkeyPatch, fast_chunk_bytes: int
) -> None:
    lines = day_messages(2500)
    for index, line in enumerate(TRICKY_LINES.values()):
        lines.insert(index * 30, line)
    lines[100:100] = ["", "   ", lines[7]]  # blank lines and a duplicate
    path = write_file("mixed.jsonl", "\n".join(lines) + "\n")
    assert path.stat().st_size > 1 << 20  # one chunk big enough for the compiled scanner
    fast, exact = Store(tmp_path / "fast"), Store(tmp_path / "exact")
    monkeypatch.setattr(parse, "FAST_PATH_MIN_BYTES", 1 << 40)  # never the scanner
    exact_report = ingest_paths(exact, [path], chunk_bytes=200_000)
    if fast_chunk_bytes is None:
        monkeypatch.undo()
        fast_report = ingest_paths(fast, [path])
    else:
        # Many scanned chunks: lines numbered from the middle of the file, chunk boundaries, the
        # read buffer reused while the writer still holds the previous chunk.
        monkeypatch.setattr(parse, "FAST_PATH_MIN_BYTES", 0)
        fast_report = ingest_paths(fast, [path], chunk_bytes=fast_chunk_bytes)
    assert fast_report == exact_report

    def everything(store: Store) -> tuple[list, list]:
        events = store.load_events(columns=schema.EVENTS.names).sort_by("event_key").to_pylist()
        rejected = store.load_rejected().drop_columns(["rejected_at"]).to_pylist()
        return events, sorted(rejected, key=lambda r: int(r["location"]))

    assert everything(fast) == everything(exact)
    assert fast_report.rejected >= 20


@pytest.mark.parametrize("scanned", [False, True], ids=["exact", "scanned"])
def test_a_line_longer_than_a_chunk(
    store: Store, write_file: WriteFile, monkeypatch: pytest.MonkeyPatch, scanned: bool
) -> None:
    monkeypatch.setattr(parse, "FAST_PATH_MIN_BYTES", 0 if scanned else 1 << 40)
    lines = day_messages(5)
    lines[2] = lines[2][:-1] + ', "blob": "' + "x" * 50_000 + '"}'
    path = write_file("long.jsonl", "\n".join(lines) + "\n")
    report = ingest_paths(store, [path], chunk_bytes=4096)
    assert (report.new_events, report.rejected) == (5, 0)
    assert (
        max(len(m) for m in store.load_events(columns=["raw_message"])["raw_message"].to_pylist())
        > 50_000
    )


def test_without_the_compiled_scanner_every_line_is_read_the_exact_way(
    store: Store, write_file: WriteFile, tmp_path: Path
) -> None:
    """Numba missing or unable to keep its compiled code: slower, with a word, same store."""
    lines = [*day_messages(2500), "garbage", *day_messages(2500)[:10]]
    log = write_file("big.jsonl", "\n".join(lines) + "\n")
    assert log.stat().st_size > parse.FAST_PATH_MIN_BYTES
    expected = ingest_paths(store, [log])
    other = tmp_path / "without-numba"
    script = (
        "import sys; sys.modules['numba'] = None\n"  # `import numba` now fails
        "from analytics.cli.main import main\n"
        f"sys.exit(main(['ingest', '--data', {str(other)!r}, {str(log)!r}]))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert "compiled line scanner is unavailable" in run.stderr
    assert "2,500 new events, 10 duplicates, 1 rejected" in run.stdout
    assert expected.new_events == 2500
    assert snapshot(Store(other)) == snapshot(store)
