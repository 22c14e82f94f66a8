"""``gt-throughput athena-ddl``: the CREATE EXTERNAL TABLE statements over a published store."""

from __future__ import annotations

import argparse
from typing import Any

HELP = "print Athena CREATE EXTERNAL TABLE statements for a store published to S3"
#: ``--database``: the tables go into their own database unless told otherwise.
DEFAULT_DATABASE = "groundtruth_throughput"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``athena-ddl`` and its arguments to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "athena-ddl", help=HELP, description=HELP
    )
    parser.add_argument(
        "--location",
        required=True,
        metavar="S3_URI",
        help="where the store was published: the --to of gt-throughput publish",
    )
    parser.add_argument(
        "--database",
        default=DEFAULT_DATABASE,
        metavar="NAME",
        help="the Athena database to create the tables in (default: %(default)s)",
    )
    parser.epilog = (
        "Run the statements in the Athena console or with `aws athena start-query-execution`."
        ' In queries, quote the partition column: "date". Events without a time are in the'
        " table events_without_time (docs/scale.md)."
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``athena-ddl`` with the parsed ``args``; returns the exit code."""
    from analytics import athena_ddl

    print(athena_ddl(args.location, args.database), end="")
    return 0
