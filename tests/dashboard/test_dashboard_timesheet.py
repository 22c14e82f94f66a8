"""The Timesheet page through AppTest: its tables are ``timesheet`` and ``timesheet_totals`` for the
sidebar's window in the view's time zone, and its download is what ``export timesheet`` writes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from analytics import (
    Filters,
    Store,
    definitions_csv_bytes,
    load_team_data,
    timesheet,
    timesheet_csv_bytes,
    timesheet_totals,
)
from tests.conftest import REPO_ROOT
from tests.support.app_downloads import download_bytes

APP = REPO_ROOT / "dashboard" / "app.py"
pytestmark = pytest.mark.usefixtures("no_lookahead")


def open_timesheet(
    sample_store_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, timezone: str
) -> AppTest:
    monkeypatch.setenv("GT_THROUGHPUT_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("GT_THROUGHPUT_SAMPLE_STORE", str(sample_store_root))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["tz"] = timezone
    at.run()
    at.switch_page("app_pages/timesheet.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Timesheet"
    return at


def expected_sheet(sample_store_root: Path, timezone: str) -> pd.DataFrame:
    """The timesheet of the sidebar's default window (the last 7 days of data)."""
    store = Store(sample_store_root)
    until = (load_team_data(store).as_of + pd.Timedelta(milliseconds=1)).to_pydatetime()
    data = load_team_data(store, Filters(since=until - dt.timedelta(days=7), until=until))
    return timesheet(data, timezone=timezone)


@pytest.mark.parametrize("timezone", ["UTC", "Asia/Kolkata"])
def test_tables_and_download_are_the_timesheet_of_the_view(
    sample_store_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    media: list[MemoryMediaFileStorage],
    timezone: str,
) -> None:
    at = open_timesheet(sample_store_root, tmp_path, monkeypatch, timezone)
    expected = expected_sheet(sample_store_root, timezone)
    assert len(expected) > 0
    totals, sheet = at.dataframe[0].value, at.dataframe[1].value
    assert len(sheet) == len(expected)
    assert [str(d) for d in sheet["date"]] == [str(d) for d in expected["date"]]
    assert sheet["worker_key"].tolist() == expected["worker_key"].tolist()
    for column in ("tasks_submitted", "tasks_returned", "active_hours", "session_hours"):
        assert sheet[column].tolist() == pytest.approx(expected[column].tolist()), column
    expected_totals = timesheet_totals(expected)
    assert [str(d) for d in totals["date"]] == [str(d) for d in expected_totals["date"]]
    assert totals["active_hours"].tolist() == pytest.approx(
        expected_totals["active_hours"].tolist()
    )
    assert download_bytes(at, media, "timesheet_download") == timesheet_csv_bytes(
        expected, timezone=timezone
    )
    assert download_bytes(at, media, "timesheet_definitions") == definitions_csv_bytes(
        list(expected.columns)
    )


def test_privacy_mode_shows_and_downloads_pseudonyms(
    sample_store_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    media: list[MemoryMediaFileStorage],
) -> None:
    at = open_timesheet(sample_store_root, tmp_path, monkeypatch, "UTC")
    at.toggle(key="filters_private").set_value(True).run()
    assert not at.exception
    sheet = at.dataframe[1].value
    assert sheet["worker_key"].astype("str").str.startswith("p-").all()
    assert not sheet["email"].astype("str").str.contains("@").any()
    written = download_bytes(at, media, "timesheet_download")
    assert b"@example.com" not in written
    expected = expected_sheet(sample_store_root, "UTC")
    for name in expected["username"].dropna().unique():
        assert str(name).encode() not in written, name
    assert written == timesheet_csv_bytes(expected, timezone="UTC", pseudonymize=True)
