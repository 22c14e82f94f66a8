"""Reading ahead: the start-up warm-up and the look-ahead fill the caches with exactly the numbers
the pages would compute, for the views one filter change away."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import analytics as metrics
from analytics.dataset import load_team_data, previous_period
from analytics.store import Store
from dashboard import data, warmup
from dashboard.data import FilterKey

ANCHOR = pd.Timestamp("2026-11-08 12:00:00", tz="UTC")
UNTIL = "2026-11-08T12:00:00.001000+00:00"  # presets end 1 ms after the latest data
LAST_7_DAYS = FilterKey(since="2026-11-01T12:00:00.001000+00:00", until=UNTIL)
LAST_30_DAYS = FilterKey(since="2026-10-09T12:00:00.001000+00:00", until=UNTIL)
LAST_24_HOURS = FilterKey(since="2026-11-07T12:00:00.001000+00:00", until=UNTIL)
ALL_TIME = FilterKey()


def test_neighbours_are_the_other_ranges_then_each_team_alone() -> None:
    assert warmup.neighbours(LAST_7_DAYS, ANCHOR, ["image-team", "text-team"]) == [
        LAST_30_DAYS,
        ALL_TIME,
        LAST_24_HOURS,
        FilterKey(LAST_7_DAYS.since, UNTIL, ("image-team",)),
        FilterKey(LAST_7_DAYS.since, UNTIL, ("text-team",)),
    ]


def test_with_a_team_picked_the_neighbours_keep_it_or_show_all_teams() -> None:
    picked = FilterKey(LAST_30_DAYS.since, UNTIL, ("text-team",), ("tickets",))
    assert warmup.neighbours(picked, ANCHOR, ["image-team", "text-team"]) == [
        FilterKey(LAST_7_DAYS.since, UNTIL, ("text-team",), ("tickets",)),
        FilterKey(None, None, ("text-team",), ("tickets",)),
        FilterKey(LAST_24_HOURS.since, UNTIL, ("text-team",), ("tickets",)),
        FilterKey(LAST_30_DAYS.since, UNTIL, (), ("tickets",)),
    ]


@pytest.fixture
def sample_source(
    sample_store_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[data.Source]:
    """The dashboard's source on an empty store (so: the bundled sample), warmed up as served."""
    monkeypatch.setenv("GT_THROUGHPUT_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("GT_THROUGHPUT_SAMPLE_STORE", str(sample_store_root))
    warmup.warm_up()
    yield data.current_source()
    # Back to a dashboard that has not started: pages run alone look nothing ahead.
    warmup._enabled.clear()
    warmup._requested.clear()


def test_lent_frames_are_used_only_inside_the_block_and_only_on_its_thread(
    sample_source: data.Source,
) -> None:
    one_team = data.cut(sample_source.root, sample_source.version, FilterKey(workteams=("x",)))
    seen_elsewhere: list[data.TeamData] = []
    with data.lending(sample_source, {ALL_TIME: one_team}):
        assert data._data(sample_source, ALL_TIME) is one_team
        other = threading.Thread(
            target=lambda: seen_elsewhere.append(data._data(sample_source, ALL_TIME))
        )
        other.start()
        other.join()
    assert seen_elsewhere[0] is not one_team
    assert data._data(sample_source, ALL_TIME) is not one_team
    assert len(data._data(sample_source, ALL_TIME).events) > len(one_team.events) == 0


def test_looking_ahead_caches_the_numbers_the_page_would_compute(
    sample_source: data.Source, sample_store_root: Path
) -> None:
    anchor = data.as_of(sample_source)
    teams, _ = data.choices(sample_source)
    default = warmup.preset_key("7d", anchor, FilterKey())
    # The start-up queued the default view's neighbours: 3 other date ranges, each team alone.
    expected_views = warmup.neighbours(default, anchor, teams)
    assert len(expected_views) == 5
    assert warmup.prefetch(sample_source, default, "UTC") == 0  # each view is looked at once
    # One team over 30 days: its 7-day and all-teams neighbours were queued already.
    text_team = warmup.preset_key("30d", anchor, FilterKey(workteams=("text-team",)))
    assert warmup.prefetch(sample_source, text_team, "UTC") == 2  # all time, 24 hours
    expected_views += [
        warmup.preset_key("all", anchor, text_team),
        warmup.preset_key("24h", anchor, text_team),
    ]
    warmup.wait_until_idle()
    # The look-ahead yields the cores to what managers asked for (Linux: per-thread nice value).
    worker = next(t for t in threading.enumerate() if t.name == "gt-lookahead")
    stat = Path(f"/proc/self/task/{worker.native_id}/stat").read_text()
    assert int(stat.rsplit(")", 1)[1].split()[16]) == warmup.LOOKAHEAD_NICENESS

    store = Store(sample_store_root)
    for view in expected_views:
        current = load_team_data(store, view.to_filters())
        previous = load_team_data(store, previous_period(view.to_filters(), current.as_of))
        pd.testing.assert_frame_equal(
            data.kpi_table(sample_source, view), metrics.kpis(current, previous)
        )
        pd.testing.assert_frame_equal(
            data.worker_table(sample_source, view), metrics.worker_summary(current)
        )


def test_pages_run_alone_look_nothing_ahead(sample_store_root: Path) -> None:
    source = data.Source(str(sample_store_root), True, "v", str(sample_store_root))
    assert warmup.prefetch(source, LAST_7_DAYS, "UTC") == 0
