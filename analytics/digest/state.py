"""What the digest keeps in the store state (``state.json``, replaced atomically under the
store's writer lock by ``Store.update_state``, like the sync's sections)::

    "digest": {
      "sent": [{"id": "slow:1a2b...", "since": ..., "until": ..., "at": ...}, ...],
      "schedule": {"last_due_at": ..., "last_sent_at": ..., "last_error": "...", "pid": ...}
    }

``sent`` lists each alert sent and the window it was sent for: ``--only-new`` leaves out an
alert sent for a window that overlaps the new one (the same window, or a cron's sliding last 24
hours), so it is told again only once its old window is over. It is written after every channel
delivered: a crash or a failed channel between sending and writing sends those alerts again next
time (at least once, never silently dropped). Entries whose window ended more than
``KEEP_DAYS`` days ago are dropped. ``schedule`` is ``serve``'s: the due time last handled.

The state is a file people can edit: any value of the wrong type reads as absent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from analytics.service.freshness import parse_time
from analytics.store.store import Store

DIGEST_SECTION = "digest"
#: Days a sent alert is remembered after its window ended.
KEEP_DAYS = 35
#: At most this many sent entries are kept (the oldest go first).
MAX_SENT_ENTRIES = 20_000


def _section(state: Mapping[str, Any]) -> dict[str, Any]:
    section = state.get(DIGEST_SECTION)
    return section if isinstance(section, dict) else {}


def _entries(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    sent = _section(state).get("sent")
    return [entry for entry in sent if isinstance(entry, dict)] if isinstance(sent, list) else []


def sent_alerts(state: Mapping[str, Any], since: dt.datetime, until: dt.datetime) -> set[str]:
    """Ids of the alerts sent for a window overlapping ``[since, until)``."""
    found = set()
    for entry in _entries(state):
        start, end = parse_time(entry.get("since")), parse_time(entry.get("until"))
        alert = entry.get("id")
        if not isinstance(alert, str) or start is None or end is None:
            continue
        if (start < until and since < end) or (start == since and end == until):
            found.add(alert)
    return found


def record_sent(
    store: Store, alert_ids: Iterable[str], since: dt.datetime, until: dt.datetime, now: dt.datetime
) -> None:
    """Add ``alert_ids`` as sent for ``[since, until)`` at ``now`` (one atomic state write)."""
    new = [
        {"id": alert, "since": since.isoformat(), "until": until.isoformat(), "at": now.isoformat()}
        for alert in sorted(alert_ids)
    ]
    horizon = now - dt.timedelta(days=KEEP_DAYS)

    def change(state: dict[str, Any]) -> None:
        section = _section(state)
        kept = [e for e in _entries(state) if (parse_time(e.get("until")) or now) >= horizon]
        section["sent"] = (kept + new)[-MAX_SENT_ENTRIES:]
        state[DIGEST_SECTION] = section

    store.update_state(change)


def schedule_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """The ``schedule`` part of the digest section (empty when absent)."""
    schedule = _section(state).get("schedule")
    return schedule if isinstance(schedule, dict) else {}


def last_due_handled(state: Mapping[str, Any]) -> dt.datetime | None:
    """The due time the schedule last handled (sent, or tried and reported), or None."""
    return parse_time(schedule_state(state).get("last_due_at"))


def record_schedule(store: Store, values: Mapping[str, Any]) -> None:
    """Merge ``values`` into the digest's ``schedule`` state (one atomic state write)."""

    def change(state: dict[str, Any]) -> None:
        section = _section(state)
        schedule = schedule_state(state)
        schedule.update(values)
        section["schedule"] = schedule
        state[DIGEST_SECTION] = section

    store.update_state(change)
