"""Turn worker-activity log data, in every shape it arrives in, into events and rejected lines.

Shapes, detected per file and then per line:

* JSON lines of worker-activity messages (one JSON object per line);
* JSON lines of CloudWatch event envelopes ``{eventId, timestamp, ingestionTime, logStreamName,
  message}`` whose ``message`` is the JSON text of the worker event;
* the JSON document printed by ``aws logs filter-log-events`` (``{"events": [...]}``);
* CloudWatch Logs S3 export lines ``<ISO-8601 timestamp> <message JSON>`` (decompressed by the
  caller);
* the ``events`` of a FilterLogEvents response, through ``parse_log_events``.

Every non-blank line (or log event) becomes exactly one event or one rejected record, so
``records == len(events) + len(rejected)``: nothing disappears. An event is keyed by a 128-bit hash
of its message text (``keys.event_keys``), so the same message seen in two shapes is one event.
Parsers take bytes or records, never paths or clients.

The hot path (chunks of 1 MB or more of JSON lines) is a compiled one-pass scanner
(``analytics.ingest.fast_scan``) that reads the lines it can read exactly; every other line goes the
exact way: pyarrow's multithreaded JSON reader, then lines it refuses isolated by bisection and
parsed one by one, which is also where a rejection reason comes from.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json

from analytics.ingest.rules import (
    ENVELOPE_KEYS,
    EVENT_TYPE_FIELD,
    IDENTITY_FIELDS,
    MAX_NESTING_DEPTH,
    MESSAGE_FIELDS,
    REQUIRED_FIELDS,
    TIME_FIELDS,
)
from analytics.ingest.times import (
    PLAUSIBLE_FROM_MS,
    PLAUSIBLE_UNTIL_MS,
    parse_epoch_seconds,
    parse_times,
)
from analytics.store import schema
from analytics.store.keys import event_keys, md5_keys

_LOG = logging.getLogger(__name__)

if TYPE_CHECKING:
    from analytics.ingest.fast_scan import ScannedLines

#: Longest raw text kept for a rejected record (the rest is cut and the cut is said).
MAX_REJECTED_TEXT = 1 << 20


_MESSAGE_SCHEMA = pa.schema([(name, pa.string()) for name in MESSAGE_FIELDS])
_LINE_SCHEMA = _MESSAGE_SCHEMA
for _key in ENVELOPE_KEYS:
    _LINE_SCHEMA = _LINE_SCHEMA.append(
        pa.field(_key, pa.int64() if _key in ("timestamp", "ingestionTime") else pa.string())
    )
#: Below this many rows a block refused by the fast path is parsed line by line.
_BISECT_FLOOR = 256
#: pyarrow's JSON reader reads blocks of this size: 8 MB, enough blocks to keep every core busy
#: on a large chunk. A longer line cannot be read in one and goes line by line.
_JSON_BLOCK_BYTES = 1 << 23


@dataclass(frozen=True)
class ParseResult:
    """Events (``schema.EVENTS``) and rejected records (``schema.REJECTED``) from one input.

    ``records`` counts the non-blank lines or log events examined; ``blank_lines`` the blank lines
    skipped. ``records == events.num_rows + rejected.num_rows`` always holds.
    """

    events: pa.Table
    rejected: pa.Table
    records: int
    blank_lines: int = 0

    @staticmethod
    def concat(results: Sequence[ParseResult]) -> ParseResult:
        """One result holding all of ``results``."""
        if not results:
            return ParseResult(schema.EVENTS.empty_table(), schema.REJECTED.empty_table(), 0)
        return ParseResult(
            events=pa.concat_tables([r.events for r in results]),
            rejected=pa.concat_tables([r.rejected for r in results]),
            records=sum(r.records for r in results),
            blank_lines=sum(r.blank_lines for r in results),
        )


@dataclass
class _MessageBatch:
    """Message fields (``_MESSAGE_SCHEMA``) with each message's text and provenance, columnar."""

    fields: pa.Table
    texts: pa.Array
    locations: pa.Array
    log_timestamp: pa.Array
    log_stream_names: pa.Array
    #: Per message, whether its log time (envelope ``timestamp`` or export-line prefix) was
    #: present but not a plausible time: then ``log_timestamp`` is null and the issue is said.
    log_time_issues: pa.Array

    @staticmethod
    def concat(batches: Sequence[_MessageBatch]) -> _MessageBatch:
        batches = [b for b in batches if b.fields.num_rows]
        if len(batches) == 1:
            return batches[0]

        def joined(arrays: list[pa.Array], type_: pa.DataType) -> pa.Array:
            return (
                pa.concat_arrays([a.cast(type_) for a in arrays]) if arrays else pa.array([], type_)
            )

        return _MessageBatch(
            fields=pa.concat_tables([b.fields for b in batches])
            if batches
            else _MESSAGE_SCHEMA.empty_table(),
            texts=joined([b.texts for b in batches], pa.string()),
            locations=joined([b.locations for b in batches], pa.string()),
            log_timestamp=joined([b.log_timestamp for b in batches], schema.UTC_MS),
            log_stream_names=joined([b.log_stream_names for b in batches], pa.string()),
            log_time_issues=joined([b.log_time_issues for b in batches], pa.bool_()),
        )

    def in_line_order(self) -> _MessageBatch:
        """The messages ordered by their line numbers (locations), so that of two copies of one
        message in a file the first line's is kept, whichever way each was parsed."""
        if self.fields.num_rows < 2:
            return self
        numbers = np.asarray(pc.cast(self.locations, pa.int64()))
        if (np.diff(numbers) >= 0).all():
            return self
        order = pa.array(np.argsort(numbers, kind="stable"))
        return _MessageBatch(
            self.fields.take(order),
            self.texts.take(order),
            self.locations.take(order),
            self.log_timestamp.take(order),
            self.log_stream_names.take(order),
            self.log_time_issues.take(order),
        )


