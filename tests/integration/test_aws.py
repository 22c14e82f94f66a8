"""The AWS boundary: one client configuration, botocore errors become ours with the fix named."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
import botocore.exceptions
import pytest

from analytics import aws
from analytics.errors import (
    AccessDeniedError,
    AwsError,
    CredentialsError,
    NotFoundError,
    ServiceUnavailableError,
    ThrottledError,
    UsageError,
)
from tests.aws_emulator.fixtures import use_test_credentials
from tests.aws_emulator.hostile import misbehaving_endpoint
from tests.aws_emulator.server import ACCOUNT_ID, Emulator, Faults


@pytest.fixture
def logs_client(monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return aws.make_client("logs", boto3.Session(region_name="eu-west-1"))


def test_every_client_has_the_one_config(logs_client: object) -> None:
    config = logs_client.meta.config  # type: ignore[attr-defined]
    assert config.retries["mode"] == "standard"
    assert config.retries["total_max_attempts"] == aws.MAX_ATTEMPTS
    assert (config.connect_timeout, config.read_timeout) == (10, 30)


def test_no_region_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    with pytest.raises(UsageError, match="--region"):
        aws.make_client("logs", boto3.Session())


def test_an_unknown_profile_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    with pytest.raises(UsageError, match="--profile nope"):
        aws.make_session("nope")


@pytest.mark.parametrize(
    ("code", "status", "expected", "fragment"),
    [
        (
            "AccessDeniedException",
            400,
            AccessDeniedError,
            "grant the IAM action logs:FilterLogEvents",
        ),
        ("AccessDenied", 403, AccessDeniedError, "logs:FilterLogEvents"),
        ("UnrecognizedClientException", 400, CredentialsError, "invalid or expired"),
        ("ExpiredTokenException", 400, CredentialsError, "aws sso login"),
        ("ResourceNotFoundException", 400, NotFoundError, "does not exist in eu-west-1"),
        ("ThrottlingException", 400, ThrottledError, "run the same command again later"),
        ("NotImplemented", 501, ServiceUnavailableError, "not available"),
        ("InternalFailure", 500, ServiceUnavailableError, "not available"),
        ("SomethingElse", 400, AwsError, "failed"),
    ],
)
def test_client_errors_become_ours(
    logs_client: object, code: str, status: int, expected: type[AwsError], fragment: str
) -> None:
    response: Any = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    error = botocore.exceptions.ClientError(response, "FilterLogEvents")
    with (
        pytest.raises(expected, match=fragment) as caught,
        aws.converting_errors(logs_client, "the group"),
    ):
        raise error
    assert type(caught.value) is expected
    assert caught.value.__cause__ is error
    if expected is AccessDeniedError:
        assert caught.value.action == "logs:FilterLogEvents"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("metadata", "said"),
    [
        ({"RetryAttempts": 9, "MaxAttemptsReached": True}, "even after 10 attempts:"),
        ({}, f"even after {aws.MAX_ATTEMPTS} attempts:"),
        (
            {"RetryAttempts": 0, "RetryQuotaReached": True},
            "after 1 attempt (the client's retries were spent on earlier throttling):",
        ),
        (
            {"RetryAttempts": 2, "RetryQuotaReached": True},
            "after 3 attempts (the client's retries were spent on earlier throttling):",
        ),
    ],
    ids=["all-attempts", "no-metadata", "quota-spent-at-once", "quota-spent-after-two-retries"],
)
def test_a_throttled_call_says_how_many_attempts_it_made(
    logs_client: object, metadata: dict[str, Any], said: str
) -> None:
    response: Any = {
        "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
        "ResponseMetadata": {"HTTPStatusCode": 400, **metadata},
    }
    with (
        pytest.raises(ThrottledError) as caught,
        aws.converting_errors(logs_client, "the group"),
    ):
        raise botocore.exceptions.ClientError(response, "FilterLogEvents")
    assert said in str(caught.value)


def test_throttling_is_retried_until_answered(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_test_credentials(monkeypatch)
    emulator.reset()
    emulator.set_faults(Faults(throttle_share=1.0, most_faults_in_a_row=3))
    client = aws.make_client(
        "sts", boto3.Session(), emulator.endpoint_url, aws.EndpointWatch(TIMEOUT)
    )
    with aws.converting_errors(client, "who we are"):
        answer = client.get_caller_identity()
    assert answer["Account"] == ACCOUNT_ID
    assert answer["ResponseMetadata"]["RetryAttempts"] == 3
    assert emulator.actions("throttled") == ["sts:GetCallerIdentity"] * 3
    assert emulator.actions() == ["sts:GetCallerIdentity"] * 4


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (botocore.exceptions.NoCredentialsError(), CredentialsError),
        (
            botocore.exceptions.EndpointConnectionError(endpoint_url="http://x"),
            ServiceUnavailableError,
        ),
        (
            botocore.exceptions.ConnectionClosedError(endpoint_url="http://x"),
            ServiceUnavailableError,
        ),
    ],
)
def test_botocore_errors_become_ours(
    logs_client: object, error: Exception, expected: type[AwsError]
) -> None:
    with pytest.raises(expected), aws.converting_errors(logs_client, "the group"):
        raise error


@pytest.mark.parametrize(
    ("error", "fragment"),
    [
        (botocore.exceptions.ProxyConnectionError(proxy_url="http://proxy:3128"), "HTTPS_PROXY"),
        (botocore.exceptions.ReadTimeoutError(endpoint_url="http://x"), "check the network"),
        (botocore.exceptions.ConnectTimeoutError(endpoint_url="http://x"), "check the network"),
    ],
    ids=["proxy", "read-timeout", "connect-timeout"],
)
def test_unreachable_endpoints_say_what_to_check(
    logs_client: object, error: Exception, fragment: str
) -> None:
    with (
        pytest.raises(ServiceUnavailableError, match=fragment) as caught,
        aws.converting_errors(logs_client, "the group"),
    ):
        raise error
    assert "https://logs.eu-west-1.amazonaws.com" in str(caught.value)


# --------------------------------------------------------------------------- answers
STS_ANSWER = (
    b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    b"<GetCallerIdentityResult><Account>123456789012</Account></GetCallerIdentityResult>"
    b"</GetCallerIdentityResponse>"
)
ANSWER_CASES = [
    # (protocol, operation, status, headers, body, fragment of the problem; None: an AWS answer)
    ("json", "FilterLogEvents", 200, {}, b'{"events": []}', None),
    ("json", "FilterLogEvents", 200, {"Content-Type": "text/html"}, b'{"events": []}', None),
    ("json", "FilterLogEvents", 400, {}, b'{"__type": "AccessDeniedException"}', None),
    ("query", "GetCallerIdentity", 200, {}, b'<?xml version="1.0"?>\n' + STS_ANSWER, None),
    ("query", "GetCallerIdentity", 403, {}, b"<ErrorResponse><Error/></ErrorResponse>", None),
    ("smithy-rpc-v2-cbor", "ListMetrics", 200, {}, b"\xa1gMetrics\x80", None),
    ("json", "FilterLogEvents", 200, {}, b"<!DOCTYPE html><html>Hotel WiFi</html>", "HTML page"),
    ("json", "FilterLogEvents", 200, {}, b"  <HTML><body>login</body></HTML>", "HTML page"),
    ("query", "GetCallerIdentity", 200, {}, b"<html><head/><body/></html>", "HTML page"),
    ("json", "FilterLogEvents", 200, {}, b'{"events": [{"mess', "not valid JSON"),
    ("json", "FilterLogEvents", 200, {}, b"\x00\xff\xfe", "not valid JSON"),
    ("json", "FilterLogEvents", 200, {}, b"[1, 2]", "not an object"),
    ("json", "FilterLogEvents", 200, {}, b"", "empty body"),
    ("json", "FilterLogEvents", 302, {"Location": "http://portal/"}, b"x", "http://portal/"),
    ("query", "GetCallerIdentity", 200, {}, STS_ANSWER[:60], "not valid XML"),
    ("query", "GetCallerIdentity", 200, {}, b"<Other/>", "no GetCallerIdentity answer"),
    ("smithy-rpc-v2-cbor", "ListMetrics", 200, {}, b"\x80", "not a CBOR map"),
]


@pytest.mark.parametrize(
    ("protocol", "operation", "status", "headers", "body", "fragment"),
    ANSWER_CASES,
    ids=[
        "json",
        "json-labelled-html-by-moto",
        "json-error",
        "query",
        "query-error",
        "cbor",
        "html-doctype",
        "html-upper-case",
        "xhtml-for-query",
        "json-cut-off",
        "json-not-utf8",
        "json-array",
        "empty",
        "redirect",
        "xml-cut-off",
        "xml-other-root",
        "cbor-array",
    ],
)
def test_answers_that_are_not_aws_answers_are_named(
    protocol: str,
    operation: str,
    status: int,
    headers: dict[str, str],
    body: bytes,
    fragment: str | None,
) -> None:
    problem = aws.unparseable_answer(protocol, operation, status, headers, body)
    if fragment is None:
        assert problem is None
    else:
        assert problem is not None
        assert fragment in problem


@pytest.mark.parametrize(
    ("answer", "path", "missing"),
    [
        ({"Account": "1"}, "Account", None),
        ({}, "Account", "Account"),
        ({"Workteams": []}, "Workteams", None),
        ({}, "Workteams[].WorkteamName", None),
        (
            {"Workteams": [{"WorkteamName": "a"}, {}]},
            "Workteams[].WorkteamName",
            "Workteams[].WorkteamName",
        ),
        ({"Workteams": "x"}, "Workteams[].WorkteamName", "Workteams[]"),
        ({"Workteam": {"WorkteamArn": "a"}}, "Workteam.WorkteamName", "Workteam.WorkteamName"),
        ({"Workteam": None}, "Workteam.WorkteamName", "Workteam.WorkteamName"),
        (
            {"Users": [{"Attributes": [{"Value": "x"}]}]},
            "Users[].Attributes[].Name",
            "Users[].Attributes[].Name",
        ),
        ({"Users": [{"Username": "u"}]}, "Users[].Attributes[].Name", None),
    ],
    ids=[
        "present",
        "absent",
        "list-present",
        "list-absent-has-no-entries",
        "entry-lacks-member",
        "list-not-a-list",
        "nested-absent",
        "nested-null",
        "deep-entry-lacks-member",
        "deep-list-absent",
    ],
)
def test_missing_members_are_named(answer: dict[str, Any], path: str, missing: str | None) -> None:
    assert aws.missing_member(answer, path) == missing


# --------------------------------------------------------------------------- live endpoints
#: One cheap call per protocol botocore speaks with our services (CloudWatch resolves to JSON).
CALLS: dict[str, Callable[[Any], object]] = {
    "sts": lambda client: client.get_caller_identity(),
    "logs": lambda client: client.filter_log_events(logGroupName="g"),
    "sagemaker": lambda client: client.list_workteams(),
    "cloudwatch": lambda client: client.list_metrics(),
}
#: The answer timeout of these tests, in seconds.
TIMEOUT = 2.0
#: Start-up of a client and scheduling noise on a loaded machine, in seconds.
SLACK = 1.5

HOSTILE_CASES = [
    # (kind, service, fragment of the message, most seconds it may take)
    ("refused", "logs", "connection was refused", SLACK),
    ("silent", "sts", f"no answer within {TIMEOUT:g} s, 1 attempt", TIMEOUT + SLACK),
    ("silent", "cloudwatch", f"no answer within {TIMEOUT:g} s, 1 attempt", TIMEOUT + SLACK),
    ("error500", "logs", "HTTP 500", TIMEOUT + SLACK),
    ("html", "sts", "an HTML page", SLACK),
    ("html", "logs", "an HTML page", SLACK),
    ("html", "cloudwatch", "an HTML page", SLACK),
    ("garbage", "sts", "not valid XML", SLACK),
    ("garbage", "sagemaker", "not valid JSON", SLACK),
    ("truncated", "logs", "not valid JSON", SLACK),
    ("hollow", "logs", "lacks events", SLACK),
    ("hollow", "sagemaker", "lacks Workteams", SLACK),
]


@pytest.mark.parametrize(
    ("kind", "service", "fragment", "most_seconds"),
    HOSTILE_CASES,
    ids=[f"{kind}-{service}" for kind, service, _, _ in HOSTILE_CASES],
)
def test_a_misbehaving_endpoint_fails_the_call_in_time_naming_it(
    monkeypatch: pytest.MonkeyPatch, kind: str, service: str, fragment: str, most_seconds: float
) -> None:
    use_test_credentials(monkeypatch)
    with misbehaving_endpoint(kind) as url:
        watch = aws.EndpointWatch(TIMEOUT)
        client = aws.make_client(service, boto3.Session(), url, watch)
        started = time.monotonic()
        with (
            pytest.raises(ServiceUnavailableError) as caught,
            aws.converting_errors(client, "the thing"),
        ):
            CALLS[service](client)
        seconds = time.monotonic() - started
    message = str(caught.value)
    assert fragment in message
    assert url in message
    assert "check" in message
    assert seconds < most_seconds, message


def test_botocore_still_retries_server_errors_within_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_test_credentials(monkeypatch)
    with misbehaving_endpoint("error500") as url:
        client = aws.make_client("logs", boto3.Session(), url, aws.EndpointWatch(TIMEOUT))
        with pytest.raises(ServiceUnavailableError) as caught, aws.converting_errors(client, "x"):
            CALLS["logs"](client)
    attempts = int(str(caught.value).split(" attempts over ")[0].rsplit(" ", 1)[-1])
    assert 1 < attempts <= aws.MAX_ATTEMPTS


def test_a_run_stops_calling_once_nothing_has_answered_for_its_patience(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_test_credentials(monkeypatch)
    timeout = 1.0
    outcomes: list[tuple[str, float]] = []
    with misbehaving_endpoint("silent") as url:
        watch = aws.EndpointWatch(timeout)
        # The clients are built before the clock starts: building one reads botocore's service
        # model (SageMaker's is large), which under a loaded CI took most of a second per client
        # and is no part of what the watch bounds: the time spent waiting on calls.
        services = ["sts", "logs", "sagemaker", "cloudwatch", "logs", "sts"]
        clients = [aws.make_client(service, boto3.Session(), url, watch) for service in services]
        started = time.monotonic()
        for service, client in zip(services, clients, strict=True):
            call_started = time.monotonic()
            with (
                pytest.raises(ServiceUnavailableError) as caught,
                aws.converting_errors(client, "x"),
            ):
                CALLS[service](client)
            outcomes.append((str(caught.value), time.monotonic() - call_started))
        total = time.monotonic() - started
    not_tried = [seconds for message, seconds in outcomes if "was not read: not tried" in message]
    # The first two calls wait their timeout (1 s each); once 2.5 s pass without an answer, no
    # further call is tried.
    assert all("no answer within 1 s" in message for message, _ in outcomes[:2]), outcomes
    assert len(not_tried) >= 3, outcomes
    assert all(seconds < 0.2 for seconds in not_tried)
    assert total < (aws.RUN_PATIENCE + 1) * timeout + SLACK, outcomes


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("AccessDeniedException", "denied\x1b[31m red\x1b[0m"),
        ("Weird\nCode", "two\nlines"),
        ("InternalFailure", "bidi \u202e reversed"),
    ],
    ids=["ansi-in-message", "newlines", "bidi-override"],
)
def test_what_an_endpoint_says_is_shown_as_literal_text(
    logs_client: object, code: str, message: str
) -> None:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }
    with pytest.raises(AwsError) as caught, aws.converting_errors(logs_client, "the group"):
        raise botocore.exceptions.ClientError(response, "FilterLogEvents")
    shown = str(caught.value)
    assert not any(character in shown for character in "\x1b\n\u202e"), shown
