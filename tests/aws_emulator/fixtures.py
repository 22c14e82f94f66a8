"""Fixtures of the tests that reach AWS: credentials isolated from the developer's, the emulator
(one per test module) and the sample account seeded into it. ``tests/conftest.py`` loads this
module as a plugin, so every test module may ask for ``emulator`` and ``sample_account``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics.aws import DEFAULT_ANSWER_TIMEOUT_SECONDS
from analytics.progress import Progress
from analytics.store.store import Store
from analytics.sync import SyncOptions, SyncReport, sync_from_aws
from tests.aws_emulator.seed import SAMPLE_LOG_GROUP, SAMPLE_REGION, seed_sample_account
from tests.aws_emulator.server import Emulator, running_emulator

#: The sample's "now": just after its recordings were taken.
SAMPLE_NOW = dt.datetime(2026, 11, 9, 0, 30, tzinfo=dt.UTC)
SAMPLE_SINCE = dt.datetime(2026, 10, 25, tzinfo=dt.UTC)

#: Environment for boto3's standard chain to find fake credentials, and nothing of the
#: developer's own configuration.
TEST_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": SAMPLE_REGION,
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def use_test_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point boto3's chain at fake credentials only."""
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in TEST_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


def run_sync(
    emulator: Emulator,
    data_dir: Path,
    *,
    since: dt.datetime | None = SAMPLE_SINCE,
    until: dt.datetime | None = None,
    now: dt.datetime = SAMPLE_NOW,
    log_group: str = SAMPLE_LOG_GROUP,
    answer_timeout_seconds: float = DEFAULT_ANSWER_TIMEOUT_SECONDS,
    progress: Progress | None = None,
) -> SyncReport:
    """Sync the emulator's account into ``data_dir`` as ``gt-throughput sync`` would."""
    options = SyncOptions(
        region=SAMPLE_REGION,
        endpoint_url=emulator.endpoint_url,
        since=since,
        until=until,
        log_group=log_group,
        answer_timeout_seconds=answer_timeout_seconds,
    )
    return sync_from_aws(Store(data_dir), options, now=now, progress=progress)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """A running emulator, one per test module; the fixtures that seed it reset it first."""
    with running_emulator() as running:
        yield running


@pytest.fixture
def sample_account(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The emulator holding the sample account, with no faults and no recorded calls, and
    boto3's chain pointed at fake credentials only."""
    use_test_credentials(monkeypatch)
    emulator.reset()
    seed_sample_account(emulator)
    emulator.calls.clear()
    return emulator
