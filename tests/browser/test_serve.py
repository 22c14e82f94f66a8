"""``gt-throughput serve`` for real against the local AWS emulator: a subprocess syncing on a
short schedule, its dashboard opened in a headless Chromium, two services sharing one store.

The schedule here is seconds, not minutes; every wait has a bound (``support_service``). On a
loaded machine one sync of these few events takes up to ~10 s, hence the slack below.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path

import pyarrow.compute as pc
import pytest
from playwright.sync_api import Browser, Page

from analytics.store.store import Store
from tests.aws_emulator import Emulator, Faults
from tests.aws_emulator.fixtures import use_test_credentials
from tests.aws_emulator.seed import seed_log_records
from tests.support.served_dashboard import PAGE_SETTLED_JS, free_local_port
from tests.support.service import fresh_records, page_text, serving, wait_until, write_config

#: The schedule of these tests (seconds) and how often an open page looks for a new version.
INTERVAL_SECONDS = 6.0
REFRESH_SECONDS = 1.0
#: What one sync of a few events may take on a loaded machine (the shared 2-core test box).
SYNC_SLACK_SECONDS = 30.0
#: Within one interval of being seeded, plus the time of the sync itself and a page refresh.
WITHIN_ONE_INTERVAL = INTERVAL_SECONDS + SYNC_SLACK_SECONDS + REFRESH_SECONDS
STEP_TIMEOUT_MS = 60_000

pytestmark = pytest.mark.browser


@pytest.fixture
def account(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The emulator, emptied, with the test's fake credentials in this process's environment
    (which the served subprocess inherits), and no lookahead to share the two cores with."""
    use_test_credentials(monkeypatch)
    monkeypatch.setenv("GT_THROUGHPUT_LOOKAHEAD", "off")
    emulator.reset()
    return emulator


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(timezone_id="UTC")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def open_data_page(page: Page, url: str) -> None:
    page.goto(f"{url}/data")
    page.locator("h1", has_text="Data").first.wait_for()
    page.wait_for_function(PAGE_SETTLED_JS, timeout=STEP_TIMEOUT_MS)


def events_shown(page: Page) -> str:
    """The Data page's "Events" figure as drawn now (no reload)."""
    metric = page.get_by_test_id("stMetric").filter(has_text="Events").first
    return metric.get_by_test_id("stMetricValue").inner_text().strip()


def test_new_log_events_reach_an_open_dashboard_within_one_interval(
    account: Emulator, page: Page, tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    seed_log_records(fresh_records(5, now, job="first"))
    port = free_local_port()
    config = write_config(
        tmp_path / "gt.toml",
        store=tmp_path / "store",
        endpoint_url=account.endpoint_url,
        interval_minutes=INTERVAL_SECONDS / 60,
        port=port,
        refresh_seconds=REFRESH_SECONDS,
    )
    with serving(config, port, tmp_path / "serve.log") as served:
        wait_until(
            lambda: Store(tmp_path / "store").has_events(),
            WITHIN_ONE_INTERVAL,
            "the first sync",
        )
        open_data_page(page, served.url)
        wait_until(lambda: events_shown(page) == "5", WITHIN_ONE_INTERVAL, "5 events shown")
        assert page.get_by_text("synced just now").or_(page.get_by_text("min ago")).count()

        seed_log_records(fresh_records(3, dt.datetime.now(dt.UTC), job="second"))
        wait_until(
            lambda: events_shown(page) == "8",
            WITHIN_ONE_INTERVAL,
            "the 3 new events in the open page (no reload)",
            lambda: page_text(page) + served.output(),
        )
    assert "Traceback" not in served.output()


def test_a_failing_sync_shows_on_the_data_page_and_clears_when_aws_is_back(
    account: Emulator, page: Page, tmp_path: Path
) -> None:
    seed_log_records(fresh_records(2, dt.datetime.now(dt.UTC)))
    port = free_local_port()
    config = write_config(
        tmp_path / "gt.toml",
        store=tmp_path / "store",
        endpoint_url=account.endpoint_url,
        interval_minutes=INTERVAL_SECONDS / 60,
        max_backoff_minutes=INTERVAL_SECONDS / 60,
        port=port,
        refresh_seconds=REFRESH_SECONDS,
        timeout_seconds=2,
    )
    failing = page.get_by_test_id("gt-data-sync-failing")
    with serving(config, port, tmp_path / "serve.log") as served:
        wait_until(lambda: Store(tmp_path / "store").has_events(), WITHIN_ONE_INTERVAL, "sync")
        open_data_page(page, served.url)
        assert failing.count() == 0

        account.set_faults(Faults(requests_before_outage=0))  # every connection dropped
        wait_until(
            lambda: failing.count() == 1,
            WITHIN_ONE_INTERVAL,
            "the failure on the open Data page",
            lambda: page_text(page) + served.output(),
        )
        assert "sync failing since" in page.get_by_test_id("gt-sync-failing").inner_text()
        state = Store(tmp_path / "store").read_state()["schedule"]
        assert state["consecutive_failures"] >= 1
        assert state["last_error"]

        account.set_faults(Faults())
        warning = page.get_by_test_id("gt-sync-failing")
        wait_until(
            lambda: failing.count() == 0 and warning.count() == 0,
            2 * WITHIN_ONE_INTERVAL,
            "the failure cleared",
            lambda: page_text(page) + served.output(),
        )
        # The error is kept as the last error, beside the newer success.
        state = Store(tmp_path / "store").read_state()["schedule"]
        assert state["consecutive_failures"] == 0
        assert state["last_success_at"] > state["last_error_at"]
    assert "Traceback" not in served.output()


def test_two_services_on_one_store_never_sync_at_once_nor_corrupt_it(
    account: Emulator, tmp_path: Path
) -> None:
    seeded = fresh_records(20, dt.datetime.now(dt.UTC))
    seed_log_records(seeded)
    # Slow answers: each sync lasts seconds, much longer than the one-second interval, so each
    # service finds the other's sync under way again and again.
    account.set_faults(Faults(delay_seconds=0.15))
    store = tmp_path / "store"
    services = []
    for name in ("a", "b"):
        port = free_local_port()
        config = write_config(
            tmp_path / f"{name}.toml",
            store=store,
            endpoint_url=account.endpoint_url,
            interval_minutes=1 / 60,
            max_backoff_minutes=1 / 60,
            port=port,
        )
        services.append((config, port, tmp_path / f"{name}.log"))
    with (
        serving(*services[0], wait_for_dashboard=False) as first,
        serving(*services[1], wait_for_dashboard=False) as second,
    ):
        wait_until(
            lambda: len(first.runs()) >= 2 and len(second.runs()) >= 2,
            180,
            "two syncs by each service",
            lambda: first.output() + second.output(),
        )
    runs = [(start, end, "a") for start, end in first.runs()]
    runs += [(start, end, "b") for start, end in second.runs()]
    for (start, end, one), (other_start, other_end, other) in itertools.combinations(runs, 2):
        if one != other:
            assert end <= other_start or other_end <= start, (runs, first.output())
    # Each found the other's sync under way at least once, and skipped its own.
    assert "sync skipped: another process is syncing" in first.output() + second.output()
    events = Store(store).load_events(columns=["event_key"])
    assert events.num_rows == len(seeded)
    assert pc.count_distinct(events.column("event_key")).as_py() == len(seeded)
    assert Store(store).read_state()["schedule"]["consecutive_failures"] == 0
    assert "Traceback" not in first.output() + second.output()
