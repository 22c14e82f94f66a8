"""The Spark engine: the worker and task tables of a store too big for one machine, computed by
the project's own metric functions on Spark's executors.

No metric is written twice. The local engine's functions are split into stages that each need a
known slice of the data (``analytics.metrics.workers``, ``analytics.metrics.outcomes``), and Spark
only moves the slices around:

1. The events are read from the store's Parquet files (``store_files``), each tagged with its
   place in the store (file, row), and cut to the window, teams and jobs by
   ``dataset.cut_to_window`` / ``cut_to_teams_and_jobs`` on every batch (``mapInArrow``).
2. Worker table: the columns ``worker_part`` reads are grouped by a hash of ``worker_key``
   (``applyInArrow``: each group, many workers whole, arrives as one Arrow table, put back in
   store order), ``worker_part`` gives each worker's row and its (worker, job) median pairs; the
   pairs are grouped by job for ``score_jobs`` (the job medians the slow flag compares with); the
   driver collects the rows and the slow pairs and runs ``slow_reasons`` and ``finish_workers``
   (team members, identities, flags, order; the response numbers of ``quality``), which read
   only the sync and response tables.
3. Task table: ``task_rows`` on every batch; Spark sorts by outcome time with the store position
   as the tie-break, which is ``order_tasks``' order on the local engine. The driver matches the
   submitted tasks to their responses (``quality.submitted_task_numbers``).

Worker responses, consolidated labels and gold answers are whole-table Parquet files, one row per
answer (bounded by labeling volume, not by the activity log's events): the driver reads them and
runs the local engine's response functions on them, including ``workers.active_pairs``, the
active-time pairs of the fair slow flag, which join the wall clock pairs in the per-job stage
(``workers.fair_pairs``).

Memory: an executor holds one batch (10,000 events, Spark's default) or one group (about
``GROUP_PARQUET_BYTES`` of the store's Parquet) at a time, whatever the store's size; the driver
holds the finished table. Times cross between Spark
and Python as epoch milliseconds, so no time-zone conversion touches them.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from analytics.dataset import (
    EVENT_COLUMNS,
    RESPONSE_TABLES,
    Filters,
    TeamData,
    cut_to_teams_and_jobs,
    cut_to_window,
    events_frame,
    last_log_sync,
    team_data_from_cut_events,
    team_data_from_tables,
    window_end,
)
from analytics.metrics.outcomes import (
    MISSING_MS,
    OUTCOME_WORDS,
    SUBMITTED,
    column_epoch_ms,
    ms_to_times,
    task_rows,
)
from analytics.metrics.quality import TASK_RESPONSE_COLUMNS, submitted_task_numbers
from analytics.metrics.workers import (
    ACTIVE,
    PAIR_COLUMNS,
    WALL,
    WORKER_PART_EVENT_COLUMNS,
    Thresholds,
    active_pairs,
    fair_pairs,
    finish_workers,
    score_jobs,
    slow_reasons,
    worker_part,
)
from analytics.spark.session import quiet_pyspark, spark_failures
from analytics.spark.store_files import HadoopStore, require_store
from analytics.store import schema

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: Columns that carry an event's place in the store (file URI, row in the file): the local
#: engine reads files in that order, and order-sensitive rules (a worker's last ``worker_id``, ties
#: between equal outcome times) follow it.
FILE_COLUMN, ROW_COLUMN = "_store_file", "_store_row"
PART_COLUMN = "_part"
#: A task's ``task_submitted_time`` (epoch ms): what matches it to its worker response.
SUBMITTED_MS_COLUMN = "_submitted_ms"
#: Sync tables the finishing stages read (identities, team members, the TimeSpent metric), those
#: that cut them (jobs, workteams), and the job outputs' tables (worker responses, consolidated
#: labels, gold answers): whole-table Parquet files, bounded by labeling volume (one row per
#: answer), which the driver reads to compute every response-based number with the local
#: engine's functions.
_DRIVER_TABLES = ("users", "memberships", "metrics", "jobs", "workteams", *RESPONSE_TABLES)


# --------------------------------------------------------------------------- frames <-> Arrow
def frame_to_arrow(frame: pd.DataFrame) -> pa.Table:
    """``frame`` as Arrow for Spark: times as epoch ms (``int64``), text as ``string``.

    Columns of any other type go as Arrow infers them, so a column a metric adds crosses too.
    """
    columns: dict[str, pa.Array] = {}
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            ms = column_epoch_ms(series)
            columns[name] = pa.array(ms, pa.int64(), mask=ms == MISSING_MS)
            continue
        array = pa.array(series, from_pandas=True)
        if pa.types.is_large_string(array.type) or pa.types.is_null(array.type):
            array = array.cast(pa.string())
        columns[name] = array
    return pa.table(columns) if columns else pa.table({})


def arrow_to_frame(table: pa.Table, template: pd.DataFrame) -> pd.DataFrame:
    """The inverse of ``frame_to_arrow``: each column back to ``template``'s dtype."""
    columns: dict[str, Any] = {}
    for name in template.columns:
        column = table.column(name)
        dtype = template[name].dtype
        if isinstance(dtype, pd.DatetimeTZDtype):
            ms = np.asarray(column.fill_null(MISSING_MS).to_numpy(), dtype=np.int64)
            columns[name] = ms_to_times(ms)
        elif pd.api.types.is_object_dtype(dtype):
            values = column.to_numpy(zero_copy_only=False)
            columns[name] = np.where(pd.isna(values), np.nan, values).astype(object)
        else:
            columns[name] = column.to_pandas().astype(dtype).to_numpy()
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))


