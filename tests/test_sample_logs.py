"""The bundled sample is what its committed generator makes, and it stays small."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import SAMPLE_LOGS


def test_the_generator_reproduces_every_sample_file_exactly() -> None:
    completed = subprocess.run(
        [sys.executable, str(SAMPLE_LOGS / "make_sample_logs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_the_planted_cast_passes_the_generators_own_verification() -> None:
    completed = subprocess.run(
        [sys.executable, str(SAMPLE_LOGS / "make_sample_logs.py"), "--verify"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_the_sample_is_under_five_megabytes() -> None:
    size = sum(p.stat().st_size for p in SAMPLE_LOGS.rglob("*") if p.is_file())
    assert size < 5 * 1024 * 1024
