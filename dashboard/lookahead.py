"""The look-ahead: compute what a manager is likely to open next, before it is asked for.

Two moments, one switch:

- **At start** (``start_up``, run by ``serve_app`` before the server answers): read the store and
  compute the default Overview (the default date range, all teams and jobs, UTC) with the very
  functions the pages call, so the first manager to open the dashboard does not wait for a
  million events to be read.
- **After each page** (``look_ahead``, called by ``app.py``): on one background thread, at the
  lowest CPU priority, compute the Overview of the views one sidebar change away (the other
  date-range presets, each team alone), so that a filter change usually finds its numbers ready.
  Only those numbers (small tables) are kept, not each view's cut of the store, so looking ahead
  costs no lasting memory.

The switch: ``GT_THROUGHPUT_LOOKAHEAD=off`` (or ``0``, ``no``, ``false``) in the dashboard's
environment turns both off, and nothing is computed before a page asks for it (the first page
reads the store). It is on by default.

Anything that fails here is left for the page to raise and explain: the server still starts.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import queue
import threading
import time
from pathlib import Path

import pandas as pd

from analytics import TeamData
from dashboard import cache
from dashboard.cache import FilterKey, Source
from dashboard.sidebar import DEFAULT_PRESET, window

#: The environment variable that turns the look-ahead off (see the module's docstring).
SWITCH_ENV_VAR = "GT_THROUGHPUT_LOOKAHEAD"
_OFF_VALUES = frozenset({"0", "off", "no", "false"})
#: The time zone a session without ``tz`` in its URL most likely has: the fallback when the
#: browser reports none, and the benchmark's and the browser test's.
DEFAULT_TIMEZONE = "UTC"
#: Date-range presets in the order a manager most likely moves to them.
PRESET_ORDER = ("7d", "30d", "all", "24h")
#: At most this many teams are looked ahead one by one.
MAX_TEAMS_AHEAD = 6
#: A guess must not slow down what managers asked for: on Linux a thread has its own nice value,
#: and 19 gives the look-ahead a core only when nothing else wants it.
_NICENESS = 19
#: The names of this module's threads (see ``_QuietOwnThreads``).
_THREAD_PREFIX = "gt-lookahead"

_LOG = logging.getLogger(__name__)


def enabled() -> bool:
    """Whether the look-ahead is on: ``GT_THROUGHPUT_LOOKAHEAD`` is not ``off``, ``0`` ..."""
    return os.environ.get(SWITCH_ENV_VAR, "on").strip().lower() not in _OFF_VALUES


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


# --------------------------------------------------------------------------- at start
def start_up() -> None:
    """Read the store and compute the default Overview, then look ahead from it.

    Blocks until done (``serve_app`` runs it before the server answers); does nothing when the
    look-ahead is off.
    """
    if not enabled():
        return
    _quiet_own_threads()
    worker = threading.Thread(target=_warm_up, name=f"{_THREAD_PREFIX}-start")
    worker.start()
    worker.join()


def _warm_up() -> None:
    started = time.perf_counter()
    try:
        source = cache.choose_source()
        cache.choices(source)
        key = preset_key(DEFAULT_PRESET, cache.as_of(source), FilterKey())
        # Into the shared cut cache (no ``cuts``): the first manager's every page starts here.
        for call in cache.overview_calls(source, key, DEFAULT_TIMEZONE):
            call()
        _first_figures(source, key)
    except Exception:  # the page shows the error with its explanation
        _LOG.warning("could not prepare the dashboard's data ahead of time", exc_info=True)
    else:
        _LOG.info("dashboard data ready in %.1f s", time.perf_counter() - started)
        look_ahead(source, key, DEFAULT_TIMEZONE)


def _first_figures(source: Source, key: FilterKey) -> None:
    """Build and serialise the Overview's figures once: plotly loads its validators lazily."""
    import plotly.io

    from dashboard import charts

    series = cache.throughput_table(source, key, "workteam", "D", DEFAULT_TIMEZONE)
    heatmap = cache.heatmap_table(source, key, DEFAULT_TIMEZONE)
    for figure in (
        charts.submitted_by_group(series, "D", DEFAULT_TIMEZONE, "team"),
        charts.outcomes_over_time(series, "D", DEFAULT_TIMEZONE),
        charts.activity_heatmap(heatmap, DEFAULT_TIMEZONE),
    ):
        plotly.io.to_json(figure)


# --------------------------------------------------------------------------- after each page
class _Worker:
    """One background thread computing the views waiting in a queue, one after the other."""

    def __init__(self) -> None:
        self.waiting: queue.Queue[tuple[Source, FilterKey, str]] = queue.Queue()
        self.lock = threading.Lock()
        # Views in the queue, so that a page rerun does not queue them twice.
        self.queued: set[tuple[Source, FilterKey, str]] = set()
        self.thread: threading.Thread | None = None

    def add(self, views: list[tuple[Source, FilterKey, str]]) -> None:
        with self.lock:
            for view in views:
                if view not in self.queued:
                    self.queued.add(view)
                    self.waiting.put(view)
            if self.thread is None or not self.thread.is_alive():
                # A daemon: at exit, what is left to guess is dropped.
                self.thread = threading.Thread(target=self.run, name=_THREAD_PREFIX, daemon=True)
                self.thread.start()

    def run(self) -> None:
        # Elsewhere than Linux (no per-thread priority), or not allowed: normal priority.
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _NICENESS)
        while True:
            view = self.waiting.get()
            with self.lock:
                self.queued.discard(view)
            try:
                _prepare(*view)
            finally:
                self.waiting.task_done()


_worker = _Worker()


def look_ahead(source: Source, key: FilterKey, tz: str) -> None:
    """Queue the Overview of ``key``'s neighbours for the background thread; returns at once.

    A view whose numbers are cached already costs the thread a few cache reads, nothing more.
    Does nothing when the look-ahead is off.
    """
    if not enabled():
        return
    _quiet_own_threads()
    teams, _ = cache.choices(source)
    views = neighbours(key, cache.as_of(source), teams[:MAX_TEAMS_AHEAD])
    _worker.add([(source, view, tz) for view in views])


def wait_until_idle() -> None:
    """Return once every view queued so far has been computed (for tests and benchmarks)."""
    _worker.waiting.join()


def _prepare(source: Source, key: FilterKey, tz: str) -> None:
    """Compute into the caches everything the Overview shows for ``key`` in ``tz``.

    One call after the other (a guess takes one core at most), each cut of the store made only
    when a number is missing from the caches, and dropped afterwards.
    """

    if cache.store_version(Path(source.root)) != source.version:
        return  # queued before a sync or an ingest: nobody will ask for that version again

    @functools.cache
    def cuts(view: FilterKey) -> TeamData:
        return cache.cut(source.root, source.version, view, source.scope)

    try:
        for call in cache.overview_calls(source, key, tz, cuts=cuts):
            call()
    except Exception:  # a guess that failed: the page computes it when asked, and explains
        if threading.main_thread().is_alive():  # else the server is stopping: nothing to say
            _LOG.warning("could not look ahead at %s", key, exc_info=True)


class _QuietOwnThreads(logging.Filter):
    """Drops Streamlit's "missing ScriptRunContext" warning when this module's threads call the
    pages' cached functions: they do so on purpose, outside any page run, and the warning would
    alarm whoever reads the server's output."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not threading.current_thread().name.startswith(_THREAD_PREFIX)


@functools.cache
def _quiet_own_threads() -> None:
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        _QuietOwnThreads()
    )