@dataclass
class _Rejects:
    locations: list[str]
    reasons: list[str]
    details: list[str | None]
    texts: list[str]

    @classmethod
    def empty(cls) -> _Rejects:
        return cls([], [], [], [])

    def add(self, location: str, reason: str, detail: str | None, text: str) -> None:
        self.locations.append(location)
        self.reasons.append(reason)
        self.details.append(detail)
        self.texts.append(text)

    def __len__(self) -> int:
        return len(self.reasons)

    def to_table(self, source: str) -> pa.Table:
        if not self.reasons:
            return schema.REJECTED.empty_table()
        texts = [
            t if len(t) <= MAX_REJECTED_TEXT else t[:MAX_REJECTED_TEXT] + f"… [cut, {len(t)} chars]"
            for t in self.texts
        ]
        key_material = [
            f"{source}\x00{location}\x00{text}"
            for location, text in zip(self.locations, texts, strict=True)
        ]
        now = dt.datetime.now(dt.UTC)
        return pa.table(
            {
                "reject_key": md5_keys(pa.array(key_material, pa.string())),
                "source": pa.array([source] * len(texts), pa.string()),
                "location": pa.array(self.locations, pa.string()),
                "reason": pa.array(self.reasons, pa.string()),
                "detail": pa.array(self.details, pa.string()),
                "raw_text": pa.array(texts, pa.string()),
                "rejected_at": pa.array([now] * len(texts), schema.UTC_MS),
            },
            schema=schema.REJECTED,
        )


# --------------------------------------------------------------------------- one record at a time
def _decode_error_reason(error: orjson.JSONDecodeError) -> str:
    message = str(error)
    if "depth limit exceeded" in message:
        return "too_deeply_nested"
    return "truncated_json" if "unexpected end of data" in message else "invalid_json"


def _log_time_ms(value: Any) -> tuple[int | None, bool]:
    """An envelope's ``timestamp`` (epoch ms) and whether it is a time issue.

    Absent or null is no time and no issue; anything else that is not a number of milliseconds
    in the plausible range (``times.PLAUSIBLE_FROM_MS`` ...) is an issue, so that no value,
    however wild (2^63, 1e308, -0, a string, an object), reaches the store or its arithmetic.
    """
    if value is None:
        return None, False
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, True
    if not PLAUSIBLE_FROM_MS <= value < PLAUSIBLE_UNTIL_MS:  # NaN fails this too
        return None, True
    return math.floor(value), False


