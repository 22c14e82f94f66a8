"""Loading a window of the store: filters, the window end and the previous period."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analytics.dataset import Filters, last_log_sync, load_team_data, previous_period
from analytics.errors import UsageError
from analytics.store.store import Store
from tests.support.team_data import events_of, line, membership

UTC = dt.UTC


@pytest.fixture
def two_team_store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "store")
    store.add_events(
        events_of(
            line("a", "10:00", "10:01", team="team-a", job="job-a", day="2026-11-02"),
            line("b", "10:00", "10:01", team="team-b", job="job-b", day="2026-11-03"),
            line("b", "10:00", "10:01", team="team-b", job="job-c", day="2026-11-04"),
        )
    )
    members = pd.DataFrame([membership("a", "team-a"), membership("m", "team-b")])
    store.replace_table("memberships", pd.DataFrame(members).pipe(_arrow))
    return store


def _arrow(frame: pd.DataFrame) -> Any:
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


FILTER_CASES = [
    pytest.param(Filters(), 3, {"a", "m"}, id="everything"),
    pytest.param(Filters(workteams=("team-b",)), 2, {"m"}, id="one-team"),
    pytest.param(Filters(jobs=("job-a",)), 1, {"a"}, id="one-job-keeps-its-team-members"),
    pytest.param(
        Filters(
            since=dt.datetime(2026, 11, 3, tzinfo=UTC), until=dt.datetime(2026, 11, 4, tzinfo=UTC)
        ),
        1,
        {"a", "m"},
        id="window",
    ),
]


@pytest.mark.parametrize(("filters", "events", "members"), FILTER_CASES)
def test_filters(two_team_store: Store, filters: Filters, events: int, members: set[str]) -> None:
    data = load_team_data(two_team_store, filters)
    assert len(data.events) == events
    assert set(data.memberships["sub"]) == members
    assert data.filters == filters


def test_as_of_is_until_else_latest_event_or_log_sync(two_team_store: Store) -> None:
    until = dt.datetime(2026, 11, 10, tzinfo=UTC)
    assert load_team_data(two_team_store, Filters(until=until)).as_of == pd.Timestamp(until)
    latest = pd.Timestamp("2026-11-04T10:01Z")
    assert load_team_data(two_team_store).as_of == latest
    # The team filter does not move the window end: team-a's last event is older.
    assert load_team_data(two_team_store, Filters(workteams=("team-a",))).as_of == latest
    two_team_store.write_state(
        {"last_sync": {"worker activity": {"at": "2026-11-05T00:00:00+00:00", "ok": True}}}
    )
    assert load_team_data(two_team_store).as_of == pd.Timestamp("2026-11-05T00:00Z")


LOG_SYNC_CASES = [
    pytest.param({}, None, id="never-synced"),
    pytest.param(
        {"last_sync": {"worker activity": {"at": "2026-11-05T01:00:00+00:00", "ok": True}}},
        dt.datetime(2026, 11, 5, 1, tzinfo=UTC),
        id="ok",
    ),
    pytest.param(
        {"last_sync": {"worker activity": {"at": "2026-11-05T01:00:00+00:00", "ok": False}}},
        None,
        id="failed-sync-does-not-count",
    ),
]


@pytest.mark.parametrize(("state", "expected"), LOG_SYNC_CASES)
def test_last_log_sync(state: dict[str, Any], expected: dt.datetime | None) -> None:
    assert last_log_sync(state) == expected


def test_empty_store_loads_empty_frames(tmp_path: Path) -> None:
    data = load_team_data(Store(tmp_path / "nothing"))
    assert data.events.empty
    assert data.users.empty
    assert data.as_of == pd.Timestamp("1970-01-01T00:00Z")


PREVIOUS_CASES = [
    pytest.param(
        Filters(
            since=dt.datetime(2026, 11, 8, tzinfo=UTC), until=dt.datetime(2026, 11, 15, tzinfo=UTC)
        ),
        (dt.datetime(2026, 11, 1, tzinfo=UTC), dt.datetime(2026, 11, 8, tzinfo=UTC)),
        id="a-week",
    ),
    pytest.param(
        Filters(since=dt.datetime(2026, 11, 8, tzinfo=UTC)),
        (dt.datetime(2026, 11, 6, tzinfo=UTC), dt.datetime(2026, 11, 8, tzinfo=UTC)),
        id="open-end-uses-as-of",
    ),
    pytest.param(
        Filters(),
        (dt.datetime(1970, 1, 1, tzinfo=UTC), dt.datetime(1970, 1, 1, tzinfo=UTC)),
        id="no-start-means-empty",
    ),
]


@pytest.mark.parametrize(("filters", "expected"), PREVIOUS_CASES)
def test_previous_period(filters: Filters, expected: tuple[dt.datetime, dt.datetime]) -> None:
    previous = previous_period(filters, pd.Timestamp("2026-11-10T00:00Z"))
    assert (previous.since, previous.until) == expected
    assert previous.workteams == filters.workteams


BAD_FILTERS = [
    pytest.param(
        {"since": dt.datetime(2026, 11, 2)},  # noqa: DTZ001 (naive on purpose)
        "--since must carry a time zone",
        id="naive",
    ),
    pytest.param(
        {
            "since": dt.datetime(2026, 11, 3, tzinfo=UTC),
            "until": dt.datetime(2026, 11, 2, tzinfo=UTC),
        },
        "--since must be before --until",
        id="reversed",
    ),
]


@pytest.mark.parametrize(("arguments", "message"), BAD_FILTERS)
def test_bad_filters(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Filters(**arguments)


T0 = dt.datetime(2026, 11, 2, 10, tzinfo=UTC)
MS = dt.timedelta(milliseconds=1)
WINDOW_CASES = [
    pytest.param(Filters(), [True, True, True, True, True], id="no-bound-keeps-missing-times"),
    pytest.param(Filters(since=T0), [False, True, True, True, False], id="since-is-in"),
    pytest.param(Filters(until=T0 + MS), [True, True, False, False, False], id="until-is-out"),
    pytest.param(
        Filters(since=T0, until=T0 + 2 * MS), [False, True, True, False, False], id="both"
    ),
    pytest.param(
        Filters(since=T0 + dt.timedelta(microseconds=999)),
        [False, True, True, True, False],
        id="sub-millisecond-bound-dropped",
    ),
]


@pytest.mark.parametrize(("filters", "expected"), WINDOW_CASES)
def test_the_window_cut_is_one_rule_for_arrow_and_pandas(
    filters: Filters, expected: list[bool]
) -> None:
    import pyarrow as pa

    from analytics.dataset import in_window
    from analytics.store import schema

    times = [T0 - MS, T0, T0 + MS, T0 + 2 * MS, None]
    arrow = pa.array(times, schema.UTC_MS)
    frame = pd.Series(times, dtype="datetime64[ms, UTC]")
    assert in_window(arrow, filters).tolist() == expected
    assert in_window(pa.chunked_array([arrow[:2], arrow[2:]]), filters).tolist() == expected
    assert in_window(frame, filters).tolist() == expected
