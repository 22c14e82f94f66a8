"""groundtruth-throughput: analytics for SageMaker Ground Truth private labeling teams.

The names imported in the ``TYPE_CHECKING`` block below are what the dashboard and the CLI use,
and the library's API for scripts and notebooks: the error tree (``GroundTruthError``,
``UsageError``, ``StoreError``, ``InputFileError``, ``AwsError``, ``AccessDeniedError``,
``CredentialsError``, ``NotFoundError``, ``ThrottledError``, ``ServiceUnavailableError``),
``parse_bytes``, ``parse_lines``, ``parse_log_events``, ``ParseResult``, ``load_team_data``,
``Thresholds``, ``IngestReport`` and ``SyncReport``. Everything else is internal
(``tests/unit/test_layers.py`` checks both). They are imported on first use (PEP 562), so
``gt-throughput --help`` starts without loading pandas. docs/architecture.md lists them by stage.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # THE public names, listed once: each imported from the module that defines it. Type checkers
    # read these imports; at run time ``_public_names`` reads this block, and each name is
    # imported from its module on first use (PEP 562).
    from analytics.access import (
        ALB_IDENTITY_HEADER,
        EVERYTHING,
        AccessSettings,
        IdentityRefused,
        Person,
        Scope,
        append_audit,
        check_exposure,
        grant_for,
        proxy_person,
        read_access_config,
        scope_team_data,
        serving_setup,
    )
    from analytics.athena import athena_ddl
    from analytics.cli.arguments import data_dir
    from analytics.cli.time_arguments import window_of_last
    from analytics.dataset import (
        Filters,
        TeamData,
        data_as_of,
        last_log_sync,
        load_team_data,
        previous_period,
        restrict,
        store_is_empty,
    )
    from analytics.digest.deliver import AwsTarget, SmtpServer
    from analytics.digest.send import DigestRequest, parse_deadline, send_digest
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
    from analytics.export.tables import (
        export_csv,
        tasks_csv_bytes,
        timesheet_csv_bytes,
        workers_csv_bytes,
    )
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
    from analytics.metrics.quality import (
        QUADRANTS,
        ResponseCoverage,
        gold_results,
        response_coverage,
        worker_job_quality,
    )
    from analytics.metrics.returns import ReturnsSummary, returns_summary
    from analytics.metrics.sessions import worker_sessions
    from analytics.metrics.staffing import STAFFING_ASSUMPTIONS, staffing_plan
    from analytics.metrics.throughput import (
        active_workers_series,
        activity_heatmap,
        task_time_histogram,
        task_time_quantiles,
        throughput_series,
    )
    from analytics.metrics.timesheet import timesheet, timesheet_totals
    from analytics.metrics.workers import Thresholds, worker_summary
    from analytics.publish import PublishOptions, publish_store
    from analytics.responses.tables import load_gold_file
    from analytics.s3_location import parse_s3_location
    from analytics.sample import SAMPLE_LOGS_DIR, build_sample_store
    from analytics.serve import check_can_serve, streamlit_command
    from analytics.service.config import load_config
    from analytics.service.freshness import (
        freshness_line,
        stale_warning,
        status_lines,
        sync_health,
    )
    from analytics.service.lock import sync_lock, sync_lock_holder
    from analytics.service.run import REFRESH_ENV_VAR, run_service
    from analytics.store.store import Store, StoreSummary, store_version
    from analytics.sync import SyncOptions, SyncReport, sync_from_aws
    from analytics.text import escape_controls, has_controls
    from analytics.timezones import check_timezone


def _public_names() -> dict[str, str]:
    """Each public name and its module (``ingest.run``), read from the ``TYPE_CHECKING`` block."""
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name)
        if node.test.id == "TYPE_CHECKING"
    )
    return {
        alias.asname or alias.name: node.module.removeprefix("analytics.")
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }


_WHERE = _public_names()
# ``analytics.sync`` is the submodule; its function is public as ``sync_from_aws``.
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'analytics' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"analytics.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