def _as_text(value: Any) -> str | None:
    """A message field as text: strings as they are, numbers and booleans spelled, null as None."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return orjson.dumps(value).decode()


_JSON_TYPE_NAMES = {
    "dict": "object",
    "list": "array",
    "str": "string",
    "int": "number",
    "float": "number",
    "bool": "boolean",
    "NoneType": "null",
}


def _json_type(value: Any) -> str:
    return _JSON_TYPE_NAMES.get(type(value).__name__, type(value).__name__)


def _check_message(obj: Any) -> tuple[str, str | None] | None:
    """The rejection reason and detail of a decoded message, or None when it is an event."""
    if not isinstance(obj, dict):
        return "not_an_object", f"a JSON {_json_type(obj)}"
    if not any(isinstance(obj.get(f), str) and obj[f] for f in IDENTITY_FIELDS):
        return "no_worker_identity", None
    event_type = obj.get(EVENT_TYPE_FIELD)
    if not isinstance(event_type, str) or not event_type:
        shown = "missing" if EVENT_TYPE_FIELD not in obj else f"{event_type!r}"
        return "invalid_event_type", f"{EVENT_TYPE_FIELD} is {shown}"
    return None


class _SlowParser:
    """Classifies and parses records one by one; collects message rows and rejects."""

    def __init__(self) -> None:
        self.rows: list[dict[str, str | None]] = []
        self.texts: list[str] = []
        self.locations: list[str] = []
        self.log_timestamp_ms: list[int | None] = []
        self.log_stream_names: list[str | None] = []
        self.log_time_issues: list[bool] = []
        self.rejects = _Rejects.empty()

    def batch(self) -> _MessageBatch:
        """The messages parsed so far, columnar."""
        return _MessageBatch(
            fields=pa.Table.from_pylist(self.rows, schema=_MESSAGE_SCHEMA),
            texts=pa.array(self.texts, pa.string()),
            locations=pa.array(self.locations, pa.string()),
            log_timestamp=pa.array(self.log_timestamp_ms, pa.int64()).cast(schema.UTC_MS),
            log_stream_names=pa.array(self.log_stream_names, pa.string()),
            log_time_issues=pa.array(self.log_time_issues, pa.bool_()),
        )

    def message_text(
        self,
        text: str,
        location: str,
        log_time: tuple[int | None, bool],
        stream: str | None,
        raw: str,
    ) -> None:
        """A worker-activity message text (from a line, an envelope or an export line), with its
        log time (epoch ms, and whether it was present but unusable)."""
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            self.rejects.add(location, _decode_error_reason(exc), str(exc), raw)
            return
        self.message_object(obj, text, location, log_time, stream, raw)

    def message_object(
        self,
        obj: Any,
        text: str,
        location: str,
        log_time: tuple[int | None, bool],
        stream: str | None,
        raw: str,
    ) -> None:
        problem = _check_message(obj)
        if problem is not None:
            self.rejects.add(location, problem[0], problem[1], raw)
            return
        self.rows.append({name: _as_text(obj.get(name)) for name in MESSAGE_FIELDS})
        self.texts.append(text)
        self.locations.append(location)
        self.log_timestamp_ms.append(log_time[0])
        self.log_time_issues.append(log_time[1])
        self.log_stream_names.append(stream)

    def envelope(self, obj: Mapping[str, Any], location: str, raw: str) -> None:
        message = obj.get("message")
        log_time = _log_time_ms(obj.get("timestamp"))
        stream = obj.get("logStreamName") if isinstance(obj.get("logStreamName"), str) else None
        if not isinstance(message, str):
            shown = "missing" if "message" not in obj else f"a JSON {_json_type(message)}"
            self.rejects.add(location, "invalid_envelope", f"message is {shown}", raw)
            return
        self.message_text(message.strip(_JSON_WHITESPACE), location, log_time, stream, raw)

    def line(self, raw: str, location: str) -> None:
        """Any non-blank line: a message, an envelope, an export line, or garbage."""
        text = raw.strip(_JSON_WHITESPACE)
        if text[:1].isdigit():
            # An S3 export line: "<ISO-8601 timestamp> <message JSON>". As on the fast path, a
            # timestamp that does not parse leaves the log time empty; the message still counts.
            timestamp, _, rest = text.partition(" ")
            rest = rest.strip(_JSON_WHITESPACE)
            log_ms = _iso_to_epoch_ms(timestamp) if rest else None
            if rest[:1] in ("{", "[") or log_ms is not None:
                self.message_text(rest, location, (log_ms, log_ms is None), None, raw)
                return
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            self.rejects.add(location, _decode_error_reason(exc), str(exc), raw)
            return
        if isinstance(obj, dict) and _is_envelope(obj):
            self.envelope(obj, location, raw)
        else:
            self.message_object(obj, text, location, (None, False), None, raw)


_JSON_WHITESPACE = " \t\r\n"


def _is_envelope(obj: Mapping[str, Any]) -> bool:
    """A CloudWatch envelope has a ``message``; an object with envelope keys but no message is a
    broken envelope, unless it carries worker-message fields (a shipper may add ``timestamp`` to
    a message)."""
    if "message" in obj:
        return True
    return any(k in obj for k in ENVELOPE_KEYS) and not any(k in obj for k in REQUIRED_FIELDS)


def _iso_to_epoch_ms(text: str) -> int | None:
    times, _ = parse_times(pa.array([text], pa.string()))
    value = times.cast(pa.int64())[0].as_py()
    return int(value) if value is not None else None


# --------------------------------------------------------------------------- the fast path
def _newline_joined(texts: pa.StringArray) -> pa.Buffer:
    """The texts joined by newlines, as one buffer (no Python strings are made)."""
    joined = pc.binary_join_element_wise(texts, pa.scalar("", pa.string()), "\n")
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32)
    start, end = int(offsets[joined.offset]), int(offsets[joined.offset + len(joined)])
    buffer = joined.buffers()[2]
    assert buffer is not None
    result: pa.Buffer = buffer.slice(start, end - start)
    return result


def _read_json_block(
    texts: pa.StringArray, read_schema: pa.Schema, payload: bytes | pa.Buffer | None = None
) -> pa.Table | None:
    """Parse newline-free JSON object texts with pyarrow; None if any row is refused.

    ``payload``, when given, is the same texts already joined by newlines (blank lines allowed).
    """
    if payload is None:
        payload = _newline_joined(texts)
    elif isinstance(payload, bytes):
        payload = pa.py_buffer(payload)
    try:
        table = pa_json.read_json(
            pa.BufferReader(payload),
            read_options=pa_json.ReadOptions(block_size=_JSON_BLOCK_BYTES),
            parse_options=pa_json.ParseOptions(
                explicit_schema=read_schema, unexpected_field_behavior="ignore"
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return table if table.num_rows == len(texts) else None


def _parse_blocks(
    texts: pa.StringArray, read_schema: pa.Schema, payload: bytes | None = None
) -> tuple[list[tuple[np.ndarray, pa.Table]], np.ndarray]:
    """Fast-parse ``texts``, bisecting around refused rows.

    ``payload`` optionally holds all ``texts`` joined by newlines, to spare a copy on the first
    try. Returns the parsed blocks as (row indices, table) and the indices left for the slow path.
    """
    parsed: list[tuple[np.ndarray, pa.Table]] = []
    slow: list[np.ndarray] = []
    pending = [np.arange(len(texts))]
    exact = _needs_exact_reading(texts)
    if exact is not None:
        slow.append(np.flatnonzero(exact))
        pending = [np.flatnonzero(~exact)]
    while pending:
        rows = pending.pop()
        if len(rows) == 0:
            continue
        whole = len(rows) == len(texts)
        block = texts if whole else texts.take(pa.array(rows))
        table = _read_json_block(block, read_schema, payload if whole else None)
        if table is not None:
            parsed.append((rows, table))
        elif len(rows) <= _BISECT_FLOOR:
            slow.append(rows)
        else:
            middle = len(rows) // 2
            pending.extend([rows[middle:], rows[:middle]])
    slow_rows = np.concatenate(slow) if slow else np.empty(0, dtype=np.int64)
    return parsed, slow_rows


def _needs_exact_reading(texts: pa.StringArray) -> np.ndarray | None:
    """Rows pyarrow's reader must not be given (None when there are none): lines longer than its
    block, and lines that may nest deeper than ``MAX_NESTING_DEPTH``, which pyarrow would read
    (ignoring a deep unknown field) where the exact reader rejects them as ``too_deeply_nested``.

    Only lines longer than the depth limit are searched for brackets, so ordinary messages
    (a few hundred bytes) cost one length computation.
    """
    lengths = np.asarray(pc.binary_length(texts).fill_null(0))
    long_rows = np.flatnonzero(lengths > MAX_NESTING_DEPTH)
    if len(long_rows) == 0:
        return None
    long_texts = texts.take(pa.array(long_rows))
    brackets = np.asarray(pc.count_substring(long_texts, "[").fill_null(0)) + np.asarray(
        pc.count_substring(long_texts, "{").fill_null(0)
    )
    exact = np.zeros(len(texts), dtype=bool)
    exact[long_rows[brackets > MAX_NESTING_DEPTH]] = True
    exact[lengths >= _JSON_BLOCK_BYTES] = True
    return exact if exact.any() else None


def _non_empty(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return pc.fill_null(pc.greater(pc.utf8_length(column), 0), False)


def _valid_messages(fields: pa.Table) -> np.ndarray:
    """Per row of message fields, whether ``_check_message`` would let it be an event."""
    identity = _non_empty(fields.column(IDENTITY_FIELDS[0]))
    for name in IDENTITY_FIELDS[1:]:
        identity = pc.or_(identity, _non_empty(fields.column(name)))
    return np.asarray(pc.and_(identity, _non_empty(fields.column(EVENT_TYPE_FIELD))))


def _worker_keys(strings: Mapping[str, pa.Array | pa.ChunkedArray]) -> pa.Array:
    """The first non-empty ``IDENTITY_FIELDS`` value of each row."""
    keys = pa.nulls(len(strings[IDENTITY_FIELDS[0]]), pa.string())
    for name in reversed(IDENTITY_FIELDS):
        keys = pc.if_else(_non_empty(strings[name]), strings[name], keys)
    return keys


def _name_after(arns: pa.Array | pa.ChunkedArray, marker: str) -> pa.Array:
    """The resource name after ``marker`` in an ARN (``workteam/private-crowd/`` etc.).

    ARNs repeat on every event of a team or job, so the work is done once per distinct ARN.
    """
    encoded = pc.dictionary_encode(arns)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    distinct = encoded.dictionary
    last = pc.replace_substring_regex(distinct, pattern=r"^.*/", replacement="")
    has_marker = pc.fill_null(pc.match_substring(distinct, marker), False)
    names = pc.if_else(has_marker, last, pa.scalar(None, pa.string()))
    return pc.take(names, encoded.indices)


def _time_issue_names(issues: Mapping[str, np.ndarray], count: int) -> pa.Array:
    """Per row, the comma-separated names of the time fields flagged in ``issues`` (else null)."""
    time_issues = pa.nulls(count, pa.string())
    for name, flagged_rows in issues.items():
        if flagged_rows.any():
            flagged = pc.if_else(
                pa.array(flagged_rows), pa.scalar(name), pa.scalar(None, pa.string())
            )
            joined = pc.binary_join_element_wise(time_issues, flagged, ",")
            time_issues = pc.coalesce(joined, time_issues, flagged)
    return time_issues


def _events_table(
    strings: Mapping[str, pa.Array | pa.ChunkedArray],
    times: Mapping[str, pa.Array],
    time_issues: pa.Array,
    texts: pa.Array | pa.ChunkedArray,
    log_timestamp: pa.Array,
    log_stream_names: pa.Array,
    source: str,
    keys: pa.Array | pa.ChunkedArray | None = None,
) -> pa.Table:
    """``schema.EVENTS`` rows from the string fields and decoded times of valid messages;
    ``keys`` are the texts' event keys when already computed (by the compiled scanner)."""
    count = len(texts)
    event_type = strings["event_type"]
    no_time = pa.scalar(None, schema.UTC_MS)
    outcome_time = pc.coalesce(
        *(
            pc.if_else(pc.equal(event_type, outcome_type), times[field], no_time)
            for outcome_type, field in schema.OUTCOME_TIME_FIELDS.items()
        )
    )
    # From the message alone, never from its envelope: the same message text then always gets
    # the same time and so the same store partition, which is what makes the store's
    # per-partition duplicate check complete.
    event_time = pc.coalesce(outcome_time, times["task_accepted_time"], times["event_timestamp"])
    return pa.table(
        {
            "event_key": event_keys(texts) if keys is None else keys,
            "worker_key": _worker_keys(strings),
            "worker_id": strings["worker_id"],
            "cognito_user_pool_id": strings["cognito_user_pool_id"],
            "cognito_sub_id": strings["cognito_sub_id"],
            "event_type": event_type,
            "event_time": event_time,
            **{name: times[name] for name in TIME_FIELDS},
            "workteam_arn": strings["workteam_arn"],
            "workteam_name": _name_after(strings["workteam_arn"], ":workteam/"),
            "labeling_job_arn": strings["labeling_job_arn"],
            "labeling_job_name": _name_after(strings["labeling_job_arn"], ":labeling-job/"),
            "work_requester_account_id": strings["work_requester_account_id"],
            "job_reference_code": strings["job_reference_code"],
            "job_type": strings["job_type"],
            "log_timestamp": log_timestamp,
            "log_stream_name": log_stream_names,
            "source": pa.repeat(pa.scalar(source, pa.string()), count),
            "time_issues": time_issues,
            "raw_message": texts,
        },
        schema=schema.EVENTS,
    )


