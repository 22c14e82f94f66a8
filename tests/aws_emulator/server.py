"""The local AWS emulator: moto in server mode behind an HTTP front that fakes and faults.

::

    boto3 client --HTTP--> FrontServer (127.0.0.1:<free port>)
                             ├─ records (service, operation) of every request
                             ├─ faults: AccessDenied for chosen IAM actions, ThrottlingException
                             │  or a dropped connection for a share of requests, all requests
                             │  dropped after a budget (network loss), chosen IAM actions
                             │  misbehaving as in :mod:`tests.aws_emulator.hostile` (silence,
                             │  HTML, 500, garbage), every answer delayed (a slow network)
                             ├─ SageMaker work-team / labeling-job operations -> SageMakerFake
                             └─ everything else -> moto ThreadedMotoServer (127.0.0.1:<free port>)

FilterLogEvents pages are cut at 1 MB (message bytes + 26 per event) as AWS does; moto only
applies the 10,000-event limit.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import random
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from moto.server import ThreadedMotoServer

from analytics.aws import IAM_ACTION_OF_OPERATION
from tests.aws_emulator.hostile import KINDS, misbehave
from tests.aws_emulator.sagemaker_fake import OPERATIONS, SageMakerError, SageMakerFake

PAGE_BYTES_LIMIT = 1_048_576
EVENT_OVERHEAD_BYTES = 26
#: moto's default account.
ACCOUNT_ID = "123456789012"


@dataclass
class Faults:
    """What the front server does wrong, and how often. Decisions are seeded: reproducible."""

    throttle_share: float = 0.0
    drop_share: float = 0.0
    #: IAM actions (``cognito-idp:ListUsers``) answered with AccessDenied.
    denied_actions: set[str] = field(default_factory=set)
    #: IAM actions answered with AccessDenied once this many requests of theirs were answered
    #: (``{"s3:PutObject": 3}``: the fourth upload and every later one fail): a step interrupted.
    denied_after: dict[str, int] = field(default_factory=dict)
    #: After this many requests, every request's connection is dropped (None: never).
    requests_before_outage: int | None = None
    #: IAM actions answered as a :data:`tests.aws_emulator.hostile.KINDS` kind ("silent", "html").
    misbehaving_actions: dict[str, str] = field(default_factory=dict)
    #: Seconds every request waits before it is handled (a slow but working network).
    delay_seconds: float = 0.0
    #: Seconds the requests of these IAM actions wait besides (a slow upload, a fast reader).
    action_delay_seconds: dict[str, float] = field(default_factory=dict)
    #: The most times in a row one request (its retries: the same method, path and body) is
    #: throttled or dropped by the draws above before it is answered. Independent draws alone
    #: would now and then refuse one request as often as a client tries it (at 35%, 0.35 ** 10
    #: per request: about one run in 35 of a sync reading 1,000 objects), which a client's
    #: retries cannot heal and real throttling does not do.
    most_faults_in_a_row: int = 4
    seed: int = 7


@dataclass(frozen=True)
class Call:
    """One request seen by the front server and what it answered."""

    service: str
    operation: str
    outcome: str  # "forwarded", "faked", "throttled", "dropped", "denied", or a misbehaving kind

    @property
    def action(self) -> str:
        return f"{self.service}:{self.operation}"


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    if length < 256:
        return bytes([major << 5 | 24, length])
    return bytes([major << 5 | 25]) + length.to_bytes(2, "big")


def _cbor_map(values: dict[str, str]) -> bytes:
    """A CBOR map of text to text: all an RPCv2 CBOR error body needs."""
    out = bytearray(_cbor_head(5, len(values)))
    for key, value in values.items():
        for text in (key, value):
            data = text.encode()
            out += _cbor_head(3, len(data)) + data
    return bytes(out)


def _service_of(headers: Any) -> str:
    authorization = headers.get("Authorization", "")
    marker = "Credential="
    if marker in authorization:
        scope = authorization.split(marker, 1)[1].split(",", 1)[0].split("/")
        if len(scope) >= 4:
            name = scope[3]
            return "cloudwatch" if name == "monitoring" else name
    return "unknown"


def _s3_operation(method: str, path: str, headers: Any) -> str:
    """The S3 operation of a path-style request (``/bucket`` or ``/bucket/key``)."""
    resource, _, query = path.partition("?")
    has_key = "/" in resource.strip("/")
    if method == "PUT":
        if not has_key:
            return "CreateBucket"
        return "CopyObject" if headers.get("x-amz-copy-source") else "PutObject"
    if method == "POST" and "delete" in parse_qs(query, keep_blank_values=True):
        return "DeleteObjects"
    if method == "DELETE":
        return "DeleteObject" if has_key else "DeleteBucket"
    if method == "HEAD":
        return "HeadObject" if has_key else "HeadBucket"
    if method == "GET":
        return "GetObject" if has_key else "ListObjectsV2"
    return "Unknown"


def _operation_of(path: str, headers: Any, body: bytes) -> tuple[str, str]:
    """(protocol, operation) of a request: json, cbor or query."""
    target = headers.get("X-Amz-Target")
    if target:
        return "json", target.rsplit(".", 1)[-1]
    if "/operation/" in path:
        return "cbor", path.rsplit("/operation/", 1)[1].split("?", 1)[0]
    form = parse_qs(body.decode("utf-8", "replace"))
    return "query", form.get("Action", ["Unknown"])[0]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _FrontServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        service = _service_of(self.headers)
        protocol, operation = _operation_of(self.path, self.headers, body)
        if service == "s3":
            protocol, operation = "rest-xml", _s3_operation(self.command, self.path, self.headers)
        emulator = self.server.emulator
        outcome = emulator.decide(service, operation, f"{self.command} {self.path}", body)
        emulator.record(Call(service, operation, outcome))
        delay = emulator.faults.delay_seconds
        delay += emulator.faults.action_delay_seconds.get(f"{service}:{operation}", 0.0)
        if delay:
            time.sleep(delay)
        if outcome in KINDS:
            misbehave(self, outcome)
            return
        if outcome == "dropped":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if outcome == "throttled":
            code = "Throttling" if protocol == "query" else "ThrottlingException"
            code = "SlowDown" if protocol == "rest-xml" else code
            self._error(protocol, 400, code, "Rate exceeded")
            return
        if outcome == "denied":
            code = "AccessDenied" if protocol in ("query", "rest-xml") else "AccessDeniedException"
            message = (
                f"User: arn:aws:iam::{ACCOUNT_ID}:user/test is not authorized to perform:"
                f" {service}:{operation} because no identity-based policy allows it"
            )
            self._error(protocol, 403 if protocol == "rest-xml" else 400, code, message)
            return
        if service == "sagemaker" and operation in OPERATIONS:
            self._sagemaker(operation, body)
            return
        status, headers, payload = emulator.forward(self.command, self.path, self.headers, body)
        if service == "logs" and operation == "FilterLogEvents" and status == 200:
            payload = _cap_filter_page(payload, json.loads(body or b"{}"))
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        self.send_response(status)
        for key, value in headers:
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

    def _send(self, status: int, content_type: str, payload: bytes, extra: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for key, value in extra.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, protocol: str, status: int, code: str, message: str) -> None:
        if protocol == "rest-xml":
            payload = (
                f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
                f"<Message>{message}</Message><RequestId>{uuid.uuid4()}</RequestId></Error>"
            ).encode()
            self._send(status, "application/xml", payload, {})
        elif protocol == "query":
            payload = (
                "<ErrorResponse><Error><Type>Sender</Type>"
                f"<Code>{code}</Code><Message>{message}</Message></Error>"
                f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
            ).encode()
            self._send(status, "text/xml", payload, {})
        elif protocol == "cbor":
            payload = _cbor_map({"__type": code, "message": message})
            self._send(status, "application/cbor", payload, {"smithy-protocol": "rpc-v2-cbor"})
        else:
            payload = json.dumps({"__type": code, "message": message}).encode()
            self._send(status, "application/x-amz-json-1.1", payload, {"x-amzn-ErrorType": code})

    def _sagemaker(self, operation: str, body: bytes) -> None:
        try:
            params = json.loads(body or b"{}")
            answer = self.server.emulator.sagemaker.handle(operation, params)
        except SageMakerError as exc:
            payload = json.dumps({"__type": exc.code, "Message": exc.message}).encode()
            self._send(400, "application/x-amz-json-1.1", payload, {})
            return
        self._send(200, "application/x-amz-json-1.1", json.dumps(answer).encode(), {})


def _cap_filter_page(payload: bytes, request: dict[str, Any]) -> bytes:
    """Cut a FilterLogEvents page at 1 MB as AWS does, continuing with moto's token format."""
    page = json.loads(payload)
    events = page.get("events", [])
    size = 0
    for index, event in enumerate(events):
        size += len(event["message"].encode()) + EVENT_OVERHEAD_BYTES
        if size > PAGE_BYTES_LIMIT and index > 0:
            kept = events[:index]
            last = kept[-1]
            page["events"] = kept
            page["nextToken"] = (
                f"{request['logGroupName']}@{last['logStreamName']}@{last['eventId']}"
            )
            return json.dumps(page).encode()
    return payload


