"""The staffing plan against cases worked out by hand (issue 13.3).

The team below (UTC unless a case says otherwise; today = Tue 1 Dec 2026, the window ends at
12:00) and what it gives, worked by hand:

rate window: the last 7 days, Tue 24 Nov 12:00 to Tue 1 Dec 12:00; its working days (Mon-Fri):
half of Tue 24, Wed 25, Thu 26, Fri 27, Mon 30, half of Tue 1 = 5.

stream-a (streaming, 2 workers per object): latest SQS snapshot 6 queued + 4 in flight = 10
objects -> 20 tasks. Worker a, Mon 30 Nov: six 30-minute tasks back to back 08:00-11:00 (3 h).
Worker b, Thu 26 Nov: 09:00-09:40, 09:20-10:00, 10:00-10:30 (overlap merged: 1.5 h); Fri 27 Nov:
13:00-13:30, 13:30-14:00, 14:00-14:30 (1.5 h). A task on Mon 23 Nov is before the window.
  rate = 12 tasks / 6 h = 2 tasks per active hour; worker-days 3, 1.5, 1.5 h -> median 1.5 h;
  pace = 12 / 5 = 2.4 tasks per working day; 20 / 2.4 = 8.33 -> the 9th working day after Tue 1
  Dec: Wed 2, Thu 3, Fri 4, Mon 7 ... Fri 11 (8), Mon 14 Dec.
  by Fri 4 Dec: 3 working days left (Wed, Thu, Fri): ceil(20 / (2 x 1.5 x 3)) = ceil(2.22) = 3.
  by Mon 7 Dec, across the weekend: 4 days left: ceil(20 / 12) = 2.

batch-b (batch, 1 worker per object): PendingHuman 9 (Unlabeled 50 is not used) -> 9 tasks.
Worker c, Wed 25 Nov: three 20-minute tasks 10:00-11:00 submitted, one 11:00-11:30 returned (its
time is active time, it is no submitted task): rate = 3 / 1.5 h = 2; hours per day 1.5;
  pace = 3 / 5 = 0.6 a day; 9 / 0.6 = 15 (15.000000000000002 in floating point: still 15) -> the
  15th working day after Tue 1 Dec: Tue 22 Dec.
  by Fri 4 Dec: ceil(9 / (2 x 1.5 x 3)) = ceil(1) = 1 worker (not 2).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from analytics.dataset import Filters, TeamData
from analytics.errors import UsageError
from analytics.metrics.definitions import DEFINITIONS
from analytics.metrics.staffing import (
    STAFFING_ASSUMPTIONS,
    STAFFING_COLUMNS,
    describe_working_days,
    staffing_plan,
    working_days_between,
)
from analytics.store.schema import BACKLOG, JOBS
from tests.support.team_data import data_of, line

UTC = dt.UTC
AS_OF = pd.Timestamp("2026-12-01T12:00Z")  # Tue 1 Dec 2026


def job(name: str, **fields: Any) -> dict[str, Any]:
    """One row of the store's jobs table: every column of ``schema.JOBS``, missing unless given."""
    row: dict[str, Any] = dict.fromkeys(JOBS.names)
    row.update({"labeling_job_name": name, "status": "InProgress", "is_streaming": False})
    row.update(fields)
    return row


def snapshot(job_name: str, observed: str, visible: int | None, in_flight: int | None) -> dict:
    """One row of the store's backlog table (``schema.BACKLOG``)."""
    return {
        "queue_name": f"GroundTruth-{job_name.lower()}",
        "labeling_job_name": job_name,
        "observed_at": pd.Timestamp(observed).to_pydatetime(),
        "messages_visible": visible,
        "messages_in_flight": in_flight,
        "oldest_message_age_seconds": 3_600.0,
    }


def team(
    lines: list[str],
    jobs: list[dict[str, Any]],
    backlog: list[dict[str, Any]] | None = None,
    as_of: pd.Timestamp = AS_OF,
) -> TeamData:
    tables = {
        "jobs": pa.Table.from_pylist(jobs, schema=JOBS),
        "backlog": pa.Table.from_pylist(backlog or [], schema=BACKLOG),
    }
    return data_of(*lines, tables=tables, as_of=as_of)


