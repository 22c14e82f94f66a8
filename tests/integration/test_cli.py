"""The command line as a user runs it: real processes, real files, exit codes and output."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from analytics.cli.main import build_parser, main
from analytics.store.store import Store
from tests.conftest import SAMPLE_LOGS, message_line
from tests.faults.support import run_cli

PLANTED = json.loads((SAMPLE_LOGS / "planted.json").read_text())


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, str]:
    root = tmp_path_factory.mktemp("sample") / "store"
    completed = run_cli("ingest", "--data", str(root), str(SAMPLE_LOGS))
    assert completed.returncode == 0, completed.stderr
    return Store(root), completed.stdout


def test_ingest_of_sample_logs_reports_exactly_the_planted_garbage(
    sample_store: tuple[Store, str],
) -> None:
    store, stdout = sample_store
    counts = PLANTED["counts"]
    assert stdout.startswith(
        f"read {counts['event_records_including_duplicates'] + counts['garbage_lines']:,} records "
    )
    assert f"{counts['distinct_events']:,} new events" in stdout
    assert f"{counts['duplicate_extra_records']:,} duplicates" in stdout
    assert f"{counts['garbage_lines']:,} rejected" in stdout
    rejected = store.load_rejected().to_pylist()
    got = sorted(
        (r["source"].split("sample_logs/", 1)[1], int(r["location"]), r["reason"]) for r in rejected
    )
    planted = sorted((g["file"], g["line"], g["reason"]) for g in PLANTED["garbage"])
    assert got == planted


def test_sample_events_match_the_planted_counts(sample_store: tuple[Store, str]) -> None:
    store, _ = sample_store
    events = store.load_events(columns=["event_type", "worker_key"]).to_pylist()
    assert Counter(e["event_type"] for e in events) == PLANTED["counts"]["by_event_type"]
    by_worker = Counter(e["worker_key"] for e in events)
    expected = {w: sum(types.values()) for w, types in PLANTED["counts"]["by_worker"].items()}
    assert dict(by_worker) == expected


def test_status_describes_the_sample_team(sample_store: tuple[Store, str]) -> None:
    store, _ = sample_store
    completed = run_cli("status", "--data", str(store.root))
    assert completed.returncode == 0
    out = completed.stdout
    assert f"events:       {PLANTED['counts']['distinct_events']:,}" in out
    assert "date range:   2026-10-26 " in out
    assert " to 2026-11-08 " in out
    assert f"workers:      {PLANTED['counts']['workers_with_events']}" in out
    assert "work teams:   2" in out
    assert "jobs:         4" in out
    assert "rejected:     8 lines" in out
    assert "truncated_json: the line ends before its JSON object is complete" in out


def test_ingest_again_adds_nothing(sample_store: tuple[Store, str]) -> None:
    store, _ = sample_store
    completed = run_cli("ingest", "--data", str(store.root), str(SAMPLE_LOGS))
    assert completed.returncode == 0
    assert ": 0 new events, 6,634 duplicates, 8 rejected" in completed.stdout


def test_a_missing_file_exits_non_zero_with_a_clear_message(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(message_line() + "\n")
    completed = run_cli(
        "ingest", "--data", str(tmp_path / "s"), str(tmp_path / "nope.jsonl"), str(good)
    )
    assert completed.returncode == 1
    assert f"error: {tmp_path / 'nope.jsonl'}: no such file or folder" in completed.stderr
    assert "1 new events" in completed.stdout


def test_rejected_lines_do_not_fail_the_ingest(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text("garbage\n" + message_line() + "\n")
    assert main(["ingest", "--data", str(tmp_path / "s"), str(path)]) == 0


def test_status_of_a_missing_store_says_how_to_fill_it(tmp_path: Path) -> None:
    completed = run_cli("status", "--data", str(tmp_path / "none"))
    assert completed.returncode == 0
    assert "no store in" in completed.stdout
    assert "gt-throughput ingest" in completed.stdout


@pytest.mark.parametrize(
    ("arguments", "code", "output"),
    [
        (["status", "--data", "{tmp}/none"], 0, "no store in"),
        (["ingest", "--data", "{tmp}/s", "{tmp}/nope.jsonl"], 1, "no such file or folder"),
    ],
    ids=["success", "failure"],
)
def test_the_program_exits_with_the_command_s_code_after_freezing_what_is_alive(
    tmp_path: Path, arguments: list[str], code: int, output: str
) -> None:
    """``gt-throughput`` (``run_program``) exits with the command's code and its output, and
    leaves the interpreter's last collections nothing to walk (``gc.freeze``, which spares
    0.4-0.7 s of every command: docs/performance.md)."""
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen:', gc.get_freeze_count() > 0, file=sys.stderr))\n"
        "from analytics.cli.main import run_program\n"
        "run_program()\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe, *(a.format(tmp=tmp_path) for a in arguments)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == code, completed.stderr
    assert output in completed.stdout + completed.stderr
    assert completed.stderr.endswith("frozen: True\n"), completed.stderr


def test_data_directory_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(message_line() + "\n")
    monkeypatch.setenv("GT_THROUGHPUT_DATA", str(tmp_path / "from-env"))
    assert main(["ingest", str(path)]) == 0
    assert Store(tmp_path / "from-env").load_events().num_rows == 1


def test_every_command_has_help() -> None:
    parser = build_parser()
    for command in ("ingest", "status", "sync", "export", "dashboard"):
        with pytest.raises(SystemExit) as exit_info:
            parser.parse_args([command, "--help"])
        assert exit_info.value.code == 0


def test_export_last_counts_back_from_the_latest_data_like_the_dashboard(
    sample_store_root: Path, tmp_path: Path
) -> None:
    import pandas as pd

    from analytics import worker_summary
    from analytics.dataset import Filters, load_team_data

    out = tmp_path / "workers.csv"
    completed = run_cli(
        "export", "workers", "--data", str(sample_store_root), "--out", str(out), "--last", "7d"
    )
    assert completed.returncode == 0, completed.stderr
    exported = pd.read_csv(out)
    store = Store(sample_store_root)
    latest = load_team_data(store).as_of.to_pydatetime()
    until = latest + dt.timedelta(milliseconds=1)
    expected = worker_summary(load_team_data(store, Filters(since=until - dt.timedelta(days=7))))
    assert exported["tasks_submitted"].sum() == expected["tasks_submitted"].sum()
    assert sorted(exported["worker_key"]) == sorted(expected["worker_key"])
    assert (tmp_path / "workers.definitions.csv").exists()


def test_export_of_an_empty_store_says_what_to_do(tmp_path: Path) -> None:
    completed = run_cli(
        "export", "workers", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "w.csv")
    )
    assert completed.returncode == 2
    assert "is empty: run gt-throughput ingest or sync first" in completed.stderr
