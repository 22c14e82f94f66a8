"""Every time form the logs carry, parsed to UTC milliseconds (tables of cases)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from analytics.ingest.times import format_java_time, parse_epoch_seconds, parse_times

UTC = dt.UTC


def _one(text: str | None) -> tuple[dt.datetime | None, bool]:
    times, issues = parse_times(pa.array([text], pa.string()))
    return times[0].as_py(), bool(issues[0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wed Aug 14 16:00:59 UTC 2019", dt.datetime(2019, 8, 14, 16, 0, 59, tzinfo=UTC)),
        ("Thu Feb 29 23:59:59 UTC 2024", dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)),
        ("Tue Feb 29 12:00:00 UTC 2000", dt.datetime(2000, 2, 29, 12, 0, 0, tzinfo=UTC)),
        ("Sat Jan 01 00:00:00 UTC 2000", dt.datetime(2000, 1, 1, tzinfo=UTC)),
        ("Fri Dec 31 12:30:05 UTC 2099", dt.datetime(2099, 12, 31, 12, 30, 5, tzinfo=UTC)),
        ("2020-05-01T10:00:00.123", dt.datetime(2020, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)),
        ("2020-05-01T10:00:00.123Z", dt.datetime(2020, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)),
        ("2020-05-01T10:00:00Z", dt.datetime(2020, 5, 1, 10, 0, 0, tzinfo=UTC)),
        ("2020-05-01T10:00:00", dt.datetime(2020, 5, 1, 10, 0, 0, tzinfo=UTC)),
        ("2020-05-01T12:00:00+02:00", dt.datetime(2020, 5, 1, 10, 0, 0, tzinfo=UTC)),
        ("2020-05-01T05:30:00.5-04:30", dt.datetime(2020, 5, 1, 10, 0, 0, 500000, tzinfo=UTC)),
        ("2020-05-01 10:00:00", dt.datetime(2020, 5, 1, 10, 0, 0, tzinfo=UTC)),
    ],
)
def test_time_forms_parse_to_utc(text: str, expected: dt.datetime) -> None:
    assert _one(text) == (expected, False)


@pytest.mark.parametrize("text", ["", None])
def test_empty_or_missing_time_is_no_time_and_no_issue(text: str | None) -> None:
    assert _one(text) == (None, False)


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "Wed Foo 14 16:00:59 UTC 2019",
        "Wed Feb 30 16:00:59 UTC 2019",
        "Fri Feb 29 10:00:00 UTC 2019",  # 2019 is no leap year (nor is 2100: see below)
        "2020-13-01T00:00",
        # Partial or relative forms a lenient parser would complete with today's date:
        "Aug",
        "now",
        "today",
        "14:05",
        "10:00 PM",
        "2019",
        "01/02/2019",
        # Implausible for Ground Truth (before 2000 or from 2100 on), or another zone's name:
        "Thu Jan 01 00:00:00 UTC 1970",
        "2100-01-01T00:00:00Z",
        "Thu Aug 15 16:05:59 PDT 2019",
    ],
)
def test_unparseable_time_is_null_and_flagged(text: str) -> None:
    assert _one(text) == (None, True)


def test_a_column_may_mix_forms_row_by_row() -> None:
    texts = ["Wed Aug 14 16:00:59 UTC 2019", "2019-08-14T16:00:59Z", "", "junk", None]
    times, issues = parse_times(pa.array(texts, pa.string()))
    same = dt.datetime(2019, 8, 14, 16, 0, 59, tzinfo=UTC)
    assert times.to_pylist() == [same, same, None, None, None]
    assert issues.tolist() == [False, False, False, True, False]


@pytest.mark.parametrize(
    ("text", "expected", "issue"),
    [
        ("1565798480", dt.datetime(2019, 8, 14, 16, 1, 20, tzinfo=UTC), False),
        ("1565798480.25", dt.datetime(2019, 8, 14, 16, 1, 20, 250000, tzinfo=UTC), False),
        ("2019-08-14T16:01:20Z", dt.datetime(2019, 8, 14, 16, 1, 20, tzinfo=UTC), False),
        ("", None, False),
        (None, None, False),
        ("soon", None, True),
        ("999999999999", None, True),
        ("-5", None, True),
        ("5", None, True),
    ],
)
def test_event_timestamp_is_epoch_seconds_as_text(
    text: str | None, expected: dt.datetime | None, issue: bool
) -> None:
    times, issues = parse_epoch_seconds(pa.array([text], pa.string()))
    assert (times[0].as_py(), bool(issues[0])) == (expected, issue)


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2019, 8, 14, 16, 0, 59, tzinfo=UTC),
        dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
        dt.datetime(2000, 1, 1, tzinfo=UTC),
        dt.datetime(2026, 11, 1, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=-4))),
    ],
    ids=str,
)
def test_the_documented_form_is_written_as_it_is_read(moment: dt.datetime) -> None:
    text = format_java_time(moment)
    assert len(text) == len("Wed Aug 14 16:00:59 UTC 2019")
    assert text == moment.astimezone(UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
    assert _one(text) == (moment, False)