HALF_HOURS = ["08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00"]
STREAM_LINES = [
    *(
        line("a", start, end, job="stream-a", day="2026-11-30")
        for start, end in itertools.pairwise(HALF_HOURS)
    ),
    line("b", "09:00", "09:40", job="stream-a", day="2026-11-26"),
    line("b", "09:20", "10:00", job="stream-a", day="2026-11-26"),
    line("b", "10:00", "10:30", job="stream-a", day="2026-11-26"),
    line("b", "13:00", "13:30", job="stream-a", day="2026-11-27"),
    line("b", "13:30", "14:00", job="stream-a", day="2026-11-27"),
    line("b", "14:00", "14:30", job="stream-a", day="2026-11-27"),
    line("b", "09:00", "12:00", job="stream-a", day="2026-11-23"),  # before the rate window
]
BATCH_LINES = [
    line("c", "10:00", "10:20", job="batch-b", day="2026-11-25"),
    line("c", "10:20", "10:40", job="batch-b", day="2026-11-25"),
    line("c", "10:40", "11:00", job="batch-b", day="2026-11-25"),
    line("c", "11:00", "11:30", "TasksReturned", job="batch-b", day="2026-11-25"),
]
STREAM_JOB = job("stream-a", is_streaming=True, workers_per_object=2)
STREAM_BACKLOG = [
    snapshot("stream-a", "2026-11-30T12:00Z", 50, 0),  # an older snapshot: not used
    snapshot("stream-a", "2026-12-01T11:00Z", 6, 4),
]
BATCH_JOB = job("batch-b", workers_per_object=1, pending_human=9, unlabeled=50)


def the_team() -> TeamData:
    return team(STREAM_LINES + BATCH_LINES, [STREAM_JOB, BATCH_JOB], STREAM_BACKLOG)


def noon(day: str, zone: str = "UTC") -> dt.datetime:
    return pd.Timestamp(f"{day}T12:00", tz=zone).to_pydatetime()


def plan_row(plan: pd.DataFrame, name: str) -> dict[str, Any]:
    found = plan[plan["labeling_job_name"] == name]
    assert len(found) == 1, f"{name!r} has {len(found)} rows"
    return dict(found.iloc[0])


def local_date(value: Any) -> dt.date | None:
    return None if pd.isna(value) else pd.Timestamp(value).date()


# --------------------------------------------------------------------------- the worked team
WORKED_CASES = [
    pytest.param(
        "stream-a",
        "2026-12-04",
        {
            "remaining_source": "SQS queue (queued + held by workers)",
            "remaining_objects": 10,
            "remaining_tasks": 20,
            "tasks_submitted_recently": 12,
            "workers_recently": 2,
            "active_hours_recently": 6.0,
            "tasks_per_active_hour": 2.0,
            "active_hours_per_worker_day": 1.5,
            "working_days_in_rate_window": 5.0,
            "tasks_per_working_day": 2.4,
            "clears_on": dt.date(2026, 12, 14),
            "working_days_left": 3,
            "workers_needed": 3,
        },
        "stream-a: 20 tasks to do; at the recent rate it clears on Mon 14 Dec; to clear it by "
        "Fri 4 Dec you need 3 workers for 1.5 active hours a day",
        id="streaming-by-friday",
    ),
    pytest.param(
        "stream-a",
        "2026-12-07",
        {"working_days_left": 4, "workers_needed": 2},
        "stream-a: 20 tasks to do; at the recent rate it clears on Mon 14 Dec; to clear it by "
        "Mon 7 Dec you need 2 workers for 1.5 active hours a day",
        id="streaming-across-a-weekend",
    ),
    pytest.param(
        "stream-a",
        "2026-12-05",
        {"working_days_left": 3, "workers_needed": 3},
        None,
        id="a-saturday-deadline-adds-no-day",
    ),
    pytest.param(
        "batch-b",
        "2026-12-04",
        {
            "remaining_source": "LabelCounters PendingHuman",
            "remaining_objects": 9,
            "remaining_tasks": 9,
            "tasks_submitted_recently": 3,
            "active_hours_recently": 1.5,
            "tasks_per_active_hour": 2.0,
            "active_hours_per_worker_day": 1.5,
            "tasks_per_working_day": 0.6,
            "clears_on": dt.date(2026, 12, 22),
            "working_days_left": 3,
            "workers_needed": 1,
        },
        "batch-b: 9 tasks to do; at the recent rate it clears on Tue 22 Dec; to clear it by "
        "Fri 4 Dec you need 1 worker for 1.5 active hours a day",
        id="batch-exact-ratio-is-not-rounded-up",
    ),
    pytest.param(
        "stream-a",
        "2026-11-30",
        {"working_days_left": 0, "workers_needed": None, "clears_on": dt.date(2026, 12, 14)},
        "stream-a: 20 tasks to do; at the recent rate it clears on Mon 14 Dec; the deadline Mon "
        "30 Nov has passed",
        id="deadline-passed",
    ),
    pytest.param(
        "stream-a",
        "2026-12-01",
        {"working_days_left": 0, "workers_needed": None},
        "stream-a: 20 tasks to do; at the recent rate it clears on Mon 14 Dec; no working day is "
        "left before the deadline Tue 1 Dec (today not counted; working days Mon–Fri)",
        id="deadline-today",
    ),
    pytest.param(
        "stream-a",
        "9998-12-31",
        {"workers_needed": 1},
        "stream-a: 20 tasks to do; at the recent rate it clears on Mon 14 Dec; to clear it by "
        "Thu 31 Dec 9998 you need 1 worker for 1.5 active hours a day",
        id="a-deadline-far-ahead",
    ),
    pytest.param(
        "stream-a",
        None,
        {"working_days_left": None, "workers_needed": None, "deadline": None},
        "stream-a: 20 tasks to do; at the recent rate it clears on Mon 14 Dec",
        id="no-deadline-chosen",
    ),
]


