"""What every fault test needs: the CLI as a user runs it, bounded in time, and what a clean
failure looks like (one line, no traceback, no "internal error")."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

#: No command of the fault suite may run longer than this unless the test says otherwise.
DEFAULT_TIMEOUT_SECONDS = 120


def run_cli(
    *args: str | Path,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    under: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """``gt-throughput ARGS`` in a child process; a run past ``timeout`` fails the test.

    ``under``: a command the CLI runs under (e.g. ``setpriv`` and its options).
    """
    environment = {**os.environ, **(env or {})}
    environment.pop("GT_THROUGHPUT_DEBUG", None)
    return subprocess.run(
        [*under, sys.executable, "-m", "analytics.cli", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env=environment,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


def assert_no_traceback(completed: subprocess.CompletedProcess[str]) -> None:
    """Nothing a user sees is a traceback or a reported bug."""
    for stream in (completed.stdout, completed.stderr):
        assert "Traceback" not in stream, stream
        assert "internal error" not in stream, stream


def assert_clean_error(completed: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The command failed with a one-line error naming each of ``needles``; returns it."""
    assert_no_traceback(completed)
    assert completed.returncode != 0, (completed.stdout, completed.stderr)
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, completed.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]
