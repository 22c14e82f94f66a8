"""The sample's labeling job outputs: worker responses, output manifests and a gold set (issue 11).

Derived from the simulated worker-activity events, so that each response is one submitted log
task: the same worker (``sub`` = the log's ``cognito_sub_id``), job, acceptance and submission
time (to the millisecond), and ``timeSpentInSeconds`` = the task's active time (pauses
excluded). Two planted workers:

- the *pause worker* (an image-classification labeler) takes long pauses inside many tasks: the
  log's wall-clock task time is long, the active time is normal. Planted by
  :func:`plant_long_pauses` after the simulation, with its own random stream, so no other
  worker's events change.
- the *careless worker*, the fastest image-classification labeler, gives a wrong label about
  half of the time: its agreement with the consolidated label is far below the others'.

Files (under ``jobs/<job name>/`` as ``aws s3 sync`` leaves a job's output folder):
``annotations/worker-response/iteration-1/<object index>/<submission time>.json`` and
``manifests/output/output.manifest``; the gold set is ``gold/<job name>.gold`` (JSON lines,
with an ending ingest does not take for a log).
"""

from __future__ import annotations

import json
import random
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from generate import (
    BUCKET,
    JOBS,
    POOL_ID,
    REGION,
    SEED,
    WINDOW_END,
    WINDOW_START,
    Event,
    Json,
    Worker,
    from_ms,
    stream_name,
    to_ms,
)

#: The worker whose tasks hold long pauses (by name). The careless one is the fastest other
#: labeler who works on the classification job only (``careless_worker``).
PAUSE_WORKER = ("Daniel", "Kim")
#: Share of the pause worker's submitted tasks with a pause, and its length in seconds.
PAUSE_SHARE = 0.7
PAUSE_SECONDS = (25, 95)
#: How often a labeler picks a wrong class: each normal one draws a rate in this range.
ERROR_RATE = (0.03, 0.10)
CARELESS_ERROR_RATE = 0.5
#: The quality rule the sample is planted for (resp-numbers' flag): modified z of agreement
#: below -3.5 among the job's workers with at least 20 scored responses.
QUALITY_Z = -3.5
MIN_SCORED = 20
SLOW_Z = 3.5
MIN_TASKS_FOR_MEDIAN = 10
#: The bounding-box job's folder holds its first two days in the window (objects 0..n-1 in
#: submission order): enough for every labeler to have active times, small enough to bundle.
BBOX_DAYS = (date(2026, 10, 26), date(2026, 10, 27))
#: Every GOLD_EVERY-th object of the classification job has a gold answer (its true class).
GOLD_EVERY = 10
PRODUCT_CLASSES = ("apparel", "beauty", "electronics", "furniture", "kitchen", "toys")
BOX_CLASSES = ("car", "pedestrian", "cyclist", "truck")
IMAGE_SIZE = {"width": 1280, "height": 720}
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL_ID}"
OIDC_ISSUER = "https://login.example.com"


