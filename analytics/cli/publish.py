"""``gt-throughput publish``: mirror the local store to S3 for Spark and Athena (issue 14)."""

from __future__ import annotations

import argparse
from typing import Any

from analytics.cli.arguments import add_aws_arguments, add_data_argument, data_dir

HELP = "mirror the store to S3 (new files first, the manifest last), for Spark and Athena"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``publish`` and its arguments to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser("publish", help=HELP, description=HELP)
    add_data_argument(parser)
    parser.add_argument(
        "--to",
        required=True,
        metavar="S3_URI",
        help="where: s3://BUCKET/PREFIX (an empty prefix, or one this command published to)",
    )
    add_aws_arguments(parser)
    parser.epilog = (
        "Only what S3 lacks is uploaded; an interrupted publish is completed by running it again."
        " Readers of s3://.../_gt_manifest.json (the Spark engine) always see one whole"
        " published state; see docs/scale.md for what Athena sees while a publish runs."
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``publish`` with the parsed ``args``; returns the exit code."""
    from analytics import PublishOptions, Store, parse_s3_location, publish_store

    location = parse_s3_location(args.to, "--to")
    options = PublishOptions(
        region=args.region,
        profile=args.profile,
        endpoint_url=args.endpoint_url,
        answer_timeout_seconds=args.aws_timeout,
    )
    report = publish_store(Store(data_dir(args.data)), location, options)
    print(report.summary_text())
    return 0
