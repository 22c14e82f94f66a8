"""The timesheet: hand-worked days (midnight, overlaps, missing and skewed acceptance, daylight
saving days of 23 and 25 hours, outcomes on their own day, responses' active seconds), and the
property that a worker's days sum to the worker table."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analytics.dataset import Filters, TeamData, load_team_data
from analytics.metrics.definitions import DEFINITIONS
from analytics.metrics.timesheet import (
    TIMESHEET_COLUMNS,
    TIMESHEET_TOTAL_COLUMNS,
    timesheet,
    timesheet_totals,
)
from analytics.metrics.workers import worker_summary
from analytics.sample import build_sample_store
from analytics.store.schema import OUTCOME_TIME_FIELDS
from tests.support.random_store import build_random_store
from tests.support.responses import frame as response_frame
from tests.support.responses import response
from tests.support.team_data import data_of, line


def task(worker: str, accepted: str | None, outcome: str, kind: str = "TasksSubmitted") -> str:
    """One task of ``worker`` with ISO UTC times (``accepted`` None: missing)."""
    message = json.loads(line(worker, None, None, kind))
    message["task_accepted_time"] = accepted or ""
    message[OUTCOME_TIME_FIELDS[kind]] = outcome
    message["event_timestamp"] = str(int(pd.Timestamp(outcome).timestamp()))
    return json.dumps(message)


def day_rows(sheet: pd.DataFrame, worker: str = "w") -> dict[str, dict[Any, Any]]:
    """``worker``'s rows by ISO date."""
    rows = sheet[sheet["worker_key"] == worker]
    return {str(row["date"]): row for row in rows.to_dict("records")}


