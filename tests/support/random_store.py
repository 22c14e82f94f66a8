"""Randomized stores: seeded worker-activity lines ingested into a real store, in several writes.

Each store mixes what the worker and task tables must get right: several days (partitions), many
files per partition (more than ``COMPACT_AFTER_FILES``, so a merge and its journal happen),
returned and declined tasks, missing acceptance times, clock skew, timeless lines, a worker far
slower than the others on a job (so the slow flag fires), teams, jobs, and team members who never
took a task.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from analytics.ingest.parse import parse_bytes
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
