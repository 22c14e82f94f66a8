"""The service against real processes and endpoints: the cross-process sync lock, the
scheduler's record of a run that cannot reach AWS (a port where nothing listens), and each sync
part's last success and last error (the emulator)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from analytics.service.config import load_config
from analytics.service.freshness import sync_health
from analytics.service.lock import SYNC_LOCK_NAME, sync_lock
from analytics.service.schedule import Outcome, SyncScheduler
from analytics.store.store import Store
from analytics.sync import PART_USERS
from tests.aws_emulator import Emulator, Faults
from tests.aws_emulator.fixtures import SAMPLE_NOW, run_sync, use_test_credentials
from tests.aws_emulator.seed import seed_sample_account
from tests.support.served_dashboard import free_local_port
from tests.support.service import holding_sync_lock, write_config


# --------------------------------------------------------------------------- the sync lock
def test_a_sync_lock_held_by_another_process_skips_the_run_until_that_process_dies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_test_credentials(monkeypatch)
    store = tmp_path / "store"
    config = load_config(
        write_config(tmp_path / "gt.toml", store=store, endpoint_url=_refusing_endpoint())
    )
    with holding_sync_lock(store) as holder:
        with sync_lock(store) as taken:
            assert not taken
        assert f"pid {holder.pid}" in (store / SYNC_LOCK_NAME).read_text()
        assert SyncScheduler(config).run_once() is Outcome.SKIPPED_LOCKED
        assert Store(store).read_state() == {}  # nothing ran, nothing recorded
    with sync_lock(store) as taken:  # a killed holder leaves no lock behind
        assert taken


# --------------------------------------------------------------------------- a failing run
def _refusing_endpoint() -> str:
    """An HTTP endpoint on this machine where nothing listens: every connection is refused."""
    return f"http://127.0.0.1:{free_local_port()}"


def test_a_failed_run_is_recorded_with_its_error_and_backs_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_test_credentials(monkeypatch)
    config = load_config(
        write_config(
            tmp_path / "gt.toml",
            store=tmp_path / "store",
            endpoint_url=_refusing_endpoint(),
            interval_minutes=1,
            max_backoff_minutes=3,
            timeout_seconds=2,
        )
    )
    scheduler = SyncScheduler(config)
    assert scheduler.run_due() is Outcome.FAILED
    schedule = Store(config.store).read_state()["schedule"]
    assert schedule["consecutive_failures"] == 1
    assert "127.0.0.1" in schedule["last_error"]
    assert schedule["interval_seconds"] == 60
    assert scheduler.run_due() is None  # not due: backing off 120 s
    health = sync_health(Store(config.store).read_state(), dt.datetime.now(dt.UTC))
    assert health.failing[0].startswith("sync failing since")


# --------------------------------------------------------------------------- sync parts
def test_each_part_keeps_its_last_success_and_its_last_error(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_test_credentials(monkeypatch)
    emulator.reset()
    seed_sample_account(emulator)
    since = dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
    run_sync(emulator, tmp_path, since=since, until=dt.datetime(2026, 11, 4, tzinfo=dt.UTC))
    first = Store(tmp_path).read_state()["last_sync"][PART_USERS]
    emulator.set_faults(Faults(denied_actions={"cognito-idp:ListUsers"}))
    later = SAMPLE_NOW + dt.timedelta(hours=1)
    run_sync(emulator, tmp_path, now=later, since=since)
    failed = Store(tmp_path).read_state()["last_sync"][PART_USERS]
    assert failed["ok"] is False
    assert failed["last_success_at"] == first["at"]  # when it last worked, still said
    assert "ListUsers" in failed["last_error"]
    emulator.set_faults(Faults())
    recovered_at = later + dt.timedelta(hours=1)
    run_sync(emulator, tmp_path, now=recovered_at, since=since)
    recovered = Store(tmp_path).read_state()["last_sync"][PART_USERS]
    assert recovered["ok"] is True
    assert recovered["last_success_at"] == recovered_at.isoformat()
    assert recovered["last_error_at"] == failed["at"]  # what last went wrong, still said
    assert "ListUsers" in recovered["last_error"]