H = 1.0  # one hour, for readable expectations
CASES = [
    pytest.param(
        [("2026-11-02T23:30:00Z", "2026-11-03T00:30:00Z")],
        "UTC",
        {
            "2026-11-02": {"active_hours": 0.5 * H, "session_hours": 0.5 * H, "tasks_submitted": 0},
            "2026-11-03": {"active_hours": 0.5 * H, "session_hours": 0.5 * H, "tasks_submitted": 1},
        },
        id="task-across-midnight-counts-on-both-days",
    ),
    pytest.param(
        [("2026-11-03T04:30:00Z", "2026-11-03T05:30:00Z")],
        "America/New_York",  # EST: local midnight is 05:00 UTC
        {
            "2026-11-02": {"active_hours": 0.5, "tasks_submitted": 0},
            "2026-11-03": {"active_hours": 0.5, "tasks_submitted": 1},
        },
        id="task-across-local-midnight-not-utc-midnight",
    ),
    pytest.param(
        [("2026-11-02T10:00:00Z", "2026-11-02T10:30:00Z"), ("2026-11-02T10:15:00Z", "11:00")],
        "UTC",
        {"2026-11-02": {"active_hours": 1.0, "session_hours": 1.0, "tasks_submitted": 2}},
        id="overlapping-tasks-count-once",
    ),
    pytest.param(
        [(None, "2026-11-02T10:30:00Z"), ("2026-11-02T10:00:00Z", "2026-11-02T10:10:00Z")],
        "UTC",
        {"2026-11-02": {"active_hours": 10 / 60, "session_hours": 0.5, "tasks_submitted": 2}},
        id="missing-accepted-time-is-an-instant",
    ),
    pytest.param(
        [
            ("2026-11-02T10:40:00Z", "2026-11-02T10:30:00Z"),
            ("2026-11-02T10:00:00Z", "2026-11-02T10:10:00Z"),
        ],
        "UTC",
        {"2026-11-02": {"active_hours": 10 / 60, "session_hours": 0.5, "tasks_submitted": 2}},
        id="clock-skew-accepted-after-outcome-is-an-instant",
    ),
    pytest.param(
        [
            ("2026-11-02T23:50:00Z", "2026-11-02T23:55:00Z"),
            ("2026-11-03T00:05:00Z", "2026-11-03T00:10:00Z"),
        ],
        "UTC",
        {
            "2026-11-02": {"active_hours": 5 / 60, "session_hours": 10 / 60, "tasks_submitted": 1},
            "2026-11-03": {"active_hours": 5 / 60, "session_hours": 10 / 60, "tasks_submitted": 1},
        },
        id="session-across-midnight-cut-at-midnight",
    ),
    pytest.param(
        # New York springs forward on Sun 8 Mar 2026: that local day lasts 23 hours.
        [("2026-03-08T04:00:00Z", "2026-03-09T05:00:00Z")],
        "America/New_York",
        {
            "2026-03-07": {"active_hours": 1.0, "session_hours": 1.0},
            "2026-03-08": {"active_hours": 23.0, "session_hours": 23.0},
            "2026-03-09": {"active_hours": 1.0, "tasks_submitted": 1},
        },
        id="spring-forward-day-of-23-hours",
    ),
    pytest.param(
        # Berlin falls back on Sun 25 Oct 2026: that local day lasts 25 hours.
        [("2026-10-24T21:00:00Z", "2026-10-26T00:00:00Z")],
        "Europe/Berlin",
        {
            "2026-10-24": {"active_hours": 1.0},
            "2026-10-25": {"active_hours": 25.0, "session_hours": 25.0},
            "2026-10-26": {"active_hours": 1.0},
        },
        id="fall-back-day-of-25-hours",
    ),
    pytest.param(
        # Santiago springs forward at midnight on 6 Sep 2026: that day starts at 01:00 (04:00 UTC).
        [("2026-09-06T03:00:00Z", "2026-09-06T05:00:00Z")],
        "America/Santiago",
        {"2026-09-05": {"active_hours": 1.0}, "2026-09-06": {"active_hours": 1.0}},
        id="midnight-that-does-not-exist",
    ),
    pytest.param(
        [
            ("2026-11-02T23:50:00Z", "2026-11-03T00:10:00Z", "TasksReturned"),
            ("2026-11-03T00:59:00Z", "2026-11-03T01:00:00Z", "TasksDeclined"),
        ],
        "UTC",
        {
            "2026-11-02": {"tasks_returned": 0, "tasks_declined": 0, "active_hours": 10 / 60},
            "2026-11-03": {"tasks_returned": 1, "tasks_declined": 1, "active_hours": 11 / 60},
        },
        id="returns-and-declines-count-on-their-outcome-day",
    ),
    pytest.param(
        [
            ("2026-11-02T23:50:00Z", "2026-11-03T00:10:00Z", "TasksReturned"),
            ("2026-11-03T00:59:00Z", "2026-11-03T01:00:00Z", "TasksDeclined"),
        ],
        "America/New_York",  # both outcomes are on the evening of 2 Nov in New York
        {"2026-11-02": {"tasks_returned": 1, "tasks_declined": 1, "active_hours": 21 / 60}},
        id="outcome-day-is-the-local-day",
    ),
]


def _completed(accepted: str | None, outcome: str) -> str:
    return outcome if "T" in outcome else f"{(accepted or '')[:11]}{outcome}:00Z"


@pytest.mark.parametrize(("tasks", "timezone", "expected"), CASES)
def test_hand_worked_days(
    tasks: list[tuple[Any, ...]], timezone: str, expected: dict[str, dict[str, Any]]
) -> None:
    lines = [task("w", t[0], _completed(t[0], t[1]), *t[2:]) for t in tasks]
    sheet = timesheet(data_of(*lines), timezone=timezone)
    assert list(sheet.columns) == list(TIMESHEET_COLUMNS)
    found = day_rows(sheet)
    assert sorted(found) == sorted(expected)
    for day, columns in expected.items():
        for column, value in columns.items():
            assert found[day][column] == pytest.approx(value), (day, column)


def test_first_and_last_activity_are_the_days_outcomes() -> None:
    data = data_of(
        task("w", "2026-11-02T23:30:00Z", "2026-11-03T00:30:00Z"),
        task("w", "2026-11-03T09:00:00Z", "2026-11-03T09:10:00Z"),
    )
    found = day_rows(timesheet(data))
    assert pd.isna(found["2026-11-02"]["first_activity"])  # only a task begun that day
    assert found["2026-11-03"]["first_activity"] == pd.Timestamp("2026-11-03T00:30:00Z")
    assert found["2026-11-03"]["last_activity"] == pd.Timestamp("2026-11-03T09:10:00Z")


