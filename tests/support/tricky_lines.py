"""THE table of tricky log lines: every parsing path is checked against it.

``REJECTED_AS`` says which lines are rejected and why; every other line is an event.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import make_message, message_line

COMPACT = json.dumps(make_message(), separators=(",", ":"))


def compact(**overrides: Any) -> str:
    return json.dumps(make_message(**overrides), separators=(",", ":"))


ENVELOPE = json.dumps(
    {"eventId": "1", "timestamp": 1565798481000, "logStreamName": "s", "message": COMPACT}
)
TRICKY_LINES = {
    "compact message": COMPACT,
    "python json.dumps spacing": message_line(),
    "padded with spaces and tabs": " \t" + COMPACT + " \t ",
    "whitespace between every token": "{ "
    + COMPACT[1:-1].replace('":"', '" :\t"').replace('","', '" , "')
    + " }",
    "carriage return inside": COMPACT.replace('","', '",\r"', 1),
    "escaped quote in a value": compact(job_reference_code='ref "1"'),
    "escaped backslash and newline": compact(job_reference_code="a\\b\nc"),
    "unicode escape": compact(worker_id="w\u00e9").replace("\u00e9", "\\u00e9"),
    "raw unicode": json.dumps(make_message(worker_id="wé🙂"), ensure_ascii=False),
    "escaped key": COMPACT.replace('"worker_id"', '"worker\\u005fid"'),
    "duplicate known key, last wins": COMPACT[:-1] + ',"worker_id":"other"}',
    "duplicate unknown key": COMPACT[:-1] + ',"x":"1","x":"2"}',
    "unknown string field": COMPACT[:-1] + ',"new_field":"v"}',
    "unknown nested field": COMPACT[:-1] + ',"new_field":{"a":[1,{"b":null}]}}',
    "nested known field": compact(job_type={"kind": "Private"}),
    "array known field": compact(job_type=["Private"]),
    "number fields": compact(event_timestamp=1565798480, job_reference_code=12),
    "float field": compact(event_timestamp=1565798480.25, job_reference_code=1.5e3),
    "boolean field": compact(job_type=True),
    "null field": COMPACT.replace('"job_type":"Private"', '"job_type":null'),
    "null identity": compact(worker_id=None).replace(
        '"cognito_sub_id"', '"worker_id":null,"cognito_sub_id"'
    ),
    "empty sub, worker id kept": compact(cognito_sub_id=""),
    "no identity": compact(cognito_sub_id="", worker_id=""),
    "missing event type": compact(event_type=None),
    "empty event type": compact(event_type=""),
    "numeric event type": compact(event_type=7),
    "empty object": "{}",
    "array": "[1, 2]",
    "string": '"text"',
    "number": "42",
    "garbage": "not json",
    "truncated": COMPACT[:-20],
    "trailing comma": COMPACT[:-1] + ",}",
    "text after the object": COMPACT + " x",
    "two objects": COMPACT + COMPACT,
    "tab inside a value": compact(job_reference_code="a\tb"),
    "control byte inside a value": compact(job_reference_code="a\x01b"),
    "raw control byte inside a value": COMPACT.replace("ref-1", "ref\x01-1"),
    "DEL inside a value": COMPACT.replace("ref-1", "ref\x7f-1"),
    "no-break spaces": "\u00a0\u00a0",
    "envelope": ENVELOPE,
    "broken envelope": json.dumps({"eventId": "x", "timestamp": 1, "message": {"a": 1}}),
    "message key in a message": COMPACT[:-1] + ',"message":"hi"}',
    "timestamp key in a message": COMPACT[:-1] + ',"timestamp":"1"}',
    "export line": "2019-08-14T16:01:21.000Z " + COMPACT,
    "export line, spaces": "2019-08-14T16:01:21.000Z   " + COMPACT + "  ",
    "export line, broken time": "2019-13-45T00:00:00.000Z " + COMPACT,
    "export line, odd time": "2019\t08 " + COMPACT,
    "export line, not json": "2019-08-14T16:01:21.000Z {not json}",
    "export line, no message": "2019-08-14T16:01:21.000Z",
    "digits only": "12345",
    "ISO times": compact(
        task_accepted_time="2019-08-14T16:00:59Z", task_submitted_time="2019-08-14 16:01:20.123"
    ),
    "ISO time with offset": compact(task_submitted_time="2019-08-14T18:01:20+02:00"),
    "unparseable times": compact(task_submitted_time="garbage", event_timestamp="soon"),
    "implausible years": compact(
        task_accepted_time="Wed Aug 14 16:00:59 UTC 1999",
        task_submitted_time="Wed Aug 14 16:00:59 UTC 2100",
        event_timestamp="99999999999",
    ),
    "February 29 of a common year": compact(task_submitted_time="Fri Feb 29 10:00:00 UTC 2019"),
    "February 30": compact(task_submitted_time="Sat Feb 30 10:00:00 UTC 2019"),
    "leap second": compact(task_submitted_time="Wed Aug 14 23:59:60 UTC 2019"),
    "hour 24": compact(task_submitted_time="Wed Aug 14 24:00:00 UTC 2019"),
    "lower-case month": compact(task_submitted_time="Wed aug 14 16:00:59 UTC 2019"),
    "odd weekday": compact(task_submitted_time="XYZ Aug 14 16:00:59 UTC 2019"),
    "padded time": compact(task_submitted_time=" Wed Aug 14 16:00:59 UTC 2019"),
    "fractional epoch seconds": compact(event_timestamp="1565798480.5"),
    "padded epoch seconds": compact(event_timestamp=" 1565798480 "),
    "twelve-digit epoch": compact(event_timestamp="156579848000"),
    "epoch as ISO": compact(event_timestamp="2019-08-14T16:01:20Z"),
    "returned task": compact(
        event_type="TasksReturned",
        task_submitted_time="",
        task_returned_time="Wed Aug 14 16:05:00 UTC 2019",
    ),
    "declined task": compact(
        event_type="TasksDeclined",
        task_submitted_time="",
        task_declined_time="Wed Aug 14 16:05:00 UTC 2019",
    ),
    "accepted only": compact(event_type="TasksAccepted", task_submitted_time=""),
    "no times at all": compact(
        task_accepted_time=None, task_submitted_time=None, event_timestamp=None
    ),
    "not an ARN": compact(workteam_arn="not-an-arn", labeling_job_arn=""),
    "OIDC worker": compact(cognito_user_pool_id=None, cognito_sub_id=None),
    "envelope timestamp 2^63": ENVELOPE.replace("1565798481000", "9223372036854775808"),
    "envelope timestamp 1e20": ENVELOPE.replace("1565798481000", "1e20"),
    "envelope timestamp in 1969": ENVELOPE.replace("1565798481000", "-5"),
    "envelope timestamp as text": ENVELOPE.replace("1565798481000", '"1565798481000"'),
    "export line in year 9999": "9999-08-14T16:01:21.000Z " + COMPACT,
    "export line at epoch 0": "1970-01-01T00:00:00Z " + COMPACT,
    "10,000-deep array": "[" * 10_000 + "]" * 10_000,
    "10,000-deep unknown field": COMPACT[:-1] + ',"x":' + "[" * 10_000 + "]" * 10_000 + "}",
    "1,025-deep unknown field": COMPACT[:-1] + ',"x":' + "[" * 1025 + "]" * 1025 + "}",
    "1,024-deep unknown field": COMPACT[:-1] + ',"x":' + "[" * 1023 + "]" * 1023 + "}",
    "many brackets, shallow": COMPACT[:-1] + ',"x":[' + "[]," * 2000 + "[]]}",
    "deep envelope message": ENVELOPE.replace(json.dumps(COMPACT)[1:-1], "[" * 2000 + "]" * 2000),
    "lone surrogate": compact(job_reference_code="@").replace("@", "\\ud800"),
    "event_timestamp 1e308": compact(event_timestamp=1e308),
    "event_timestamp 2^63 text": compact(event_timestamp=str(1 << 63)),
    # Rejected lines of every reason, in the shapes they come in.
    "short truncated message": '{"worker_id": "abc", "event_type": "TasksSub',
    "event type only": json.dumps({"event_type": "TasksSubmitted"}),
    "identity fields absent": compact(cognito_sub_id=None, worker_id=None),
    "numeric identity": compact(cognito_sub_id=None, worker_id=7),
    "envelope with a null message": json.dumps(
        {"eventId": "x", "logStreamName": "s", "message": None}
    ),
    "envelope of garbage": ENVELOPE.replace(json.dumps(COMPACT)[1:-1], "not json"),
    "envelope of a message without event type": ENVELOPE.replace(
        json.dumps(COMPACT)[1:-1], json.dumps(compact(event_type=""))[1:-1]
    ),
    "export line of a message without identity": "2019-08-14T16:01:21.000Z "
    + compact(cognito_sub_id="", worker_id=""),
    # The documented time form at its edges (times and the scanner decode it alike).
    "February 29 of a leap year": compact(task_submitted_time="Thu Feb 29 23:59:59 UTC 2024"),
    "February 29, 2000": compact(task_submitted_time="Tue Feb 29 12:00:00 UTC 2000"),
    "first plausible second": compact(task_submitted_time="Sat Jan 01 00:00:00 UTC 2000"),
    "last plausible second": compact(task_submitted_time="Thu Dec 31 23:59:59 UTC 2099"),
    "day 0": compact(task_submitted_time="Mon Jan 00 00:00:00 UTC 2019"),
    "minute 60": compact(task_submitted_time="Wed Aug 14 16:60:00 UTC 2019"),
    "unknown month": compact(task_submitted_time="Wed Foo 14 16:00:59 UTC 2019"),
    "another zone": compact(task_submitted_time="Wed Aug 14 16:00:59 PDT 2019"),
    "letter in the year": compact(task_submitted_time="Wed Aug 14 16:00:59 UTC 20l9"),
    "colon for a space": compact(task_submitted_time="Wed Aug 14:16:00:59 UTC 2019"),
}

#: The lines rejected, with their reason; every other line of ``TRICKY_LINES`` is an event.
REJECTED_AS = {
    "no identity": "no_worker_identity",
    "identity fields absent": "no_worker_identity",
    "numeric identity": "no_worker_identity",
    "event type only": "no_worker_identity",
    "empty object": "no_worker_identity",
    "export line of a message without identity": "no_worker_identity",
    "missing event type": "invalid_event_type",
    "empty event type": "invalid_event_type",
    "numeric event type": "invalid_event_type",
    "envelope of a message without event type": "invalid_event_type",
    "array": "not_an_object",
    "string": "not_an_object",
    "number": "not_an_object",
    "digits only": "not_an_object",
    "garbage": "invalid_json",
    "trailing comma": "invalid_json",
    "text after the object": "invalid_json",
    "two objects": "invalid_json",
    "raw control byte inside a value": "invalid_json",
    "no-break spaces": "invalid_json",  # not JSON whitespace: not a blank line
    "message key in a message": "invalid_json",  # an envelope whose message "hi" is no JSON
    "export line, not json": "invalid_json",
    "export line, no message": "invalid_json",
    "envelope of garbage": "invalid_json",
    "lone surrogate": "invalid_json",
    "truncated": "truncated_json",
    "short truncated message": "truncated_json",
    "broken envelope": "invalid_envelope",
    "envelope with a null message": "invalid_envelope",
    "10,000-deep array": "too_deeply_nested",
    "10,000-deep unknown field": "too_deeply_nested",
    "1,025-deep unknown field": "too_deeply_nested",
    "deep envelope message": "too_deeply_nested",
}
