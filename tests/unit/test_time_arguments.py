"""Time arguments of the command line: one meaning of a time and of a span in every command."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from analytics.cli.main import main
from analytics.cli.time_arguments import (
    last_span_start,
    parse_span,
    parse_time,
    parse_when,
    window_of_last,
)
from analytics.dataset import data_as_of
from analytics.errors import UsageError
from analytics.ingest.parse import parse_bytes
from analytics.ingest.times import format_java_time
from analytics.store.store import Store
from tests.conftest import message_line

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 9, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", dt.timedelta(days=7)),
        ("12h", dt.timedelta(hours=12)),
        ("30m", dt.timedelta(minutes=30)),
        ("2w", dt.timedelta(weeks=2)),
        (" 1.5D ", dt.timedelta(hours=36)),
        ("45s", dt.timedelta(seconds=45)),
        ("2026-11-01", None),
        ("7 days", None),
        ("d", None),
    ],
    ids=str,
)
def test_spans(text: str, expected: dt.timedelta | None) -> None:
    assert parse_span(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - dt.timedelta(days=7)),
        ("12h", NOW - dt.timedelta(hours=12)),
        ("30m", NOW - dt.timedelta(minutes=30)),
        ("2w", NOW - dt.timedelta(weeks=2)),
        ("1.5d", NOW - dt.timedelta(hours=36)),
        ("2026-11-01", dt.datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T08:30", dt.datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
        ("2026-11-01T08:30Z", dt.datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
        ("2026-11-01T10:30+02:00", dt.datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
    ],
    ids=str,
)
def test_a_span_counts_back_from_now_and_a_time_without_offset_is_utc(
    text: str, expected: dt.datetime
) -> None:
    assert parse_when(text, NOW, "--since") == expected


@pytest.mark.parametrize(
    ("text", "timezone", "expected"),
    [
        ("2026-11-01T08:30", "Europe/Berlin", dt.datetime(2026, 11, 1, 7, 30, tzinfo=UTC)),
        ("2026-11-01", "Asia/Kolkata", dt.datetime(2026, 10, 31, 18, 30, tzinfo=UTC)),
        ("2026-11-01T08:30Z", "Asia/Kolkata", dt.datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
        # Daylight saving: 01:30 happens twice on Nov 1 in New York (summer time is taken),
        # 02:30 never happens on Mar 8 (moved forward to 03:00).
        ("2026-11-01T01:30", "America/New_York", dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        ("2026-03-08T02:30", "America/New_York", dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
    ],
    ids=str,
)
def test_a_time_without_offset_is_in_the_commands_time_zone(
    text: str, timezone: str, expected: dt.datetime
) -> None:
    assert parse_time(text, "--since", timezone) == expected


@pytest.mark.parametrize(
    "text", ["yesterday", "7x", "", "2026-13-01", "now", "today", "Nov 1 2026", "14:05"], ids=repr
)
def test_anything_else_is_refused_with_the_argument_named(text: str) -> None:
    with pytest.raises(UsageError, match=r"^--until must be an ISO 8601 date or time"):
        parse_when(text, NOW, "--until")


def test_last_counts_back_from_the_latest_data_and_keeps_it() -> None:
    latest = dt.datetime(2026, 11, 8, 17, 0, tzinfo=UTC)
    start = last_span_start("7d", latest, "--last")
    assert start == latest + dt.timedelta(milliseconds=1) - dt.timedelta(days=7)
    with pytest.raises(UsageError, match=r"^--last must be a span"):
        last_span_start("2026-11-01", latest, "--last")
    with pytest.raises(UsageError, match="no data to count back from"):
        last_span_start("7d", None, "--last")


# --------------------------------------------------------------------------- through the CLI
def store_with_tasks(root: Path, *submitted: dt.datetime) -> Store:
    """A store with one submitted task per time, each by its own worker."""
    lines = [
        message_line(
            worker_id=f"w{index}",
            cognito_sub_id=None,
            task_accepted_time=format_java_time(moment - dt.timedelta(minutes=1)),
            task_submitted_time=format_java_time(moment),
            event_timestamp=str(int(moment.timestamp())),
        )
        for index, moment in enumerate(submitted)
    ]
    store = Store(root)
    store.add_events(parse_bytes("\n".join(lines).encode(), "f.jsonl").events)
    return store


def exported_workers(
    store: Store, out: Path, *arguments: str, capsys: pytest.CaptureFixture[str]
) -> tuple[list[str], str]:
    code = main(["export", "workers", "--data", str(store.root), "--out", str(out), *arguments])
    assert code == 0
    rows = csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))
    return sorted(r["worker_key"] for r in rows), capsys.readouterr().err


def test_export_since_a_span_counts_back_from_now_as_in_sync(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = dt.datetime.now(UTC).replace(microsecond=0)
    store = store_with_tasks(
        tmp_path / "store", now - dt.timedelta(days=20), now - dt.timedelta(days=25)
    )
    workers, err = exported_workers(store, tmp_path / "w.csv", "--since", "7d", capsys=capsys)
    assert workers == []  # counted back from the latest data (20 days ago), both would be in
    assert "--last 7d gives the store's last stretch" in err
    workers, _ = exported_workers(store, tmp_path / "w.csv", "--since", "22d", capsys=capsys)
    assert workers == ["w0"]


def test_export_last_counts_back_from_the_latest_data_like_the_dashboard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = dt.datetime.now(UTC).replace(microsecond=0)
    latest = now - dt.timedelta(days=20)
    store = store_with_tasks(
        tmp_path / "store",
        latest,
        latest - dt.timedelta(days=6, hours=23),
        latest - dt.timedelta(days=7),  # exactly 7 days before the latest: out, as on screen
    )
    assert data_as_of(store) == latest
    workers, err = exported_workers(store, tmp_path / "w.csv", "--last", "7d", capsys=capsys)
    assert workers == ["w0", "w1"]
    assert err == ""


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(["--last", "7d", "--since", "2026-11-01"], "--last replaces", id="both"),
        pytest.param(["--last", "2026-11-01"], "--last must be a span", id="not-a-span"),
    ],
)
def test_export_last_mistakes_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    store = store_with_tasks(tmp_path / "store", dt.datetime(2026, 11, 1, tzinfo=UTC))
    out = tmp_path / "w.csv"
    code = main(["export", "workers", "--data", str(store.root), "--out", str(out), *arguments])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_an_ambiguous_local_time_is_a_time_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 01:30 on Nov 1 happens twice in New York: taken in summer time (05:30 UTC).
    store = store_with_tasks(
        tmp_path / "store",
        dt.datetime(2026, 11, 1, 5, 29, tzinfo=UTC),
        dt.datetime(2026, 11, 1, 5, 31, tzinfo=UTC),
    )
    arguments = ["--since", "2026-11-01T01:30", "--timezone", "America/New_York"]
    workers, _ = exported_workers(store, tmp_path / "w.csv", *arguments, capsys=capsys)
    assert workers == ["w1"]


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["sync"], id="sync"),
        pytest.param(["export", "workers", "--out", "w.csv"], id="export"),
    ],
)
@pytest.mark.parametrize("argument", ["--since", "--until"])
def test_every_command_reads_time_arguments_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], argument: str
) -> None:
    code = main([*command, "--data", str(tmp_path / "store"), argument, "yesterday-ish"])
    assert code == 2
    assert capsys.readouterr().err == (
        f"error: {argument} must be an ISO 8601 date or time (2026-11-01, 2026-11-01T08:00+01:00)"
        " or a span back from now such as 7d or 12h (got 'yesterday-ish')\n"
    )


def test_the_window_of_the_last_span_holds_the_latest_data() -> None:
    latest = dt.datetime(2026, 11, 8, 14, 8, 0, 500_000, tzinfo=dt.UTC)
    start, end = window_of_last(dt.timedelta(days=7), latest)
    assert end == dt.datetime(2026, 11, 8, 14, 8, 0, 501_000, tzinfo=dt.UTC)
    assert start == dt.datetime(2026, 11, 1, 14, 8, 0, 501_000, tzinfo=dt.UTC)
    assert start <= latest < end
    assert last_span_start("7d", latest, "--last") == start
