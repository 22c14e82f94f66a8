"""Endpoints that misbehave for every request, on real sockets on 127.0.0.1.

::

    refused     a port nothing listens on: every connection is refused
    silent      accepts the connection, reads the request, never answers (a black hole)
    html        200 text/html, a login page (a captive portal or a corporate proxy)
    error500    500 with an HTML body for everything (a broken gateway)
    garbage     200 application/x-amz-json-1.1 with a body that is no JSON at all
    hollow      200 application/x-amz-json-1.1 ``{}``: JSON, but none of what was asked
    truncated   200 announcing 4,000 bytes, sending 30, then closing the connection

Tests point ``gt-throughput sync --endpoint-url`` at :func:`misbehaving_endpoint`'s URL.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

KINDS = ("refused", "silent", "html", "error500", "garbage", "hollow", "truncated")

CAPTIVE_PORTAL_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Hotel WiFi</title></head>"
    b"<body><h1>Welcome</h1><p>Accept the terms to continue.</p></body></html>\n"
)


def misbehave(handler: BaseHTTPRequestHandler, kind: str) -> None:
    """Answer the request ``handler`` has read as ``kind`` (any of :data:`KINDS` but ``refused``).

    The emulator's front server calls this too, for the IAM actions a test makes misbehave.
    """
    if kind == "silent":
        handler.close_connection = True
        handler.rfile.read(1)  # returns when the client gives up and closes the connection
    elif kind == "html":
        _answer(handler, 200, "text/html; charset=utf-8", CAPTIVE_PORTAL_PAGE)
    elif kind == "error500":
        _answer(handler, 500, "text/html", b"<html><body>Internal Server Error</body></html>")
    elif kind == "garbage":
        _answer(handler, 200, "application/x-amz-json-1.1", b"\x00\xffnot json at all {{{")
    elif kind == "hollow":
        _answer(handler, 200, "application/x-amz-json-1.1", b"{}")
    elif kind == "truncated":
        handler.send_response(200)
        handler.send_header("Content-Type", "application/x-amz-json-1.1")
        handler.send_header("Content-Length", "4000")
        handler.end_headers()
        handler.wfile.write(b'{"events": [{"message": "abc')
        handler.wfile.flush()
        handler.close_connection = True
        with contextlib.suppress(OSError):
            handler.connection.shutdown(socket.SHUT_RDWR)
    else:
        raise ValueError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")


def _answer(handler: BaseHTTPRequestHandler, status: int, content_type: str, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        misbehave(self, self.server.kind)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    kind: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _silent() -> Iterator[str]:
    """A listening socket whose connections are accepted and never answered."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                connection, _ = listener.accept()
                accepted.append(connection)  # kept open, never read from nor written to

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()


@contextlib.contextmanager
def misbehaving_endpoint(kind: str) -> Iterator[str]:
    """The URL of an endpoint that misbehaves as ``kind`` (see the module) for the block."""
    if kind == "refused":
        yield f"http://127.0.0.1:{_free_port()}"
        return
    if kind == "silent":
        with _silent() as url:
            yield url
        return
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    server = _Server(("127.0.0.1", 0), _Handler)
    server.kind = kind
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
