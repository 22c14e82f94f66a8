"""Absurd values for every field position of a log line, shared by the parsing and fault tests.

A value is the raw JSON text (bytes) put where a field's value goes, so it can be what no JSON
writer makes: invalid UTF-8, a lone surrogate escape, a number too large for any integer type.
"""

from __future__ import annotations

import json

from tests.conftest import make_message

#: Raw JSON values, by a name used as the test id.
ABSURD_VALUES: dict[str, bytes] = {
    "2^63": b"9223372036854775808",
    "-2^63-1": b"-9223372036854775809",
    "2^64": b"18446744073709551616",
    "2^70": b"1180591620717411303424",
    "1e20": b"1e20",
    "1e308": b"1e308",
    "-1e308": b"-1e308",
    "1e400 (infinite)": b"1e400",
    "-0": b"-0",
    "-0.0": b"-0.0",
    "negative": b"-5",
    "fraction": b"1.5",
    "NaN": b"NaN",
    "Infinity": b"Infinity",
    "object": b'{"a": [1, {"b": null}]}',
    "empty object": b"{}",
    "array": b'[1, "x"]',
    "null": b"null",
    "true": b"true",
    "false": b"false",
    "empty string": b'""',
    "1 MB string": b'"' + b"x" * (1 << 20) + b'"',
    "invalid UTF-8": b'"\xff\xfe\xc3"',
    "lone surrogate": b'"\\ud800"',
    "lone low surrogate": b'"a\\udc00b"',
    "escaped controls": b'"a\\u0000b\\u001b[31m\\r\\nc\\u202e"',
    "raw control byte": b'"a\x01b"',
    "2^63 as a string": b'"9223372036854775808"',
    "negative epoch string": b'"-1"',
    "1e308 as string": b'"1e308"',
    "year 0": b'"Sat Jan 01 00:00:00 UTC 0000"',
    "year 9999": b'"Fri Dec 31 23:59:59 UTC 9999"',
    "year 10000": b'"Sat Jan 01 00:00:00 UTC 10000"',
    "February 30": b'"Sat Feb 30 10:00:00 UTC 2019"',
    "ISO year 0": b'"0000-01-01T00:00:00Z"',
    "ISO year 9999": b'"9999-12-31T23:59:59.999Z"',
    "ISO year 10000": b'"10000-01-01T00:00:00Z"',
    "11-digit epoch": b'"99999999999"',
    "10,000-deep array": b"[" * 10_000 + b"]" * 10_000,
    "duplicate key": b"DUPLICATE",  # the field twice: a good value, then an object
}

#: The keys of a CloudWatch envelope line.
ENVELOPE_FIELDS = ("eventId", "timestamp", "ingestionTime", "logStreamName", "message")
#: The fields of a worker-activity message.
MESSAGE_FIELDS = tuple(make_message())
#: Fields whose value is a time: a stored event has its name in ``time_issues`` when the value
#: was present but not a plausible time (the envelope's ``timestamp`` is ``log_timestamp``).
TIME_FIELD_ISSUE_NAMES = {
    "task_accepted_time": "task_accepted_time",
    "task_submitted_time": "task_submitted_time",
    "task_returned_time": "task_returned_time",
    "task_declined_time": "task_declined_time",
    "event_timestamp": "event_timestamp",
    "timestamp": "log_timestamp",
}


def _with_value(fields: dict[str, object], name: str, value: bytes) -> bytes:
    """The compact JSON object of ``fields`` with the value of ``name`` replaced by ``value``."""
    placeholder = "@@absurd@@"
    if value == b"DUPLICATE":
        text = json.dumps(fields, separators=(",", ":"))
        return text[:-1].encode() + f',"{name}":{{"a":1}}}}'.encode()
    text = json.dumps({**fields, name: placeholder}, separators=(",", ":"))
    return text.replace(f'"{placeholder}"', "\x00").encode().replace(b"\x00", value)


def absurd_line(field: str, value: bytes, **message_overrides: object) -> bytes:
    """A line with ``value`` in ``field``: a plain message line for a message field, a CloudWatch
    envelope line (whose message is a good one) for an envelope field."""
    message = make_message(**message_overrides)
    if field in MESSAGE_FIELDS:
        return _with_value(message, field, value)
    envelope: dict[str, object] = {
        "eventId": "37516444617598064904128592590309000000000000000000000000",
        "timestamp": 1565798481000,
        "ingestionTime": 1565798481500,
        "logStreamName": "stream",
        "message": json.dumps(message),
    }
    return _with_value(envelope, field, value)
