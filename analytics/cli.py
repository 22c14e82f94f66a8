"""``gt-throughput``: a thin command line over ``analytics``.

Each command parses its arguments, calls one ``analytics`` function and prints the result.
Errors we raise on purpose (``GroundTruthError``) print as one line on stderr with exit code 2.
No traceback reaches a user: an operating-system error nobody converted prints as one line naming
the file (exit 2), and anything else is a bug, reported in one line with the path of a file that
holds its traceback (exit 70). ``GT_THROUGHPUT_DEBUG=1`` lets both propagate instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path

from analytics.errors import GroundTruthError, UsageError
from analytics.text import escape_controls
from analytics.time_arguments import LAST_HELP, SINCE_HELP

DEFAULT_DATA_DIR = "gt-data"
DATA_ENV_VAR = "GT_THROUGHPUT_DATA"
DEBUG_ENV_VAR = "GT_THROUGHPUT_DEBUG"
#: The exit code of a bug (``EX_SOFTWARE`` in BSD's sysexits.h).
EXIT_INTERNAL_ERROR = 70


def data_dir(value: str | None) -> Path:
    """The store directory: ``--data``, else ``$GT_THROUGHPUT_DATA``, else ``./gt-data``."""
    return Path(value or os.environ.get(DATA_ENV_VAR) or DEFAULT_DATA_DIR)


def _add_data_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        metavar="DIR",
        help=f"store directory (default: ${DATA_ENV_VAR}, else ./{DEFAULT_DATA_DIR})",
    )


# --------------------------------------------------------------------------- ingest
def _add_ingest_arguments(parser: argparse.ArgumentParser) -> None:
    _add_data_argument(parser)
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="log files or folders: JSON lines, CloudWatch envelopes, `aws logs filter-log-events`"
        " output, S3 export files (.gz or not); folders are read recursively",
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


def _cmd_ingest(args: argparse.Namespace) -> int:
    from analytics.ingest import ingest_paths
    from analytics.progress import progress_for_terminal
    from analytics.store import Store

    store = Store(data_dir(args.data))
    progress = None if args.no_progress else progress_for_terminal(sys.stderr)
    report = ingest_paths(store, [Path(f) for f in args.files], progress=progress)
    for warning in report.warnings:
        print(f"warning: {escape_controls(warning)}", file=sys.stderr)
    for problem in report.unreadable:
        print(f"error: {escape_controls(problem)}", file=sys.stderr)
    print(report.summary_line())
    return 1 if report.unreadable else 0


# --------------------------------------------------------------------------- status
def _add_status_arguments(parser: argparse.ArgumentParser) -> None:
    _add_data_argument(parser)


def _cmd_status(args: argparse.Namespace) -> int:
    from analytics.status import describe_store
    from analytics.store import Store

    print(describe_store(Store(data_dir(args.data))))
    return 0


# --------------------------------------------------------------------------- sync
def _add_sync_arguments(parser: argparse.ArgumentParser) -> None:
    _add_data_argument(parser)
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


def _cmd_sync(args: argparse.Namespace) -> int:
    from analytics.progress import progress_for_terminal
    from analytics.store import Store
    from analytics.sync import SyncOptions, sync
    from analytics.time_arguments import parse_when

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
    progress = None if args.no_progress else progress_for_terminal(sys.stderr, unit="windows")
    report = sync(Store(data_dir(args.data)), options, progress=progress, now=now)
    print(report.summary_text())
    return report.exit_code


# --------------------------------------------------------------------------- export
def _add_export_arguments(parser: argparse.ArgumentParser) -> None:
    _add_data_argument(parser)
    parser.add_argument(
        "what",
        choices=["workers", "tasks"],
        help="workers: one row per worker (counts, times, flags); tasks: one row per task",
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
    parser.add_argument(
        "--team", action="append", default=[], metavar="NAME", help="work team name (repeatable)"
    )
    parser.add_argument(
        "--job", action="append", default=[], metavar="NAME", help="labeling job name (repeatable)"
    )
    parser.add_argument(
        "--timezone", default="UTC", help="IANA time zone of the times written (default UTC)"
    )
    parser.add_argument(
        "--pseudonymize",
        action="store_true",
        help="replace worker IDs, usernames and emails with stable pseudonyms"
        " (key: $GT_THROUGHPUT_PSEUDONYM_KEY, else a fixed salt)",
    )
    parser.add_argument("--worker", metavar="KEY", help="tasks: only this worker's tasks")


def _cmd_export(args: argparse.Namespace) -> int:
    from analytics.dataset import Filters, data_as_of
    from analytics.export import check_timezone, export_csv
    from analytics.store import Store
    from analytics.time_arguments import last_span_start, parse_span, parse_when

    timezone = check_timezone(args.timezone)
    store = Store(data_dir(args.data))
    now = dt.datetime.now(dt.UTC)
    since = parse_when(args.since, now, "--since", timezone) if args.since is not None else None
    until = parse_when(args.until, now, "--until", timezone) if args.until is not None else None
    if args.last is not None:
        if args.since is not None or args.until is not None:
            raise UsageError("--last replaces --since and --until: give either --last or those")
        since = last_span_start(args.last, data_as_of(store), "--last")
    elif since is not None and parse_span(args.since) is not None:
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
    )
    # When the CSV went to a device or pipe (--out /dev/stdout), keep that stream CSV only.
    print(result.summary_line(), file=sys.stderr if result.streamed else sys.stdout)
    return 0


# --------------------------------------------------------------------------- dashboard
def _add_dashboard_arguments(parser: argparse.ArgumentParser) -> None:
    _add_data_argument(parser)
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


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from analytics.serve import check_can_serve, streamlit_command

    if not 0 < args.port < 65536:
        raise UsageError(f"--port must be between 1 and 65535 (got {args.port})")
    check_can_serve(args.host, args.port)
    environment = {**os.environ, DATA_ENV_VAR: str(data_dir(args.data).resolve())}
    command = streamlit_command(host=args.host, port=args.port, also_allowed=args.allow_host)
    print(
        f"reading the store, then serving the dashboard on http://{args.host}:{args.port} "
        "(Ctrl-C stops it)",
        flush=True,
    )
    # Become the server rather than start it as a child: whoever stops this process (Ctrl-C,
    # a service manager, a test) stops the server, and no orphan keeps the port.
    os.execve(command[0], command, environment)


COMMANDS = {
    "ingest": ("read exported log files into the store", _add_ingest_arguments, _cmd_ingest),
    "status": ("describe what the store holds", _add_status_arguments, _cmd_status),
    "sync": (
        "pull logs, metrics, identities, teams and jobs from AWS",
        _add_sync_arguments,
        _cmd_sync,
    ),
    "export": ("write per-worker or per-task CSV files", _add_export_arguments, _cmd_export),
    "dashboard": (
        "serve the Streamlit dashboard (the store is read before it answers)",
        _add_dashboard_arguments,
        _cmd_dashboard,
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``gt-throughput`` with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="gt-throughput",
        description="Throughput analytics for SageMaker Ground Truth private labeling teams.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_arguments, handler) in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=help_text, description=help_text)
        add_arguments(subparser)
        subparser.set_defaults(handler=handler)
    return parser


def _report_bug(exc: BaseException) -> str:
    """Write ``exc``'s traceback to a file and return the file's path (or why it could not)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        with tempfile.NamedTemporaryFile(
            "w", prefix=f"gt-throughput-crash-{stamp}-", suffix=".txt", delete=False
        ) as handle:
            traceback.print_exception(exc, file=handle)
    except OSError as write_error:
        return f"(the traceback could not be saved: {write_error.strerror})"
    return handle.name


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``gt-throughput``; returns the exit code."""
    args = build_parser().parse_args(argv)
    debug = bool(os.environ.get(DEBUG_ENV_VAR))
    try:
        code: int = args.handler(args)
    except GroundTruthError as exc:
        print(f"error: {escape_controls(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted: what was fully written is kept; run the same command again",
            file=sys.stderr,
        )
        return 130
    except OSError as exc:
        if debug:
            raise
        where = f" {exc.filename}" if exc.filename is not None else ""
        print(escape_controls(f"error:{where}: {exc.strerror or exc}"), file=sys.stderr)
        return 2
    except Exception as exc:
        if debug:
            raise
        print(
            f"internal error: {type(exc).__name__}: {escape_controls(str(exc))} — this is a bug in "
            "gt-throughput; "
            f"what was fully written is kept. Please report it with {_report_bug(exc)}",
            file=sys.stderr,
        )
        return EXIT_INTERNAL_ERROR
    return code


if __name__ == "__main__":
    sys.exit(main())