# --------------------------------------------------------------------------- Spark 3.5 and 4
#: Force the Spark 3.5 path (``applyInPandas``, ``_collect_as_arrow``) on Spark 4: tests use it.
FORCE_SPARK_35_PATH = False


def apply_per_group(grouped: Any, function: Any, output: pa.Schema) -> DataFrame:
    """``function`` (an Arrow table in, one out) on each group of ``grouped``.

    Spark 4 hands a group over as Arrow (``applyInArrow``); Spark 3.5 (AWS Glue 5.x, EMR 7.x) only
    as pandas (``applyInPandas``), converted back to Arrow here, so the metric code sees Arrow
    either way.
    """
    if hasattr(grouped, "applyInArrow") and not FORCE_SPARK_35_PATH:
        return grouped.applyInArrow(function, _spark_schema(output))

    def through_pandas(frame: pd.DataFrame) -> pd.DataFrame:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        result: pa.Table = function(_utc_times(table))
        frame = result.to_pandas()
        # Text as Python objects: pandas 3 backs its strings with Arrow chunks, which PySpark's
        # own conversion back to Arrow does not take.
        text = [f.name for f in result.schema if pa.types.is_string(f.type)]
        return frame.astype(dict.fromkeys(text, object)) if text else frame

    return grouped.applyInPandas(through_pandas, _spark_schema(output))


def _utc_times(table: pa.Table) -> pa.Table:
    """Times that came through pandas without a zone (Spark 3.5 gives naive session-zone
    times, and the session zone is UTC) marked as UTC again."""
    columns = [
        column.cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))
        if pa.types.is_timestamp(column.type) and column.type.tz is None
        else column
        for column in table.columns
    ]
    return pa.table(columns, names=table.column_names)


def collect_arrow(frame: DataFrame) -> pa.Table:
    """``frame`` on the driver as one Arrow table, in its order (no pandas on the way)."""
    if hasattr(frame, "toArrow") and not FORCE_SPARK_35_PATH:
        return frame.toArrow()
    from pyspark.sql.pandas.types import to_arrow_schema

    # Spark 3.5's DataFrame has no public Arrow collect; this private one is what its
    # ``toPandas`` uses (and what 4.0 made public as ``toArrow``).
    batches = getattr(frame, "_collect_as_arrow")()  # noqa: B009 (private on purpose)
    if batches:
        return pa.Table.from_batches(batches)
    return to_arrow_schema(frame.schema).empty_table()


