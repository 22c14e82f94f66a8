"""Arrow schemas of every table in the local store, with their version.

The store is read by our code and by any Parquet reader (pyarrow.dataset, DuckDB, Athena), so every
column has an explicit type: times are ``timestamp[ms, UTC]``, never strings. Bump
``STORE_SCHEMA_VERSION`` when a change is not backward compatible; ``Store`` refuses to open a store
written by a newer version rather than misread it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType

import pyarrow as pa

#: 2: event keys are XXH3-128 instead of MD5 (issue 2: MD5 alone cost as much CPU as the whole
#: ingest may take). ``Store`` re-keys a version-1 store's events from ``raw_message`` before its
#: first write.
STORE_SCHEMA_VERSION = 2

UTC_MS = pa.timestamp("ms", tz="UTC")

#: The partition of events without a time. Not ``__HIVE_DEFAULT_PARTITION__`` (a null
#: partition value), which earlier versions used: pyarrow cannot infer the type of a partition
#: column whose only value is null, nor pandas unify it with dated partitions.
NO_DATE_PARTITION = "unknown"
LEGACY_NO_DATE_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def is_partition_name(name: str) -> bool:
    """Whether ``name`` names a partition of ``events/``: ``date=YYYY-MM-DD`` (a real day),
    ``date=unknown``, or the legacy timeless folder the store renames when idle."""
    value = name.removeprefix("date=")
    if value == name:
        return False
    if value in (NO_DATE_PARTITION, LEGACY_NO_DATE_PARTITION):
        return True
    try:
        return dt.date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


#: Each outcome event type and the time field of its message that says when it happened (the time
#: that ends the task). Any other ``event_type`` (e.g. ``TasksAccepted``) is kept and shown but
#: counts toward no outcome metric.
OUTCOME_TIME_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "TasksSubmitted": "task_submitted_time",
        "TasksReturned": "task_returned_time",
        "TasksDeclined": "task_declined_time",
    }
)
#: The outcome event types, in the order of their codes in ``analytics.metrics.outcomes``.
OUTCOME_EVENT_TYPES = tuple(OUTCOME_TIME_FIELDS)

#: The string fields of a worker-activity message, as Ground Truth writes them.
MESSAGE_STRING_FIELDS = (
    "worker_id",
    "cognito_user_pool_id",
    "cognito_sub_id",
    "workteam_arn",
    "labeling_job_arn",
    "work_requester_account_id",
    "job_reference_code",
    "job_type",
    "event_type",
)

#: The time fields of a message: ``Wed Aug 14 16:00:59 UTC 2019`` or ISO 8601; ``""`` means none.
MESSAGE_TIME_FIELDS = (
    "task_accepted_time",
    "task_submitted_time",
    "task_returned_time",
    "task_declined_time",
)

EVENTS = pa.schema(
    [
        pa.field("event_key", pa.binary(16), nullable=False),
        pa.field("worker_key", pa.string(), nullable=False),
        pa.field("worker_id", pa.string()),
        pa.field("cognito_user_pool_id", pa.string()),
        pa.field("cognito_sub_id", pa.string()),
        pa.field("event_type", pa.string(), nullable=False),
        # The time the event is filed under: outcome time, else accepted time, else
        # event_timestamp; from the message only (so one message text always lands in one
        # partition). Null when the message has no usable time.
        pa.field("event_time", UTC_MS),
        pa.field("task_accepted_time", UTC_MS),
        pa.field("task_submitted_time", UTC_MS),
        pa.field("task_returned_time", UTC_MS),
        pa.field("task_declined_time", UTC_MS),
        pa.field("event_timestamp", UTC_MS),
        pa.field("workteam_arn", pa.string()),
        pa.field("workteam_name", pa.string()),
        pa.field("labeling_job_arn", pa.string()),
        pa.field("labeling_job_name", pa.string()),
        pa.field("work_requester_account_id", pa.string()),
        pa.field("job_reference_code", pa.string()),
        pa.field("job_type", pa.string()),
        # CloudWatch envelope, when the event came through one (API, envelope lines, CLI output).
        pa.field("log_timestamp", UTC_MS),
        pa.field("log_stream_name", pa.string()),
        # Where the event was first seen: a file path, or ``cloudwatch:<log group>``.
        pa.field("source", pa.string(), nullable=False),
        # Comma-separated names of time fields that were present but could not be parsed or
        # were implausible (``log_timestamp``: the envelope's ``timestamp`` or the export line's
        # time); such a time is stored as null.
        pa.field("time_issues", pa.string()),
        pa.field("raw_message", pa.string(), nullable=False),
    ],
    metadata={"gt_throughput_schema_version": str(STORE_SCHEMA_VERSION)},
)

#: Lines that could not become an event, with where they came from and why.
REJECTED = pa.schema(
    [
        pa.field("reject_key", pa.binary(16), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        # 1-based line number in a file, or the CloudWatch eventId for API reads.
        pa.field("location", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string()),
        pa.field("raw_text", pa.string(), nullable=False),
        pa.field("rejected_at", UTC_MS, nullable=False),
    ],
    metadata={"gt_throughput_schema_version": str(STORE_SCHEMA_VERSION)},
)

#: Cognito users (ListUsers), one row per user pool and sub.
#: ``status`` of a sub seen in worker activity that the user pool no longer has (deleted user?).
#: Cognito's own statuses are upper case words too, but never this one.
UNKNOWN_USER_STATUS = "NOT_IN_COGNITO"
USERS = pa.schema(
    [
        pa.field("user_pool_id", pa.string(), nullable=False),
        pa.field("sub", pa.string(), nullable=False),
        pa.field("username", pa.string()),
        pa.field("email", pa.string()),
        pa.field("name", pa.string()),
        pa.field("status", pa.string()),
        pa.field("enabled", pa.bool_()),
        pa.field("created", UTC_MS),
        pa.field("last_modified", UTC_MS),
    ]
)

#: Work teams (ListWorkteams + DescribeWorkteam), one row per team and member definition.
WORKTEAMS = pa.schema(
    [
        pa.field("workteam_name", pa.string(), nullable=False),
        pa.field("workteam_arn", pa.string(), nullable=False),
        pa.field("workforce_arn", pa.string()),
        pa.field("description", pa.string()),
        # "cognito" or "oidc"
        pa.field("member_kind", pa.string()),
        pa.field("user_pool_id", pa.string()),
        pa.field("user_group", pa.string()),
        pa.field("oidc_groups", pa.string()),
        pa.field("created", UTC_MS),
        pa.field("last_updated", UTC_MS),
    ]
)

#: Team membership from Cognito ListUsersInGroup: who could work, whether or not they did.
MEMBERSHIPS = pa.schema(
    [
        pa.field("workteam_name", pa.string(), nullable=False),
        pa.field("workteam_arn", pa.string(), nullable=False),
        pa.field("user_pool_id", pa.string(), nullable=False),
        pa.field("user_group", pa.string(), nullable=False),
        pa.field("sub", pa.string(), nullable=False),
        pa.field("username", pa.string()),
        pa.field("email", pa.string()),
    ]
)

#: Labeling jobs (ListLabelingJobs + DescribeLabelingJob + ListLabelingJobsForWorkteam).
JOBS = pa.schema(
    [
        pa.field("labeling_job_name", pa.string(), nullable=False),
        pa.field("labeling_job_arn", pa.string()),
        pa.field("status", pa.string()),
        pa.field("workteam_arn", pa.string()),
        pa.field("task_title", pa.string()),
        pa.field("task_time_limit_seconds", pa.int64()),
        pa.field("max_concurrent_task_count", pa.int64()),
        pa.field("workers_per_object", pa.int64()),
        pa.field("is_streaming", pa.bool_()),
        pa.field("sns_topic_arn", pa.string()),
        pa.field("total_labeled", pa.int64()),
        pa.field("human_labeled", pa.int64()),
        pa.field("machine_labeled", pa.int64()),
        pa.field("failed_non_retryable", pa.int64()),
        pa.field("unlabeled", pa.int64()),
        pa.field("pending_human", pa.int64()),
        pa.field("job_reference_code", pa.string()),
        pa.field("work_requester_account_id", pa.string()),
        pa.field("created", UTC_MS),
        pa.field("last_modified", UTC_MS),
        # DescribeLabelingJob OutputConfig.S3OutputPath: the job's outputs are under
        # ``<s3_output_path>/<job name>/`` (worker responses, output manifest).
        pa.field("s3_output_path", pa.string()),
    ]
)

#: CloudWatch metric data points (AWS/SageMaker/Workteam, and AWS/SQS for backlog age).
METRICS = pa.schema(
    [
        pa.field("namespace", pa.string(), nullable=False),
        pa.field("metric_name", pa.string(), nullable=False),
        pa.field("statistic", pa.string(), nullable=False),
        pa.field("period_seconds", pa.int64(), nullable=False),
        pa.field("timestamp", UTC_MS, nullable=False),
        pa.field("value", pa.float64(), nullable=False),
        # The full dimension set as sorted JSON, plus the well-known dimensions as columns.
        pa.field("dimensions", pa.string(), nullable=False),
        pa.field("workteam", pa.string()),
        pa.field("labeling_job", pa.string()),
        pa.field("worker", pa.string()),
        pa.field("queue_name", pa.string()),
    ]
)

#: Streaming job backlog snapshots (SQS GetQueueAttributes), appended at every sync.
BACKLOG = pa.schema(
    [
        pa.field("queue_name", pa.string(), nullable=False),
        pa.field("labeling_job_name", pa.string(), nullable=False),
        pa.field("observed_at", UTC_MS, nullable=False),
        pa.field("messages_visible", pa.int64()),
        pa.field("messages_in_flight", pa.int64()),
        pa.field("oldest_message_age_seconds", pa.float64()),
    ]
)

#: Worker answers from a labeling job's worker-response files
#: (``annotations/worker-response/iteration-<N>/<object index>/<timestamp>.json``), one row per
#: response: (job, object index, worker, submission time). See ``analytics.responses``.
RESPONSES = pa.schema(
    [
        pa.field("labeling_job_name", pa.string(), nullable=False),
        pa.field("iteration", pa.int32()),
        pa.field("object_index", pa.int64(), nullable=False),
        # The file's ``workerId`` (``private.<region>.<id>``).
        pa.field("worker_id", pa.string(), nullable=False),
        # workerMetadata.identityData: ``sub`` is the activity log's ``cognito_sub_id``.
        pa.field("sub", pa.string()),
        pa.field("identity_provider_type", pa.string()),
        pa.field("issuer", pa.string()),
        pa.field("acceptance_time", UTC_MS),
        pa.field("submission_time", UTC_MS, nullable=False),
        # ``timeSpentInSeconds``: active time, pauses excluded; null when absent or not a finite
        # number >= 0.
        pa.field("active_seconds", pa.float64()),
        # ``answerContent`` as canonical JSON (orjson, sorted keys).
        pa.field("answer", pa.string()),
        # The path or ``s3://`` URI the response was first read from.
        pa.field("source", pa.string()),
    ]
)

#: Consolidated labels from a job's ``manifests/output/output.manifest`` (line i = object i).
CONSOLIDATED = pa.schema(
    [
        pa.field("labeling_job_name", pa.string(), nullable=False),
        pa.field("object_index", pa.int64(), nullable=False),
        pa.field("label_attribute", pa.string()),
        # The metadata's ``type`` (groundtruth/image-classification, ...); null when absent.
        pa.field("task_type", pa.string()),
        # ``<attr>`` and ``<attr>-metadata`` as canonical JSON.
        pa.field("label", pa.string()),
        pa.field("metadata", pa.string()),
        pa.field("source", pa.string()),
    ]
)

#: Gold answers of a job (``gt-throughput gold``): replaced per job as a whole.
GOLD = pa.schema(
    [
        pa.field("labeling_job_name", pa.string(), nullable=False),
        pa.field("object_index", pa.int64(), nullable=False),
        pa.field("label", pa.string()),
        pa.field("loaded_at", UTC_MS),
    ]
)

#: The S3 objects of job output folders already read by sync (so a sync reads only new ones).
RESPONSE_OBJECTS = pa.schema(
    [
        pa.field("uri", pa.string(), nullable=False),
        pa.field("etag", pa.string()),
        pa.field("labeling_job_name", pa.string()),
        pa.field("read_at", UTC_MS),
    ]
)

#: Snapshot and append tables besides the events, by name, with their unique key columns.
TABLES: dict[str, tuple[pa.Schema, tuple[str, ...]]] = {
    "users": (USERS, ("user_pool_id", "sub")),
    "workteams": (WORKTEAMS, ("workteam_arn", "user_pool_id", "user_group")),
    "memberships": (MEMBERSHIPS, ("workteam_arn", "user_pool_id", "user_group", "sub")),
    "jobs": (JOBS, ("labeling_job_name",)),
    "metrics": (
        METRICS,
        ("namespace", "metric_name", "statistic", "period_seconds", "timestamp", "dimensions"),
    ),
    "backlog": (BACKLOG, ("queue_name", "observed_at")),
    "responses": (
        RESPONSES,
        ("labeling_job_name", "object_index", "worker_id", "submission_time"),
    ),
    "consolidated": (CONSOLIDATED, ("labeling_job_name", "object_index")),
    "gold": (GOLD, ("labeling_job_name", "object_index")),
}

#: Tables a sync keeps for its own bookkeeping, not data to show: read and written like
#: ``TABLES`` (``Store.read_table`` ...) but not part of ``TeamData``.
BOOKKEEPING_TABLES: dict[str, tuple[pa.Schema, tuple[str, ...]]] = {
    "response_objects": (RESPONSE_OBJECTS, ("uri",)),
}


def table_spec(name: str) -> tuple[pa.Schema, tuple[str, ...]]:
    """The schema and key columns of store table ``name`` (``TABLES`` or ``BOOKKEEPING_TABLES``)."""
    spec = TABLES.get(name) or BOOKKEEPING_TABLES.get(name)
    if spec is None:
        raise KeyError(name)
    return spec
