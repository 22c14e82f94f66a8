"""Sync from AWS: worker activity, Workteam metrics, identities, teams, jobs and backlog.

Each part runs on its own and degrades on its own: a missing permission or an unavailable API
gives a warning naming the IAM action to grant, and the other parts still sync. Only the worker
activity logs decide the exit code.

Worker activity is read with FilterLogEvents over ``[since, until)`` cut into windows of about a
day (epoch milliseconds). After each window the store holds its events and the checkpoint of the
account, region and log group moves to the window's end, so an interruption (Ctrl-C, kill -9,
network loss) loses at most the window in flight. The next sync starts ``LOG_OVERLAP`` before the
checkpoint, because CloudWatch may ingest an event after a later one; the store keeps each event
once (its key is a hash of the message text), so re-reading the overlap adds nothing twice and a
rerun after an interruption leaves exactly the store an uninterrupted sync would have.

State (``DIR/state.json``)::

    {"logs":    {"<account>/<region>/<log group>": {"synced_until_epoch_ms": ..., ...}},
     "metrics": {"<account>/<region>": {"synced_until": "<ISO time>"}},
     "last_sync": {"<part>": {"at": ..., "ok": ..., "message": ...,
                              "last_success_at": ..., "last_error_at": ..., "last_error": ...}},
     "schedule": {...}}   (what ``gt-throughput serve`` records: analytics.service.schedule)
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from analytics.aws import (
    DEFAULT_ANSWER_TIMEOUT_SECONDS,
    EndpointWatch,
    converting_errors,
    make_client,
    make_session,
)
from analytics.errors import AwsError, NotFoundError, UsageError
from analytics.ingest.parse import parse_log_events
from analytics.progress import Progress
from analytics.responses import s3 as responses_s3
from analytics.sources import cloudwatch_logs, cognito, sagemaker, sqs, workteam_metrics
from analytics.sources._convert import as_utc, epoch_ms, table_from_rows
from analytics.store import schema
from analytics.store.store import Store
from analytics.text import escape_controls

#: How far back a first sync reaches when ``--since`` is not given.
FIRST_SYNC_SPAN = dt.timedelta(days=14)
#: How much before the checkpoint the next sync re-reads, for events CloudWatch ingests late.
LOG_OVERLAP = dt.timedelta(minutes=15)
#: How much before the checkpoint the next metrics sync re-reads (metrics arrive late too).
METRIC_OVERLAP = dt.timedelta(hours=1)
#: The target length of one FilterLogEvents window: what an interruption can cost at most.
LOG_WINDOW = dt.timedelta(days=1)
#: Events buffered before they are written, inside a window (bounds memory on busy days).
FLUSH_EVENTS = 50_000
#: Look-back of the ApproximateAgeOfOldestMessage metric read at each sync.
BACKLOG_AGE_LOOKBACK = dt.timedelta(minutes=15)
#: A call waiting longer than this for an answer is named on the progress line, once a second.
WAIT_SHOWN_AFTER_SECONDS = 1.0
#: The largest ``--aws-timeout``: beyond, a dead endpoint would keep a sync silent for too long.
MAX_ANSWER_TIMEOUT_SECONDS = 600.0
#: Streaming jobs whose queue is read: a stopped or completed job's queue is gone.
ACTIVE_JOB_STATUSES = frozenset({"Initializing", "InProgress", "Stopping"})

PART_LOGS = "worker activity"
PART_TEAMS = "work teams"
PART_JOBS = "labeling jobs"
PART_USERS = "identities"
PART_MEMBERS = "team members"
PART_BACKLOG = "streaming backlog"
PART_METRICS = "workteam metrics"
PART_RESPONSES = "worker responses"


@dataclass(frozen=True)
class SyncOptions:
    """What to sync, from the ``sync`` command line.

    ``since`` and ``until`` are timezone-aware; None means "since the last sync (or 14 days on
    a first sync)" and "now". ``answer_timeout_seconds`` is ``--aws-timeout``: how long one
    attempt waits for an endpoint's answer (see :class:`analytics.aws.EndpointWatch` for how it
    bounds the whole sync).
    """

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    log_group: str = cloudwatch_logs.DEFAULT_LOG_GROUP
    answer_timeout_seconds: float = DEFAULT_ANSWER_TIMEOUT_SECONDS


@dataclass
class PartResult:
    """What one part did: ``ok`` is False when it could not sync; ``warnings`` say why."""

    name: str
    ok: bool = True
    detail: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class SyncReport:
    """What a sync did, part by part."""

    account: str
    region: str
    start: dt.datetime
    end: dt.datetime
    parts: list[PartResult] = field(default_factory=list)
    new_events: int = 0
    duplicate_events: int = 0
    rejected_lines: int = 0
    log_windows: int = 0
    log_pages: int = 0

    @property
    def logs_synced(self) -> bool:
        """True when the worker activity logs were synced."""
        return all(p.ok for p in self.parts if p.name == PART_LOGS)

    @property
    def exit_code(self) -> int:
        """0 unless the worker activity logs could not be synced."""
        return 0 if self.logs_synced else 1

    @property
    def warnings(self) -> list[str]:
        """Every part's warnings, prefixed by the part."""
        return [f"{p.name}: {w}" for p in self.parts for w in p.warnings]

    def part(self, name: str) -> PartResult:
        """The result of part ``name``."""
        return next(p for p in self.parts if p.name == name)

    def summary_text(self) -> str:
        """A few lines for the terminal: one per part, then the warnings."""
        lines = [
            f"synced account {self.account} in {self.region}, "
            f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"
        ]
        for part in self.parts:
            state = "ok" if part.ok else "NOT SYNCED"
            lines.append(f"  {part.name}: {escape_controls(part.detail or state)}")
        # Warnings quote what endpoints sent (error messages, bodies): one line each, literal.
        lines.extend(f"warning: {escape_controls(w)}" for w in self.warnings)
        return "\n".join(lines)


