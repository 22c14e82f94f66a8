"""``restrict`` cuts a loaded TeamData exactly as loading with the filters would."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from analytics.dataset import (
    EVENT_COLUMNS,
    Filters,
    last_log_sync,
    load_team_data,
    restrict,
    team_data_from_tables,
)
from analytics.store import schema
from analytics.store.store import Store

UTC = dt.UTC
LATEST = dt.datetime(2026, 11, 8, 14, 9, tzinfo=UTC)
FILTERS = [
    Filters(),
    Filters(since=LATEST - dt.timedelta(days=7), until=LATEST),
    Filters(since=LATEST - dt.timedelta(days=1)),
    Filters(until=dt.datetime(2026, 11, 1, tzinfo=UTC)),
    Filters(workteams=("text-team",)),
    Filters(jobs=("street-scenes-bbox-2026-10",)),
    Filters(
        since=dt.datetime(2026, 11, 2, tzinfo=UTC),
        until=dt.datetime(2026, 11, 4, tzinfo=UTC),
        workteams=("image-team",),
        jobs=("aerial-roads-segmentation-b3",),
    ),
    Filters(since=dt.datetime(2030, 1, 1, tzinfo=UTC)),  # nothing in the window
    Filters(workteams=("no-such-team",)),
]


@pytest.mark.parametrize("filters", FILTERS, ids=range(len(FILTERS)))
def test_restrict_equals_loading_with_the_filters(
    sample_store_root: Path, filters: Filters
) -> None:
    store = Store(sample_store_root)
    events = store.load_events(columns=list(EVENT_COLUMNS))
    # The dashboard reads text as dictionaries: the frames must not depend on it.
    encoded = store.load_events(columns=list(EVENT_COLUMNS), text_as_dictionary=True)
    tables = {name: store.read_table(name) for name in schema.TABLES}
    rejected = store.load_rejected()
    synced = dt.datetime(2026, 11, 8, 15, tzinfo=UTC)
    full = team_data_from_tables(encoded, tables=tables, rejected=rejected, last_log_sync=synced)
    expected = team_data_from_tables(
        events, tables=tables, rejected=rejected, filters=filters, last_log_sync=synced
    )
    got = restrict(full, filters, last_log_sync=synced)
    assert got.as_of == expected.as_of
    assert got.filters == expected.filters
    for name in ("events", "users", "memberships", "workteams", "jobs", "metrics", "backlog"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name), obj=name)


@pytest.mark.parametrize("filters", FILTERS, ids=range(len(FILTERS)))
def test_loading_with_the_filters_equals_cutting_plain_text(
    sample_store_root: Path, filters: Filters
) -> None:
    """``load_team_data`` reads text as dictionaries and only the window's partitions."""
    store = Store(sample_store_root)
    synced = last_log_sync(store.read_state())
    expected = team_data_from_tables(
        store.load_events(columns=list(EVENT_COLUMNS)),
        tables={name: store.read_table(name) for name in schema.TABLES},
        rejected=store.load_rejected(),
        filters=filters,
        last_log_sync=synced,
    )
    got = load_team_data(store, filters)
    assert got.as_of == expected.as_of
    pd.testing.assert_frame_equal(got.events, expected.events)
