"""Helpers for the tests that ingest files and compare the stores they give."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from analytics.store.store import Store
from tests.conftest import message_line

#: The ``write_file`` fixture (``tests/conftest.py``): a file name and its content -> its path.
WriteFile = Callable[[str, bytes | str], Path]


def day_messages(count: int) -> list[str]:
    """``count`` distinct messages spread over five days (five partitions)."""
    lines = []
    for i in range(count):
        day = 12 + i % 5
        lines.append(
            message_line(
                worker_id=f"{i % 40:016x}",
                cognito_sub_id=f"sub-{i % 40}",
                task_accepted_time=f"Mon Aug {day:02d} 10:{i % 60:02d}:00 UTC 2019",
                task_submitted_time=f"Mon Aug {day:02d} 11:{i % 60:02d}:{i % 50:02d} UTC 2019",
                job_reference_code=f"ref-{i}",
            )
        )
    return lines


def snapshot(store: Store) -> list[tuple]:
    """Every stored event as (key, worker key, time, message), sorted: equal for equal stores."""
    table = store.load_events(columns=["event_key", "worker_key", "event_time", "raw_message"])
    rows = [tuple(r.values()) for r in table.to_pylist()]
    return sorted(rows)
