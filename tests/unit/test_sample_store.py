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
