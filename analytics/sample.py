"""A store built from the bundled ``sample_logs/``, so the dashboard works with no AWS at all.

The log files go through the same ingest as ``gt-throughput ingest``; the recorded API exchanges
under ``sample_logs/aws/`` (one JSON file per call: ``operation``, ``request``, ``response``,
``recorded_at``) go through the same transforms as ``gt-throughput sync``
(:mod:`analytics.sources`), so the sample store is what a sync of that account would give.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from analytics.ingest.run import ingest_paths
from analytics.responses.tables import parse_gold, store_gold
from analytics.sources import cognito, sagemaker, sqs, workteam_metrics
from analytics.sources._convert import as_utc, table_from_rows
from analytics.store import schema
from analytics.store.store import Store
from analytics.sync import pool_subs_in_events

#: The bundled sample: ``logs/`` (files to ingest), ``aws/`` (recorded API exchanges), ``jobs/``
#: (labeling job output folders) and ``gold/`` (gold answers, one file per job).
SAMPLE_LOGS_DIR = Path(__file__).resolve().parent.parent / "sample_logs"
#: When the sample's gold answers count as loaded (fixed: building again changes nothing).
SAMPLE_GOLD_LOADED_AT = dt.datetime(2026, 11, 9, 0, 20, tzinfo=dt.UTC)


def load_exchanges(aws_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """The recorded exchanges under ``aws_dir`` by operation (``service:Operation``), sorted."""
    exchanges: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in sorted(aws_dir.rglob("*.json")):
        exchange = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(exchange, dict) and "operation" in exchange:
            exchanges[str(exchange["operation"])].append(exchange)
    return exchanges


def _responses(exchanges: Mapping[str, list[dict[str, Any]]], operation: str) -> list[Any]:
    return [e["response"] for e in exchanges.get(operation, [])]


def _users(store: Store, exchanges: Mapping[str, list[dict[str, Any]]]) -> pa.Table:
    pages_by_pool: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for exchange in exchanges.get("cognito-idp:ListUsers", []):
        pages_by_pool[exchange["request"]["UserPoolId"]].append(exchange["response"])
    subs_by_pool = pool_subs_in_events(store)
    tables = [schema.USERS.empty_table()]
    for pool, pages in sorted(pages_by_pool.items()):
        users = cognito.users_from_pages(pool, pages)
        tables += [users, cognito.unknown_users(pool, subs_by_pool.get(pool, set()), users)]
    return pa.concat_tables(tables)


def _memberships(workteams: pa.Table, exchanges: Mapping[str, list[dict[str, Any]]]) -> pa.Table:
    pages_by_group: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for exchange in exchanges.get("cognito-idp:ListUsersInGroup", []):
        request = exchange["request"]
        pages_by_group[(request["UserPoolId"], request["GroupName"])].append(exchange["response"])
    tables = [schema.MEMBERSHIPS.empty_table()]
    for team_name, team_arn, pool, group in sagemaker.cognito_groups(workteams):
        pages = pages_by_group.get((pool, group), [])
        tables.append(cognito.memberships_from_pages(team_name, team_arn, pool, group, pages))
    return pa.concat_tables(tables)


def _jobs(exchanges: Mapping[str, list[dict[str, Any]]]) -> pa.Table:
    summaries = {
        e["request"]["WorkteamArn"]: e["response"].get("LabelingJobSummaryList", [])
        for e in exchanges.get("sagemaker:ListLabelingJobsForWorkteam", [])
    }
    return sagemaker.jobs_from_descriptions(
        _responses(exchanges, "sagemaker:DescribeLabelingJob"), summaries
    )


def _metrics(exchanges: Mapping[str, list[dict[str, Any]]]) -> pa.Table:
    tables = [schema.METRICS.empty_table()]
    for exchange in exchanges.get("cloudwatch:GetMetricData", []):
        queries = workteam_metrics.queries_from_request(exchange["request"])
        tables.append(workteam_metrics.metric_rows_from_results(queries, [exchange["response"]]))
    return pa.concat_tables(tables)


def _backlog(
    jobs: pa.Table, metrics: pa.Table, exchanges: Mapping[str, list[dict[str, Any]]]
) -> pa.Table:
    job_by_queue = {
        sqs.queue_name_for_job(row["labeling_job_name"]): row["labeling_job_name"]
        for row in jobs.to_pylist()
        if row["is_streaming"]
    }
    ages: dict[str, list[tuple[Any, float]]] = defaultdict(list)
    for row in metrics.to_pylist():
        if row["metric_name"] == sqs.OLDEST_MESSAGE_AGE_METRIC and row["queue_name"]:
            ages[row["queue_name"]].append((row["timestamp"], row["value"]))
    rows = []
    for exchange in exchanges.get("sqs:GetQueueAttributes", []):
        queue_name = str(exchange["request"]["QueueUrl"]).rstrip("/").rsplit("/", 1)[-1]
        if queue_name not in job_by_queue:
            continue
        observed_at = as_utc(exchange["recorded_at"])
        earlier = [(t, v) for t, v in ages.get(queue_name, []) if t <= observed_at]
        age = max(earlier)[1] if earlier else None
        rows.append(
            sqs.backlog_row(
                job_by_queue[queue_name],
                queue_name,
                exchange["response"],
                exchange["recorded_at"],
                age,
            )
        )
    return table_from_rows(rows, schema.BACKLOG)


def build_sample_store(target_dir: Path, sample_dir: Path = SAMPLE_LOGS_DIR) -> Store:
    """The store of the bundled sample in ``target_dir``; running it again changes nothing.

    Parameters
    ----------
    target_dir
        Where to build the store (created if needed).
    sample_dir
        The sample: ``logs/`` to ingest and ``aws/`` recordings (default: ``sample_logs/``).

    Returns
    -------
    Store
        With events, rejected lines and the users, workteams, memberships, jobs, metrics and
        backlog tables, built by the same functions as a sync; the worker responses and
        consolidated labels of ``jobs/`` (job output folders) read as ingest reads them, and the
        gold answers of ``gold/<job>.gold`` stored as ``gt-throughput gold`` stores them.
    """
    store = Store(target_dir)
    ingest_paths(store, [sample_dir / "logs", sample_dir / "jobs"])
    for gold in sorted((sample_dir / "gold").glob("*.gold")):
        answers = parse_gold(gold.read_bytes(), str(gold))
        store_gold(store, gold.stem, answers, now=SAMPLE_GOLD_LOADED_AT)
    exchanges = load_exchanges(sample_dir / "aws")
    workteams = sagemaker.workteams_from_descriptions(
        _responses(exchanges, "sagemaker:DescribeWorkteam")
    )
    jobs = _jobs(exchanges)
    metrics = _metrics(exchanges)
    store.replace_table("workteams", workteams)
    store.replace_table("jobs", jobs)
    store.replace_table("users", _users(store, exchanges))
    store.replace_table("memberships", _memberships(workteams, exchanges))
    store.replace_table("metrics", metrics)
    store.replace_table("backlog", _backlog(jobs, metrics, exchanges))
    return store
