"""CloudWatch metrics: discover with ListMetrics, read Sum and SampleCount with GetMetricData.

Ground Truth publishes ``AWS/SageMaker/Workteam`` metrics (TasksSubmitted, TimeSpent, ActiveWorkers,
...) whose dimension sets are not fully documented, so they are discovered, never hard-coded.
``Average`` is not a valid statistic there: a mean is ``Sum / SampleCount``. The same functions read
``AWS/SQS`` ``ApproximateAgeOfOldestMessage`` for streaming backlogs.

API limits: GetMetricData takes at most 500 queries and returns at most 100,800 data points a call.
CloudWatch keeps 1-minute data 15 days, 5-minute data 63 days and 1-hour data 455 days.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from analytics.aws import converting_errors
from analytics.sources._convert import as_utc, table_from_rows
from analytics.store import schema

WORKTEAM_NAMESPACE = "AWS/SageMaker/Workteam"
WORKTEAM_STATISTICS = ("Sum", "SampleCount")
MAX_QUERIES_PER_CALL = 500
MAX_DATAPOINTS_PER_CALL = 100_800
#: (age of the oldest wanted point, finest period CloudWatch still keeps at that age), in seconds.
RETENTION_PERIODS_SECONDS = ((15 * 86_400, 60), (63 * 86_400, 300), (455 * 86_400, 3_600))
OLDEST_METRIC_AGE_SECONDS = RETENTION_PERIODS_SECONDS[-1][0]

#: Dimension names copied into their own columns of the metrics table.
_DIMENSION_COLUMNS = {
    "Workteam": "workteam",
    "LabelingJob": "labeling_job",
    "LabelingJobName": "labeling_job",
    "WorkerId": "worker",
    "QueueName": "queue_name",
}


@dataclass(frozen=True, order=True)
class MetricIdentity:
    """One metric: namespace, name and its dimension set as ``(name, value)`` pairs."""

    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]

    def dimensions_json(self) -> str:
        """The dimension set as sorted JSON, the form stored in the metrics table."""
        return json.dumps(dict(self.dimensions), sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class MetricQuery:
    """One GetMetricData query: which metric, which statistic, at which period."""

    query_id: str
    metric: MetricIdentity
    statistic: str
    period_seconds: int

    def to_api(self) -> dict[str, Any]:
        """The ``MetricDataQueries`` entry for this query."""
        return {
            "Id": self.query_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": self.metric.namespace,
                    "MetricName": self.metric.metric_name,
                    "Dimensions": [{"Name": n, "Value": v} for n, v in self.metric.dimensions],
                },
                "Period": self.period_seconds,
                "Stat": self.statistic,
            },
            "ReturnData": True,
        }


# --------------------------------------------------------------------------- transforms
def metrics_from_list_pages(pages: Iterable[Mapping[str, Any]]) -> list[MetricIdentity]:
    """The distinct metrics of ListMetrics pages, sorted (ListMetrics may repeat a metric)."""
    # Dimension sets compare as sets; the order ListMetrics gave is kept for the queries.
    found: dict[tuple[str, str, frozenset[tuple[str, str]]], MetricIdentity] = {}
    for page in pages:
        for metric in page.get("Metrics", []):
            dimensions = tuple(
                (str(d["Name"]), str(d["Value"])) for d in metric.get("Dimensions", [])
            )
            key = (metric["Namespace"], metric["MetricName"], frozenset(dimensions))
            found.setdefault(key, MetricIdentity(key[0], key[1], dimensions))
    return sorted(found.values())


RETENTION_MARGIN_SECONDS = 3_600


def period_for_window(start: dt.datetime, now: dt.datetime) -> int | None:
    """The finest period in seconds CloudWatch still keeps for data as old as ``start``.

    Returns None when ``start`` is older than 455 days: nothing is kept that long.
    """
    # An hour of margin: the request is made later than ``now`` (the logs part runs first), and
    # data just past a retention limit comes back empty rather than at a coarser period.
    age_seconds = (now - start).total_seconds() + RETENTION_MARGIN_SECONDS
    for max_age_seconds, period_seconds in RETENTION_PERIODS_SECONDS:
        if age_seconds <= max_age_seconds:
            return period_seconds
    return None


def build_queries(
    metrics: Sequence[MetricIdentity], statistics: Sequence[str], period_seconds: int
) -> list[MetricQuery]:
    """One query per metric and statistic, with ids ``q0``, ``q1``, ..."""
    queries: list[MetricQuery] = []
    for metric in metrics:
        for statistic in statistics:
            query_id = f"q{len(queries)}"
            queries.append(MetricQuery(query_id, metric, statistic, period_seconds))
    return queries


def batch_queries(
    queries: Sequence[MetricQuery], start: dt.datetime, end: dt.datetime
) -> list[list[MetricQuery]]:
    """Queries cut into GetMetricData calls of at most 500 queries and 100,800 data points."""
    if not queries:
        return []
    period_seconds = max(q.period_seconds for q in queries)
    points_per_query = max(1, math.ceil((end - start).total_seconds() / period_seconds))
    per_call = max(1, min(MAX_QUERIES_PER_CALL, MAX_DATAPOINTS_PER_CALL // points_per_query))
    return [list(queries[i : i + per_call]) for i in range(0, len(queries), per_call)]


def queries_from_request(request: Mapping[str, Any]) -> list[MetricQuery]:
    """The ``MetricStat`` queries of a recorded GetMetricData request (expressions are skipped)."""
    queries = []
    for entry in request.get("MetricDataQueries", []):
        stat = entry.get("MetricStat")
        if not stat:
            continue
        metric = stat["Metric"]
        dimensions = tuple((str(d["Name"]), str(d["Value"])) for d in metric.get("Dimensions", []))
        identity = MetricIdentity(metric["Namespace"], metric["MetricName"], dimensions)
        queries.append(MetricQuery(entry["Id"], identity, stat["Stat"], int(stat["Period"])))
    return queries


def metric_rows_from_results(
    queries: Sequence[MetricQuery], pages: Iterable[Mapping[str, Any]]
) -> pa.Table:
    """Rows of the metrics table from GetMetricData pages answering ``queries``."""
    by_id = {q.query_id: q for q in queries}
    rows: list[dict[str, Any]] = []
    for page in pages:
        for result in page.get("MetricDataResults", []):
            query = by_id.get(result.get("Id", ""))
            if query is None:
                continue
            named = dict(query.metric.dimensions)
            columns = {
                column: named[name] for name, column in _DIMENSION_COLUMNS.items() if name in named
            }
            for timestamp, value in zip(
                result.get("Timestamps", []), result.get("Values", []), strict=False
            ):
                rows.append(
                    {
                        "namespace": query.metric.namespace,
                        "metric_name": query.metric.metric_name,
                        "statistic": query.statistic,
                        "period_seconds": query.period_seconds,
                        "timestamp": as_utc(timestamp),
                        "value": float(value),
                        "dimensions": query.metric.dimensions_json(),
                        **columns,
                    }
                )
    return table_from_rows(rows, schema.METRICS)


def align_down(moment: dt.datetime, period_seconds: int) -> dt.datetime:
    """``moment`` rounded down to a multiple of ``period_seconds`` since the epoch."""
    epoch_seconds = int(moment.timestamp()) // period_seconds * period_seconds
    return dt.datetime.fromtimestamp(epoch_seconds, tz=dt.UTC)


# --------------------------------------------------------------------------- fetch
def list_metrics(client: Any, namespace: str) -> list[MetricIdentity]:
    """Every metric and dimension set of ``namespace`` (ListMetrics, deduplicated)."""
    with converting_errors(client, f"the list of {namespace} metrics"):
        pages = list(client.get_paginator("list_metrics").paginate(Namespace=namespace))
    return metrics_from_list_pages(pages)


def fetch_metric_data(
    client: Any, queries: Sequence[MetricQuery], start: dt.datetime, end: dt.datetime
) -> pa.Table:
    """GetMetricData for ``queries`` over ``[start, end)``, in batches within the API limits."""
    tables = [schema.METRICS.empty_table()]
    namespaces = sorted({q.metric.namespace for q in queries})
    with converting_errors(client, f"{', '.join(namespaces)} metric data"):
        for batch in batch_queries(queries, start, end):
            pages = client.get_paginator("get_metric_data").paginate(
                MetricDataQueries=[q.to_api() for q in batch],
                StartTime=start,
                EndTime=end,
                ScanBy="TimestampAscending",
            )
            tables.append(metric_rows_from_results(batch, pages))
    return pa.concat_tables(tables)
