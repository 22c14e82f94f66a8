"""Worker activity events from CloudWatch Logs (FilterLogEvents), in epoch-millisecond windows.

Ground Truth writes one event per worker task outcome to the log group
``/aws/sagemaker/groundtruth/WorkerActivity`` of the account and region that ran the job. The group
appears with the first task done there; teams created before August 2019 log only once logging was
turned on for them. FilterLogEvents returns at most 10,000 events or 1 MB a page, pages may be empty
while ``nextToken`` continues, and the API allows 5 requests per second per account and region.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from analytics.aws import converting_errors
from analytics.errors import NotFoundError

#: Where Ground Truth writes worker activity.
DEFAULT_LOG_GROUP = "/aws/sagemaker/groundtruth/WorkerActivity"


def missing_log_group_message(log_group: str, region: str) -> str:
    """What a missing worker activity log group usually means, for a manager."""
    return (
        f"log group {log_group} not found in {region}: either no Ground Truth task has been done"
        " by a private team in that region yet (the group appears with the first task), or the"
        " team was created before August 2019 and worker activity logging was never turned on"
        " for it; check --region and --log-group (see docs/sync.md)"
    )


def source_name(log_group: str) -> str:
    """The ``source`` recorded for events read from ``log_group``."""
    return f"cloudwatch:{log_group}"


def filter_log_event_pages(
    client: Any, log_group: str, start_epoch_ms: int, end_epoch_ms: int
) -> Iterator[list[dict[str, Any]]]:
    """The events of ``log_group`` timestamped in ``[start_epoch_ms, end_epoch_ms)``, by page.

    Parameters
    ----------
    client
        A ``logs`` client from :func:`analytics.aws.make_client`.
    log_group
        The log group name.
    start_epoch_ms, end_epoch_ms
        The window, in milliseconds since the epoch, end excluded (FilterLogEvents' ``endTime``
        is inclusive, so one millisecond is taken off).

    Yields
    ------
    list of dict
        Each page's ``events`` (``eventId``, ``timestamp``, ``ingestionTime``, ``logStreamName``,
        ``message``); a page may be empty.

    Raises
    ------
    NotFoundError
        The log group does not exist (the message says what that usually means).
    AwsError
        Any other failure, converted by :func:`analytics.aws.converting_errors`.
    """
    if end_epoch_ms <= start_epoch_ms:
        return
    paginator = client.get_paginator("filter_log_events")
    pages = paginator.paginate(
        logGroupName=log_group, startTime=start_epoch_ms, endTime=end_epoch_ms - 1
    )
    try:
        with converting_errors(client, f"the worker activity log group {log_group}"):
            for page in pages:
                yield list(page.get("events", []))
    except NotFoundError as exc:
        raise NotFoundError(
            missing_log_group_message(log_group, client.meta.region_name),
            operation=exc.operation,
        ) from exc
