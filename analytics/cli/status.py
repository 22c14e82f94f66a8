"""``gt-throughput status``: describe what the store holds."""

from __future__ import annotations

import argparse
from typing import Any

from analytics.cli.arguments import add_data_argument, data_dir

HELP = "describe what the store holds"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``status`` and its arguments to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser("status", help=HELP, description=HELP)
    add_data_argument(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``status`` with the parsed ``args``; returns the exit code."""
    from analytics.status import describe_store
    from analytics.store.store import Store

    print(describe_store(Store(data_dir(args.data))))
    return 0