@pytest.mark.parametrize(("name", "deadline", "expected", "message"), WORKED_CASES)
def test_the_worked_team(
    name: str, deadline: str | None, expected: dict[str, Any], message: str | None
) -> None:
    deadlines = {name: noon(deadline)} if deadline else {}
    row = plan_row(staffing_plan(the_team(), deadlines=deadlines), name)
    for column, value in expected.items():
        got = row[column]
        if column in ("clears_on", "deadline"):
            got = local_date(got)
        if value is None:
            assert got is None or pd.isna(got), column
        elif isinstance(value, float):
            assert math.isclose(got, value), (column, got, value)
        else:
            assert got == value, (column, got, value)
    if deadline is not None:
        assert local_date(row["deadline"]) == dt.date.fromisoformat(deadline)
    if message is not None:
        assert row["message"] == message


def test_one_row_per_job_with_a_backlog_in_name_order_with_exactly_the_columns() -> None:
    jobs = [
        BATCH_JOB,
        STREAM_JOB,
        job("done-c", status="Completed", pending_human=5, workers_per_object=1),
        job("empty-d", pending_human=0, unlabeled=0, workers_per_object=1),
        job("unknown-e", workers_per_object=1),  # no counter synced: no known backlog
        job("stream-f", is_streaming=True, workers_per_object=1),
        job("stream-g", is_streaming=True, workers_per_object=1),
    ]
    backlog = [*STREAM_BACKLOG, snapshot("stream-f", "2026-12-01T11:00Z", 0, 0)]
    plan = staffing_plan(team(STREAM_LINES + BATCH_LINES, jobs, backlog))
    assert list(plan.columns) == list(STAFFING_COLUMNS)
    assert plan["labeling_job_name"].tolist() == ["batch-b", "stream-a"]


def test_without_any_backlog_the_plan_is_empty_with_its_columns() -> None:
    plan = staffing_plan(team(BATCH_LINES, [job("batch-b", pending_human=0)]))
    assert plan.empty
    assert list(plan.columns) == list(STAFFING_COLUMNS)
    assert str(plan["workers_needed"].dtype) == "Int64"


