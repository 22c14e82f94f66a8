"""Sync against the local AWS emulator over real HTTP, clients built as in production."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from analytics.aws import IAM_ACTION_OF_OPERATION, RUN_PATIENCE
from analytics.errors import UsageError
from analytics.ingest.run import ingest_paths
from analytics.store.schema import UNKNOWN_USER_STATUS
from analytics.store.store import Store
from analytics.sync import (
    PART_BACKLOG,
    PART_JOBS,
    PART_LOGS,
    PART_METRICS,
    PART_RESPONSES,
    PART_TEAMS,
    PART_USERS,
    SyncReport,
)
from tests.aws_emulator import Emulator, Faults
from tests.aws_emulator.fixtures import (
    SAMPLE_NOW,
    TEST_ENVIRONMENT,
    run_sync,
)
from tests.aws_emulator.seed import SAMPLE_LOGS

REPO_ROOT = Path(__file__).resolve().parents[2]
PLANTED = json.loads((SAMPLE_LOGS / "planted.json").read_text(encoding="utf-8"))
PER_WORKER_COLUMNS = [
    "event_key",
    "worker_key",
    "event_type",
    "event_time",
    "task_accepted_time",
    "task_submitted_time",
    "task_returned_time",
    "labeling_job_name",
    "workteam_name",
]
#: One short day of the sample: enough for every part, few FilterLogEvents calls.
DAY_START = dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
DAY_END = dt.datetime(2026, 11, 4, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def ingested_sample(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The sample files ingested as files, the reference a sync must match."""
    store = Store(tmp_path_factory.mktemp("ingested") / "store")
    ingest_paths(store, [SAMPLE_LOGS / "logs"])
    return store


def per_worker(store: Store) -> pa.Table:
    events = store.load_events(columns=PER_WORKER_COLUMNS)
    return events.sort_by([("event_key", "ascending")])


def store_snapshot(store: Store) -> dict[str, object]:
    tables = {name: store.read_table(name) for name in ("users", "workteams", "memberships")}
    tables["jobs"] = store.read_table("jobs")
    return {
        "events": per_worker(store),
        "rejected": sorted(store.load_rejected().column("reject_key").to_pylist()),
        **{
            name: table.sort_by([(table.column_names[0], "ascending")])
            for name, table in tables.items()
        },
    }


def test_sync_gives_the_same_per_worker_data_as_ingesting_the_files(
    sample_account: Emulator, ingested_sample: Store, tmp_path: Path
) -> None:
    report = run_sync(sample_account, tmp_path / "store")
    synced = Store(tmp_path / "store")
    assert report.exit_code == 0, report.summary_text()
    assert report.warnings == []
    assert per_worker(synced).equals(per_worker(ingested_sample))
    # The emulator is seeded from the ingested files, so also hold both to the generator's own
    # count of what it planted: an event lost by parsing would be lost on both sides.
    events = synced.load_events(columns=["worker_key", "event_type"]).to_pylist()
    by_worker: dict[str, int] = {}
    for event in events:
        by_worker[event["worker_key"]] = by_worker.get(event["worker_key"], 0) + 1
    planted = {w: sum(types.values()) for w, types in PLANTED["counts"]["by_worker"].items()}
    assert by_worker == planted
    # Garbage lines are kept as rejected lines, as for files (API ones keep their envelope).
    assert synced.load_rejected().num_rows == PLANTED["counts"]["garbage_lines"]
    assert ingested_sample.load_rejected().num_rows == PLANTED["counts"]["garbage_lines"]
    assert synced.read_table("workteams").num_rows == len(PLANTED["teams"])
    jobs = synced.read_table("jobs")
    streaming = jobs.filter(pc.field("is_streaming")).column("labeling_job_name").to_pylist()
    assert streaming == ["support-tickets-intent-stream"]
    assert jobs.column("pending_human").null_count == 0
    backlog = synced.read_table("backlog").to_pylist()
    assert [(b["queue_name"], b["messages_visible"]) for b in backlog] == [
        ("GroundTruth-support-tickets-intent-stream", 5)
    ]
    metrics = synced.read_table("metrics")
    assert set(metrics.column("statistic").to_pylist()) == {"Sum", "SampleCount"}


