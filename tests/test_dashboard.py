"""The dashboard through Streamlit's AppTest: every page on the sample team, with the values it
shows checked against ``analytics`` for the same filters, and what its downloads serve."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from analytics import metrics
from analytics.dataset import Filters, load_team_data
from analytics.export import workers_csv_bytes
from analytics.store import Store
from tests.conftest import REPO_ROOT

APP = REPO_ROOT / "dashboard" / "app.py"
PAGES = {
    "overview": "Team overview",
    "workers": "Workers",
    "worker_detail": "Worker detail",
    "jobs": "Labeling jobs",
    "data": "Data",
}


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> list[MemoryMediaFileStorage]:
    """The in-memory media storages AppTest creates, where download buttons keep their data."""
    created: list[MemoryMediaFileStorage] = []

    class Recorded(MemoryMediaFileStorage):
        def __init__(self, media_endpoint: str) -> None:
            super().__init__(media_endpoint)
            created.append(self)

    monkeypatch.setattr("streamlit.testing.v1.app_test.MemoryMediaFileStorage", Recorded)
    return created


@pytest.fixture
def app(sample_store_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The app on an empty store, so it serves the bundled sample."""
    monkeypatch.setenv("GT_THROUGHPUT_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("GT_THROUGHPUT_SAMPLE_STORE", str(sample_store_root))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["tz"] = "UTC"
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    at.run()
    if page != "overview":
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def download_bytes(at: AppTest, media: list[MemoryMediaFileStorage], key: str) -> bytes:
    button = next(b for b in at.get("download_button") if b.proto.id.endswith(key))
    filename = button.proto.url.rsplit("/", 1)[1]
    for storage in reversed(media):
        try:
            return storage.get_file(filename).content
        except Exception:  # not in this storage: look in the next one
            continue
    raise AssertionError(f"no media file {filename}")


def seven_days(store: Store) -> Filters:
    as_of = load_team_data(store).as_of
    until = (as_of + pd.Timedelta(milliseconds=1)).to_pydatetime()
    return Filters(since=until - dt.timedelta(days=7), until=until)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_the_sample(app: AppTest, page: str) -> None:
    at = open_page(app, page)
    assert at.title[0].value == PAGES[page]
    assert "bundled sample team" in at.info[0].value


def test_overview_kpis_equal_the_analytics_values(app: AppTest, sample_store_root: Path) -> None:
    at = open_page(app, "overview")
    store = Store(sample_store_root)
    filters = seven_days(store)
    current = load_team_data(store, filters)
    from analytics.dataset import previous_period

    previous = load_team_data(store, previous_period(filters, current.as_of))
    kpis = metrics.kpis(current, previous).set_index("metric")["value"]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Tasks submitted"] == f"{kpis['tasks_submitted']:,.0f}"
    assert shown["Active workers"] == f"{kpis['active_workers']:,.0f}"
    assert shown["Median task time"] == f"{kpis['median_task_seconds']:,.1f} s"
    assert shown["Return rate"] == f"{kpis['return_rate']:.1%}"


def test_overview_lists_exactly_the_planted_alerts(app: AppTest) -> None:
    at = open_page(app, "overview")
    alerts = [m.value for m in at.markdown if m.value.startswith(":material/")]
    kinds = sorted(text.split("**")[1] for text in alerts)
    assert kinds == [
        "Backlog: support-tickets-intent-stream",
        "Idle: elena.popescu",
        "Idle: tomasz.nowak",
        "Returns: kavya.nair",
        "Slow: michael.brooks",
        "Slow: thiago.pereira",
    ]


def test_workers_table_equals_the_worker_summary(app: AppTest, sample_store_root: Path) -> None:
    at = open_page(app, "workers")
    expected = metrics.worker_summary(
        load_team_data(Store(sample_store_root), seven_days(Store(sample_store_root)))
    )
    shown = at.dataframe[0].value
    assert len(shown) == len(expected)
    merged = shown.merge(expected, on="worker_key", suffixes=("_shown", ""))
    for column in ("tasks_submitted", "tasks_returned", "slow_flag", "idle_flag", "return_flag"):
        assert (merged[f"{column}_shown"] == merged[column]).all(), column
    assert shown["slow_flag"].iloc[:2].all(), "flagged workers come first"


def test_workers_download_is_the_export_csv(
    app: AppTest, media: list[MemoryMediaFileStorage], sample_store_root: Path
) -> None:
    at = open_page(app, "workers")
    store = Store(sample_store_root)
    expected = workers_csv_bytes(metrics.worker_summary(load_team_data(store, seven_days(store))))
    assert download_bytes(at, media, "workers_download") == expected


def test_workers_search_narrows_the_table_and_the_download(
    app: AppTest, media: list[MemoryMediaFileStorage]
) -> None:
    at = open_page(app, "workers")
    at.text_input(key="workers_search").set_value("kavya").run()
    assert list(at.dataframe[0].value["username"]) == ["kavya.nair"]
    csv = pd.read_csv(io.BytesIO(download_bytes(at, media, "workers_download")))
    assert list(csv["username"]) == ["kavya.nair"]


def test_privacy_mode_hides_names_and_emails(
    app: AppTest, media: list[MemoryMediaFileStorage]
) -> None:
    at = open_page(app, "workers")
    at.toggle(key="filters_private").set_value(True).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert not table["email"].astype("str").str.contains("@").any()
    usernames = table["username"].dropna().astype("str")
    assert len(usernames) > 30
    assert usernames.str.startswith("p-").all(), usernames.tolist()
    page_text = " ".join(m.value for m in at.markdown)
    assert "@example.com" not in page_text
    assert "kavya.nair" not in page_text
    assert b"@example.com" not in download_bytes(at, media, "workers_download")
    assert at.query_params["private"] == "1"


def test_filters_from_the_url_select_the_view(app: AppTest, sample_store_root: Path) -> None:
    app.query_params["range"] = "all"
    app.query_params["team"] = "text-team"
    at = open_page(app, "workers")
    expected = metrics.worker_summary(
        load_team_data(Store(sample_store_root), Filters(workteams=("text-team",)))
    )
    shown = at.dataframe[0].value
    assert sorted(shown["worker_key"]) == sorted(expected["worker_key"])
    assert at.multiselect(key="filters_teams").value == ["text-team"]


def test_changing_the_date_range_is_mirrored_in_the_url(app: AppTest) -> None:
    at = open_page(app, "overview")
    at.selectbox(key="filters_range").set_value("all").run()
    assert at.query_params["range"] == "all"
    assert at.caption[0].value.startswith("all data up to")


def test_worker_detail_download_serves_the_workers_tasks(
    app: AppTest, media: list[MemoryMediaFileStorage]
) -> None:
    at = open_page(app, "worker_detail")
    worker_key = at.selectbox(key="worker_detail_key").value
    csv = pd.read_csv(io.BytesIO(download_bytes(at, media, "worker_detail_download")))
    assert len(csv) > 0
    assert set(csv["worker_key"]) == {worker_key}


def test_jobs_page_shows_every_job_and_the_backlog_warning(app: AppTest) -> None:
    at = open_page(app, "jobs")
    jobs = at.dataframe[0].value
    assert sorted(jobs["labeling_job_name"]) == [
        "aerial-roads-segmentation-b3",
        "product-photos-classify-2026-10",
        "street-scenes-bbox-2026-10",
        "support-tickets-intent-stream",
    ]
    assert any("expire" in w.value for w in at.warning)


def test_data_page_counts_match_the_store(app: AppTest, sample_store_root: Path) -> None:
    at = open_page(app, "data")
    summary = Store(sample_store_root).summary()
    shown = {m.label: m.value for m in at.metric}
    assert shown["Events"] == f"{summary.events:,}"
    assert shown["Rejected lines"] == f"{summary.rejected_lines:,}"
    texts = [m.value for m in at.markdown]
    # The planted Cognito user deleted after working.
    assert "**Unknown identities** (1 worker with no Cognito user: deleted?)" in texts


def test_a_real_store_shows_no_banner_and_its_last_sync_per_part(
    sample_store_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    root = tmp_path / "mine"
    shutil.copytree(sample_store_root, root)
    Store(root).write_state(
        {
            "last_sync": {
                "worker activity": {"at": "2026-11-08T15:00:00+00:00", "ok": True, "message": ""},
                "metrics": {"at": "2026-11-08T15:01:00+00:00", "ok": False, "message": "denied"},
            }
        }
    )
    monkeypatch.setenv("GT_THROUGHPUT_DATA", str(root))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["tz"] = "UTC"
    at = open_page(at, "data")
    assert not [i for i in at.info if "bundled sample team" in i.value]
    syncs = at.dataframe[0].value
    assert list(syncs["part"]) == ["metrics", "worker activity"]
    assert list(syncs["result"]) == ["not synced", "synced"]
    assert list(syncs["message"]) == ["denied", ""]


def test_a_link_to_a_worker_opens_that_worker(app: AppTest, sample_store_root: Path) -> None:
    store = Store(sample_store_root)
    workers = metrics.worker_summary(load_team_data(store, seven_days(store)))
    wanted = str(workers[workers["username"] == "kavya.nair"]["worker_key"].iloc[0])
    app.query_params["worker"] = wanted
    at = open_page(app, "worker_detail")
    assert at.selectbox(key="worker_detail_key").value == wanted
    assert at.query_params["worker"] == wanted