# --------------------------------------------------------------------------- what is missing
MISSING_CASES = [
    pytest.param(
        [],
        job("idle-e", pending_human=4, workers_per_object=3),
        {"remaining_tasks": 12, "tasks_per_active_hour": None, "clears_on": None},
        "idle-e: 12 tasks to do; no work on this job in the last 7 days: no rate to project from",
        id="no-recent-work-no-rate",
    ),
    pytest.param(
        [line("c", "10:00", "10:20", job="idle-e", day="2026-11-20")],
        job("idle-e", pending_human=4, workers_per_object=3),
        {"tasks_submitted_recently": 0, "clears_on": None, "workers_needed": None},
        "idle-e: 12 tasks to do; no work on this job in the last 7 days: no rate to project from",
        id="work-only-before-the-rate-window",
    ),
    pytest.param(
        [line("c", None, "10:20", job="idle-e", day="2026-11-30")],
        job("idle-e", pending_human=4, workers_per_object=3),
        {"tasks_submitted_recently": 1, "tasks_per_active_hour": None, "workers_needed": None},
        "idle-e: 12 tasks to do; no active time measured on this job in the last 7 days (no "
        "task with a usable accepted time): no rate to project from",
        id="submitted-without-accepted-times-no-rate",
    ),
    pytest.param(
        [line("c", "10:00", "11:00", job="wpo-f", day="2026-11-30")],
        job("wpo-f", pending_human=4),
        {"workers_per_object": None, "remaining_tasks": 4, "workers_needed": 2},
        "wpo-f: 4 tasks to do (workers per object unknown: 1 assumed); at the recent rate it "
        "clears on Tue 29 Dec; to clear it by Fri 4 Dec you need 2 workers for 1.0 active "
        "hours a day",
        id="workers-per-object-unknown-1-assumed",
    ),
    pytest.param(
        [line("c", "10:00", "11:00", job="wpo-f", day="2026-11-30")],
        job("wpo-f", pending_human=4, workers_per_object=0),
        {"remaining_tasks": 4, "workers_needed": 2},
        "wpo-f: 4 tasks to do (workers per object unknown: 1 assumed); at the recent rate it "
        "clears on Tue 29 Dec; to clear it by Fri 4 Dec you need 2 workers for 1.0 active "
        "hours a day",
        id="workers-per-object-0-is-unknown",
    ),
    pytest.param(
        [line("c", "10:00", "10:02", job="short-h", day="2026-11-30")],
        job("short-h", pending_human=4, workers_per_object=1),
        {"active_hours_per_worker_day": 2 / 60, "workers_needed": 2},
        "short-h: 4 tasks to do; at the recent rate it clears on Tue 29 Dec; to clear it by "
        "Fri 4 Dec you need 2 workers for 0.033 active hours a day",
        id="minutes-a-day-are-not-0.0-hours",
    ),
    pytest.param(
        [line("c", "10:00", "11:00", job="unl-g", day="2026-11-30")],
        job("unl-g", unlabeled=3, workers_per_object=1),
        {"remaining_source": "LabelCounters Unlabeled (PendingHuman unknown)"},
        None,
        id="pending-human-unknown-unlabeled-used",
    ),
]


@pytest.mark.parametrize(("lines", "job_row", "expected", "message"), MISSING_CASES)
def test_what_is_missing_is_said(
    lines: list[str], job_row: dict[str, Any], expected: dict[str, Any], message: str | None
) -> None:
    # wpo-f: 1 task in 1 h (rate 1, 1 h a day), pace 1 / 5 = 0.2 a day: 4 / 0.2 = 20 working
    # days after Tue 1 Dec = Tue 29 Dec; by Fri 4 Dec: ceil(4 / (1 x 1 x 3)) = 2.
    name = job_row["labeling_job_name"]
    plan = staffing_plan(team(lines, [job_row]), deadlines={name: noon("2026-12-04")})
    row = plan_row(plan, name)
    for column, value in expected.items():
        got = local_date(row[column]) if column == "clears_on" else row[column]
        if value is None:
            assert pd.isna(got), column
        else:
            assert got == value, (column, got)
    if message is not None:
        assert row["message"] == message


