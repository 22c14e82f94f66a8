"""Fixtures shared by every test tier: tiny, and named for what they give."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from analytics.store.store import Store

#: The emulator fixtures (``emulator``, ``sample_account``) for every tier that reaches AWS.
pytest_plugins = ["tests.aws_emulator.fixtures"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_LOGS = REPO_ROOT / "sample_logs"

ACCOUNT = "123456789012"
POOL = "us-east-1_TestPool1"
TEAM_ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:workteam/private-crowd/team-a"
JOB_ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:labeling-job/job-x"


def make_message(**overrides: Any) -> dict[str, Any]:
    """A worker-activity message as Ground Truth writes it; ``None`` removes a field."""
    message: dict[str, Any] = {
        "worker_id": "cd449a289e129409",
        "cognito_user_pool_id": POOL,
        "cognito_sub_id": "11111111-2222-3333-4444-555555555555",
        "task_accepted_time": "Wed Aug 14 16:00:59 UTC 2019",
        "task_submitted_time": "Wed Aug 14 16:01:20 UTC 2019",
        "task_returned_time": "",
        "task_declined_time": "",
        "workteam_arn": TEAM_ARN,
        "labeling_job_arn": JOB_ARN,
        "work_requester_account_id": ACCOUNT,
        "job_reference_code": "ref-1",
        "job_type": "Private",
        "event_type": "TasksSubmitted",
        "event_timestamp": "1565798480",
    }
    message.update(overrides)
    return {k: v for k, v in message.items() if v is not None}


def message_line(**overrides: Any) -> str:
    """One JSON line of a worker-activity message."""
    return json.dumps(make_message(**overrides))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """An empty store in a temporary directory."""
    return Store(tmp_path / "store")


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, bytes | str], Path]:
    """Write a file under a temporary folder and return its path."""

    def write(name: str, content: bytes | str) -> Path:
        path = tmp_path / "input" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return write


@pytest.fixture(scope="session")
def sample_store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample's store, built once per test session (as the dashboard builds it)."""
    from analytics.sample import build_sample_store

    root = tmp_path_factory.mktemp("sample") / "store"
    build_sample_store(root)
    return root
