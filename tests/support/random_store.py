"""Randomized stores: seeded worker-activity lines ingested into a real store, in several writes.

Each store mixes what the worker and task tables must get right: several days (partitions), many
files per partition (more than ``COMPACT_AFTER_FILES``, so a merge and its journal happen),
returned and declined tasks, missing acceptance times, clock skew, timeless lines, a worker far
slower than the others on a job (so the slow flag fires), teams, jobs, and team members who never
took a task. Its job outputs (``random_job_outputs``): worker responses matching most submitted
tasks within the match tolerance (some without a task, some without active time), a worker who
is slow on job-a (no output read: wall clock), one slow on active time, one who disagrees
(quality flag),
consolidated labels and a gold set.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from analytics.ingest.parse import parse_bytes
from analytics.store import schema
from analytics.store.store import Store
from tests.support.team_data import JOB_ARN, TEAM_ARN, membership

DAYS = ("2026-11-02", "2026-11-03", "2026-11-04")
KINDS = ("TasksSubmitted", "TasksReturned", "TasksDeclined")
TIME_FIELD = {
    "TasksSubmitted": "task_submitted_time",
    "TasksReturned": "task_returned_time",
    "TasksDeclined": "task_declined_time",
}


def _iso(epoch_ms: int) -> str:
    return np.datetime_as_string(np.datetime64(epoch_ms, "ms"), unit="s") + "Z"


def random_lines(seed: int, count: int) -> list[str]:
    """``count`` worker-activity messages drawn with ``seed`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n_workers, jobs, teams = 12, ("job-a", "job-b", "job-c"), ("team-a", "team-b")
    day_ms = np.datetime64(DAYS[0], "ms").astype(np.int64)
    lines = []
    for _ in range(count):
        worker = int(rng.integers(0, n_workers))
        job = jobs[(worker + int(rng.integers(0, 2))) % len(jobs)]
        kind = KINDS[int(rng.choice(3, p=[0.8, 0.15, 0.05]))]
        end = int(day_ms + rng.integers(0, len(DAYS) * 86_400_000))
        seconds = rng.lognormal(4.0, 0.4) * (8.0 if worker == 0 and job == "job-a" else 1.0)
        start = end - int(seconds * 1000)
        if rng.random() < 0.05:
            start = end + 60_000  # accepted after the outcome: clock skew
        message = {
            "worker_id": f"id-{worker:02d}",
            "cognito_user_pool_id": "us-east-1_Pool",
            "cognito_sub_id": f"sub-{worker:02d}",
            "task_accepted_time": "" if rng.random() < 0.05 else _iso(start),
            "task_submitted_time": "",
            "task_returned_time": "",
            "task_declined_time": "",
            "workteam_arn": TEAM_ARN.format(teams[worker % 2]),
            "labeling_job_arn": JOB_ARN.format(job),
            "event_type": kind,
        }
        if rng.random() < 0.01:
            message["task_accepted_time"] = ""  # no time at all: the "unknown" partition
        else:
            message[TIME_FIELD[kind]] = _iso(end)
            message["event_timestamp"] = str(end // 1000)
        lines.append(json.dumps(message))
    return lines


def build_random_store(
    root: Path, seed: int, count: int = 3_000, writes: int = 15, *, pending_merge: bool = False
) -> Store:
    """A store of ``random_lines(seed, count)`` added in ``writes`` writes, with team tables.

    ``pending_merge`` leaves the last day's partition as a crash between a merge's rename and its
    deletes leaves it: a merged file, the files it replaced, and the journal naming them. Our
    readers skip the replaced files; a reader that did not would count their events twice. Any
    open of the store by ``Store`` finishes the merge, so read such a store with another reader
    (or copy it first).
    """
    store = Store(root)
    lines = random_lines(seed, count)
    for part in np.array_split(np.arange(len(lines)), writes):
        chunk = "\n".join(lines[i] for i in part).encode()
        store.add_events(parse_bytes(chunk, f"random-{seed}.jsonl").events)
    members = [membership(f"sub-{w:02d}", "team-a" if w % 2 == 0 else "team-b") for w in range(12)]
    members += [membership("sub-never", "team-a"), membership("sub-never-b", "team-b")]
    store.replace_table("memberships", pa.Table.from_pylist(members))
    for name, rows in random_job_outputs(seed, lines).items():
        store.replace_table(name, pa.Table.from_pylist(rows, schema=schema.TABLES[name][0]))
    if pending_merge:
        _leave_merge_pending(root / "events" / f"date={DAYS[-1]}")
    return store


def _leave_merge_pending(partition: Path) -> None:
    replaced = sorted(partition.glob("part-*.parquet"))[:2]
    assert len(replaced) == 2, "the partition needs two files to merge"
    merged = pa.concat_tables([pq.read_table(path) for path in replaced])
    name = f"part-{uuid.uuid4().hex}.parquet"
    pq.write_table(merged, partition / name)
    journal = {"merges": [{"merged": name, "replaced": [path.name for path in replaced]}]}
    (partition / ".compaction.json").write_text(json.dumps(journal), encoding="utf-8")


LABELS = ("cat", "dog", "bird")
IMAGE_CLASSIFICATION = "groundtruth/image-classification"


def random_job_outputs(seed: int, lines: list[str]) -> dict[str, list[dict[str, object]]]:
    """The ``responses``, ``consolidated`` and ``gold`` rows of the jobs of ``lines`` (see the
    module docstring): objects are answered by several workers, so agreement is scored."""
    rng = np.random.default_rng(seed + 1_000)
    responses: list[dict[str, object]] = []
    objects: set[tuple[str, int]] = set()
    for line in lines:
        message = json.loads(line)
        accepted, submitted = message["task_accepted_time"], message["task_submitted_time"]
        if message["event_type"] != "TasksSubmitted" or not submitted or rng.random() < 0.1:
            continue
        worker = int(message["cognito_sub_id"][4:])
        job = message["labeling_job_arn"].rsplit("/", 1)[1]
        submitted_ms = int(np.datetime64(submitted.rstrip("Z"), "ms").astype(np.int64))
        accepted_ms = (
            int(np.datetime64(accepted.rstrip("Z"), "ms").astype(np.int64)) if accepted else None
        )
        wall = (submitted_ms - accepted_ms) / 1000 if accepted_ms is not None else 60.0
        if job == "job-a":
            continue  # a job whose output was not read: compared on the wall clock
        active: float | None = wall * rng.uniform(0.4, 1.0)
        if worker == 2 and job == "job-c":
            active = rng.lognormal(4.0, 0.4) * 6.0  # slow on active time
        object_index = int(rng.integers(0, 80))
        objects.add((job, object_index))
        # Worker 1 disagrees with the consolidated label (label 0) far more than the others.
        wrong = rng.random() < (0.8 if worker == 1 else 0.1)
        jitter = int(rng.integers(-400, 400))
        responses.append(
            {
                "labeling_job_name": job,
                "iteration": 1,
                "object_index": object_index,
                "worker_id": f"private.us-east-1.{message['worker_id']}",
                "sub": message["cognito_sub_id"],
                "identity_provider_type": "Cognito",
                "issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool",
                "acceptance_time": _utc_ms(accepted_ms + jitter) if accepted_ms else None,
                "submission_time": _utc_ms(submitted_ms + jitter),
                "active_seconds": None
                if active is None or rng.random() < 0.05
                else round(float(active), 3),
                "answer": json.dumps(
                    {"crowd-image-classifier": {"label": LABELS[int(rng.integers(1, 3))]}}
                    if wrong
                    else {"crowd-image-classifier": {"label": LABELS[0]}},
                    sort_keys=True,
                ),
                "source": f"{job}/annotations/worker-response/iteration-1/{object_index}/r.json",
            }
        )
        if rng.random() < 0.03:  # a response without a log task: an hour later
            extra = dict(responses[-1])
            extra["submission_time"] = _utc_ms(submitted_ms + 3_600_000)
            extra["acceptance_time"] = _utc_ms(submitted_ms + 3_500_000)
            responses.append(extra)
    consolidated = [
        {
            "labeling_job_name": job,
            "object_index": index,
            "label_attribute": job,
            "task_type": IMAGE_CLASSIFICATION,
            "label": "0",
            "metadata": json.dumps(
                {"class-name": LABELS[0], "confidence": 0.9, "type": IMAGE_CLASSIFICATION},
                sort_keys=True,
            ),
            "source": f"{job}/manifests/output/output.manifest",
        }
        for job, index in sorted(objects)
    ]
    gold: list[dict[str, object]] = [
        {"labeling_job_name": "job-b", "object_index": index, "label": LABELS[0], "loaded_at": None}
        for index in range(10)
    ]
    return {"responses": responses, "consolidated": consolidated, "gold": gold}


def _utc_ms(epoch_ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch_ms / 1000, tz=dt.UTC)
