"""An S3 location, ``s3://bucket/prefix``, checked once for every command that takes one
(``publish --to``, ``athena-ddl --location``). No AWS call, no heavy import: the CLI checks the
argument before anything else."""

from __future__ import annotations

import re
from dataclasses import dataclass

from analytics.errors import UsageError
from analytics.text import escape_controls, has_controls

#: S3 keys are at most 1,024 bytes; the longest key we add below the prefix is a table file
#: (``tables/memberships/part-`` + 32 hex + ``.parquet``): 80 bytes, so the prefix gets 900.
_MAX_PREFIX_BYTES = 900
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key prefix (no leading or trailing ``/``; ``""`` for the bucket's root)."""

    bucket: str
    prefix: str

    def key(self, relative: str) -> str:
        """The S3 key of ``relative`` (a key below the prefix)."""
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def uri(self, relative: str = "") -> str:
        """``s3://bucket/prefix/relative``."""
        return f"s3://{self.bucket}/{self.key(relative)}"

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


def parse_s3_location(value: str, argument: str) -> S3Location:
    """``s3://bucket/prefix`` as an :class:`S3Location`.

    Raises
    ------
    UsageError
        ``value`` is not an S3 URI this tool can write and others can read, naming ``argument``
        (``--to``, ``--location``) and the fix.
    """
    shown = escape_controls(value)
    example = f"e.g. {argument} s3://my-bucket/gt-store"
    if not value.startswith("s3://"):
        raise UsageError(f"{argument} {shown} is not an S3 URI: give s3://BUCKET/PREFIX, {example}")
    bucket, _, prefix = value.removeprefix("s3://").partition("/")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise UsageError(
            f"{argument} {shown}: {escape_controls(bucket)!r} is not an S3 bucket name (3-63"
            f" lowercase letters, digits, dots and hyphens), {example}"
        )
    prefix = prefix.strip("/")
    if has_controls(prefix):
        raise UsageError(f"{argument} {shown}: the prefix holds control characters; {example}")
    if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
        raise UsageError(
            f"{argument} {shown}: the prefix has an empty, '.' or '..' part, which Spark and"
            f" Hadoop paths collapse; {example}"
        )
    if len(prefix.encode("utf-8", "surrogatepass")) > _MAX_PREFIX_BYTES:
        raise UsageError(
            f"{argument} {shown[:80]}...: the prefix is over {_MAX_PREFIX_BYTES} bytes; S3 keys"
            f" are at most 1,024; {example}"
        )
    try:
        prefix.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(f"{argument} {shown}: the prefix is not valid UTF-8; {example}") from exc
    return S3Location(bucket, prefix)
