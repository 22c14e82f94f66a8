"""Everything the pages read, cached in one place.

The expensive step, reading the store, is cached once per store version as a shared resource (an
immutable ``pyarrow`` table is never copied); cutting it to the sidebar's filters is cached per
filter set, and each metric is a ``st.cache_data`` wrapper around a pure ``analytics`` function,
keyed by the store version and the filters. A sync or an ingest changes the store version, so the
next rerun reads the new data without a restart.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import streamlit as st

import analytics as health
import analytics as metrics
import analytics as tasks
import analytics as throughput
from analytics import schema
from analytics.cli import DATA_ENV_VAR, DEFAULT_DATA_DIR
from analytics.dataset import (
    EVENT_COLUMNS,
    Filters,
    TeamData,
    last_log_sync,
    previous_period,
    restrict,
    store_is_empty,
    team_data_from_tables,
)
from analytics.metrics import backlog
from analytics.sample import SAMPLE_LOGS_DIR, build_sample_store
from analytics.store import Store, StoreSummary

TTL_SECONDS = 600
#: Where the bundled sample's store is built when there is no data of one's own.
SAMPLE_STORE_ENV_VAR = "GT_THROUGHPUT_SAMPLE_STORE"


@dataclass(frozen=True)
class Source:
    """The store the dashboard shows: its folder, whether it is the bundled sample, its version."""

    root: str
    is_sample: bool
    version: str
    configured_root: str


@dataclass(frozen=True)
class FilterKey:
    """The sidebar's filters in a hashable, cache-friendly form (ISO strings for times)."""

    since: str | None = None
    until: str | None = None
    workteams: tuple[str, ...] = ()
    jobs: tuple[str, ...] = ()

    def to_filters(self) -> Filters:
        return Filters(
            since=dt.datetime.fromisoformat(self.since) if self.since else None,
            until=dt.datetime.fromisoformat(self.until) if self.until else None,
            workteams=self.workteams,
            jobs=self.jobs,
        )

    @staticmethod
    def of(filters: Filters) -> FilterKey:
        return FilterKey(
            since=filters.since.isoformat() if filters.since else None,
            until=filters.until.isoformat() if filters.until else None,
            workteams=filters.workteams,
            jobs=filters.jobs,
        )


def store_version(root: Path) -> str:
    """A cheap fingerprint of the store's files: changes whenever a write lands."""
    parts: list[str] = []
    for folder in (root / "events", root / "rejected", root / "tables"):
        if not folder.is_dir():
            continue
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            stat = entry.stat()
            parts.append(f"{entry.name}:{stat.st_mtime_ns}:{stat.st_size}")
    state = root / "state.json"
    if state.exists():
        parts.append(f"state:{state.stat().st_mtime_ns}")
    return str(hash(tuple(parts)))


@st.cache_resource(show_spinner="Preparing the bundled sample team…")
def _sample_store_root() -> str:
    # Keyed on the sample's own description, so a release with a different sample never reuses
    # (and adds to) the store built from the previous one.
    version = hashlib.sha256((SAMPLE_LOGS_DIR / "planted.json").read_bytes()).hexdigest()[:12]
    default = Path.home() / ".cache" / "groundtruth-throughput" / f"sample-store-{version}"
    root = Path(os.environ.get(SAMPLE_STORE_ENV_VAR) or default)
    build_sample_store(root)
    return str(root)


def current_source() -> Source:
    """The configured store, or the bundled sample when that store is missing or empty."""
    configured = Path(os.environ.get(DATA_ENV_VAR) or DEFAULT_DATA_DIR)
    if configured.exists() and not store_is_empty(Store(configured)):
        return Source(str(configured), False, store_version(configured), str(configured))
    sample = Path(_sample_store_root())
    return Source(str(sample), True, store_version(sample), str(configured))


@dataclass(frozen=True)
class _StoreContents:
    events: pa.Table
    tables: dict[str, pa.Table]
    rejected: pa.Table
    last_log_sync: dt.datetime | None
    summary: StoreSummary
    state: dict[str, Any]


@st.cache_resource(max_entries=2, show_spinner="Reading the store…")
def _store_contents(root: str, version: str) -> _StoreContents:
    store = Store(root)
    state = store.read_state()
    events = store.load_events(columns=list(EVENT_COLUMNS), text_as_dictionary=True)
    tables = {name: store.read_table(name) for name in schema.TABLES}
    rejected = store.load_rejected()
    return _StoreContents(
        events=events,
        tables=tables,
        rejected=rejected,
        last_log_sync=last_log_sync(state),
        summary=store.summary(events=events, rejected=rejected, tables=tables),
        state=state,
    )