class _FrontServer(ThreadingHTTPServer):
    daemon_threads = True
    emulator: Emulator


class Emulator:
    """moto, the SageMaker fake and the faulting front; clients use :attr:`endpoint_url`."""

    def __init__(self) -> None:
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.sagemaker = SageMakerFake()
        self.faults = Faults()
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._random = random.Random(self.faults.seed)
        #: How many times in a row each request (method and path, body digest) was faulted.
        self._faulted_in_a_row: dict[tuple[str, bytes], int] = {}
        self._front: _FrontServer | None = None
        self._moto_address = ("127.0.0.1", 0)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.moto.start()
        self._moto_address = self.moto.get_host_and_port()
        self._front = _FrontServer(("127.0.0.1", 0), _Handler)
        self._front.emulator = self
        threading.Thread(target=self._front.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._front is not None:
            self._front.shutdown()
            self._front.server_close()
        self.moto.stop()

    @property
    def endpoint_url(self) -> str:
        assert self._front is not None, "start() first"
        host, port = self._front.server_address[:2]
        return f"http://{host!s}:{port}"

    def reset(self) -> None:
        """Forget every resource, fault and recorded call."""
        connection = http.client.HTTPConnection(*self._moto_address, timeout=30)
        connection.request("POST", "/moto-api/reset")
        connection.getresponse().read()
        connection.close()
        self.sagemaker.reset()
        self.set_faults(Faults())
        with self._lock:
            self.calls.clear()

    def set_faults(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults
            self._random = random.Random(faults.seed)
            self._faulted_in_a_row = {}

    # ------------------------------------------------------------------ requests
    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def decide(self, service: str, operation: str, target: str, body: bytes) -> str:
        """What the front does with a request for ``service:operation`` (``target``: its method
        and path; retries of a request repeat both and ``body``)."""
        with self._lock:
            faults = self.faults
            budget = faults.requests_before_outage
            if budget is not None and len(self.calls) >= budget:
                return "dropped"
            action = f"{service}:{operation}"
            iam_action = IAM_ACTION_OF_OPERATION.get(action, action)
            if action in faults.denied_actions or iam_action in faults.denied_actions:
                return "denied"
            allowed = faults.denied_after.get(f"{service}:{operation}")
            if allowed is not None:
                done = sum(1 for c in self.calls if c.action == f"{service}:{operation}")
                if done >= allowed:
                    return "denied"
            if f"{service}:{operation}" in faults.misbehaving_actions:
                return faults.misbehaving_actions[f"{service}:{operation}"]
            draw = self._random.random()
            request = (target, hashlib.sha256(body).digest())
            faulted = self._faulted_in_a_row.pop(request, 0)
            if faulted < faults.most_faults_in_a_row:
                fault = "throttled" if draw < faults.throttle_share else None
                if fault is None and draw < faults.throttle_share + faults.drop_share:
                    fault = "dropped"
                if fault is not None:
                    self._faulted_in_a_row[request] = faulted + 1
                    return fault
        return "faked" if service == "sagemaker" and operation in OPERATIONS else "forwarded"

    def forward(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self._moto_address, timeout=60)
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() != "connection"}
            connection.request(method, path, body=body, headers=forwarded)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def actions(self, outcome: str | None = None) -> list[str]:
        """The IAM actions of the recorded calls (optionally of one outcome)."""
        with self._lock:
            return [c.action for c in self.calls if outcome is None or c.outcome == outcome]

    def count(self, action: str) -> int:
        """How many requests for ``action`` reached the emulator (retries included)."""
        return self.actions().count(action)


@contextlib.contextmanager
def running_emulator() -> Iterator[Emulator]:
    """An emulator started for the block and stopped after it."""
    emulator = Emulator()
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()