def _spark_schema(arrow_schema: pa.Schema) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    nullable = pa.schema([field.with_nullable(True) for field in arrow_schema])
    return from_arrow_schema(nullable)


@functools.cache
def _empty_data() -> TeamData:
    """A ``TeamData`` without any row, built once per process: its empty team tables cost more to
    build than a group's events."""
    return team_data_from_tables(schema.EVENTS.empty_table())


# --------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class StoreEvents:
    """What ``read_events`` gives.

    Attributes
    ----------
    frame
        The events cut to the filters, columns ``EVENT_COLUMNS`` and the store place.
    as_of
        What ``load_team_data`` gives: ``until``, else the later of the latest event time in the
        window (whatever the team and job filters) and the last log sync.
    stored_bytes
        The size of the Parquet files read: what sizes the per-worker stage's groups.
    """

    frame: DataFrame
    as_of: pd.Timestamp
    stored_bytes: int


def read_events(
    spark: SparkSession,
    store: HadoopStore,
    filters: Filters,
    columns: tuple[str, ...] = EVENT_COLUMNS,
) -> StoreEvents:
    """The store's events cut to ``filters``, with their place in the store (``StoreEvents``).

    Only ``columns`` are read (they must include those the cut reads: ``event_time``,
    ``workteam_name``, ``labeling_job_name``). A cut with nothing to cut is skipped: each one
    sends every event through Python.
    """
    from pyspark.sql import functions as F

    listed = store.event_files(filters.since, filters.until)
    files = [uri for uri, _ in listed]
    stored = schema.EVENTS.append(pa.field("date", pa.string()))
    if files:
        raw = (
            spark.read.schema(_spark_schema(stored))
            .option("basePath", store.child("events"))
            .parquet(*files)
            .select(
                *columns,
                F.col("_metadata.file_path").alias(FILE_COLUMN),
                F.col("_metadata.row_index").alias(ROW_COLUMN),
            )
        )
    else:
        empty_schema = pa.schema(
            [
                *(schema.EVENTS.field(name) for name in columns),
                pa.field(FILE_COLUMN, pa.string()),
                pa.field(ROW_COLUMN, pa.int64()),
            ]
        )
        raw = spark.createDataFrame([], _spark_schema(empty_schema))
    bounded = filters.since is not None or filters.until is not None
    in_window = (
        raw.mapInArrow(functools.partial(_cut_batches, filters, False), raw.schema)
        if bounded
        else raw
    )
    if filters.until is not None:
        as_of = window_end(filters, None, None)
    else:
        times = raw.select("event_time")
        if bounded:
            times = times.mapInArrow(functools.partial(_cut_batches, filters, False), times.schema)
        latest = collect_arrow(times.agg(F.max("event_time").alias("latest"))).column(0)[0]
        latest = latest.as_py()
        as_of = window_end(filters, latest, last_log_sync(store.state()))
    if filters.workteams or filters.jobs:
        events = in_window.mapInArrow(
            functools.partial(_cut_batches, filters, True), in_window.schema
        )
    else:
        events = in_window
    return StoreEvents(events, as_of, sum(size for _, size in listed))


