"""The sample's world, simulated: the account's constants, teams, jobs and workers, a fortnight of
worker activity, the streaming backlog and the truth derived from them (slow workers, return
rates, the metrics a log gives). Deterministic: everything comes from one ``random.Random``,
drawn in a fixed order by ``make_sample_logs.render_all``."""

from __future__ import annotations

import bisect
import math
import random
import statistics
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from analytics.ingest.times import MONTH_NAMES, WEEKDAY_NAMES, format_java_time

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
