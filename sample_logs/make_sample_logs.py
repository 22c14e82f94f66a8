#!/usr/bin/env python3
"""Generate the bundled Ground Truth sample data (deterministic).

Usage (from the repository root):

    python sample_logs/make_sample_logs.py            # rewrite every generated file
    python sample_logs/make_sample_logs.py --check    # exit 1 if the files on disk are stale
    python sample_logs/make_sample_logs.py --verify   # re-derive the planted truth from the files

Everything is derived from ``random.Random(SEED)`` and fixed dates: two runs write the same bytes
(gzip members carry ``mtime=0`` and no file name). ``planted.json`` is the machine-readable truth
the tests check against; ``README.md`` next to this script is hand written.
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import json
import math
import random
import statistics
import sys
import tempfile
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from analytics.parsing import parse_bytes
from analytics.timeparse import MONTH_NAMES, WEEKDAY_NAMES, format_java_time

Json = dict[str, Any]

SEED = 20261108
ACCOUNT = "123456789012"
REGION = "us-east-1"
POOL_ID = "us-east-1_Sample7Gt"
MAIL_DOMAIN = "example.com"
WINDOW_START = datetime(2026, 10, 26, tzinfo=UTC)
WINDOW_DAYS = 14
WINDOW_END = WINDOW_START + timedelta(days=WINDOW_DAYS)
LAST_FRIDAY = date(2026, 11, 6)
RECORDED_AT = datetime(2026, 11, 9, 0, 20, tzinfo=UTC)
USER_DELETED_AT = datetime(2026, 11, 7, 9, 12, 44, tzinfo=UTC)
NY_DST_END = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
LOG_GROUP = "/aws/sagemaker/groundtruth/WorkerActivity"
STREAM_PREFIX = f"aws/sagemaker/groundtruth/worker-activity/{ACCOUNT}-{REGION}/"
WORKFORCE_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:workforce/default"
WORKFORCE_SUBDOMAIN = f"k7q2m9x4rt.labeling.{REGION}.sagemaker.aws"
COGNITO_CLIENT_ID = "5p0ajd3cq7h1ltb2m8rkv6s9ne"
BUCKET = f"example-gt-data-{ACCOUNT}"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/service-role/AmazonSageMaker-ExecutionRole-20260914T101500"
LAMBDA_ACCOUNT = "432418664414"  # Ground Truth built-in task Lambdas in us-east-1
EXPORT_TASK_PLAIN = "3f6e2a9c-51d4-4b8e-9a0f-7c2d1e5b8a43"
EXPORT_TASK_GZ = "b81c47d2-0e95-4f3a-8d6c-2a9e7f14c5b0"

SPEED_SIGMA = 0.10
SPEED_CLIP = (0.8, 1.25)
SLOW_FACTOR = 2.5
RETURNER_RATE = 0.35
DECLINE_P = 0.002
PAUSE_P = 0.04
ACCEPTED_ONLY_EVENTS = 6
MAX_TOTAL_BYTES = 5_000_000

SQS_SNAPSHOT_HOURS = (2, 8, 14, 20)
BACKLOG_FROM = datetime(2026, 11, 2, tzinfo=UTC)
BACKLOG_HOURS = 170  # model horizon: 2026-11-02T00:00Z .. 2026-11-09T02:00Z
BACKLOG_START_VISIBLE = 330
BACKLOG_TARGET_VISIBLE = 1840
OLDEST_MESSAGE_SENT = datetime(2026, 10, 31, 17, 42, 10, tzinfo=UTC)
QUEUE_RETENTION_DAYS = 14

SLOW_Z = 3.5
MIN_TASKS_FOR_MEDIAN = 10
RETURN_RATE_FLAG = 0.20
MIN_TASKS_FOR_RETURN_RATE = 10

OUTCOME_TYPES = ("TasksSubmitted", "TasksReturned", "TasksDeclined")
EVENT_TYPES = ("TasksAccepted", *OUTCOME_TYPES)
OUTCOME_FIELD = {
    "TasksSubmitted": "task_submitted_time",
    "TasksReturned": "task_returned_time",
    "TasksDeclined": "task_declined_time",
}
ISO_FORMS = ("frac_naive", "frac_z", "z", "offset", "naive")
ISO_FORM_WEIGHTS = (3, 2, 3, 2, 3)


# --------------------------------------------------------------------------------------------
# Time helpers
# --------------------------------------------------------------------------------------------


def to_ms(dt: datetime) -> int:
    return round(dt.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def java_time(ms: int) -> str:
    """``Wed Aug 14 16:00:59 UTC 2019`` (java.util.Date#toString in UTC, day zero padded)."""
    return format_java_time(datetime.fromtimestamp(ms // 1000, tz=UTC))


def iso_time(ms: int, form: str) -> str:
    """One of the ISO 8601 spellings third-party writers use; naive means UTC."""
    dt = datetime.fromtimestamp(ms // 1000, tz=UTC)
    base = f"{dt:%Y-%m-%dT%H:%M:%S}"
    frac = f".{ms % 1000:03d}"
    if form == "frac_naive":
        return base + frac
    if form == "frac_z":
        return base + frac + "Z"
    if form == "z":
        return base + "Z"
    if form == "offset":
        local = dt + timedelta(hours=2)
        return f"{local:%Y-%m-%dT%H:%M:%S}+02:00"
    if form == "naive":
        return base
    raise ValueError(form)


def export_time(ms: int) -> str:
    """Timestamp prefix of a CloudWatch Logs S3 export line."""
    dt = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def aws_dt(dt: datetime) -> str:
    """A boto3 datetime serialised the way ``datetime.isoformat()`` prints it."""
    return dt.astimezone(UTC).isoformat()


def http_date(dt: datetime) -> str:
    return (
        f"{WEEKDAY_NAMES[dt.weekday()]}, {dt.day:02d} {MONTH_NAMES[dt.month - 1]} {dt.year} "
        f"{dt:%H:%M:%S} GMT"
    )


def iso_z(dt: datetime) -> str:
    return f"{dt.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"


def utc_offset_minutes(tz: str, day: date) -> int:
    """UTC offsets valid for the sample window (EU summer time ended 2026-10-25, US 2026-11-01)."""
    if tz == "Europe/Berlin":
        return 60
    if tz == "Asia/Kolkata":
        return 330
    if tz == "America/Sao_Paulo":
        return -180
    if tz == "America/New_York":
        return -240 if day < NY_DST_END.date() else -300
    raise ValueError(tz)


def window_days() -> list[date]:
    return [(WINDOW_START + timedelta(days=i)).date() for i in range(WINDOW_DAYS)]


def day_start_ms(day: date) -> int:
    return to_ms(datetime(day.year, day.month, day.day, tzinfo=UTC))


def stream_name(day: date) -> str:
    return STREAM_PREFIX + str(day_start_ms(day) // 1000)


# --------------------------------------------------------------------------------------------
# The cast: teams, jobs, workers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Team:
    name: str
    group: str
    description: str
    created: datetime
    topic: str

    @property
    def arn(self) -> str:
        return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:workteam/private-crowd/{self.name}"


TEAMS: dict[str, Team] = {
    "image-team": Team(
        "image-team",
        "image-labelers",
        "Image annotation: bounding boxes, image classification, segmentation",
        datetime(2026, 9, 14, 10, 31, 7, tzinfo=UTC),
        "gt-image-team-notifications",
    ),
    "text-team": Team(
        "text-team",
        "text-labelers",
        "Text annotation: support ticket intents (streaming)",
        datetime(2026, 9, 21, 15, 4, 52, tzinfo=UTC),
        "gt-text-team-notifications",
    ),
}


@dataclass(frozen=True)
class Job:
    key: str
    name: str
    task_type: str
    team: str
    median_s: float
    sigma: float
    time_limit: int
    daily_volume: int
    streaming: bool
    status: str
    workers_per_object: int
    created: datetime
    ref_code: str
    title: str
    description: str
    keywords: tuple[str, ...]
    max_concurrent: int
    total_objects: int

    @property
    def arn(self) -> str:
        return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:labeling-job/{self.name}"

    @property
    def queue_name(self) -> str:
        return f"GroundTruth-{self.name.lower()}"


JOBS: dict[str, Job] = {
    job.key: job
    for job in (
        Job(
            "bbox",
            "street-scenes-bbox-2026-10",
            "BoundingBox",
            "image-team",
            90.0,
            0.30,
            900,
            150,
            False,
            "InProgress",
            1,
            datetime(2026, 10, 23, 14, 12, 40, tzinfo=UTC),
            "4b7e1c9a2f60",
            "Draw boxes around vehicles and pedestrians",
            "Draw a tight box around every vehicle, pedestrian and cyclist.",
            ("Images", "bounding boxes", "vehicles"),
            1000,
            2400,
        ),
        Job(
            "imgcls",
            "product-photos-classify-2026-10",
            "ImageMultiClass",
            "image-team",
            8.5,  # centre on a rounding boundary: the log has 1 s resolution
            0.30,
            300,
            210,
            False,
            "Completed",
            3,
            datetime(2026, 10, 23, 16, 40, 5, tzinfo=UTC),
            "9d03f5e81ab2",
            "Pick the product category",
            "Choose the one category that best describes the product in the photo.",
            ("Images", "classification", "products"),
            1000,
            0,
        ),
        Job(
            "segm",
            "aerial-roads-segmentation-b3",
            "SemanticSegmentation",
            "image-team",
            300.0,
            0.30,
            3600,
            45,
            False,
            "InProgress",
            1,
            datetime(2026, 10, 22, 9, 55, 18, tzinfo=UTC),
            "c2a8e67d0f14",
            "Paint roads, buildings and vegetation",
            "Paint every pixel of road, building and vegetation in the aerial tile.",
            ("Images", "segmentation", "aerial"),
            1000,
            700,
        ),
        Job(
            "textcls",
            "support-tickets-intent-stream",
            "TextMultiClass",
            "text-team",
            20.0,
            0.30,
            600,
            262,
            True,
            "InProgress",
            1,
            datetime(2026, 10, 23, 10, 5, 0, tzinfo=UTC),
            "e5f19b3c7a28",
            "Classify the support ticket intent",
            "Read the ticket and choose the customer's main intent.",
            ("Text", "classification", "support"),
            100,
            0,
        ),
    )
}

# first, last, time zone, teams (I=image, T=text), job weights, role
ROSTER: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("Amelia", "Hoffmann", "Europe/Berlin", "I", "bbox:1", ""),
    ("Jonas", "Becker", "Europe/Berlin", "I", "bbox:0.6,segm:0.5", ""),
    ("Lea", "Schneider", "Europe/Berlin", "I", "bbox:1", ""),
    ("Lukas", "Wagner", "Europe/Berlin", "I", "imgcls:1", ""),
    ("Sofia", "Rossi", "Europe/Berlin", "I", "imgcls:1", ""),
    ("Mateo", "Fernandez", "Europe/Berlin", "I", "imgcls:1", ""),
    ("Priya", "Sharma", "Asia/Kolkata", "I", "imgcls:0.7,bbox:0.4", ""),
    ("Arjun", "Mehta", "Asia/Kolkata", "I", "imgcls:1", ""),
    ("Ananya", "Iyer", "Asia/Kolkata", "I", "segm:1", ""),
    ("Rohan", "Gupta", "Asia/Kolkata", "I", "segm:1", ""),
    ("Kavya", "Nair", "Asia/Kolkata", "I", "segm:1", "returner"),
    ("Vikram", "Rao", "Asia/Kolkata", "I", "segm:1", ""),
    ("Sneha", "Kulkarni", "Asia/Kolkata", "I", "segm:1", ""),
    ("Emily", "Carter", "America/New_York", "I", "bbox:1", ""),
    ("Michael", "Brooks", "America/New_York", "I", "bbox:0.7", "slow"),
    ("Jessica", "Nguyen", "America/New_York", "I", "bbox:1", ""),
    ("Daniel", "Kim", "America/New_York", "I", "imgcls:1", ""),
    ("Lucas", "Oliveira", "America/Sao_Paulo", "I", "bbox:1", ""),
    ("Beatriz", "Santos", "America/Sao_Paulo", "I", "bbox:1", ""),
    ("Gabriel", "Costa", "America/Sao_Paulo", "I", "imgcls:1", ""),
    ("Clara", "Weber", "Europe/Berlin", "I", "bbox:1", ""),
    ("Felix", "Braun", "Europe/Berlin", "I", "imgcls:1", ""),
    ("Ines", "Moreau", "Europe/Berlin", "I", "segm:0.5,imgcls:0.5", ""),
    ("Tomasz", "Nowak", "Europe/Berlin", "I", "", "never_worked"),
    ("Aditi", "Joshi", "Asia/Kolkata", "T", "textcls:1", ""),
    ("Karan", "Malhotra", "Asia/Kolkata", "T", "textcls:1", ""),
    ("Meera", "Pillai", "Asia/Kolkata", "T", "textcls:1", ""),
    ("Siddharth", "Bose", "Asia/Kolkata", "T", "textcls:1", ""),
    ("Fernanda", "Lima", "America/Sao_Paulo", "T", "textcls:1", ""),
    ("Rafael", "Almeida", "America/Sao_Paulo", "T", "textcls:1", ""),
    ("Juliana", "Ribeiro", "America/Sao_Paulo", "T", "textcls:1", ""),
    ("Thiago", "Pereira", "America/Sao_Paulo", "T", "textcls:0.8", "slow"),
    ("Olivia", "Bennett", "America/New_York", "T", "textcls:1", ""),
    ("Nathan", "Reed", "America/New_York", "T", "textcls:1", "deleted"),
    ("Hannah", "Fischer", "Europe/Berlin", "T", "textcls:1", ""),
    ("Marco", "Bianchi", "Europe/Berlin", "T", "textcls:1", ""),
    ("Elena", "Popescu", "Europe/Berlin", "T", "", "never_worked"),
    ("Noah", "Schmidt", "Europe/Berlin", "IT", "bbox:0.5,textcls:0.5", ""),
    ("Isabela", "Carvalho", "America/Sao_Paulo", "IT", "imgcls:0.5,textcls:0.5", ""),
    ("Rahul", "Verma", "Asia/Kolkata", "IT", "segm:0.5,textcls:0.5", ""),
    ("Samira", "Haddad", "Europe/Berlin", "I", "imgcls:1", "oidc"),
)

WEEKEND_PLAN: dict[date, tuple[tuple[str, str], ...]] = {
    date(2026, 10, 31): (("Lucas", "bbox"), ("Aditi", "textcls")),
    date(2026, 11, 1): (("Olivia", "textcls"),),
    date(2026, 11, 7): (("Amelia", "bbox"), ("Karan", "textcls")),
    date(2026, 11, 8): (("Fernanda", "textcls"),),
}


@dataclass
class Worker:
    first: str
    last: str
    tz: str
    teams: tuple[str, ...]
    weights: dict[str, float]
    role: str
    worker_id: str
    sub: str | None
    speed: float
    return_rate: float
    created: datetime
    modified: datetime
    day_off: date | None
    attempts: int = 0
    returns: int = 0

    @property
    def key(self) -> str:
        return self.sub if self.sub else self.worker_id

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def username(self) -> str:
        return f"{self.first}.{self.last}".lower()

    @property
    def email(self) -> str:
        return f"{self.first}.{self.last}@{MAIL_DOMAIN}".lower()

    @property
    def listed(self) -> bool:
        """Present in Cognito ListUsers (and in its team's group) at recording time."""
        return self.role not in ("oidc", "deleted")

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(TEAMS[t].group for t in self.teams) if self.listed else ()

    @property
    def user_status(self) -> str:
        if self.role == "never_worked" and "image-team" in self.teams:
            return "FORCE_CHANGE_PASSWORD"
        return "CONFIRMED"

    def speed_on(self, job: Job) -> float:
        return SLOW_FACTOR if self.role == "slow" else self.speed


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def build_workers(rng: random.Random) -> list[Worker]:
    workers: list[Worker] = []
    weekdays = [d for d in window_days() if d.weekday() < 4]  # Mon-Thu: nobody is off on Friday
    for first, last, tz, team_code, weights_text, role in ROSTER:
        teams = tuple(
            name for code, name in (("I", "image-team"), ("T", "text-team")) if code in team_code
        )
        weights: dict[str, float] = {}
        for part in filter(None, weights_text.split(",")):
            job_key, weight = part.split(":")
            weights[job_key] = float(weight)
        worker_id = f"{rng.getrandbits(64):016x}"
        sub = new_uuid(rng)
        if role == "returner":
            return_rate = RETURNER_RATE
        elif rng.random() < 0.3:
            return_rate = 0.0
        else:
            return_rate = rng.uniform(0.005, 0.03)
        created = datetime(2026, 9, 15, 9, 0, tzinfo=UTC) + timedelta(
            seconds=rng.randint(0, 33 * 86400)
        )
        if role == "never_worked" and "image-team" in teams:
            created = datetime(2026, 10, 21, 8, 47, 13, tzinfo=UTC)
        modified = created + timedelta(seconds=rng.randint(0, 3 * 86400))
        day_off = rng.choice(weekdays) if rng.random() < 0.4 and role == "" else None
        workers.append(
            Worker(
                first,
                last,
                tz,
                teams,
                weights,
                role,
                worker_id,
                None if role == "oidc" else sub,
                1.0,
                round(return_rate, 4),
                created,
                modified,
                day_off,
            )
        )
    assign_speeds(rng, workers)
    return workers


def assign_speeds(rng: random.Random, workers: list[Worker]) -> None:
    """Speed factors: lognormal(0, SPEED_SIGMA) clipped, drawn as evenly spaced quantiles.

    Each primary job's workers get the quantiles (i + 0.5) / n in shuffled order, so every job
    sees the same tight spread. Random draws can pile most worker medians of a short task onto
    one whole second (the log has 1 s resolution), which makes MAD zero.
    """
    normal = statistics.NormalDist(0.0, SPEED_SIGMA)
    for job_key in JOBS:
        group = [w for w in workers if w.role != "slow" and next(iter(w.weights), "") == job_key]
        speeds = [
            min(max(math.exp(normal.inv_cdf((i + 0.5) / len(group))), SPEED_CLIP[0]), SPEED_CLIP[1])
            for i in range(len(group))
        ]
        rng.shuffle(speeds)
        for worker, speed in zip(group, speeds, strict=True):
            worker.speed = round(speed, 4)


# --------------------------------------------------------------------------------------------
# Simulation of the worker activity log
# --------------------------------------------------------------------------------------------


@dataclass
class Event:
    worker: Worker
    job: Job
    event_type: str
    accepted_ms: int
    outcome_ms: int
    active_s: int
    time_form: str = "java"
    has_declined_field: bool = True
    cw_ms: int = 0
    ingest_ms: int = 0
    event_id: str = ""
    stream: str = ""

    @property
    def day(self) -> date:
        return from_ms(self.outcome_ms).date()

    def identity(self) -> tuple[str, str, str, float, int]:
        return (
            self.worker.key,
            self.job.arn,
            self.event_type,
            self.accepted_ms / 1000,
            self.outcome_ms // 1000,
        )


def one_task(rng: random.Random, worker: Worker, job: Job, start_s: int) -> tuple[Event, int]:
    active = max(2, round(job.median_s * worker.speed_on(job) * rng.lognormvariate(0.0, job.sigma)))
    pause = rng.randint(60, 420) if rng.random() < PAUSE_P else 0
    wall = min(active + pause, job.time_limit - 5)
    active = min(active, wall)
    draw = rng.random()
    return_p = worker.return_rate
    if worker.role == "returner":
        # steer the realised rate towards the planted one (a pure coin is too noisy at ~80 tasks)
        drift = worker.return_rate * worker.attempts - worker.returns
        return_p = min(max(worker.return_rate + 0.15 * drift, 0.05), 0.9)
    worker.attempts += 1
    if draw < DECLINE_P:
        event_type, end, active = "TasksDeclined", start_s + rng.randint(3, 40), 0
    elif draw < DECLINE_P + return_p:
        worker.returns += 1
        event_type = "TasksReturned"
        end = start_s + max(2, round(wall * rng.uniform(0.15, 0.7)))
        active = 0
    else:
        event_type, end = "TasksSubmitted", start_s + wall
    event = Event(worker, job, event_type, start_s * 1000, end * 1000, active)
    return event, end


def work_day(
    rng: random.Random, worker: Worker, day: date, counts: list[tuple[Job, int]], weekend: bool
) -> list[Event]:
    """One worker's day: labeling sessions spread over 08:00-18:00 local, lunch, short breaks."""
    offset = utc_offset_minutes(worker.tz, day) * 60
    midnight = day_start_ms(day) // 1000 - offset

    def local(hour: int, minute: int) -> int:
        return midnight + hour * 3600 + minute * 60

    lunch_start = local(12, 0) + rng.randint(0, 40 * 60)
    lunch_end = lunch_start + rng.randint(30, 55) * 60
    stop_at = local(18, 0)
    if weekend:
        n_sessions = 1
        starts = [local(10, 0) + rng.randint(0, 3 * 3600)]
    else:
        n_sessions = rng.randint(2, 4)
        first = local(8, 0) + rng.randint(0, 60 * 60)
        span = local(17, 15) - first - (lunch_end - lunch_start)
        later = sorted(rng.randint(15 * 60, span) for _ in range(n_sessions - 1))
        starts = [first] + [
            first + x + (lunch_end - lunch_start if first + x >= lunch_start else 0) for x in later
        ]
    minutes = {job.key: n * job.median_s * worker.speed_on(job) / 60 for job, n in counts}
    total_minutes = sum(minutes.values()) or 1.0
    chunks: list[tuple[Job, int]] = []
    for job, n in counts:
        parts = max(1, min(n, round(n_sessions * minutes[job.key] / total_minutes)))
        chunks.extend((job, n // parts + (1 if i < n % parts else 0)) for i in range(parts))
    rng.shuffle(chunks)
    while len(starts) < len(chunks):
        starts.append(starts[-1] + rng.randint(5 * 60, 20 * 60))
    events: list[Event] = []
    clock = starts[0]
    lunch_taken = weekend
    for (job, n), start in zip(chunks, starts[: len(chunks)], strict=True):
        clock = max(clock + rng.randint(2 * 60, 10 * 60), start) if events else start
        for _ in range(n):
            if not lunch_taken and clock >= lunch_start:
                clock = max(clock, lunch_end) + rng.randint(0, 5 * 60)
                lunch_taken = True
            if clock >= stop_at:
                break
            event, end = one_task(rng, worker, job, clock)
            events.append(event)
            gap = rng.randint(180, 900) if rng.random() < 0.03 else rng.randint(2, 20)
            clock = end + gap
    return events


def daily_share(workers: list[Worker]) -> dict[tuple[str, str], float]:
    totals: dict[str, float] = defaultdict(float)
    for worker in workers:
        for job_key, weight in worker.weights.items():
            totals[job_key] += weight
    return {
        (worker.key, job_key): JOBS[job_key].daily_volume * weight / totals[job_key]
        for worker in workers
        for job_key, weight in worker.weights.items()
    }


def simulate(rng: random.Random, workers: list[Worker]) -> list[Event]:
    share = daily_share(workers)
    events: list[Event] = []
    for day in window_days():
        for worker in workers:
            if not worker.weights:
                continue
            counts: list[tuple[Job, int]] = []
            if day.weekday() < 5:
                if day == worker.day_off:
                    continue
                for job_key in sorted(worker.weights, key=list(JOBS).index):
                    mean = share[(worker.key, job_key)] * rng.uniform(0.85, 1.15)
                    counts.append((JOBS[job_key], max(1, round(rng.gauss(mean, mean * 0.12)))))
                events.extend(work_day(rng, worker, day, counts, weekend=False))
            else:
                for first, job_key in WEEKEND_PLAN.get(day, ()):
                    if first == worker.first:
                        counts.append((JOBS[job_key], rng.randint(6, 14)))
                if counts:
                    events.extend(work_day(rng, worker, day, counts, weekend=True))
    add_accepted_only(rng, events)
    return events


def add_accepted_only(rng: random.Random, events: list[Event]) -> None:
    """A few tasks accepted and then abandoned (expired): TasksAccepted events with no outcome."""
    last: dict[tuple[str, date], Event] = {}
    for event in events:
        key = (event.worker.key, event.day)
        if key not in last or event.outcome_ms > last[key].outcome_ms:
            last[key] = event
    candidates = sorted(
        (
            ev
            for ev in last.values()
            if ev.job.team == "image-team" and ev.day.weekday() < 5 and ev.worker.role == ""
        ),
        key=lambda ev: (ev.outcome_ms, ev.worker.key),
    )
    for event in rng.sample(candidates, ACCEPTED_ONLY_EVENTS):
        accepted = event.outcome_ms + rng.randint(8, 60) * 1000
        events.append(Event(event.worker, event.job, "TasksAccepted", accepted, accepted, 0))


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


# --------------------------------------------------------------------------------------------
# Truth tables derived from the simulated events
# --------------------------------------------------------------------------------------------


def median_task_seconds(events: Iterable[Event]) -> dict[str, dict[str, list[float]]]:
    """job name -> worker_key -> task seconds of submitted tasks."""
    table: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for event in events:
        if event.event_type == "TasksSubmitted":
            seconds = (event.outcome_ms - event.accepted_ms) / 1000
            table[event.job.name][event.worker.key].append(seconds)
    return table


def slow_detection(durations: dict[str, dict[str, list[float]]]) -> Json:
    """Per job median/MAD modified z-scores of worker medians (workers with >= 10 tasks)."""
    result: Json = {}
    for job_name in sorted(durations):
        medians = {
            key: statistics.median(values)
            for key, values in durations[job_name].items()
            if len(values) >= MIN_TASKS_FOR_MEDIAN
        }
        if not medians:
            continue
        center = statistics.median(medians.values())
        mad = statistics.median(abs(v - center) for v in medians.values())
        if mad == 0:
            raise RuntimeError(f"{job_name}: MAD of worker medians is 0")
        workers = {}
        for key in sorted(medians):
            z = 0.6745 * (medians[key] - center) / mad
            workers[key] = {
                "submitted": len(durations[job_name][key]),
                "median_task_seconds": round(medians[key], 3),
                "modified_z": round(z, 3),
                "flagged_slow": z > SLOW_Z,
            }
        result[job_name] = {
            "median_of_worker_medians": round(center, 3),
            "mad": round(mad, 3),
            "workers": workers,
        }
    return result


def return_rates(counts: dict[str, Counter[str]]) -> dict[str, Json]:
    rates: dict[str, Json] = {}
    for key in sorted(counts):
        submitted = counts[key]["TasksSubmitted"]
        returned = counts[key]["TasksReturned"]
        if submitted + returned >= MIN_TASKS_FOR_RETURN_RATE:
            rate = returned / (submitted + returned)
            rates[key] = {
                "submitted": submitted,
                "returned": returned,
                "return_rate": round(rate, 4),
                "flagged": rate > RETURN_RATE_FLAG,
            }
    return rates


@dataclass
class MetricTable:
    """Daily values per (job, metric, day) as the log says, before any undercount."""

    counts: dict[tuple[str, str, date], float]
    samples: dict[tuple[str, str, date], float]


def log_metric_table(events: list[Event]) -> MetricTable:
    counts: dict[tuple[str, str, date], float] = defaultdict(float)
    samples: dict[tuple[str, str, date], float] = defaultdict(float)
    active: dict[tuple[str, date], set[str]] = defaultdict(set)
    for event in events:
        job = event.job.key
        if event.event_type in OUTCOME_TYPES:
            counts[(job, event.event_type, event.day)] += 1
            samples[(job, event.event_type, event.day)] += 1
        accepted_day = from_ms(event.accepted_ms).date()
        counts[(job, "TasksAccepted", accepted_day)] += 1
        samples[(job, "TasksAccepted", accepted_day)] += 1
        if event.event_type == "TasksSubmitted":
            counts[(job, "TimeSpent", event.day)] += event.active_s
            samples[(job, "TimeSpent", event.day)] += 1
        active[(job, event.day)].add(event.worker.key)
    for (job, day), keys in active.items():
        counts[(job, "ActiveWorkers", day)] = len(keys)
        samples[(job, "ActiveWorkers", day)] = len(keys)
    return MetricTable(dict(counts), dict(samples))


def plan_undercounts(events: list[Event], table: MetricTable) -> list[Json]:
    """Drop a few events from the metrics (best-effort delivery) and record what was dropped."""
    plans: list[Json] = []
    submitted_drops = (("bbox", date(2026, 10, 28), 4), ("textcls", date(2026, 11, 3), 11))
    for job_key, day, k in submitted_drops:
        day_events = sorted(
            (
                ev
                for ev in events
                if ev.job.key == job_key and ev.day == day and ev.event_type == "TasksSubmitted"
            ),
            key=lambda ev: (ev.outcome_ms, ev.worker.key),
        )
        dropped = day_events[-k:]
        lost_time = sum(ev.active_s for ev in dropped)
        for metric, lost_sum, lost_samples in (
            ("TasksSubmitted", float(k), float(k)),
            ("TimeSpent", float(lost_time), float(k)),
        ):
            plans.append(
                {
                    "labeling_job": JOBS[job_key].name,
                    "date": day.isoformat(),
                    "metric": metric,
                    "log_sum": table.counts[(job_key, metric, day)],
                    "metric_sum": table.counts[(job_key, metric, day)] - lost_sum,
                    "log_sample_count": table.samples[(job_key, metric, day)],
                    "metric_sample_count": table.samples[(job_key, metric, day)] - lost_samples,
                }
            )
    returns_day = next(
        day
        for day in sorted(window_days(), reverse=True)
        if table.counts.get(("segm", "TasksReturned", day), 0) >= 2 and day.weekday() < 5
    )
    log_value = table.counts[("segm", "TasksReturned", returns_day)]
    plans.append(
        {
            "labeling_job": JOBS["segm"].name,
            "date": returns_day.isoformat(),
            "metric": "TasksReturned",
            "log_sum": log_value,
            "metric_sum": log_value - 2,
            "log_sample_count": log_value,
            "metric_sample_count": log_value - 2,
        }
    )
    return plans


# --------------------------------------------------------------------------------------------
# Streaming queue backlog
# --------------------------------------------------------------------------------------------


@dataclass
class Backlog:
    """Objects of the streaming job not labeled yet, split the way SQS reports them.

    Ground Truth takes up to MaxConcurrentTaskCount objects off the queue for workers (in flight:
    ApproximateNumberOfMessagesNotVisible); the rest wait (ApproximateNumberOfMessages). A
    submitted task removes its object; a returned or declined one goes back to the pool.
    """

    inflow: list[int]
    done: list[int]
    max_in_flight: int

    def outstanding(self, t: int) -> int:
        origin = int(BACKLOG_FROM.timestamp())
        hour, into = divmod(t - origin, 3600)
        arrived = sum(self.inflow[:hour]) + (self.inflow[hour] * into) // 3600
        done = bisect.bisect_right(self.done, t) - bisect.bisect_right(self.done, origin)
        return BACKLOG_START_VISIBLE + self.max_in_flight + arrived - done

    def not_visible(self, t: int) -> int:
        return min(self.max_in_flight, self.outstanding(t))

    def visible(self, t: int) -> int:
        return self.outstanding(t) - self.not_visible(t)


def build_backlog(rng: random.Random, events: list[Event]) -> Backlog:
    job = next(j for j in JOBS.values() if j.streaming)
    done = sorted(
        ev.outcome_ms // 1000
        for ev in events
        if ev.job is job and ev.event_type == "TasksSubmitted"
    )
    origin = int(BACKLOG_FROM.timestamp())
    target_hour = 6 * 24 + SQS_SNAPSHOT_HOURS[-1]
    target_t = origin + target_hour * 3600
    done_by_target = bisect.bisect_right(done, target_t) - bisect.bisect_right(done, origin)
    need = BACKLOG_TARGET_VISIBLE - BACKLOG_START_VISIBLE + done_by_target
    weights = [
        (1 + 0.35 * math.sin(2 * math.pi * ((h % 24) - 9) / 24)) * rng.uniform(0.85, 1.15)
        for h in range(BACKLOG_HOURS)
    ]
    scale = need / sum(weights[:target_hour])
    inflow = [round(w * scale) for w in weights]
    return Backlog(inflow, done, job.max_concurrent)


# --------------------------------------------------------------------------------------------
# Recorded AWS API exchanges
# --------------------------------------------------------------------------------------------


class Recorder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.files: dict[str, Json] = {}

    def record(
        self, path: str, operation: str, request: Json, response: Json, at: datetime
    ) -> None:
        request_id = new_uuid(self.rng)
        body = dict(response)
        body["ResponseMetadata"] = {
            "RequestId": request_id,
            "HTTPStatusCode": 200,
            "HTTPHeaders": {"x-amzn-requestid": request_id, "date": http_date(at)},
            "RetryAttempts": 0,
        }
        self.files[path] = {
            "operation": operation,
            "recorded_at": aws_dt(at),
            "request": request,
            "response": body,
        }

    def token(self, length: int) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        return "".join(self.rng.choice(alphabet) for _ in range(length)) + "=="


def cognito_user(worker: Worker) -> Json:
    assert worker.sub is not None
    return {
        "Username": worker.username,
        "Attributes": [
            {"Name": "sub", "Value": worker.sub},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "email", "Value": worker.email},
        ],
        "UserCreateDate": aws_dt(worker.created),
        "UserLastModifiedDate": aws_dt(worker.modified),
        "Enabled": True,
        "UserStatus": worker.user_status,
    }


def paged(items: list[Json], size: int) -> list[list[Json]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def record_cognito(rec: Recorder, workers: list[Worker]) -> None:
    listed = sorted((w for w in workers if w.listed), key=lambda w: w.username)
    pages = paged([cognito_user(w) for w in listed], 25)
    token: str | None = None
    for number, page in enumerate(pages, start=1):
        request: Json = {"UserPoolId": POOL_ID, "Limit": 25}
        if token:
            request["PaginationToken"] = token
        response: Json = {"Users": page}
        token = rec.token(180) if number < len(pages) else None
        if token:
            response["PaginationToken"] = token
        rec.record(
            f"aws/cognito-idp/list-users-page{number}.json",
            "cognito-idp:ListUsers",
            request,
            response,
            RECORDED_AT + timedelta(seconds=number),
        )
    for team in TEAMS.values():
        members = [cognito_user(w) for w in listed if team.group in w.groups]
        pages = paged(members, 25)
        token = None
        for number, page in enumerate(pages, start=1):
            request = {"UserPoolId": POOL_ID, "GroupName": team.group, "Limit": 25}
            if token:
                request["NextToken"] = token
            response = {"Users": page}
            token = rec.token(120) if number < len(pages) else None
            if token:
                response["NextToken"] = token
            rec.record(
                f"aws/cognito-idp/list-users-in-group-{team.group}-page{number}.json",
                "cognito-idp:ListUsersInGroup",
                request,
                response,
                RECORDED_AT + timedelta(seconds=5 + number),
            )


def workteam_obj(team: Team) -> Json:
    return {
        "WorkteamName": team.name,
        "MemberDefinitions": [
            {
                "CognitoMemberDefinition": {
                    "UserPool": POOL_ID,
                    "UserGroup": team.group,
                    "ClientId": COGNITO_CLIENT_ID,
                }
            }
        ],
        "WorkteamArn": team.arn,
        "WorkforceArn": WORKFORCE_ARN,
        "Description": team.description,
        "SubDomain": WORKFORCE_SUBDOMAIN,
        "CreateDate": aws_dt(team.created),
        "LastUpdatedDate": aws_dt(team.created + timedelta(days=9, minutes=17)),
        "NotificationConfiguration": {
            "NotificationTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:{team.topic}"
        },
    }


@dataclass
class JobState:
    job: Job
    submitted: int
    human_labeled: int
    unlabeled: int
    last_modified: datetime

    @property
    def total(self) -> int:
        return self.human_labeled + self.unlabeled


def job_states(events: list[Event], backlog: Backlog) -> dict[str, JobState]:
    states: dict[str, JobState] = {}
    recorded = int(RECORDED_AT.timestamp())
    for job in JOBS.values():
        mine = [ev for ev in events if ev.job is job]
        submitted = sum(1 for ev in mine if ev.event_type == "TasksSubmitted")
        last_event = from_ms(max(ev.outcome_ms for ev in mine))
        human = submitted // job.workers_per_object
        if job.streaming:
            unlabeled = backlog.outstanding(recorded)
            last_modified = last_event
        elif job.status == "Completed":
            unlabeled = 0
            last_modified = last_event + timedelta(minutes=41, seconds=7)
        else:
            unlabeled = job.total_objects - human
            last_modified = last_event
        if unlabeled < 0:
            raise RuntimeError(f"{job.name}: more labeled than objects")
        states[job.key] = JobState(job, submitted, human, unlabeled, last_modified)
    return states


def lambda_arn(kind: str, job: Job) -> str:
    return f"arn:aws:lambda:{REGION}:{LAMBDA_ACCOUNT}:function:{kind}-{job.task_type}"


def input_config(job: Job) -> Json:
    if job.streaming:
        source: Json = {
            "SnsDataSource": {"SnsTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:gt-{job.name}-input"}
        }
    else:
        source = {"S3DataSource": {"ManifestS3Uri": f"s3://{BUCKET}/input/{job.name}.manifest"}}
    return {
        "DataSource": source,
        "DataAttributes": {"ContentClassifiers": ["FreeOfPersonallyIdentifiableInformation"]},
    }


def label_counters(state: JobState) -> Json:
    return {
        "TotalLabeled": state.human_labeled,
        "HumanLabeled": state.human_labeled,
        "MachineLabeled": 0,
        "FailedNonRetryableError": 0,
        "Unlabeled": state.unlabeled,
    }


def label_attribute(job: Job) -> str:
    return f"{job.name}-ref" if job.task_type == "SemanticSegmentation" else job.name


def describe_job(state: JobState) -> Json:
    job = state.job
    output_config: Json = {"S3OutputPath": f"s3://{BUCKET}/output/"}
    if job.streaming:
        output_config["SnsTopicArn"] = f"arn:aws:sns:{REGION}:{ACCOUNT}:gt-{job.name}-output"
    human: Json = {
        "WorkteamArn": TEAMS[job.team].arn,
        "UiConfig": {"UiTemplateS3Uri": f"s3://{BUCKET}/templates/{job.task_type}.liquid.html"},
        "PreHumanTaskLambdaArn": lambda_arn("PRE", job),
        "TaskKeywords": list(job.keywords),
        "TaskTitle": job.title,
        "TaskDescription": job.description,
        "NumberOfHumanWorkersPerDataObject": job.workers_per_object,
        "TaskTimeLimitInSeconds": job.time_limit,
        "TaskAvailabilityLifetimeInSeconds": 864000,
        "MaxConcurrentTaskCount": job.max_concurrent,
        "AnnotationConsolidationConfig": {
            "AnnotationConsolidationLambdaArn": lambda_arn("ACS", job)
        },
    }
    body: Json = {
        "LabelingJobStatus": job.status,
        "LabelCounters": label_counters(state),
        "CreationTime": aws_dt(job.created),
        "LastModifiedTime": aws_dt(state.last_modified),
        "JobReferenceCode": job.ref_code,
        "LabelingJobName": job.name,
        "LabelingJobArn": job.arn,
        "LabelAttributeName": label_attribute(job),
        "InputConfig": input_config(job),
        "OutputConfig": output_config,
        "RoleArn": ROLE_ARN,
        "LabelCategoryConfigS3Uri": f"s3://{BUCKET}/config/{job.name}-labels.json",
        "HumanTaskConfig": human,
        "Tags": [{"Key": "team", "Value": job.team}, {"Key": "project", "Value": "gt-sample"}],
    }
    if not job.streaming:
        body["StoppingConditions"] = {"MaxPercentageOfInputDatasetLabeled": 100}
    if job.status == "Completed":
        body["LabelingJobOutput"] = {
            "OutputDatasetS3Uri": f"s3://{BUCKET}/output/{job.name}/manifests/output/output.manifest"
        }
    return body


def record_sagemaker(rec: Recorder, states: dict[str, JobState]) -> None:
    at = RECORDED_AT + timedelta(seconds=20)
    rec.record(
        "aws/sagemaker/list-workteams.json",
        "sagemaker:ListWorkteams",
        {"SortBy": "Name", "SortOrder": "Ascending", "MaxResults": 10},
        {"Workteams": [workteam_obj(t) for t in sorted(TEAMS.values(), key=lambda t: t.name)]},
        at,
    )
    for team in TEAMS.values():
        rec.record(
            f"aws/sagemaker/describe-workteam-{team.name}.json",
            "sagemaker:DescribeWorkteam",
            {"WorkteamName": team.name},
            {"Workteam": workteam_obj(team)},
            at + timedelta(seconds=1),
        )
    summaries = []
    for state in sorted(states.values(), key=lambda s: s.job.created, reverse=True):
        job = state.job
        summary: Json = {
            "LabelingJobName": job.name,
            "LabelingJobArn": job.arn,
            "CreationTime": aws_dt(job.created),
            "LastModifiedTime": aws_dt(state.last_modified),
            "LabelingJobStatus": job.status,
            "LabelCounters": label_counters(state),
            "WorkteamArn": TEAMS[job.team].arn,
            "PreHumanTaskLambdaArn": lambda_arn("PRE", job),
            "AnnotationConsolidationLambdaArn": lambda_arn("ACS", job),
            "InputConfig": input_config(job),
        }
        if job.status == "Completed":
            summary["LabelingJobOutput"] = describe_job(state)["LabelingJobOutput"]
        summaries.append(summary)
    rec.record(
        "aws/sagemaker/list-labeling-jobs.json",
        "sagemaker:ListLabelingJobs",
        {"MaxResults": 20, "SortBy": "CreationTime", "SortOrder": "Descending"},
        {"LabelingJobSummaryList": summaries},
        at + timedelta(seconds=2),
    )
    for state in states.values():
        rec.record(
            f"aws/sagemaker/describe-labeling-job-{state.job.name}.json",
            "sagemaker:DescribeLabelingJob",
            {"LabelingJobName": state.job.name},
            describe_job(state),
            at + timedelta(seconds=3),
        )
    for team in TEAMS.values():
        mine = sorted(
            (s for s in states.values() if s.job.team == team.name),
            key=lambda s: s.job.created,
            reverse=True,
        )
        rec.record(
            f"aws/sagemaker/list-labeling-jobs-for-workteam-{team.name}.json",
            "sagemaker:ListLabelingJobsForWorkteam",
            {
                "WorkteamArn": team.arn,
                "MaxResults": 100,
                "SortBy": "CreationTime",
                "SortOrder": "Descending",
            },
            {
                "LabelingJobSummaryList": [
                    {
                        "LabelingJobName": s.job.name,
                        "JobReferenceCode": s.job.ref_code,
                        "WorkRequesterAccountId": ACCOUNT,
                        "CreationTime": aws_dt(s.job.created),
                        "LabelCounters": {
                            "HumanLabeled": s.human_labeled,
                            "PendingHuman": s.unlabeled,
                            "Total": s.total,
                        },
                        "NumberOfHumanWorkersPerDataObject": s.job.workers_per_object,
                    }
                    for s in mine
                ]
            },
            at + timedelta(seconds=4),
        )


WORKTEAM_METRICS = (
    "TasksSubmitted",
    "TasksReturned",
    "TasksDeclined",
    "TasksAccepted",
    "TimeSpent",
    "ActiveWorkers",
)


def metric_dims(job: Job) -> list[Json]:
    return [{"Name": "Workteam", "Value": job.team}, {"Name": "LabelingJob", "Value": job.name}]


def record_cloudwatch(
    rec: Recorder, events: list[Event], table: MetricTable, undercounts: list[Json]
) -> None:
    at = RECORDED_AT + timedelta(seconds=40)
    metrics: list[Json] = []
    for job in JOBS.values():
        for metric in WORKTEAM_METRICS:
            if any(k[0] == job.key and k[1] == metric for k in table.counts):
                metrics.append(
                    {
                        "Namespace": "AWS/SageMaker/Workteam",
                        "MetricName": metric,
                        "Dimensions": metric_dims(job),
                    }
                )
    per_worker: set[tuple[str, str, str]] = set()
    for event in events:
        if event.worker.sub is None:
            continue
        per_worker.add((event.worker.sub, event.job.name, "TasksAccepted"))
        if event.event_type in OUTCOME_TYPES:
            per_worker.add((event.worker.sub, event.job.name, event.event_type))
        if event.event_type == "TasksSubmitted":
            per_worker.add((event.worker.sub, event.job.name, "TimeSpent"))
    for sub, job_name, metric in sorted(per_worker, key=lambda x: (x[1], x[0], x[2])):
        metrics.append(
            {
                "Namespace": "AWS/SageMaker/Workteam",
                "MetricName": metric,
                "Dimensions": [
                    {"Name": "CognitoUserPool", "Value": POOL_ID},
                    {"Name": "LabelingJob", "Value": job_name},
                    {"Name": "WorkerId", "Value": sub},
                ],
            }
        )
    rec.record(
        "aws/cloudwatch/list-metrics-sagemaker-workteam.json",
        "cloudwatch:ListMetrics",
        {"Namespace": "AWS/SageMaker/Workteam"},
        {"Metrics": metrics},
        at,
    )

    lost = {(u["labeling_job"], u["metric"], u["date"]): u for u in undercounts}
    queries: list[Json] = []
    results: list[Json] = []
    for job in JOBS.values():
        for metric in WORKTEAM_METRICS:
            for stat in ("Sum", "SampleCount"):
                query_id = f"{job.key}_{metric.lower()}_{stat.lower()}"
                label = f"{job.name} {metric} {stat}"
                queries.append(
                    {
                        "Id": query_id,
                        "MetricStat": {
                            "Metric": {
                                "Namespace": "AWS/SageMaker/Workteam",
                                "MetricName": metric,
                                "Dimensions": metric_dims(job),
                            },
                            "Period": 86400,
                            "Stat": stat,
                        },
                        "Label": label,
                        "ReturnData": True,
                    }
                )
                stamps: list[str] = []
                values: list[float] = []
                for day in window_days():
                    key = (job.key, metric, day)
                    if key not in table.counts:
                        continue
                    value = table.counts[key] if stat == "Sum" else table.samples[key]
                    miss = lost.get((job.name, metric, day.isoformat()))
                    if miss:
                        value = miss["metric_sum"] if stat == "Sum" else miss["metric_sample_count"]
                    if value <= 0:
                        continue
                    stamps.append(aws_dt(datetime(day.year, day.month, day.day, tzinfo=UTC)))
                    values.append(float(value))
                results.append(
                    {
                        "Id": query_id,
                        "Label": label,
                        "Timestamps": stamps,
                        "Values": values,
                        "StatusCode": "Complete",
                    }
                )
    rec.record(
        "aws/cloudwatch/get-metric-data-workteam-daily.json",
        "cloudwatch:GetMetricData",
        {
            "MetricDataQueries": queries,
            "StartTime": aws_dt(WINDOW_START),
            "EndTime": aws_dt(WINDOW_END),
            "ScanBy": "TimestampAscending",
        },
        {"MetricDataResults": results, "Messages": []},
        at + timedelta(seconds=2),
    )


def record_sqs(rec: Recorder, backlog: Backlog) -> Json:
    job = next(j for j in JOBS.values() if j.streaming)
    queue_url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{job.queue_name}"
    rec.record(
        "aws/sqs/get-queue-url.json",
        "sqs:GetQueueUrl",
        {"QueueName": job.queue_name},
        {"QueueUrl": queue_url},
        BACKLOG_FROM + timedelta(hours=SQS_SNAPSHOT_HOURS[0], seconds=-1),
    )
    snapshots: list[Json] = []
    for day_index in range(7):
        for hour in SQS_SNAPSHOT_HOURS:
            at = BACKLOG_FROM + timedelta(days=day_index, hours=hour)
            t = int(at.timestamp())
            visible, hidden = backlog.visible(t), backlog.not_visible(t)
            snapshots.append(
                {
                    "time": iso_z(at),
                    "ApproximateNumberOfMessages": visible,
                    "ApproximateNumberOfMessagesNotVisible": hidden,
                    "oldest_message_age_seconds": t - int(OLDEST_MESSAGE_SENT.timestamp()),
                }
            )
            rec.record(
                f"aws/sqs/get-queue-attributes-{at:%Y-%m-%dT%H%M}Z.json",
                "sqs:GetQueueAttributes",
                {
                    "QueueUrl": queue_url,
                    "AttributeNames": [
                        "ApproximateNumberOfMessages",
                        "ApproximateNumberOfMessagesNotVisible",
                    ],
                },
                {
                    "Attributes": {
                        "ApproximateNumberOfMessages": str(visible),
                        "ApproximateNumberOfMessagesNotVisible": str(hidden),
                    }
                },
                at,
            )
    oldest = int(OLDEST_MESSAGE_SENT.timestamp())
    origin = int(BACKLOG_FROM.timestamp())
    age_stamps, age_values, vis_values = [], [], []
    for hour in range(7 * 24):
        start = origin + hour * 3600
        age_stamps.append(aws_dt(datetime.fromtimestamp(start, tz=UTC)))
        age_values.append(float(start + 3540 - oldest))
        vis_values.append(float(max(backlog.visible(start + 60 * m) for m in range(60))))
    dims = [{"Name": "QueueName", "Value": job.queue_name}]
    visible_metric = "ApproximateNumberOfMessagesVisible"
    queries = [
        {
            "Id": "age",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/SQS",
                    "MetricName": "ApproximateAgeOfOldestMessage",
                    "Dimensions": dims,
                },
                "Period": 3600,
                "Stat": "Maximum",
            },
            "Label": "ApproximateAgeOfOldestMessage",
            "ReturnData": True,
        },
        {
            "Id": "visible",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/SQS",
                    "MetricName": visible_metric,
                    "Dimensions": dims,
                },
                "Period": 3600,
                "Stat": "Maximum",
            },
            "Label": "ApproximateNumberOfMessagesVisible",
            "ReturnData": True,
        },
    ]
    rec.record(
        "aws/cloudwatch/get-metric-data-sqs-backlog.json",
        "cloudwatch:GetMetricData",
        {
            "MetricDataQueries": queries,
            "StartTime": aws_dt(BACKLOG_FROM),
            "EndTime": aws_dt(BACKLOG_FROM + timedelta(days=7)),
            "ScanBy": "TimestampAscending",
        },
        {
            "MetricDataResults": [
                {
                    "Id": "age",
                    "Label": "ApproximateAgeOfOldestMessage",
                    "Timestamps": age_stamps,
                    "Values": age_values,
                    "StatusCode": "Complete",
                },
                {
                    "Id": "visible",
                    "Label": "ApproximateNumberOfMessagesVisible",
                    "Timestamps": list(age_stamps),
                    "Values": vis_values,
                    "StatusCode": "Complete",
                },
            ],
            "Messages": [],
        },
        RECORDED_AT + timedelta(seconds=50),
    )
    first, last = snapshots[0], snapshots[-1]
    end_age = int((BACKLOG_FROM + timedelta(days=7)).timestamp()) - oldest
    return {
        "labeling_job": job.name,
        "queue_name": job.queue_name,
        "queue_url": queue_url,
        "snapshot_times_utc": [f"{h:02d}:00" for h in SQS_SNAPSHOT_HOURS],
        "snapshots": snapshots,
        "first_snapshot": first,
        "last_snapshot": last,
        "visible_growth": last["ApproximateNumberOfMessages"]
        - first["ApproximateNumberOfMessages"],
        "inflow_messages_per_day_avg": round(sum(backlog.inflow[: 7 * 24]) / 7, 1),
        "oldest_message_sent": iso_z(OLDEST_MESSAGE_SENT),
        "oldest_message_age_seconds_at_window_end": end_age,
        "oldest_message_age_days_at_window_end": round(end_age / 86400, 2),
        "message_expiry_days": QUEUE_RETENTION_DAYS,
        "days_until_oldest_expires": round(QUEUE_RETENTION_DAYS - end_age / 86400, 2),
        "at_risk": True,
    }


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
    sizes = {path: len(data) for path, data in out.items()}
    planted = build_planted(workers, events, files, undercounts, story, states, sizes, rec.files)
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

MANAGED_DIRS = ("logs", "aws")


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
    """One event record as ``analytics.parsing`` reads it (a row of ``schema.EVENTS``), with
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
    expect(flagged == slow_keys, f"flagged slow {flagged} != {slow_keys}")
    for slow in cast["slow_workers"]:
        info = detection[slow["labeling_job"]]["workers"][slow["worker_key"]]
        expect(info["submitted"] > 10, "slow worker with too few tasks")
    worst_normal = max(
        (
            w["modified_z"]
            for job in detection.values()
            for key, w in job["workers"].items()
            if key not in slow_keys
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