# --------------------------------------------------------------------------- windows
def plan_log_windows(
    start_epoch_ms: int, end_epoch_ms: int, window_ms: int | None = None
) -> list[tuple[int, int]]:
    """``[start, end)`` cut into equal windows of about ``window_ms`` (one day by default).

    The count is rounded, not ceiled, so a range a little longer than a day (a daily sync plus
    its overlap) stays one window: one FilterLogEvents scan, the fewest calls.
    """
    if end_epoch_ms <= start_epoch_ms:
        return []
    window_ms = window_ms or int(LOG_WINDOW.total_seconds() * 1000)
    count = max(1, round((end_epoch_ms - start_epoch_ms) / window_ms))
    bounds = [start_epoch_ms + (end_epoch_ms - start_epoch_ms) * i // count for i in range(count)]
    bounds.append(end_epoch_ms)
    return list(itertools.pairwise(bounds))


# --------------------------------------------------------------------------- state
def _update_state(store: Store, section: str, key: str, value: dict[str, Any]) -> None:
    def change(state: dict[str, Any]) -> None:
        state.setdefault(section, {})[key] = value

    store.update_state(change)


def _record_part(store: Store, part: PartResult, now: dt.datetime) -> None:
    """Record this run of ``part``, keeping its last success and its last error: a part that
    fails today still says when it last worked, and one that recovered what last went wrong."""
    message = "; ".join(part.warnings) or None

    def change(state: dict[str, Any]) -> None:
        entries = state.setdefault("last_sync", {})
        previous = entries.get(part.name, {})
        entry = {"at": now.isoformat(), "ok": part.ok, "message": message}
        for key in ("last_success_at", "last_error_at", "last_error"):
            entry[key] = previous.get(key)
        if part.ok:
            entry["last_success_at"] = now.isoformat()
        else:
            entry["last_error_at"], entry["last_error"] = now.isoformat(), message
        entries[part.name] = entry

    store.update_state(change)


# --------------------------------------------------------------------------- parts
class _Clients:
    """Clients built on first use, all by :func:`analytics.aws.make_client`."""

    def __init__(self, session: Any, endpoint_url: str | None, watch: EndpointWatch) -> None:
        self._session = session
        self._endpoint_url = endpoint_url
        self._watch = watch
        self._clients: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = make_client(
                service, self._session, self._endpoint_url, self._watch
            )
        return self._clients[service]

    def for_another_thread(self, service: str) -> Any:
        """A new client of ``service`` whose watch is forked from the run's (one per thread)."""
        return make_client(service, self._session, self._endpoint_url, self._watch.fork())


class _WaitReporter:
    """Forwards progress and, while a call waits for an answer, says so once a second.

    A call blocked in botocore gives no callback, so a daemon thread reads the watch and redraws
    the last progress line with what is awaited: ``waiting 12 s for logs.us-east-1.amazonaws.com
    (FilterLogEvents)``.
    """

    def __init__(self, progress: Progress, watch: EndpointWatch) -> None:
        self._progress = progress
        self._watch = watch
        self._lock = threading.Lock()
        self._last: tuple[int, int | None, str] = (0, None, "")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="sync-wait-reporter", daemon=True)
        self._thread.start()

    def __call__(self, done: int, total: int | None, label: str) -> None:
        with self._lock:
            self._last = (done, total, label)
            self._progress(done, total, label)

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            waiting = self._watch.waiting()
            if waiting is None or waiting[2] < WAIT_SHOWN_AFTER_SECONDS:
                continue
            host, operation, seconds = waiting
            with self._lock:
                done, total, label = self._last
                part = label.split(":", 1)[0].rstrip(".")
                text = f"{part}: waiting {seconds:.0f} s for {host} ({operation})"
                self._progress(done, total, text)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _sync_worker_activity(
    store: Store,
    clients: _Clients,
    checkpoint_key: str,
    options: SyncOptions,
    start: dt.datetime,
    end: dt.datetime,
    report: SyncReport,
    progress: Progress | None,
) -> PartResult:
    part = PartResult(PART_LOGS)
    client = clients("logs")
    source = cloudwatch_logs.source_name(options.log_group)
    windows = plan_log_windows(epoch_ms(start), epoch_ms(end))
    report.log_windows = len(windows)
    for done, (window_start_ms, window_end_ms) in enumerate(windows):
        buffered: list[dict[str, Any]] = []
        for page in cloudwatch_logs.filter_log_event_pages(
            client, options.log_group, window_start_ms, window_end_ms
        ):
            report.log_pages += 1
            buffered.extend(page)
            if len(buffered) >= FLUSH_EVENTS:
                _store_log_events(store, buffered, source, report)
                buffered = []
            if progress is not None:
                progress(done, len(windows), f"{PART_LOGS}: {report.new_events:,} new events")
        _store_log_events(store, buffered, source, report)
        _advance_log_checkpoint(store, checkpoint_key, window_start_ms, window_end_ms)
        if progress is not None:
            progress(done + 1, len(windows), f"{PART_LOGS}: {report.new_events:,} new events")
    part.detail = (
        f"{report.new_events:,} new events, {report.duplicate_events:,} already stored,"
        f" {report.rejected_lines:,} rejected lines ({len(windows)} window"
        f"{'s' if len(windows) != 1 else ''},"
        f" {report.log_pages} FilterLogEvents pages)"
    )
    return part