def test_a_cognito_user_deleted_after_working_shows_as_unknown(
    sample_account: Emulator, tmp_path: Path
) -> None:
    deleted = PLANTED["cast"]["deleted_cognito_user"]["worker_key"]
    oidc = PLANTED["cast"]["oidc_worker"]["worker_key"]
    report = run_sync(sample_account, tmp_path / "store", since=DAY_START, until=DAY_END)
    users = Store(tmp_path / "store").read_table("users").to_pylist()
    by_sub = {u["sub"]: u for u in users}
    assert by_sub[deleted]["status"] == UNKNOWN_USER_STATUS
    assert by_sub[deleted]["username"] is None
    assert oidc not in by_sub  # no Cognito identity: keeps its own worker id
    assert "1 worker identities not in Cognito" in report.part(PART_USERS).detail


def test_a_second_sync_adds_nothing_and_reads_only_its_overlap(
    sample_account: Emulator, tmp_path: Path
) -> None:
    run_sync(sample_account, tmp_path / "store")
    before = store_snapshot(Store(tmp_path / "store"))
    sample_account.calls.clear()

    later = SAMPLE_NOW + dt.timedelta(hours=2)
    report = run_sync(sample_account, tmp_path / "store", since=None, now=later)

    assert report.new_events == 0
    assert report.log_windows == 1
    assert sample_account.count("logs:FilterLogEvents") == 1
    assert report.start == SAMPLE_NOW - dt.timedelta(minutes=15)  # the overlap, nothing older
    assert store_snapshot(Store(tmp_path / "store")) == before


def test_heavy_throttling_and_dropped_connections_lose_nothing(
    sample_account: Emulator, tmp_path: Path
) -> None:
    clean = run_sync(sample_account, tmp_path / "clean", since=DAY_START, until=DAY_END)
    sample_account.set_faults(Faults(throttle_share=0.25, drop_share=0.1, seed=3))
    sample_account.calls.clear()

    faulty = run_sync(sample_account, tmp_path / "faulty", since=DAY_START, until=DAY_END)

    assert sample_account.actions("throttled"), "the proxy throttled nothing"
    assert sample_account.actions("dropped"), "the proxy dropped nothing"
    assert faulty.warnings == []
    assert faulty.exit_code == 0
    assert faulty.new_events == clean.new_events > 0
    assert store_snapshot(Store(tmp_path / "faulty")) == store_snapshot(Store(tmp_path / "clean"))


KILL_SCRIPT = textwrap.dedent(
    """
    import datetime as dt, os, signal, sys
    from analytics.store.store import Store
    from analytics.sync import SyncOptions, sync_from_aws

    endpoint, data, kill_after = sys.argv[1], sys.argv[2], int(sys.argv[3])

    def progress(done, total, label):
        if label.startswith("worker activity") and done == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)  # kill -9 between two windows

    options = SyncOptions(
        region="us-east-1",
        endpoint_url=endpoint,
        since=dt.datetime(2026, 10, 25, tzinfo=dt.UTC),
    )
    now = dt.datetime(2026, 11, 9, 0, 30, tzinfo=dt.UTC)
    sync_from_aws(Store(data), options, progress=progress, now=now)
    """
)


def test_a_sync_killed_mid_way_and_rerun_gives_the_same_store(
    sample_account: Emulator, tmp_path: Path
) -> None:
    run_sync(sample_account, tmp_path / "uninterrupted")
    environment = {**os.environ, **TEST_ENVIRONMENT, "PYTHONPATH": str(REPO_ROOT)}
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            KILL_SCRIPT,
            sample_account.endpoint_url,
            str(tmp_path / "rerun"),
            "4",
        ],
        env=environment,
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    state = Store(tmp_path / "rerun").read_state()
    (checkpoint,) = state["logs"].values()
    assert checkpoint["synced_until"] < "2026-11-01"  # really stopped part-way

    # The rerun resumes from the checkpoint (no --since), re-reading only the overlap.
    report = run_sync(sample_account, tmp_path / "rerun", since=None)

    assert report.exit_code == 0
    assert store_snapshot(Store(tmp_path / "rerun")) == store_snapshot(
        Store(tmp_path / "uninterrupted")
    )


