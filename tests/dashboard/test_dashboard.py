"""The dashboard through Streamlit's AppTest: every page on the sample team, with the values it
shows checked against ``analytics`` for the same filters, and what its downloads serve."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from analytics import (
    Filters,
    Store,
    escape_controls,
    kpis,
    load_team_data,
    previous_period,
    worker_summary,
    workers_csv_bytes,
)
from dashboard.literal import literal
from tests.conftest import REPO_ROOT
from tests.support.app_downloads import download_bytes
from tests.support.hostile_sample import HostileNames, build_hostile_sample, hostile_names

APP = REPO_ROOT / "dashboard" / "app.py"
pytestmark = pytest.mark.usefixtures("no_lookahead")
PAGES = {
    "overview": "Team overview",
    "workers": "Workers",
    "worker_detail": "Worker detail",
    "timesheet": "Timesheet",
    "jobs": "Labeling jobs",
    "data": "Data",
}


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
    previous = load_team_data(store, previous_period(filters, current.as_of))
    expected = kpis(current, previous).set_index("metric")["value"]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Tasks submitted"] == f"{expected['tasks_submitted']:,.0f}"
    assert shown["Active workers"] == f"{expected['active_workers']:,.0f}"
    assert shown["Median task time"] == f"{expected['median_task_seconds']:,.1f} s"
    assert shown["Return rate"] == f"{expected['return_rate']:.1%}"


def test_overview_lists_exactly_the_planted_alerts(app: AppTest) -> None:
    at = open_page(app, "overview")
    alerts = [h.proto.body for h in at.get("html") if "</strong> — " in h.proto.body]
    kinds = sorted(html.unescape(re.findall("<strong>(.*?)</strong>", text)[0]) for text in alerts)
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
    expected = worker_summary(
        load_team_data(Store(sample_store_root), seven_days(Store(sample_store_root)))
    )
    shown = at.dataframe[0].value
    assert len(shown) == len(expected)
    merged = shown.merge(expected, on="worker_key", suffixes=("_shown", ""))
    for column in ("tasks_submitted", "tasks_returned", "slow_flag", "idle_flag", "return_flag"):
        assert (merged[f"{column}_shown"] == merged[column]).all(), column
    flags = [name for name in shown.columns if name.endswith("_flag")]
    flagged = shown[flags].any(axis=1).tolist()
    assert flagged[:2] == [True, True], "flagged workers come first"
    assert flagged == sorted(flagged, reverse=True), "flagged workers come first"


def test_workers_download_is_the_export_csv(
    app: AppTest, media: list[MemoryMediaFileStorage], sample_store_root: Path
) -> None:
    at = open_page(app, "workers")
    store = Store(sample_store_root)
    expected = workers_csv_bytes(worker_summary(load_team_data(store, seven_days(store))))
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
    expected = worker_summary(
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


CUSTOM_DATES = {
    # id: (from, to in the link, the sidebar's warning or None, the window the page shows)
    "reversed": (
        "2026-11-08",
        "2026-11-01",
        "“From – to” starts on Nov 08, 2026, after its end on Nov 01, 2026: showing the last 7 "
        "days of data instead",
        "Nov 02, 2026 00:00 – Nov 08, 2026 23:59 (UTC)",
    ),
    "past-the-latest-data": (
        "2026-11-01",
        "2026-12-30",
        "“From – to” ends on Dec 30, 2026, after the latest data (Nov 08, 2026): showing the "
        "last 7 days of data instead",
        "Nov 02, 2026 00:00 – Nov 08, 2026 23:59 (UTC)",
    ),
    "valid": ("2026-11-03", "2026-11-05", None, "Nov 03, 2026 00:00 – Nov 05, 2026 23:59 (UTC)"),
}


@pytest.mark.parametrize(
    ("start", "end", "warning", "window"), CUSTOM_DATES.values(), ids=CUSTOM_DATES
)
def test_custom_dates_from_a_link_are_checked_in_the_controls_words(
    app: AppTest, start: str, end: str, warning: str | None, window: str
) -> None:
    app.query_params.update({"range": "custom", "from": start, "to": end})
    at = open_page(app, "overview")
    warnings = [w.value for w in at.sidebar.warning]
    assert len(warnings) == (0 if warning is None else 1), warnings
    if warning is not None:
        assert warnings[0].startswith(warning), warnings
        assert "--since" not in warnings[0]
    assert at.caption[0].value == window
    assert at.title[0].value == "Team overview"


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
    assert any(
        "<strong>At risk</strong>: objects may expire" in h.proto.body for h in at.get("html")
    )


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
    workers = worker_summary(load_team_data(store, seven_days(store)))
    wanted = str(workers[workers["username"] == "kavya.nair"]["worker_key"].iloc[0])
    app.query_params["worker"] = wanted
    at = open_page(app, "worker_detail")
    assert at.selectbox(key="worker_detail_key").value == wanted
    assert at.query_params["worker"] == wanted


# --------------------------------------------------------------------------- hostile names
LITERAL_CASES = {
    "markdown": (
        "**bold** _it_ [t](http://evil.invalid/x)",
        "**bold** _it_ [t](http://evil.invalid/x)",
    ),
    "image": ("![b](http://127.0.0.2:9/b.png)", "![b](http://127.0.0.2:9/b.png)"),
    "html": (
        '<img src="x"> <b>b</b> <a href="y">',
        '&lt;img src="x"&gt; &lt;b&gt;b&lt;/b&gt; &lt;a href="y"&gt;',
    ),
    "entity": ("&amp; &lt;", "&amp;amp; &amp;lt;"),
    "controls": ("a\r\nb\x00\u202e", "a\\r\\nb\\x00\\u202e"),
    "plotly-template": ("%{y} <br>", "%{y} &lt;br&gt;"),
    "not-a-string": (12.5, "12.5"),
}


@pytest.mark.parametrize(("value", "expected"), LITERAL_CASES.values(), ids=LITERAL_CASES)
def test_literal_escapes_markup_and_controls(value: object, expected: str) -> None:
    assert literal(value) == expected
    # What a browser shows is the value itself, with controls as visible escapes.
    assert html.unescape(literal(value)) == escape_controls(str(value))


#: The elements whose text Streamlit renders as markdown: no string from data may be in them.
MARKDOWN_ELEMENTS = ("markdown", "caption", "title", "header", "subheader", "alert", "metric")
#: The only tags our HTML lines use; anything else in an ``st.html`` body came from data.
OUR_TAGS = {"p", "strong", "ul", "li"}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, HostileNames]:
    names = hostile_names("http://127.0.0.2:9")
    return build_hostile_sample(tmp_path_factory.mktemp("hostile"), names), names


@pytest.fixture
def hostile_app(hostile: tuple[Path, HostileNames], monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The app on a store of the sample with hostile names planted, over all time."""
    monkeypatch.setenv("GT_THROUGHPUT_DATA", str(hostile[0]))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["tz"] = "UTC"
    at.query_params["range"] = "all"
    return at


