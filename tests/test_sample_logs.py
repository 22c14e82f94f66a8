"""The bundled sample is what its committed generator makes, and it stays small."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import SAMPLE_LOGS


@pytest.mark.parametrize(
    "flag",
    [
        "--check",  # regenerating reproduces every sample file exactly
        "--verify",  # the planted cast passes the generator's own re-derivation
    ],
)
def test_the_generator_vouches_for_the_committed_sample(flag: str) -> None:
    completed = subprocess.run(
        [sys.executable, str(SAMPLE_LOGS / "make_sample_logs.py"), flag],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_the_sample_is_under_five_megabytes() -> None:
    size = sum(p.stat().st_size for p in SAMPLE_LOGS.rglob("*") if p.is_file())
    assert size < 5 * 1024 * 1024
