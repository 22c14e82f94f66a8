"""Everything the pages read, cached in one place.

The expensive step, reading the store and converting it to pandas, is cached once per store
version as a shared resource (``TeamData`` is never mutated, so it is never copied); cutting it
to the sidebar's filters is cached per filter set, and each metric is a ``st.cache_data`` wrapper
around a pure ``analytics`` function, keyed by the store version and the filters. A sync or an
ingest changes the store version, so the next rerun reads the new data without a restart.

What a signed-in person may see is applied here, once: ``Source.scope`` (from their access
rules) cuts the converted store to their teams and pseudonymizes it for a viewer
(``scoped_store``), and every cut, metric, table, download and sidebar choice is made from that
result, so no page and no URL parameter can reach more.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

import analytics
from analytics import EVERYTHING, Filters, Scope, StoreSummary, TeamData

TTL_SECONDS = 600
#: Where the bundled sample's store is built when there is no data of one's own.
SAMPLE_STORE_ENV_VAR = "GT_THROUGHPUT_SAMPLE_STORE"


@dataclass(frozen=True)
class Source:
    """The store the dashboard shows: its folder, whether it is the bundled sample, its version,
    and the scope of the person looking (every team, names visible, unless they signed in)."""

    root: str
    is_sample: bool
    version: str
    configured_root: str
    scope: Scope = EVERYTHING


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
    """The store's version token (``analytics.store_version``): one small file read, changed
    by every write, so every cache below keyed on it rereads after a sync or an ingest."""
    return analytics.store_version(root)


@st.cache_resource(show_spinner="Preparing the bundled sample team…")
def _sample_store_root() -> str:
    # Keyed on the sample's own description, so a release with a different sample never reuses
    # (and adds to) the store built from the previous one.
    planted = analytics.SAMPLE_LOGS_DIR / "planted.json"
    version = hashlib.sha256(planted.read_bytes()).hexdigest()[:12]
    default = Path.home() / ".cache" / "groundtruth-throughput" / f"sample-store-{version}"
    root = Path(os.environ.get(SAMPLE_STORE_ENV_VAR) or default)
    analytics.build_sample_store(root)
    return str(root)


def choose_source(scope: Scope = EVERYTHING) -> Source:
    """The store to show, as ``scope`` may see it: the configured one (``gt-throughput dashboard
    --data``), or the bundled sample when that store is missing or empty."""
    configured = analytics.data_dir(None)
    if configured.exists() and not analytics.store_is_empty(analytics.Store(configured)):
        return Source(str(configured), False, store_version(configured), str(configured), scope)
    sample = Path(_sample_store_root())
    return Source(str(sample), True, store_version(sample), str(configured), scope)


@st.cache_resource(max_entries=2, show_spinner="Reading the store…")
def _whole_store(root: str, version: str) -> TeamData:
    """Everything in the store as pandas, read and converted once per store version."""
    return analytics.load_team_data(analytics.Store(root))


@st.cache_resource(max_entries=2, show_spinner=False)
def _store_state(root: str, version: str) -> dict[str, Any]:
    return analytics.Store(root).read_state()


@st.cache_resource(max_entries=2, show_spinner="Counting what the store holds…")
def _store_summary(root: str, version: str) -> StoreSummary:
    return analytics.Store(root).summary()


@st.cache_resource(max_entries=8, show_spinner="Reading the store…")
def scoped_store(root: str, version: str, scope: Scope) -> TeamData:
    """The converted store as ``scope`` may see it: THE point where access is enforced."""
    last_sync = analytics.last_log_sync(_store_state(root, version))
    return analytics.scope_team_data(_whole_store(root, version), scope, last_log_sync=last_sync)


@st.cache_resource(max_entries=16, ttl=TTL_SECONDS, show_spinner=False)
def team_data(root: str, version: str, key: FilterKey, scope: Scope = EVERYTHING) -> TeamData:
    """The store cut to ``key``'s filters (shared between sessions: TeamData is never mutated)."""
    return cut(root, version, key, scope)


