"""The response numbers on the dashboard (issue 11): the charts as pure functions, and the pages
on the sample team once it has worker responses."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.dataset import load_team_data
from analytics.metrics.quality import QUADRANTS
from analytics.store.store import Store
from dashboard import charts

REPOSITORY = Path(__file__).resolve().parents[2]
APP = REPOSITORY / "dashboard" / "app.py"


def pairs_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "worker_key": ["a", "b", "c", "d", "e"],
            "labeling_job_name": ["job"] * 5,
            "responses": [10, 40, 20, 30, 5],
            "median_active_seconds": [5.0, 20.0, 6.0, 25.0, None],
            "agreement_rate": [0.9, 0.95, 0.4, 0.5, 0.9],
            "quadrant": [QUADRANTS[0], QUADRANTS[1], QUADRANTS[2], QUADRANTS[3], None],
        }
    )


def test_speed_against_agreement_names_the_quadrants_and_shows_names_literally() -> None:
    labels = {"a": "<b>Ann</b>", "b": "Bo", "c": "Cy", "d": "Di", "e": "Ed"}
    figure = charts.speed_against_agreement(pairs_frame(), labels, QUADRANTS)
    assert [trace.name for trace in figure.data] == list(QUADRANTS)
    assert figure.data[0].text == ("&lt;b&gt;Ann&lt;/b&gt;",)
    # A worker without active seconds has no point; size is the number of responses.
    assert sum(len(trace.x) for trace in figure.data) == 4
    assert list(figure.data[1].marker.size) == [40.0]
    assert sorted(a.text for a in figure.layout.annotations) == sorted(QUADRANTS)


def test_speed_against_agreement_of_no_worker_is_an_empty_chart() -> None:
    figure = charts.speed_against_agreement(pairs_frame().iloc[:0], {}, QUADRANTS)
    assert len(figure.data) == 0


def test_active_against_wall_has_both_times_per_job() -> None:
    jobs = pd.DataFrame(
        {
            "labeling_job_name": ["<i>job</i>"],
            "median_task_seconds": [60.0],
            "median_active_seconds": [20.0],
        }
    )
    figure = charts.active_against_wall(jobs)
    assert [list(trace.y) for trace in figure.data] == [[60.0], [20.0]]
    assert list(figure.data[0].x) == ["&lt;i&gt;job&lt;/i&gt;"]


@pytest.fixture
def app(sample_store_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    if not len(load_team_data(Store(sample_store_root)).responses):
        pytest.skip("the sample has no worker responses yet (issue 11's sample data)")
    monkeypatch.setenv("GT_THROUGHPUT_LOOKAHEAD", "off")
    monkeypatch.setenv("GT_THROUGHPUT_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("GT_THROUGHPUT_SAMPLE_STORE", str(sample_store_root))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["tz"] = "UTC"
    at.query_params["range"] = "30d"
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    at.run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize(
    ("page", "chart", "subheader"),
    [
        pytest.param("workers", "workers_quality_scatter", "Speed against agreement", id="workers"),
        pytest.param("jobs", "jobs_active_wall", "Agreement between workers", id="jobs"),
        pytest.param("worker_detail", None, "Gold answers", id="worker-detail"),
        pytest.param("data", None, "Worker responses against the activity log", id="data"),
    ],
)
def test_pages_lay_out_the_response_numbers(
    app: AppTest, page: str, chart: str | None, subheader: str
) -> None:
    at = open_page(app, page)
    assert any(h.value.startswith(subheader) for h in at.subheader)
    if chart is not None:
        shown = [c for c in at.get("plotly_chart") if c.proto.id.endswith(chart)]
        assert shown, f"no {chart} chart"
        assert json.loads(shown[0].proto.spec)["data"]
