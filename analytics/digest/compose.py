"""What a digest says: a pure function of the window, the previous period and the sync state.

A ``Digest`` is sections of one-line items. An item that is an alert (a flagged worker, a
backlog at risk, a data-health problem) carries a stable ``alert_id``: its kind and a hash of
what it is about (the worker key, the job, the sync part), never of its numbers, so the same
alert has the same id in every run and ``--only-new`` can tell it was sent. Items without an id
(throughput, staffing) are the context every message carries.

Items hold data strings as they are (names, job names, reasons); the renderers escape them for
each format (``analytics.digest.render``). Pseudonyms are applied before composing (to the
``TeamData``, ``analytics.access.scope_team_data``), so no part of a digest can hold a name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.dataset import TeamData
from analytics.metrics.alerts import alerts, worker_names
from analytics.metrics.backlog import backlog_status
from analytics.metrics.health import log_vs_metrics
from analytics.metrics.kpis import kpis
from analytics.metrics.workers import Thresholds, worker_summary
from analytics.service.freshness import sync_health

#: Most log-against-metric differences listed one by one (the rest are counted in one line).
MAX_HEALTH_DIFFERENCES = 10


@dataclass(frozen=True)
class Item:
    """One line of a section. ``text`` holds data strings unescaped; ``alert_id`` is None for
    context lines that every message carries."""

    text: str
    alert_id: str | None = None


@dataclass(frozen=True)
class Section:
    """A titled list of items; ``empty`` is what the section says when it has none."""

    key: str
    title: str
    items: tuple[Item, ...]
    empty: str


@dataclass(frozen=True)
class Digest:
    """The digest of the window ``[since, until)``; ``window`` is that window in words."""

    since: dt.datetime
    until: dt.datetime
    window: str
    sections: tuple[Section, ...]

    def alert_ids(self) -> set[str]:
        """The ids of every alert in the digest."""
        return {i.alert_id for s in self.sections for i in s.items if i.alert_id is not None}

    def without_alerts(self, sent: Iterable[str]) -> Digest:
        """This digest without the alerts whose id is in ``sent`` (context lines kept)."""
        skip = set(sent)
        sections = tuple(
            dataclasses.replace(
                s, items=tuple(i for i in s.items if i.alert_id is None or i.alert_id not in skip)
            )
            for s in self.sections
        )
        return dataclasses.replace(self, sections=sections)

    def alert_count(self) -> int:
        return len(self.alert_ids())


def alert_id(kind: str, about: str) -> str:
    """The stable id of an alert of ``kind`` about ``about`` (a worker key, a job, a part)."""
    digest = hashlib.sha256(f"{kind}\x00{about}".encode()).hexdigest()[:16]
    return f"{kind}:{digest}"


def window_words(since: dt.datetime, until: dt.datetime, timezone: str) -> str:
    """``2026-11-01 08:00 to 2026-11-02 08:00 (Europe/Berlin)``."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)
    return (
        f"{since.astimezone(zone):%Y-%m-%d %H:%M} to {until.astimezone(zone):%Y-%m-%d %H:%M}"
        f" ({timezone})"
    )


# --------------------------------------------------------------------------- throughput
def _number(value: float, metric: str) -> str:
    if math.isnan(value):
        return "none"
    if metric == "return_rate":
        return f"{value:.0%}"
    if metric == "median_task_seconds":
        return f"{value:.1f} s"
    return f"{value:,.0f}"


_KPI_WORDS = {
    "tasks_submitted": "tasks submitted",
    "active_workers": "active workers",
    "median_task_seconds": "median task time",
    "return_rate": "return rate",
}


