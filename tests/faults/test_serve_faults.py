"""``gt-throughput serve`` and ``status`` given wrong configurations, driven as a user runs them:
one line naming the file, the key and the fix, exit code 2, no traceback, nothing started."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from analytics.store.store import Store
from tests.faults.support import assert_clean_error, assert_no_traceback, run_cli
from tests.support.service import holding_sync_lock, write_config

#: A serve that starts by mistake is stopped by this bound instead of hanging the suite.
SECONDS = 60


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        pytest.param(None, ("--config", "no such file"), id="missing-file"),
        pytest.param("[store\n", ("not valid TOML",), id="not-toml"),
        pytest.param(
            "[store]\npath = 'x'\n[schedule]\ninterval = 5\n",
            ("[schedule]", "'interval'", "did you mean interval_minutes?"),
            id="unknown-key",
        ),
        pytest.param(
            "[store]\npath = 'x'\n[dashboard]\nport = 'eighty'\n",
            ("[dashboard] port", "1 to 65535"),
            id="port-text",
        ),
    ],
)
def test_a_wrong_configuration_stops_serve_at_once(
    tmp_path: Path, text: str | None, needles: tuple[str, ...]
) -> None:
    config = tmp_path / "gt.toml"
    if text is not None:
        config.write_text(text, encoding="utf-8")
    completed = run_cli("serve", "--config", config, timeout=SECONDS)
    error = assert_clean_error(completed, *needles)
    assert completed.returncode == 2
    if text is not None:
        assert str(config) in error
    assert not (tmp_path / "x").exists()  # no store made


def test_serve_on_a_port_in_use_names_the_port_and_the_fix(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(tmp_path / "gt.toml", store=tmp_path / "store", port=port)
        completed = run_cli("serve", "--config", config, timeout=SECONDS)
    assert_clean_error(completed, f"--port {port} is already in use", "--port")
    assert completed.returncode == 2


def test_status_shows_the_schedule_and_a_failing_sync(tmp_path: Path) -> None:
    store = tmp_path / "store"
    # What a scheduled run that could not reach AWS leaves in a new store.
    schedule = {
        "interval_seconds": 900,
        "consecutive_failures": 1,
        "last_error": "endpoint unreachable\x1b[31m",
        "last_error_at": "2026-12-01T09:00:00+00:00",
    }
    Store(store).update_state(lambda state: state.update(schedule=schedule))
    completed = run_cli("status", "--data", store, timeout=SECONDS)
    assert_no_traceback(completed)
    assert completed.returncode == 0, completed.stderr
    assert "schedule:     every 15 min" in completed.stdout
    assert "warning: sync failing since 2026-12-01 09:00 UTC (1 run)" in completed.stdout
    assert "\x1b" not in completed.stdout  # text from the state is shown escaped


def test_a_manual_sync_while_another_runs_on_the_store_says_so_and_changes_nothing(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store"
    with holding_sync_lock(store) as holder:
        completed = run_cli(
            "sync", "--data", store, "--endpoint-url", "http://127.0.0.1:9", timeout=SECONDS
        )
    assert_clean_error(completed, "another sync is running on", f"pid {holder.pid}", "wait")
    assert completed.returncode == 2
    assert not (store / "state.json").exists()
