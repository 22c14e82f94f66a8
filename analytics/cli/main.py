"""``gt-throughput``: a thin command line over ``analytics``.

Each command is one module of this package (``add_parser(subparsers)`` adds it and its arguments,
``run(args)`` runs it and returns the exit code), registered once in ``COMMANDS`` below; it parses
its arguments, calls one ``analytics`` function and prints the result. A command module imports
what it runs inside ``run``, so ``--help`` and every other command start without it.
Errors we raise on purpose (``GroundTruthError``) print as one line on stderr with exit code 2.
No traceback reaches a user: an operating-system error nobody converted prints as one line naming
the file (exit 2), and anything else is a bug, reported in one line with the path of a file that
holds its traceback (exit 70). ``GT_THROUGHPUT_DEBUG=1`` lets both propagate instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from typing import NoReturn

from analytics import GroundTruthError, escape_controls
from analytics.cli import (
    athena_ddl,
    dashboard,
    digest,
    export,
    gold,
    ingest,
    publish,
    serve,
    status,
    sync,
)

DEBUG_ENV_VAR = "GT_THROUGHPUT_DEBUG"
#: The exit code of a bug (``EX_SOFTWARE`` in BSD's sysexits.h).
EXIT_INTERNAL_ERROR = 70
#: The commands, in the order ``--help`` lists them: a new command is a module and a line here.
COMMANDS = (ingest, gold, status, sync, export, digest, dashboard, serve, publish, athena_ddl)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``gt-throughput`` with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="gt-throughput",
        description="Throughput analytics for SageMaker Ground Truth private labeling teams.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers).set_defaults(handler=command.run)
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


def run_program(argv: Sequence[str] | None = None) -> NoReturn:
    """``gt-throughput`` as a program (its console script, ``python -m analytics.cli``): run
    ``main`` and exit the process with its code.

    Before exiting, every object still alive is moved out of the garbage collector's reach
    (``gc.freeze``): they all die with the process anyway, and the interpreter's last collections
    over NumPy's, pyarrow's, pandas' and Numba's objects took 0.4-0.7 s of every command that had
    loaded them (``docs/performance.md``). Exit handlers run and output is flushed as always.
    """
    code = main(argv)
    gc.freeze()
    sys.exit(code)
