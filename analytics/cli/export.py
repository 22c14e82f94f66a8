"""``gt-throughput export``: write the per-worker, per-task or timesheet CSV file and its
definitions."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

from analytics import UsageError
from analytics.cli.arguments import (
    DATA_ENV_VAR,
    add_data_argument,
    add_selection_arguments,
    data_dir,
)
from analytics.cli.time_arguments import LAST_HELP, SINCE_HELP

HELP = "write per-worker, per-task or timesheet CSV files"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``export`` and its arguments to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser("export", help=HELP, description=HELP)
    add_data_argument(parser)
    parser.add_argument(
        "what",
        choices=["workers", "tasks", "timesheet"],
        help="workers: one row per worker (counts, times, flags); tasks: one row per task;"
        " timesheet: one row per worker and local day of --timezone (hours, outcomes)",
    )
    parser.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="the CSV file to write (replaced whole, or left as it was on failure); a device or"
        " pipe such as /dev/stdout is written through",
    )
    parser.add_argument(
        "--definitions",
        metavar="FILE",
        help="where to write the column definitions (default: FILE.definitions.csv beside --out;"
        " none when --out is a device or pipe)",
    )
    parser.add_argument(
        "--since",
        metavar="WHEN",
        help=f"window start: {SINCE_HELP}; no offset means --timezone",
    )
    parser.add_argument(
        "--until", metavar="WHEN", help="window end (exclusive), same forms as --since"
    )
    parser.add_argument("--last", metavar="SPAN", help=LAST_HELP)
    add_selection_arguments(parser)
    parser.add_argument("--worker", metavar="KEY", help="tasks: only this worker's tasks")
    parser.add_argument(
        "--engine",
        choices=["local", "spark"],
        default="local",
        help="local: pandas in this process (default); spark: the same functions on Spark, for"
        " stores bigger than this machine's memory (needs PySpark and Java; --data may then be"
        " the s3:// prefix of a published store)",
    )
    parser.add_argument(
        "--spark-master",
        metavar="URL",
        help="with --engine spark: the Spark master (default local[*]; the active session when"
        " run inside a cluster)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``export`` with the parsed ``args``; returns the exit code."""
    from analytics import Filters, Store, check_timezone, data_as_of, export_csv
    from analytics.cli.time_arguments import last_span_start, parse_span, parse_when

    timezone = check_timezone(args.timezone)
    if args.spark_master is not None and args.engine != "spark":
        raise UsageError("--spark-master goes with --engine spark: add it, or drop --spark-master")
    store: Store | str
    given = args.data or os.environ.get(DATA_ENV_VAR) or ""
    if "://" in given:
        if args.engine != "spark":
            raise UsageError(
                f"--data {given} is a published store: read it with --engine spark, or name"
                " a local store folder"
            )
        if args.last is not None:
            raise UsageError(
                f"--last counts back from a local store's data: with --data {given} give "
                "--since and --until"
            )
        store = given
    else:
        store = Store(data_dir(args.data))
    now = dt.datetime.now(dt.UTC)
    since = parse_when(args.since, now, "--since", timezone) if args.since is not None else None
    until = parse_when(args.until, now, "--until", timezone) if args.until is not None else None
    if args.last is not None:
        if args.since is not None or args.until is not None:
            raise UsageError("--last replaces --since and --until: give either --last or those")
        assert isinstance(store, Store)  # a URI with --last was refused above
        since = last_span_start(args.last, data_as_of(store), "--last")
    elif isinstance(store, Store) and since is not None and parse_span(args.since) is not None:
        latest = data_as_of(store)
        if latest is not None and latest < since:
            print(
                f"note: the store's data ends {latest:%Y-%m-%d %H:%M} UTC, before --since "
                f"{args.since} (counted back from now): --last {args.since.strip()} gives the"
                " store's last stretch of that length",
                file=sys.stderr,
            )
    filters = Filters(
        since=since,
        until=until,
        workteams=tuple(args.team),
        jobs=tuple(args.job),
    )
    result = export_csv(
        store,
        args.what,
        Path(args.out),
        filters=filters,
        timezone=timezone,
        pseudonymize=args.pseudonymize,
        worker_key=args.worker,
        definitions=Path(args.definitions) if args.definitions is not None else None,
        engine=args.engine,
        spark_master=args.spark_master,
    )
    # When the CSV went to a device or pipe (--out /dev/stdout), keep that stream CSV only.
    print(result.summary_line(), file=sys.stderr if result.streamed else sys.stdout)
    return 0
