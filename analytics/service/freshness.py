"""How fresh the store is, from its sync state: pure functions over ``Store.read_state()``.

One reading for every place that shows it: the dashboard's "data as of 09:14, synced 3 min
ago" line and its warnings, the Data page's table of sync parts, ``gt-throughput status``.

- **synced**: the last successful sync of the worker activity logs (the part that decides
  whether a sync worked; see ``analytics.sync``).
- **stale**: a schedule is recorded (``gt-throughput serve`` records its interval) and the last
  successful sync is more than ``STALE_INTERVALS`` intervals old, or there was none.
- **failing**: the schedule's last run failed (AWS unreachable, no credentials), or a part's
  last run did not sync (each named with its error).

The state is a file people can edit: any value of the wrong type reads as absent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Sync is stale when its last success is older than this many intervals: one late run is
#: normal (a slow AWS, a back-off), three mean nobody is keeping the store fresh.
STALE_INTERVALS = 3
#: The state section ``gt-throughput serve`` writes (``analytics.service.schedule``).
SCHEDULE_SECTION = "schedule"
#: The part whose success makes a sync successful (``analytics.sync.PART_LOGS``).
LOGS_PART = "worker activity"


def parse_time(value: object) -> dt.datetime | None:
    """An ISO time from the state as an aware UTC datetime; None when absent or not a time."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class PartStatus:
    """One sync part: its last run, and its last success and last error whenever they were."""

    name: str
    last_run_at: dt.datetime | None
    ok: bool
    message: str
    last_success_at: dt.datetime | None
    last_error_at: dt.datetime | None
    last_error: str


@dataclass(frozen=True)
class SyncHealth:
    """What the state says of sync (see the module's docstring for the definitions)."""

    synced_at: dt.datetime | None
    interval_seconds: float | None
    stale: bool
    failing: list[str] = field(default_factory=list)
    parts: list[PartStatus] = field(default_factory=list)
    schedule_error: str = ""
    schedule_error_at: dt.datetime | None = None
    schedule_failures: int = 0
    next_run_at: dt.datetime | None = None


def part_statuses(state: Mapping[str, Any]) -> list[PartStatus]:
    """Every part recorded in ``state``'s ``last_sync``, by name."""
    entries = state.get("last_sync")
    found = []
    for name, entry in sorted(entries.items() if isinstance(entries, Mapping) else []):
        if not isinstance(entry, Mapping):
            continue
        ok = entry.get("ok") is True
        last_run = parse_time(entry.get("at"))
        success = parse_time(entry.get("last_success_at")) or (last_run if ok else None)
        error_at = parse_time(entry.get("last_error_at")) or (None if ok else last_run)
        error = _text(entry.get("last_error")) or ("" if ok else _text(entry.get("message")))
        found.append(
            PartStatus(str(name), last_run, ok, _text(entry.get("message")), success, error_at,
                       error or ("not synced" if error_at else ""))
        )  # fmt: skip
    return found


def sync_health(state: Mapping[str, Any], now: dt.datetime) -> SyncHealth:
    """How fresh and how healthy sync is, from ``state`` at ``now``."""
    parts = part_statuses(state)
    logs = next((p for p in parts if p.name == LOGS_PART), None)
    synced_at = logs.last_success_at if logs is not None else None
    schedule = state.get(SCHEDULE_SECTION)
    schedule = schedule if isinstance(schedule, Mapping) else {}
    interval = schedule.get("interval_seconds")
    interval = (
        float(interval)
        if isinstance(interval, int | float) and not isinstance(interval, bool) and interval > 0
        else None
    )
    stale = interval is not None and (
        synced_at is None or (now - synced_at).total_seconds() > STALE_INTERVALS * interval
    )
    failures = schedule.get("consecutive_failures")
    failures = failures if isinstance(failures, int) and not isinstance(failures, bool) else 0
    failing = []
    error, error_at = _text(schedule.get("last_error")), parse_time(schedule.get("last_error_at"))
    if failures > 0:
        since = f" since {error_at:%Y-%m-%d %H:%M} UTC" if error_at else ""
        runs = f"{failures} run{'s' if failures != 1 else ''}"
        failing.append(f"sync failing{since} ({runs}): {error or 'no detail recorded'}")
    for part in parts:
        if not part.ok and part.last_run_at is not None:
            failing.append(
                f"{part.name}: not synced at {part.last_run_at:%Y-%m-%d %H:%M} UTC: "
                f"{part.last_error or 'no detail recorded'}"
            )
    return SyncHealth(
        synced_at=synced_at,
        interval_seconds=interval,
        stale=stale,
        failing=failing,
        parts=parts,
        schedule_error=error,
        schedule_error_at=error_at,
        schedule_failures=failures,
        next_run_at=parse_time(schedule.get("next_run_at")),
    )


def ago(moment: dt.datetime, now: dt.datetime) -> str:
    """``moment`` as a distance back from ``now``: ``just now``, ``3 min ago``, ``5 h ago``,
    ``2 days ago`` (a moment ahead of ``now``, clocks apart, reads ``just now``)."""
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


def freshness_line(
    health: SyncHealth, data_as_of: dt.datetime | None, now: dt.datetime, timezone: str
) -> str:
    """``data as of 09:14, synced 3 min ago`` in ``timezone`` (an IANA name); the date is
    written when the data is not of ``now``'s day there."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)
    parts = []
    if data_as_of is not None:
        local = data_as_of.astimezone(zone)
        same_day = local.date() == now.astimezone(zone).date()
        parts.append(f"data as of {local:%H:%M}" if same_day else f"data as of {local:%b %d %H:%M}")
    else:
        parts.append("no data yet")
    if health.synced_at is not None:
        parts.append(f"synced {ago(health.synced_at, now)}")
    elif health.interval_seconds is not None:
        parts.append("not synced yet")
    return ", ".join(parts)


def stale_warning(health: SyncHealth, now: dt.datetime) -> str | None:
    """The warning for stale data, or None (see ``SyncHealth.stale``)."""
    if not health.stale or health.interval_seconds is None:
        return None
    minutes = health.interval_seconds / 60
    last = f"last synced {ago(health.synced_at, now)}" if health.synced_at else "never synced"
    return (
        f"The data may be out of date: {last}, while sync is scheduled every {minutes:g} min. "
        "Check that `gt-throughput serve` is running, and its log."
    )


def status_lines(state: Mapping[str, Any], now: dt.datetime) -> list[str]:
    """The sync lines of ``gt-throughput status``: schedule, then each part's last run, last
    success and last error (texts from AWS are left to the caller to escape)."""
    health = sync_health(state, now)

    def when(moment: dt.datetime | None) -> str:
        return f"{moment:%Y-%m-%d %H:%M} UTC ({ago(moment, now)})" if moment else "never"

    lines = []
    if health.interval_seconds is not None:
        lines.append(
            f"schedule:     every {health.interval_seconds / 60:g} min"
            + (f", next run {health.next_run_at:%H:%M} UTC" if health.next_run_at else "")
        )
    if health.parts or health.interval_seconds is not None:
        lines.append(f"synced:       {when(health.synced_at)}")
    if health.stale:
        lines.append(f"warning: {stale_warning(health, now)}")
    lines.extend(f"warning: {text}" for text in health.failing)
    for part in health.parts:
        lines.append(f"  {part.name}: {'ok' if part.ok else 'NOT SYNCED'}")
        lines.append(f"    last success: {when(part.last_success_at)}")
        if part.last_error_at is not None:
            lines.append(f"    last error:   {when(part.last_error_at)}: {part.last_error}")
    return lines
