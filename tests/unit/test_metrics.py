"""Every metric against small cases worked out by hand (issue 4)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from analytics.dataset import Filters, team_data_from_tables
from analytics.errors import UsageError
from analytics.metrics.alerts import alerts
from analytics.metrics.backlog import backlog_status
from analytics.metrics.health import data_health
from analytics.metrics.jobs_teams import job_summary, team_summary
from analytics.metrics.kpis import kpis
from analytics.metrics.outcomes import task_table
from analytics.metrics.returns import returns_summary
from analytics.metrics.sessions import worker_sessions
from analytics.metrics.throughput import (
    active_workers_series,
    activity_heatmap,
    task_time_histogram,
    task_time_quantiles,
    throughput_series,
)
from analytics.metrics.workers import Thresholds, job_worker_speed, worker_summary
from tests.support.team_data import DAY, data_of, events_of, line, membership, row, same

# --------------------------------------------------------------------------- per-worker counts
COUNT_CASES = [
    pytest.param(
        [line("w", "10:00", "10:01"), line("w", "10:02", "10:04")],
        {"tasks_submitted": 2, "mean_task_seconds": 90.0, "median_task_seconds": 90.0},
        id="two-submits",
    ),
    pytest.param(
        [line("w", None, "10:01"), line("w", "10:02", "10:04")],
        {"tasks_submitted": 2, "mean_task_seconds": 120.0, "median_task_seconds": 120.0},
        id="missing-accepted-time-counts-without-seconds",
    ),
    pytest.param(
        [line("w", "10:05", "10:04"), line("w", "10:00", "10:01")],
        {"tasks_submitted": 2, "mean_task_seconds": 60.0, "p90_task_seconds": 60.0},
        id="negative-duration-is-skew-not-a-time",
    ),
    pytest.param(
        [
            line("w", "10:00", "10:01"),
            line("w", "10:02", "10:05", "TasksReturned"),
            line("w", "10:06", "10:06:30", "TasksDeclined"),
            line("w", "10:07", "10:08"),
            line("w", "10:09", "10:10"),
        ],
        {
            "tasks_submitted": 3,
            "tasks_returned": 1,
            "tasks_declined": 1,
            "return_rate": 0.25,
            "mean_seconds_before_return": 180.0,
        },
        id="return-rate-ignores-declines",
    ),
    pytest.param(
        [line("w", "10:00", f"10:00:{seconds}") for seconds in (10, 20, 30, 40)],
        {"median_task_seconds": 25.0, "p90_task_seconds": 37.0, "mean_task_seconds": 25.0},
        id="quantiles-interpolate",  # sorted 10,20,30,40: p90 at 2.7 -> 30 + 0.7 * 10
    ),
    pytest.param(
        [line("w", "10:00", None, "TasksAccepted")],
        {"tasks_submitted": 0, "return_rate": float("nan"), "idle_flag": True},
        id="accepted-only-is-no-outcome",
    ),
]


@pytest.mark.parametrize(("lines", "expected"), COUNT_CASES)
def test_worker_counts_and_times(lines: list[str], expected: dict[str, Any]) -> None:
    summary = worker_summary(data_of(*lines))
    found = row(summary, "w")
    for column, value in expected.items():
        assert same(found[column], value), (column, found[column], value)


def test_worker_summary_has_the_contract_columns() -> None:
    summary = worker_summary(data_of(line("w", "10:00", "10:01")))
    contract = str.split(
        "worker_key worker_id username email workteams jobs tasks_submitted tasks_returned "
        "tasks_declined return_rate mean_task_seconds median_task_seconds p90_task_seconds "
        "active_hours tasks_per_active_hour first_activity last_activity active_days slow_flag "
        "slow_reason idle_flag idle_reason return_flag return_reason session_count session_hours "
        "idle_minutes mean_seconds_before_return time_spent_metric_seconds"
    )
    assert set(contract) <= set(summary.columns)
    assert str(summary["first_activity"].dtype) == "datetime64[ms, UTC]"


def test_duplicate_events_count_once_through_the_store(tmp_path: Any) -> None:
    from analytics.dataset import load_team_data
    from analytics.store.store import Store

    store = Store(tmp_path / "store")
    same_line = line("w", "10:00", "10:01")
    store.add_events(events_of(same_line, same_line))
    store.add_events(events_of(same_line))
    summary = worker_summary(load_team_data(store))
    assert row(summary, "w")["tasks_submitted"] == 1


def test_worker_key_falls_back_to_worker_id() -> None:
    message = json.loads(line("x", "10:00", "10:01"))
    del message["cognito_sub_id"], message["cognito_user_pool_id"]
    summary = worker_summary(data_of(json.dumps(message)))
    assert summary["worker_key"].tolist() == ["id-x"]


# --------------------------------------------------------------------------- active time, sessions
INTERVAL_CASES = [
    pytest.param(
        [("10:00", "10:10"), ("10:05", "10:20"), ("10:30", "10:40")],
        {"active_hours": 0.5, "session_count": 1, "session_hours": 40 / 60, "idle_minutes": 10.0},
        id="overlap-merged-gap-under-30-is-idle",
    ),
    pytest.param(
        [("10:00", "10:10"), ("10:50", "11:00")],
        {
            "active_hours": 20 / 60,
            "session_count": 2,
            "session_hours": 20 / 60,
            "idle_minutes": 0.0,
        },
        id="gap-over-30-splits-sessions",
    ),
    pytest.param(
        [("10:00", "10:10"), ("10:40", "10:50")],
        {"active_hours": 20 / 60, "session_count": 1, "idle_minutes": 30.0},
        id="gap-of-exactly-30-stays-in-session",
    ),
    pytest.param(
        [("10:00", "12:00"), ("10:10", "10:20"), ("11:00", "11:05")],
        {"active_hours": 2.0, "session_count": 1, "idle_minutes": 0.0},
        id="nested-tasks-add-nothing",
    ),
    pytest.param(
        [("10:00", "10:10"), (None, "10:30"), ("11:20", "11:30")],
        {"active_hours": 20 / 60, "session_count": 2, "idle_minutes": 20.0},
        id="task-without-accept-is-an-instant",
    ),
]


@pytest.mark.parametrize(("intervals", "expected"), INTERVAL_CASES)
def test_active_hours_and_sessions(
    intervals: list[tuple[str | None, str]], expected: dict[str, Any]
) -> None:
    lines = [line("w", start, end) for start, end in intervals]
    data = data_of(*lines)
    found = row(worker_summary(data), "w")
    for column, value in expected.items():
        assert same(found[column], value), (column, found[column], value)
    sessions = worker_sessions(data, gap_minutes=30)
    assert len(sessions) == expected["session_count"]
    assert sessions["session_number"].tolist() == list(range(1, len(sessions) + 1))
    assert np.isclose(sessions["active_hours"].sum(), expected["active_hours"])
    assert np.isclose(sessions["idle_minutes"].sum(), expected["idle_minutes"])
    assert sessions["tasks"].sum() == len(intervals)


def test_sessions_do_not_mix_workers() -> None:
    data = data_of(line("a", "10:00", "10:10"), line("b", "10:05", "10:20"))
    sessions = worker_sessions(data)
    assert sorted(sessions["worker_key"]) == ["a", "b"]
    found = worker_summary(data)
    assert np.isclose(row(found, "a")["active_hours"], 10 / 60)
    assert np.isclose(row(found, "b")["active_hours"], 15 / 60)
    assert row(found, "a")["tasks_per_active_hour"] == pytest.approx(6.0)


def test_active_days_and_activity_span() -> None:
    data = data_of(
        line("w", "23:50", "23:55", day="2026-11-02"),
        line("w", "00:10", "00:20", day="2026-11-03"),
        line("w", "08:00", "08:01", day="2026-11-03"),
    )
    found = row(worker_summary(data), "w")
    assert found["active_days"] == 2
    assert found["first_activity"] == pd.Timestamp("2026-11-02T23:55Z")
    assert found["last_activity"] == pd.Timestamp("2026-11-03T08:01Z")


# --------------------------------------------------------------------------- slow workers
def job_lines(worker: str, seconds: float, tasks: int, job: str = "job-a") -> list[str]:
    """``tasks`` submitted tasks of ``seconds`` each, one every 20 minutes from 00:00."""
    out = []
    for index in range(tasks):
        start = pd.Timestamp(f"{DAY}T00:00Z") + pd.Timedelta(minutes=20 * index)
        end = start + pd.Timedelta(seconds=seconds)
        out.append(line(worker, start.strftime("%H:%M:%S"), end.strftime("%H:%M:%S"), job=job))
    return out


SLOW_CASES = [
    pytest.param(
        {"a": (10, 10), "b": (12, 10), "c": (14, 10), "d": (16, 10), "e": (100, 10)},
        {"e"},
        id="mad-positive",  # medians 10,12,14,16,100: median 14, MAD 2; e: 0.6745*86/2 = 29.0
    ),
    pytest.param(
        {"a": (10, 10), "b": (10, 10), "c": (10, 10), "d": (10, 10), "e": (100, 10)},
        {"e"},
        id="mad-zero-uses-mean-ad",  # MeanAD 18: 90 / (1.253314*18) = 3.99 > 3.5
    ),
    pytest.param(
        {"a": (10, 10), "b": (10, 10), "c": (10, 10), "e": (100, 10)},
        set(),
        id="mad-zero-four-workers",  # MeanAD 22.5: 90 / (1.253314*22.5) = 3.19
    ),
    pytest.param(
        {"a": (10, 10), "b": (12, 10), "c": (14, 10), "d": (16, 10), "e": (100, 9)},
        set(),
        id="fewer-than-10-tasks-not-compared",
    ),
    pytest.param(
        {"a": (10, 10), "b": (10, 10)},
        set(),
        id="everyone-equal",
    ),
    pytest.param(
        {"a": (100, 10), "b": (100, 10), "c": (100, 10), "d": (100, 10), "e": (1, 10)},
        set(),
        id="fast-is-not-slow",
    ),
]


@pytest.mark.parametrize(("workers", "slow"), SLOW_CASES)
def test_slow_flag(workers: dict[str, tuple[float, int]], slow: set[str]) -> None:
    lines = [text for key, (sec, n) in workers.items() for text in job_lines(key, sec, n)]
    summary = worker_summary(data_of(*lines))
    assert set(summary.loc[summary["slow_flag"], "worker_key"]) == slow
    for key in slow:
        assert "on job-a: median 100.0 s" in row(summary, key)["slow_reason"]
    assert (summary.loc[~summary["slow_flag"], "slow_reason"] == "").all()


def test_slow_compares_within_the_job_only() -> None:
    # Worker s is slow on job-a only; the job-b people are slow by nature, not flagged.
    lines = [text for key in "abcd" for text in job_lines(key, 10 + "abcd".index(key), 10)]
    lines += job_lines("s", 100, 10)
    lines += [text for key in "vwxyz" for text in job_lines(key, 300, 10, job="job-b")]
    speed = job_worker_speed(data_of(*lines))
    assert set(speed.loc[speed["slow"], "worker_key"]) == {"s"}
    found = speed[(speed["worker_key"] == "s")].iloc[0]
    assert found["job_median_seconds"] == 12.0
    # medians 10, 11, 12, 13, 100: median 12, deviations 2, 1, 0, 1, 88 -> MAD 1
    assert found["job_mad_seconds"] == 1.0
    assert found["modified_z"] == pytest.approx(0.6745 * 88 / 1)


def test_thresholds_are_configurable() -> None:
    lines = [
        text
        for key, sec in zip("abcde", (10, 12, 14, 16, 100), strict=True)
        for text in job_lines(key, sec, 5)
    ]
    default = worker_summary(data_of(*lines))
    relaxed = worker_summary(data_of(*lines), Thresholds(slow_min_tasks=5))
    assert not default["slow_flag"].any()
    assert relaxed.loc[relaxed["slow_flag"], "worker_key"].tolist() == ["e"]


# --------------------------------------------------------------------------- returns and idle
RETURN_CASES = [
    pytest.param(7, 3, True, id="30-percent-of-10"),
    pytest.param(8, 2, False, id="exactly-20-percent-is-not-above"),
    pytest.param(3, 6, False, id="fewer-than-10-outcomes"),
]


@pytest.mark.parametrize(("submitted", "returned", "flagged"), RETURN_CASES)
def test_return_flag(submitted: int, returned: int, flagged: bool) -> None:
    lines = [line("w", "10:00", "10:01") for _ in range(submitted)]
    lines = [line("w", f"10:{i:02d}", f"10:{i:02d}:30") for i in range(submitted)]
    lines += [line("w", f"11:{i:02d}", f"11:{i:02d}:20", "TasksReturned") for i in range(returned)]
    found = row(worker_summary(data_of(*lines)), "w")
    assert found["return_flag"] == flagged
    assert (found["return_reason"] != "") == flagged


IDLE_CASES = [
    pytest.param("2026-11-05T11:00Z", False, id="71-hours"),
    pytest.param("2026-11-05T13:00Z", True, id="73-hours"),
]


@pytest.mark.parametrize(("until", "idle"), IDLE_CASES)
def test_idle_after_hours(until: str, idle: bool) -> None:
    end = pd.Timestamp(until).to_pydatetime()
    data = data_of(line("w", "11:00", "12:00"), filters=Filters(until=end))
    found = row(worker_summary(data), "w")
    assert found["idle_flag"] == idle
    assert found["hours_since_last_activity"] == pytest.approx(71.0 if not idle else 73.0)


def test_members_without_tasks_appear_with_zero_tasks() -> None:
    members = pd.DataFrame([membership("w"), membership("never", username="never.worked")])
    data = data_of(line("w", "10:00", "10:01"), tables={"memberships": members})
    summary = worker_summary(data)
    never = row(summary, "never")
    assert never["tasks_submitted"] == 0
    assert never["active_hours"] == 0.0
    assert never["idle_flag"]
    assert never["idle_reason"] == "no task outcome in the window (team: team-a)"
    assert never["username"] == "never.worked"
    assert never["workteams"] == "team-a"
    assert not row(summary, "w")["idle_flag"]
    teams = team_summary(data)
    team = row(teams, "team-a", "workteam_name")
    assert team["members"] == 2
    assert team["members_without_tasks"] == 1


def test_time_spent_metric_is_sum_over_sample_count() -> None:
    rows = [
        ("TimeSpent", "Sum", 300.0, "w"),
        ("TimeSpent", "SampleCount", 4.0, "w"),
        ("TimeSpent", "Sum", 100.0, "w"),
        ("TimeSpent", "SampleCount", 1.0, "w"),
    ]
    frame = pd.DataFrame(
        {
            "namespace": "AWS/SageMaker/Workteam",
            "metric_name": [r[0] for r in rows],
            "statistic": [r[1] for r in rows],
            "period_seconds": 86400,
            "timestamp": pd.Timestamp(f"{DAY}T00:00Z"),
            "value": [r[2] for r in rows],
            "dimensions": "{}",
            "worker": [r[3] for r in rows],
        }
    )
    data = data_of(line("w", "10:00", "10:02"), tables={"metrics": frame})
    found = row(worker_summary(data), "w")
    assert found["time_spent_metric_seconds"] == pytest.approx(80.0)
    assert found["mean_task_seconds"] == 120.0


def test_empty_data_gives_empty_frames() -> None:
    data = team_data_from_tables(pa.table({"event_type": pa.array([], pa.string())}))
    assert worker_summary(data).empty
    assert job_summary(data).empty
    assert team_summary(data).empty
    assert task_table(data).empty
    assert worker_sessions(data).empty
    assert throughput_series(data, "job", "D", "UTC").empty
    assert active_workers_series(data, "h", "UTC").empty
    assert activity_heatmap(data, "UTC")["outcomes"].sum() == 0
    assert task_time_quantiles(data, "worker").empty
    assert task_time_histogram(data, "job").empty
    assert backlog_status(data).empty
    health = data_health(data)
    assert health.clock_skew.empty
    kpi_table = kpis(data, data)
    assert kpi_table["value"].tolist()[0] == 0


# --------------------------------------------------------------------------- jobs, teams, tasks
def test_job_and_team_summary() -> None:
    data = data_of(
        line("a", "10:00", "10:01", job="job-a"),
        line("a", "10:02", "10:05", job="job-b"),
        line("b", "10:00", "10:03", job="job-b"),
        line("b", "10:04", "10:05", "TasksReturned", job="job-b", team="team-b"),
    )
    jobs = job_summary(data)
    job_b = row(jobs, "job-b", "labeling_job_name")
    assert job_b["tasks_submitted"] == 2
    assert job_b["tasks_returned"] == 1
    assert job_b["active_workers"] == 2
    assert job_b["median_task_seconds"] == 180.0
    assert job_b["workteams"] == "team-a, team-b"
    teams = team_summary(data)
    team_a = row(teams, "team-a", "workteam_name")
    assert team_a["tasks_submitted"] == 3
    assert team_a["jobs"] == 2
    assert team_a["tasks_per_active_worker"] == 1.5
    assert pd.isna(team_a["members"])


def test_job_summary_adds_synced_job_facts() -> None:
    jobs_table = pd.DataFrame(
        {
            "labeling_job_name": ["job-a", "job-idle"],
            "status": ["InProgress", "InProgress"],
            "task_time_limit_seconds": [300, 600],
            "pending_human": [12, None],
        }
    )
    data = data_of(line("a", "10:00", "10:01"), tables={"jobs": jobs_table})
    jobs = job_summary(data)
    assert row(jobs, "job-a", "labeling_job_name")["task_time_limit_seconds"] == 300
    idle = row(jobs, "job-idle", "labeling_job_name")
    assert idle["tasks_submitted"] == 0
    assert pd.isna(idle["pending_human"])


def test_task_table_rows() -> None:
    data = data_of(
        line("a", "10:05", "10:04"),
        line("a", "10:00", "10:02", "TasksReturned"),
        line("b", "09:00", "09:01"),
    )
    tasks = task_table(data)
    assert tasks["worker_key"].tolist() == ["b", "a", "a"]
    assert tasks["outcome"].tolist() == ["submitted", "returned", "submitted"]
    assert same(tasks["task_seconds"].iloc[0], 60.0)
    assert same(tasks["seconds_before_return"].iloc[1], 120.0)
    assert same(tasks["clock_skew_seconds"].iloc[2], -60.0)
    assert same(tasks["task_seconds"].iloc[2], float("nan"))
    assert len(task_table(data, worker_key="a")) == 2
    assert task_table(data, worker_key="nobody").empty


# --------------------------------------------------------------------------- series and heatmap
HEATMAP_CASES = [
    pytest.param("UTC", 0, 23, id="utc-monday-23h"),
    pytest.param("Europe/Berlin", 1, 0, id="berlin-tuesday-0h"),
    pytest.param("Asia/Kolkata", 1, 5, id="kolkata-tuesday-5h"),
    pytest.param("America/New_York", 0, 18, id="new-york-monday-18h"),
]


@pytest.mark.parametrize(("tz", "weekday", "hour"), HEATMAP_CASES)
def test_activity_heatmap_time_zones(tz: str, weekday: int, hour: int) -> None:
    heatmap = activity_heatmap(data_of(line("w", "23:20", "23:30")), tz)
    assert len(heatmap) == 168
    hit = heatmap[heatmap["outcomes"] > 0]
    assert hit[["weekday", "hour", "tasks_submitted"]].values.tolist() == [[weekday, hour, 1]]


def test_throughput_series_fills_quiet_periods() -> None:
    data = data_of(
        line("a", "10:00", "10:10", job="job-a"),
        line("b", "12:00", "12:30", "TasksReturned", job="job-b"),
    )
    series = throughput_series(data, "job", "h", "Europe/Berlin")
    assert series["period_start"].dt.tz is not None
    assert str(series["period_start"].dt.tz) == "Europe/Berlin"
    hours = sorted(series["period_start"].unique())
    assert len(hours) == 3  # 11:00, 12:00, 13:00 Berlin
    assert len(series) == 3 * 2 * 3
    submitted = series[(series["group"] == "job-a") & (series["outcome"] == "submitted")]
    assert submitted["tasks"].tolist() == [1, 0, 0]
    assert series["tasks"].sum() == 2


def test_daily_series_across_daylight_saving_change() -> None:
    # Europe/Berlin leaves summer time on 2026-10-25: the day is 25 hours long.
    data = data_of(
        line("a", "21:30", "21:40", day="2026-10-24"),
        line("a", "23:10", "23:20", day="2026-10-25"),  # 00:20 on the 26th in Berlin (+01:00)
    )
    series = active_workers_series(data, "D", "Europe/Berlin")
    starts = [t.isoformat() for t in series["period_start"]]
    assert starts == [
        "2026-10-24T00:00:00+02:00",
        "2026-10-25T00:00:00+02:00",
        "2026-10-26T00:00:00+01:00",
    ]
    assert series["active_workers"].tolist() == [1, 0, 1]


def test_task_time_distributions() -> None:
    lines = [line("w", "10:00", f"10:00:{s:02d}") for s in (1, 3, 3, 40)]
    data = data_of(*lines)
    quantiles = task_time_quantiles(data, "worker")
    found = row(quantiles, "w", "group")
    assert (found["min_seconds"], found["median_seconds"], found["max_seconds"]) == (1, 3, 40)
    assert found["p25_seconds"] == 2.5
    histogram = task_time_histogram(data, "worker")
    assert histogram[["bin_start_seconds", "tasks"]].values.tolist() == [[1, 1], [2, 2], [30, 1]]
    assert task_time_histogram(data, "worker", job="job-b").empty


# --------------------------------------------------------------------------- returns, health
def test_returns_summary_finds_the_cluster() -> None:
    lines = [line("r", f"10:{i:02d}", f"10:{i:02d}:30", "TasksReturned") for i in range(3)]
    lines += [line("s", "11:00", "11:01", "TasksReturned"), line("s", "11:02", "11:03")]
    summary = returns_summary(data_of(*lines))
    job = row(summary.by_job, "job-a", "labeling_job_name")
    assert job["tasks_returned"] == 4
    assert job["top_returner"] == "r"
    assert job["top_returner_share"] == 0.75
    assert job["workers_returning"] == 2
    pair = summary.by_worker_job[summary.by_worker_job["worker_key"] == "r"].iloc[0]
    assert pair["mean_seconds_before_return"] == 30.0
    assert summary.by_hour.loc[10, "tasks_returned"] == 3


def test_data_health_log_against_metrics() -> None:
    metric_rows = pd.DataFrame(
        {
            "namespace": "AWS/SageMaker/Workteam",
            "metric_name": ["TasksSubmitted", "TasksReturned"],
            "statistic": "Sum",
            "period_seconds": 86400,
            "timestamp": pd.Timestamp(f"{DAY}T00:00Z"),
            "value": [1.0, 0.0],
            "dimensions": "{}",
            "workteam": "team-a",
            "labeling_job": "job-a",
        }
    )
    data = data_of(
        line("w", "10:00", "10:01"),
        line("w", "10:02", "10:03"),
        line("w", "10:05", "10:04"),
        tables={"metrics": metric_rows},
    )
    health = data_health(data)
    compared = health.log_vs_metrics.set_index("metric")
    assert compared.loc["TasksSubmitted", "log_count"] == 3
    assert compared.loc["TasksSubmitted", "metric_count"] == 1.0
    assert compared.loc["TasksSubmitted", "difference"] == 2.0
    assert compared.loc["TasksReturned", "difference"] == 0.0
    assert health.clock_skew["skew_seconds"].tolist() == [-60.0]


def test_unknown_identities_only_when_users_synced() -> None:
    events = [line("known", "10:00", "10:01"), line("gone", "10:00", "10:01")]
    assert data_health(data_of(*events)).unknown_identities.empty
    users = pd.DataFrame({"user_pool_id": ["us-east-1_Pool"], "sub": ["known"], "username": ["k"]})
    found = data_health(data_of(*events, tables={"users": users})).unknown_identities
    assert found["worker_key"].tolist() == ["gone"]
    assert found["events"].tolist() == [1]


def test_a_user_the_sync_marked_not_in_cognito_is_an_unknown_identity() -> None:
    events = [line("known", "10:00", "10:01"), line("gone", "10:00", "10:01")]
    users = pd.DataFrame(
        {
            "user_pool_id": ["us-east-1_Pool", "us-east-1_Pool"],
            "sub": ["known", "gone"],
            "username": ["k", None],
            "status": ["CONFIRMED", "NOT_IN_COGNITO"],
        }
    )
    found = data_health(data_of(*events, tables={"users": users})).unknown_identities
    assert found["worker_key"].tolist() == ["gone"]


def test_days_without_events() -> None:
    since = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    until = dt.datetime(2026, 11, 4, tzinfo=dt.UTC)
    data = data_of(line("w", "10:00", "10:01"), filters=Filters(since=since, until=until))
    days = data_health(data).days_without_events["day"]
    assert [d.date().isoformat() for d in days] == ["2026-11-01", "2026-11-03"]


# --------------------------------------------------------------------------- backlog, KPIs, alerts
def test_backlog_eta_and_warnings() -> None:
    # 14 submits over the 7 days before the window end = 2 per day; 2 workers per object:
    # 1 object per day; 9 + 1 pending -> 10 days; oldest 5 days old at the snapshot, 0.5 day
    # before the window end -> 5.5 + 10 >= 11: expiry warning.
    lines = [
        line("w", "10:00", "10:01", job="stream", day=f"2026-11-0{1 + i % 7}") for i in range(14)
    ]
    until = dt.datetime(2026, 11, 8, tzinfo=dt.UTC)
    jobs_table = pd.DataFrame(
        {
            "labeling_job_name": ["stream"],
            "status": ["InProgress"],
            "is_streaming": [True],
            "workers_per_object": [2],
        }
    )
    backlog = pd.DataFrame(
        {
            "queue_name": ["GroundTruth-stream"],
            "labeling_job_name": ["stream"],
            "observed_at": [pd.Timestamp("2026-11-07T12:00Z")],
            "messages_visible": [9],
            "messages_in_flight": [1],
            "oldest_message_age_seconds": [5 * 86400.0],
        }
    )
    data = data_of(
        *lines, tables={"jobs": jobs_table, "backlog": backlog}, filters=Filters(until=until)
    )
    status = backlog_status(data).iloc[0]
    assert status["pending_messages"] == 10
    assert status["submit_rate_per_day"] == pytest.approx(2.0)
    assert status["eta_days"] == pytest.approx(10.0)
    assert status["oldest_message_age_days"] == pytest.approx(5.5)
    assert status["expiry_warning"]
    assert not status["idle_stop_warning"]
    assert "objects may expire" in status["warnings"]
    found = alerts(data, worker_summary(data), backlog_status(data))
    assert found[found["kind"] == "backlog"]["page"].tolist() == ["jobs"]


@pytest.mark.parametrize(
    "rate_days", [0, -7, float("nan"), float("inf"), 1e9, "7", True, None], ids=repr
)
def test_backlog_refuses_a_rate_window_that_is_no_number_of_days(rate_days: Any) -> None:
    # Checked before anything is computed, so a store without streaming jobs refuses it too
    # (1e9 days would otherwise overflow a Timedelta, NaN give a NaT window).
    empty = team_data_from_tables(pa.table({"event_type": pa.array([], pa.string())}))
    for data in (empty, data_of(line("w", "10:00", "10:02"))):
        with pytest.raises(UsageError, match=r"rate_days must be a number of days above 0"):
            backlog_status(data, rate_days=rate_days)


def test_backlog_idle_stop_warning() -> None:
    until = dt.datetime(2026, 11, 12, tzinfo=dt.UTC)
    jobs_table = pd.DataFrame({"labeling_job_name": ["stream"], "is_streaming": [True]})
    backlog = pd.DataFrame(
        {
            "queue_name": ["GroundTruth-stream"],
            "labeling_job_name": ["stream"],
            "observed_at": [pd.Timestamp("2026-11-11T00:00Z")],
            "messages_visible": [0],
            "messages_in_flight": [0],
        }
    )
    data = data_of(
        line("w", "10:00", "12:00", job="stream"),
        tables={"jobs": jobs_table, "backlog": backlog},
        filters=Filters(until=until),
    )
    status = backlog_status(data).iloc[0]
    assert status["days_idle"] == pytest.approx(9.5)
    assert status["idle_stop_warning"]
    assert status["eta_days"] == 0.0


def test_a_streaming_job_without_a_snapshot_in_the_window_has_an_unknown_backlog() -> None:
    # The only snapshot is after the window: the job is listed with nothing known of its queue
    # (and its queue named by Ground Truth's rule), never a crash.
    until = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    jobs_table = pd.DataFrame({"labeling_job_name": ["Stream"], "is_streaming": [True]})
    backlog = pd.DataFrame(
        {
            "queue_name": ["GroundTruth-stream"],
            "labeling_job_name": ["Stream"],
            "observed_at": [pd.Timestamp("2026-11-11T00:00Z")],
            "messages_visible": [4],
            "messages_in_flight": [0],
        }
    )
    data = data_of(
        line("w", "10:00", "12:00", job="Stream"),
        tables={"jobs": jobs_table, "backlog": backlog},
        filters=Filters(since=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), until=until),
    )
    status = backlog_status(data).iloc[0]
    assert status["queue_name"] == "GroundTruth-stream"
    assert pd.isna(status["observed_at"])
    assert pd.isna(status["pending_messages"])
    assert not status["expiry_warning"]


def test_kpis_compare_with_the_previous_period() -> None:
    current = data_of(line("a", "10:00", "10:01"), line("b", "10:00", "10:03"))
    previous = data_of(line("a", "10:00", "10:02"), line("a", "10:03", "10:04", "TasksReturned"))
    table = kpis(current, previous).set_index("metric")
    assert table.loc["tasks_submitted", "value"] == 2
    assert table.loc["tasks_submitted", "previous_value"] == 1
    assert table.loc["tasks_submitted", "change"] == 1
    assert table.loc["active_workers", "value"] == 2
    assert table.loc["median_task_seconds", "value"] == 120.0
    assert table.loc["return_rate", "previous_value"] == 0.5
    assert table.loc["return_rate", "change"] == -0.5


def test_alerts_list_flagged_workers() -> None:
    lines = [line("w", f"10:{i:02d}", f"10:{i:02d}:30", "TasksReturned") for i in range(10)]
    data = data_of(*lines)
    workers = worker_summary(data)
    found = alerts(data, workers, backlog_status(data))
    assert found[["kind", "subject", "page"]].values.tolist() == [["returns", "w", "workers"]]


def test_metric_functions_do_not_mutate_their_input() -> None:
    data = data_of(line("a", "10:00", "10:01"), line("b", "10:05", "10:04"))
    before = data.events.copy()
    worker_summary(data)
    task_table(data)
    worker_sessions(data)
    data_health(data)
    pd.testing.assert_frame_equal(data.events, before)