@st.cache_resource(max_entries=2, show_spinner="Reading the store…")
def _all_data(root: str, version: str) -> TeamData:
    """Everything in the store as pandas, converted once per store version."""
    contents = _store_contents(root, version)
    return team_data_from_tables(
        contents.events,
        tables=contents.tables,
        rejected=contents.rejected,
        last_log_sync=contents.last_log_sync,
    )


@st.cache_resource(max_entries=16, ttl=TTL_SECONDS, show_spinner=False)
def team_data(root: str, version: str, key: FilterKey) -> TeamData:
    """The store cut to ``key``'s filters (shared between sessions: TeamData is never mutated).

    Cut from the converted store with ``restrict``, which gives what loading with the filters
    gives at a fraction of the cost of converting again.
    """
    return cut(root, version, key)


def cut(root: str, version: str, key: FilterKey) -> TeamData:
    """The store cut to ``key``'s filters, computed now and not cached (see ``lending``)."""
    everything = _all_data(root, version)
    if key == FilterKey():
        return everything
    last_sync = _store_contents(root, version).last_log_sync
    return restrict(everything, key.to_filters(), last_log_sync=last_sync)


def store_summary(source: Source) -> StoreSummary:
    """What the store holds (events, range, rejected lines, tables)."""
    return _store_contents(source.root, source.version).summary


def sync_state(source: Source) -> dict[str, Any]:
    """The store's sync state: last sync of each part, checkpoints."""
    return _store_contents(source.root, source.version).state


def as_of(source: Source) -> pd.Timestamp:
    """The latest time the store knows of: latest event or last log sync."""
    return team_data(source.root, source.version, FilterKey()).as_of


def choices(source: Source) -> tuple[list[str], list[str]]:
    """Work team and labeling job names known to the store, for the sidebar."""
    data = team_data(source.root, source.version, FilterKey())
    # unique() first: converting a million values to str on every rerun took over a second.
    teams = set(data.events["workteam_name"].dropna().unique().astype("str"))
    teams |= set(data.workteams["workteam_name"].dropna().astype("str"))
    jobs = set(data.events["labeling_job_name"].dropna().unique().astype("str"))
    jobs |= set(data.jobs["labeling_job_name"].dropna().astype("str"))
    return sorted(teams), sorted(jobs)


# --------------------------------------------------------------------------- metric wrappers
_lent = threading.local()


@contextmanager
def lending(source: Source, frames: dict[FilterKey, TeamData]) -> Iterator[None]:
    """Within this block, on this thread only, the metric wrappers compute from ``frames``.

    For the look-ahead (``warmup.prefetch``): it fills the metric caches of views nobody opened
    yet without also keeping each view's cut of the store in the shared ``team_data`` cache.
    """
    _lent.frames = {(source.root, source.version, key): data for key, data in frames.items()}
    try:
        yield
    finally:
        _lent.frames = {}


def _data(source: Source, key: FilterKey) -> TeamData:
    lent: dict[tuple[str, str, FilterKey], TeamData] = getattr(_lent, "frames", {})
    borrowed = lent.get((source.root, source.version, key))
    return borrowed if borrowed is not None else team_data(source.root, source.version, key)


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def worker_table(source: Source, key: FilterKey) -> pd.DataFrame:
    """``metrics.worker_summary`` for the filters."""
    return metrics.worker_summary(_data(source, key))


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def job_table(source: Source, key: FilterKey) -> pd.DataFrame:
    """``metrics.job_summary`` for the filters."""
    return metrics.job_summary(_data(source, key))


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def team_table(source: Source, key: FilterKey) -> pd.DataFrame:
    """``metrics.team_summary`` for the filters."""
    return metrics.team_summary(_data(source, key))


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def kpi_table(source: Source, key: FilterKey) -> pd.DataFrame:
    """``metrics.kpis`` of the window against the same-length window before it."""
    current = _data(source, key)
    return metrics.kpis(current, _data(source, previous_key(key, current)))


