"""``gt-throughput ingest``: read exported log files into the store."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from analytics import escape_controls
from analytics.cli.arguments import add_data_argument, data_dir

HELP = "read exported log files into the store"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``ingest`` and its arguments to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser("ingest", help=HELP, description=HELP)
    add_data_argument(parser)
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="log files or folders: JSON lines, CloudWatch envelopes, `aws logs filter-log-events`"
        " output, S3 export files (.gz or not); folders are read recursively, and a labeling"
        " job's output folder among them (annotations/worker-response/, manifests/output/, as"
        " `aws s3 sync` leaves it; the job's name is the folder's) gives its worker responses"
        " and consolidated labels (docs/responses.md)",
    )
    parser.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")
    parser.epilog = (
        "Exit status: 0 when every file was read (lines that cannot become events are kept with "
        "their reasons and do not change it; files in folders that are not regular files are "
        "skipped with a warning); 1 when a named file or folder is missing, is not a regular file "
        "(a FIFO, socket or device), or a file could not be read or broke off part way (each "
        "said in an `error:` line; everything else is still read and stored); 2 for a wrong "
        "argument or an unusable store."
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``ingest`` with the parsed ``args``; returns the exit code."""
    from analytics import Store, ingest_paths
    from analytics.cli.progress import progress_for_terminal

    store = Store(data_dir(args.data))
    progress = None if args.no_progress else progress_for_terminal(sys.stderr)
    report = ingest_paths(store, [Path(f) for f in args.files], progress=progress)
    for warning in report.warnings:
        print(f"warning: {escape_controls(warning)}", file=sys.stderr)
    for problem in report.unreadable:
        print(f"error: {escape_controls(problem)}", file=sys.stderr)
    print(report.summary_line())
    return 1 if report.unreadable else 0
