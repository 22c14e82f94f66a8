"""``gt-throughput serve``: the sync schedule in this process, the dashboard in a child.

::

    gt-throughput serve (this process)          the service's life: start, log, stop
      ├─ thread: SyncScheduler.run_forever      sync every interval, under the sync lock
      ├─ thread: DigestScheduler.run_forever    the digest when due ([digest], if configured)
      └─ child:  streamlit run serve_app.py     the dashboard (``analytics.serve``'s command)

The dashboard reads the store the schedule writes; it notices a new store version within
``[dashboard] refresh_seconds`` and shows the new data without a restart. Stopping the service
(SIGTERM from systemd or ECS, Ctrl-C) stops the dashboard and leaves the store as a crash would:
whole (every write is atomic), the next sync resuming from its checkpoint. If the dashboard
exits on its own, so does the service, with a non-zero code for the supervisor to restart it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from types import FrameType

from analytics.cli.arguments import DATA_ENV_VAR
from analytics.errors import UsageError
from analytics.serve import check_can_serve, streamlit_command
from analytics.service.config import ServiceConfig
from analytics.service.schedule import LOG, SyncScheduler

#: How often an open dashboard checks the store version (``[dashboard] refresh_seconds``).
REFRESH_ENV_VAR = "GT_THROUGHPUT_REFRESH_SECONDS"
#: How long the dashboard gets to stop before it is killed.
STOP_SECONDS = 15.0
#: Linux's ``prctl(PR_SET_PDEATHSIG)``: the child gets SIGTERM when this process dies, even
#: by SIGKILL, so no dashboard is left serving without its schedule.
_PR_SET_PDEATHSIG = 1


def _access_setup(config: ServiceConfig, host: str) -> tuple[list[str], dict[str, str]]:
    """What sign-in adds to the dashboard's command and environment, from ``[auth]`` and
    ``[access]``, checked by ``analytics.access``: it refuses an address other than loopback
    without sign-in, reads the secrets, and writes Streamlit's private secrets file."""
    from analytics.access import access_settings, serving_setup

    settings = access_settings(config.auth, config.access, where=f"--config {config.path}")
    arguments, environment = serving_setup(settings, host)
    return list(arguments), dict(environment)


def configure_logging() -> None:
    """One line per event on stderr, times in UTC: what systemd's journal and CloudWatch keep."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter(
        "%(asctime)s.%(msecs)03dZ gt-throughput serve[%(process)d] %(levelname)s: %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    LOG.handlers[:] = [handler]
    LOG.setLevel(logging.INFO)
    LOG.propagate = False


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def run_service(config: ServiceConfig, *, host: str | None = None, port: int | None = None) -> int:
    """Run the service until it is stopped; returns the exit code (0 when stopped on purpose,
    1 when the dashboard exited on its own).

    Raises
    ------
    UsageError
        The address cannot be served (in use, not this machine's), or serving it needs
        sign-in that is not configured.
    """
    host = host or config.dashboard.host
    port = port or config.dashboard.port
    if not 0 < port < 65536:
        raise UsageError(f"--port must be between 1 and 65535 (got {port})")
    sign_in_arguments, sign_in_environment = _access_setup(config, host)
    check_can_serve(host, port)
    configure_logging()
    scheduler = SyncScheduler(config)
    environment = {
        **os.environ,
        **sign_in_environment,
        DATA_ENV_VAR: str(config.store.resolve()),
        REFRESH_ENV_VAR: f"{config.dashboard.refresh_seconds:g}",
    }
    command = streamlit_command(host=host, port=port, also_allowed=config.dashboard.allow_hosts)
    command += sign_in_arguments
    stop = threading.Event()

    def on_signal(number: int, _frame: FrameType | None) -> None:
        LOG.info("stopping (%s)", signal.Signals(number).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    LOG.info(
        "serving the dashboard on http://%s:%d; store %s; sync %s",
        host,
        port,
        config.store,
        f"every {config.schedule.interval_minutes:g} min"
        if config.schedule.enabled
        else "off ([schedule] enabled = false)",
    )
    dashboard = subprocess.Popen(command, env=environment, preexec_fn=_die_with_parent)
    try:
        if config.schedule.enabled:
            # A daemon: stopping the service abandons a sync in flight, as a crash would; the
            # store stays whole and the next sync resumes from its checkpoint.
            threading.Thread(
                target=scheduler.run_forever, args=(stop,), name="gt-sync-schedule", daemon=True
            ).start()
        digest = config.digest
        if digest is not None and digest.enabled:
            from analytics.service.digest_schedule import DigestScheduler

            # A daemon too: a digest in flight when the service stops is sent again at the
            # next start (its due time was not recorded as handled).
            threading.Thread(
                target=DigestScheduler(config.store, digest, config.aws).run_forever,
                args=(stop,),
                name="gt-digest-schedule",
                daemon=True,
            ).start()
        while not stop.wait(0.5):
            if dashboard.poll() is not None:
                LOG.error(
                    "the dashboard stopped on its own (exit code %s): see its output above; "
                    "stopping the service",
                    dashboard.returncode,
                )
                stop.set()
                return 1
        return 0
    finally:
        stop.set()
        _stop_child(dashboard)
        for number, handler in previous.items():
            signal.signal(number, handler)


def _stop_child(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(timeout=STOP_SECONDS)
