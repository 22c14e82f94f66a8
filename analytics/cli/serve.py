"""``gt-throughput serve``: keep the store fresh (sync on a schedule) and serve the dashboard."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

HELP = "keep the store fresh (sync on a schedule) and serve the dashboard"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``serve`` and its arguments to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser("serve", help=HELP, description=HELP)
    parser.add_argument(
        "--config",
        required=True,
        metavar="FILE",
        help="the service's TOML file: store, AWS, schedule, dashboard, sign-in, access (see "
        "gt-throughput.example.toml)",
    )
    parser.add_argument(
        "--host", help="address to bind (default: [dashboard] host, else 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, help="port to serve on (default: [dashboard] port)")
    parser.epilog = (
        "Runs sync on the schedule (never two at once on one store, also across processes) and "
        "serves the dashboard until stopped (SIGTERM or Ctrl-C). Exit status: 0 when stopped, 1 "
        "when the dashboard stopped on its own, 2 for a wrong configuration."
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``serve`` with the parsed ``args``; returns the exit code."""
    from analytics import load_config, run_service

    return run_service(load_config(Path(args.config)), host=args.host, port=args.port)
