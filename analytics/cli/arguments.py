"""Arguments several commands share: where the store is, how AWS is reached."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

DEFAULT_DATA_DIR = "gt-data"
DATA_ENV_VAR = "GT_THROUGHPUT_DATA"


def data_dir(value: str | None) -> Path:
    """The store directory: ``--data``, else ``$GT_THROUGHPUT_DATA``, else ``./gt-data``."""
    return Path(value or os.environ.get(DATA_ENV_VAR) or DEFAULT_DATA_DIR)


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        metavar="DIR",
        help=f"store directory (default: ${DATA_ENV_VAR}, else ./{DEFAULT_DATA_DIR})",
    )


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    """``--team``, ``--job``, ``--timezone`` and ``--pseudonymize``: what an export selects and how
    it writes it (``export`` and the Spark cluster job)."""
    parser.add_argument(
        "--team", action="append", default=[], metavar="NAME", help="work team name (repeatable)"
    )
    parser.add_argument(
        "--job", action="append", default=[], metavar="NAME", help="labeling job name (repeatable)"
    )
    parser.add_argument(
        "--timezone",
        default="UTC",
        help="IANA time zone of the times written and of the timesheet's days (default UTC)",
    )
    parser.add_argument(
        "--pseudonymize",
        action="store_true",
        help="replace worker IDs, usernames and emails with stable pseudonyms"
        " (key: $GT_THROUGHPUT_PSEUDONYM_KEY, else a fixed salt)",
    )


def add_aws_arguments(parser: argparse.ArgumentParser) -> None:
    """``--region``, ``--profile``, ``--endpoint-url`` and ``--aws-timeout`` (``sync``,
    ``publish``): see :class:`analytics.aws.EndpointWatch` for how the timeout bounds a run."""
    parser.add_argument("--region", help="AWS region (default: the profile's or $AWS_REGION)")
    parser.add_argument(
        "--profile", help="AWS profile (default: boto3's chain: env, default profile, SSO, role)"
    )
    parser.add_argument(
        "--endpoint-url", metavar="URL", help="another endpoint than AWS's (emulator, proxy)"
    )
    parser.add_argument(
        "--aws-timeout",
        metavar="SECONDS",
        type=float,
        default=30.0,
        help="how long to wait for an AWS endpoint's answer (default: %(default)g); an endpoint"
        " silent for 2.5 times that is given up, see docs/sync.md",
    )