def _with_responses(rows: list[dict[str, Any]], *lines: str) -> TeamData:
    return data_of(*lines, tables={"responses": response_frame(rows, "responses")})


def test_reported_active_seconds_by_submission_day() -> None:
    responses = [
        response("w", 1, None, "10:00", "10:01", active=20.0, day="2026-11-02"),
        response("w", 2, None, "10:59", "11:00", active=30.0, day="2026-11-02"),
        response("w", 3, None, "08:59", "09:00", active=15.0, day="2026-11-03"),
        response("w", 4, None, "09:59", "10:00", active=None, day="2026-11-03"),
        response("w", 5, None, "09:59", "10:00", active=None, day="2026-11-04"),
        response("r", 6, None, "09:00", "09:01", active=40.0, day="2026-11-03"),
    ]
    data = _with_responses(
        responses,
        task("w", "2026-11-02T10:00:00Z", "2026-11-02T10:01:00Z"),
        task("n", "2026-11-02T10:00:00Z", "2026-11-02T10:05:00Z"),
    )
    sheet = timesheet(data)
    worker = day_rows(sheet)
    assert worker["2026-11-02"]["active_seconds_reported"] == 50.0
    assert worker["2026-11-03"]["active_seconds_reported"] == 15.0
    assert pd.isna(worker["2026-11-04"]["active_seconds_reported"])  # none with active seconds
    # A worker without responses: empty, not 0.
    assert pd.isna(day_rows(sheet, "n")["2026-11-02"]["active_seconds_reported"])
    # A worker known only from responses still gets their day, named by the response.
    only = day_rows(sheet, "r")["2026-11-03"]
    assert only["active_seconds_reported"] == 40.0
    assert (only["tasks_submitted"], only["active_hours"]) == (0, 0.0)
    assert only["worker_id"] == "private.us-east-1.r"


def test_reported_active_seconds_follow_the_local_day_and_the_window() -> None:
    responses = [
        response("w", 1, None, "03:00", "03:30", active=20.0, day="2026-11-03"),
        response("w", 2, None, "12:00", "12:30", active=5.0, day="2026-11-04"),
    ]
    data = _with_responses(responses, task("w", "2026-11-03T03:00:00Z", "2026-11-03T03:30:00Z"))
    local = day_rows(timesheet(data, timezone="America/New_York"))
    assert local["2026-11-02"]["active_seconds_reported"] == 20.0  # 22:30 the evening before
    windowed = data_of(
        task("w", "2026-11-03T03:00:00Z", "2026-11-03T03:30:00Z"),
        tables={"responses": response_frame(responses, "responses")},
        filters=Filters(until=dt.datetime(2026, 11, 4, tzinfo=dt.UTC)),
    )
    assert sorted(day_rows(timesheet(windowed))) == ["2026-11-03"]


def test_empty_window_gives_the_columns() -> None:
    data = data_of(task("w", "2026-11-02T10:00:00Z", "2026-11-02T10:01:00Z"))
    empty = TeamData(events=data.events.iloc[:0])
    sheet = timesheet(empty)
    assert sheet.empty
    assert list(sheet.columns) == list(TIMESHEET_COLUMNS)
    assert timesheet_totals(sheet).empty


def test_totals_per_day() -> None:
    data = data_of(
        task("a", "2026-11-02T23:30:00Z", "2026-11-03T00:30:00Z"),
        task("b", "2026-11-03T10:00:00Z", "2026-11-03T11:00:00Z"),
        task("b", "2026-11-03T10:30:00Z", "2026-11-03T11:30:00Z", "TasksReturned"),
    )
    totals = timesheet_totals(timesheet(data))
    assert list(totals.columns) == list(TIMESHEET_TOTAL_COLUMNS)
    assert [str(day) for day in totals["date"]] == ["2026-11-02", "2026-11-03"]
    assert totals["active_workers"].tolist() == [0, 2]
    assert totals["tasks_submitted"].tolist() == [0, 2]
    assert totals["tasks_returned"].tolist() == [0, 1]
    assert totals["active_hours"].tolist() == pytest.approx([0.5, 0.5 + 1.5])
    assert totals["active_seconds_reported"].isna().all()


