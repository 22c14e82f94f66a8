"""Serving the dashboard, the CLI's side: the ``streamlit run`` command line with our settings,
the host names it answers to, and the check that it can listen where it is asked to.

This runs in the ``gt-throughput dashboard`` process, which then becomes the Streamlit server
(``os.execve``): it imports neither Streamlit nor the ``dashboard`` package, whose file it only
locates (``served_app``). What runs inside the server (refusing foreign hosts, reading the store
first) is in ``dashboard/serve_app.py``.
"""

from __future__ import annotations

import errno
import importlib.util
import ipaddress
import socket
import sys
from collections.abc import Iterable
from pathlib import Path

from analytics.errors import UsageError

#: The file ``streamlit run`` is given, in the ``dashboard`` package: ``app.py`` wrapped in an
#: ``st.App`` that reads the store before the server answers.
SERVED_APP_FILE = "serve_app.py"

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


def served_app() -> Path:
    """The path of the dashboard's served app, found without importing the ``dashboard`` package
    (which imports Streamlit, pandas and plotly: the server's job, not this process's)."""
    spec = importlib.util.find_spec("dashboard")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder).resolve() / SERVED_APP_FILE
        if path.is_file():
            return path
    raise UsageError(
        "the dashboard package is not installed next to analytics: reinstall "
        "groundtruth-throughput (pip install groundtruth-throughput, or make install)"
    )


def streamlit_command(
    *, host: str = "127.0.0.1", port: int = 8501, also_allowed: Iterable[str] = ()
) -> list[str]:
    """The command that serves the dashboard on ``host:port``.

    Only requests naming an allowed host (``allowed_hosts``) are answered, which defeats DNS
    rebinding: a page of another site whose name was made to point at this machine still sends
    its own name in ``Host``.
    """
    command = [sys.executable, "-m", "streamlit", "run", str(served_app())]
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
