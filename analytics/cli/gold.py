"""``gt-throughput gold``: store a labeling job's gold answers."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from analytics import escape_controls
from analytics.cli.arguments import add_data_argument, data_dir

HELP = "store a labeling job's gold answers, replacing its earlier gold set"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``gold`` and its arguments to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser("gold", help=HELP, description=HELP)
    add_data_argument(parser)
    parser.add_argument(
        "--job",
        required=True,
        metavar="NAME",
        help="the labeling job the answers are for (its name, as in its S3 output folder)",
    )
    parser.add_argument(
        "file",
        metavar="FILE",
        help='JSON lines of gold answers, {"<object index>": "<label>"} (the object index is the'
        " line of the object in the job's output manifest, from 0)",
    )
    parser.epilog = (
        "The file replaces the job's earlier gold set as a whole; other jobs' gold sets stay. "
        "Exit status: 0 when stored; 2 when the file is missing or malformed (the line and why "
        "are named, and nothing is stored), --job is not a job name, or the store is unusable. "
        "See docs/responses.md."
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``gold`` with the parsed ``args``; returns the exit code."""
    from analytics import Store, load_gold_file

    stored = load_gold_file(Store(data_dir(args.data)), args.job, Path(args.file))
    print(f"stored {stored:,} gold answers of job {escape_controls(args.job)}")
    return 0