def _throughput(current: TeamData, previous: TeamData) -> tuple[Item, ...]:
    items = []
    for row in kpis(current, previous).to_dict("records"):
        metric = str(row["metric"])
        value, prior = float(row["value"]), float(row["previous_value"])
        if math.isnan(prior):
            change = "no previous period to compare with"
        elif metric == "return_rate":
            points = (value - prior) * 100 if not math.isnan(value) else math.nan
            change = f"previous {_number(prior, metric)}" + (
                "" if math.isnan(points) else f", {points:+.1f} points"
            )
        else:
            ratio = float(row["change_ratio"])
            change = f"previous {_number(prior, metric)}" + (
                "" if math.isnan(ratio) else f", {ratio:+.0%}"
            )
        items.append(Item(f"{_KPI_WORDS.get(metric, metric)}: {_number(value, metric)} ({change})"))
    return tuple(items)


# --------------------------------------------------------------------------- workers and jobs
#: The sections of ``metrics.alerts`` kinds (the flags of ``export workers`` and the backlog
#: warnings), in the digest's order: kind, title, what the section says when empty.
ALERT_SECTIONS = (
    ("slow", "Slow workers", "no worker is flagged slow"),
    ("idle", "Idle members", "no member is idle"),
    ("returns", "Many returns", "no worker returns many tasks"),
    ("quality", "Low agreement", "no worker's agreement is low"),
    ("backlog", "Streaming backlogs at risk", "no streaming backlog at risk"),
)


def _alert_sections(data: TeamData, thresholds: Thresholds) -> list[Section]:
    workers = worker_summary(data, thresholds)
    listed = alerts(data, workers, backlog_status(data))
    # Low agreement is a flag of the same worker table that the Overview does not list.
    flagged = workers[workers["quality_flag"].astype(bool)]
    quality = pd.DataFrame(
        {
            "kind": "quality",
            "subject": worker_names(workers)[flagged.index].astype("str"),
            "message": flagged["quality_reason"].astype("str"),
        }
    )
    listed = pd.concat([listed, quality], ignore_index=True)
    sections = []
    for kind, title, empty in ALERT_SECTIONS:
        if kind == "quality" and not len(data.responses):
            continue  # no worker responses read: agreement is unknown, not fine
        rows = listed[listed["kind"] == kind]
        items = tuple(
            Item(f"{subject}: {message}", alert_id(kind, str(subject)))
            for subject, message in zip(rows["subject"], rows["message"], strict=True)
        )
        sections.append(Section(kind, title, items, empty))
    return sections


def _staffing(data: TeamData, timezone: str, deadlines: Mapping[str, dt.datetime]) -> Section:
    from analytics.metrics.staffing import staffing_plan

    plan = staffing_plan(data, deadlines=deadlines or None, timezone=timezone)
    # Each message names its job already ("job-a: 292 tasks to do; at the recent rate ...").
    items = tuple(Item(str(message)) for message in plan["message"])
    return Section("staffing", "Staffing", items, "no job has a backlog")


