"""Every number ships with its definition; docs/metrics.md is generated and up to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.metrics.definitions import (
    DEFINITIONS,
    METRICS_DOC,
    definitions_frame,
    help_for,
    main,
    render_markdown,
)
from analytics.metrics.jobs_teams import JOB_COLUMNS, TEAM_COLUMNS
from analytics.metrics.outcomes import TASK_COLUMNS
from analytics.metrics.workers import WORKER_COLUMNS

REPOSITORY = Path(__file__).resolve().parents[2]

COLUMN_SETS = [
    pytest.param(WORKER_COLUMNS, id="workers"),
    pytest.param(JOB_COLUMNS, id="jobs"),
    pytest.param(TEAM_COLUMNS, id="teams"),
    pytest.param(TASK_COLUMNS, id="tasks"),
]


@pytest.mark.parametrize("columns", COLUMN_SETS)
def test_every_exported_column_is_defined(columns: tuple[str, ...]) -> None:
    missing = [name for name in columns if name not in DEFINITIONS]
    assert missing == []


def test_help_and_frame() -> None:
    assert "tasks_returned / (tasks_submitted + tasks_returned)" in help_for("return_rate")
    assert help_for("return_rate").endswith("Unit: ratio.")
    assert help_for("no_such_column") == ""
    frame = definitions_frame(["worker_key", "unknown"])
    assert frame["name"].tolist() == ["worker_key", "unknown"]
    assert list(frame.columns) == ["name", "label", "unit", "definition"]


def test_docs_metrics_md_is_up_to_date() -> None:
    written = (REPOSITORY / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert written == render_markdown(), "run: python -m analytics.metrics.definitions"


def test_the_generator_writes_the_repository_docs_by_default() -> None:
    assert METRICS_DOC == REPOSITORY / "docs" / "metrics.md"


def test_the_generator_writes_the_path_given(tmp_path: Path) -> None:
    target = tmp_path / "out" / "metrics.md"
    assert main([str(target)]) == 0
    assert target.read_text(encoding="utf-8") == render_markdown()