def _store_log_events(
    store: Store, events: list[dict[str, Any]], source: str, report: SyncReport
) -> None:
    if not events:
        return
    result = parse_log_events(events, source)
    added = store.add_events(result.events)
    report.new_events += added.new
    report.duplicate_events += added.duplicates
    report.rejected_lines += store.add_rejected(result.rejected)


def _advance_log_checkpoint(
    store: Store, checkpoint_key: str, window_start_ms: int, window_end_ms: int
) -> None:
    """Move the checkpoint to ``window_end_ms`` if the window joins what is already synced."""
    entry = store.read_state().get("logs", {}).get(checkpoint_key, {})
    synced_ms = entry.get("synced_until_epoch_ms")
    if synced_ms is not None and (window_start_ms > synced_ms or window_end_ms <= synced_ms):
        return  # a gap before this window, or nothing new: "fully synced until" holds as is
    synced_until = dt.datetime.fromtimestamp(window_end_ms / 1000, tz=dt.UTC)
    value = {"synced_until_epoch_ms": window_end_ms, "synced_until": synced_until.isoformat()}
    _update_state(store, "logs", checkpoint_key, value)


def _sync_responses(
    store: Store, clients: _Clients, progress: Progress | None, now: dt.datetime
) -> PartResult:
    part = PartResult(PART_RESPONSES)
    result = responses_s3.read_job_outputs(
        store,
        lambda: clients("s3"),
        lambda: clients.for_another_thread("s3"),
        progress=progress,
        now=now,
    )
    part.warnings.extend(result.warnings)
    stored = result.stored
    if not result.jobs:
        part.detail = "no labeling job with an S3 output path"
        return part
    part.detail = (
        f"{result.objects_read:,} new objects of {result.objects_listed:,} in {result.jobs}"
        f" job output folders: {stored.responses_new:,} new responses,"
        f" {stored.responses_rejected + stored.files_rejected:,} rejected,"
        f" {stored.labels_new:,} new or changed labels"
    )
    return part


