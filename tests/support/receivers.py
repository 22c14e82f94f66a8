"""Real receivers on 127.0.0.1 for the digest tests: a webhook (``http.server`` in a thread) that
answers as scripted, an SMTP server (``aiosmtpd``), a port where nothing listens; and the sample
store with hostile names in its users and memberships."""

from __future__ import annotations

import contextlib
import email
import email.policy
import shutil
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow as pa
import trustme

from analytics.store.store import Store
from tests.support.hostile_identities import HOSTILE_TEXTS

#: Names a chat or a mail client would misread, besides the spreadsheet tricks.
MARKUP_NAMES = {
    "html": "<b>bold</b><script>alert(1)</script><img src=x onerror=alert(2)>",
    "markdown": "*bold* _italic_ ~strike~ `code` [link](http://evil.example/x)",
    "slack": "<!channel> <!here> <@U0BOSS> <http://evil.example|click me>",
    "entities": "&amp; &lt;b&gt; Tom & Jerry",
}
#: The sample window every digest test reads (it holds every kind of alert).
SINCE, UNTIL = "2026-11-01T00:00Z", "2026-11-08T00:00Z"


# --------------------------------------------------------------------------- webhook
@dataclass
class Webhook:
    """An HTTP server answering POSTs with ``script``'s next entry (an HTTP status, or
    ``"hang"``: no answer for ``hang_seconds``), then 200; every request is recorded."""

    script: list[int | str] = field(default_factory=list)
    hang_seconds: float = 30.0
    requests: list[tuple[str, bytes, int | str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    answer = receiver.script.pop(0) if receiver.script else 200
                    receiver.requests.append((self.path, body, answer))
                if answer == "hang":
                    time.sleep(receiver.hang_seconds)
                    return
                assert isinstance(answer, int)
                self.send_response(answer)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        """The URL to post to; its path stands for a webhook's secret."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/SECRETTOKEN"

    def delivered(self) -> list[bytes]:
        """The bodies answered with a 2xx."""
        return [body for _, body, answer in self.requests if answer in (200, 201, 204)]


@contextlib.contextmanager
def running_webhook(*script: int | str, hang_seconds: float = 30.0) -> Iterator[Webhook]:
    """A ``Webhook`` serving for the block."""
    hook = Webhook(list(script), hang_seconds)
    thread = threading.Thread(target=hook.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        hook.server.shutdown()
        hook.server.server_close()


def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (a port bound, then closed)."""
    return f"http://127.0.0.1:{free_port()}/services/T000/B000/SECRETTOKEN"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --------------------------------------------------------------------------- SMTP
@dataclass
class Mailbox:
    """What the SMTP server received: envelope recipients and the parsed message."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    #: When set, the server's answer to every RCPT TO (e.g. "550 5.1.1 no such user").
    reject: str | None = None
    #: Every AUTH the server was sent: (user, password, whether the server took it).
    logins: list[tuple[str, str, bool]] = field(default_factory=list)
    #: Whether the session was on TLS when each message arrived.
    over_tls: list[bool] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.reject is not None:
            return self.reject
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        self.over_tls.append(session.ssl is not None)
        return "250 OK"


@contextlib.contextmanager
def running_smtp(
    reject: str | None = None,
    *,
    certificate: trustme.LeafCert | None = None,
    logins: Mapping[str, str] | None = None,
) -> Iterator[tuple[int, Mailbox]]:
    """An ``aiosmtpd`` server on 127.0.0.1 for the block: (its port, its mailbox); with
    ``reject``, its answer to every recipient. With ``certificate`` it offers STARTTLS and
    refuses mail before it (530); with ``logins`` (user -> password) it takes AUTH on TLS only,
    refusing mail before a login and any other user or password (535)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    box = Mailbox(reject=reject)
    known = dict(logins or {})

    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        user, password = data.login.decode(), data.password.decode()
        taken = user in known and known[user] == password
        box.logins.append((user, password, taken))
        return AuthResult(success=taken, handled=False)  # not handled: the server answers 535

    options: dict[str, Any] = {}
    if certificate is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(context)
        options.update(tls_context=context, require_starttls=True)
    if logins is not None:
        options.update(authenticator=authenticate, auth_required=True, auth_require_tls=True)
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, ready_timeout=30, **options)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()


# --------------------------------------------------------------------------- the store
def hostile_texts() -> list[str]:
    """Every hostile name: the identity table's, then the markup ones."""
    return [*HOSTILE_TEXTS.values(), *MARKUP_NAMES.values()]


def hostile_store(sample: Path, root: Path) -> Store:
    """A copy of the sample store ``sample`` in ``root``, each person's username and email a
    hostile text (the long and empty ones left aside: a name must be findable; the subs are
    kept)."""
    shutil.copytree(sample, root)
    store = Store(root)
    texts = [t for t in hostile_texts() if 3 <= len(t) <= 200]
    users = store.read_table("users")
    subs = users.column("sub").to_pylist()
    names = {sub: texts[index % len(texts)] for index, sub in enumerate(sorted(subs))}
    for table_name in ("users", "memberships"):
        table = store.read_table(table_name)
        renamed = [names.get(sub, f"member {sub}") for sub in table.column("sub").to_pylist()]
        for column in ("username", "email"):
            position = table.schema.get_field_index(column)
            table = table.set_column(position, column, pa.array(renamed, pa.string()))
        store.replace_table(table_name, table)
    return store


def copy_store(source: Path, target: Path) -> Path:
    """A copy of the store folder ``source`` at ``target`` (each test its own state)."""
    shutil.copytree(source, target)
    return target


def identities(store: Store) -> set[str]:
    """Every name, email, sub and worker id the store holds that a digest must not show when
    pseudonymised (short ones such as ``+1`` aside: they occur in numbers)."""
    found: set[str] = set()
    for table_name, columns in (
        ("users", ("sub", "username", "email", "name")),
        ("memberships", ("sub", "username", "email")),
    ):
        table = store.read_table(table_name)
        for column in columns:
            found.update(v for v in table.column(column).to_pylist() if isinstance(v, str))
    events = store.load_events(columns=["worker_id", "cognito_sub_id", "worker_key"])
    for column in events.column_names:
        found.update(v for v in events.column(column).unique().to_pylist() if isinstance(v, str))
    return {value for value in found if len(value) >= 5}