DENIED_CASES = [
    ("logs:FilterLogEvents", PART_LOGS, 1),
    ("sagemaker:ListWorkteams", "work teams", 0),
    ("sagemaker:DescribeWorkteam", "work teams", 0),
    ("sagemaker:ListLabelingJobs", "labeling jobs", 0),
    ("sagemaker:DescribeLabelingJob", "labeling jobs", 0),
    ("sagemaker:ListLabelingJobsForWorkteam", "labeling jobs", 0),
    ("cognito-idp:ListUsers", PART_USERS, 0),
    ("cognito-idp:ListUsersInGroup", "team members", 0),
    ("sqs:GetQueueUrl", PART_BACKLOG, 0),
    ("sqs:GetQueueAttributes", PART_BACKLOG, 0),
    ("cloudwatch:ListMetrics", PART_METRICS, 0),
    ("cloudwatch:GetMetricData", PART_METRICS, 0),
    ("s3:ListBucket", PART_RESPONSES, 0),
    ("s3:GetObject", PART_RESPONSES, 0),
]


@pytest.mark.parametrize(("action", "part", "exit_code"), DENIED_CASES)
def test_access_denied_warns_naming_the_action_and_the_rest_syncs(
    sample_account: Emulator, tmp_path: Path, action: str, part: str, exit_code: int
) -> None:
    sample_account.set_faults(Faults(denied_actions={action}))

    report = run_sync(sample_account, tmp_path / "store", since=DAY_START, until=DAY_END)

    assert report.exit_code == exit_code
    assert any(action in w for w in report.part(part).warnings), report.warnings
    failed = {p.name for p in report.parts if not p.ok}
    assert failed <= {part}
    others = {p.name for p in report.parts} - {part}
    assert others
    assert all(report.part(name).ok for name in others)
    if part != PART_LOGS:
        assert report.new_events > 0


def test_a_missing_log_group_says_what_it_usually_means(
    sample_account: Emulator, tmp_path: Path
) -> None:
    report = run_sync(
        sample_account,
        tmp_path / "store",
        log_group="/no/such/group",
        since=DAY_START,
        until=DAY_END,
    )

    assert report.exit_code == 1
    (warning,) = [w for w in report.warnings if w.startswith(PART_LOGS)]
    assert "/no/such/group not found in us-east-1" in warning
    assert "August 2019" in warning
    assert report.part("work teams").ok


def test_every_aws_operation_called_is_in_the_iam_policy(
    sample_account: Emulator, tmp_path: Path
) -> None:
    policy = json.loads((REPO_ROOT / "docs" / "iam-policy.json").read_text(encoding="utf-8"))
    allowed = {a for statement in policy["Statement"] for a in statement["Action"]}

    run_sync(sample_account, tmp_path / "store", since=DAY_START, until=DAY_END)

    # What IAM evaluates: a bucket listing (ListObjectsV2) is the action s3:ListBucket.
    called = {IAM_ACTION_OF_OPERATION.get(action, action) for action in sample_account.actions()}
    assert called <= allowed, f"not in docs/iam-policy.json: {sorted(called - allowed)}"
    assert allowed <= called, f"listed but never called: {sorted(allowed - called)}"
    forbidden = ("Send", "Receive", "Delete", "Purge", "Change", "Set", "Create", "Put", "Update")
    assert not [a for a in allowed if a.split(":")[1].startswith(forbidden)]


