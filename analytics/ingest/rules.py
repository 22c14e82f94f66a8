"""What counts as a worker-activity event: the fields read, the identity and event-type rules,
the envelope keys and the reasons a line is rejected.

The rules are defined here once; every reader applies them in its own idiom: one decoded object
at a time (``parse._check_message``, ``parse._is_envelope``), Arrow columns
(``parse._valid_messages``, ``parse._worker_keys``) and the compiled scanner
(``analytics.ingest.fast_scan`` takes these constants). tests/support/tricky_lines.py is the one
table of cases all of them are checked against. The outcome event types and the stored columns
are the store's (``analytics.store.schema``).
"""

from __future__ import annotations

from analytics.responses.parse import JOB_OUTPUT_REJECT_REASONS
from analytics.store import schema

#: The deepest nesting of arrays and objects read (orjson's limit): a deeper line is rejected as
#: ``too_deeply_nested`` on every path, whatever a more lenient reader would make of it.
MAX_NESTING_DEPTH = 1024

#: Reasons a record is rejected; the dashboard and the docs explain each.
REJECT_REASONS = {
    "invalid_json": "the line is not JSON",
    "too_deeply_nested": (
        f"the line nests arrays or objects more than {MAX_NESTING_DEPTH} deep: it may be JSON, "
        "but no worker-activity message is, and it is not read"
    ),
    "truncated_json": "the line ends before its JSON object is complete",
    "not_an_object": "the line is JSON but not an object",
    "no_worker_identity": "the event has neither cognito_sub_id nor worker_id (as non-empty text)",
    "invalid_event_type": "event_type is missing, empty or not a string",
    "invalid_envelope": "a CloudWatch envelope without a string message",
    "invalid_utf8": "the line is not valid UTF-8 text",
    # Labeling job outputs (worker-response files, output manifests) share the rejected table.
    **JOB_OUTPUT_REJECT_REASONS,
}

#: The time fields of a message: texts in a time form of ``analytics.ingest.times``, the last one
#: (``event_timestamp``) epoch seconds.
TIME_FIELDS = (*schema.MESSAGE_TIME_FIELDS, "event_timestamp")
#: Every field read from a worker-activity message, as text (others are kept in the raw message).
MESSAGE_FIELDS = schema.MESSAGE_STRING_FIELDS + TIME_FIELDS
#: Who did the task: a message is an event only if one of these is a non-empty string. The first
#: non-empty one, in this order, is the event's ``worker_key``.
IDENTITY_FIELDS = ("cognito_sub_id", "worker_id")
#: What happened: a message is an event only if this is a non-empty string too.
EVENT_TYPE_FIELD = "event_type"
#: The keys of a CloudWatch event envelope. An object with ``message`` is an envelope; one with
#: another of these keys and none of the fields above is a broken one (see ``parse._is_envelope``).
ENVELOPE_KEYS = ("message", "eventId", "timestamp", "ingestionTime", "logStreamName")
REQUIRED_FIELDS = (*IDENTITY_FIELDS, EVENT_TYPE_FIELD)
