"""The bundled sample store: what `make run` shows with no AWS at all."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.compute as pc
import pytest

from analytics.sample import SAMPLE_LOGS_DIR, build_sample_store
from analytics.store.schema import UNKNOWN_USER_STATUS
from analytics.store.store import Store

PLANTED = json.loads((SAMPLE_LOGS_DIR / "planted.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return build_sample_store(tmp_path_factory.mktemp("sample") / "store")


def test_every_table_is_filled(sample_store: Store) -> None:
    tables = sample_store.summary().tables
    assert all(tables[name] > 0 for name in tables), tables
    assert sample_store.summary().events == PLANTED["counts"]["distinct_events"]


def test_the_deleted_user_is_unknown_and_the_oidc_worker_absent(sample_store: Store) -> None:
    users = {u["sub"]: u for u in sample_store.read_table("users").to_pylist()}
    deleted = PLANTED["cast"]["deleted_cognito_user"]["worker_key"]
    assert users[deleted]["status"] == UNKNOWN_USER_STATUS
    assert PLANTED["cast"]["oidc_worker"]["worker_key"] not in users


def test_members_who_never_worked_are_in_the_memberships(sample_store: Store) -> None:
    members = set(sample_store.read_table("memberships").column("username").to_pylist())
    assert {w["username"] for w in PLANTED["cast"]["never_worked"]} <= members


def test_streaming_backlog_has_a_history(sample_store: Store) -> None:
    backlog = sample_store.read_table("backlog")
    assert set(backlog.column("labeling_job_name").to_pylist()) == {"support-tickets-intent-stream"}
    assert backlog.num_rows == len(
        list((SAMPLE_LOGS_DIR / "aws" / "sqs").glob("get-queue-attributes-*"))
    )
    assert pc.min(backlog.column("oldest_message_age_seconds")).as_py() is not None


def test_building_again_changes_nothing(sample_store: Store) -> None:
    before = {name: sample_store.read_table(name) for name in ("users", "jobs", "backlog")}
    events = sample_store.summary().events
    again = build_sample_store(Path(sample_store.root))
    assert again.summary().events == events
    assert all(again.read_table(name).equals(table) for name, table in before.items())


def test_the_sample_s_job_outputs_and_gold_answers_are_in_the_store(sample_store: Store) -> None:
    truth = PLANTED["job_outputs"]
    responses = sample_store.read_table("responses")
    counts = responses.column("labeling_job_name").value_counts().to_pylist()
    by_job = {c["values"]: c["counts"] for c in counts}
    assert by_job == {
        truth[part]["labeling_job"]: truth[part]["responses"]
        for part in ("classification", "bounding_boxes")
    }
    assert sample_store.load_rejected().num_rows == PLANTED["counts"]["garbage_lines"]
    task_types = set(sample_store.read_table("consolidated").column("task_type").to_pylist())
    assert task_types == {"groundtruth/image-classification", "groundtruth/object-detection"}
    gold = sample_store.read_table("gold")
    assert gold.num_rows == truth["classification"]["gold_objects"]


def test_each_response_of_the_sample_is_a_submitted_log_task(sample_store: Store) -> None:
    """Same worker (sub = cognito_sub_id, or worker_id for the OIDC worker), job and times."""
    columns = ["worker_key", "labeling_job_name", "task_accepted_time", "task_submitted_time"]
    events = sample_store.load_events(columns=[*columns, "event_type"]).to_pylist()
    tasks = {
        (e["worker_key"], e["labeling_job_name"], e["task_submitted_time"].replace(microsecond=0))
        for e in events
        if e["event_type"] == "TasksSubmitted"
    }
    responses = sample_store.read_table("responses").to_pylist()
    unmatched = [
        r
        for r in responses
        if (r["sub"], r["labeling_job_name"], r["submission_time"].replace(microsecond=0))
        not in tasks
    ]
    assert unmatched == []
    planted = {PLANTED["cast"][k]["worker_key"] for k in ("careless_worker", "pause_worker")}
    assert planted <= {r["sub"] for r in responses}
