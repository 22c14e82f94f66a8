"""The one place that builds AWS clients, and the one place botocore errors become ours.

Every client comes from :func:`make_client` with the same botocore ``Config``: retry mode
``standard`` (botocore retries throttling, 5xx and dropped connections with jittered exponential
backoff; we never loop by hand), bounded connect and read timeouts. Credentials come only from
boto3's standard chain (profile, environment, SSO, instance or container role) through the
``boto3.Session`` given; nothing here reads or writes them.

An :class:`EndpointWatch` hooks into every client's botocore events to bound how long a run waits
for endpoints that do not answer (a black hole, a dead VPC endpoint, a network gone mid-run) and to
refuse answers that are not AWS's (a captive portal's HTML page, a cut-off body): botocore still
decides every retry, the watch only stops retrying when time is up.

:func:`converting_errors` wraps every call into AWS and turns botocore's exceptions into the tree
drawn in :mod:`analytics.errors`, with a message a manager can act on: an ``AccessDenied`` names
the IAM action to grant, a throttled call says retries were spent, an endpoint that does not answer
or answers nonsense is named with what to check (network, endpoint, proxy).
"""

from __future__ import annotations

import contextlib
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.exceptions
import botocore.parsers
import orjson
from botocore.config import Config

from analytics.errors import (
    AccessDeniedError,
    AwsError,
    CredentialsError,
    NotFoundError,
    ServiceUnavailableError,
    ThrottledError,
    UsageError,
)
from analytics.text import escape_controls

#: How many times botocore tries one call (first attempt included) before giving up. FilterLogEvents
#: allows only 5 requests per second per account and region, so throttling is expected: be patient.
MAX_ATTEMPTS = 10
#: ``--aws-timeout``: how long one attempt waits for an answer (botocore's read timeout). A
#: FilterLogEvents page can legitimately take several seconds (the service scans before it answers,
#: and cuts a scan short with an empty page and a ``nextToken`` rather than making it wait long), so
#: 30 s only ever fires on an endpoint that is not answering.
DEFAULT_ANSWER_TIMEOUT_SECONDS = 30.0
#: A TCP connection is set up in milliseconds; 10 s is ample on any network that works.
CONNECT_TIMEOUT_SECONDS = 10.0
#: How many answer timeouts one call may spend, retries included, on an endpoint that has answered
#: before in this run (one that has not gets one): two attempts that time out, then give up.
CALL_PATIENCE = 2.5
#: How many answer timeouts a run may go without any endpoint answering before it stops calling.
RUN_PATIENCE = 2.5
#: botocore's standard retry mode waits ``rand(0, 1) * min(0.05 * 2 ** (attempt - 1), 20)`` s
#: before retrying a failure that is not throttling (``retries.standard.ExponentialBackoff``).
_BACKOFF_BASE_SECONDS = 0.05
_BACKOFF_MAX_SECONDS = 20.0

#: The botocore configuration of every client. ``standard`` rather than ``adaptive``: adaptive adds
#: a client-side rate limiter that only helps when many processes share one quota.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=DEFAULT_ANSWER_TIMEOUT_SECONDS,
    user_agent_extra="groundtruth-throughput",
)

#: The members of each answer our code reads with ``answer["X"]``, as paths: ``A.B`` is member B
#: of member A, ``A[].B`` is member B of every entry of list A (if A is there). botocore's models
#: mark few output members required, so an answer without them would fail deep in our code with a
#: KeyError, or for a list that is always sent (``events``, ``Workteams``) silently read as "none"
#: and replace stored rows with nothing: such an answer is refused here, naming what it lacks.
ANSWER_MEMBERS_READ: Mapping[str, tuple[str, ...]] = {
    "sts:GetCallerIdentity": ("Account",),
    # An empty body is S3's whole answer to a write (rest-xml), and an object's body is a stream
    # the watch does not read: an answer from S3 has its ETag header; a listing has KeyCount.
    "s3:ListObjectsV2": ("KeyCount",),
    "s3:GetObject": ("ETag",),
    "s3:PutObject": ("ETag",),
    "logs:FilterLogEvents": ("events",),
    "sqs:GetQueueUrl": ("QueueUrl",),
    "sagemaker:ListWorkteams": ("Workteams", "Workteams[].WorkteamName"),
    "sagemaker:DescribeWorkteam": ("Workteam.WorkteamName", "Workteam.WorkteamArn"),
    "sagemaker:ListLabelingJobs": ("LabelingJobSummaryList[].LabelingJobName",),
    "sagemaker:DescribeLabelingJob": ("LabelingJobName",),
    "sagemaker:ListLabelingJobsForWorkteam": ("LabelingJobSummaryList",),
    "cognito-idp:ListUsers": ("Users[].Attributes[].Name",),
    "cognito-idp:ListUsersInGroup": ("Users[].Attributes[].Name",),
    "cloudwatch:ListMetrics": (
        "Metrics[].Namespace",
        "Metrics[].MetricName",
        "Metrics[].Dimensions[].Name",
        "Metrics[].Dimensions[].Value",
    ),
}

