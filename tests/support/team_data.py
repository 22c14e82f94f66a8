"""Worker-activity lines written by hand, and the ``TeamData`` they make, for metric tests.

``line("w", "10:00", "10:01")`` is one submitted task of worker ``w`` on ``DAY``, accepted at 10:00
and submitted at 10:01 UTC; ``data_of(*lines)`` parses them as ingest does and builds the window.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from analytics.dataset import TeamData, team_data_from_tables
from analytics.ingest.parse import parse_bytes
from analytics.store.schema import OUTCOME_TIME_FIELDS

DAY = "2026-11-02"  # a Monday
TEAM_ARN = "arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/{}"
JOB_ARN = "arn:aws:sagemaker:us-east-1:123456789012:labeling-job/{}"


def at(clock: str, day: str = DAY) -> str:
    """``HH:MM[:SS]`` on ``day`` as an ISO UTC time."""
    return f"{day}T{clock if clock.count(':') == 2 else clock + ':00'}Z"


def line(
    worker: str,
    accepted: str | None,
    outcome: str | None,
    kind: str = "TasksSubmitted",
    *,
    job: str = "job-a",
    team: str = "team-a",
    day: str = DAY,
) -> str:
    """One worker-activity message; ``accepted``/``outcome`` are clock times on ``day``."""
    message: dict[str, Any] = {
        "worker_id": f"id-{worker}",
        "cognito_user_pool_id": "us-east-1_Pool",
        "cognito_sub_id": worker,
        "task_accepted_time": at(accepted, day) if accepted else "",
        "task_submitted_time": "",
        "task_returned_time": "",
        "task_declined_time": "",
        "workteam_arn": TEAM_ARN.format(team),
        "labeling_job_arn": JOB_ARN.format(job),
        "event_type": kind,
    }
    if kind in OUTCOME_TIME_FIELDS and outcome:
        message[OUTCOME_TIME_FIELDS[kind]] = at(outcome, day)
        epoch = pd.Timestamp(at(outcome, day)).timestamp()
        message["event_timestamp"] = str(int(epoch))
    return json.dumps(message)


def events_of(*lines: str) -> pa.Table:
    """The events of ``lines``, parsed as ingest does (every line must be valid)."""
    result = parse_bytes("\n".join(lines).encode(), "test.jsonl")
    assert result.rejected.num_rows == 0
    return result.events


def data_of(*lines: str, **kwargs: Any) -> TeamData:
    """The window ``lines`` make (``kwargs`` as for ``team_data_from_tables``)."""
    return team_data_from_tables(events_of(*lines), **kwargs)


def row(frame: pd.DataFrame, key: str, column: str = "worker_key") -> pd.Series:
    """The one row of ``frame`` whose ``column`` is ``key``."""
    found = frame[frame[column] == key]
    assert len(found) == 1, f"{key} appears {len(found)} times"
    return found.iloc[0]


def same(value: Any, expected: Any) -> bool:
    """``value == expected``, with NaN equal to missing and floats compared with tolerance."""
    if isinstance(expected, float) and math.isnan(expected):
        return value is None or pd.isna(value)
    if isinstance(expected, float):
        return bool(np.isclose(value, expected))
    return bool(value == expected)


def membership(sub: str, team: str = "team-a", username: str | None = None) -> dict[str, Any]:
    """One row of the ``memberships`` table: ``sub`` is a member of ``team``."""
    return {
        "workteam_name": team,
        "workteam_arn": TEAM_ARN.format(team),
        "user_pool_id": "us-east-1_Pool",
        "user_group": f"{team}-group",
        "sub": sub,
        "username": username or f"user-{sub}",
        "email": f"{sub}@example.com",
    }
