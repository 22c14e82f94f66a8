"""What the service tests share: a config file, fresh worker-activity events for the emulator,
and ``gt-throughput serve`` run for real in a subprocess, every wait bounded."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from analytics.ingest.times import format_java_time
from tests.aws_emulator.seed import LogRecord
from tests.conftest import REPO_ROOT, message_line

#: How long a served dashboard may take to answer its health check on a loaded machine.
START_SECONDS = 120.0


def write_config(
    path: Path,
    *,
    store: Path,
    endpoint_url: str | None = None,
    interval_minutes: float = 15,
    max_backoff_minutes: float | None = None,
    port: int = 8501,
    refresh_seconds: float = 30,
    timeout_seconds: float = 5,
    extra: str = "",
) -> Path:
    """A service configuration file as a person would write it."""
    lines = [
        "[store]",
        f'path = "{store}"',
        "[aws]",
        'region = "us-east-1"',
        f"timeout_seconds = {timeout_seconds}",
    ]
    if endpoint_url is not None:
        lines.append(f'endpoint_url = "{endpoint_url}"')
    lines += ["[schedule]", f"interval_minutes = {interval_minutes}"]
    if max_backoff_minutes is not None:
        lines.append(f"max_backoff_minutes = {max_backoff_minutes}")
    lines += [
        "[dashboard]",
        'host = "127.0.0.1"',
        f"port = {port}",
        f"refresh_seconds = {refresh_seconds}",
    ]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def fresh_records(count: int, end: dt.datetime, *, job: str = "job-x") -> list[LogRecord]:
    """``count`` submitted tasks of distinct workers, the last one a minute before ``end``
    (inside the default first sync's 14 days), each a distinct log message."""
    records = []
    for index in range(count):
        submitted = end - dt.timedelta(minutes=1 + index)
        accepted = submitted - dt.timedelta(seconds=40)
        message = message_line(
            worker_id=f"fresh-worker-{job}-{index}",
            cognito_sub_id=None,
            cognito_user_pool_id=None,
            task_accepted_time=format_java_time(accepted),
            task_submitted_time=format_java_time(submitted),
            labeling_job_arn=f"arn:aws:sagemaker:us-east-1:123456789012:labeling-job/{job}",
            event_timestamp=str(int(submitted.timestamp())),
        )
        records.append(LogRecord(int(submitted.timestamp() * 1000), message))
    return records


def wait_until(
    condition: Callable[[], object],
    seconds: float,
    what: str,
    explain: Callable[[], str] | None = None,
) -> None:
    """Poll ``condition`` every 0.2 s until it is true; fail naming ``what`` after ``seconds``,
    with what ``explain`` tells then (a page's text, a log)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            detail = f"\n{explain()}" if explain is not None else ""
            raise AssertionError(f"{what}: not within {seconds:g} s{detail}")
        time.sleep(0.2)


def page_text(page: Page) -> str:
    """What a page shows now, for a failing assertion's message."""
    try:
        return page.inner_text("body", timeout=5_000)
    except PlaywrightError as exc:
        return f"(page text unavailable: {exc})"


@dataclass
class Served:
    """A running ``gt-throughput serve``: its process, URL and log file."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def runs(self) -> list[tuple[float, float]]:
        """Each sync this process ran, as (start, end) epoch seconds from its log."""
        return sync_runs(self.output())


_LOG_TIME = r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z"


def sync_runs(log_text: str) -> list[tuple[float, float]]:
    """(start, end) of each finished sync in a serve log, epoch seconds."""
    runs, started = [], None
    for line in log_text.splitlines():
        found = re.match(_LOG_TIME + r" .*?: sync (started|finished|failed)", line)
        if found is None:
            continue
        moment = dt.datetime.fromisoformat(found[1]).replace(tzinfo=dt.UTC).timestamp()
        if found[2] == "started":
            started = moment
        elif started is not None:
            runs.append((started, moment))
            started = None
    return runs


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def serving(
    config: Path,
    port: int,
    log: Path,
    *,
    environment: Mapping[str, str] | None = None,
    wait_for_dashboard: bool = True,
    command: list[str] | None = None,
) -> Iterator[Served]:
    """``gt-throughput serve --config CONFIG`` (or ``command``) in a subprocess until the block
    ends (SIGTERM, then SIGKILL), waiting for its dashboard's health check unless told not to."""
    env = {**os.environ, **(environment or {})}
    env.pop("GT_THROUGHPUT_DEBUG", None)
    with log.open("wb") as output:
        process = subprocess.Popen(
            command or [sys.executable, "-m", "analytics.cli", "serve", "--config", str(config)],
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    served = Served(process, f"http://127.0.0.1:{port}", log)
    try:
        if wait_for_dashboard:
            wait_until(
                lambda: process.poll() is not None or _healthy(served.url),
                START_SECONDS,
                "the served dashboard answering",
            )
            assert process.poll() is None, served.output()
        yield served
    finally:
        stop(process)


_HOLD_SYNC_LOCK = """
import sys, time
from pathlib import Path
from analytics.service.lock import sync_lock
with sync_lock(Path(sys.argv[1])) as taken:
    print("taken" if taken else "busy", flush=True)
    time.sleep(120)
"""


@contextmanager
def holding_sync_lock(store: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding ``store``'s sync lock for the block (killed with SIGKILL after,
    as a crash would end it)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_SYNC_LOCK, str(store)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "taken"
        yield holder
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        if holder.stdout is not None:
            holder.stdout.close()


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM ``process``, SIGKILL it after 20 s; returns its exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
    return process.returncode