def _sync_workteams(store: Store, clients: _Clients) -> PartResult:
    part = PartResult(PART_TEAMS)
    client = clients("sagemaker")
    teams = sagemaker.list_workteams(client)
    descriptions = [sagemaker.describe_workteam(client, t["WorkteamName"]) for t in teams]
    table = sagemaker.workteams_from_descriptions(descriptions)
    store.replace_table("workteams", table)
    part.detail = (
        f"{len(descriptions)} teams, {len(sagemaker.cognito_groups(table))} Cognito groups"
    )
    return part


def _sync_jobs(store: Store, clients: _Clients) -> PartResult:
    part = PartResult(PART_JOBS)
    client = clients("sagemaker")
    stored = {row["labeling_job_name"]: row for row in store.read_table("jobs").to_pylist()}
    rows: dict[str, dict[str, Any]] = dict(stored)
    described = 0
    for summary in sagemaker.list_labeling_jobs(client):
        name = summary["LabelingJobName"]
        known = stored.get(name)
        unchanged = (
            known is not None
            and known.get("last_modified") == as_utc(summary.get("LastModifiedTime"))
            and known.get("status") == summary.get("LabelingJobStatus")
            # Stored before the output path was kept: described again once to learn it.
            and known.get("s3_output_path") is not None
        )
        if not unchanged:
            rows[name] = sagemaker.job_row(sagemaker.describe_labeling_job(client, name))
            described += 1
    team_arns = sorted(set(store.read_table("workteams").column("workteam_arn").to_pylist()))
    summaries: dict[str, list[dict[str, Any]]] = {}
    for arn in team_arns:
        try:
            summaries[arn] = sagemaker.list_labeling_jobs_for_workteam(client, arn)
        except NotFoundError as exc:
            part.warnings.append(str(exc))
    table = sagemaker.jobs_table(sagemaker.merge_workteam_summaries(rows, summaries))
    store.replace_table("jobs", table)
    streaming = sum(1 for s in table.column("is_streaming").to_pylist() if s)
    part.detail = f"{table.num_rows} jobs ({streaming} streaming), {described} described anew"
    return part


def pool_subs_in_events(store: Store) -> dict[str, set[str]]:
    """The Cognito subs seen in the stored events, by user pool (events without a pool skipped)."""
    events = store.load_events(columns=["cognito_user_pool_id", "cognito_sub_id"])
    pairs = events.group_by(["cognito_user_pool_id", "cognito_sub_id"]).aggregate([])
    found: dict[str, set[str]] = {}
    for pool, sub in zip(
        pairs.column("cognito_user_pool_id").to_pylist(),
        pairs.column("cognito_sub_id").to_pylist(),
        strict=True,
    ):
        if pool:  # workers without Cognito fields (OIDC workforces) keep their own id
            found.setdefault(pool, set())
            if sub:
                found[pool].add(sub)
    return found