# --------------------------------------------------------------------------- data health
def _health(
    data: TeamData, state: Mapping[str, Any], now: dt.datetime, latest_data: dt.datetime | None
) -> Section:
    items: list[Item] = []
    since = data.filters.since
    if latest_data is not None and since is not None and latest_data < since:
        items.append(
            Item(
                f"no data in this window: the store's latest data is from "
                f"{latest_data:%Y-%m-%d %H:%M} UTC, before the window starts: run "
                "gt-throughput sync (or ingest the new logs)",
                alert_id("health", "no data"),
            )
        )
    health = sync_health(state, now)
    if health.stale and health.interval_seconds is not None:
        last = f"{health.synced_at:%Y-%m-%d %H:%M} UTC" if health.synced_at else "never"
        items.append(
            Item(
                f"sync is stale: last synced {last}, while it is scheduled every "
                f"{health.interval_seconds / 60:g} min",
                alert_id("health", "stale"),
            )
        )
    if health.schedule_failures > 0:
        items.append(Item(health.failing[0], alert_id("health", "schedule failing")))
    for part in health.parts:
        if not part.ok and part.last_run_at is not None:
            items.append(
                Item(
                    f"{part.name}: not synced at {part.last_run_at:%Y-%m-%d %H:%M} UTC: "
                    f"{part.last_error or 'no detail recorded'}",
                    alert_id("health", f"part {part.name}"),
                )
            )
    differences = log_vs_metrics(data)
    differences = differences[differences["difference"] != 0]
    for row in differences.head(MAX_HEALTH_DIFFERENCES).to_dict("records"):
        day = pd.Timestamp(row["day"])
        about = f"{row['workteam_name']}/{row['labeling_job_name']}/{day:%Y-%m-%d}/{row['metric']}"
        items.append(
            Item(
                f"{row['labeling_job_name']} ({row['workteam_name']}) on {day:%Y-%m-%d}: "
                f"{row['metric']} {int(row['log_count']):,} in the logs against "
                f"{row['metric_count']:,.0f} in CloudWatch metrics",
                alert_id("health", f"logs vs metrics {about}"),
            )
        )
    if len(differences) > MAX_HEALTH_DIFFERENCES:
        items.append(
            Item(
                f"{len(differences) - MAX_HEALTH_DIFFERENCES} more days where logs and metrics"
                " differ: see the dashboard's Data page",
                alert_id("health", "more differences"),
            )
        )
    rejected = data.rejected
    if len(rejected):
        since, until = data.filters.since, data.filters.until
        keep = np.ones(len(rejected), dtype=bool)
        times = rejected["rejected_at"]
        if since is not None:
            keep &= (times >= pd.Timestamp(since)).to_numpy(dtype=bool)
        if until is not None:
            keep &= (times < pd.Timestamp(until)).to_numpy(dtype=bool)
        counts = rejected[keep]["reason"].astype("str").value_counts().sort_index()
        for reason, lines in counts.items():
            items.append(
                Item(
                    f"{lines:,} line{'s' if lines != 1 else ''} rejected in the window: {reason}"
                    " (gt-throughput status lists them)",
                    alert_id("health", f"rejected {reason}"),
                )
            )
    return Section("health", "Data health", tuple(items), "no data problem found")


# --------------------------------------------------------------------------- the digest
def compose_digest(
    current: TeamData,
    previous: TeamData,
    state: Mapping[str, Any],
    *,
    now: dt.datetime,
    timezone: str = "UTC",
    thresholds: Thresholds | None = None,
    deadlines: Mapping[str, dt.datetime] | None = None,
    recent: TeamData | None = None,
    latest_data: dt.datetime | None = None,
) -> Digest:
    """The digest of ``current``'s window.

    Parameters
    ----------
    current, previous
        The window (with ``since`` and ``until`` set) and the previous period
        (``dataset.previous_period``), already pseudonymised when names must not show.
    state
        The store's state (``Store.read_state``): the sync's health.
    now
        When the digest is made (how stale the sync is).
    timezone
        The IANA zone of the times written and of the staffing plan's working days.
    thresholds
        The flags' thresholds: those of ``export workers`` (the defaults) unless given.
    deadlines
        Job name -> deadline for the staffing lines.
    recent
        The data the staffing rates are measured on: the same selection over at least the last
        ``staffing.RATE_DAYS`` to the window's end (default ``current``).
    latest_data
        The store's latest data (``dataset.data_as_of``): a window after it is said to hold no
        data, rather than reported as a quiet day.
    """
    since = current.filters.since or pd.Timestamp(current.as_of).to_pydatetime()
    until = current.filters.until or pd.Timestamp(current.as_of).to_pydatetime()
    sections = [
        Section("throughput", "Throughput", _throughput(current, previous), "no activity"),
        *_alert_sections(current, thresholds or Thresholds()),
        _staffing(recent if recent is not None else current, timezone, deadlines or {}),
        _health(current, state, now, latest_data),
    ]
    return Digest(since, until, window_words(since, until, timezone), tuple(sections))
