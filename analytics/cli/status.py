"""``gt-throughput status``: describe what the store holds, in plain text."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING, Any

from analytics.cli.arguments import add_data_argument, data_dir

if TYPE_CHECKING:
    from analytics import Store

HELP = "describe what the store holds"


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def describe_store(store: Store) -> str:
    """Events, date range, workers, teams, jobs, event types, rejected lines, other tables, the
    last log sync, and a warning for each file in the store that it did not write.

    Reads every file a command may read, so a damaged one fails here too, with the error that
    names it and its repair (``StoreError``).
    """
    from analytics import REJECT_REASONS, escape_controls, last_log_sync, status_lines

    if not store.exists():
        return (
            f"no store in {store.root} yet: run `gt-throughput ingest --data {store.root} FILE...`"
            f" or `gt-throughput sync --data {store.root}`"
        )
    summary = store.summary()
    state = store.read_state()
    synced = last_log_sync(state)
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
    tables = {name: rows for name, rows in summary.tables.items() if rows}
    if tables:
        lines.append("tables:       " + ", ".join(f"{n} {r:,}" for n, r in tables.items()))
    if synced is not None:
        lines.append(f"last sync:    {_when(synced)}")
    lines += [escape_controls(line) for line in status_lines(state, dt.datetime.now(dt.UTC))]
    for stray in store.stray_files():
        lines.append(
            f"warning: {escape_controls(str(stray))} was not written by gt-throughput: move it "
            "out of the store (other Parquet readers may fail on it)"
        )
    return "\n".join(lines)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``status`` and its arguments to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser("status", help=HELP, description=HELP)
    add_data_argument(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``status`` with the parsed ``args``; returns the exit code."""
    from analytics import Store

    print(describe_store(Store(data_dir(args.data))))
    return 0
