"""groundtruth-throughput: analytics for SageMaker Ground Truth private labeling teams.

The names below are what the dashboard and the CLI use, and the library's API for scripts and
notebooks: the error tree (``GroundTruthError``, ``UsageError``, ``StoreError``, ``InputFileError``,
``AwsError``, ``AccessDeniedError``, ``CredentialsError``, ``NotFoundError``, ``ThrottledError``,
``ServiceUnavailableError``), ``parse_bytes``, ``parse_lines``, ``parse_log_events``,
``ParseResult``, ``load_team_data``, ``Thresholds``, ``IngestReport`` and ``SyncReport``.
Everything else is internal (``tests/unit/test_layers.py`` checks both). They are imported on first
use (PEP 562), so ``gt-throughput --help`` starts without loading pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analytics.cli.arguments import data_dir
    from analytics.cli.time_arguments import window_of_last
    from analytics.dataset import (
        Filters,
        TeamData,
        last_log_sync,
        load_team_data,
        previous_period,
        restrict,
        store_is_empty,
    )
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
    from analytics.export.csv_writer import definitions_csv_bytes
    from analytics.export.pseudonyms import pseudonym, pseudonymize_frame
    from analytics.export.tables import export_csv, tasks_csv_bytes, workers_csv_bytes
    from analytics.ingest.parse import ParseResult, parse_bytes, parse_lines, parse_log_events
    from analytics.ingest.rules import REJECT_REASONS
    from analytics.ingest.run import IngestReport, ingest_paths
    from analytics.metrics.alerts import alerts
    from analytics.metrics.backlog import backlog_status
    from analytics.metrics.definitions import DEFINITIONS, help_for
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
    from analytics.sample import SAMPLE_LOGS_DIR, build_sample_store
    from analytics.service.freshness import (
        freshness_line,
        stale_warning,
        sync_health,
    )
    from analytics.service.run import REFRESH_ENV_VAR
    from analytics.store.store import Store, StoreSummary, store_version
    from analytics.sync import SyncOptions, SyncReport
    from analytics.text import escape_controls, has_controls


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
    "ParseResult": "ingest.parse",
    "parse_bytes": "ingest.parse",
    "parse_lines": "ingest.parse",
    "parse_log_events": "ingest.parse",
    "Store": "store.store",
    "IngestReport": "ingest.run",
    "ingest_paths": "ingest.run",
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
    "data_health": "metrics.health",
    "returns_summary": "metrics.returns",
    "backlog_status": "metrics.backlog",
    "export_csv": "export.tables",
    "workers_csv_bytes": "export.tables",
    "tasks_csv_bytes": "export.tables",
    "pseudonymize_frame": "export.pseudonyms",
    "data_dir": "cli.arguments",
    "SAMPLE_LOGS_DIR": "sample",
    "store_is_empty": "dataset",
    "last_log_sync": "dataset",
    "restrict": "dataset",
    "StoreSummary": "store.store",
    "DataHealth": "metrics.health",
    "ReturnsSummary": "metrics.returns",
    "escape_controls": "text",
    "has_controls": "text",
    "DEFINITIONS": "metrics.definitions",
    "help_for": "metrics.definitions",
    "definitions_csv_bytes": "export.csv_writer",
    "pseudonym": "export.pseudonyms",
    "REJECT_REASONS": "ingest.rules",
    "window_of_last": "cli.time_arguments",
    "store_version": "store.store",
    "sync_health": "service.freshness",
    "freshness_line": "service.freshness",
    "stale_warning": "service.freshness",
    "REFRESH_ENV_VAR": "service.run",
}

# ``analytics.sync`` (the function) is left out: the name is the submodule's.
__all__ = [
    "DEFINITIONS",
    "REFRESH_ENV_VAR",
    "REJECT_REASONS",
    "SAMPLE_LOGS_DIR",
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
    "StoreSummary",
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
    "data_dir",
    "data_health",
    "definitions_csv_bytes",
    "escape_controls",
    "export_csv",
    "freshness_line",
    "has_controls",
    "help_for",
    "ingest_paths",
    "job_summary",
    "kpis",
    "last_log_sync",
    "load_team_data",
    "parse_bytes",
    "parse_lines",
    "parse_log_events",
    "previous_period",
    "pseudonym",
    "pseudonymize_frame",
    "restrict",
    "returns_summary",
    "stale_warning",
    "store_is_empty",
    "store_version",
    "sync_health",
    "task_table",
    "task_time_histogram",
    "task_time_quantiles",
    "tasks_csv_bytes",
    "team_summary",
    "throughput_series",
    "window_of_last",
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