def test_a_window_shorter_than_the_rate_days_measures_over_the_window() -> None:
    """A one-day window (the dashboard's "Last 24 hours"): stream-a's work is days older."""
    tables = {
        "jobs": pa.Table.from_pylist([STREAM_JOB], schema=JOBS),
        "backlog": pa.Table.from_pylist(STREAM_BACKLOG, schema=BACKLOG),
    }
    filters = Filters(since=(AS_OF - pd.Timedelta(days=1)).to_pydatetime(), until=AS_OF)
    data = data_of(*STREAM_LINES, tables=tables, filters=filters)
    row = plan_row(staffing_plan(data), "stream-a")
    assert row["rate_window_days"] == 1.0
    assert row["working_days_in_rate_window"] == 1.0
    assert row["message"] == (
        "stream-a: 20 tasks to do; no work on this job in the last day: no rate to project from"
    )


# --------------------------------------------------------------------------- daylight saving
def test_a_daylight_saving_week_counts_local_days() -> None:
    """New York falls back on Sun 1 Nov 2026 (a 25-hour day), every day a working day.

    The window ends Mon 2 Nov 23:00 EST (04:00 UTC Tue 3 Nov); the rate window starts 168 hours
    earlier, Tue 27 Oct 00:00 EDT: Tue 27 ... Sat 31 (5 days), Sun 1 Nov whole (25 h = 1 day)
    and 23 of Mon 2 Nov's 24 hours: 6 + 23/24 working days, not 7.
    Worker x: Sat 31 Oct 21:00-22:00 EDT (01:00-02:00 UTC Sun) and Sun 1 Nov 09:00-10:00 EST
    (14:00-15:00 UTC): one UTC day of 2 h but two local days of 1 h: median 1 h a day.
    7 tasks / (2 / (6 + 23/24)) = 24.35 -> the 25th day after Mon 2 Nov = Fri 27 Nov.
    By Sun 8 Nov (given as 03:00 UTC Mon 9 Nov, still Sun 8 Nov in New York): Tue 3 ... Sun 8,
    6 days: ceil(7 / (1 x 1 x 6)) = 2.
    """
    zone = "America/New_York"
    lines = [
        line("x", "01:00", "02:00", job="nyc", day="2026-11-01"),
        line("x", "14:00", "15:00", job="nyc", day="2026-11-01"),
    ]
    data = team(
        lines,
        [job("nyc", pending_human=7, workers_per_object=1)],
        as_of=pd.Timestamp("2026-11-03T04:00Z"),
    )
    plan = staffing_plan(
        data,
        deadlines={"nyc": dt.datetime(2026, 11, 9, 3, tzinfo=UTC)},
        timezone=zone,
        working_days=(0, 1, 2, 3, 4, 5, 6),
    )
    row = plan_row(plan, "nyc")
    assert math.isclose(row["working_days_in_rate_window"], 6 + 23 / 24)
    assert row["active_hours_per_worker_day"] == 1.0
    assert row["tasks_per_active_hour"] == 1.0
    assert local_date(row["clears_on"]) == dt.date(2026, 11, 27)
    assert str(row["clears_on"].tz) == zone
    assert local_date(row["deadline"]) == dt.date(2026, 11, 8)
    assert row["working_days_left"] == 6
    assert row["workers_needed"] == 2
    assert row["working_days"] == "Mon–Sun (America/New_York)"


@pytest.mark.parametrize(
    ("start", "end", "zone", "weekdays", "expected"),
    [
        pytest.param(
            "2026-03-07T00:00-05:00",
            "2026-03-09T00:00-04:00",
            "America/New_York",
            {5, 6},
            2.0,
            id="spring-forward-23-hour-sunday-is-one-day",
        ),
        pytest.param(
            "2026-03-08T12:00-04:00",
            "2026-03-09T00:00-04:00",
            "America/New_York",
            {6},
            12 / 23,
            id="half-a-23-hour-day-by-its-own-length",
        ),
        pytest.param(
            "2026-09-05T00:00-04:00",
            "2026-09-07T00:00-03:00",
            "America/Santiago",
            {6},
            1.0,
            id="a-sunday-without-midnight-starts-at-01-00",
        ),
        pytest.param(
            "2026-09-06T12:00-03:00",
            "2026-09-07T00:00-03:00",
            "America/Santiago",
            {6},
            12 / 23,
            id="half-of-it-by-its-23-hours",
        ),
        pytest.param(
            "2026-11-27T00:00Z",
            "2026-11-30T00:00Z",
            "UTC",
            {0, 1, 2, 3, 4},
            1.0,
            id="a-weekend-adds-nothing",
        ),
        pytest.param("2026-11-30T00:00Z", "2026-11-30T00:00Z", "UTC", {0}, 0.0, id="an-empty-span"),
    ],
)
def test_working_days_between(
    start: str, end: str, zone: str, weekdays: set[int], expected: float
) -> None:
    got = working_days_between(
        pd.Timestamp(start).tz_convert("UTC"),
        pd.Timestamp(end).tz_convert("UTC"),
        zone,
        frozenset(weekdays),
    )
    assert math.isclose(got, expected, abs_tol=1e-12)


