#!/usr/bin/env python3
"""Generate the bundled Ground Truth sample data (deterministic).

Usage (from the repository root):

    python sample_logs/make_sample_logs.py            # rewrite every generated file
    python sample_logs/make_sample_logs.py --check    # exit 1 if the files on disk are stale
    python sample_logs/make_sample_logs.py --verify   # re-derive the planted truth from the files

Three modules next to this one make the sample: ``generate`` simulates the account (cast, worker
activity, backlog, derived truth), ``render`` writes the log files and ``record`` the AWS API
exchanges; this one puts them together into ``planted.json`` and holds the command line, whose
``--verify`` re-reads the files with the project's own parser (``analytics.ingest.parse``).

Everything is derived from ``random.Random(SEED)`` and fixed dates: two runs write the same bytes
(gzip members carry ``mtime=0`` and no file name). ``planted.json`` is the machine-readable truth
the tests check against; ``README.md`` next to this script is hand written.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from generate import (
    ACCOUNT,
    EVENT_TYPES,
    JOBS,
    LAST_FRIDAY,
    LOG_GROUP,
    MAX_TOTAL_BYTES,
    POOL_ID,
    QUEUE_RETENTION_DAYS,
    RECORDED_AT,
    REGION,
    RETURNER_RATE,
    SEED,
    SLOW_FACTOR,
    TEAMS,
    USER_DELETED_AT,
    WINDOW_END,
    WINDOW_START,
    Event,
    Json,
    Worker,
    build_backlog,
    build_workers,
    from_ms,
    iso_z,
    log_metric_table,
    median_task_seconds,
    plan_undercounts,
    return_rates,
    simulate,
    slow_detection,
    window_days,
)
from job_outputs import plant_long_pauses, render_job_outputs, verify_job_outputs
from record import (
    JobState,
    Recorder,
    job_states,
    record_cloudwatch,
    record_cognito,
    record_sagemaker,
    record_sqs,
)
from render import (
    LogFile,
    build_log_files,
    finalize_events,
    render_cli,
    render_log_file,
)

from analytics.ingest.parse import parse_bytes

# --------------------------------------------------------------------------------------------
# Putting it together
# --------------------------------------------------------------------------------------------


def dump_json(obj: Any) -> bytes:
    return (json.dumps(obj, sort_keys=True, indent=2) + "\n").encode()


def occurrences(files: list[LogFile]) -> tuple[dict[str, list[Json]], list[Json], Json]:
    """eventId -> places, garbage list, per-file statistics."""
    places: dict[str, list[Json]] = defaultdict(list)
    garbage: list[Json] = []
    stats: Json = {}
    for log_file in files:
        if log_file.shape == "filter_log_events_json":
            _, first_line = render_cli(log_file)
            for index, event in enumerate(log_file.cli_events):
                places[event.event_id].append(
                    {
                        "file": log_file.path,
                        "event_index": index,
                        "line": first_line[event.event_id],
                    }
                )
            stats[log_file.path] = {
                "event_records": len(log_file.cli_events),
                "garbage_lines": 0,
                "blank_lines": 0,
                "lines": render_cli(log_file)[0].count("\n"),
            }
            continue
        for number, line in enumerate(log_file.lines, start=1):
            if line.kind == "event":
                assert line.event is not None
                places[line.event.event_id].append({"file": log_file.path, "line": number})
            elif line.kind == "garbage":
                garbage.append(
                    {
                        "file": log_file.path,
                        "line": number,
                        "reason": line.reason,
                        "note": line.note,
                    }
                )
        stats[log_file.path] = {
            "event_records": sum(1 for ln in log_file.lines if ln.kind == "event"),
            "garbage_lines": sum(1 for ln in log_file.lines if ln.kind == "garbage"),
            "blank_lines": sum(1 for ln in log_file.lines if ln.kind == "blank"),
            "lines": len(log_file.lines),
        }
    return places, garbage, stats


def event_ref(event: Event) -> Json:
    return {
        "eventId": event.event_id,
        "worker_key": event.worker.key,
        "labeling_job": event.job.name,
        "event_type": event.event_type,
        "event_timestamp": str(event.outcome_ms // 1000),
    }


def worker_entry(worker: Worker, jobs_worked: list[str], days_worked: list[str]) -> Json:
    roles = {
        "slow": ["slow"],
        "returner": ["returner"],
        "never_worked": ["never_worked"],
        "oidc": ["oidc_no_cognito"],
        "deleted": ["deleted_from_cognito"],
    }.get(worker.role, [])
    return {
        "worker_key": worker.key,
        "worker_id": worker.worker_id,
        "cognito_sub_id": worker.sub,
        "name": worker.name,
        "username": worker.username if worker.listed else None,
        "email": worker.email if worker.listed else None,
        "teams": list(worker.teams),
        "cognito_groups": list(worker.groups),
        "in_cognito_list_users": worker.listed,
        "user_status": worker.user_status if worker.listed else None,
        "timezone": worker.tz,
        "speed_factor": worker.speed_on(JOBS[next(iter(worker.weights))])
        if worker.weights
        else None,
        "roles": roles,
        "labeling_jobs": jobs_worked,
        "day_off": worker.day_off.isoformat() if worker.day_off else None,
        "utc_days_with_events": days_worked,
    }


def build_planted(
    workers: list[Worker],
    events: list[Event],
    files: list[LogFile],
    undercounts: list[Json],
    backlog_story: Json,
    states: dict[str, JobState],
    sizes: dict[str, int],
    exchanges: dict[str, Json],
) -> Json:
    places, garbage, stats = occurrences(files)
    by_id = {ev.event_id: ev for ev in events}
    duplicates = []
    for event_id in sorted(places, key=lambda i: by_id[i].cw_ms):
        spots = places[event_id]
        if len(spots) > 1:
            same_file = len({s["file"] for s in spots}) == 1
            duplicates.append(
                {
                    "kind": "exact_repeat_same_file" if same_file else "same_event_two_files",
                    "event": event_ref(by_id[event_id]),
                    "occurrences": spots,
                }
            )
    per_type = Counter(ev.event_type for ev in events)
    per_worker: dict[str, Counter[str]] = defaultdict(Counter)
    per_job: dict[str, Counter[str]] = defaultdict(Counter)
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    jobs_of: dict[str, set[str]] = defaultdict(set)
    days_of: dict[str, set[str]] = defaultdict(set)
    for event in events:
        per_worker[event.worker.key][event.event_type] += 1
        per_job[event.job.name][event.event_type] += 1
        per_day[event.day.isoformat()][event.event_type] += 1
        jobs_of[event.worker.key].add(event.job.name)
        days_of[event.worker.key].add(event.day.isoformat())
    durations = median_task_seconds(events)
    detection = slow_detection(durations)
    rates = return_rates(per_worker)
    by_role: dict[str, list[Worker]] = defaultdict(list)
    for worker in workers:
        by_role[worker.role].append(worker)

    def job_of(worker: Worker) -> str:
        return JOBS[next(iter(worker.weights))].name

    stream_job = next(j for j in JOBS.values() if j.streaming)
    stream_weekdays = [
        per_day_job
        for day in window_days()
        if day.weekday() < 5
        for per_day_job in [
            sum(
                1
                for ev in events
                if ev.job is stream_job and ev.day == day and ev.event_type == "TasksSubmitted"
            )
        ]
    ]
    backlog_story["stream_job_submitted_per_weekday_avg"] = round(
        sum(stream_weekdays) / len(stream_weekdays), 1
    )
    backlog_story["story"] = (
        f"{stream_job.queue_name} grows from "
        f"{backlog_story['first_snapshot']['ApproximateNumberOfMessages']} visible messages "
        f"({backlog_story['first_snapshot']['time']}) to "
        f"{backlog_story['last_snapshot']['ApproximateNumberOfMessages']} "
        f"({backlog_story['last_snapshot']['time']}) while the text team submits about "
        f"{backlog_story['stream_job_submitted_per_weekday_avg']:.0f} tasks a weekday; the "
        f"oldest message is {backlog_story['oldest_message_age_days_at_window_end']} days old "
        f"at the end of the window, {backlog_story['days_until_oldest_expires']} days before "
        f"the {QUEUE_RETENTION_DAYS}-day expiry."
    )
    deleted = by_role["deleted"][0]
    oidc = by_role["oidc"][0]
    returner = by_role["returner"][0]
    cast: Json = {
        "slow_workers": [
            {
                "worker_key": w.key,
                "name": w.name,
                "labeling_job": job_of(w),
                "speed_factor": SLOW_FACTOR,
                "submitted_on_job": len(durations[job_of(w)][w.key]),
                "median_task_seconds": detection[job_of(w)]["workers"][w.key][
                    "median_task_seconds"
                ],
                "job_median_of_worker_medians": detection[job_of(w)]["median_of_worker_medians"],
                "modified_z": detection[job_of(w)]["workers"][w.key]["modified_z"],
            }
            for w in by_role["slow"]
        ],
        "returner": {
            "worker_key": returner.key,
            "name": returner.name,
            "labeling_job": job_of(returner),
            "planted_return_probability": RETURNER_RATE,
            **rates[returner.key],
        },
        "never_worked": [
            {
                "worker_key": w.key,
                "name": w.name,
                "username": w.username,
                "teams": list(w.teams),
                "cognito_groups": list(w.groups),
                "user_status": w.user_status,
            }
            for w in by_role["never_worked"]
        ],
        "oidc_worker": {
            "worker_key": oidc.key,
            "worker_id": oidc.worker_id,
            "name": oidc.name,
            "teams": list(oidc.teams),
            "labeling_job": job_of(oidc),
            "note": "events carry no cognito_user_pool_id / cognito_sub_id keys; not in Cognito",
        },
        "deleted_cognito_user": {
            "worker_key": deleted.key,
            "name": deleted.name,
            "former_username": deleted.username,
            "former_email": deleted.email,
            "teams": list(deleted.teams),
            "labeling_job": job_of(deleted),
            "last_event_utc": iso_z(
                from_ms(max(ev.outcome_ms for ev in events if ev.worker is deleted))
            ),
            "deleted_at": iso_z(USER_DELETED_AT),
            "note": "absent from ListUsers and ListUsersInGroup; metrics still list its sub",
        },
    }
    stream_files = [
        {
            "path": f.path,
            "shape": f.shape,
            "time_format": f.time_format,
            "description": f.description,
            "bytes": sizes[f.path],
            "utc_days": sorted(
                {
                    from_ms(ev.cw_ms).date().isoformat()
                    for ev in (f.cli_events or [ln.event for ln in f.lines if ln.event])
                }
            ),
            **({"query_epoch_ms": f.query} if f.query else {}),
            **stats[f.path],
        }
        for f in files
    ]
    team_members = {
        team.name: sorted(w.key for w in workers if team.group in w.groups)
        for team in TEAMS.values()
    }
    team_log_workers = {
        team.name: sorted({ev.worker.key for ev in events if ev.job.team == team.name})
        for team in TEAMS.values()
    }
    return {
        "about": "Ground truth for sample_logs/: written by make_sample_logs.py, do not edit.",
        "seed": SEED,
        "account_id": ACCOUNT,
        "region": REGION,
        "cognito_user_pool_id": POOL_ID,
        "log_group": LOG_GROUP,
        "time_range": {
            "start": iso_z(WINDOW_START),
            "end_exclusive": iso_z(WINDOW_END),
            "first_day": window_days()[0].isoformat(),
            "last_day": window_days()[-1].isoformat(),
            "last_friday": LAST_FRIDAY.isoformat(),
            "aws_recorded_at": iso_z(RECORDED_AT),
        },
        "definitions": {
            "worker_key": "cognito_sub_id if non-empty else worker_id",
            "task_seconds": "task_submitted_time - task_accepted_time of TasksSubmitted events",
            "distinct_event": "same (worker_key, labeling_job_arn, event_type, "
            "task_accepted_time as an instant, event_timestamp); the same event carries the "
            "same eventId wherever an envelope is present",
            "slow_flag": "per job, workers with >= 10 submitted tasks: modified z = "
            "0.6745 * (median - median of worker medians) / MAD > 3.5",
            "return_rate": "returned / (submitted + returned), flagged > 0.20 with >= 10 tasks",
            "times": "java_date = 'Wed Aug 14 16:00:59 UTC 2019' (day zero padded); iso8601 naive "
            "= UTC; '' = no such time; older events lack task_declined_time",
            "metric_day": "UTC day of event_timestamp; TasksAccepted counts every task accepted "
            "that UTC day (every distinct event, by task_accepted_time); TimeSpent = active "
            "seconds of submitted tasks (pauses excluded, so <= log task seconds); ActiveWorkers "
            "= distinct workers with an event on the job that day (sample convention, AWS does "
            "not document it)",
            "label_counters": "HumanLabeled = submitted tasks // NumberOfHumanWorkersPerDataObject"
            "; the streaming job's Unlabeled = queue visible + in flight at aws_recorded_at",
        },
        "teams": [
            {
                "name": t.name,
                "arn": t.arn,
                "cognito_user_group": t.group,
                "members": team_members[t.name],
                "workers_in_log": team_log_workers[t.name],
            }
            for t in TEAMS.values()
        ],
        "jobs": [
            {
                "name": j.name,
                "arn": j.arn,
                "key": j.key,
                "task_type": j.task_type,
                "team": j.team,
                "streaming": j.streaming,
                "status": j.status,
                "job_reference_code": j.ref_code,
                "planted_median_task_seconds": j.median_s,
                "number_of_human_workers_per_data_object": j.workers_per_object,
                "task_time_limit_seconds": j.time_limit,
                "human_labeled": states[j.key].human_labeled,
                "unlabeled": states[j.key].unlabeled,
                **({"queue_name": j.queue_name} if j.streaming else {}),
            }
            for j in JOBS.values()
        ],
        "workers": [
            worker_entry(w, sorted(jobs_of.get(w.key, set())), sorted(days_of.get(w.key, set())))
            for w in workers
        ],
        "cast": cast,
        "counts": {
            "distinct_events": len(events),
            "by_event_type": {t: per_type.get(t, 0) for t in EVENT_TYPES},
            "by_job": {
                j: {t: c.get(t, 0) for t in EVENT_TYPES} for j, c in sorted(per_job.items())
            },
            "by_utc_day": {
                d: {t: c.get(t, 0) for t in EVENT_TYPES} for d, c in sorted(per_day.items())
            },
            "by_worker": {
                k: {t: c.get(t, 0) for t in EVENT_TYPES} for k, c in sorted(per_worker.items())
            },
            "event_records_including_duplicates": sum(len(v) for v in places.values()),
            "duplicate_extra_records": sum(len(v) - 1 for v in places.values()),
            "garbage_lines": len(garbage),
            "blank_lines": sum(s["blank_lines"] for s in stats.values()),
            "events_missing_task_declined_time": sum(
                1 for ev in events if not ev.has_declined_field
            ),
            "events_with_iso_times": sum(1 for ev in events if ev.time_form != "java"),
            "workers_with_events": len(per_worker),
        },
        "slow_detection": detection,
        "return_rates": rates,
        "files": stream_files,
        "aws_exchanges": [
            {"path": path, "operation": ex["operation"], "recorded_at": ex["recorded_at"]}
            for path, ex in sorted(exchanges.items())
        ],
        "garbage": garbage,
        "duplicates": duplicates,
        "metrics": {
            "namespace": "AWS/SageMaker/Workteam",
            "dimensions": ["Workteam", "LabelingJob"],
            "dimension_values": "Workteam = work team name, LabelingJob = labeling job name "
            "(assumption: AWS does not document the values)",
            "period_seconds": 86400,
            "statistics": ["Sum", "SampleCount"],
            "undercounts": undercounts,
        },
        "streaming_backlog": backlog_story,
        "total_bytes": sum(sizes.values()),
    }


def render_all() -> dict[str, bytes]:
    rng = random.Random(SEED)
    workers = build_workers(rng)
    events = simulate(rng, workers)
    finalize_events(rng, events)
    plant_long_pauses(events, workers)  # its own random stream: no other event changes
    files = build_log_files(rng, events)
    table = log_metric_table(events)
    undercounts = plan_undercounts(events, table)
    backlog = build_backlog(rng, events)
    states = job_states(events, backlog)
    rec = Recorder(rng)
    record_cognito(rec, workers)
    record_sagemaker(rec, states)
    record_cloudwatch(rec, events, table, undercounts)
    story = record_sqs(rec, backlog)
    out: dict[str, bytes] = {}
    for log_file in files:
        out[log_file.path] = render_log_file(log_file)
    for path, exchange in rec.files.items():
        out[path] = dump_json(exchange)
    job_files, job_truth = render_job_outputs(events, workers)
    out.update(job_files)
    sizes = {path: len(data) for path, data in out.items()}
    planted = build_planted(workers, events, files, undercounts, story, states, sizes, rec.files)
    planted["cast"].update(job_truth["cast"])
    planted["job_outputs"] = job_truth["truth"]
    # planted.json's own size is part of the total: settle it with a second pass.
    for _ in range(3):
        data = dump_json(planted)
        total = sum(sizes.values()) + len(data)
        if planted["total_bytes"] == total:
            break
        planted["total_bytes"] = total
    out["planted.json"] = dump_json(planted)
    return out


# --------------------------------------------------------------------------------------------
# Command line: write, --check, --verify
# --------------------------------------------------------------------------------------------

MANAGED_DIRS = ("logs", "aws", "jobs", "gold")


def write_all(root: Path, out: dict[str, bytes]) -> None:
    for rel, data in out.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for managed in MANAGED_DIRS:
        base = root / managed
        if not base.exists():
            continue
        for path in sorted(base.rglob("*"), reverse=True):
            rel = path.relative_to(root).as_posix()
            if path.is_file() and rel not in out:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def managed_files(root: Path) -> set[str]:
    found = {"planted.json"} if (root / "planted.json").exists() else set()
    for managed in MANAGED_DIRS:
        base = root / managed
        if base.exists():
            found |= {p.relative_to(root).as_posix() for p in base.rglob("*") if p.is_file()}
    return found


def check(root: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        fresh_root = Path(tmp)
        write_all(fresh_root, render_all())
        fresh = managed_files(fresh_root)
        on_disk = managed_files(root)
        problems: list[str] = []
        for rel in sorted(fresh - on_disk):
            problems.append(f"missing: {rel}")
        for rel in sorted(on_disk - fresh):
            problems.append(f"not generated (stale): {rel}")
        for rel in sorted(fresh & on_disk):
            new, old = (fresh_root / rel).read_bytes(), (root / rel).read_bytes()
            if new == old:
                continue
            if rel.endswith(".gz") and gzip.decompress(new) == gzip.decompress(old):
                print(f"note: {rel}: same content, different gzip bytes (another zlib build?)")
                continue
            problems.append(f"differs: {rel}")
    for problem in problems:
        print(problem)
    print("check: " + ("FAILED" if problems else f"OK, {len(fresh)} files up to date"))
    return 1 if problems else 0


# --- --verify: the generated files read by the project's own parser ----------------------


@dataclass
class ReadEvent:
    """One event record as ``analytics.ingest.parse`` reads it (a row of ``schema.EVENTS``), with
    where it is: ``{"file", "line"}``, or ``{"file", "event_index"}`` in a CLI document."""

    event: Json
    place: Json
    event_id: str | None


def read_log_file(rel: str, data: bytes) -> tuple[list[ReadEvent], list[tuple[str, int, str]], int]:
    """The events, rejected lines (file, line, reason) and blank lines of one log file.

    ``parse_bytes`` gives every non-blank line (or log event) exactly one verdict and gives the
    events in line order, so the lines that are neither blank nor rejected are, in order, where
    the events are.
    """
    result = parse_bytes(data, rel)
    events = result.events.to_pylist()
    rejected = {r["location"]: r["reason"] for r in result.rejected.to_pylist()}
    spots: list[tuple[Json, str | None]]
    if rel.endswith(".json"):  # the output of `aws logs filter-log-events`
        log_events = json.loads(data)["events"]
        spots = [
            ({"file": rel, "event_index": index}, str(envelope["eventId"]))
            for index, envelope in enumerate(log_events)
            if str(envelope.get("eventId") or index + 1) not in rejected
        ]
        garbage = [(rel, -1, reason) for reason in rejected.values()]
    else:
        lines = data.decode("utf-8").split("\n")
        if lines[-1] == "":
            lines.pop()
        blank = {n for n, text in enumerate(lines, start=1) if not text.strip(" \t\r")}
        assert len(blank) == result.blank_lines, f"{rel}: blank lines"
        spots = [
            ({"file": rel, "line": n}, _event_id(text))
            for n, text in enumerate(lines, start=1)
            if n not in blank and str(n) not in rejected
        ]
        garbage = [(rel, int(location), reason) for location, reason in rejected.items()]
    assert len(spots) == len(events), f"{rel}: {len(spots)} places for {len(events)} events"
    read = [ReadEvent(e, p, event_id) for e, (p, event_id) in zip(events, spots, strict=True)]
    return read, garbage, result.blank_lines


def _event_id(line: str) -> str | None:
    """The ``eventId`` of a CloudWatch envelope line (None for other lines)."""
    if not line.startswith('{"eventId"'):
        return None
    return str(json.loads(line)["eventId"])


def read_logs(root: Path) -> tuple[list[ReadEvent], list[tuple[str, int, str]], int]:
    parsed: list[ReadEvent] = []
    garbage: list[tuple[str, int, str]] = []
    blanks = 0
    for path in sorted((root / "logs").rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        raw = path.read_bytes()
        data = gzip.decompress(raw) if path.suffix == ".gz" else raw
        if path.suffix == ".json" and "nextToken" in json.loads(data):
            raise AssertionError(f"{rel}: unexpected nextToken")
        events, rejected, blank = read_log_file(rel, data)
        parsed += events
        garbage += rejected
        blanks += blank
    return parsed, garbage, blanks


def _seconds(moment: datetime | None) -> float:
    assert moment is not None
    return moment.timestamp()


def load_exchange(root: Path, rel: str) -> Json:
    data: Json = json.loads((root / rel).read_text())
    return data


def verify(root: Path) -> int:
    planted: Json = json.loads((root / "planted.json").read_text())
    failures: list[str] = []

    def expect(condition: bool, what: str) -> None:
        if not condition:
            failures.append(what)

    parsed, garbage, blanks = read_logs(root)
    distinct: dict[bytes, ReadEvent] = {}
    places: dict[bytes, list[Json]] = defaultdict(list)
    ids_by_identity: dict[bytes, set[str]] = defaultdict(set)
    for item in parsed:
        key = item.event["event_key"]
        distinct.setdefault(key, item)
        places[key].append(item.place)
        if item.event_id:
            ids_by_identity[key].add(item.event_id)
    counts = planted["counts"]
    expect(
        len(distinct) == counts["distinct_events"],
        f"distinct events {len(distinct)} != {counts['distinct_events']}",
    )
    by_type = Counter(item.event["event_type"] for item in distinct.values())
    expect(
        dict(by_type) == {k: v for k, v in counts["by_event_type"].items() if v},
        f"event types {dict(by_type)}",
    )
    expect(all(len(v) <= 1 for v in ids_by_identity.values()), "one identity, several eventIds")
    planted_garbage = {(g["file"], g["line"], g["reason"]) for g in planted["garbage"]}
    expect(
        set(garbage) == planted_garbage and len(garbage) == len(planted_garbage),
        f"garbage mismatch: found {sorted(garbage)}",
    )
    expect(blanks == counts["blank_lines"], f"blank lines {blanks}")
    found_dups = sorted(
        sorted((p["file"], p.get("line", p.get("event_index", -1))) for p in spots)
        for spots in places.values()
        if len(spots) > 1
    )
    planted_dups = sorted(
        sorted(
            (p["file"], p["event_index"] if "event_index" in p else p["line"])
            for p in d["occurrences"]
        )
        for d in planted["duplicates"]
    )
    expect(found_dups == planted_dups, f"duplicates mismatch: {found_dups}")

    # slow workers and the returner, with the exact rules of the brief
    durations: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    outcome_counts: dict[str, Counter[str]] = defaultdict(Counter)
    workers_by_day: dict[str, set[str]] = defaultdict(set)
    for item in distinct.values():
        event = item.event
        key, event_type = event["worker_key"], event["event_type"]
        outcome_counts[key][event_type] += 1
        day = event["event_timestamp"].date().isoformat()
        workers_by_day[day].add(key)
        if event_type == "TasksSubmitted":
            submitted = _seconds(event["task_submitted_time"])
            stamp = _seconds(event["event_timestamp"])
            expect(int(submitted) == stamp, "event_timestamp != submitted time")
            accepted = _seconds(event["task_accepted_time"])
            durations[event["labeling_job_name"]][key].append(submitted - accepted)
    detection = slow_detection(durations)
    flagged = sorted(
        key for job in detection.values() for key, w in job["workers"].items() if w["flagged_slow"]
    )
    cast = planted["cast"]
    slow_keys = sorted(w["worker_key"] for w in cast["slow_workers"])
    # On wall clock the pause worker looks slow too (on active time it does not: see
    # verify_job_outputs).
    wall_slow = sorted([*slow_keys, cast["pause_worker"]["worker_key"]])
    expect(flagged == wall_slow, f"flagged slow {flagged} != {wall_slow}")
    for slow in cast["slow_workers"]:
        info = detection[slow["labeling_job"]]["workers"][slow["worker_key"]]
        expect(info["submitted"] > 10, "slow worker with too few tasks")
    worst_normal = max(
        (
            w["modified_z"]
            for job in detection.values()
            for key, w in job["workers"].items()
            if key not in wall_slow
        ),
        default=0.0,
    )
    rates = return_rates(outcome_counts)
    high = sorted(k for k, r in rates.items() if r["flagged"])
    expect(high == [cast["returner"]["worker_key"]], f"high return rates {high}")
    second_rate = max((r["return_rate"] for k, r in rates.items() if not r["flagged"]), default=0)

    # people
    never = {w["worker_key"] for w in cast["never_worked"]}
    everyone = {w["worker_key"] for w in planted["workers"]}
    friday = workers_by_day[planted["time_range"]["last_friday"]]
    expect(friday == everyone - never, f"not on Friday: {sorted(everyone - never - friday)}")
    expect(not (never & set(outcome_counts)), "never-worked member has events")
    oidc_key = cast["oidc_worker"]["worker_key"]
    oidc_messages = [
        json.loads(i.event["raw_message"]) for i in parsed if i.event["worker_key"] == oidc_key
    ]
    expect(
        bool(oidc_messages)
        and all(
            "cognito_sub_id" not in m and "cognito_user_pool_id" not in m for m in oidc_messages
        ),
        "OIDC worker has Cognito keys",
    )
    listed_subs: set[str] = set()
    for rel in sorted(
        p.relative_to(root).as_posix()
        for p in (root / "aws" / "cognito-idp").glob("list-users-page*.json")
    ):
        for user in load_exchange(root, rel)["response"]["Users"]:
            listed_subs |= {a["Value"] for a in user["Attributes"] if a["Name"] == "sub"}
    expect(cast["deleted_cognito_user"]["worker_key"] not in listed_subs, "deleted user listed")
    expect(cast["deleted_cognito_user"]["worker_key"] in friday, "deleted user idle on Friday")
    expect(never <= listed_subs, "never-worked member missing from ListUsers")
    group_subs: set[str] = set()
    for path in sorted((root / "aws" / "cognito-idp").glob("list-users-in-group-*.json")):
        for user in load_exchange(root, path.relative_to(root).as_posix())["response"]["Users"]:
            group_subs |= {a["Value"] for a in user["Attributes"] if a["Name"] == "sub"}
    expect(never <= group_subs, "never-worked member missing from the group listings")

    # metrics against the log
    metric_doc = load_exchange(root, "aws/cloudwatch/get-metric-data-workteam-daily.json")
    queries = {q["Id"]: q for q in metric_doc["request"]["MetricDataQueries"]}
    undercounts = {
        (u["labeling_job"], u["metric"], u["date"]): u for u in planted["metrics"]["undercounts"]
    }
    log_sum: Counter[tuple[str, str, str]] = Counter()
    for item in distinct.values():
        job_name, event_type = item.event["labeling_job_name"], item.event["event_type"]
        day = item.event["event_timestamp"].date().isoformat()
        if event_type != "TasksAccepted":
            log_sum[(job_name, event_type, day)] += 1
        accepted_day = item.event["task_accepted_time"].date().isoformat()
        log_sum[(job_name, "TasksAccepted", accepted_day)] += 1
    seen_under: set[tuple[str, str, str]] = set()
    for result in metric_doc["response"]["MetricDataResults"]:
        stat = queries[result["Id"]]["MetricStat"]
        metric = stat["Metric"]["MetricName"]
        if metric not in ("TasksSubmitted", "TasksReturned", "TasksDeclined", "TasksAccepted"):
            continue
        job_name = next(
            d["Value"] for d in stat["Metric"]["Dimensions"] if d["Name"] == "LabelingJob"
        )
        got = {ts[:10]: v for ts, v in zip(result["Timestamps"], result["Values"], strict=True)}
        days = {d for (j, m, d) in log_sum if j == job_name and m == metric} | set(got)
        for day in days:
            want = log_sum.get((job_name, metric, day), 0)
            if got.get(day, 0) != want:
                under = undercounts.get((job_name, metric, day))
                expect(
                    under is not None and got.get(day, 0) < want,
                    f"metric {job_name} {metric} {day}: {got.get(day)} vs log {want}",
                )
                seen_under.add((job_name, metric, day))
    expect(
        seen_under == {k for k in undercounts if k[1] != "TimeSpent"},
        f"undercount days seen {sorted(seen_under)}",
    )

    # streaming backlog
    story = planted["streaming_backlog"]
    snaps = sorted((root / "aws" / "sqs").glob("get-queue-attributes-*.json"))
    first = load_exchange(root, snaps[0].relative_to(root).as_posix())
    last = load_exchange(root, snaps[-1].relative_to(root).as_posix())
    end_visible = int(last["response"]["Attributes"]["ApproximateNumberOfMessages"])
    start_visible = int(first["response"]["Attributes"]["ApproximateNumberOfMessages"])
    expect(1500 <= end_visible <= 2000, f"end backlog {end_visible}")
    expect(end_visible > start_visible + 1000, "backlog does not grow")
    expect(len(snaps) >= 7 * 3, "too few SQS snapshots")
    age_doc = load_exchange(root, "aws/cloudwatch/get-metric-data-sqs-backlog.json")
    age = next(r for r in age_doc["response"]["MetricDataResults"] if r["Id"] == "age")
    expect(7.5 <= age["Values"][-1] / 86400 <= 8.5, "oldest message not ~8 days old")
    stream_per_day = story["stream_job_submitted_per_weekday_avg"]
    expect(225 <= stream_per_day <= 275, f"stream job {stream_per_day} a weekday")

    failures.extend(
        verify_job_outputs(root, planted, distinct_events=[i.event for i in distinct.values()])
    )

    total = sum(
        p.stat().st_size for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    expect(total < MAX_TOTAL_BYTES, f"total size {total}")

    print(
        f"verify: {len(parsed)} event records, {len(distinct)} distinct events "
        f"({', '.join(f'{t} {by_type.get(t, 0)}' for t in EVENT_TYPES)})"
    )
    print(
        f"verify: {len(garbage)} garbage lines, {blanks} blank lines, "
        f"{len(found_dups)} duplicated events"
    )
    print(f"verify: flagged slow {flagged}; worst other modified z {worst_normal:.2f}")
    print(
        f"verify: returner {high} rate {rates[high[0]]['return_rate'] if high else None}; "
        f"next highest {second_rate}"
    )
    print(
        f"verify: backlog {start_visible} -> {end_visible}, oldest "
        f"{age['Values'][-1] / 86400:.2f} days; stream job {stream_per_day}/weekday"
    )
    print(f"verify: {total} bytes under sample_logs/ (limit {MAX_TOTAL_BYTES})")
    for failure in failures:
        print(f"FAIL: {failure}")
    print("verify: " + ("FAILED" if failures else "OK"))
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check",
        action="store_true",
        help="regenerate into a temporary directory; exit 1 if anything differs",
    )
    parser.add_argument(
        "--verify", action="store_true", help="re-derive the planted truth from the files on disk"
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="sample_logs directory (default: next to this script)",
    )
    args = parser.parse_args(argv)
    root: Path = args.root
    status = 0
    if args.check:
        status |= check(root)
    if args.verify:
        status |= verify(root)
    if not (args.check or args.verify):
        out = render_all()
        write_all(root, out)
        print(f"wrote {len(out)} files, {sum(len(d) for d in out.values())} bytes under {root}")
    return status


if __name__ == "__main__":
    sys.exit(main())
