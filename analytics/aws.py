"""The one place that builds AWS clients, and the one place botocore errors become ours.

Every client comes from :func:`make_client` with the same botocore ``Config``: retry mode
``standard`` (botocore retries throttling, 5xx and dropped connections with jittered exponential
backoff; we never loop by hand), bounded connect and read timeouts. Credentials come only from
boto3's standard chain (profile, environment, SSO, instance or container role) through the
``boto3.Session`` given; nothing here reads or writes them.

:func:`converting_errors` wraps every call into AWS and turns botocore's exceptions into the tree
drawn in :mod:`analytics.errors`, with a message a manager can act on: an ``AccessDenied`` names
the IAM action to grant, a throttled call says retries were spent, an unreachable endpoint says so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
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

#: How many times botocore tries one call (first attempt included) before giving up. FilterLogEvents
#: allows only 5 requests per second per account and region, so throttling is expected: be patient.
MAX_ATTEMPTS = 10
CONNECT_TIMEOUT_SECONDS = 10
READ_TIMEOUT_SECONDS = 60

#: The botocore configuration of every client. ``standard`` rather than ``adaptive``: adaptive adds
#: a client-side rate limiter that only helps when many processes share one quota.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
    user_agent_extra="groundtruth-throughput",
)

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


def make_client(service: str, session: boto3.Session, endpoint_url: str | None = None) -> Any:
    """A boto3 client for ``service`` with the project's one botocore configuration.

    Parameters
    ----------
    service
        The boto3 service name: ``logs``, ``cloudwatch``, ``cognito-idp``, ``sagemaker``, ``sqs``
        or ``sts``.
    session
        Where credentials and the region come from (see :func:`make_session`).
    endpoint_url
        Another endpoint than AWS's (a local emulator, a VPC endpoint); None for AWS.

    Raises
    ------
    UsageError
        No region is configured.
    """
    if not session.region_name:
        raise UsageError(
            "no AWS region: pass --region, or set one in your profile or in AWS_REGION"
        )
    # The stubs type each service's client; callers here handle several, so the client is Any.
    generic_session: Any = session
    return generic_session.client(service, endpoint_url=endpoint_url, config=CLIENT_CONFIG)


def iam_action(client: Any, operation_name: str) -> str:
    """The IAM action that allows ``operation_name`` on ``client``'s service.

    For every service this project calls, the IAM prefix is the boto3 service name.
    """
    return f"{client.meta.service_model.service_name}:{operation_name}"


def convert_client_error(exc: Exception, client: Any, what: str) -> AwsError:
    """Our exception for botocore exception ``exc`` raised by ``client`` while doing ``what``.

    ``what`` says, for a manager, what was being read ("the worker activity log group
    /aws/sagemaker/groundtruth/WorkerActivity").
    """
    region = client.meta.region_name
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        detail = str(error.get("Message", "") or "").strip()
        operation = exc.operation_name
        action = iam_action(client, operation)
        suffix = f" ({code}: {detail})" if detail else f" ({code})"
        if code in ACCESS_DENIED_CODES:
            return AccessDeniedError(
                f"not allowed to read {what} in {region}: grant the IAM action {action}"
                f" (docs/iam-policy.json lists every action this tool needs){suffix}",
                operation=operation,
                action=action,
            )
        if code in CREDENTIALS_CODES:
            return CredentialsError(
                f"AWS rejected the credentials while reading {what} in {region}: they are"
                f" invalid or expired (refresh them, e.g. `aws sso login`){suffix}",
                operation=operation,
            )
        if code in NOT_FOUND_CODES:
            return NotFoundError(f"{what} does not exist in {region}{suffix}", operation=operation)
        if code in THROTTLING_CODES:
            return ThrottledError(
                f"AWS kept throttling {action} while reading {what} in {region}, even after"
                f" {MAX_ATTEMPTS} attempts: run the same command again later{suffix}",
                operation=operation,
            )
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in UNAVAILABLE_CODES or status in (501, 503):
            return ServiceUnavailableError(
                f"{action} is not available at this endpoint in {region}, so {what} could not"
                f" be read{suffix}",
                operation=operation,
            )
        return AwsError(f"reading {what} in {region} failed{suffix}", operation=operation)
    if isinstance(
        exc, botocore.exceptions.NoCredentialsError | botocore.exceptions.PartialCredentialsError
    ):
        return CredentialsError(
            "no AWS credentials found: use --profile, `aws configure`, `aws sso login`, the"
            " AWS_* environment variables or an instance role"
        )
    if isinstance(exc, botocore.exceptions.TokenRetrievalError | botocore.exceptions.SSOError):
        return CredentialsError(f"the AWS SSO session has expired: run `aws sso login` ({exc})")
    if isinstance(
        exc,
        botocore.exceptions.EndpointConnectionError
        | botocore.exceptions.ConnectionClosedError
        | botocore.exceptions.ConnectTimeoutError
        | botocore.exceptions.ReadTimeoutError,
    ):
        return ServiceUnavailableError(
            f"could not reach AWS in {region} while reading {what}, even after {MAX_ATTEMPTS}"
            f" attempts: check the network and run the same command again ({exc})"
        )
    return AwsError(f"reading {what} in {region} failed: {exc}")


@contextlib.contextmanager
def converting_errors(client: Any, what: str) -> Iterator[None]:
    """Run the block, turning botocore's exceptions into ours (see :func:`convert_client_error`)."""
    try:
        yield
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        raise convert_client_error(exc, client, what) from exc
