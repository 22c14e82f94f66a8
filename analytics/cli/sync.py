"""``gt-throughput sync``: pull logs, metrics, identities, teams and jobs from AWS."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from analytics.cli.arguments import add_data_argument, data_dir
from analytics.cli.time_arguments import SINCE_HELP

HELP = "pull logs, metrics, identities, teams and jobs from AWS"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``sync`` and its arguments to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser("sync", help=HELP, description=HELP)
    add_data_argument(parser)
    parser.add_argument("--region", help="AWS region (default: the profile's or $AWS_REGION)")
    parser.add_argument(
        "--profile", help="AWS profile (default: boto3's chain: env, default profile, SSO, role)"
    )
    parser.add_argument(
        "--endpoint-url", metavar="URL", help="another endpoint than AWS's (emulator, proxy)"
    )
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
    parser.add_argument(
        "--aws-timeout",
        metavar="SECONDS",
        type=float,
        default=30.0,
        help="how long to wait for an AWS endpoint's answer (default: %(default)g); an endpoint"
        " silent for 2.5 times that is given up, see docs/sync.md",
    )
    parser.add_argument("--no-progress", action="store_true", help="do not draw progress")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``sync`` with the parsed ``args``; returns the exit code."""
    from analytics.cli.time_arguments import parse_when
    from analytics.errors import StoreError
    from analytics.progress import progress_for_terminal
    from analytics.service.lock import holder, sync_lock
    from analytics.store.store import Store
    from analytics.sync import SyncOptions, sync

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
            raise StoreError(
                f"another sync is running on {store.root} ({holder(store.root) or 'holder unknown'}"
                "): wait for it to end and run this again (a `gt-throughput serve` on this store"
                " syncs it on its schedule)"
            )
        progress = None if args.no_progress else progress_for_terminal(sys.stderr, unit="windows")
        report = sync(store, options, progress=progress, now=now)
    print(report.summary_text())
    return report.exit_code
