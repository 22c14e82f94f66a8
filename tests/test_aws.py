"""The AWS boundary: one client configuration, botocore errors become ours with the fix named."""

from __future__ import annotations

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
