"""Fill the emulator from ``sample_logs/``: the same account the files and recordings describe.

Worker activity goes straight into moto's Logs backend (PutLogEvents refuses events older than
14 days, and the sample is older than that); the recorded Cognito, SageMaker and CloudWatch
exchanges seed moto's backends and the SageMaker fake.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto.cloudwatch.models import MetricAggregatedDatum, cloudwatch_backends
from moto.cognitoidp.models import cognitoidp_backends
from moto.logs.models import LogEvent, logs_backends
from moto.s3.models import s3_backends
from moto.sqs.models import sqs_backends

from analytics.ingest.run import ingest_paths
from analytics.sources._convert import as_utc, epoch_ms
from analytics.store.store import Store
from tests.aws_emulator.server import ACCOUNT_ID, Emulator

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_LOGS = REPO_ROOT / "sample_logs"
SAMPLE_REGION = "us-east-1"
SAMPLE_LOG_GROUP = "/aws/sagemaker/groundtruth/WorkerActivity"
DEFAULT_STREAM = "aws/sagemaker/groundtruth/worker-activity/123456789012-us-east-1/sample"


@dataclass(frozen=True)
class LogRecord:
    """One CloudWatch log event to seed."""

    timestamp_epoch_ms: int
    message: str
    stream: str = DEFAULT_STREAM


def recordings(operation: str, sample_dir: Path = SAMPLE_LOGS) -> list[dict[str, Any]]:
    """The recorded exchanges of ``operation`` (``service:Operation``), in file name order."""
    found = []
    for path in sorted((sample_dir / "aws").rglob("*.json")):
        exchange = json.loads(path.read_text(encoding="utf-8"))
        if exchange.get("operation") == operation:
            found.append(exchange)
    return found


@functools.cache
def sample_log_records(sample_dir: Path = SAMPLE_LOGS) -> tuple[LogRecord, ...]:
    """The sample files as CloudWatch events: each stored message and each rejected line.

    The files are read by the project's own ingest into a scratch store; each event's message
    text (the text its key is the MD5 of) becomes one log event at its CloudWatch timestamp, or
    at its event time when the file had no envelope.
    """
    with tempfile.TemporaryDirectory() as scratch:
        store = Store(Path(scratch) / "store")
        ingest_paths(store, [sample_dir / "logs"])
        columns = ["raw_message", "log_timestamp", "event_time", "log_stream_name"]
        events = store.load_events(columns=columns).to_pylist()
        rejected = store.load_rejected().to_pylist()
    records = []
    first = min(e["log_timestamp"] or e["event_time"] for e in events)
    for event in events:
        moment = event["log_timestamp"] or event["event_time"] or first
        stream = event["log_stream_name"] or DEFAULT_STREAM
        records.append(LogRecord(epoch_ms(moment), event["raw_message"], stream))
    for line in rejected:
        records.append(LogRecord(epoch_ms(first), line["raw_text"]))
    return tuple(records)


def seed_log_records(
    records: Iterable[LogRecord],
    *,
    region: str = SAMPLE_REGION,
    log_group: str = SAMPLE_LOG_GROUP,
    ingestion_epoch_ms: int | None = None,
) -> int:
    """Put ``records`` into ``log_group`` (created if needed); returns how many."""
    backend = logs_backends[ACCOUNT_ID][region]
    if log_group not in backend.groups:
        backend.create_log_group(log_group, {})
    group = backend.groups[log_group]
    count = 0
    for record in sorted(records, key=lambda r: r.timestamp_epoch_ms):
        if record.stream not in group.streams:
            group.create_log_stream(record.stream)
        event = {"timestamp": record.timestamp_epoch_ms, "message": record.message}
        ingestion = ingestion_epoch_ms or record.timestamp_epoch_ms + 1_000
        group.streams[record.stream].events.append(LogEvent(ingestion, event))
        count += 1
    return count


def _users(operation: str, sample_dir: Path) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for exchange in recordings(operation, sample_dir):
        for user in exchange["response"].get("Users", []):
            yield exchange["request"], user


def seed_cognito(sample_dir: Path = SAMPLE_LOGS, region: str = SAMPLE_REGION) -> str:
    """The recorded user pool, users and groups, with their recorded ids; returns the pool id."""
    backend = cognitoidp_backends[ACCOUNT_ID][region]
    pool_id = ""
    for request, user in [*_users("cognito-idp:ListUsers", sample_dir)]:
        pool_id = request["UserPoolId"]
        if pool_id not in backend.user_pools:
            pool = backend.create_user_pool("sample-workforce", {})
            del backend.user_pools[pool.id]
            pool.id = pool_id
            backend.user_pools[pool_id] = pool
        attributes = [a for a in user["Attributes"] if a["Name"] != "sub"]
        created = backend.admin_create_user(pool_id, user["Username"], "SUPPRESS", "", attributes)
        sub = next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")
        created.id = sub
        created.update_attributes([{"Name": "sub", "Value": sub}])
        created.status = user["UserStatus"]
        created.enabled = user["Enabled"]
    for request, user in _users("cognito-idp:ListUsersInGroup", sample_dir):
        group = request["GroupName"]
        if group not in backend.user_pools[request["UserPoolId"]].groups:
            backend.create_group(request["UserPoolId"], group, "", "", 0)
        backend.admin_add_user_to_group(request["UserPoolId"], group, user["Username"])
    return pool_id


def seed_sagemaker(emulator: Emulator, sample_dir: Path = SAMPLE_LOGS) -> None:
    """The recorded work teams, labeling jobs and per-team job lists into the fake."""
    for exchange in recordings("sagemaker:DescribeWorkteam", sample_dir):
        emulator.sagemaker.add_workteam(exchange["response"]["Workteam"])
    for exchange in recordings("sagemaker:DescribeLabelingJob", sample_dir):
        emulator.sagemaker.add_labeling_job(exchange["response"])
    for exchange in recordings("sagemaker:ListLabelingJobsForWorkteam", sample_dir):
        emulator.sagemaker.set_jobs_for_workteam(
            exchange["request"]["WorkteamArn"], exchange["response"]["LabelingJobSummaryList"]
        )


def seed_metrics(sample_dir: Path = SAMPLE_LOGS, region: str = SAMPLE_REGION) -> int:
    """The recorded Workteam metric data points (Sum with its SampleCount); returns how many."""
    backend = cloudwatch_backends[ACCOUNT_ID][region]
    count = 0
    for exchange in recordings("cloudwatch:GetMetricData", sample_dir):
        queries = {q["Id"]: q["MetricStat"] for q in exchange["request"]["MetricDataQueries"]}
        results = {r["Id"]: r for r in exchange["response"]["MetricDataResults"]}
        for query_id, stat in queries.items():
            metric = stat["Metric"]
            if stat["Stat"] != "Sum" or metric["Namespace"] != "AWS/SageMaker/Workteam":
                continue
            counts_id = query_id.removesuffix("_sum") + "_samplecount"
            counts = (
                dict(
                    zip(results[counts_id]["Timestamps"], results[counts_id]["Values"], strict=True)
                )
                if counts_id in results
                else {}
            )
            result = results[query_id]
            for timestamp, value in zip(result["Timestamps"], result["Values"], strict=True):
                backend.metric_data.append(
                    MetricAggregatedDatum(
                        namespace=metric["Namespace"],
                        name=metric["MetricName"],
                        sum_stat=float(value),
                        min_stat=0.0,
                        max_stat=float(value),
                        sample_count=float(counts.get(timestamp, 1.0)),
                        dimensions=metric["Dimensions"],
                        timestamp=as_utc(timestamp).replace(tzinfo=None),  # type: ignore[union-attr]
                        unit=None,
                    )
                )
                count += 1
    return count


def seed_streaming_queue(job_name: str, messages: int, region: str = SAMPLE_REGION) -> str:
    """The SQS queue of streaming job ``job_name`` holding ``messages`` messages."""
    backend = sqs_backends[ACCOUNT_ID][region]
    name = f"GroundTruth-{job_name.lower()}"
    backend.create_queue(name)
    for index in range(messages):
        backend.send_message(name, f"object-{index}")
    return name


#: The sample's jobs write their outputs under ``s3://<SAMPLE_BUCKET>/output/`` (their
#: recorded DescribeLabelingJob ``OutputConfig.S3OutputPath``).
SAMPLE_BUCKET = "example-gt-data-123456789012"
SAMPLE_OUTPUT_PREFIX = "output/"


def seed_s3_objects(bucket: str, objects: dict[str, bytes], region: str = SAMPLE_REGION) -> int:
    """Put ``objects`` (key -> bytes) into ``bucket`` (created if needed); returns how many."""
    backend = s3_backends[ACCOUNT_ID]["aws"]
    if bucket not in backend.buckets:
        backend.create_bucket(bucket, region)
    for key, value in objects.items():
        backend.put_object(bucket, key, value)
    return len(objects)


def job_folder_objects(folder: Path, prefix: str) -> dict[str, bytes]:
    """The files of a job output folder as S3 objects under ``<prefix><folder name>/``."""
    return {
        f"{prefix}{folder.name}/{path.relative_to(folder).as_posix()}": path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def seed_sample_job_outputs(sample_dir: Path = SAMPLE_LOGS) -> int:
    """The sample's job output folders (``jobs/<job>/``) into its output bucket."""
    objects: dict[str, bytes] = {}
    jobs = sample_dir / "jobs"
    for folder in sorted(jobs.iterdir()) if jobs.is_dir() else []:
        objects.update(job_folder_objects(folder, SAMPLE_OUTPUT_PREFIX))
    return seed_s3_objects(SAMPLE_BUCKET, objects)


def seed_sample_account(emulator: Emulator, sample_dir: Path = SAMPLE_LOGS) -> dict[str, Any]:
    """Everything of the sample account; returns what was seeded, for assertions."""
    records = sample_log_records(sample_dir)
    seed_log_records(records)
    pool_id = seed_cognito(sample_dir)
    seed_sagemaker(emulator, sample_dir)
    points = seed_metrics(sample_dir)
    queue = seed_streaming_queue("support-tickets-intent-stream", 5)
    job_objects = seed_sample_job_outputs(sample_dir)
    first = dt.datetime.fromtimestamp(min(r.timestamp_epoch_ms for r in records) / 1000, tz=dt.UTC)
    last = dt.datetime.fromtimestamp(max(r.timestamp_epoch_ms for r in records) / 1000, tz=dt.UTC)
    return {
        "log_records": len(records),
        "pool_id": pool_id,
        "metric_points": points,
        "queue": queue,
        "job_objects": job_objects,
        "first": first,
        "last": last,
    }