def _assemble(batch: _MessageBatch, source: str) -> pa.Table:
    """Decode the times of valid messages (``_check_message`` passed) and build their
    ``schema.EVENTS`` rows (vectorised)."""
    fields = batch.fields
    if fields.num_rows == 0:
        return schema.EVENTS.empty_table()
    times: dict[str, pa.Array] = {}
    issues: dict[str, np.ndarray] = {}
    for name in TIME_FIELDS:
        parse = parse_epoch_seconds if name == "event_timestamp" else parse_times
        times[name], issues[name] = parse(fields.column(name))
    issues["log_timestamp"] = np.asarray(batch.log_time_issues.fill_null(False), dtype=bool)
    return _events_table(
        strings={name: fields.column(name) for name in schema.MESSAGE_STRING_FIELDS},
        times=times,
        time_issues=_time_issue_names(issues, fields.num_rows),
        texts=batch.texts,
        log_timestamp=batch.log_timestamp,
        log_stream_names=batch.log_stream_names,
        source=source,
    )


# --------------------------------------------------------------------------- public entry points
def _take(values: pa.Array, rows: np.ndarray) -> pa.Array:
    """``values[rows]``, without a copy when ``rows`` is every row in order."""
    if len(rows) == len(values) and (
        len(rows) == 0 or (rows[0] == 0 and rows[-1] == len(rows) - 1)
    ):
        return values
    return values.take(pa.array(rows))


