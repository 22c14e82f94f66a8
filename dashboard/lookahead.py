"""Fill the dashboard's caches ahead of the managers: the store at start, then likely next views.

``warm_up`` runs once when the server starts (``serve_app``): it reads the store and computes the
default Overview (default date range, all teams and jobs, UTC) with the very functions the pages
call, so the first manager to open the dashboard does not wait for a million events to be read.

``prefetch`` runs after each page: on one background thread, it computes the Overview of the
views one sidebar change away (the other date-range presets, each team alone), so that a filter
change usually finds its numbers ready. It keeps only those numbers (small tables), not each
view's cut of the store, so looking ahead costs no lasting memory.

Anything that fails here is left for the page to raise and explain: the server still starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time

import pandas as pd

from dashboard import data
from dashboard.data import FilterKey, Source
from dashboard.view import DEFAULT_PRESET, window

_LOG = logging.getLogger(__name__)


class _OwnThreadsNeedNoPageRun(logging.Filter):
    """Drops Streamlit's "missing ScriptRunContext" warning when our own threads (named
    ``gt-...``) call the pages' cached functions: they do so on purpose, outside any page run, and
    the warning would alarm whoever reads the server's output."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not threading.current_thread().name.startswith("gt-")


logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
    _OwnThreadsNeedNoPageRun()
)
#: The time zone a session without ``tz`` in its URL most likely has: the fallback when the
#: browser reports none, and the benchmark's and the browser test's.
DEFAULT_TIMEZONE = "UTC"
#: Date-range presets in the order a manager most likely moves to them.
PRESET_ORDER = ("7d", "30d", "all", "24h")
#: At most this many teams are looked ahead one by one.
MAX_TEAMS_AHEAD = 6
#: The look-ahead thread's nice value (19: the lowest priority).
LOOKAHEAD_NICENESS = 19
#: Views already sent to the look-ahead thread; forgotten when it grows past this.
_MAX_REMEMBERED = 512

#: Views waiting for the look-ahead thread. A daemon thread: at exit, what is left is dropped.
_waiting: queue.Queue[tuple[Source, FilterKey, str]] = queue.Queue()
_worker_lock = threading.Lock()
_worker: threading.Thread | None = None
_requested: set[tuple[str, str, FilterKey, str]] = set()
_requested_lock = threading.Lock()
_enabled = threading.Event()


def preset_key(preset: str, anchor: pd.Timestamp, key: FilterKey) -> FilterKey:
    """``key``'s teams and jobs over ``preset``'s date range, counted back from ``anchor``."""
    since, until = window(preset, anchor, None, DEFAULT_TIMEZONE)
    return FilterKey(
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
        workteams=key.workteams,
        jobs=key.jobs,
    )


def neighbours(key: FilterKey, anchor: pd.Timestamp, teams: list[str]) -> list[FilterKey]:
    """The views one sidebar change away from ``key``, most likely first, ``key`` excluded.

    Every date-range preset with the same teams and jobs, then, over ``key``'s own range, each
    team alone (when all teams are shown) or all teams (when some are picked).
    """
    found: list[FilterKey] = [preset_key(preset, anchor, key) for preset in PRESET_ORDER]
    if key.workteams:
        found.append(FilterKey(key.since, key.until, (), key.jobs))
    else:
        found += [FilterKey(key.since, key.until, (team,), key.jobs) for team in teams]
    unique = list(dict.fromkeys(found))
    return [view for view in unique if view != key][: len(PRESET_ORDER) + MAX_TEAMS_AHEAD]


def overview_numbers(source: Source, key: FilterKey, tz: str) -> None:
    """Compute into the caches everything the Overview shows for ``key`` in ``tz``.

    One call after the other on this thread (not ``data.overview_numbers``' two threads): the
    look-ahead's frames are lent to this thread only, and a guess should take one core at most.
    """
    for call in data.overview_calls(source, key, tz):
        call()


def _first_figures(source: Source, key: FilterKey) -> None:
    """Build and serialise the Overview's figures once: plotly loads its validators lazily."""
    import plotly.io

    from dashboard import charts

    series = data.throughput_table(source, key, "workteam", "D", DEFAULT_TIMEZONE)
    heatmap = data.heatmap_table(source, key, DEFAULT_TIMEZONE)
    for figure in (
        charts.submitted_by_group(series, "D", DEFAULT_TIMEZONE, "team"),
        charts.outcomes_over_time(series, "D", DEFAULT_TIMEZONE),
        charts.activity_heatmap(heatmap, DEFAULT_TIMEZONE),
    ):
        plotly.io.to_json(figure)


def warm_up() -> None:
    """Read the store and compute the default Overview; from now on, look ahead after pages.

    The default Overview's own neighbours are queued at once, for the look-ahead thread to
    compute while the server waits for its first manager.
    """
    started = time.perf_counter()
    _enabled.set()  # no page runs before the server answers, which this start-up step delays
    try:
        source = data.current_source()
        data.choices(source)
        key = preset_key(DEFAULT_PRESET, data.as_of(source), FilterKey())
        overview_numbers(source, key, DEFAULT_TIMEZONE)
        _first_figures(source, key)
    except Exception:  # the page shows the error with its explanation
        _LOG.warning("could not prepare the dashboard's data ahead of time", exc_info=True)
    else:
        _LOG.info("dashboard data ready in %.1f s", time.perf_counter() - started)
        prefetch(source, key, DEFAULT_TIMEZONE)


def prefetch(source: Source, key: FilterKey, tz: str) -> int:
    """Queue the Overview of ``key``'s neighbours for the look-ahead thread; returns how many.

    Does nothing unless the served dashboard started (``warm_up`` ran): tests that run the pages
    alone keep no background thread.
    """
    if not _enabled.is_set():
        return 0
    teams, _ = data.choices(source)
    queued = 0
    for view in neighbours(key, data.as_of(source), teams[:MAX_TEAMS_AHEAD]):
        token = (source.root, source.version, view, tz)
        with _requested_lock:
            if token in _requested:
                continue
            if len(_requested) >= _MAX_REMEMBERED:
                _requested.clear()
            _requested.add(token)
        _waiting.put((source, view, tz))
        queued += 1
    if queued:
        _start_worker()
    return queued


def wait_until_idle() -> None:
    """Return once every view queued so far has been looked at (for tests and benchmarks)."""
    _waiting.join()


def _start_worker() -> None:
    global _worker
    with _worker_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="gt-lookahead", daemon=True)
            _worker.start()


def _work() -> None:
    # A guess must not slow down what managers asked for: on Linux a thread has its own nice
    # value, so the look-ahead gets a core only when nothing else wants it.
    # Elsewhere (no per-thread priority, or not allowed) it runs at normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOOKAHEAD_NICENESS)
    while True:
        source, key, tz = _waiting.get()
        try:
            _look_ahead(source, key, tz)
        finally:
            _waiting.task_done()


def _look_ahead(source: Source, key: FilterKey, tz: str) -> None:
    try:
        current = data.cut(source.root, source.version, key)
        previous = data.previous_key(key, current)
        frames = {key: current, previous: data.cut(source.root, source.version, previous)}
        with data.lending(source, frames):
            overview_numbers(source, key, tz)
    except Exception:  # a guess that failed: the page computes it when asked
        if threading.main_thread().is_alive():  # else the server is stopping: nothing to say
            _LOG.warning("could not look ahead at %s", key, exc_info=True)
