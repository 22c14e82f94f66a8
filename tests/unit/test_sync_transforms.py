"""Pure functions of the sync, driven by tables of cases (no AWS, no emulator)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest

from analytics.sources import cognito, sagemaker, sqs, workteam_metrics
from analytics.sources._convert import as_utc
from analytics.store import schema
from analytics.sync import PartResult, SyncReport, plan_log_windows

NOW = dt.datetime(2026, 11, 9, 12, 0, tzinfo=dt.UTC)
DAY_MS = 86_400_000


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, 0, []),
        (0, 1000, [(0, 1000)]),
        (0, DAY_MS + 15 * 60_000, [(0, DAY_MS + 15 * 60_000)]),  # daily sync + overlap: one
        (0, 2 * DAY_MS, [(0, DAY_MS), (DAY_MS, 2 * DAY_MS)]),
        (
            0,
            3 * DAY_MS - 1,
            [(0, DAY_MS - 1), (DAY_MS - 1, 2 * DAY_MS - 1), (2 * DAY_MS - 1, 3 * DAY_MS - 1)],
        ),
    ],
)
def test_plan_log_windows(start: int, end: int, expected: list[tuple[int, int]]) -> None:
    windows = plan_log_windows(start, end)
    assert windows == expected
    assert all(a < b for a, b in windows)


@pytest.mark.parametrize(
    ("age", "period"),
    [
        (dt.timedelta(hours=1), 60),
        # An hour of margin before each retention limit: the request comes after `now`.
        (dt.timedelta(days=15, hours=-1), 60),
        (dt.timedelta(days=15, hours=-1, seconds=1), 300),
        (dt.timedelta(days=15), 300),
        (dt.timedelta(days=63, hours=-1), 300),
        (dt.timedelta(days=63), 3600),
        (dt.timedelta(days=100), 3600),
        (dt.timedelta(days=455, hours=-1), 3600),
        (dt.timedelta(days=455), None),
    ],
)
def test_period_for_window_follows_retention(age: dt.timedelta, period: int | None) -> None:
    assert workteam_metrics.period_for_window(NOW - age, NOW) == period


def _metric(name: str, *dimensions: tuple[str, str]) -> dict[str, Any]:
    return {
        "Namespace": "AWS/SageMaker/Workteam",
        "MetricName": name,
        "Dimensions": [{"Name": n, "Value": v} for n, v in dimensions],
    }


def test_list_metrics_pages_are_deduplicated_whatever_the_dimension_order() -> None:
    team, job = ("Workteam", "t"), ("LabelingJob", "j")
    pages = [
        {"Metrics": [_metric("TasksSubmitted", team, job), _metric("TimeSpent", team, job)]},
        {"Metrics": [_metric("TasksSubmitted", job, team), _metric("TasksSubmitted", team)]},
    ]
    metrics = workteam_metrics.metrics_from_list_pages(pages)
    assert [(m.metric_name, len(m.dimensions)) for m in metrics] == [
        ("TasksSubmitted", 1),
        ("TasksSubmitted", 2),
        ("TimeSpent", 2),
    ]


@pytest.mark.parametrize(
    ("metric_count", "days", "period", "calls", "largest"),
    [
        (10, 1, 60, 1, 20),  # 1,440 points a query: 70 fit a call
        (300, 1, 60, 9, 70),
        (22, 14, 60, 9, 5),  # 20,160 points a query: 5 a call
        (400, 1, 3600, 2, 500),  # capped at 500 queries
    ],
)
def test_batches_respect_query_and_datapoint_limits(
    metric_count: int, days: int, period: int, calls: int, largest: int
) -> None:
    metrics = [
        workteam_metrics.MetricIdentity("N", f"m{i}", (("Workteam", "t"),))
        for i in range(metric_count)
    ]
    queries = workteam_metrics.build_queries(metrics, ("Sum", "SampleCount"), period)
    start = NOW - dt.timedelta(days=days)
    batches = workteam_metrics.batch_queries(queries, start, NOW)
    assert len(batches) == calls
    assert max(len(b) for b in batches) == largest
    points = days * 86_400 // period
    assert all(len(b) <= 500 and len(b) * points <= 100_800 for b in batches)
    assert sum(len(b) for b in batches) == len(queries)


def test_metric_rows_take_the_well_known_dimensions_as_columns() -> None:
    metric = workteam_metrics.MetricIdentity(
        "AWS/SageMaker/Workteam",
        "TimeSpent",
        (("Workteam", "t"), ("LabelingJob", "j"), ("WorkerId", "w")),
    )
    (query,) = workteam_metrics.build_queries([metric], ("Sum",), 60)
    page = {
        "MetricDataResults": [
            {"Id": query.query_id, "Timestamps": ["2026-11-01T00:01:00Z"], "Values": [42.0]}
        ]
    }
    (row,) = workteam_metrics.metric_rows_from_results([query], [page]).to_pylist()
    assert (row["workteam"], row["labeling_job"], row["worker"], row["value"]) == (
        "t",
        "j",
        "w",
        42.0,
    )
    assert row["timestamp"] == dt.datetime(2026, 11, 1, 0, 1, tzinfo=dt.UTC)
    assert row["dimensions"] == '{"LabelingJob":"j","WorkerId":"w","Workteam":"t"}'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("2026-11-01T00:00:00+00:00", dt.datetime(2026, 11, 1, tzinfo=dt.UTC)),
        ("2026-11-01T02:00:00+02:00", dt.datetime(2026, 11, 1, tzinfo=dt.UTC)),
        ("2026-11-01T00:00:00Z", dt.datetime(2026, 11, 1, tzinfo=dt.UTC)),
        ("2026-11-01T00:00:00", dt.datetime(2026, 11, 1, tzinfo=dt.UTC)),
        (dt.datetime(2026, 11, 1, tzinfo=dt.UTC), dt.datetime(2026, 11, 1, tzinfo=dt.UTC)),
        (1793491200, dt.datetime(2026, 11, 1, tzinfo=dt.UTC)),
    ],
)
def test_times_from_boto3_or_recordings(value: object, expected: dt.datetime | None) -> None:
    assert as_utc(value) == expected


USER = {
    "Username": "ana",
    "Attributes": [
        {"Name": "sub", "Value": "s-1"},
        {"Name": "email", "Value": "ana@example.com"},
        {"Name": "given_name", "Value": "Ana"},
        {"Name": "family_name", "Value": "Lima"},
    ],
    "Enabled": True,
    "UserStatus": "CONFIRMED",
    "UserCreateDate": "2026-09-01T00:00:00+00:00",
}


def test_users_and_unknown_subs() -> None:
    users = cognito.users_from_pages("pool", [{"Users": [USER]}, {"Users": []}])
    (row,) = users.to_pylist()
    assert (row["sub"], row["name"], row["status"], row["enabled"]) == (
        "s-1",
        "Ana Lima",
        "CONFIRMED",
        True,
    )
    unknown = cognito.unknown_users("pool", {"s-1", "s-gone", ""}, users).to_pylist()
    assert [(u["sub"], u["status"]) for u in unknown] == [("s-gone", schema.UNKNOWN_USER_STATUS)]


def test_memberships_from_group_pages() -> None:
    table = cognito.memberships_from_pages("team", "arn:team", "pool", "group", [{"Users": [USER]}])
    assert table.to_pylist() == [
        {
            "workteam_name": "team",
            "workteam_arn": "arn:team",
            "user_pool_id": "pool",
            "user_group": "group",
            "sub": "s-1",
            "username": "ana",
            "email": "ana@example.com",
        }
    ]


@pytest.mark.parametrize(
    ("definitions", "kinds"),
    [
        (
            [{"CognitoMemberDefinition": {"UserPool": "p", "UserGroup": "g", "ClientId": "c"}}],
            ["cognito"],
        ),
        ([{"OidcMemberDefinition": {"Groups": ["a", "b"]}}], ["oidc"]),
        ([], [None]),
    ],
)
def test_workteams_by_member_definition(
    definitions: list[dict[str, Any]], kinds: list[str | None]
) -> None:
    team = {"WorkteamName": "t", "WorkteamArn": "arn:t", "MemberDefinitions": definitions}
    table = sagemaker.workteams_from_descriptions([{"Workteam": team}])
    assert table.column("member_kind").to_pylist() == kinds


@pytest.mark.parametrize(
    ("data_source", "streaming"),
    [
        ({"SnsDataSource": {"SnsTopicArn": "arn:aws:sns:us-east-1:1:in"}}, True),
        ({"S3DataSource": {"ManifestS3Uri": "s3://b/m"}}, False),
        ({}, False),
    ],
)
def test_streaming_jobs_are_those_fed_by_sns(data_source: dict[str, Any], streaming: bool) -> None:
    job = {
        "LabelingJobName": "j",
        "LabelingJobStatus": "InProgress",
        "InputConfig": {"DataSource": data_source},
        "HumanTaskConfig": {"TaskTimeLimitInSeconds": 600, "MaxConcurrentTaskCount": 200},
        "LabelCounters": {"TotalLabeled": 3, "Unlabeled": 7},
    }
    summaries = {"arn:t": [{"LabelingJobName": "j", "LabelCounters": {"PendingHuman": 9}}]}
    (row,) = sagemaker.jobs_from_descriptions([job], summaries).to_pylist()
    assert row["is_streaming"] is streaming
    assert (row["task_time_limit_seconds"], row["pending_human"], row["unlabeled"]) == (600, 9, 7)


def test_backlog_row_and_queue_name() -> None:
    queue = sqs.queue_name_for_job("Support-Tickets")
    assert queue == "GroundTruth-support-tickets"
    response = {
        "Attributes": {
            "ApproximateNumberOfMessages": "12",
            "ApproximateNumberOfMessagesNotVisible": "3",
        }
    }
    row = sqs.backlog_row("Support-Tickets", queue, response, "2026-11-01T00:00:00Z", 60.0)
    assert (
        row["messages_visible"],
        row["messages_in_flight"],
        row["oldest_message_age_seconds"],
    ) == (12, 3, 60.0)
    table = pa.Table.from_pylist([row])
    assert table.num_rows == 1


@pytest.mark.parametrize(
    "warning",
    ["line one\nline two", "red \x1b[31malert\x1b[0m", "bidi \u202e txt.exe", "cr\rover"],
    ids=["newline", "ansi", "bidi", "carriage-return"],
)
def test_a_warning_from_an_endpoint_stays_one_literal_line(warning: str) -> None:
    report = SyncReport("123456789012", "us-east-1", NOW, NOW)
    report.parts.append(PartResult("work teams", ok=False, detail="not synced", warnings=[warning]))

    lines = report.summary_text().splitlines()

    assert len(lines) == 3
    assert lines[-1].startswith("warning: work teams: ")
    assert not any(character in lines[-1] for character in "\x1b\r\u202e")
