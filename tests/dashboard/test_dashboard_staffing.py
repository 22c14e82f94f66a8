"""The Jobs page's Staffing section through AppTest: it shows what ``staffing_plan`` computes for
the same window, the deadlines the manager picks and the working days, and the one definition
of every assumption."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics import DEFINITIONS, STAFFING_ASSUMPTIONS, Store, help_for, load_team_data
from analytics import staffing_plan as plan_of
from dashboard.literal import literal
from tests.conftest import REPO_ROOT

APP = REPO_ROOT / "dashboard" / "app.py"
pytestmark = pytest.mark.usefixtures("no_lookahead")
DEADLINE_KEY = "jobs_staffing_deadline_"


@pytest.fixture
def jobs_page(sample_store_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The Jobs page on the bundled sample over all time, in UTC."""
    monkeypatch.setenv("GT_THROUGHPUT_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("GT_THROUGHPUT_SAMPLE_STORE", str(sample_store_root))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["tz"] = "UTC"
    at.query_params["range"] = "all"
    at.run()
    at.switch_page("app_pages/jobs.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def html_bodies(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.get("html")]


def expected_plan(root: Path, deadlines: dict[str, dt.date], days: tuple[int, ...]) -> pd.DataFrame:
    aware = {
        name: dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
        for name, day in deadlines.items()
    }
    return plan_of(load_team_data(Store(root)), deadlines=aware, working_days=days)


def test_each_job_with_a_backlog_shows_its_plan_for_a_week_ahead(
    jobs_page: AppTest, sample_store_root: Path
) -> None:
    data = load_team_data(Store(sample_store_root))
    week_ahead = data.as_of.date() + dt.timedelta(days=7)
    pickers = [d for d in jobs_page.date_input if str(d.key).startswith(DEADLINE_KEY)]
    assert [d.value for d in pickers] == [week_ahead] * len(pickers)
    names = plan_of(data)["labeling_job_name"].tolist()
    assert len(pickers) == len(names) >= 2
    plan = expected_plan(sample_store_root, dict.fromkeys(names, week_ahead), (0, 1, 2, 3, 4))
    shown = html_bodies(jobs_page)
    for row in plan.to_dict("records"):
        assert "you need" in row["message"]  # the sample has recent work on every backlog
        assert any(literal(row["message"]) in body for body in shown), row["message"]
    needed = [m.value for m in jobs_page.metric if m.label == "Workers needed"]
    assert needed == [f"{int(n):,d}" for n in plan["workers_needed"]]


def test_a_deadline_picked_in_the_past_says_it_has_passed(
    jobs_page: AppTest, sample_store_root: Path
) -> None:
    data = load_team_data(Store(sample_store_root))
    yesterday = data.as_of.date() - dt.timedelta(days=1)
    first = next(d for d in jobs_page.date_input if str(d.key).startswith(DEADLINE_KEY + "0_"))
    first.set_value(yesterday).run()
    assert not jobs_page.exception
    name = plan_of(data)["labeling_job_name"].iloc[0]
    plan = expected_plan(sample_store_root, {name: yesterday}, (0, 1, 2, 3, 4))
    message = plan[plan["labeling_job_name"] == name]["message"].iloc[0]
    assert message.endswith("has passed")
    assert any(literal(message) in body for body in html_bodies(jobs_page))


def test_working_days_are_the_managers_choice_and_none_is_refused(jobs_page: AppTest) -> None:
    days = jobs_page.multiselect(key="jobs_staffing_days")
    assert days.value == [0, 1, 2, 3, 4]
    days.set_value([0, 1, 2, 3, 4, 5, 6]).run()
    assert any("working days Mon–Sun (UTC)" in body for body in html_bodies(jobs_page))
    jobs_page.multiselect(key="jobs_staffing_days").set_value([]).run()
    assert not jobs_page.exception
    assert [w.value for w in jobs_page.warning] == ["Pick at least one working day to plan with."]


def test_the_assumptions_are_the_one_definition_of_each(jobs_page: AppTest) -> None:
    shown = html_bodies(jobs_page)
    for name in STAFFING_ASSUMPTIONS:
        line = f"<strong>{literal(DEFINITIONS[name].label)}</strong>: {literal(help_for(name))}"
        assert any(line in body for body in shown), name
