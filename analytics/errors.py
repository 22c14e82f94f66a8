"""The exceptions this project raises, converted at the boundary from botocore and OS errors.

::

    GroundTruthError                base: every error we raise on purpose
    ├── InputFileError              a file to ingest is missing or unreadable
    ├── StoreError                  the local store is unusable (newer schema, corrupt file)
    ├── UsageError                  an argument is wrong; the message names it and the fix
    ├── SparkEngineError            --engine spark: no PySpark or Java, Spark did not start
    └── AwsError                    an AWS call failed; the message says what it means
        ├── CredentialsError        no credentials, expired or invalid ones
        ├── AccessDeniedError       the credentials lack an IAM action (``action`` names it)
        ├── NotFoundError           a log group, queue, pool or job does not exist
        ├── ThrottledError          throttling outlasted botocore's retries
        └── ServiceUnavailableError the endpoint is unreachable or the operation is missing

Callers catch ``GroundTruthError`` to show a message; nothing in here carries a traceback a manager
must read.
"""

from __future__ import annotations


class GroundTruthError(Exception):
    """Base class of every error this project raises on purpose."""


class InputFileError(GroundTruthError):
    """A file given to ingest is missing, unreadable or not a supported format."""


class StoreError(GroundTruthError):
    """The local store cannot be used as it is (for example a newer schema version)."""


class UsageError(GroundTruthError):
    """An argument is wrong; the message names the argument and the fix."""


class SparkEngineError(GroundTruthError):
    """Spark could not be used: PySpark or Java missing, no start within the bound, a failed job."""


class AwsError(GroundTruthError):
    """An AWS call failed in a way retries did not mend."""

    def __init__(self, message: str, *, operation: str | None = None) -> None:
        super().__init__(message)
        self.operation = operation


class CredentialsError(AwsError):
    """No usable AWS credentials were found, or they were rejected."""


class AccessDeniedError(AwsError):
    """The credentials lack the IAM action named in ``action``."""

    def __init__(self, message: str, *, operation: str | None = None, action: str | None = None):
        super().__init__(message, operation=operation)
        self.action = action


class NotFoundError(AwsError):
    """The named AWS resource does not exist in that account and region."""


class ThrottledError(AwsError):
    """AWS kept throttling after botocore's retries were spent."""


class ServiceUnavailableError(AwsError):
    """The endpoint could not be reached, or the operation is not available there."""