def _strings(value: Any, skip: tuple[str, ...]) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in skip:
                yield from _strings(item, skip)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, skip)


def _planted_fragments(names: HostileNames) -> list[str]:
    """A recognisable piece of each planted name (its first word with what follows)."""
    return [name.split(" ", 1)[0] + " " + name.split(" ", 2)[1] for name in vars(names).values()]


@pytest.mark.parametrize("page", PAGES)
def test_names_from_data_are_literal_text_on_every_page(
    hostile_app: AppTest, hostile: tuple[Path, HostileNames], page: str
) -> None:
    names = hostile[1]
    at = open_page(hostile_app, page)
    fragments = _planted_fragments(names)
    for kind in MARKDOWN_ELEMENTS:
        for element in at.get(kind):
            texts = [str(getattr(element, a, "")) for a in ("value", "label", "body")]
            for fragment in fragments:
                assert not any(fragment in text for text in texts), (kind, fragment, texts)
    shown_html = [h.proto.body for h in at.get("html")]
    for body in shown_html:
        assert set(re.findall(r"<\s*/?\s*([A-Za-z][\w-]*)", body)) <= OUR_TAGS, body
        assert not re.search("[\r\n]", body), body
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        for text in _strings(spec["data"], skip=("hovertemplate",)):
            assert not re.search("[<\r\n]", text), text
        for trace in spec["data"]:
            for fragment in fragments:  # no name in a hover template, which expands %{...}
                assert fragment not in trace.get("hovertemplate", ""), trace["hovertemplate"]
    for table in at.dataframe:
        for column in table.value.select_dtypes(exclude="number").columns:
            cells = table.value[column].dropna().astype("str")
            assert not cells.str.contains("\r|\n", regex=True).any(), column
    for box in [*at.selectbox, *at.multiselect]:
        for option in box.options:
            assert not re.search("[\r\n]", option), option


EXPECTED_HTML = {
    # page: the planted names each page must show, as literal text in its HTML lines.
    "overview": ("returner", "slow", "job"),
    "workers": ("returner", "slow", "job"),
    "jobs": ("job",),
}


@pytest.mark.parametrize("page", EXPECTED_HTML)
def test_planted_names_are_shown_escaped(
    hostile_app: AppTest, hostile: tuple[Path, HostileNames], page: str
) -> None:
    names = hostile[1]
    at = open_page(hostile_app, page)
    shown = " ".join(h.proto.body for h in at.get("html"))
    for field in EXPECTED_HTML[page]:
        assert literal(getattr(names, field)) in shown, field
    if "returner" in EXPECTED_HTML[page]:  # the exact text, to be sure of what literal() does
        assert r"kavya **bold** [t](http://evil.invalid/x) &lt;b&gt;b&lt;/b&gt;\r\nline2" in shown


def test_worker_options_show_controls_escaped(
    hostile_app: AppTest, hostile: tuple[Path, HostileNames]
) -> None:
    at = open_page(hostile_app, "worker_detail")
    assert escape_controls(hostile[1].returner) in at.selectbox(key="worker_detail_key").options
