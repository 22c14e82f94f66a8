"""The simulated events written as log files, in every shape the worker activity log comes in
(JSON lines, CloudWatch envelopes, ``aws logs filter-log-events`` output, S3 exports), with the
garbage lines, blank lines and repeats real logs carry."""

from __future__ import annotations

import gzip
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from generate import (
    ACCOUNT,
    EXPORT_TASK_GZ,
    EXPORT_TASK_PLAIN,
    ISO_FORM_WEIGHTS,
    ISO_FORMS,
    OUTCOME_FIELD,
    POOL_ID,
    TEAMS,
    WINDOW_END,
    WINDOW_START,
    Event,
    Json,
    day_start_ms,
    export_time,
    from_ms,
    iso_time,
    java_time,
    stream_name,
    to_ms,
    window_days,
)

# --------------------------------------------------------------------------------------------
# Rendering log records
# --------------------------------------------------------------------------------------------


def fmt_time(ms: int, form: str) -> str:
    return java_time(ms) if form == "java" else iso_time(ms, form)


def message_obj(event: Event) -> dict[str, str]:
    worker, job = event.worker, event.job
    times = {
        "task_accepted_time": fmt_time(event.accepted_ms, event.time_form),
        "task_submitted_time": "",
        "task_returned_time": "",
        "task_declined_time": "",
    }
    if event.event_type in OUTCOME_FIELD:
        times[OUTCOME_FIELD[event.event_type]] = fmt_time(event.outcome_ms, event.time_form)
    if not event.has_declined_field:
        del times["task_declined_time"]
    message: dict[str, str] = {"worker_id": worker.worker_id}
    if worker.sub:
        message["cognito_user_pool_id"] = POOL_ID
        message["cognito_sub_id"] = worker.sub
    message.update(times)
    message.update(
        {
            "workteam_arn": TEAMS[job.team].arn,
            "labeling_job_arn": job.arn,
            "work_requester_account_id": ACCOUNT,
            "job_reference_code": job.ref_code,
            "job_type": "Private",
            "event_type": event.event_type,
            "event_timestamp": str(event.outcome_ms // 1000),
        }
    )
    return message


def compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def message_text(event: Event) -> str:
    return compact(message_obj(event))


def envelope_line(event: Event) -> str:
    return json.dumps(
        {
            "eventId": event.event_id,
            "timestamp": event.cw_ms,
            "ingestionTime": event.ingest_ms,
            "logStreamName": event.stream,
            "message": message_text(event),
        }
    )


def cli_envelope(event: Event) -> Json:
    return {
        "logStreamName": event.stream,
        "timestamp": event.cw_ms,
        "message": message_text(event),
        "ingestionTime": event.ingest_ms,
        "eventId": event.event_id,
    }


def export_line(event: Event) -> str:
    return f"{export_time(event.cw_ms)} {message_text(event)}"


@dataclass
class Line:
    text: str
    kind: str  # event | garbage | blank
    event: Event | None = None
    reason: str = ""
    note: str = ""


@dataclass
class LogFile:
    path: str
    shape: str
    time_format: str
    description: str
    lines: list[Line] = field(default_factory=list)
    query: Json = field(default_factory=dict)
    cli_events: list[Event] = field(default_factory=list)


def insert_line(lines: list[Line], fraction: float, line: Line) -> int:
    index = int(len(lines) * fraction)
    lines.insert(index, line)
    return index


def event_line_at(lines: list[Line], fraction: float) -> int:
    index = int(len(lines) * fraction)
    while lines[index].kind != "event":
        index += 1
    return index


def finalize_events(rng: random.Random, events: list[Event]) -> None:
    """Time forms, CloudWatch envelope fields and eventIds, in a fixed order."""
    events.sort(key=lambda ev: (ev.outcome_ms, ev.accepted_ms, ev.worker.key, ev.event_type))
    iso_day = date(2026, 10, 29)
    old_style_until = to_ms(datetime(2026, 10, 26, 6, 0, tzinfo=UTC))
    for event in events:
        if event.day == iso_day:
            event.time_form = rng.choices(ISO_FORMS, weights=ISO_FORM_WEIGHTS)[0]
            if event.time_form.startswith("frac"):
                event.accepted_ms += rng.randint(0, 999)
                if event.event_type == "TasksAccepted":
                    event.outcome_ms = event.accepted_ms
                else:
                    event.outcome_ms += rng.randint(0, 999)
        if event.outcome_ms < old_style_until and event.event_type != "TasksDeclined":
            event.has_declined_field = False
        event.cw_ms = event.outcome_ms + rng.randint(20, 900)
        event.ingest_ms = event.cw_ms + rng.randint(150, 2500)
        event.stream = stream_name(from_ms(event.cw_ms).date())
        event.event_id = str(rng.randrange(10**55, 10**56))
    events.sort(key=lambda ev: (ev.cw_ms, ev.event_id))
    ids = [ev.event_id for ev in events]
    if len(set(ids)) != len(ids):
        raise RuntimeError("eventId collision")
    for event in events:
        minute_of_day = (event.cw_ms // 1000) % 86400
        if not 30 * 60 <= minute_of_day <= 23 * 3600 + 45 * 60:
            raise RuntimeError(f"event too close to midnight UTC: {event.identity()}")
        if not to_ms(WINDOW_START) <= event.accepted_ms < event.cw_ms < to_ms(WINDOW_END):
            raise RuntimeError("event outside the window")


def export_dir(task: str, day: date) -> str:
    return f"logs/exportedlogs/{task}/{stream_name(day)}"


def build_log_files(rng: random.Random, events: list[Event]) -> list[LogFile]:
    by_day: dict[date, list[Event]] = defaultdict(list)
    for event in events:
        by_day[from_ms(event.cw_ms).date()].append(event)
    days = window_days()
    files: list[LogFile] = []

    # a. Monday: plain JSON lines of messages (old-style events lack task_declined_time).
    monday = LogFile(
        "logs/worker-activity-2026-10-26.jsonl",
        "message_jsonl",
        "java_date",
        "one worker-activity message per line (a log shipper's dump), 2026-10-26 UTC",
    )
    monday.lines = [Line(message_text(ev), "event", ev) for ev in by_day[days[0]]]
    repeat = event_line_at(monday.lines, 0.40)
    insert_line(
        monday.lines,
        0.70,
        Line(monday.lines[repeat].text, "event", monday.lines[repeat].event, note="exact repeat"),
    )
    cut = event_line_at(monday.lines, 0.52)
    whole = monday.lines[cut].text
    monday.lines.insert(
        cut,
        Line(
            whole[: int(len(whole) * 0.55)],
            "garbage",
            reason="truncated_json",
            note="retried in full on the next line",
        ),
    )
    insert_line(
        monday.lines,
        0.15,
        Line(
            "2026-10-26 09:14:03,120 WARN shipper: connection reset by peer, retrying batch 118",
            "garbage",
            reason="invalid_json",
        ),
    )
    insert_line(monday.lines, 0.33, Line("", "blank"))
    files.append(monday)

    # b. Tuesday morning: CloudWatch event envelopes, one per line.
    tue_noon = day_start_ms(days[1]) + 12 * 3_600_000
    overlap_from = tue_noon - 4 * 60_000
    envelopes = LogFile(
        "logs/cloudwatch-events-2026-10-27-am.jsonl",
        "envelope_jsonl",
        "java_date",
        "CloudWatch event envelopes (get-log-events style), 2026-10-27 00:00-12:00 UTC",
        query={"startTime": day_start_ms(days[1]), "endTime": tue_noon - 1},
    )
    envelopes.lines = [
        Line(envelope_line(ev), "event", ev) for ev in by_day[days[1]] if ev.cw_ms < tue_noon
    ]
    sample = envelopes.lines[event_line_at(envelopes.lines, 0.30)].event
    assert sample is not None
    insert_line(
        envelopes.lines,
        0.30,
        Line(
            json.dumps(
                {
                    "eventId": str(rng.randrange(10**55, 10**56)),
                    "timestamp": sample.cw_ms + 1,
                    "ingestionTime": sample.ingest_ms + 3,
                    "logStreamName": sample.stream,
                }
            ),
            "garbage",
            reason="invalid_envelope",
            note="message key missing",
        ),
    )
    sample = envelopes.lines[event_line_at(envelopes.lines, 0.62)].event
    assert sample is not None
    insert_line(
        envelopes.lines,
        0.62,
        Line(
            json.dumps(
                {
                    "eventId": str(rng.randrange(10**55, 10**56)),
                    "timestamp": sample.cw_ms + 2,
                    "ingestionTime": sample.ingest_ms + 5,
                    "logStreamName": sample.stream,
                    "message": message_obj(sample),
                }
            ),
            "garbage",
            reason="invalid_envelope",
            note="message is an object, not a string",
        ),
    )
    files.append(envelopes)

    # c. Tuesday afternoon: `aws logs filter-log-events` output, overlapping b by 4 minutes.
    cli = LogFile(
        "logs/filter-log-events-2026-10-27-pm.json",
        "filter_log_events_json",
        "java_date",
        "aws logs filter-log-events --log-group-name /aws/sagemaker/groundtruth/WorkerActivity "
        f"--start-time {overlap_from} --end-time {day_start_ms(days[2]) - 1} (AWS CLI v2 output)",
        query={"startTime": overlap_from, "endTime": day_start_ms(days[2]) - 1},
    )
    cli.cli_events = [ev for ev in by_day[days[1]] if ev.cw_ms >= overlap_from]
    files.append(cli)

    # d (plain). Wednesday: an S3 export file somebody gunzipped.
    plain = LogFile(
        f"{export_dir(EXPORT_TASK_PLAIN, days[2])}/000000",
        "s3_export_plain",
        "java_date",
        "CloudWatch Logs S3 export of 2026-10-28, decompressed (gunzip of 000000.gz)",
    )
    plain.lines = [Line(export_line(ev), "event", ev) for ev in by_day[days[2]]]
    sample = plain.lines[event_line_at(plain.lines, 0.5)].event
    assert sample is not None
    broken = message_obj(sample)
    del broken["event_type"]
    insert_line(
        plain.lines,
        0.5,
        Line(
            f"{export_time(sample.cw_ms + 1)} {compact(broken)}",
            "garbage",
            reason="invalid_event_type",
            note="event_type key missing",
        ),
    )
    files.append(plain)

    # a (ISO times). Thursday: JSON lines written by a third-party reader with ISO 8601 times.
    iso = LogFile(
        "logs/worker-activity-2026-10-29-isotime.jsonl",
        "message_jsonl",
        "iso8601_mixed",
        "worker-activity messages re-serialised with ISO 8601 times (fractional, Z, +02:00, "
        "naive = UTC), 2026-10-29 UTC",
    )
    iso.lines = [Line(message_text(ev), "event", ev) for ev in by_day[days[3]]]
    sample = iso.lines[event_line_at(iso.lines, 0.4)].event
    assert sample is not None
    broken = message_obj(sample)
    broken["event_type"] = 7  # type: ignore[assignment]
    insert_line(
        iso.lines,
        0.4,
        Line(
            compact(broken), "garbage", reason="invalid_event_type", note="event_type is a number"
        ),
    )
    insert_line(iso.lines, 0.75, Line("", "blank"))
    files.append(iso)

    # d (gzip). 2026-10-30 .. 2026-11-08: one export task, one stream a day: the bulk.
    for day in days[4:]:
        gz = LogFile(
            f"{export_dir(EXPORT_TASK_GZ, day)}/000000.gz",
            "s3_export_gz",
            "java_date",
            f"CloudWatch Logs S3 export (CreateExportTask), stream of {day.isoformat()}",
        )
        gz.lines = [Line(export_line(ev), "event", ev) for ev in by_day[day]]
        if day == date(2026, 11, 3):
            sample = gz.lines[event_line_at(gz.lines, 0.25)].event
            assert sample is not None
            insert_line(
                gz.lines,
                0.25,
                Line(
                    f"{export_time(sample.cw_ms + 1)} "
                    f'["TasksSubmitted","{sample.worker.worker_id}"]',
                    "garbage",
                    reason="not_an_object",
                    note="a JSON array",
                ),
            )
            sample = gz.lines[event_line_at(gz.lines, 0.66)].event
            assert sample is not None
            anonymous = {
                k: v
                for k, v in message_obj(sample).items()
                if k not in ("worker_id", "cognito_user_pool_id", "cognito_sub_id")
            }
            insert_line(
                gz.lines,
                0.66,
                Line(
                    f"{export_time(sample.cw_ms + 1)} {compact(anonymous)}",
                    "garbage",
                    reason="no_worker_identity",
                    note="no worker_id, no cognito_sub_id",
                ),
            )
            insert_line(gz.lines, 0.8, Line("", "blank"))
        if day == date(2026, 11, 4):
            index = event_line_at(gz.lines, 0.45)
            gz.lines.insert(
                index + 1,
                Line(
                    gz.lines[index].text,
                    "event",
                    gz.lines[index].event,
                    note="exact repeat, adjacent",
                ),
            )
        files.append(gz)
    return files


def render_cli(log_file: LogFile) -> tuple[str, dict[str, int]]:
    doc = {"events": [cli_envelope(ev) for ev in log_file.cli_events], "searchedLogStreams": []}
    text = json.dumps(doc, indent=4) + "\n"
    first_line: dict[str, int] = {}
    rows = text.split("\n")
    for number, row in enumerate(rows, start=1):
        stripped = row.strip()
        if stripped.startswith('"eventId": "'):
            event_id = stripped[len('"eventId": "') :].rstrip('"')
            opening = number - 5
            if rows[opening - 1].strip() != "{":
                raise RuntimeError("unexpected CLI layout")
            first_line[event_id] = opening
    return text, first_line


def render_log_file(log_file: LogFile) -> bytes:
    if log_file.shape == "filter_log_events_json":
        return render_cli(log_file)[0].encode()
    data = "".join(line.text + "\n" for line in log_file.lines).encode()
    if log_file.shape == "s3_export_gz":
        return gzip.compress(data, compresslevel=9, mtime=0)
    return data