def parse_lines(
    lines: pa.StringArray,
    source: str,
    first_line_number: int = 1,
    data: bytes | None = None,
    line_numbers: np.ndarray | None = None,
) -> ParseResult:
    """Parse an array of lines (no newline characters) of any line-based shape.

    Events come in line order.

    Parameters
    ----------
    lines
        The file's lines in order, blank ones included (they keep the line numbers right).
    source
        Where the lines come from (a path), stored with every event and rejected record.
    first_line_number
        The 1-based number of ``lines[0]`` in its file.
    data
        Optionally the bytes ``lines`` were split from, which spares a copy when every
        non-blank line is a message object (the common case).
    line_numbers
        The 1-based number of each line, when they do not follow each other (the lines
        ``parse_chunk``'s scanner left to this path); overrides ``first_line_number``.
    """
    return _parse_lines_numbered(lines, source, first_line_number, data, line_numbers)[0]


def _parse_lines_numbered(
    lines: pa.StringArray,
    source: str,
    first_line_number: int = 1,
    data: bytes | None = None,
    line_numbers: np.ndarray | None = None,
) -> tuple[ParseResult, np.ndarray]:
    """``parse_lines``, and the line number of each event."""
    count = len(lines)
    numbers = (
        np.asarray(line_numbers, dtype=np.int64)
        if line_numbers is not None
        else np.arange(first_line_number, first_line_number + count, dtype=np.int64)
    )
    first = pc.utf8_slice_codeunits(lines, 0, 1)
    ends_object = pc.fill_null(pc.equal(pc.utf8_slice_codeunits(lines, -1), "}"), False)
    is_object = np.asarray(pc.and_(pc.fill_null(pc.equal(first, "{"), False), ends_object))
    is_export = np.asarray(pc.and_(pc.fill_null(pc.utf8_is_digit(first), False), ends_object))
    blank = np.asarray(pc.fill_null(pc.equal(pc.utf8_length(lines), 0), True))

    # Candidates for the fast path: object lines, and the message part of export lines.
    object_rows = np.flatnonzero(is_object)
    export_rows = np.flatnonzero(is_export)
    export_parts = pc.split_pattern(lines.take(pa.array(export_rows)), " ", max_splits=1)
    split_ok = np.asarray(pc.equal(pc.list_value_length(export_parts), 2))
    export_rows, export_parts = export_rows[split_ok], export_parts.filter(pa.array(split_ok))
    export_texts = (
        pc.list_element(export_parts, 1) if len(export_rows) else pa.array([], pa.string())
    )
    export_ok = np.asarray(pc.fill_null(pc.starts_with(export_texts, "{"), False))
    export_rows, export_parts = export_rows[export_ok], export_parts.filter(pa.array(export_ok))
    export_texts = pc.filter(export_texts, pa.array(export_ok))
    export_times, export_time_issues = (
        parse_times(pc.list_element(export_parts, 0))
        if len(export_rows)
        else (pa.array([], schema.UTC_MS), np.zeros(0, dtype=bool))
    )
    candidate_rows = np.concatenate([object_rows, export_rows])
    candidate_texts = pa.concat_arrays([_take(lines, object_rows), export_texts])
    only_objects = len(object_rows) == count - int(blank.sum())
    candidate_log = pa.concat_arrays(
        [pa.nulls(len(object_rows), schema.UTC_MS), export_times.cast(schema.UTC_MS)]
    )
    candidate_log_issues = pa.array(
        np.concatenate([np.zeros(len(object_rows), bool), export_time_issues])
    )
    is_line_object = np.concatenate(
        [np.ones(len(object_rows), bool), np.zeros(len(export_rows), bool)]
    )

    payload = data if only_objects else None
    blocks, refused = _parse_blocks(candidate_texts, _LINE_SCHEMA, payload)
    batches: list[_MessageBatch] = []
    slow_rows = candidate_rows[refused].tolist()
    for rows, table in blocks:
        # An object line with a message or an envelope key is a CloudWatch envelope (or a broken
        # one): the slow path parses its message and names what is wrong with it.
        envelope = np.zeros(len(rows), dtype=bool)
        for key in ENVELOPE_KEYS:
            envelope |= np.asarray(pc.is_valid(table.column(key)))
        envelope &= is_line_object[rows]
        # A message without a worker identity or an event type is rejected by the slow path,
        # which says exactly what is missing.
        to_slow = envelope | ~_valid_messages(table)
        slow_rows.extend(candidate_rows[rows[to_slow]].tolist())
        plain_rows = rows[~to_slow]
        if len(plain_rows) == 0:
            continue
        plain_fields = table if not to_slow.any() else table.filter(pa.array(~to_slow))
        batches.append(
            _MessageBatch(
                fields=plain_fields.select(_MESSAGE_SCHEMA.names),
                texts=_take(candidate_texts, plain_rows),
                locations=pa.array(numbers[candidate_rows[plain_rows]]).cast(pa.string()),
                log_timestamp=_take(candidate_log, plain_rows),
                log_stream_names=pa.nulls(len(plain_rows), pa.string()),
                log_time_issues=_take(candidate_log_issues, plain_rows),
            )
        )

    slow = _SlowParser()
    handled = np.zeros(count, dtype=bool)
    handled[candidate_rows] = True
    slow_rows.extend(np.flatnonzero(~handled & ~blank).tolist())
    for index in sorted(slow_rows):
        raw = lines[int(index)].as_py()
        # Only JSON whitespace makes a line blank: a line of, say, no-break spaces is garbage
        # to report, not nothing.
        if raw.strip(_JSON_WHITESPACE):
            slow.line(raw, str(numbers[int(index)]))
        else:
            blank[index] = True
    batches.append(slow.batch())
    messages = _MessageBatch.concat(batches).in_line_order()
    events = _assemble(messages, source)
    blank_count = int(blank.sum())
    result = ParseResult(events, slow.rejects.to_table(source), count - blank_count, blank_count)
    return result, np.asarray(pc.cast(messages.locations, pa.int64()), dtype=np.int64)