def _cut_batches(
    filters: Filters, names: bool, batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """Executor side: each batch cut by the window (``names``: by teams and jobs instead)."""
    for batch in batches:
        table = pa.Table.from_batches([batch])
        cut = cut_to_teams_and_jobs(table, filters) if names else cut_to_window(table, filters)
        yield from cut.to_batches()


def driver_data(
    store: HadoopStore,
    events: DataFrame,
    filters: Filters,
    as_of: pd.Timestamp,
) -> TeamData:
    """A ``TeamData`` whose events are only the distinct (team, job) names of the cut events, with
    the sync and response tables cut as the local engine cuts them: what ``finish_workers``,
    ``active_pairs`` and ``submitted_task_numbers`` read besides events.

    With a team or job filter, the member lists and response tables are cut to the teams and
    jobs of the events, and the fair slow flag compares active times on jobs with events only:
    those distinct names come to the driver (one small Spark job, skipped when nothing needs it).
    """
    tables: dict[str, pa.Table] = {}
    for name in _DRIVER_TABLES:
        table = store.read_table(name)
        if table is not None:
            tables[name] = table
    names = ["workteam_name", "labeling_job_name"]
    responses = tables.get("responses")
    if filters.jobs or filters.workteams or (responses is not None and responses.num_rows):
        teams = collect_arrow(events.select(*names).distinct())
    else:
        teams = pa.table({name: pa.array([], pa.string()) for name in names})
    return team_data_from_cut_events(teams, tables=tables, filters=filters, as_of=as_of)


# --------------------------------------------------------------------------- worker table
def spark_worker_summary(
    spark: SparkSession,
    location: str,
    filters: Filters | None = None,
    thresholds: Thresholds | None = None,
) -> pd.DataFrame:
    """``worker_summary`` of the store at ``location`` (a folder or ``s3://`` prefix), on Spark.

    Same rows, same columns, same values as ``worker_summary(load_team_data(...))``.
    """
    filters, thresholds = filters or Filters(), thresholds or Thresholds()
    with quiet_pyspark(), spark_failures(location):
        store = HadoopStore(spark, location)
        require_store(store)
        read = read_events(spark, store, filters, WORKER_PART_EVENT_COLUMNS)
        events = read.frame
        template = worker_part(_empty_data(), thresholds)
        row_schema = frame_to_arrow(template.rows).schema
        pair_schema = frame_to_arrow(template.pairs.rename(columns={"worker": "worker_key"})).schema
        part_schema = pa.schema(
            [
                pa.field(PART_COLUMN, pa.string()),
                *row_schema,
                *(field for field in pair_schema if field.name != "worker_key"),
            ]
        )
        buckets = _bucket_count(spark, read.stored_bytes)
        parts = apply_per_group(
            events.groupBy(_bucket_of("worker_key", buckets)),
            _per_group(_worker_group, thresholds, part_schema),
            part_schema,
        )
        parts = parts.persist()
        try:
            rows_table = parts.filter(parts[PART_COLUMN] == "row").select(*row_schema.names)
            rows = arrow_to_frame(collect_arrow(rows_table), template.rows)
            pairs = parts.filter(parts[PART_COLUMN] == "pair").select(
                parts["worker_key"].alias("worker"), *PAIR_COLUMNS[1:]
            )
            # The fair slow flag's active-time pairs come from the responses, on the driver
            # (``active_pairs``, as the local engine); they meet the wall clock pairs by job.
            data = driver_data(store, read.frame, filters, read.as_of)
            jobs = data.events["labeling_job_name"].dropna()
            active = active_pairs(
                data, pd.Index(rows["worker_key"]), pd.Index(jobs), thresholds.slow_min_tasks
            )
            if len(active):
                pair_schema = frame_to_arrow(template.pairs).schema
                active_table = _conform(frame_to_arrow(active), pair_schema)
                pairs = pairs.unionByName(
                    spark.createDataFrame(active_table.to_pandas(), _spark_schema(pair_schema))
                )
            scored_template = score_jobs(template.pairs, thresholds)
            scored_schema = frame_to_arrow(scored_template).schema
            slow = apply_per_group(
                pairs.groupBy(_bucket_of("job", spark.sparkContext.defaultParallelism)),
                _per_group(_score_group, thresholds, scored_schema),
                scored_schema,
            )
            scored = arrow_to_frame(collect_arrow(slow), scored_template)
        finally:
            parts.unpersist()
    return finish_workers(rows, slow_reasons(scored, thresholds), data, thresholds)


#: Parquet bytes of events per group of the per-worker stage. Groups hold many workers, so the
#: fixed cost of a call (building a ``TeamData``: tens of ms) is paid per group, not per worker,
#: and ``worker_part`` runs at its local speed; a group of 16 MB of Parquet (1 to 2 million
#: events) keeps an executor's memory bounded (a few hundred MB) whatever the store's size.
GROUP_PARQUET_BYTES = 16 * 2**20


def _bucket_count(spark: SparkSession, stored_bytes: int) -> int:
    """Groups for the per-worker stage: enough for every core twice, and for the bytes."""
    cores = int(spark.sparkContext.defaultParallelism)
    return max(2 * cores, -(-stored_bytes // GROUP_PARQUET_BYTES))


def _bucket_of(column: str, buckets: int) -> Any:
    """A group number from a hash of ``column``: every row of one value in the same group."""
    from pyspark.sql import functions as F

    return F.pmod(F.xxhash64(F.col(column)), F.lit(buckets)).alias("_group")


def _per_group(function: Any, *arguments: Any) -> Any:
    """``function`` with its first arguments bound, for ``applyInArrow``: PySpark tells an Arrow
    group function by its type hints, which ``functools.partial`` hides (PySpark 4.3 then fails
    with an ``UnboundLocalError``)."""

    def apply(table: pa.Table) -> pa.Table:
        result: pa.Table = function(*arguments, table)
        return result

    return apply


def _worker_group(thresholds: Thresholds, part_schema: pa.Schema, events: pa.Table) -> pa.Table:
    """Executor side: one worker's row and pairs (``worker_part``), in the union schema."""
    ordered = events.sort_by([(FILE_COLUMN, "ascending"), (ROW_COLUMN, "ascending")])
    data = dataclasses.replace(_empty_data(), events=events_frame(ordered))
    part = worker_part(data, thresholds)
    rows = frame_to_arrow(part.rows)
    rows = rows.append_column(PART_COLUMN, pa.array(["row"] * rows.num_rows, pa.string()))
    pairs = frame_to_arrow(part.pairs.rename(columns={"worker": "worker_key"}))
    pairs = pairs.append_column(PART_COLUMN, pa.array(["pair"] * pairs.num_rows, pa.string()))
    pieces = [_conform(piece, part_schema) for piece in (rows, pairs)]
    return pa.concat_tables(pieces)


def _score_group(thresholds: Thresholds, scored_schema: pa.Schema, pairs: pa.Table) -> pa.Table:
    """Executor side: one job's pairs, wall clock and active, made fair (``fair_pairs``) and
    scored (``score_jobs``); only the slow ones go on."""
    frame = pd.DataFrame(
        {
            "worker": pairs.column("worker").to_numpy(zero_copy_only=False),
            "job": pairs.column("job").to_numpy(zero_copy_only=False),
            "tasks_with_seconds": pairs.column("tasks_with_seconds").to_numpy(),
            "median_ms": pairs.column("median_ms").to_numpy(),
            "measure": pairs.column("measure").to_numpy(zero_copy_only=False),
        }
    )
    wall = frame["measure"].to_numpy() == WALL
    active = frame["measure"].to_numpy() == ACTIVE
    both = fair_pairs(frame[wall].reset_index(drop=True), frame[active].reset_index(drop=True))
    scored = score_jobs(both, thresholds)
    return _conform(frame_to_arrow(scored[scored["slow"]]), scored_schema)


def _conform(table: pa.Table, target: pa.Schema) -> pa.Table:
    """``table`` with ``target``'s columns in its order: missing ones all null."""
    columns = [
        table.column(field.name).cast(field.type)
        if field.name in table.column_names
        else pa.nulls(table.num_rows, field.type)
        for field in target
    ]
    return pa.Table.from_arrays(columns, schema=target)


# --------------------------------------------------------------------------- task table
def spark_task_table(
    spark: SparkSession,
    location: str,
    filters: Filters | None = None,
    worker_key: str | None = None,
) -> pd.DataFrame:
    """``task_table`` of the store at ``location`` on Spark: same rows in the same order."""
    from pyspark.sql import functions as F

    filters = filters or Filters()
    with quiet_pyspark(), spark_failures(location):
        store = HadoopStore(spark, location)
        require_store(store)
        read = read_events(spark, store, filters)
        events = read.frame
        data = driver_data(store, events, filters, read.as_of)
        template = task_rows(_empty_data())
        task_schema = frame_to_arrow(template).schema
        out_schema = pa.schema(
            [
                *task_schema,
                pa.field(SUBMITTED_MS_COLUMN, pa.int64()),
                pa.field(FILE_COLUMN, pa.string()),
                pa.field(ROW_COLUMN, pa.int64()),
            ]
        )
        tasks = events.mapInArrow(
            functools.partial(_task_batches, data.users, data.memberships, worker_key, out_schema),
            _spark_schema(out_schema),
        )
        ordered = tasks.orderBy(
            F.col("outcome_time").asc_nulls_last(), F.col(FILE_COLUMN), F.col(ROW_COLUMN)
        )
        table = collect_arrow(ordered)
    frame = arrow_to_frame(table, template)
    if len(data.responses):
        numbers = _task_response_numbers(data, table)
        for name in TASK_RESPONSE_COLUMNS:
            frame[name] = numbers[name].to_numpy()
    return frame


def _task_response_numbers(data: TeamData, table: pa.Table) -> pd.DataFrame:
    """Driver side: ``active_seconds`` and ``agreement_score`` of the collected task ``table``
    (``submitted_task_numbers``, as the local engine): its submitted tasks are matched to the
    responses in store order, which is the local engine's event order."""
    epoch_ms = {
        name: table.column(column).to_numpy(zero_copy_only=False).astype(np.float64)
        for name, column in (
            ("accepted_ms", "task_accepted_time"),
            ("submitted_ms", SUBMITTED_MS_COLUMN),
        )
    }
    tasks = pd.DataFrame(
        {
            "worker_key": table.column("worker_key").to_pandas().astype("str").to_numpy(),
            "labeling_job_name": table.column("labeling_job_name")
            .to_pandas()
            .astype("str")
            .to_numpy(),
            **epoch_ms,
        }
    )
    submitted = table.column("outcome").to_numpy(zero_copy_only=False) == OUTCOME_WORDS[SUBMITTED]
    files = table.column(FILE_COLUMN).to_numpy(zero_copy_only=False)
    rows = table.column(ROW_COLUMN).to_numpy(zero_copy_only=False)
    in_store_order = np.flatnonzero(submitted)[
        np.lexsort((rows[submitted], files[submitted].astype("str")))
    ]
    numbers = submitted_task_numbers(data, tasks.iloc[in_store_order].reset_index(drop=True))
    out = pd.DataFrame({name: np.full(table.num_rows, np.nan) for name in TASK_RESPONSE_COLUMNS})
    for name in TASK_RESPONSE_COLUMNS:
        values = out[name].to_numpy(copy=True)
        values[in_store_order] = numbers[name].to_numpy(dtype=np.float64)
        out[name] = values
    return out


def _task_batches(
    users: pd.DataFrame,
    memberships: pd.DataFrame,
    worker_key: str | None,
    out_schema: pa.Schema,
    batches: Iterator[pa.RecordBatch],
) -> Iterator[pa.RecordBatch]:
    """Executor side: ``task_rows`` of each batch, with the store place of each task."""
    for batch in batches:
        table = pa.Table.from_batches([batch])
        data = dataclasses.replace(
            _empty_data(), events=events_frame(table), users=users, memberships=memberships
        )
        rows = task_rows(data, worker_key)
        positions = pa.array(rows.index.to_numpy(dtype=np.int64))
        out = frame_to_arrow(rows.reset_index(drop=True))
        submitted_ms = column_epoch_ms(
            table.column("task_submitted_time").take(positions).to_pandas()
        )
        out = out.append_column(
            SUBMITTED_MS_COLUMN,
            pa.array(submitted_ms, pa.int64(), mask=submitted_ms == MISSING_MS),
        )
        out = out.append_column(FILE_COLUMN, table.column(FILE_COLUMN).take(positions))
        out = out.append_column(ROW_COLUMN, table.column(ROW_COLUMN).take(positions))
        yield from _conform(out, out_schema).to_batches()
