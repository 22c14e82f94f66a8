"""The cluster job: the worker (and task) CSVs of a published store, written next to it.

Submit it to EMR Serverless, AWS Glue or any ``spark-submit`` (``docs/scale.md`` gives the
commands)::

    python -m analytics.spark.job --store s3://bucket/prefix --out s3://bucket/out/ \\
        --since 2026-11-01 --until 2026-12-01

It writes ``workers.csv`` and ``workers.definitions.csv`` under ``--out`` (and ``tasks.csv`` with
its definitions for ``--tasks``), with the same bytes ``gt-throughput export`` writes for the
same store and window: the same metric functions (``analytics.spark.engine``) and the one CSV
writer (``export.frame_csv_bytes``). Inside a cluster the job uses the session ``spark-submit``
made; run by hand, it starts a local one on ``--spark-master``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from analytics.cli.arguments import add_selection_arguments
from analytics.cli.time_arguments import SINCE_HELP, parse_when
from analytics.dataset import Filters
from analytics.errors import GroundTruthError
from analytics.export.csv_writer import definitions_csv_bytes, frame_csv_bytes
from analytics.timezones import check_timezone

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analytics.spark.job",
        description="Write the worker (and task) CSVs of a store with Spark.",
    )
    parser.add_argument(
        "--store",
        required=True,
        metavar="URI",
        help="the store: an s3:// prefix written by `gt-throughput publish`, or a folder",
    )
    parser.add_argument(
        "--out",
        required=True,
        metavar="URI",
        help="the folder or s3:// prefix to write workers.csv (and tasks.csv) into",
    )
    parser.add_argument("--since", metavar="WHEN", help=f"window start: {SINCE_HELP}")
    parser.add_argument("--until", metavar="WHEN", help="window end (exclusive), same forms")
    add_selection_arguments(parser)
    parser.add_argument(
        "--tasks",
        action="store_true",
        help="also write tasks.csv, one row per task: it is collected on the driver, so size the"
        " driver for it (about 1 GB per 3 million tasks)",
    )
    parser.add_argument(
        "--spark-master",
        metavar="URL",
        help="run by hand: the Spark master (default local[*]); ignored inside a cluster",
    )
    return parser


#: An argument AWS Glue adds to every job run: its presence says the job runs inside Glue.
GLUE_RUN_ARGUMENT = "--JOB_RUN_ID"


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """The job's arguments. Inside AWS Glue, which adds its own (``--JOB_ID``, ``--TempDir``,
    ...), arguments the job does not know are left to Glue; anywhere else they are an error."""
    parser = build_parser()
    if GLUE_RUN_ARGUMENT in argv:
        args, _ = parser.parse_known_args(list(argv))
        return args
    return parser.parse_args(list(argv))


def run_job(spark: SparkSession, argv: Sequence[str]) -> list[str]:
    """Run the job on ``spark`` with command-line ``argv``; returns the URIs written."""
    from analytics.spark.engine import spark_task_table, spark_worker_summary
    from analytics.spark.store_files import HadoopStore

    args = parse_arguments(argv)
    timezone = check_timezone(args.timezone)
    now = dt.datetime.now(dt.UTC)
    filters = Filters(
        since=parse_when(args.since, now, "--since", timezone) if args.since else None,
        until=parse_when(args.until, now, "--until", timezone) if args.until else None,
        workteams=tuple(args.team),
        jobs=tuple(args.job),
    )
    outputs = []
    workers = spark_worker_summary(spark, args.store, filters)
    outputs.append(("workers", workers))
    if args.tasks:
        outputs.append(("tasks", spark_task_table(spark, args.store, filters)))
    target = HadoopStore(spark, args.out, "--out")
    written = []
    for name, frame in outputs:
        payload = frame_csv_bytes(frame, timezone=timezone, pseudonymize=args.pseudonymize)
        for uri, content in (
            (target.child(f"{name}.csv"), payload),
            (target.child(f"{name}.definitions.csv"), definitions_csv_bytes(frame.columns)),
        ):
            target.write_bytes(uri, content)
            written.append(uri)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m analytics.spark.job``: exit 0, or 2 with one ``error:`` line."""
    from analytics.spark.session import spark_session

    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_arguments(arguments)
        spark = spark_session(args.spark_master)
        for uri in run_job(spark, arguments):
            print(f"wrote {uri}")
    except GroundTruthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
