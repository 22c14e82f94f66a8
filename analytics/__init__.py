"""groundtruth-throughput: analytics for SageMaker Ground Truth private labeling teams.

The names below are what the dashboard and the CLI use; everything else is internal. They are
imported on first use (PEP 562), so ``gt-throughput --help`` starts without loading pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analytics.dataset import Filters, TeamData, load_team_data, previous_period
    from analytics.errors import (
        AccessDeniedError,
        AwsError,
        CredentialsError,
        GroundTruthError,
        InputFileError,
        NotFoundError,
        ServiceUnavailableError,
        StoreError,
        ThrottledError,
        UsageError,
    )
    from analytics.export import export_csv, pseudonymize_frame, tasks_csv_bytes, workers_csv_bytes
    from analytics.ingest import IngestReport, ingest_paths
    from analytics.metrics.alerts import alerts
    from analytics.metrics.backlog import backlog_status
    from analytics.metrics.health import DataHealth, data_health
    from analytics.metrics.jobs_teams import job_summary, team_summary
    from analytics.metrics.kpis import kpis
    from analytics.metrics.outcomes import task_table
    from analytics.metrics.returns import ReturnsSummary, returns_summary
    from analytics.metrics.sessions import worker_sessions
    from analytics.metrics.throughput import (
        active_workers_series,
        activity_heatmap,
        task_time_histogram,
        task_time_quantiles,
        throughput_series,
    )
    from analytics.metrics.workers import Thresholds, worker_summary
    from analytics.parsing import ParseResult, parse_bytes, parse_lines, parse_log_events
    from analytics.sample import build_sample_store
    from analytics.store import Store
    from analytics.sync import SyncOptions, SyncReport

_WHERE = {
    "AccessDeniedError": "errors",
    "AwsError": "errors",
    "CredentialsError": "errors",
    "GroundTruthError": "errors",
    "InputFileError": "errors",
    "NotFoundError": "errors",
    "ServiceUnavailableError": "errors",
    "StoreError": "errors",
    "ThrottledError": "errors",
    "UsageError": "errors",
    "ParseResult": "parsing",
    "parse_bytes": "parsing",
    "parse_lines": "parsing",
    "parse_log_events": "parsing",
    "Store": "store",
    "IngestReport": "ingest",
    "ingest_paths": "ingest",
    "SyncOptions": "sync",
    "SyncReport": "sync",
    "build_sample_store": "sample",
    "Filters": "dataset",
    "TeamData": "dataset",
    "load_team_data": "dataset",
    "previous_period": "dataset",
    "Thresholds": "metrics.workers",
    "worker_summary": "metrics.workers",
    "job_summary": "metrics.jobs_teams",
    "team_summary": "metrics.jobs_teams",
    "kpis": "metrics.kpis",
    "alerts": "metrics.alerts",
    "task_table": "metrics.outcomes",
    "throughput_series": "metrics.throughput",
    "active_workers_series": "metrics.throughput",
    "activity_heatmap": "metrics.throughput",
    "task_time_quantiles": "metrics.throughput",
    "task_time_histogram": "metrics.throughput",
    "worker_sessions": "metrics.sessions",
    "DataHealth": "metrics.health",
    "data_health": "metrics.health",
    "ReturnsSummary": "metrics.returns",
    "returns_summary": "metrics.returns",
    "backlog_status": "metrics.backlog",
    "export_csv": "export",
    "workers_csv_bytes": "export",
    "tasks_csv_bytes": "export",
    "pseudonymize_frame": "export",
}

# ``analytics.sync`` (the function) is left out: the name is the submodule's.
__all__ = [
    "AccessDeniedError",
    "AwsError",
    "CredentialsError",
    "DataHealth",
    "Filters",
    "GroundTruthError",
    "IngestReport",
    "InputFileError",
    "NotFoundError",
    "ParseResult",
    "ReturnsSummary",
    "ServiceUnavailableError",
    "Store",
    "StoreError",
    "SyncOptions",
    "SyncReport",
    "TeamData",
    "Thresholds",
    "ThrottledError",
    "UsageError",
    "active_workers_series",
    "activity_heatmap",
    "alerts",
    "backlog_status",
    "build_sample_store",
    "data_health",
    "export_csv",
    "ingest_paths",
    "job_summary",
    "kpis",
    "load_team_data",
    "parse_bytes",
    "parse_lines",
    "parse_log_events",
    "previous_period",
    "pseudonymize_frame",
    "returns_summary",
    "task_table",
    "task_time_histogram",
    "task_time_quantiles",
    "tasks_csv_bytes",
    "team_summary",
    "throughput_series",
    "worker_sessions",
    "worker_summary",
    "workers_csv_bytes",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'analytics' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"analytics.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
