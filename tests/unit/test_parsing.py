"""Every shape events arrive in, every rejection reason, and the one-event-once rule."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pyarrow as pa
import pytest

from analytics.ingest.parse import parse_bytes, parse_lines, parse_log_events
from tests.conftest import JOB_ARN, TEAM_ARN, make_message, message_line
from tests.support.tricky_lines import REJECTED_AS, TRICKY_LINES

UTC = dt.UTC
ACCEPTED = dt.datetime(2019, 8, 14, 16, 0, 59, tzinfo=UTC)
SUBMITTED = dt.datetime(2019, 8, 14, 16, 1, 20, tzinfo=UTC)


def envelope(message: str, event_id: str = "e1", timestamp_ms: int = 1565798481000) -> dict:
    return {
        "eventId": event_id,
        "timestamp": timestamp_ms,
        "ingestionTime": timestamp_ms + 500,
        "logStreamName": "aws/sagemaker/groundtruth/worker-activity/123456789012-us-east-1/1",
        "message": message,
    }


def cli_document(*messages: str) -> str:
    events = [envelope(m, f"e{i}") for i, m in enumerate(messages)]
    return json.dumps({"events": events, "searchedLogStreams": []}, indent=4)


MESSAGE = message_line()
SHAPES = {
    "json lines": MESSAGE + "\n",
    "json lines, no final newline": MESSAGE,
    "json lines, CRLF": MESSAGE + "\r\n",
    "json lines, padded": "   " + MESSAGE + "  \n",
    "envelope line": json.dumps(envelope(MESSAGE)) + "\n",
    "cli document": cli_document(MESSAGE),
    "s3 export line": "2019-08-14T16:01:21.000Z " + MESSAGE + "\n",
}


@pytest.mark.parametrize("shape", SHAPES)
def test_each_shape_gives_the_same_event(shape: str) -> None:
    result = parse_bytes(SHAPES[shape].encode(), "f")
    assert (result.records, result.events.num_rows, result.rejected.num_rows) == (1, 1, 0)
    event = result.events.to_pylist()[0]
    assert event["worker_key"] == "11111111-2222-3333-4444-555555555555"
    assert event["worker_id"] == "cd449a289e129409"
    assert event["event_type"] == "TasksSubmitted"
    assert event["task_accepted_time"] == ACCEPTED
    assert event["task_submitted_time"] == SUBMITTED
    assert event["event_time"] == SUBMITTED
    assert event["task_returned_time"] is None
    assert event["workteam_name"] == "team-a"
    assert event["labeling_job_name"] == "job-x"
    assert event["raw_message"] == MESSAGE


def test_the_same_message_in_every_shape_has_one_key() -> None:
    keys = {
        parse_bytes(text.encode(), "f").events.column("event_key")[0].as_py()
        for text in SHAPES.values()
    }
    assert len(keys) == 1


@pytest.mark.parametrize(
    ("shape", "log_timestamp", "stream"),
    [
        ("envelope line", dt.datetime(2019, 8, 14, 16, 1, 21, tzinfo=UTC), True),
        ("s3 export line", dt.datetime(2019, 8, 14, 16, 1, 21, tzinfo=UTC), False),
        ("json lines", None, False),
    ],
)
def test_envelope_provenance_is_kept(
    shape: str, log_timestamp: dt.datetime | None, stream: bool
) -> None:
    event = parse_bytes(SHAPES[shape].encode(), "f").events.to_pylist()[0]
    assert event["log_timestamp"] == log_timestamp
    assert (event["log_stream_name"] is not None) == stream


@pytest.mark.parametrize("name", REJECTED_AS)
def test_bad_line_is_rejected_with_its_reason(name: str) -> None:
    line = TRICKY_LINES[name]
    result = parse_bytes(f"{MESSAGE}\n{line}\n".encode(), "file.jsonl")
    assert result.events.num_rows == 1
    rejected = result.rejected.to_pylist()
    assert [(r["location"], r["reason"], r["raw_text"], r["source"]) for r in rejected] == [
        ("2", REJECTED_AS[name], line, "file.jsonl")
    ]


def test_all_bad_lines_together_are_each_kept_once_with_line_numbers() -> None:
    bad = [TRICKY_LINES[name] for name in REJECTED_AS]
    lines = [MESSAGE, "", *bad, "   ", message_line(worker_id="w2")]
    result = parse_bytes("\n".join(lines).encode(), "f")
    assert result.records == len(lines) - 2
    assert result.blank_lines == 2
    assert result.records == result.events.num_rows + result.rejected.num_rows
    got = sorted((int(r["location"]), r["reason"]) for r in result.rejected.to_pylist())
    assert got == [(i + 3, reason) for i, reason in enumerate(REJECTED_AS.values())]


def test_invalid_utf8_line_is_rejected_and_the_rest_parsed() -> None:
    data = MESSAGE.encode() + b"\n\xff\xfe broken\n" + message_line(worker_id="w2").encode() + b"\n"
    result = parse_bytes(data, "f")
    assert result.events.num_rows == 2
    assert [(r["location"], r["reason"]) for r in result.rejected.to_pylist()] == [
        ("2", "invalid_utf8")
    ]


def test_a_truncated_cli_document_keeps_every_line_with_a_verdict() -> None:
    text = cli_document(MESSAGE)[:-40]
    result = parse_bytes(text.encode(), "cli.json")
    non_blank = [line for line in text.splitlines() if line.strip()]
    assert result.records == len(non_blank)
    assert result.records == result.events.num_rows + result.rejected.num_rows
    assert sorted(r["raw_text"] for r in result.rejected.to_pylist()) == sorted(non_blank)


@pytest.mark.parametrize(
    ("content", "events", "rejected"),
    [
        # The compact CLI output (e.g. through `jq -c`): one line, still log events.
        (json.dumps({"events": [envelope(MESSAGE)]}), 1, 0),
        # A byte order mark before a pretty-printed document, or before CRLF JSON lines.
        ("\ufeff" + cli_document(MESSAGE), 1, 0),
        ("\ufeff" + MESSAGE + "\r\n" + message_line(worker_id="w2") + "\r\n", 2, 0),
        # A lone "{" line followed by JSON lines is no document: each line gets its verdict.
        ("{\n" + MESSAGE + "\n" + message_line(worker_id="w2") + "\n", 2, 1),
        # A message carrying an extra timestamp key (some log shippers add one) is a message.
        (json.dumps({**make_message(), "timestamp": 1565798480000}), 1, 0),
        # An export line whose timestamp is broken still carries its message.
        ("2019-13-45T00:00:00.000Z " + MESSAGE, 1, 0),
        ("2019-13-45T00:00:00.000Z " + MESSAGE + " ", 1, 0),
    ],
)
def test_shapes_that_must_not_swallow_events(content: str, events: int, rejected: int) -> None:
    result = parse_bytes(content.encode(), "f")
    assert (result.events.num_rows, result.rejected.num_rows) == (events, rejected)


def test_other_event_types_are_kept_as_they_are() -> None:
    line = message_line(event_type="TasksAccepted", task_submitted_time="")
    event = parse_bytes(line.encode(), "f").events.to_pylist()[0]
    assert event["event_type"] == "TasksAccepted"
    # No outcome time: the event is filed under its accepted time.
    assert event["event_time"] == ACCEPTED


@pytest.mark.parametrize(
    ("overrides", "expected_time", "issues"),
    [
        ({}, SUBMITTED, None),
        ({"task_submitted_time": ""}, ACCEPTED, None),
        ({"task_submitted_time": None, "task_accepted_time": None}, SUBMITTED, None),
        ({"task_submitted_time": "garbage"}, ACCEPTED, "task_submitted_time"),
        (
            {"task_submitted_time": "", "task_accepted_time": "x", "event_timestamp": "y"},
            None,
            "task_accepted_time,event_timestamp",
        ),
        (
            {
                "event_type": "TasksReturned",
                "task_submitted_time": "",
                "task_returned_time": "Wed Aug 14 16:05:00 UTC 2019",
            },
            dt.datetime(2019, 8, 14, 16, 5, tzinfo=UTC),
            None,
        ),
        ({"task_declined_time": None}, SUBMITTED, None),
    ],
)
def test_event_time_and_time_issues(
    overrides: dict, expected_time: dt.datetime | None, issues: str | None
) -> None:
    event = parse_bytes(message_line(**overrides).encode(), "f").events.to_pylist()[0]
    assert event["event_time"] == expected_time
    assert event["time_issues"] == issues


def test_a_message_without_time_lands_in_one_partition_whatever_its_envelope() -> None:
    line = message_line(task_accepted_time="", task_submitted_time="", event_timestamp="")
    shapes = [line, "2019-08-14T16:01:21.000Z " + line, json.dumps(envelope(line))]
    events = [parse_bytes(text.encode(), "f").events.to_pylist()[0] for text in shapes]
    assert {e["event_time"] for e in events} == {None}
    assert events[1]["log_timestamp"] is not None


def test_oidc_worker_without_cognito_fields_is_keyed_by_worker_id() -> None:
    line = message_line(
        cognito_user_pool_id=None, cognito_sub_id=None, worker_id="abcdef0123456789"
    )
    event = parse_bytes(line.encode(), "f").events.to_pylist()[0]
    assert event["worker_key"] == "abcdef0123456789"
    assert event["cognito_sub_id"] is None


def test_numbers_where_strings_are_expected_are_spelled_not_rejected() -> None:
    obj = make_message(event_timestamp=1565798480, job_reference_code=12)
    event = parse_bytes(json.dumps(obj).encode(), "f").events.to_pylist()[0]
    assert event["event_timestamp"] == SUBMITTED
    assert event["job_reference_code"] == "12"


def test_unknown_fields_are_ignored_but_kept_in_the_raw_message() -> None:
    line = json.dumps({**make_message(), "new_field": {"nested": True}})
    event = parse_bytes(line.encode(), "f").events.to_pylist()[0]
    assert "new_field" in event["raw_message"]


def test_bisection_isolates_bad_lines_in_a_large_block() -> None:
    lines = [message_line(worker_id=f"w{i}", cognito_sub_id="") for i in range(3000)]
    lines[1234] = "oops"
    lines[2999] = '{"cut": '
    result = parse_lines(pa.array(lines, pa.string()), "f")
    assert result.events.num_rows == 2998
    assert sorted((r["location"], r["reason"]) for r in result.rejected.to_pylist()) == [
        ("1235", "invalid_json"),
        ("3000", "truncated_json"),
    ]
    assert set(result.events.column("worker_key").to_pylist()) == {
        f"w{i}" for i in range(3000) if i not in (1234, 2999)
    }


def test_parse_log_events_uses_event_ids_as_locations() -> None:
    events = [envelope(MESSAGE, "id-1"), envelope("garbage", "id-2"), {"eventId": "id-3"}]
    result = parse_log_events(events, "cloudwatch:/aws/sagemaker/groundtruth/WorkerActivity")
    assert result.records == 3
    assert result.events.num_rows == 1
    assert [(r["location"], r["reason"]) for r in result.rejected.to_pylist()] == [
        ("id-2", "invalid_json"),
        ("id-3", "invalid_envelope"),
    ]


def test_gzip_content_is_parsed_by_the_caller_after_decompression() -> None:
    compressed = gzip.compress(SHAPES["s3 export line"].encode())
    result = parse_bytes(gzip.decompress(compressed), "f.gz")
    assert result.events.num_rows == 1


def test_arn_names_are_the_last_path_segment() -> None:
    event = parse_bytes(MESSAGE.encode(), "f").events.to_pylist()[0]
    assert (event["workteam_arn"], event["labeling_job_arn"]) == (TEAM_ARN, JOB_ARN)
    line = message_line(workteam_arn="not-an-arn", labeling_job_arn="")
    event = parse_bytes(line.encode(), "f").events.to_pylist()[0]
    assert (event["workteam_name"], event["labeling_job_name"]) == (None, None)