@pytest.mark.parametrize(
    ("weekdays", "expected"),
    [
        pytest.param((0, 1, 2, 3, 4), "Mon–Fri (UTC)", id="weekdays"),
        pytest.param((0, 2, 4), "Mon, Wed, Fri (UTC)", id="apart"),
        pytest.param((5, 6), "Sat, Sun (UTC)", id="a-pair"),
        pytest.param((6,), "Sun (UTC)", id="one"),
    ],
)
def test_working_days_are_described(weekdays: tuple[int, ...], expected: str) -> None:
    assert describe_working_days(weekdays, "UTC") == expected


# --------------------------------------------------------------------------- hostile names
HOSTILE_NAMES = [
    pytest.param("job\r\nline2\x00\x1b[31m\u202e", id="control-characters"),
    pytest.param(
        "**bold** [t](http:evil.invalid) <img src=x onerror=alert(1)> `code` # h &amp;",
        id="markdown-html",
    ),
    pytest.param("naïve-日本語-job", id="unicode"),
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_job_names_are_kept_literal_in_the_message(name: str) -> None:
    lines = [line("c", "10:00", "11:00", job=name, day="2026-11-30")]
    plan = staffing_plan(
        team(lines, [job(name, pending_human=2, workers_per_object=1)]),
        deadlines={name: noon("2026-12-04")},
    )
    row = plan_row(plan, name)
    assert row["message"].startswith(f"{name}: 2 tasks to do; at the recent rate it clears on ")


# --------------------------------------------------------------------------- arguments
@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        pytest.param({"timezone": "Mars/Olympus"}, "timezone must be an IANA", id="bad-zone"),
        pytest.param({"timezone": " "}, "timezone must be an IANA", id="blank-zone"),
        pytest.param({"working_days": ()}, "working_days must name", id="no-working-day"),
        pytest.param({"working_days": (7,)}, "working_days must name", id="day-7"),
        pytest.param(
            {"rate_days": 0}, "rate_days must be a number of days above 0", id="zero-rate-days"
        ),
        pytest.param({"rate_days": float("nan")}, "rate_days must be", id="nan-rate-days"),
        pytest.param({"rate_days": 1e9}, "at most 3,660", id="rate-days-past-any-timestamp"),
        pytest.param(
            {"deadlines": {"batch-b": dt.datetime(2026, 12, 4, 12)}},  # noqa: DTZ001 (naive on purpose)
            "the deadline of job 'batch-b' must be a datetime with a time zone",
            id="naive-deadline",
        ),
        pytest.param(
            {"deadlines": {"batch-b": dt.datetime(1, 1, 1, 2, tzinfo=UTC)}},
            "the deadline of job 'batch-b' must fall in the years 1900 to 9998",
            id="deadline-in-year-1",
        ),
        pytest.param(
            {"deadlines": {"batch-b": dt.datetime(9999, 12, 31, 23, tzinfo=UTC)}},
            "must fall in the years 1900 to 9998",
            id="deadline-in-year-9999",
        ),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        staffing_plan(the_team(), **kwargs)


# --------------------------------------------------------------------------- definitions
def test_every_column_and_assumption_is_defined_once() -> None:
    assert [name for name in STAFFING_COLUMNS if name not in DEFINITIONS] == []
    assert set(STAFFING_ASSUMPTIONS) <= set(STAFFING_COLUMNS)
    formula = DEFINITIONS["workers_needed"].text
    assert "ceil(remaining_tasks / (tasks_per_active_hour x active_hours_per_worker_day x " in (
        formula
    )