#: Error codes by what they mean for us. Codes differ between services for the same meaning.
ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "NotAuthorized",
    }
)
CREDENTIALS_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "UnrecognizedClient",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "MissingAuthenticationToken",
    }
)
NOT_FOUND_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "ResourceNotFound",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "UserNotFoundException",
        "NoSuchEntity",
        "NoSuchBucket",
        "NoSuchKey",
    }
)
THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "LimitExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ProvisionedThroughputExceededException",
    }
)
UNAVAILABLE_CODES = frozenset(
    {
        "NotImplemented",
        "NotImplementedException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalServerError",
        "InternalError",
        "UnknownOperationException",
        "InvalidAction",
    }
)


class NoAnswerError(botocore.exceptions.BotoCoreError):
    """An endpoint gave no usable answer (silence, a refused or dropped connection, HTTP 5xx)
    before the :class:`EndpointWatch` stopped waiting; converted by :func:`convert_client_error`."""

    fmt = "{endpoint} gave no usable answer to {operation}: {problem}"


class UnparseableAnswerError(botocore.exceptions.BotoCoreError):
    """An endpoint answered with something that is not an AWS answer (an HTML page, a body cut
    off or garbled, an answer lacking what we read); converted by :func:`convert_client_error`."""

    fmt = "{endpoint} answered {operation} with {problem}"


def missing_member(answer: Any, path: str) -> str | None:
    """The part of ``path`` (see :data:`ANSWER_MEMBERS_READ`) that ``answer`` lacks, or None.

    A list that is absent has no entries to check (our code reads lists with ``.get``): name the
    list itself as a path of its own to require it.
    """
    head, _, rest = path.partition(".")
    name = head.removesuffix("[]")
    if not isinstance(answer, Mapping):
        return head
    if name not in answer:
        return None if head.endswith("[]") else head
    value = answer[name]
    if head.endswith("[]"):
        if not isinstance(value, list):
            return head
        for entry in value:
            missing = missing_member(entry, rest) if rest else None
            if missing is not None:
                return f"{head}.{missing}"
        return None
    if rest:
        missing = missing_member(value, rest)
        return f"{head}.{missing}" if missing is not None else None
    return None


def _snippet(body: bytes) -> str:
    text = body[:60].decode("utf-8", "replace").strip()
    return escape_controls(" ".join(text.split()))


def unparseable_answer(
    protocol: str, operation: str, status: int, headers: Mapping[str, str], body: bytes
) -> str | None:
    """What is wrong with an HTTP answer below 500 for botocore ``protocol``, or None if it is
    shaped like an AWS answer.

    botocore itself parses an HTML page or a cut-off body as an empty answer for the JSON and CBOR
    protocols (a silent "nothing there"), and fails with a KeyError or a UnicodeDecodeError for
    the query protocol.
    """
    # The body decides, not the Content-Type: emulators label JSON "text/html" (moto does).
    if body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        return f'an HTML page (HTTP {status}: "{_snippet(body)}")'
    if 300 <= status < 400:
        lowered = {k.lower(): v for k, v in headers.items()}
        location = escape_controls(lowered.get("location", "nowhere"))
        return f"a redirect (HTTP {status}) to {location}"
    if not body.strip():
        if protocol == "rest-xml":
            # S3 answers writes, deletes and HEADs with headers only; a listing without its
            # members is caught by ANSWER_MEMBERS_READ.
            return None
        return f"an empty body (HTTP {status})"
    if protocol in ("json", "rest-json"):
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return f'a body that is not valid JSON, cut off or garbled ("{_snippet(body)}")'
        if not isinstance(parsed, dict):
            return f'JSON that is not an object ("{_snippet(body)}")'
    elif protocol in ("query", "ec2", "rest-xml"):
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            return f'a body that is not valid XML, cut off or garbled ("{_snippet(body)}")'
        tag = root.tag.rsplit("}", 1)[-1]
        if tag.lower() == "html":
            return f'an HTML page (HTTP {status}: "{_snippet(body)}")'
        expected = {f"{operation}Response", "ErrorResponse", "Response"}
        if protocol != "rest-xml" and tag not in expected:
            return f"an XML document <{escape_controls(tag)}> that is no {operation} answer"
    elif protocol == "smithy-rpc-v2-cbor" and body[0] >> 5 != 5:  # CBOR major type 5: a map
        return f'a body that is not a CBOR map ("{_snippet(body)}")'
    return None


