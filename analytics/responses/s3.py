"""Read job output folders from S3 into the store, incrementally (the sync part "worker responses").

For every labeling job the store knows with an ``s3_output_path`` (DescribeLabelingJob
``OutputConfig.S3OutputPath``), the job's ``annotations/worker-response/`` and
``manifests/output/`` are listed, and only objects not read before (a URI not in the
bookkeeping table ``response_objects``, or one whose ETag changed) are fetched: a few at a time
in parallel (``PARALLEL_GETS`` threads, each call bounded as every call is, by
:class:`analytics.aws.EndpointWatch`), parsed by the same functions as files on disk, and
written in batches. A batch's rows are written before its objects are recorded as read, so an
interruption (Ctrl-C, kill -9, a network gone) leaves objects that the next sync reads again;
responses are keyed, so reading one twice changes nothing: a rerun gives the store an
uninterrupted sync would have.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from analytics.errors import AccessDeniedError, AwsError, NotFoundError, UsageError
from analytics.progress import Progress
from analytics.responses.parse import (
    ParsedResponses,
    job_file,
    parse_output_manifest,
    parse_worker_response,
)
from analytics.responses.tables import StoredResponses, add_counts, store_parsed
from analytics.sources.s3_job_outputs import (
    S3Object,
    job_output_prefix,
    list_job_output_objects,
    read_object,
)
from analytics.store import schema
from analytics.store.store import Store

#: Objects fetched at once. GETs of small objects spend their time waiting for the network,
#: not the CPU; 8 keep a connection pool busy without looking like a flood.
PARALLEL_GETS = 8
#: Objects fetched, parsed and written per batch: what an interruption can cost at most. Each
#: batch rewrites the ``responses`` and ``response_objects`` tables whole, so a batch is large
#: enough that a job of 300,000 objects is 30 rewrites, not 150.
OBJECTS_PER_BATCH = 10_000
#: The largest object read; a larger one is rejected as ``too_large`` (a worker-response file is
#: a few KB; an output manifest of a million objects a few hundred MB).
MAX_OBJECT_BYTES = 512 << 20


@dataclass
class JobOutputsResult:
    """What reading the job outputs from S3 did, over every job."""

    jobs: int = 0
    objects_listed: int = 0
    objects_read: int = 0
    stored: StoredResponses = field(default_factory=StoredResponses)
    #: One line per job whose outputs could not be read (named: job, bucket, IAM action).
    warnings: list[str] = field(default_factory=list)


def jobs_with_outputs(jobs: pa.Table) -> list[tuple[str, str]]:
    """``(job name, s3_output_path)`` of each job of the jobs table with an output path."""
    names = jobs.column("labeling_job_name").to_pylist()
    paths = jobs.column("s3_output_path").to_pylist()
    return sorted((n, p) for n, p in zip(names, paths, strict=True) if n and p)


def read_job_outputs(
    store: Store,
    listing_client: Callable[[], Any],
    fetching_client: Callable[[], Any],
    *,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> JobOutputsResult:
    """Read every known job's new output objects from S3 into ``store``.

    ``listing_client`` gives the S3 client the listings use (on this thread);
    ``fetching_client`` builds one for each fetching thread, with a watch of its own forked from
    the run's (:meth:`analytics.aws.EndpointWatch.fork`: a watch serves one thread). A job whose
    bucket cannot be listed or read gives a warning naming it; the others are read.
    """
    result = JobOutputsResult()
    jobs = jobs_with_outputs(store.read_table("jobs"))
    result.jobs = len(jobs)
    if not jobs:
        return result
    local = threading.local()

    def client() -> Any:
        if not hasattr(local, "client"):
            local.client = fetching_client()
        return local.client

    read_before = _read_objects(store)
    with ThreadPoolExecutor(PARALLEL_GETS, thread_name_prefix="gt-s3-get") as pool:
        for job_name, output_path in jobs:
            try:
                bucket, prefix = job_output_prefix(output_path, job_name)
                listed = list_job_output_objects(listing_client(), bucket, prefix)
            except (AwsError, UsageError) as exc:
                result.warnings.append(f"job {job_name}: outputs not read: {exc}")
                continue
            wanted = [
                (item, kind)
                for item in listed
                if (kind := job_file(item.key[len(prefix) :].split("/"))) is not None
            ]
            result.objects_listed += len(wanted)
            fresh = [(i, k) for i, k in wanted if read_before.get(i.uri) != i.etag]
            try:
                _read_job(store, pool, client, job_name, fresh, result, progress, now)
            except AwsError as exc:
                result.warnings.append(f"job {job_name}: outputs only partly read: {exc}")
    return result


def _read_objects(store: Store) -> dict[str, str | None]:
    table = store.read_table("response_objects")
    return dict(zip(table.column("uri").to_pylist(), table.column("etag").to_pylist(), strict=True))


def _fetch(client: Callable[[], Any], item: S3Object) -> bytes | AwsError:
    try:
        return read_object(client(), item, MAX_OBJECT_BYTES)
    except NotFoundError as exc:
        return exc  # deleted since it was listed
    except AwsError as exc:
        return exc


def _read_job(
    store: Store,
    pool: ThreadPoolExecutor,
    client: Callable[[], Any],
    job_name: str,
    items: Sequence[tuple[S3Object, Any]],
    result: JobOutputsResult,
    progress: Progress | None,
    now: dt.datetime | None,
) -> None:
    for start in range(0, len(items), OBJECTS_PER_BATCH):
        batch = items[start : start + OBJECTS_PER_BATCH]
        parsed = ParsedResponses()
        done: list[S3Object] = []
        fetched = pool.map(lambda pair: _fetch(client, pair[0]), batch)
        for (item, kind), data in zip(batch, fetched, strict=True):
            if isinstance(data, NotFoundError):
                continue
            if isinstance(data, AccessDeniedError):
                raise data  # the rest of the job is denied too
            if isinstance(data, AwsError):
                result.warnings.append(f"job {job_name}: {item.uri} not read: {data}")
                continue
            if len(data) > MAX_OBJECT_BYTES:
                parsed.reject_file(
                    item.uri, "too_large", f"larger than {MAX_OBJECT_BYTES:,} bytes", data[:4096]
                )
            elif kind.kind == "output-manifest":
                parse_output_manifest(data, job_name=job_name, source=item.uri, into=parsed)
            else:
                parse_worker_response(
                    data, job_name=job_name, where=kind, source=item.uri, into=parsed
                )
            done.append(item)
        stored = store_parsed(store, parsed)
        result.stored = add_counts(result.stored, stored)
        result.objects_read += len(done)
        _record_read(store, job_name, done, now or dt.datetime.now(dt.UTC))
        if progress is not None:
            progress(
                start + len(batch),
                len(items),
                f"worker responses: {job_name}: {result.stored.responses_new:,} new",
            )


def _record_read(store: Store, job_name: str, items: Sequence[S3Object], now: dt.datetime) -> None:
    if not items:
        return
    table = pa.table(
        {
            "uri": pa.array([i.uri for i in items], pa.string()),
            "etag": pa.array([i.etag for i in items], pa.string()),
            "labeling_job_name": pa.array([job_name] * len(items), pa.string()),
            "read_at": pa.array([now] * len(items), schema.UTC_MS),
        },
        schema=schema.RESPONSE_OBJECTS,
    )
    store.upsert_table("response_objects", table)