def _sync_users(store: Store, clients: _Clients) -> PartResult:
    part = PartResult(PART_USERS)
    client = clients("cognito-idp")
    subs_by_pool = pool_subs_in_events(store)
    for _, _, pool, _ in sagemaker.cognito_groups(store.read_table("workteams")):
        subs_by_pool.setdefault(pool, set())
    if not subs_by_pool:
        part.detail = "no Cognito user pool in the events or the teams"
        return part
    synced: list[pa.Table] = []
    unknown = 0
    for pool in sorted(subs_by_pool):
        try:
            users = cognito.users_from_pages(pool, cognito.list_user_pages(client, pool))
        except NotFoundError as exc:
            part.warnings.append(f"{exc}; its workers show as unknown identities")
            users = schema.USERS.empty_table()
        missing = cognito.unknown_users(pool, subs_by_pool[pool], users)
        unknown += missing.num_rows
        synced.extend([users, missing])
    listed = pa.concat_tables(synced)
    previous = store.read_table("users")
    others = previous.filter(
        pc.invert(pc.is_in(previous.column("user_pool_id"), pa.array(sorted(subs_by_pool))))
    )
    store.replace_table("users", pa.concat_tables([others, listed.cast(schema.USERS)]))
    part.detail = (
        f"{listed.num_rows - unknown} users in {len(subs_by_pool)} user pools,"
        f" {unknown} worker identities not in Cognito (deleted users?) marked unknown"
    )
    return part


def _sync_members(store: Store, clients: _Clients) -> PartResult:
    part = PartResult(PART_MEMBERS)
    groups = sagemaker.cognito_groups(store.read_table("workteams"))
    if not groups:
        part.detail = "no team with a Cognito member group"
        return part
    client = clients("cognito-idp")
    tables = []
    # Any other failure (AccessDenied) fails the part and keeps the last sync's memberships.
    for team_name, team_arn, pool, group in groups:
        try:
            pages = cognito.list_group_member_pages(client, pool, group)
        except NotFoundError as exc:
            part.warnings.append(str(exc))
            continue
        tables.append(cognito.memberships_from_pages(team_name, team_arn, pool, group, pages))
    table = pa.concat_tables([schema.MEMBERSHIPS.empty_table(), *tables])
    store.replace_table("memberships", table)
    part.detail = f"{table.num_rows} memberships in {len(groups)} Cognito groups"
    return part


def _sync_backlog(store: Store, clients: _Clients, now: dt.datetime) -> PartResult:
    part = PartResult(PART_BACKLOG)
    jobs = [
        row
        for row in store.read_table("jobs").to_pylist()
        if row["is_streaming"] and row["status"] in ACTIVE_JOB_STATUSES
    ]
    if not jobs:
        part.detail = "no streaming job in progress"
        return part
    queue_names = {
        row["labeling_job_name"]: sqs.queue_name_for_job(row["labeling_job_name"]) for row in jobs
    }
    ages = _oldest_message_ages(clients, sorted(queue_names.values()), now, part, store)
    client = clients("sqs")
    rows = []
    for job_name, queue_name in sorted(queue_names.items()):
        try:
            attributes = sqs.get_queue_attributes(client, queue_name)
        except NotFoundError:
            part.warnings.append(
                f"queue {queue_name} of streaming job {job_name} not found: the job may have"
                " stopped since the jobs were listed"
            )
            continue
        rows.append(sqs.backlog_row(job_name, queue_name, attributes, now, ages.get(queue_name)))
    store.upsert_table("backlog", table_from_rows(rows, schema.BACKLOG))
    part.detail = f"{len(rows)} queue snapshots appended"
    return part