def split_lines(data: bytes) -> pa.StringArray | None:
    """Split ``data`` into lines (without their newlines) as an Arrow string array, fast.

    Returns None when the fast splitter cannot be trusted with ``data`` (carriage returns, a
    0x1F byte, invalid UTF-8); ``parse_bytes`` then splits line by line.
    """
    if not data:
        return pa.array([], pa.string())
    if b"\r" not in data and b"\x1f" not in data:
        try:
            table = pa_csv.read_csv(
                pa.BufferReader(pa.py_buffer(data)),
                read_options=pa_csv.ReadOptions(column_names=["line"], block_size=1 << 24),
                parse_options=pa_csv.ParseOptions(
                    delimiter="\x1f", quote_char=False, escape_char=False, ignore_empty_lines=False
                ),
                convert_options=pa_csv.ConvertOptions(
                    column_types={"line": pa.string()}, strings_can_be_null=False
                ),
            )
            lines: pa.StringArray = table.column("line").combine_chunks()
            expected = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
            if len(lines) == expected:
                return lines
        except (pa.ArrowInvalid, UnicodeDecodeError):
            pass
    return None


_BOM = b"\xef\xbb\xbf"


def _as_document(data: bytes) -> dict[str, Any] | None:
    """The JSON object ``data`` holds as a whole, or None when it is not one (e.g. JSON lines)."""
    if data.lstrip()[:1] != b"{":
        return None
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None  # several lines of objects, a truncated document, garbage: read line by line
    return document if isinstance(document, dict) else None


def looks_like_a_document(head: bytes) -> bool:
    """Whether a file starting with ``head`` may be one JSON document rather than JSON lines.

    True for a first line that is a lone ``{`` (pretty-printed) or that starts ``{"events"``
    (the compact output of ``aws logs filter-log-events``, e.g. through ``jq -c``).
    """
    stripped = head.removeprefix(_BOM).lstrip()
    if not stripped.startswith(b"{"):
        return False
    rest = stripped[1:].lstrip(b" \t\r")
    return rest[:1] == b"\n" or rest.startswith(b'"events"')


