"""The sync schedule of ``gt-throughput serve``: a sync every interval, never two at once on one
store (``analytics.service.lock``), waiting longer after each failure up to a bound.

Each run is recorded in the store state's ``schedule`` section, which the dashboard and
``gt-throughput status`` read (``analytics.service.freshness``)::

    "schedule": {"interval_seconds": 900, "last_started_at": ..., "last_finished_at": ...,
                 "last_success_at": ..., "last_error_at": ..., "last_error": "...",
                 "consecutive_failures": 0, "next_run_at": ..., "host": ..., "pid": ...}

A run that finds the lock held skips (the holder is syncing this very store) and says so in the
log; a run that finds the store synced by another process less than half an interval ago skips
too, so several servers on one store sync it about once an interval between them.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

from analytics.errors import GroundTruthError
from analytics.service.config import ServiceConfig
from analytics.service.freshness import SCHEDULE_SECTION, parse_time
from analytics.service.lock import sync_lock, sync_lock_holder
from analytics.store.store import Store
from analytics.sync import SyncOptions, sync_from_aws
from analytics.text import escape_controls

LOG = logging.getLogger("gt_throughput.serve")


class Outcome(Enum):
    """How one scheduled run ended."""

    SYNCED = "synced"
    FAILED = "failed"
    SKIPPED_LOCKED = "skipped: another process is syncing this store"
    SKIPPED_FRESH = "skipped: synced by another process moments ago"


def backoff_seconds(failures: int, interval_seconds: float, max_backoff_seconds: float) -> float:
    """The wait before the next run after ``failures`` failed runs in a row: the interval,
    doubled for each failure, never more than ``max_backoff_seconds`` (nor less than the
    interval)."""
    if failures <= 0:
        return interval_seconds
    factor = 2.0 ** min(failures, 32)  # 2**32 intervals exceed any bound anyway
    return max(interval_seconds, min(interval_seconds * factor, max_backoff_seconds))


@dataclass
class SyncScheduler:
    """Runs sync for ``config`` when due; ``run_due`` is called by the serve loop."""

    config: ServiceConfig
    failures: int = 0
    next_run_monotonic: float = 0.0

    def __post_init__(self) -> None:
        self.store = Store(self.config.store)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ the loop
    def run_forever(self, stop: threading.Event) -> None:
        """Run when due until ``stop`` is set (checked at least once a second between runs)."""
        while not stop.is_set():
            self.run_due()
            stop.wait(max(0.0, min(1.0, self.next_run_monotonic - time.monotonic())))

    def run_due(self) -> Outcome | None:
        """Run once if the next run is due; returns how it ended, or None when not due."""
        if time.monotonic() < self.next_run_monotonic:
            return None
        outcome = self.run_once()
        settings = self.config.schedule
        delay = backoff_seconds(
            self.failures, settings.interval_seconds, settings.max_backoff_seconds
        )
        self.next_run_monotonic = time.monotonic() + delay
        next_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
        if outcome is Outcome.FAILED:
            LOG.info("next try in %.0f s (back-off after %d failures)", delay, self.failures)
        if outcome in (Outcome.SYNCED, Outcome.FAILED):
            self._record({"next_run_at": next_at.isoformat()})
        return outcome

    # ------------------------------------------------------------------ one run
    def run_once(self) -> Outcome:
        """One scheduled sync, under the store's sync lock (skipped when another holds it)."""
        settings = self.config.schedule
        with sync_lock(self.config.store) as taken:
            if not taken:
                LOG.info(
                    "sync skipped: another process is syncing this store (%s)",
                    sync_lock_holder(self.config.store) or "holder unknown",
                )
                return Outcome.SKIPPED_LOCKED
            if self._synced_moments_ago(settings.interval_seconds / 2):
                LOG.info("sync skipped: another process synced this store moments ago")
                return Outcome.SKIPPED_FRESH
            started = dt.datetime.now(dt.UTC)
            LOG.info("sync started")
            self._record(
                {
                    "interval_seconds": settings.interval_seconds,
                    "last_started_at": started.isoformat(),
                    "host": socket.gethostname(),
                    "pid": os.getpid(),
                }
            )
            error = self._sync()
            finished = dt.datetime.now(dt.UTC)
            seconds = (finished - started).total_seconds()
            if error is None:
                self.failures = 0
                LOG.info("sync finished in %.1f s", seconds)
                self._record(
                    {
                        "last_finished_at": finished.isoformat(),
                        "last_success_at": finished.isoformat(),
                        "consecutive_failures": 0,
                    }
                )
                return Outcome.SYNCED
            self.failures += 1
            LOG.warning("sync failed after %.1f s: %s", seconds, escape_controls(error))
            self._record(
                {
                    "last_finished_at": finished.isoformat(),
                    "last_error_at": finished.isoformat(),
                    "last_error": error,
                    "consecutive_failures": self.failures,
                }
            )
            return Outcome.FAILED

    def _sync(self) -> str | None:
        """Run sync; None when the worker activity logs were synced, else why not (one line)."""
        aws = self.config.aws
        options = SyncOptions(
            region=aws.region,
            profile=aws.profile,
            endpoint_url=aws.endpoint_url,
            log_group=aws.log_group,
            answer_timeout_seconds=aws.timeout_seconds,
        )
        try:
            report = sync_from_aws(self.store, options)
        except GroundTruthError as exc:
            return str(exc)
        except Exception as exc:  # a bug must not stop the schedule: say so, try again later
            LOG.exception("sync raised an unexpected error (a bug in gt-throughput)")
            return f"internal error: {type(exc).__name__}: {exc} (a bug: see the serve log)"
        for line in report.summary_text().splitlines():
            LOG.info("%s", line)
        if report.logs_synced:
            return None
        return "; ".join(report.warnings) or "the worker activity logs were not synced"

    def _synced_moments_ago(self, seconds: float) -> bool:
        try:
            schedule = self.store.read_state().get(SCHEDULE_SECTION, {})
        except GroundTruthError:
            return False  # the sync itself meets the damage and reports it
        if not isinstance(schedule, dict) or schedule.get("pid") == os.getpid():
            return False
        finished = parse_time(schedule.get("last_success_at"))
        now = dt.datetime.now(dt.UTC)
        return finished is not None and 0 <= (now - finished).total_seconds() < seconds

    def _record(self, values: dict[str, Any]) -> None:
        def change(state: dict[str, Any]) -> None:
            section = state.get(SCHEDULE_SECTION)
            section = section if isinstance(section, dict) else {}
            section.update(values)
            state[SCHEDULE_SECTION] = section

        try:
            self.store.update_state(change)
        except GroundTruthError as exc:
            LOG.warning("could not record the schedule in the store: %s", escape_controls(str(exc)))