def cut(root: str, version: str, key: FilterKey, scope: Scope = EVERYTHING) -> TeamData:
    """The store as ``scope`` may see it, cut to ``key``'s filters, computed now, not cached.

    Cut from the converted store with ``restrict``, which gives what loading with the filters
    gives at a fraction of the cost of converting again.
    """
    everything = scoped_store(root, version, scope)
    if key == FilterKey():
        return everything
    last_sync = analytics.last_log_sync(_store_state(root, version))
    return analytics.restrict(everything, key.to_filters(), last_log_sync=last_sync)


def store_summary(source: Source) -> StoreSummary:
    """What the store holds (events, range, rejected lines, tables), as the scope sees it."""
    if source.scope.is_everything:
        return _store_summary(source.root, source.version)
    return _scoped_summary(source.root, source.version, source.scope)


@st.cache_resource(max_entries=8, show_spinner=False)
def _scoped_summary(root: str, version: str, scope: Scope) -> StoreSummary:
    import dataclasses

    import pyarrow as pa

    class _Tables(dict[str, pa.Table]):
        def __missing__(self, name: str) -> pa.Table:
            return pa.table({})  # a store table the TeamData does not carry: none shown

    data = scoped_store(root, version, scope)
    columns = ["event_time", "worker_key", "workteam_arn", "labeling_job_arn", "event_type"]
    frames = {
        item.name: getattr(data, item.name)
        for item in dataclasses.fields(data)
        if isinstance(getattr(data, item.name), pd.DataFrame)
        and item.name not in ("events", "rejected")
    }
    # As ``load_events(text_as_dictionary=True)`` gives them, which ``summary`` expects.
    events = pa.table(
        {
            name: pa.array(data.events[name].astype("object"), pa.string()).dictionary_encode()
            if name != "event_time"
            else pa.Array.from_pandas(data.events[name])
            for name in columns
        }
    )
    return analytics.Store(root).summary(
        events=events,
        rejected=pa.Table.from_pandas(data.rejected, preserve_index=False),
        tables=_Tables(
            {
                name: pa.Table.from_pandas(frame, preserve_index=False)
                for name, frame in frames.items()
            }
        ),
    )


def sync_state(source: Source) -> dict[str, Any]:
    """The store's sync state: last sync of each part, checkpoints (for a scoped person,
    without the parts' messages, which may name any team)."""
    state = _store_state(source.root, source.version)
    if source.scope.is_everything:
        return state
    parts = state.get("last_sync")
    if not isinstance(parts, dict):
        return {}
    return {
        "last_sync": {
            name: {k: v for k, v in info.items() if k != "message"}
            for name, info in parts.items()
            if isinstance(info, dict)
        }
    }


def as_of(source: Source) -> pd.Timestamp:
    """The latest time the store knows of: latest event or last log sync."""
    return team_data(source.root, source.version, FilterKey(), source.scope).as_of


def choices(source: Source) -> tuple[list[str], list[str]]:
    """Work team and labeling job names known to the store, for the sidebar."""
    data = team_data(source.root, source.version, FilterKey(), source.scope)
    # unique() first: converting a million values to str on every rerun took over a second.
    teams = set(data.events["workteam_name"].dropna().unique().astype("str"))
    teams |= set(data.workteams["workteam_name"].dropna().astype("str"))
    jobs = set(data.events["labeling_job_name"].dropna().unique().astype("str"))
    jobs |= set(data.jobs["labeling_job_name"].dropna().astype("str"))
    return sorted(teams), sorted(jobs)


# --------------------------------------------------------------------------- metric wrappers
#: The store cut to a view, as the look-ahead hands it to the Overview's wrappers (their ``_cuts``
#: argument, which Streamlit leaves out of the cache key): it fills their caches for views nobody
#: opened yet without keeping each view's cut in the shared ``team_data`` cache.
Cuts = Callable[[FilterKey], TeamData]


