"""The dashboard served for real, for the browser test and the benchmark: ``gt-throughput
dashboard`` in a subprocess on a free local port, and how a headless Chromium should open it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

#: The repository's root: the served dashboard's working folder.
REPO_ROOT = Path(__file__).resolve().parents[2]

#: How a headless Chromium should open the dashboard (the browser test and the benchmark): without
#: the background-networking flags Chromium calls Google's hosts, which a closed network refuses
#: and which would also count as requests to a host other than the dashboard's.
HEADLESS_CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


#: JavaScript that is true once a page is settled: the script run is over, the session is
#: connected, nothing drawn by the previous run is left, and no element is still a loading
#: placeholder (Streamlit shows skeletons for a moment after a run ends on a new session).
PAGE_SETTLED_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app !== null
        && app.getAttribute('data-test-script-state') === 'notRunning'
        && app.getAttribute('data-test-connection-state') === 'CONNECTED'
        && document.querySelector('[data-stale="true"]') === null
        && document.querySelector('[data-testid="stSkeleton"]') === null;
}"""


class DashboardDidNotStart(RuntimeError):
    """The dashboard process exited or stayed silent; the message carries its output."""


def free_local_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve_dashboard(
    data_dir: Path,
    log: Path,
    *,
    environment: Mapping[str, str] | None = None,
    start_seconds: float = 120.0,
    arguments: Sequence[str] = (),
) -> Iterator[str]:
    """Run ``gt-throughput dashboard`` on ``data_dir`` in a subprocess; yield its URL.

    For the browser test and the benchmark: waits until the server answers its health check
    (or raises ``DashboardDidNotStart`` with the server's output, written to ``log``), and
    stops it on exit (terminate, then kill), every wait bounded. ``arguments`` are added to the
    command (``--config FILE`` for sign-in).
    """
    port = free_local_port()
    command = [sys.executable, "-m", "analytics.cli", "dashboard", "--data", str(data_dir)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--port", str(port), *arguments],
            cwd=REPO_ROOT,
            env=dict(environment) if environment is not None else None,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_seconds
        while True:
            if process.poll() is not None:
                raise DashboardDidNotStart(
                    f"the dashboard exited with code {process.returncode} before answering:\n"
                    + log.read_text(errors="replace")
                )
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise DashboardDidNotStart(
                    f"the dashboard did not answer on {url} within {start_seconds:g} s:\n"
                    + log.read_text(errors="replace")
                )
            time.sleep(0.25)  # a server that is starting: nothing to wait on but time
        yield url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