def parse_bytes(data: bytes, source: str) -> ParseResult:
    """Parse one file's (decompressed) content, whatever its shape.

    Content that is one JSON object with an ``events`` list as a whole (the AWS CLI's
    ``filter-log-events`` output, pretty-printed or compact) is read as log events; one
    pretty-printed object is read as a single record; anything else is read line by line, so a
    truncated or broken document still gives each of its lines a verdict instead of one reject.
    A UTF-8 byte order mark is ignored.
    """
    data = data.removeprefix(_BOM)
    if looks_like_a_document(data[:4096]):
        document = _as_document(data)
        if document is not None and isinstance(document.get("events"), list):
            return parse_log_events(document["events"], source)
        if document is not None and data.strip().count(b"\n"):
            # One pretty-printed object: a single message or envelope.
            slow = _SlowParser()
            slow.line(orjson.dumps(document).decode(), "1")
            events = _assemble(slow.batch(), source)
            return ParseResult(events, slow.rejects.to_table(source), 1)
    result, _ = parse_chunk(data, source)
    return result


#: Chunks smaller than this skip the compiled scanner: loading it costs more than it saves.
FAST_PATH_MIN_BYTES = 1 << 20


def parse_chunk(
    data: bytes | memoryview,
    source: str,
    first_line_number: int = 1,
    *,
    fast: bool | None = None,
) -> tuple[ParseResult, int]:
    """Parse whole lines (JSON lines of any shape, S3 export lines); also returns the line count.

    The compiled scanner (``analytics.ingest.fast_scan``) reads the lines it can read exactly (plain
    messages and S3 export lines of the common form); every other line goes through
    ``parse_lines``, with its own line number. The result is the same either way, which the
    tests check on tricky inputs.

    Parameters
    ----------
    fast
        Use the scanner (True), never (False), or for chunks of ``FAST_PATH_MIN_BYTES`` or more
        (None).
    """
    if fast is None:
        fast = len(data) >= FAST_PATH_MIN_BYTES
    if fast and 0 < len(data) <= line_scanner_limit():
        return _parse_scanned(data, source, first_line_number)
    data = bytes(data)
    line_count = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    lines = split_lines(data)
    if lines is not None:
        return parse_lines(lines, source, first_line_number, data=data), line_count
    return parse_lines_exactly(data, source, first_line_number), line_count


def line_scanner_limit() -> int:
    """The largest chunk the compiled scanner takes (0 where it cannot run)."""
    try:
        return int(_line_scanner().MAX_SCAN_BYTES)
    except _ScannerUnavailable:
        return 0


class _ScannerUnavailable(Exception):
    """The compiled scanner cannot be loaded here: every line takes the exact path."""


_scanner_failure: list[str] = []


def _line_scanner() -> ModuleType:
    """``analytics.ingest.fast_scan``, or ``_ScannerUnavailable`` (said once, in the log).

    Numba may be missing or broken, or find no writable folder for its compiled code (a
    read-only install run by a user without a home folder): ingest then only gets slower.
    """
    if not _scanner_failure:
        try:
            from analytics.ingest import fast_scan
        except (ImportError, RuntimeError, OSError) as exc:
            _scanner_failure.append(str(exc))
            _LOG.warning(
                "the compiled line scanner is unavailable (%s): every line is read the exact "
                "way, more slowly",
                exc,
            )
        else:
            return fast_scan
    raise _ScannerUnavailable(_scanner_failure[0])


def _parse_scanned(
    data: bytes | memoryview, source: str, first_line_number: int
) -> tuple[ParseResult, int]:
    from analytics.ingest import fast_scan

    scanned = fast_scan.scan_lines(data)
    status = scanned.status
    count = len(status)
    accepted_rows = np.flatnonzero(status == fast_scan.ACCEPTED)
    refused_rows = np.flatnonzero(status == fast_scan.REFUSED)
    events = _scanned_events(scanned, source)
    blank_count = int(np.count_nonzero(status == fast_scan.BLANK))
    if len(refused_rows) == 0:
        result = ParseResult(
            events, schema.REJECTED.empty_table(), count - blank_count, blank_count
        )
        return result, count
    # The refused lines, exactly as parse_lines_exactly reads them.
    refused = _decoded_lines(
        [scanned.line(int(row)) for row in refused_rows],
        refused_rows.astype(np.int64) + first_line_number,
        source,
    )
    if refused.events.num_rows:
        # One table in line order, as parse_lines gives it.
        numbers = np.concatenate([accepted_rows, refused.event_rows - first_line_number])
        order = pa.array(np.argsort(numbers, kind="stable"))
        events = pa.concat_tables([events, refused.events]).take(order)
    result = ParseResult(
        events,
        refused.rejected,
        len(accepted_rows) + refused.records,
        blank_count + refused.blank_lines,
    )
    return result, count