def _data(source: Source, key: FilterKey, cuts: Cuts | None = None) -> TeamData:
    if cuts is not None:
        return cuts(key)
    return team_data(source.root, source.version, key, source.scope)


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def worker_table(source: Source, key: FilterKey, _cuts: Cuts | None = None) -> pd.DataFrame:
    """``worker_summary`` for the filters."""
    return analytics.worker_summary(_data(source, key, _cuts))


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def job_table(source: Source, key: FilterKey) -> pd.DataFrame:
    """``job_summary`` for the filters."""
    return analytics.job_summary(_data(source, key))


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def team_table(source: Source, key: FilterKey) -> pd.DataFrame:
    """``team_summary`` for the filters."""
    return analytics.team_summary(_data(source, key))


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def kpi_table(source: Source, key: FilterKey, _cuts: Cuts | None = None) -> pd.DataFrame:
    """``kpis`` of the window against the same-length window before it."""
    current = _data(source, key, _cuts)
    return analytics.kpis(current, _data(source, previous_key(key, current), _cuts))


def previous_key(key: FilterKey, current: TeamData) -> FilterKey:
    """The filters of the period the KPIs compare ``key``'s window with."""
    return FilterKey.of(analytics.previous_period(key.to_filters(), current.as_of))


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def backlog_table(source: Source, key: FilterKey, _cuts: Cuts | None = None) -> pd.DataFrame:
    """``backlog_status`` for the filters."""
    return analytics.backlog_status(_data(source, key, _cuts))


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def alert_table(source: Source, key: FilterKey, _cuts: Cuts | None = None) -> pd.DataFrame:
    """``alerts`` (slow, idle, returns, backlog) for the filters."""
    return analytics.alerts(
        _data(source, key, _cuts),
        worker_table(source, key, _cuts),
        backlog_table(source, key, _cuts),
    )


@st.cache_data(ttl=TTL_SECONDS, max_entries=64, show_spinner=False)
def throughput_table(
    source: Source,
    key: FilterKey,
    by: Literal["workteam", "job", "worker"],
    freq: Literal["h", "D"],
    tz: str,
    _cuts: Cuts | None = None,
) -> pd.DataFrame:
    """``throughput_series`` for the filters."""
    return analytics.throughput_series(_data(source, key, _cuts), by, freq, tz)


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def active_workers_table(
    source: Source, key: FilterKey, freq: Literal["h", "D"], tz: str
) -> pd.DataFrame:
    """``active_workers_series`` for the filters."""
    return analytics.active_workers_series(_data(source, key), freq, tz)


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def heatmap_table(
    source: Source, key: FilterKey, tz: str, _cuts: Cuts | None = None
) -> pd.DataFrame:
    """``activity_heatmap`` for the filters."""
    return analytics.activity_heatmap(_data(source, key, _cuts), tz)


@st.cache_data(ttl=TTL_SECONDS, max_entries=64, show_spinner=False)
def quantile_table(
    source: Source, key: FilterKey, by: Literal["workteam", "job", "worker"]
) -> pd.DataFrame:
    """``task_time_quantiles`` for the filters."""
    return analytics.task_time_quantiles(_data(source, key), by)


@st.cache_data(ttl=TTL_SECONDS, max_entries=64, show_spinner=False)
def histogram_table(
    source: Source, key: FilterKey, by: Literal["workteam", "job", "worker"], job: str | None
) -> pd.DataFrame:
    """``task_time_histogram`` for the filters."""
    return analytics.task_time_histogram(_data(source, key), by, job)


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def session_table(source: Source, key: FilterKey, gap_minutes: float) -> pd.DataFrame:
    """``worker_sessions`` for the filters."""
    return analytics.worker_sessions(_data(source, key), gap_minutes)


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def timesheet_table(source: Source, key: FilterKey, timezone: str) -> pd.DataFrame:
    """``timesheet`` for the filters, in the local days of ``timezone``."""
    return analytics.timesheet(_data(source, key), timezone=timezone)


