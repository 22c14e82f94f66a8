"""A plain-text description of what the store holds, for ``gt-throughput status``."""

from __future__ import annotations

import datetime as dt

from analytics.parsing import REJECT_REASONS
from analytics.store import Store


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def describe_store(store: Store) -> str:
    """Events, date range, workers, teams, jobs, event types, rejected lines and other tables."""
    if not store.exists():
        return (
            f"no store in {store.root} yet: run `gt-throughput ingest --data {store.root} FILE...`"
            f" or `gt-throughput sync --data {store.root}`"
        )
    summary = store.summary()
    lines = [
        f"store:        {store.root}",
        f"events:       {summary.events:,}",
        f"date range:   {_when(summary.first_event_time)} to {_when(summary.last_event_time)}",
    ]
    if summary.events_without_time:
        lines.append(f"without time: {summary.events_without_time:,} (no parseable time field)")
    lines += [
        f"workers:      {summary.workers:,}",
        f"work teams:   {summary.workteams:,}",
        f"jobs:         {summary.labeling_jobs:,}",
        "event types:  "
        + (", ".join(f"{name} {count:,}" for name, count in summary.event_types.items()) or "-"),
        f"rejected:     {summary.rejected_lines:,} lines",
    ]
    for reason, count in sorted(summary.rejected_reasons.items()):
        lines.append(f"  {count:>6,}  {reason}: {REJECT_REASONS.get(reason, reason)}")
    synced = {name: rows for name, rows in summary.tables.items() if rows}
    if synced:
        lines.append("tables:       " + ", ".join(f"{n} {r:,}" for n, r in synced.items()))
    return "\n".join(lines)
