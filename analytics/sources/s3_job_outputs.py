"""Labeling job outputs in S3: list a job's output folder, read its objects (read-only).

DescribeLabelingJob ``OutputConfig.S3OutputPath`` names where a job writes; its outputs are
under ``<S3OutputPath>/<job name>/``. Only ``s3:ListBucket`` (ListObjectsV2) and
``s3:GetObject`` are used.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from analytics.aws import converting_errors
from analytics.errors import UsageError
from analytics.responses.parse import OUTPUT_MANIFEST, WORKER_RESPONSE_DIR


@dataclass(frozen=True)
class S3Object:
    """One listed object: its key, ETag (quotes removed) and size in bytes."""

    bucket: str
    key: str
    etag: str
    size: int

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of ``s3://bucket/prefix``; the prefix ends with ``/`` unless empty.

    Raises
    ------
    UsageError
        ``uri`` is not an ``s3://`` URI with a bucket.
    """
    if not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
        raise UsageError(f"{uri!r} is not an S3 URI (s3://bucket/prefix/)")
    bucket, _, prefix = uri[5:].partition("/")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


def job_output_prefix(s3_output_path: str, job_name: str) -> tuple[str, str]:
    """``(bucket, key prefix)`` of job ``job_name``'s output folder under ``s3_output_path``."""
    bucket, prefix = split_s3_uri(s3_output_path)
    return bucket, f"{prefix}{job_name}/"


def list_job_output_objects(client: Any, bucket: str, job_prefix: str) -> list[S3Object]:
    """The objects of a job output folder that may hold answers or labels, in key order.

    Two listings: ``annotations/worker-response/`` and ``manifests/output/`` (the rest of the
    folder, such as consolidated annotations, is not read).
    """
    found: list[S3Object] = []
    for folder in ("/".join(WORKER_RESPONSE_DIR) + "/", "/".join(OUTPUT_MANIFEST[:2]) + "/"):
        prefix = job_prefix + folder
        with converting_errors(client, f"the job outputs in s3://{bucket}/{prefix}"):
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            found.extend(_objects(bucket, pages))
    return found


def _objects(bucket: str, pages: Any) -> Iterator[S3Object]:
    for page in pages:
        for entry in page.get("Contents") or []:
            key = entry.get("Key")
            if isinstance(key, str):
                etag = str(entry.get("ETag") or "").strip('"')
                yield S3Object(bucket, key, etag, int(entry.get("Size") or 0))


def read_object(client: Any, item: S3Object, max_bytes: int) -> bytes:
    """The bytes of ``item``, at most ``max_bytes`` + 1 of them (so a caller sees it is longer).

    The read is bounded in time by the client's answer timeout (each socket read).
    """
    with converting_errors(client, f"the job output object {item.uri}"):
        answer = client.get_object(Bucket=item.bucket, Key=item.key)
        body = answer["Body"]
        try:
            data: bytes = body.read(max_bytes + 1)
        finally:
            body.close()
    return data