@st.cache_data(ttl=TTL_SECONDS, max_entries=64, show_spinner=False)
def task_rows(source: Source, key: FilterKey, worker_key: str | None) -> pd.DataFrame:
    """``task_table`` for the filters (one worker, or all)."""
    return analytics.task_table(_data(source, key), worker_key)


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def returns(source: Source, key: FilterKey) -> analytics.ReturnsSummary:
    """``returns_summary`` for the filters."""
    return analytics.returns_summary(_data(source, key))


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def data_health(source: Source, key: FilterKey) -> analytics.DataHealth:
    """``data_health`` for the filters."""
    return analytics.data_health(_data(source, key))


def overview_calls(
    source: Source,
    key: FilterKey,
    tz: str,
    by: Literal["workteam", "job"] = "workteam",
    freq: Literal["h", "D"] = "D",
    cuts: Cuts | None = None,
) -> list[Callable[[], object]]:
    """The cached calls behind every number the Overview shows, heaviest first."""
    return [
        lambda: alert_table(source, key, cuts),  # worker_summary, the heaviest
        lambda: kpi_table(source, key, cuts),  # cuts the previous period too
        lambda: throughput_table(source, key, by, freq, tz, cuts),
        lambda: heatmap_table(source, key, tz, cuts),
    ]


def fill_overview(
    source: Source,
    key: FilterKey,
    tz: str,
    by: Literal["workteam", "job"] = "workteam",
    freq: Literal["h", "D"] = "D",
) -> None:
    """Compute, two at a time, whatever of the Overview's numbers the caches do not hold yet.

    They are independent of one another and spend much of their time in NumPy and pandas code
    that lets the other thread run: on a change nothing prepared, a 30-day Overview of a million
    events takes about 0.4 s this way instead of 0.55 s one after the other. The two threads work
    for this page run (its context attached), and end with this call.
    """
    page_run = get_script_run_ctx(suppress_warning=True)
    with ThreadPoolExecutor(
        max_workers=2, initializer=add_script_run_ctx, initargs=(None, page_run)
    ) as pool:
        for job in [pool.submit(call) for call in overview_calls(source, key, tz, by, freq)]:
            job.result()


def window_end(source: Source, key: FilterKey) -> pd.Timestamp:
    """The end of the filters' window (``TeamData.as_of``): what "today" is for a plan."""
    return _data(source, key).as_of


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def staffing_table(
    source: Source,
    key: FilterKey,
    tz: str,
    working_days: tuple[int, ...],
    deadlines: tuple[tuple[str, dt.date], ...] = (),
) -> pd.DataFrame:
    """``staffing_plan`` for the filters; each deadline is a local date in ``tz`` (by its end)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    # Noon: a date's local noon always exists and always has that date (midnight may not).
    aware = {name: dt.datetime.combine(day, dt.time(12), tzinfo=zone) for name, day in deadlines}
    return analytics.staffing_plan(
        _data(source, key), deadlines=aware, timezone=tz, working_days=working_days
    )


def backlog_history(source: Source, key: FilterKey) -> pd.DataFrame:
    """The backlog snapshots of the streaming jobs in the filters."""
    return _data(source, key).backlog


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def worker_job_quality_table(source: Source, key: FilterKey) -> pd.DataFrame:
    """``worker_job_quality`` (speed against agreement per worker and job) for the filters."""
    thresholds = analytics.Thresholds()
    return analytics.worker_job_quality(
        _data(source, key), thresholds.quality_z, thresholds.quality_min_scored
    )


@st.cache_data(ttl=TTL_SECONDS, max_entries=64, show_spinner=False)
def gold_rows(source: Source, key: FilterKey, worker_key: str | None) -> pd.DataFrame:
    """``gold_results`` for the filters (one worker, or all)."""
    return analytics.gold_results(_data(source, key), worker_key)


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def response_coverage(source: Source, key: FilterKey) -> analytics.ResponseCoverage:
    """``response_coverage`` (responses without a log task and the reverse) for the filters."""
    return analytics.response_coverage(_data(source, key))
