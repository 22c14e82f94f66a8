"""The bundled sample is what its committed generator makes, and it stays small."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_LOGS
from tests.support.tricky_lines import REJECTED_AS, TRICKY_LINES

GENERATOR = SAMPLE_LOGS / "make_sample_logs.py"


def run_generator(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATOR), *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.parametrize(
    "flag",
    [
        "--check",  # regenerating reproduces every sample file exactly
        "--verify",  # the planted cast passes the generator's own re-derivation
    ],
)
def test_the_generator_vouches_for_the_committed_sample(flag: str) -> None:
    completed = run_generator(flag)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_the_sample_is_under_five_megabytes() -> None:
    size = sum(p.stat().st_size for p in SAMPLE_LOGS.rglob("*") if p.is_file())
    assert size < 5 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "planted"),
    [
        pytest.param("empty event type", True, id="empty-event-type-planted"),
        pytest.param("numeric identity", True, id="numeric-identity-planted"),
        pytest.param("envelope of garbage", True, id="envelope-of-garbage-planted"),
        pytest.param("empty event type", False, id="empty-event-type-not-planted"),
    ],
)
def test_the_verifier_reads_the_logs_as_ingest_does(
    tmp_path: Path, name: str, planted: bool
) -> None:
    """A line the product rejects is garbage to the verifier too, with the same reason."""
    root = tmp_path / "sample_logs"
    shutil.copytree(SAMPLE_LOGS, root, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    log = root / "logs" / "worker-activity-2026-10-26.jsonl"
    lines = log.read_text(encoding="utf-8").count("\n")
    with log.open("a", encoding="utf-8") as out:
        out.write(TRICKY_LINES[name] + "\n")
    if planted:
        truth = json.loads((root / "planted.json").read_text(encoding="utf-8"))
        garbage = {"file": log.relative_to(root).as_posix(), "line": lines + 1}
        truth["garbage"].append({**garbage, "note": "", "reason": REJECTED_AS[name]})
        (root / "planted.json").write_text(json.dumps(truth), encoding="utf-8")
    completed = run_generator("--verify", "--root", str(root))
    assert (completed.returncode == 0) == planted, completed.stdout + completed.stderr
