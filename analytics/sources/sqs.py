"""Streaming-job backlog: read-only SQS GetQueueAttributes on ``GroundTruth-<job name>``.

A streaming labeling job keeps the objects waiting for a worker in an SQS queue named
``GroundTruth-<labeling job name in lower case>``. Sending to, receiving from, changing or deleting
that queue can make the job fail, so this module only ever calls GetQueueUrl and
GetQueueAttributes. The age of the oldest message is a CloudWatch metric (``AWS/SQS``
``ApproximateAgeOfOldestMessage``), read by :mod:`analytics.sources.workteam_metrics`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from analytics.aws import converting_errors
from analytics.sources._convert import as_int, as_utc
from analytics.sources.workteam_metrics import MetricIdentity

BACKLOG_ATTRIBUTES = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
SQS_NAMESPACE = "AWS/SQS"
OLDEST_MESSAGE_AGE_METRIC = "ApproximateAgeOfOldestMessage"


def queue_name_for_job(labeling_job_name: str) -> str:
    """The SQS queue Ground Truth feeds a streaming job from."""
    return f"GroundTruth-{labeling_job_name.lower()}"


def oldest_message_age_metric(queue_name: str) -> MetricIdentity:
    """The ``AWS/SQS`` metric giving the age in seconds of the queue's oldest message."""
    return MetricIdentity(SQS_NAMESPACE, OLDEST_MESSAGE_AGE_METRIC, (("QueueName", queue_name),))


def backlog_row(
    labeling_job_name: str,
    queue_name: str,
    attributes_response: Mapping[str, Any],
    observed_at: dt.datetime | str,
    oldest_message_age_seconds: float | None,
) -> dict[str, Any]:
    """A backlog-table row from a GetQueueAttributes response taken at ``observed_at``.

    ``messages_visible`` are objects waiting for a worker; ``messages_in_flight`` are handed to
    a worker and not yet done.
    """
    attributes = attributes_response.get("Attributes") or {}
    return {
        "queue_name": queue_name,
        "labeling_job_name": labeling_job_name,
        "observed_at": as_utc(observed_at),
        "messages_visible": as_int(attributes.get("ApproximateNumberOfMessages")),
        "messages_in_flight": as_int(attributes.get("ApproximateNumberOfMessagesNotVisible")),
        "oldest_message_age_seconds": oldest_message_age_seconds,
    }


def get_queue_attributes(client: Any, queue_name: str) -> dict[str, Any]:
    """GetQueueAttributes (backlog counts only) of queue ``queue_name``; read only."""
    with converting_errors(client, f"SQS queue {queue_name}"):
        queue_url = client.get_queue_url(QueueName=queue_name)["QueueUrl"]
        response: dict[str, Any] = client.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=list(BACKLOG_ATTRIBUTES)
        )
    return response