def _oldest_message_ages(
    clients: _Clients, queue_names: list[str], now: dt.datetime, part: PartResult, store: Store
) -> dict[str, float]:
    """The latest ApproximateAgeOfOldestMessage per queue; a warning (not a failure) if denied."""
    metrics = [sqs.oldest_message_age_metric(name) for name in queue_names]
    queries = workteam_metrics.build_queries(metrics, ("Maximum",), 60)
    start = workteam_metrics.align_down(now - BACKLOG_AGE_LOOKBACK, 60)
    try:
        table = workteam_metrics.fetch_metric_data(clients("cloudwatch"), queries, start, now)
    except AwsError as exc:
        part.warnings.append(f"{exc}; backlog saved without the age of the oldest message")
        return {}
    store.upsert_table("metrics", table)
    latest: dict[str, tuple[dt.datetime, float]] = {}
    for row in table.to_pylist():
        name, moment = row["queue_name"], row["timestamp"]
        if name not in latest or moment > latest[name][0]:
            latest[name] = (moment, row["value"])
    return {name: value for name, (_, value) in latest.items()}


def _sync_metrics(
    store: Store,
    clients: _Clients,
    checkpoint_key: str,
    options: SyncOptions,
    default_start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
) -> PartResult:
    part = PartResult(PART_METRICS)
    client = clients("cloudwatch")
    synced = as_utc(
        store.read_state().get("metrics", {}).get(checkpoint_key, {}).get("synced_until")
    )
    start = options.since or (synced - METRIC_OVERLAP if synced else default_start)
    oldest = now - dt.timedelta(seconds=workteam_metrics.OLDEST_METRIC_AGE_SECONDS)
    if start < oldest:
        part.warnings.append(
            f"CloudWatch keeps metrics 455 days: reading from {oldest:%Y-%m-%d},"
            f" not {start:%Y-%m-%d}"
        )
        start = oldest
    period_seconds = workteam_metrics.period_for_window(start, now) or 3_600
    start = workteam_metrics.align_down(start, period_seconds)
    end = workteam_metrics.align_down(end, period_seconds)
    if end <= start:
        part.detail = "nothing new"
        return part
    metrics = workteam_metrics.list_metrics(client, workteam_metrics.WORKTEAM_NAMESPACE)
    queries = workteam_metrics.build_queries(
        metrics, workteam_metrics.WORKTEAM_STATISTICS, period_seconds
    )
    table = workteam_metrics.fetch_metric_data(client, queries, start, end)
    start_ms, end_ms = pa.scalar(start, schema.UTC_MS), pa.scalar(end, schema.UTC_MS)

    def other_period_in_range(stored: pa.Table) -> pa.Array:
        # The same metrics at another period over this range would be counted twice by anyone
        # summing per day: the fresh period replaces them.
        return pc.and_(
            pc.and_(
                pc.equal(stored["namespace"], workteam_metrics.WORKTEAM_NAMESPACE),
                pc.not_equal(stored["period_seconds"], period_seconds),
            ),
            pc.and_(
                pc.greater_equal(stored["timestamp"], start_ms),
                pc.less(stored["timestamp"], end_ms),
            ),
        )

    store.upsert_table("metrics", table, replacing=other_period_in_range)
    if synced is None or synced < end:
        _update_state(store, "metrics", checkpoint_key, {"synced_until": end.isoformat()})
    part.detail = (
        f"{table.num_rows:,} data points of {len(metrics)} metrics at {period_seconds} s periods"
    )
    return part


def _run_part(
    report: SyncReport,
    store: Store,
    name: str,
    now: dt.datetime,
    progress: Progress | None,
    run: Callable[[], PartResult],
) -> None:
    if progress is not None:
        progress(0, None, f"{name}...")
    try:
        part = run()
    except AwsError as exc:
        part = PartResult(name, ok=False, detail="not synced", warnings=[str(exc)])
    report.parts.append(part)
    _record_part(store, part, now)


def _caller_account(clients: _Clients) -> str:
    client = clients("sts")
    with converting_errors(client, "the account of the credentials"):
        return str(client.get_caller_identity()["Account"])


