"""``gt-throughput sync``: pull logs, metrics, identities, teams and jobs from AWS."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from analytics.cli.arguments import add_aws_arguments, add_data_argument, data_dir
from analytics.cli.time_arguments import SINCE_HELP

HELP = "pull logs, metrics, identities, teams and jobs from AWS"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``sync`` and its arguments to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser("sync", help=HELP, description=HELP)
    add_data_argument(parser)
    add_aws_arguments(parser)
    parser.add_argument(
        "--since",
        metavar="WHEN",
        help=f"start: {SINCE_HELP}; no offset means UTC (default: where the last sync stopped,"
        " or 14 days back on a first sync)",
    )
    parser.add_argument(
        "--until", metavar="WHEN", help="end (exclusive), same forms as --since (default: now)"
    )
    parser.add_argument(
        "--log-group",
        metavar="NAME",
        default="/aws/sagemaker/groundtruth/WorkerActivity",
        help="worker activity log group (default: %(default)s)",
    )
    parser.add_argument("--no-progress", action="store_true", help="do not draw progress")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``sync`` with the parsed ``args``; returns the exit code."""
    from analytics import Store, StoreError, SyncOptions, sync_from_aws, sync_lock, sync_lock_holder
    from analytics.cli.progress import progress_for_terminal
    from analytics.cli.time_arguments import parse_when

    now = dt.datetime.now(dt.UTC)
    options = SyncOptions(
        region=args.region,
        profile=args.profile,
        endpoint_url=args.endpoint_url,
        since=parse_when(args.since, now, "--since") if args.since is not None else None,
        until=parse_when(args.until, now, "--until") if args.until is not None else None,
        log_group=args.log_group,
        answer_timeout_seconds=args.aws_timeout,
    )
    store = Store(data_dir(args.data))
    # One sync per store at a time, also against `gt-throughput serve`'s scheduled ones.
    with sync_lock(store.root) as taken:
        if not taken:
            who = sync_lock_holder(store.root) or "holder unknown"
            raise StoreError(
                f"another sync is running on {store.root} ({who}"
                "): wait for it to end and run this again (a `gt-throughput serve` on this store"
                " syncs it on its schedule)"
            )
        progress = None if args.no_progress else progress_for_terminal(sys.stderr, unit="windows")
        report = sync_from_aws(store, options, progress=progress, now=now)
    print(report.summary_text())
    return report.exit_code
