"""The ``export`` of the per-worker, per-task and timesheet tables: CSV files of the store, with
their definitions beside them.

How cells are written is :mod:`analytics.export.csv_writer`; identities are replaced by
:mod:`analytics.export.pseudonyms`; where the files may go is
:mod:`analytics.export.destinations`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from analytics.dataset import Filters, load_team_data, store_is_empty
from analytics.errors import UsageError
from analytics.export.csv_writer import definitions_csv_bytes, frame_csv_bytes
from analytics.export.destinations import definitions_path_for, output_destination, write_outputs
from analytics.metrics.outcomes import task_table
from analytics.metrics.timesheet import timesheet
from analytics.metrics.workers import Thresholds, worker_summary
from analytics.store.store import Store
from analytics.timezones import check_timezone


def workers_csv_bytes(
    frame: pd.DataFrame, *, timezone: str = "UTC", pseudonymize: bool = False
) -> bytes:
    """The per-worker table (``worker_summary``) as CSV bytes; see the module docstring."""
    return frame_csv_bytes(frame, timezone=timezone, pseudonymize=pseudonymize)


def tasks_csv_bytes(
    frame: pd.DataFrame, *, timezone: str = "UTC", pseudonymize: bool = False
) -> bytes:
    """The task table (``task_table``) as CSV bytes; see the module docstring."""
    return frame_csv_bytes(frame, timezone=timezone, pseudonymize=pseudonymize)


def timesheet_csv_bytes(
    frame: pd.DataFrame, *, timezone: str = "UTC", pseudonymize: bool = False
) -> bytes:
    """The timesheet (``timesheet``) as CSV bytes; its times written in ``timezone``, which
    should be the one its days were cut in."""
    return frame_csv_bytes(frame, timezone=timezone, pseudonymize=pseudonymize)


@dataclass(frozen=True)
class ExportResult:
    """What ``export_csv`` wrote.

    ``definitions_path`` is None when no definitions were written (``out`` is a device or a
    pipe and no place was named for them); ``streamed`` is True when ``out`` is one.
    """

    path: Path
    definitions_path: Path | None
    rows: int
    streamed: bool = False

    def summary_line(self) -> str:
        """One line for the terminal."""
        if self.definitions_path is not None:
            definitions = f"definitions: {self.definitions_path}"
        else:
            definitions = (
                "definitions not written beside a device, pipe or descriptor:"
                " add --definitions FILE"
            )
        return f"wrote {self.rows:,} rows to {self.path} ({definitions})"


#: Why ``--engine spark`` is refused for the timesheet (one line, with the fix).
_SPARK_TIMESHEET = (
    "--engine spark does not compute the timesheet yet: drop --engine spark (the local engine"
    " reads a local store)"
)

#: How an export computes its table: ``local`` (pandas, in this process) or ``spark``
#: (``analytics.spark``: the same functions on a Spark cluster or a local Spark).
ENGINES = ("local", "spark")


def export_csv(
    store: Store | str,
    what: Literal["workers", "tasks", "timesheet"],
    out: Path,
    *,
    filters: Filters | None = None,
    timezone: str = "UTC",
    pseudonymize: bool = False,
    worker_key: str | None = None,
    thresholds: Thresholds | None = None,
    definitions: Path | None = None,
    engine: Literal["local", "spark"] = "local",
    spark_master: str | None = None,
) -> ExportResult:
    """Write the per-worker, per-task or timesheet CSV of ``store`` to ``out``, and its
    definitions. The timesheet's days are the local days of ``timezone`` (``timesheet``).

    ``engine="spark"`` computes the same table with Spark (``analytics.spark.engine``), on
    ``spark_master`` or the active session; ``store`` may then also be the URI of a published
    store (``s3://bucket/prefix``).

    The definitions go to ``definitions`` when given, else beside ``out`` as
    ``FILE.definitions.csv`` when ``out`` is a regular file, else nowhere. How each destination
    is written (a regular file replaced atomically, a device or pipe written through, anything
    else refused) is described in :func:`write_outputs`.

    Raises
    ------
    UsageError
        When the store is empty (there is nothing trustworthy to export; the dashboard's sample
        fallback is deliberately not used here), or a destination cannot be written (the message
        names it, why, and the fix).
    """
    check_timezone(timezone)
    if engine == "spark" and what == "timesheet":
        raise UsageError(_SPARK_TIMESHEET)
    # Destinations first: a wrong --out is reported before the store is read.
    target = output_destination(Path(out), "--out", example=f"{what}.csv")
    companion = None
    if definitions is not None:
        companion = output_destination(
            Path(definitions), "--definitions", example=f"{what}.definitions.csv"
        )
    elif not target.streamed:
        companion = output_destination(
            Path(definitions_path_for(out)), "--out's definitions file", example=f"{what}.csv"
        )
    if companion is not None and os.path.abspath(companion.path) == os.path.abspath(target.path):
        raise UsageError(f"--definitions {definitions} is the --out file: name another file")
    if isinstance(store, Store) and store_is_empty(store):
        raise UsageError(
            f"the store in {store.root} is empty: run gt-throughput ingest or sync first"
        )
    filters, thresholds = filters or Filters(), thresholds or Thresholds()
    if engine == "spark":
        frame = _spark_table(store, what, filters, thresholds, worker_key, spark_master)
    elif isinstance(store, Store):
        data = load_team_data(store, filters)
        if what == "workers":
            frame = worker_summary(data, thresholds)
        elif what == "timesheet":
            frame = timesheet(
                data, timezone=timezone, session_gap_minutes=thresholds.session_gap_minutes
            )
        else:
            frame = task_table(data, worker_key=worker_key)
    else:
        raise UsageError(f"--data {store} is a published store: read it with --engine spark")
    if what == "workers":
        payload = workers_csv_bytes(frame, timezone=timezone, pseudonymize=pseudonymize)
    elif what == "timesheet":
        payload = timesheet_csv_bytes(frame, timezone=timezone, pseudonymize=pseudonymize)
    else:
        payload = tasks_csv_bytes(frame, timezone=timezone, pseudonymize=pseudonymize)
    outputs = [(payload, target)]
    if companion is not None:
        outputs.append((definitions_csv_bytes(frame.columns), companion))
    write_outputs(outputs)
    return ExportResult(
        path=target.path,
        definitions_path=companion.path if companion is not None else None,
        rows=len(frame),
        streamed=target.streamed,
    )


def _spark_table(
    store: Store | str,
    what: Literal["workers", "tasks", "timesheet"],
    filters: Filters,
    thresholds: Thresholds,
    worker_key: str | None,
    spark_master: str | None,
) -> pd.DataFrame:
    """The table of ``export_csv`` computed by the Spark engine (PySpark imported only here)."""
    from analytics.spark.engine import spark_task_table, spark_worker_summary
    from analytics.spark.session import spark_session

    location = str(store.root) if isinstance(store, Store) else store
    spark = spark_session(spark_master)
    if what == "workers":
        return spark_worker_summary(spark, location, filters, thresholds)
    return spark_task_table(spark, location, filters, worker_key)
