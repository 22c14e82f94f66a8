"""The dashboard as served: Streamlit's ``st.App`` around ``app.py``, with a start-up step and a
guard against requests for other hosts.

``gt-throughput dashboard`` runs ``streamlit run`` on this file (``analytics/serve.py`` builds the
command). Before the server answers its first request, ``lookahead.warm_up`` reads the store and
computes what the default Overview shows, so the first manager to open the dashboard does not
wait for a million events to be read.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import streamlit as st
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send


@asynccontextmanager
async def _read_the_store_first(_app: Any) -> AsyncIterator[None]:
    from dashboard import lookahead  # imported here: it pulls pandas, plotly and the store

    await asyncio.to_thread(lookahead.start_up)
    try:
        yield
    finally:
        # Streamlit reads its secrets (sign-in) while it serves: the private copy goes at stop.
        secrets = os.environ.get("GT_THROUGHPUT_SECRETS_DIR")
        if secrets and Path(secrets).name.startswith("gt-throughput-auth-"):
            shutil.rmtree(secrets, ignore_errors=True)


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


class RefuseForeignHostsAndOrigins:
    """Refuse, before Streamlit sees it, any request for another host or from another site.

    Streamlit checks ``server.allowedHosts`` on its websocket only, by host name, and lets any
    page on ``localhost`` (another port) open it; its HTTP routes answer any ``Host``. Here every
    HTTP request and websocket handshake must name an allowed host and, when it carries an
    ``Origin``, come from this server itself (``refusal``): a refused websocket gets HTTP 403 to
    its handshake, a refused request a 403 saying why.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Read when Streamlit builds the server, after the command line's settings are in.
        self.allowed = frozenset(
            name.lower() for name in st.config.get_option("server.allowedHosts")
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        for key, value in scope["headers"]:
            headers.setdefault(key.decode("latin-1").lower(), value.decode("latin-1"))
        reason = refusal(headers.get("host"), headers.get("origin"), self.allowed)
        if reason is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
        else:
            await PlainTextResponse(reason, status_code=403)(scope, receive, send)


app = st.App(
    str(Path(__file__).resolve().parent / "app.py"),
    lifespan=_read_the_store_first,
    middleware=[Middleware(RefuseForeignHostsAndOrigins)],
)
