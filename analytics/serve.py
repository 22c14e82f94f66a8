"""How the dashboard is started: the ``streamlit run`` command line with our settings.

Kept apart from ``app.py`` so the CLI can build the command without importing Streamlit.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from analytics.errors import UsageError

APP = Path(__file__).resolve().parent / "app.py"
#: What ``streamlit run`` is given: ``APP`` wrapped in an ``st.App`` that reads the store before
#: the server answers (see ``serve_app``).
SERVED_APP = APP.with_name("serve_app.py")

#: Settings that make the dashboard private and quiet: no usage statistics, no browser opened by
#: the server, no file watching in production, and the viewer toolbar only. Cross-origin access
#: is limited (CORS and XSRF protection on; ``server.allowedHosts`` is set per address by
#: ``streamlit_command``), and a failing page shows no error details: no traceback, file path or
#: exception text reaches a viewer (``none``: Streamlit's generic message only).
SERVER_SETTINGS = {
    "server.headless": "true",
    "browser.gatherUsageStats": "false",
    "server.fileWatcherType": "none",
    "global.developmentMode": "false",
    "client.toolbarMode": "viewer",
    "theme.base": "light",
    "server.enableCORS": "true",
    "server.enableXsrfProtection": "true",
    "client.showErrorDetails": "none",
}
#: The names of this machine when the dashboard is bound to loopback.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


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


def streamlit_command(
    *, host: str = "127.0.0.1", port: int = 8501, also_allowed: Iterable[str] = ()
) -> list[str]:
    """The command that serves the dashboard on ``host:port``.

    Only requests naming an allowed host (``allowed_hosts``) are answered, which defeats DNS
    rebinding: a page of another site whose name was made to point at this machine still sends
    its own name in ``Host``.
    """
    command = [sys.executable, "-m", "streamlit", "run", str(SERVED_APP)]
    settings = {**SERVER_SETTINGS, "server.address": host, "server.port": str(port)}
    for name, value in settings.items():
        command += [f"--{name}", value]
    for name in allowed_hosts(host, also_allowed):
        command += ["--server.allowedHosts", name]
    return command


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _addresses(name: str) -> set[str]:
    try:
        return {str(info[4][0]) for info in socket.getaddrinfo(name, None)}
    except (OSError, UnicodeError):
        return set()


def allowed_hosts(host: str, also_allowed: Iterable[str] = ()) -> list[str]:
    """The host names a request may use to reach a dashboard bound to ``host``.

    Bound to loopback: this machine's loopback names only. Bound to every address (``0.0.0.0``,
    ``::``): those, plus this machine's name, full name and their addresses. Bound to one
    address or name: that one and its addresses. ``also_allowed`` adds names (``--allow-host``:
    a proxy's name, a DNS alias).
    """
    names = {host.lower()}
    addresses = _addresses(host)
    if host in ("0.0.0.0", "::", ""):
        names |= set(LOOPBACK_NAMES)
        for own in {socket.gethostname(), socket.getfqdn()}:
            names |= {own.lower()} | _addresses(own)
    elif addresses and all(_is_loopback(address) for address in addresses):
        names |= set(LOOPBACK_NAMES)
    names |= addresses | {name.lower() for name in also_allowed}
    return sorted(names - {"", "0.0.0.0", "::"})


def refusal(host: str | None, origin: str | None, allowed: Iterable[str]) -> str | None:
    """Why a request with these ``Host`` and ``Origin`` headers is refused, or ``None``.

    ``Host`` must name an allowed host (any port: the one the client connected to). An
    ``Origin``, sent by browsers on cross-origin requests and every websocket, must be this very
    server (``http(s)://`` and the same ``host:port``): a page of another site, or of another
    server on this machine, is refused.
    """
    try:
        name = urlsplit(f"//{host}").hostname if host else None
    except ValueError:
        name = None
    if name is None or name not in set(allowed):
        return (
            f"this dashboard does not answer to the host {host!r}; if that name is this "
            "machine's, restart the dashboard with --allow-host NAME"
        )
    if origin is None:
        return None
    try:
        parts = urlsplit(origin)
    except ValueError:
        parts = urlsplit("")
    if parts.scheme in ("http", "https") and parts.netloc.lower() == str(host).lower():
        return None
    return f"requests from pages of {origin!r} are refused: open the dashboard itself"


def check_can_serve(host: str, port: int) -> None:
    """Raise ``UsageError`` (one line naming the argument and the fix) unless ``host:port`` can
    be listened on now: the name resolves, is this machine's, and the port is free and allowed.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(
            f"--host {host} cannot be resolved ({reason}): give a name or address of this "
            "machine, e.g. --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (the network)"
        ) from exc
    family, kind, protocol, _, address = infos[0]
    with socket.socket(family, kind, protocol) as probe:
        # As the server will: a port whose last connections are closing (TIME_WAIT) is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise UsageError(_bind_error(host, port, exc)) from exc


def _bind_error(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"--port {port} is already in use on {host}: stop what listens there or choose "
            f"another port, e.g. --port {port + 1 if port < 65535 else 8501}"
        )
    if exc.errno == errno.EACCES:
        return (
            f"--port {port} may not be used by this user (ports below 1024 need administrator "
            "rights): choose a port from 1024 to 65535, e.g. --port 8501"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"--host {host} is not an address of this machine: use one of its addresses, "
            "e.g. --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (the network)"
        )
    return f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc})"


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
) -> Iterator[str]:
    """Run ``gt-throughput dashboard`` on ``data_dir`` in a subprocess; yield its URL.

    For the browser test and the benchmark: waits until the server answers its health check
    (or raises ``DashboardDidNotStart`` with the server's output, written to ``log``), and
    stops it on exit (terminate, then kill), every wait bounded.
    """
    port = free_local_port()
    command = [sys.executable, "-m", "analytics.cli", "dashboard", "--data", str(data_dir)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=APP.parent.parent,
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