def test_since_after_until_is_a_usage_error(sample_account: Emulator, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--since must be before --until"):
        run_sync(
            sample_account,
            tmp_path / "store",
            since=dt.datetime(2026, 11, 5, tzinfo=dt.UTC),
            until=dt.datetime(2026, 11, 4, tzinfo=dt.UTC),
        )


def test_report_summary_names_every_part(sample_account: Emulator, tmp_path: Path) -> None:
    report: SyncReport = run_sync(
        sample_account, tmp_path / "store", since=DAY_START, until=DAY_END
    )
    text = report.summary_text()
    assert all(f"  {p.name}: " in text for p in report.parts)
    assert len(report.parts) == 8


def test_an_until_in_the_future_never_moves_the_checkpoint_past_now(
    sample_account: Emulator, tmp_path: Path
) -> None:
    from tests.aws_emulator.fixtures import SAMPLE_NOW

    run_sync(sample_account, tmp_path / "s", until=SAMPLE_NOW + dt.timedelta(days=30))
    (checkpoint,) = Store(tmp_path / "s").read_state()["logs"].values()
    assert checkpoint["synced_until_epoch_ms"] <= SAMPLE_NOW.timestamp() * 1000


#: ``--aws-timeout`` of the misbehaving-operation tests: long enough that the emulator's other
#: answers come in time on a loaded machine (at 2 s, every part failed once under a full CI run),
#: short enough that the silent case stays quick.
ANSWER_TIMEOUT_SECONDS = 5

MISBEHAVING_CASES = [
    # (IAM action, how it misbehaves, the part that fails, what its one warning says)
    (
        "logs:FilterLogEvents",
        "silent",
        PART_LOGS,
        f"no answer within {ANSWER_TIMEOUT_SECONDS} s, 2 attempts",
    ),
    ("logs:FilterLogEvents", "html", PART_LOGS, "an HTML page"),
    ("logs:FilterLogEvents", "hollow", PART_LOGS, "lacks events"),
    ("sagemaker:ListWorkteams", "hollow", PART_TEAMS, "lacks Workteams"),
    ("sagemaker:ListLabelingJobs", "html", PART_JOBS, "an HTML page"),
    ("cognito-idp:ListUsers", "garbage", PART_USERS, "not valid JSON"),
    ("cloudwatch:ListMetrics", "error500", PART_METRICS, "HTTP 500"),
]


@pytest.mark.parametrize(
    ("action", "kind", "part", "fragment"),
    MISBEHAVING_CASES,
    ids=[f"{action}-{kind}" for action, kind, _, _ in MISBEHAVING_CASES],
)
def test_a_misbehaving_operation_fails_its_part_only_and_keeps_what_is_stored(
    sample_account: Emulator, tmp_path: Path, action: str, kind: str, part: str, fragment: str
) -> None:
    run_sync(sample_account, tmp_path / "store", since=DAY_START, until=DAY_END)
    before = store_snapshot(Store(tmp_path / "store"))
    sample_account.set_faults(Faults(misbehaving_actions={action: kind}))

    report = run_sync(
        sample_account,
        tmp_path / "store",
        since=DAY_START,
        until=DAY_END,
        answer_timeout_seconds=ANSWER_TIMEOUT_SECONDS,
    )

    assert sample_account.actions(kind), f"the emulator never answered {action} as {kind}"
    assert report.exit_code == (1 if part == PART_LOGS else 0)
    (warning,) = report.part(part).warnings
    assert fragment in warning
    assert sample_account.endpoint_url in warning
    assert "check" in warning
    assert [p.name for p in report.parts if not p.ok] == [part]
    assert store_snapshot(Store(tmp_path / "store")) == before


def test_progress_says_what_is_awaited(sample_account: Emulator, tmp_path: Path) -> None:
    sample_account.set_faults(Faults(misbehaving_actions={"logs:FilterLogEvents": "silent"}))
    labels: list[str] = []

    run_sync(
        sample_account,
        tmp_path / "store",
        since=DAY_START,
        until=DAY_END,
        answer_timeout_seconds=2,
        progress=lambda done, total, label: labels.append(label),
    )

    host = sample_account.endpoint_url.removeprefix("http://")
    waiting = [label for label in labels if "waiting" in label]
    # Any call slow enough is reported (on a busy machine other parts' calls may be too); each
    # label names the part, the seconds, the host and the operation awaited.
    awaited = [
        re.fullmatch(rf"([a-z ]+): waiting \d+ s for {re.escape(host)} \((\w+)\)", w)
        for w in waiting
    ]
    assert all(awaited), waiting
    parts = {(m.group(1), m.group(2)) for m in awaited if m is not None}
    assert ("worker activity", "FilterLogEvents") in parts, waiting
    assert {part for part, operation in parts if operation == "FilterLogEvents"} == {
        "worker activity"
    }


def test_a_sync_with_nothing_answering_ends_within_its_bound(
    sample_account: Emulator, tmp_path: Path
) -> None:
    silent = {action: "silent" for action, _, _ in DENIED_CASES}
    sample_account.set_faults(Faults(misbehaving_actions=silent))
    timeout = 2.0

    started = time.monotonic()
    report = run_sync(
        sample_account,
        tmp_path / "store",
        since=DAY_START,
        until=DAY_END,
        answer_timeout_seconds=timeout,
    )
    seconds = time.monotonic() - started

    assert report.exit_code == 1
    assert seconds < (RUN_PATIENCE + 1) * timeout + 3, report.summary_text()
    failed = [p for p in report.parts if not p.ok]
    assert [p.name for p in failed][:2] == [PART_LOGS, PART_TEAMS]
    assert all(len(p.warnings) == 1 and "check the network" in p.warnings[0] for p in failed)
    assert any("not tried" in p.warnings[0] for p in failed[2:]), report.summary_text()