def iso_ms(ms: int) -> str:
    """``2026-10-27T10:00:09.500Z``: the time form of worker-response files."""
    moment = from_ms(ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def by_name(workers: list[Worker], name: tuple[str, str]) -> Worker:
    return next(w for w in workers if (w.first, w.last) == name)


def careless_worker(workers: list[Worker]) -> Worker:
    """The fastest labeler of the classification job only (no planted role), not the pause one."""
    candidates = [
        w
        for w in workers
        if list(w.weights) == ["imgcls"] and w.role == "" and (w.first, w.last) != PAUSE_WORKER
    ]
    return min(candidates, key=lambda w: (w.speed, w.key))


# --------------------------------------------------------------------------- the pause worker
def plant_long_pauses(events: list[Event], workers: list[Worker]) -> None:
    """Lengthen the pause worker's submitted tasks by a pause (active time unchanged).

    Runs after ``finalize_events``: each later event of the worker's day moves by the pauses
    before it (its CloudWatch times with it), so the day keeps its order and no other event
    changes. The events are sorted again as ``finalize_events`` leaves them.
    """
    rng = random.Random(SEED + 11)
    worker = by_name(workers, PAUSE_WORKER)
    mine: dict[date, list[Event]] = defaultdict(list)
    for event in events:
        if event.worker is worker:
            mine[from_ms(event.accepted_ms).date()].append(event)
    for day in sorted(mine):
        shift = 0
        for event in sorted(mine[day], key=lambda ev: ev.accepted_ms):
            event.accepted_ms += shift * 1000
            pause = 0
            if event.event_type == "TasksSubmitted" and rng.random() < PAUSE_SHARE:
                pause = rng.randint(*PAUSE_SECONDS)
            event.outcome_ms += (shift + pause) * 1000
            if event.event_type == "TasksAccepted":
                event.outcome_ms = event.accepted_ms
            event.cw_ms += (shift + pause) * 1000
            event.ingest_ms += (shift + pause) * 1000
            event.stream = stream_name(from_ms(event.cw_ms).date())
            shift += pause
            minute_of_day = (event.cw_ms // 1000) % 86400
            if not 30 * 60 <= minute_of_day <= 23 * 3600 + 45 * 60:
                raise RuntimeError(f"paused event too close to midnight UTC: {event.identity()}")
            if not to_ms(WINDOW_START) <= event.accepted_ms < event.cw_ms < to_ms(WINDOW_END):
                raise RuntimeError("paused event outside the window")
    events.sort(key=lambda ev: (ev.cw_ms, ev.event_id))


# --------------------------------------------------------------------------- answers
@dataclass
class SampleObject:
    """One data object of a job and the submitted tasks that answered it."""

    index: int
    truth: str
    tasks: list[Event] = field(default_factory=list)
    answers: list[Json] = field(default_factory=list)


def identity_data(worker: Worker) -> Json:
    if worker.sub is None:  # the OIDC-style worker: its only identity is its worker id
        return {"identityProviderType": "Oidc", "issuer": OIDC_ISSUER, "sub": worker.worker_id}
    return {"identityProviderType": "Cognito", "issuer": ISSUER, "sub": worker.sub}


def answer_entry(rng: random.Random, event: Event, content: Json) -> Json:
    """A worker-response ``answers`` entry for submitted task ``event``."""
    wall = (event.outcome_ms - event.accepted_ms) / 1000
    # Active time: the task's active seconds (whole seconds in the simulation) less a fraction,
    # never above the wall-clock time.
    active = min(wall, max(0.5, event.active_s - rng.uniform(0.0, 0.9)))
    return {
        "acceptanceTime": iso_ms(event.accepted_ms),
        "answerContent": content,
        "submissionTime": iso_ms(event.outcome_ms),
        "timeSpentInSeconds": round(active, 3),
        "workerId": f"private.{REGION}.{event.worker.worker_id}",
        "workerMetadata": {"identityData": identity_data(event.worker)},
    }


def group_into_objects(
    tasks: list[Event], per_object: int, rng: random.Random
) -> list[SampleObject]:
    """Submitted tasks grouped into objects of ``per_object`` distinct workers, in time order."""
    objects: list[SampleObject] = []
    open_objects: list[SampleObject] = []
    for event in sorted(tasks, key=lambda ev: (ev.accepted_ms, ev.worker.key)):
        target = next(
            (o for o in open_objects if all(t.worker is not event.worker for t in o.tasks)), None
        )
        if target is None:
            target = SampleObject(len(objects), "")
            objects.append(target)
            open_objects.append(target)
        target.tasks.append(event)
        if len(target.tasks) == per_object:
            open_objects.remove(target)
    for obj in objects:
        obj.truth = rng.choice(PRODUCT_CLASSES)
    return objects


def consolidate(labels: list[str], truth: str) -> tuple[str, float]:
    """The consolidated class and its confidence: the majority; a tie goes to the truth if tied
    (Ground Truth weighs workers by their estimated accuracy), else the first by name."""
    counts = Counter(labels)
    top = max(counts.values())
    tied = sorted(label for label, n in counts.items() if n == top)
    label = truth if truth in tied else tied[0]
    confidence = 0.0 if len(labels) == 1 else round(0.5 + 0.49 * top / len(labels), 2)
    return label, confidence


def classification_outputs(
    events: list[Event], workers: list[Worker]
) -> tuple[dict[str, bytes], Json]:
    """The image-classification job's folder (files by path) and its planted truth."""
    job = JOBS["imgcls"]
    rng = random.Random(SEED + 12)
    careless = careless_worker(workers)
    tasks = [ev for ev in events if ev.job is job and ev.event_type == "TasksSubmitted"]
    error_rates = {
        w.key: CARELESS_ERROR_RATE if w is careless else round(rng.uniform(*ERROR_RATE), 3)
        for w in sorted({ev.worker.key: ev.worker for ev in tasks}.values(), key=lambda w: w.key)
    }
    objects = group_into_objects(tasks, job.workers_per_object, rng)
    files: dict[str, bytes] = {}
    manifest_lines: list[bytes] = []
    scores: dict[str, list[int]] = defaultdict(list)
    for obj in objects:
        labels = []
        for event in obj.tasks:
            label = obj.truth
            if rng.random() < error_rates[event.worker.key]:
                label = rng.choice([c for c in PRODUCT_CLASSES if c != obj.truth])
            labels.append(label)
            content = {"crowd-image-classifier": {"label": label}}
            obj.answers.append(answer_entry(rng, event, content))
        consolidated, confidence = consolidate(labels, obj.truth)
        if len({ev.worker.key for ev in obj.tasks}) >= 2:
            for event, label in zip(obj.tasks, labels, strict=True):
                scores[event.worker.key].append(int(label == consolidated))
        last = max(ev.outcome_ms for ev in obj.tasks)
        name = from_ms(last).strftime("%Y-%m-%d_%H:%M:%S") + ".json"
        path = f"annotations/worker-response/iteration-1/{obj.index}/{name}"
        files[path] = compact({"answers": obj.answers})
        manifest_lines.append(
            compact(
                {
                    "source-ref": f"s3://{BUCKET}/input/{job.name}/{obj.index:05d}.jpg",
                    job.name: PRODUCT_CLASSES.index(consolidated),
                    f"{job.name}-metadata": {
                        "class-name": consolidated,
                        "confidence": confidence,
                        "creation-date": from_ms(last).strftime("%Y-%m-%dT%H:%M:%S.%f"),
                        "human-annotated": "yes",
                        "job-name": f"labeling-job/{job.name}",
                        "type": "groundtruth/image-classification",
                    },
                }
            )
        )
    files["manifests/output/output.manifest"] = b"".join(manifest_lines)
    gold = {obj.index: obj.truth for obj in objects if obj.index % GOLD_EVERY == 0}
    truth = {
        "labeling_job": job.name,
        "objects": len(objects),
        "responses": sum(len(o.tasks) for o in objects),
        "objects_by_answer_count": dict(sorted(Counter(len(o.tasks) for o in objects).items())),
        "gold_objects": len(gold),
        "agreement": agreement_detection(scores),
        "error_rates": error_rates,
    }
    files_gold = b"".join(compact({str(i): label}) for i, label in sorted(gold.items()))
    return {
        **{f"jobs/{job.name}/{p}": d for p, d in files.items()},
        f"gold/{job.name}.gold": files_gold,
    }, truth


def agreement_detection(scores: dict[str, list[int]]) -> Json:
    """Per worker with >= MIN_SCORED scored responses: agreement rate and its modified z."""
    rates = {k: sum(v) / len(v) for k, v in scores.items() if len(v) >= MIN_SCORED}
    center = statistics.median(rates.values())
    mad = statistics.median(abs(r - center) for r in rates.values())
    if mad == 0:
        raise RuntimeError("MAD of agreement rates is 0")
    return {
        "median_agreement": round(center, 4),
        "mad": round(mad, 4),
        "workers": {
            key: {
                "scored": len(scores[key]),
                "agreement_rate": round(rates[key], 4),
                "modified_z": round(0.6745 * (rates[key] - center) / mad, 3),
                "flagged_quality": 0.6745 * (rates[key] - center) / mad < QUALITY_Z,
            }
            for key in sorted(rates)
        },
    }


def bounding_box_outputs(events: list[Event]) -> tuple[dict[str, bytes], Json]:
    """The bounding-box job's folder for ``BBOX_DAYS`` (one worker per object)."""
    job = JOBS["bbox"]
    rng = random.Random(SEED + 13)
    tasks = sorted(
        (
            ev
            for ev in events
            if ev.job is job and ev.event_type == "TasksSubmitted" and ev.day in BBOX_DAYS
        ),
        key=lambda ev: (ev.outcome_ms, ev.worker.key),
    )
    files: dict[str, bytes] = {}
    lines: list[bytes] = []
    for index, event in enumerate(tasks):
        boxes = []
        for _ in range(rng.randint(1, 4)):
            width, height = rng.randint(40, 400), rng.randint(40, 300)
            boxes.append(
                {
                    "height": height,
                    "label": rng.choice(BOX_CLASSES),
                    "left": rng.randint(0, IMAGE_SIZE["width"] - width),
                    "top": rng.randint(0, IMAGE_SIZE["height"] - height),
                    "width": width,
                }
            )
        content = {"boundingBox": {"boundingBoxes": boxes, "inputImageProperties": IMAGE_SIZE}}
        answer = answer_entry(rng, event, content)
        name = from_ms(event.outcome_ms).strftime("%Y-%m-%d_%H:%M:%S") + ".json"
        files[f"annotations/worker-response/iteration-1/{index}/{name}"] = compact(
            {"answers": [answer]}
        )
        # One worker per object: the consolidated boxes are the worker's, confidence 0.00.
        lines.append(
            compact(
                {
                    "source-ref": f"s3://{BUCKET}/input/{job.name}/{index:05d}.jpg",
                    job.name: {
                        "annotations": [
                            {
                                "class_id": BOX_CLASSES.index(b["label"]),
                                **{k: b[k] for k in ("left", "top", "width", "height")},
                            }
                            for b in boxes
                        ],
                        "image_size": [{**IMAGE_SIZE, "depth": 3}],
                    },
                    f"{job.name}-metadata": {
                        "class-map": {str(i): c for i, c in enumerate(BOX_CLASSES)},
                        "creation-date": from_ms(event.outcome_ms).strftime("%Y-%m-%dT%H:%M:%S.%f"),
                        "human-annotated": "yes",
                        "job-name": f"labeling-job/{job.name}",
                        "objects": [{"confidence": 0.0} for _ in boxes],
                        "type": "groundtruth/object-detection",
                    },
                }
            )
        )
    files["manifests/output/output.manifest"] = b"".join(lines)
    truth = {
        "labeling_job": job.name,
        "days": [d.isoformat() for d in BBOX_DAYS],
        "objects": len(tasks),
        "responses": len(tasks),
    }
    return {f"jobs/{job.name}/{p}": d for p, d in files.items()}, truth


def compact(value: Json) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode() + b"\n"


# --------------------------------------------------------------------------- truth
def wall_and_active_detection(events: list[Event], workers: list[Worker]) -> Json:
    """The pause worker's job under the slow rule, on wall clock and on active time."""
    job = JOBS["imgcls"]
    walls: dict[str, list[float]] = defaultdict(list)
    actives: dict[str, list[float]] = defaultdict(list)
    for event in events:
        if event.job is job and event.event_type == "TasksSubmitted":
            walls[event.worker.key].append((event.outcome_ms - event.accepted_ms) / 1000)
            actives[event.worker.key].append(float(event.active_s))
    pause = by_name(workers, PAUSE_WORKER)

    def z_scores(values: dict[str, list[float]]) -> dict[str, float]:
        medians = {
            k: statistics.median(v) for k, v in values.items() if len(v) >= MIN_TASKS_FOR_MEDIAN
        }
        center = statistics.median(medians.values())
        mad = statistics.median(abs(m - center) for m in medians.values())
        return {k: 0.6745 * (m - center) / mad for k, m in medians.items()}

    wall_z, active_z = z_scores(walls), z_scores(actives)
    return {
        "labeling_job": job.name,
        "wall_clock_modified_z": round(wall_z[pause.key], 3),
        "active_time_modified_z": round(active_z[pause.key], 3),
        "median_wall_seconds": round(statistics.median(walls[pause.key]), 3),
        "median_active_seconds": round(statistics.median(actives[pause.key]), 3),
        "others_flagged_on_active_time": sorted(
            k for k, z in active_z.items() if z > SLOW_Z and k != pause.key
        ),
    }


def render_job_outputs(events: list[Event], workers: list[Worker]) -> tuple[dict[str, bytes], Json]:
    """Every job-output file of the sample by path, and the planted truth about them."""
    classification, classification_truth = classification_outputs(events, workers)
    boxes, boxes_truth = bounding_box_outputs(events)
    pause = by_name(workers, PAUSE_WORKER)
    careless = careless_worker(workers)
    pauses = wall_and_active_detection(events, workers)
    agreement = classification_truth["agreement"]["workers"]
    flagged = sorted(k for k, w in agreement.items() if w["flagged_quality"])
    if flagged != [careless.key]:
        raise RuntimeError(f"quality flag would land on {flagged}, not only {careless.key}")
    if not pauses["wall_clock_modified_z"] > SLOW_Z >= pauses["active_time_modified_z"]:
        raise RuntimeError(f"the pause worker is not slow on wall clock only: {pauses}")
    cast = {
        "careless_worker": {
            "worker_key": careless.key,
            "name": careless.name,
            "labeling_job": JOBS["imgcls"].name,
            "speed_factor": careless.speed,
            "planted_error_rate": CARELESS_ERROR_RATE,
            **agreement[careless.key],
            "note": "fast, and agrees with the consolidated label far less than the others",
        },
        "pause_worker": {
            "worker_key": pause.key,
            "name": pause.name,
            "speed_factor": pause.speed,
            **pauses,
            "flagged_slow_on_wall_clock": True,
            "flagged_slow_on_active_time": False,
            "note": "long pauses inside tasks: slow on wall clock, normal on active time",
        },
    }
    truth = {
        "format": "jobs/<job>/ as `aws s3 sync s3://<S3OutputPath>/<job>/ <job>/` leaves it",
        "classification": classification_truth,
        "bounding_boxes": boxes_truth,
        "gold_file": f"gold/{JOBS['imgcls'].name}.gold",
        "response_match": "each response is one submitted log task: same sub, job, acceptance"
        " and submission times (to the ms); timeSpentInSeconds = active time",
    }
    return {**classification, **boxes}, {"cast": cast, "truth": truth}


# --------------------------------------------------------------------------- --verify
def verify_job_outputs(root: Path, planted: Json, distinct_events: list[Json]) -> list[str]:
    """Re-read the job folders with the project's parsers and re-derive their planted truth.

    ``distinct_events`` are the log's events as ``analytics.ingest.parse`` reads them. Returns the
    failures, each one line.
    """
    from analytics.responses.parse import (
        JobFile,
        ParsedResponses,
        job_file,
        parse_output_manifest,
        parse_worker_response,
    )
    from analytics.responses.tables import parse_gold

    failures: list[str] = []
    parsed = ParsedResponses()
    for folder in sorted((root / "jobs").iterdir()):
        for path in sorted(folder.rglob("*")):
            kind = job_file(path.relative_to(folder).parts) if path.is_file() else None
            if kind is None:
                continue
            data = path.read_bytes()
            if kind.kind == "output-manifest":
                parse_output_manifest(data, job_name=folder.name, source=str(path), into=parsed)
            else:
                where = JobFile(kind.kind, kind.iteration, kind.object_index)
                parse_worker_response(
                    data, job_name=folder.name, where=where, source=str(path), into=parsed
                )
    responses = parsed.responses_table().to_pylist()
    labels = parsed.consolidated_table().to_pylist()
    if parsed.rejected:
        failures.append(f"job outputs: {len(parsed.rejected)} items rejected by the parser")
    truth = planted["job_outputs"]
    for section in ("classification", "bounding_boxes"):
        job = truth[section]["labeling_job"]
        count = sum(1 for r in responses if r["labeling_job_name"] == job)
        if count != truth[section]["responses"]:
            failures.append(f"{job}: {count} responses, planted {truth[section]['responses']}")

    # Each response is one submitted log task: same worker, job and times (within 1 s).
    tasks: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for event in distinct_events:
        if event["event_type"] == "TasksSubmitted":
            tasks[(event["worker_key"], event["labeling_job_name"])].append(
                (event["task_accepted_time"].timestamp(), event["task_submitted_time"].timestamp())
            )
    unmatched = 0
    for row in responses:
        candidates = tasks.get((row["sub"], row["labeling_job_name"]), [])
        accepted, submitted = row["acceptance_time"].timestamp(), row["submission_time"].timestamp()
        if not any(abs(a - accepted) <= 1 and abs(s - submitted) <= 1 for a, s in candidates):
            unmatched += 1
        wall = submitted - accepted
        if row["active_seconds"] is None or not 0 < row["active_seconds"] <= wall + 1e-6:
            failures.append(f"{row['source']}: active time {row['active_seconds']} vs wall {wall}")
    if unmatched:
        failures.append(f"job outputs: {unmatched} responses match no submitted log task")

    # The quality rule on agreement, from the files: exactly the careless worker is flagged.
    job = truth["classification"]["labeling_job"]
    consolidated = {
        r["object_index"]: json.loads(r["metadata"])["class-name"]
        for r in labels
        if r["labeling_job_name"] == job
    }
    answers_by_object: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for row in responses:
        if row["labeling_job_name"] == job:
            label = json.loads(row["answer"])["crowd-image-classifier"]["label"]
            answers_by_object[row["object_index"]].append((row["sub"], label))
    scores: dict[str, list[int]] = defaultdict(list)
    for index, answers in answers_by_object.items():
        if len({sub for sub, _ in answers}) >= 2:
            for sub, label in answers:
                scores[sub].append(int(label == consolidated[index]))
    detection = agreement_detection(scores)
    flagged = sorted(k for k, w in detection["workers"].items() if w["flagged_quality"])
    careless = planted["cast"]["careless_worker"]["worker_key"]
    if flagged != [careless]:
        failures.append(f"quality flag on {flagged}, planted {careless}")

    # The pause worker: normal on active time (the slow rule on the responses' active seconds).
    pause = planted["cast"]["pause_worker"]["worker_key"]
    actives: dict[str, list[float]] = defaultdict(list)
    for row in responses:
        if row["labeling_job_name"] == job:
            actives[row["sub"]].append(row["active_seconds"])
    medians = {
        k: statistics.median(v) for k, v in actives.items() if len(v) >= MIN_TASKS_FOR_MEDIAN
    }
    center = statistics.median(medians.values())
    mad = statistics.median(abs(m - center) for m in medians.values())
    active_flagged = sorted(k for k, m in medians.items() if 0.6745 * (m - center) / mad > SLOW_Z)
    if active_flagged:
        failures.append(f"slow on active time: {active_flagged} (the pause worker is {pause})")

    gold = parse_gold((root / truth["gold_file"]).read_bytes(), truth["gold_file"])
    if len(gold) != truth["classification"]["gold_objects"] or max(gold) >= len(consolidated):
        failures.append(f"gold set: {len(gold)} answers, planted {truth['classification']}")
    print(
        f"verify: job outputs: {len(responses)} responses, {len(labels)} labels, quality flag"
        f" {flagged}, slow on active time {active_flagged}, {len(gold)} gold answers"
    )
    return failures