def sync_from_aws(
    store: Store,
    options: SyncOptions,
    *,
    session: Any = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> SyncReport:
    """Sync every part from AWS into ``store``; each part degrades on its own.

    Parameters
    ----------
    store
        The local store to fill.
    options
        Region, profile, endpoint, time range and log group (see :class:`SyncOptions`).
    session
        A ``boto3.Session``; None builds one from ``options.profile`` and ``options.region``
        with boto3's standard credential chain.
    progress
        Called as each part advances (see :class:`analytics.progress.Progress`).
    now
        The current time (timezone-aware); None for the clock. Tests pass one.

    Returns
    -------
    SyncReport
        Per-part results and warnings; ``exit_code`` is non-zero only when the worker activity
        logs could not be synced.

    Raises
    ------
    UsageError
        ``--since`` is not before ``--until``, ``--aws-timeout`` is out of range, or no region
        is configured.
    CredentialsError
        No usable credentials: nothing can be synced.
    ServiceUnavailableError
        The endpoint gave no usable answer to the first call (sts:GetCallerIdentity), within
        one answer timeout: nothing can be synced.
    """
    now = now or dt.datetime.now(dt.UTC)
    timeout = options.answer_timeout_seconds
    if not 0 < timeout <= MAX_ANSWER_TIMEOUT_SECONDS:
        raise UsageError(
            f"--aws-timeout {timeout:g}: give a number of seconds above 0 and at most"
            f" {MAX_ANSWER_TIMEOUT_SECONDS:g} (default {DEFAULT_ANSWER_TIMEOUT_SECONDS:g})"
        )
    session = session or make_session(options.profile, options.region)
    watch = EndpointWatch(timeout)
    clients = _Clients(session, options.endpoint_url, watch)
    reporter = _WaitReporter(progress, watch) if progress is not None else None
    try:
        return _sync_parts(store, options, session, clients, reporter, now)
    finally:
        if reporter is not None:
            reporter.stop()
        close = getattr(progress, "close", None)
        if callable(close):
            close()


def _sync_parts(
    store: Store,
    options: SyncOptions,
    session: Any,
    clients: _Clients,
    progress: Progress | None,
    now: dt.datetime,
) -> SyncReport:
    region = str(session.region_name or "")
    if progress is not None:
        progress(0, None, "AWS account...")
    account = _caller_account(clients)
    logs_key = f"{account}/{region}/{options.log_group}"
    # Never past now: a checkpoint in the future would make later syncs skip what happens
    # until then.
    end = min(options.until or now, now)
    if options.since is not None:
        start = options.since
    else:
        synced_ms = (
            store.read_state().get("logs", {}).get(logs_key, {}).get("synced_until_epoch_ms")
        )
        if synced_ms is None:
            start = now - FIRST_SYNC_SPAN
        else:
            start = dt.datetime.fromtimestamp(synced_ms / 1000, tz=dt.UTC) - LOG_OVERLAP
    if start >= end:
        if options.since is not None:
            raise UsageError(
                f"--since must be before --until (got {start:%Y-%m-%d %H:%M} >="
                f" {end:%Y-%m-%d %H:%M})"
            )
        start = end  # already synced past --until: nothing to read
    report = SyncReport(account=account, region=region, start=start, end=end)
    default_metric_start = options.since or now - FIRST_SYNC_SPAN

    def run(name: str, body: Callable[[], PartResult]) -> None:
        _run_part(report, store, name, now, progress, body)

    run(
        PART_LOGS,
        lambda: _sync_worker_activity(
            store, clients, logs_key, options, start, end, report, progress
        ),
    )
    run(PART_TEAMS, lambda: _sync_workteams(store, clients))
    run(PART_JOBS, lambda: _sync_jobs(store, clients))
    run(PART_USERS, lambda: _sync_users(store, clients))
    run(PART_MEMBERS, lambda: _sync_members(store, clients))
    run(PART_BACKLOG, lambda: _sync_backlog(store, clients, now))
    run(
        PART_METRICS,
        lambda: _sync_metrics(
            store, clients, f"{account}/{region}", options, default_metric_start, end, now
        ),
    )
    run(
        PART_RESPONSES,
        lambda: _sync_responses(store, clients, progress, now),
    )
    return report
