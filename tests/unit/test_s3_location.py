"""``s3://bucket/prefix`` arguments: what is accepted, and the one-line errors for the rest."""

from __future__ import annotations

import pytest

from analytics.errors import UsageError
from analytics.s3_location import S3Location, parse_s3_location


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("s3://bucket/prefix", S3Location("bucket", "prefix")),
        ("s3://bucket/a/b/", S3Location("bucket", "a/b")),
        ("s3://bucket", S3Location("bucket", "")),
        ("s3://my.bucket-1/é x", S3Location("my.bucket-1", "é x")),
    ],
    ids=["plain", "trailing-slash", "bucket-root", "dots-unicode-space"],
)
def test_an_s3_location_is_parsed(value: str, expected: S3Location) -> None:
    assert parse_s3_location(value, "--to") == expected


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("/local/folder", "not an S3 URI"),
        ("s3:/bucket/x", "not an S3 URI"),
        ("S3://bucket/x", "not an S3 URI"),
        ("s3://Bucket/x", "not an S3 bucket name"),
        ("s3://b/x", "not an S3 bucket name"),
        ("s3://", "not an S3 bucket name"),
        ("s3://bu..cket/x", "not an S3 bucket name"),
        ("s3://bucket/a//b", "empty, '.' or '..' part"),
        ("s3://bucket/a/../b", "empty, '.' or '..' part"),
        ("s3://bucket/a\nb", "control characters"),
        ("s3://bucket/" + "x" * 901, "over 900 bytes"),
    ],
    ids=[
        "a-path",
        "one-slash",
        "upper-scheme",
        "upper-bucket",
        "short-bucket",
        "no-bucket",
        "double-dot-bucket",
        "empty-part",
        "dot-dot-part",
        "line-feed",
        "too-long",
    ],
)
def test_a_bad_s3_location_is_refused_in_one_line(value: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle) as raised:
        parse_s3_location(value, "--to")
    message = str(raised.value)
    assert message.startswith("--to ")
    assert "\n" not in message
    assert "e.g. --to s3://" in message