def previous_key(key: FilterKey, current: TeamData) -> FilterKey:
    """The filters of the period the KPIs compare ``key``'s window with."""
    return FilterKey.of(previous_period(key.to_filters(), current.as_of))


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def backlog_table(source: Source, key: FilterKey) -> pd.DataFrame:
    """``backlog.backlog_status`` for the filters."""
    return backlog.backlog_status(_data(source, key))


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def alert_table(source: Source, key: FilterKey) -> pd.DataFrame:
    """``metrics.alerts`` (slow, idle, returns, backlog) for the filters."""
    data = _data(source, key)
    return metrics.alerts(data, worker_table(source, key), backlog_table(source, key))


@st.cache_data(ttl=TTL_SECONDS, max_entries=64, show_spinner=False)
def throughput_table(
    source: Source,
    key: FilterKey,
    by: Literal["workteam", "job", "worker"],
    freq: Literal["h", "D"],
    tz: str,
) -> pd.DataFrame:
    """``throughput.throughput_series`` for the filters."""
    return throughput.throughput_series(_data(source, key), by, freq, tz)


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def active_workers_table(
    source: Source, key: FilterKey, freq: Literal["h", "D"], tz: str
) -> pd.DataFrame:
    """``throughput.active_workers_series`` for the filters."""
    return throughput.active_workers_series(_data(source, key), freq, tz)


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def heatmap_table(source: Source, key: FilterKey, tz: str) -> pd.DataFrame:
    """``throughput.activity_heatmap`` for the filters."""
    return throughput.activity_heatmap(_data(source, key), tz)


@st.cache_data(ttl=TTL_SECONDS, max_entries=64, show_spinner=False)
def quantile_table(
    source: Source, key: FilterKey, by: Literal["workteam", "job", "worker"]
) -> pd.DataFrame:
    """``throughput.task_time_quantiles`` for the filters."""
    return throughput.task_time_quantiles(_data(source, key), by)


@st.cache_data(ttl=TTL_SECONDS, max_entries=64, show_spinner=False)
def histogram_table(
    source: Source, key: FilterKey, by: Literal["workteam", "job", "worker"], job: str | None
) -> pd.DataFrame:
    """``throughput.task_time_histogram`` for the filters."""
    return throughput.task_time_histogram(_data(source, key), by, job)


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def session_table(source: Source, key: FilterKey, gap_minutes: float) -> pd.DataFrame:
    """``throughput.worker_sessions`` for the filters."""
    return throughput.worker_sessions(_data(source, key), gap_minutes)


@st.cache_data(ttl=TTL_SECONDS, max_entries=64, show_spinner=False)
def task_rows(source: Source, key: FilterKey, worker_key: str | None) -> pd.DataFrame:
    """``tasks.task_table`` for the filters (one worker, or all)."""
    return tasks.task_table(_data(source, key), worker_key)


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def returns(source: Source, key: FilterKey) -> health.ReturnsSummary:
    """``health.returns_summary`` for the filters."""
    return health.returns_summary(_data(source, key))


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def data_health(source: Source, key: FilterKey) -> health.DataHealth:
    """``health.data_health`` for the filters."""
    return health.data_health(_data(source, key))


def overview_calls(
    source: Source,
    key: FilterKey,
    tz: str,
    by: Literal["workteam", "job"] = "workteam",
    freq: Literal["h", "D"] = "D",
) -> list[Callable[[], object]]:
    """The cached calls behind every number the Overview shows, heaviest first."""
    return [
        lambda: alert_table(source, key),  # worker_summary, the heaviest
        lambda: kpi_table(source, key),  # cuts the previous period too
        lambda: throughput_table(source, key, by, freq, tz),
        lambda: heatmap_table(source, key, tz),
    ]


_overview_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gt-overview")


def overview_numbers(
    source: Source,
    key: FilterKey,
    tz: str,
    by: Literal["workteam", "job"] = "workteam",
    freq: Literal["h", "D"] = "D",
) -> None:
    """Compute, two at a time, whatever of the Overview's numbers the caches do not hold yet.

    They are independent of one another and spend much of their time in NumPy and pandas code
    that lets the other thread run: on a change nothing prepared, a 30-day Overview of a million
    events takes about 0.4 s this way instead of 0.55 s one after the other.
    """
    for job in [_overview_pool.submit(call) for call in overview_calls(source, key, tz, by, freq)]:
        job.result()


def backlog_history(source: Source, key: FilterKey) -> pd.DataFrame:
    """The backlog snapshots of the streaming jobs in the filters."""
    return _data(source, key).backlog