def _scanned_events(scanned: ScannedLines, source: str) -> pa.Table:
    """``schema.EVENTS`` rows of the lines the scanner accepted."""
    from analytics.ingest import fast_scan

    count = len(scanned.texts)
    if count == 0:
        return schema.EVENTS.empty_table()
    times: dict[str, pa.Array] = {}
    issues: dict[str, np.ndarray] = {}
    for t, name in enumerate(fast_scan.TIME_FIELDS):
        epoch_ms = scanned.time_ms[t].copy()
        state = scanned.time_state[t]
        decoded = state == fast_scan.DECODED
        issue = state == fast_scan.TIME_ISSUE
        undecided = np.flatnonzero(state == fast_scan.UNDECIDED)
        if len(undecided):
            # Another form (ISO 8601, fractional seconds...): times decides, as ever.
            texts = pa.array(
                [scanned.text_at(*scanned.time_spans[t, j]) for j in undecided], pa.string()
            )
            parse = parse_epoch_seconds if name == "event_timestamp" else parse_times
            parsed, flagged = parse(texts)
            ok = np.asarray(parsed.is_valid())
            epoch_ms[undecided[ok]] = np.asarray(parsed.cast(pa.int64()).fill_null(0))[ok]
            decoded[undecided[ok]] = True
            issue[undecided[flagged]] = True
        times[name] = pa.array(epoch_ms, type=pa.int64(), mask=~decoded).cast(schema.UTC_MS)
        issues[name] = issue
    log_timestamp = pa.nulls(count, schema.UTC_MS)
    issues["log_timestamp"] = np.zeros(count, dtype=bool)
    exported = np.flatnonzero(scanned.prefix[:, 0] >= 0)
    if len(exported):
        stamps = pa.array([scanned.text_at(*scanned.prefix[j]) for j in exported], pa.string())
        epoch_ms = np.zeros(count, dtype=np.int64)
        known = np.zeros(count, dtype=bool)
        parsed, flagged = parse_times(stamps)
        ok = np.asarray(parsed.is_valid())
        epoch_ms[exported[ok]] = np.asarray(parsed.cast(pa.int64()).fill_null(0))[ok]
        known[exported[ok]] = True
        issues["log_timestamp"][exported[flagged]] = True
        log_timestamp = pa.array(epoch_ms, type=pa.int64(), mask=~known).cast(schema.UTC_MS)
    return _events_table(
        strings=scanned.strings,
        times=times,
        time_issues=_time_issue_names(issues, count),
        texts=scanned.texts,
        log_timestamp=log_timestamp,
        log_stream_names=pa.nulls(count, pa.string()),
        source=source,
        keys=scanned.keys,
    )


@dataclass(frozen=True)
class _NumberedResult:
    """A ``ParseResult`` of lines that need not follow each other, with each event's line."""

    events: pa.Table
    rejected: pa.Table
    records: int
    blank_lines: int
    event_rows: np.ndarray


def _decoded_lines(raw_lines: Sequence[bytes], numbers: np.ndarray, source: str) -> _NumberedResult:
    """Parse raw lines (a final carriage return dropped, invalid UTF-8 rejected) numbered
    ``numbers``, with ``parse_lines``."""
    texts: list[str] = []
    undecodable: list[tuple[int, bytes]] = []
    for number, raw in zip(numbers.tolist(), raw_lines, strict=True):
        raw = raw.removesuffix(b"\r")
        try:
            texts.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            texts.append("")
            undecodable.append((number, raw))
    result, event_rows = _parse_lines_numbered(
        pa.array(texts, pa.string()), source, line_numbers=numbers
    )
    rejected = result.rejected
    if undecodable:
        rejects = _Rejects.empty()
        for number, raw in undecodable:
            text = raw.decode("utf-8", errors="replace")
            rejects.add(str(number), "invalid_utf8", "bytes that are not UTF-8 were replaced", text)
        rejected = pa.concat_tables([rejected, rejects.to_table(source)])
    return _NumberedResult(
        events=result.events,
        rejected=rejected,
        records=result.records + len(undecodable),
        blank_lines=result.blank_lines - len(undecodable),
        event_rows=event_rows,
    )


def parse_lines_exactly(data: bytes, source: str, first_line_number: int = 1) -> ParseResult:
    """Line by line, for data with carriage returns, odd control bytes or invalid UTF-8."""
    raw_lines = data.removeprefix(_BOM).split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    numbers = np.arange(first_line_number, first_line_number + len(raw_lines), dtype=np.int64)
    result = _decoded_lines(raw_lines, numbers, source)
    return ParseResult(result.events, result.rejected, result.records, result.blank_lines)


def parse_log_events(events: Sequence[Mapping[str, Any]], source: str) -> ParseResult:
    """Parse CloudWatch log events (FilterLogEvents ``events`` or the CLI document's).

    The location of a rejected event is its ``eventId`` when it has one, else its position.
    """
    slow = _SlowParser()
    for position, event in enumerate(events, start=1):
        location = (
            str(event.get("eventId") or position) if isinstance(event, Mapping) else str(position)
        )
        raw = orjson.dumps(event).decode() if not isinstance(event, str) else event
        if not isinstance(event, Mapping):
            slow.rejects.add(location, "invalid_envelope", "the log event is not an object", raw)
            continue
        slow.envelope(event, location, raw)
    parsed = _assemble(slow.batch(), source)
    return ParseResult(parsed, slow.rejects.to_table(source), len(events))
