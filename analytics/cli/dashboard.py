"""``gt-throughput dashboard``: serve the Streamlit dashboard."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from analytics import UsageError
from analytics.cli.arguments import DATA_ENV_VAR, add_data_argument, data_dir

HELP = "serve the Streamlit dashboard (the store is read before it answers)"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``dashboard`` and its arguments to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "dashboard", help=HELP, description=HELP
    )
    add_data_argument(parser)
    parser.add_argument("--port", type=int, default=8501, help="port to serve on (default 8501)")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 shares it on the"
        " network)",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a further name the dashboard may be reached by (a proxy's, a DNS alias); "
        "repeatable. Requests naming any other host are refused (DNS rebinding)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML config whose [auth] and [access] sections set sign-in and access rules "
        "(see docs/sign-in.md); without sign-in only 127.0.0.1 may be served",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``dashboard`` with the parsed ``args``; returns the exit code."""
    from analytics import (
        AccessSettings,
        check_can_serve,
        check_exposure,
        read_access_config,
        serving_setup,
        streamlit_command,
    )

    if not 0 < args.port < 65536:
        raise UsageError(f"--port must be between 1 and 65535 (got {args.port})")
    access = read_access_config(args.config) if args.config else AccessSettings()
    check_can_serve(args.host, args.port)
    check_exposure(access, args.host)  # no sign-in: this machine only
    extra_arguments, extra_environment = serving_setup(access, args.host)
    environment = {
        **os.environ,
        DATA_ENV_VAR: str(data_dir(args.data).resolve()),
        **extra_environment,
    }
    command = streamlit_command(host=args.host, port=args.port, also_allowed=args.allow_host)
    command += extra_arguments
    print(
        f"reading the store, then serving the dashboard on http://{args.host}:{args.port} "
        "(Ctrl-C stops it)",
        flush=True,
    )
    # Become the server rather than start it as a child: whoever stops this process (Ctrl-C,
    # a service manager, a test) stops the server, and no orphan keeps the port.
    os.execve(command[0], command, environment)