@pytest.mark.parametrize(
    "columns",
    [
        pytest.param(TIMESHEET_COLUMNS, id="timesheet"),
        pytest.param(TIMESHEET_TOTAL_COLUMNS, id="totals"),
    ],
)
def test_every_column_is_defined(columns: tuple[str, ...]) -> None:
    assert [name for name in columns if name not in DEFINITIONS] == []


# --------------------------------------------------------------------------- sums to workers
def assert_days_sum_to_worker_table(data: TeamData, timezone: str) -> None:
    """A worker's days add up to their worker-table row: hours to the millisecond, outcomes."""
    sheet = timesheet(data, timezone=timezone)
    workers = worker_summary(data).set_index("worker_key")
    summed = sheet.groupby("worker_key").sum(numeric_only=True)
    assert len(summed) > 0
    for column in ("active_hours", "session_hours"):
        days_ms = (summed[column] * 3_600_000).round().astype(np.int64)
        worker_ms = (workers[column].reindex(summed.index).fillna(0.0) * 3_600_000).round()
        assert (days_ms == worker_ms.astype(np.int64)).all(), column
    # Workers without any day have no time in the worker table either.
    rest = workers.drop(index=summed.index, errors="ignore")
    assert (rest["active_hours"] == 0).all()
    assert (rest["session_hours"] == 0).all()
    for column in ("tasks_submitted", "tasks_returned", "tasks_declined"):
        timed = summed[column].reindex(workers.index).fillna(0).astype(np.int64)
        assert (timed == workers[column]).all(), column
    # No day holds more time than it has.
    assert (sheet["active_hours"] <= 25.0 + 1e-9).all()
    assert (sheet["active_hours"] <= sheet["session_hours"] + 1e-9).all()


TIMEZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Pacific/Chatham"]


@pytest.fixture(scope="module")
def sample_data(tmp_path_factory: pytest.TempPathFactory) -> TeamData:
    return load_team_data(build_sample_store(tmp_path_factory.mktemp("sample") / "store"))


@pytest.mark.parametrize("timezone", TIMEZONES)
def test_days_sum_to_the_worker_table_on_the_sample(sample_data: TeamData, timezone: str) -> None:
    assert_days_sum_to_worker_table(sample_data, timezone)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("timezone", ["UTC", "America/Los_Angeles", "Asia/Kathmandu"])
def test_days_sum_to_the_worker_table_on_a_random_store(
    tmp_path: Path, seed: int, timezone: str
) -> None:
    store = build_random_store(tmp_path / "store", seed, count=1_500, writes=3)
    data = load_team_data(store, Filters(since=dt.datetime(2026, 11, 2, 7, 30, tzinfo=dt.UTC)))
    assert_days_sum_to_worker_table(data, timezone)


@pytest.mark.parametrize("seed", [3, 4])
@pytest.mark.parametrize(
    ("timezone", "change"),
    [
        pytest.param("America/New_York", "2026-03-08", id="new-york-spring"),
        pytest.param("America/New_York", "2026-11-01", id="new-york-fall"),
        pytest.param("Europe/Berlin", "2026-10-25", id="berlin-fall"),
    ],
)
def test_days_sum_to_the_worker_table_across_a_clock_change(
    seed: int, timezone: str, change: str
) -> None:
    rng = np.random.default_rng(seed)
    middle = pd.Timestamp(change, tz="UTC").value // 1_000_000
    lines = []
    for _ in range(400):
        end = middle + int(rng.integers(-2 * 86_400_000, 2 * 86_400_000))
        length = int(rng.lognormal(13.0, 1.5))  # ms: from seconds to many hours
        accepted: str | None = pd.Timestamp(end - length, unit="ms", tz="UTC").isoformat()
        if rng.random() < 0.05:
            accepted = None
        outcome = pd.Timestamp(end, unit="ms", tz="UTC").isoformat()
        kind = ("TasksSubmitted", "TasksReturned", "TasksDeclined")[int(rng.integers(0, 3))]
        lines.append(task(f"w{int(rng.integers(0, 5))}", accepted, outcome, kind))
    assert_days_sum_to_worker_table(data_of(*lines), timezone)
