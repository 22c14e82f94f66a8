"""``gt-throughput dashboard`` where it cannot serve: one line naming the argument and the fix,
a non-zero exit, before any server starts (no traceback from deep inside the server)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.support import assert_clean_error, run_cli

#: Checks fail fast: no server may start (it would run until the timeout).
TIMEOUT_SECONDS = 60


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


UNSERVABLE = {
    # id: (--host, the words the one-line error must hold)
    "unresolvable-name": ("bogus.invalid", ("--host bogus.invalid", "--host 127.0.0.1")),
    "address-not-of-this-machine": (
        "192.0.2.1",  # TEST-NET-1 (RFC 5737): never an address of this machine
        ("--host 192.0.2.1 is not an address of this machine", "--host 127.0.0.1"),
    ),
    "not-a-host": ("exa mple..", ("--host exa mple..", "--host 127.0.0.1")),
}


@pytest.mark.parametrize(("host", "needles"), UNSERVABLE.values(), ids=UNSERVABLE)
def test_a_host_it_cannot_listen_on_is_one_line(
    tmp_path: Path, host: str, needles: tuple[str, ...]
) -> None:
    completed = run_cli(
        "dashboard", "--data", tmp_path, "--host", host, "--port", "8599", timeout=TIMEOUT_SECONDS
    )
    assert_clean_error(completed, *needles)
    assert completed.returncode == 2
    assert "serving the dashboard" not in completed.stdout


def test_a_port_in_use_is_one_line(tmp_path: Path, listening_port: int) -> None:
    completed = run_cli(
        "dashboard", "--data", tmp_path, "--port", str(listening_port), timeout=TIMEOUT_SECONDS
    )
    error = assert_clean_error(
        completed, f"--port {listening_port} is already in use", f"--port {listening_port + 1}"
    )
    assert completed.returncode == 2, error


def run_cli_without_privileged_ports(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``run_cli``, as a user may: root is run without the right to bind ports below 1024."""
    if os.geteuid() != 0:
        return run_cli(*args, timeout=TIMEOUT_SECONDS)
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root with no setpriv (util-linux) to drop CAP_NET_BIND_SERVICE")
    return run_cli(
        *args, timeout=TIMEOUT_SECONDS, under=(setpriv, "--bounding-set", "-net_bind_service")
    )


def test_a_privileged_port_as_a_user_is_one_line(tmp_path: Path) -> None:
    completed = run_cli_without_privileged_ports("dashboard", "--data", tmp_path, "--port", "80")
    assert_clean_error(completed, "--port 80", "below 1024", "--port 8501")
    assert completed.returncode == 2


@pytest.mark.parametrize("port", ["0", "65536", "-1"], ids=["zero", "too-big", "negative"])
def test_a_port_out_of_range_is_one_line(tmp_path: Path, port: str) -> None:
    completed = run_cli("dashboard", "--data", tmp_path, "--port", port, timeout=TIMEOUT_SECONDS)
    assert_clean_error(completed, "--port must be between 1 and 65535")