@dataclass
class _Call:
    endpoint: str
    operation: str
    started: float
    attempt_started: float | None = None


class EndpointWatch:
    """Bounds how long a run waits for endpoints that give no answer, and says what it awaits.

    With ``T`` the answer timeout (``--aws-timeout``, 30 s by default):

    - one attempt waits at most ``T`` for an answer (botocore's read timeout; connecting, at most
      10 s);
    - botocore retries as configured, but a failed attempt (no answer, a refused or dropped
      connection, HTTP 5xx) is not retried once the retry could not end within ``T`` of the call's
      start on an endpoint that has not answered yet in this run (a black hole is reported after
      one timeout, a refused connection at once), or within ``CALL_PATIENCE * T`` on an endpoint
      that has answered before;
    - once no endpoint has answered for ``RUN_PATIENCE * T``, every further call fails at once.

    So a run waits at most ``(RUN_PATIENCE + 1) * T`` without any answer: 105 s by default.
    Throttling is an answer: botocore's own ten attempts bound it. One watch serves the clients of
    one run, used from one thread; :meth:`waiting` may be read from another.
    """

    def __init__(
        self,
        answer_timeout_seconds: float = DEFAULT_ANSWER_TIMEOUT_SECONDS,
        *,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.answer_timeout_seconds = answer_timeout_seconds
        self.connect_timeout_seconds = min(CONNECT_TIMEOUT_SECONDS, answer_timeout_seconds)
        self.max_attempts = max_attempts
        self._answered: set[str] = set()
        self._silent_since: float | None = None
        self._last_problem = ""
        self._call: _Call | None = None

    @property
    def config(self) -> Config:
        """:data:`CLIENT_CONFIG` with this watch's timeouts."""
        return CLIENT_CONFIG.merge(
            Config(
                connect_timeout=self.connect_timeout_seconds,
                read_timeout=self.answer_timeout_seconds,
            )
        )

    def install(self, client: Any) -> None:
        """Hook the watch into ``client``'s botocore events."""
        url = str(client.meta.endpoint_url)
        service = client.meta.service_model.service_name
        # The protocol botocore speaks with this service (CloudWatch: JSON, CBOR or query).
        protocol = client.meta.service_model.resolved_protocol
        events = client.meta.events

        def before_call(model: Any, **_: Any) -> None:
            self._begin_call(url, f"{service}:{model.name}")

        def before_send(**_: Any) -> None:
            if self._call is not None:
                self._call.attempt_started = time.monotonic()

        def needs_retry(**kwargs: Any) -> None:
            kwargs.pop("endpoint", None)  # botocore's Endpoint object; the URL is enough
            self._after_attempt(url, **kwargs)

        def before_parse(operation_model: Any, response_dict: Mapping[str, Any], **_: Any) -> None:
            status = int(response_dict.get("status_code") or 0)
            body = response_dict.get("body")
            if status >= 500 or not isinstance(body, bytes):
                return  # 5xx: botocore's retries and the watch decide; streams are not ours
            name = operation_model.name
            problem = unparseable_answer(
                protocol, name, status, response_dict.get("headers") or {}, body
            )
            if problem is not None:
                raise UnparseableAnswerError(
                    endpoint=url, operation=f"{service}:{name}", problem=problem
                )

        def after_call(http_response: Any, parsed: Any, model: Any, **_: Any) -> None:
            self._call = None
            if http_response.status_code >= 300:
                return
            operation = f"{service}:{model.name}"
            for path in ANSWER_MEMBERS_READ.get(operation, ()):
                missing = missing_member(parsed, path)
                if missing is not None:
                    raise UnparseableAnswerError(
                        endpoint=url,
                        operation=operation,
                        problem=f"an answer that lacks {missing}",
                    )

        events.register("before-call", before_call)
        events.register("before-send", before_send)
        events.register_first("needs-retry", needs_retry)
        events.register("before-parse", before_parse)
        events.register("after-call", after_call)

    def fork(self) -> EndpointWatch:
        """A watch for a client used on another thread (a watch serves one thread): the same
        timeouts, and what this one knows so far (which endpoints have answered, since when none
        has), so a call there is bounded as a call here would be."""
        twin = EndpointWatch(self.answer_timeout_seconds, max_attempts=self.max_attempts)
        twin._answered = set(self._answered)
        twin._silent_since = self._silent_since
        twin._last_problem = self._last_problem
        return twin

    def waiting(self) -> tuple[str, str, float] | None:
        """``(endpoint host, operation, seconds)`` of the attempt awaiting an answer, if any."""
        call = self._call
        started = call.attempt_started if call is not None else None
        if call is None or started is None:
            return None
        host = call.endpoint.split("://", 1)[-1].rstrip("/")
        return host, call.operation.split(":", 1)[1], time.monotonic() - started

    def _begin_call(self, endpoint: str, operation: str) -> None:
        now = time.monotonic()
        limit = RUN_PATIENCE * self.answer_timeout_seconds
        if self._silent_since is not None and now - self._silent_since >= limit:
            raise NoAnswerError(
                endpoint=endpoint,
                operation=operation,
                problem=f"not tried: no AWS endpoint has answered for"
                f" {now - self._silent_since:.0f} s ({self._last_problem})",
                attempts=0,
                seconds=0.0,
            )
        self._call = _Call(endpoint, operation, now)

    def _after_attempt(
        self,
        endpoint_url: str,
        *,
        response: Any = None,
        attempts: int = 1,
        caught_exception: Exception | None = None,
        **_: Any,
    ) -> None:
        now = time.monotonic()
        call = self._call or _Call(endpoint_url, "?", now)
        attempt_started = call.attempt_started or now
        call.attempt_started = None
        status = response[0].status_code if response is not None else None
        if caught_exception is None and status is not None and status < 500:
            self._answered.add(endpoint_url)
            self._silent_since = None
            return
        if self._silent_since is None:
            self._silent_since = attempt_started
        problem = self._describe(caught_exception, status, response)
        self._last_problem = f"{endpoint_url}: {problem}"
        answered_before = endpoint_url in self._answered
        patience = CALL_PATIENCE if answered_before else 1.0
        backoff = min(_BACKOFF_BASE_SECONDS * 2 ** (attempts - 1), _BACKOFF_MAX_SECONDS)
        next_end = now + backoff + (now - attempt_started)
        refused = not answered_before and isinstance(
            caught_exception,
            botocore.exceptions.EndpointConnectionError | botocore.exceptions.ProxyConnectionError,
        )
        if (
            refused
            or attempts >= self.max_attempts
            or next_end - call.started > patience * self.answer_timeout_seconds
            or next_end - self._silent_since > RUN_PATIENCE * self.answer_timeout_seconds
        ):
            raise NoAnswerError(
                endpoint=endpoint_url,
                operation=call.operation,
                problem=problem,
                attempts=attempts,
                seconds=now - call.started,
            ) from caught_exception

    def _describe(self, exc: Exception | None, status: int | None, response: Any) -> str:
        if isinstance(exc, botocore.exceptions.ReadTimeoutError):
            return f"no answer within {self.answer_timeout_seconds:g} s"
        if isinstance(exc, botocore.exceptions.ConnectTimeoutError):
            return f"no connection within {self.connect_timeout_seconds:g} s"
        if isinstance(exc, botocore.exceptions.ProxyConnectionError):
            proxy = exc.kwargs.get("proxy_url", "")
            return f"the proxy {proxy} failed ({exc.kwargs.get('error', '')})"
        if isinstance(exc, botocore.exceptions.EndpointConnectionError):
            reason = str(exc.kwargs.get("error", ""))
            if "refused" in reason.lower():
                return "the connection was refused (nothing listens there)"
            return f"could not connect ({reason.rsplit(': ', 1)[-1]})"
        if isinstance(exc, botocore.exceptions.ConnectionClosedError):
            return "the connection was closed before an answer"
        if exc is not None:
            return str(exc)
        error = (response[1] or {}).get("Error", {}) if response is not None else {}
        code = escape_controls(str(error.get("Code") or ""))
        return f"HTTP {status}" + (f" ({code})" if code and code != str(status) else "")


def make_session(profile: str | None = None, region: str | None = None) -> boto3.Session:
    """A boto3 session from the standard credential chain.

    Parameters
    ----------
    profile
        A named profile (``--profile``); None uses the default chain (environment, default
        profile, SSO, instance or container role).
    region
        ``--region``; None uses the profile's or ``AWS_REGION``'s.

    Raises
    ------
    UsageError
        The profile does not exist.
    """
    try:
        return boto3.Session(profile_name=profile, region_name=region)
    except botocore.exceptions.ProfileNotFound as exc:
        raise UsageError(
            f"--profile {profile}: no such profile in ~/.aws/config or ~/.aws/credentials"
        ) from exc


def make_client(
    service: str,
    session: boto3.Session,
    endpoint_url: str | None = None,
    watch: EndpointWatch | None = None,
) -> Any:
    """A boto3 client for ``service`` with the project's one botocore configuration.

    Parameters
    ----------
    service
        The boto3 service name: ``logs``, ``cloudwatch``, ``cognito-idp``, ``sagemaker``, ``sqs``,
        ``s3`` or ``sts``.
    session
        Where credentials and the region come from (see :func:`make_session`).
    endpoint_url
        Another endpoint than AWS's (a local emulator, a VPC endpoint); None for AWS.
    watch
        The run's :class:`EndpointWatch` (its timeouts and patience); None for a fresh default.

    Raises
    ------
    UsageError
        No region is configured.
    """
    if not session.region_name:
        raise UsageError(
            "no AWS region: pass --region, or set one in your profile or in AWS_REGION"
        )
    watch = watch or EndpointWatch()
    # The stubs type each service's client; callers here handle several, so the client is Any.
    generic_session: Any = session
    client = generic_session.client(service, endpoint_url=endpoint_url, config=watch.config)
    watch.install(client)
    return client


#: Operations whose IAM action is not named after them, as IAM evaluates a policy: S3 lists a
#: bucket's keys with ListObjectsV2, allowed by ``s3:ListBucket``; ``s3:GetObject`` also allows a
#: HEAD of the object. The AWS emulator of the tests denies by this table too.
IAM_ACTION_OF_OPERATION: Mapping[str, str] = {
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:HeadBucket": "s3:ListBucket",
    "s3:HeadObject": "s3:GetObject",
    "s3:CopyObject": "s3:PutObject",
    "s3:DeleteObjects": "s3:DeleteObject",
}


def iam_action(client: Any, operation_name: str) -> str:
    """The IAM action that allows ``operation_name`` on ``client``'s service.

    For every service this project calls, the IAM prefix is the boto3 service name; the action
    is the operation's name but for :data:`IAM_ACTION_OF_OPERATION`.
    """
    action = f"{client.meta.service_model.service_name}:{operation_name}"
    return IAM_ACTION_OF_OPERATION.get(action, action)


def _attempts_spent(response: Mapping[str, Any]) -> str:
    """How many attempts a call made before botocore gave up, from the answer's metadata
    (``RetryAttempts``; all ``MAX_ATTEMPTS`` when it is missing), and why it stopped retrying."""
    metadata = response.get("ResponseMetadata") or {}
    retries = metadata.get("RetryAttempts")
    attempts = retries + 1 if isinstance(retries, int) and retries >= 0 else MAX_ATTEMPTS
    tried = f"{attempts} attempt{'' if attempts == 1 else 's'}"
    if metadata.get("RetryQuotaReached"):
        # botocore's standard mode gives each client a retry budget that failures spend and
        # successes refill; once spent, a failing call is not retried at all.
        return f"after {tried} (the client's retries were spent on earlier throttling)"
    return f"even after {tried}"


def convert_client_error(
    exc: Exception, client: Any, what: str, *, writing: bool = False
) -> AwsError:
    """Our exception for botocore exception ``exc`` raised by ``client`` while doing ``what``.

    ``what`` says, for a manager, what was being read ("the worker activity log group
    /aws/sagemaker/groundtruth/WorkerActivity"), or written when ``writing`` (``publish``).
    """
    read, reading, done = (
        ("write to", "writing to", "written") if writing else ("read", "reading", "read")
    )
    region = client.meta.region_name
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        # Both come from the endpoint: shown as literal text, whatever bytes it sent.
        code = escape_controls(str(error.get("Code", "")))
        detail = escape_controls(str(error.get("Message", "") or "").strip())
        operation = exc.operation_name
        action = iam_action(client, operation)
        suffix = f" ({code}: {detail})" if detail else f" ({code})"
        if code in ACCESS_DENIED_CODES:
            return AccessDeniedError(
                f"not allowed to {read} {what} in {region}: grant the IAM action {action}"
                f" (docs/iam-policy.json lists every action this tool needs){suffix}",
                operation=operation,
                action=action,
            )
        if code in CREDENTIALS_CODES:
            return CredentialsError(
                f"AWS rejected the credentials while {reading} {what} in {region}: they are"
                f" invalid or expired (refresh them, e.g. `aws sso login`){suffix}",
                operation=operation,
            )
        if code in NOT_FOUND_CODES:
            return NotFoundError(f"{what} does not exist in {region}{suffix}", operation=operation)
        if code in THROTTLING_CODES:
            return ThrottledError(
                f"AWS kept throttling {action} while {reading} {what} in {region},"
                f" {_attempts_spent(exc.response)}: run the same command again later{suffix}",
                operation=operation,
            )
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in UNAVAILABLE_CODES or status in (501, 503):
            return ServiceUnavailableError(
                f"{action} is not available at this endpoint in {region}, so {what} could not"
                f" be {done}{suffix}",
                operation=operation,
            )
        return AwsError(f"{reading} {what} in {region} failed{suffix}", operation=operation)
    if isinstance(
        exc, botocore.exceptions.NoCredentialsError | botocore.exceptions.PartialCredentialsError
    ):
        return CredentialsError(
            "no AWS credentials found: use --profile, `aws configure`, `aws sso login`, the"
            " AWS_* environment variables or an instance role"
        )
    if isinstance(exc, botocore.exceptions.TokenRetrievalError | botocore.exceptions.SSOError):
        return CredentialsError(f"the AWS SSO session has expired: run `aws sso login` ({exc})")
    endpoint = str(client.meta.endpoint_url)
    check = (
        f"check the network, the endpoint {endpoint} (--endpoint-url, if you gave one) and any"
        " proxy (HTTPS_PROXY, HTTP_PROXY)"
    )
    if isinstance(exc, NoAnswerError):
        facts = exc.kwargs
        if not facts["attempts"]:
            return ServiceUnavailableError(
                f"{what} in {region} was not {done}: {facts['problem']}; {check}",
                operation=facts["operation"],
            )
        attempts = facts["attempts"]
        return ServiceUnavailableError(
            f"no usable answer from {endpoint} ({facts['operation']}) while {reading} {what} in"
            f" {region}: {facts['problem']}, {attempts} attempt{'s' if attempts != 1 else ''}"
            f" over {facts['seconds']:.0f} s; {check}",
            operation=facts["operation"],
        )
    if isinstance(exc, UnparseableAnswerError | botocore.parsers.ResponseParserError):
        if isinstance(exc, UnparseableAnswerError):
            source = f"{endpoint} ({exc.kwargs['operation']})"
            problem = exc.kwargs["problem"]
        else:
            source, problem = endpoint, escape_controls(str(exc).splitlines()[0])
        return ServiceUnavailableError(
            f"unparseable answer from {source} while {reading} {what} in {region}: {problem}, not"
            " an AWS answer; check that --endpoint-url (if you gave one) is an AWS API endpoint,"
            " and for a captive portal or proxy between you and AWS (log in to the network,"
            " check HTTPS_PROXY)"
        )
    if isinstance(
        exc,
        botocore.exceptions.EndpointConnectionError
        | botocore.exceptions.ConnectionClosedError
        | botocore.exceptions.ConnectTimeoutError
        | botocore.exceptions.ReadTimeoutError
        | botocore.exceptions.ProxyConnectionError,
    ):
        return ServiceUnavailableError(
            f"could not reach {endpoint} in {region} while {reading} {what}: {check} ({exc})"
        )
    return AwsError(f"{reading} {what} in {region} failed: {exc}")


@contextlib.contextmanager
def converting_errors(client: Any, what: str, *, writing: bool = False) -> Iterator[None]:
    """Run the block, turning botocore's exceptions into ours (see :func:`convert_client_error`)."""
    try:
        yield
    except (
        botocore.exceptions.ClientError,
        botocore.exceptions.BotoCoreError,
        botocore.parsers.ResponseParserError,
    ) as exc:
        raise convert_client_error(exc, client, what, writing=writing) from exc
