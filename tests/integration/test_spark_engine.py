"""The Spark engine gives the local engine's tables: same rows, same values, same CSV bytes.

Real PySpark in local mode, one session for the whole module (a JVM start costs seconds), over the
bundled sample store and seeded random stores (``tests/support/random_store.py``), with and
without a window, team and job filter. Every column of ``export workers`` and ``export tasks``
is compared.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analytics.dataset import EVENT_COLUMNS, Filters, load_team_data, team_data_from_tables
from analytics.export.csv_writer import definitions_csv_bytes, frame_csv_bytes
from analytics.metrics.outcomes import task_table
from analytics.metrics.workers import WORKER_PART_EVENT_COLUMNS, worker_part, worker_summary
from analytics.store.store import Store
from tests.support.random_store import DAYS, build_random_store


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local Spark session on two cores, shared by every test here."""
    from analytics.spark.session import spark_session

    # Bounded, but for a machine shared by several test runs: a start took over 120 s (the
    # command line's bound) under a load average of 20.
    session = spark_session("local[2]", timeout_seconds=600)
    yield session
    session.stop()


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


CASES = [
    pytest.param("sample", Filters(), None, False, id="sample"),
    pytest.param(
        "sample",
        Filters(since=_utc("2026-11-03T00:00:00"), jobs=("street-scenes-bbox-2026-10",)),
        None,
        False,
        id="sample-since-and-job",
    ),
    pytest.param("random-0", Filters(), "sub-03", False, id="random-0"),
    pytest.param(
        "random-1",
        Filters(
            since=_utc(f"{DAYS[1]}T06:00:00"),
            until=_utc(f"{DAYS[2]}T12:00:00"),
            workteams=("team-a",),
        ),
        None,
        True,
        id="random-1-window-and-team-spark-3.5-path",
    ),
]


@pytest.fixture(scope="module")
def stores(sample_store_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The stores by name; ``NAME-local`` is the copy the local engine reads, where it differs
    (``random-1`` is left with a merge pending, which the first ``Store`` open would finish)."""
    roots = {"sample": sample_store_root}
    for seed in (0, 1):
        root = tmp_path_factory.mktemp(f"random-{seed}") / "store"
        build_random_store(root, seed, pending_merge=seed == 1)
        roots[f"random-{seed}"] = root
    roots["random-1-local"] = tmp_path_factory.mktemp("random-1-local") / "store"
    shutil.copytree(roots["random-1"], roots["random-1-local"])
    return roots


def _assert_same_table(spark_frame: pd.DataFrame, local_frame: pd.DataFrame) -> None:
    assert list(spark_frame.columns) == list(local_frame.columns)
    pd.testing.assert_frame_equal(spark_frame, local_frame, check_exact=False, rtol=1e-12)
    assert frame_csv_bytes(spark_frame) == frame_csv_bytes(local_frame)


@pytest.mark.parametrize(("store_name", "filters", "worker_key", "spark_35_path"), CASES)
def test_spark_tables_equal_the_local_engine(
    spark: Any,
    stores: dict[str, Path],
    store_name: str,
    filters: Filters,
    worker_key: str | None,
    spark_35_path: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``spark_35_path``: through ``applyInPandas`` and ``_collect_as_arrow``, what Spark 3.5
    (AWS Glue 5.x) offers, instead of Spark 4's Arrow calls."""
    from analytics.spark import engine
    from analytics.spark.engine import spark_task_table, spark_worker_summary

    monkeypatch.setattr(engine, "FORCE_SPARK_35_PATH", spark_35_path)

    root = stores[store_name]
    data = load_team_data(Store(stores.get(f"{store_name}-local", root)), filters)
    local_workers = worker_summary(data)
    assert len(local_workers) > 0, "a case that compares empty tables proves nothing"
    _assert_same_table(spark_worker_summary(spark, str(root), filters), local_workers)
    local_tasks = task_table(data, worker_key)
    assert len(local_tasks) > 0
    _assert_same_table(spark_task_table(spark, str(root), filters, worker_key), local_tasks)


def test_random_stores_reach_every_stage(stores: dict[str, Path]) -> None:
    """The random stores reach what an equality test must cover: slow reasons from the per-job
    stage (wall clock and active time), quality flags, gold, task response numbers, members
    without any event, timeless events, and a merge left pending."""
    data = load_team_data(Store(stores["random-0"]))
    workers = worker_summary(data)
    assert workers["slow_flag"].any()
    reasons = " ".join(workers["slow_reason"])
    assert "wall clock" in reasons
    assert "active (pauses excluded" in reasons
    assert workers["quality_flag"].any()
    assert (workers["gold_scored"] > 0).any()
    tasks = task_table(data)
    assert tasks["active_seconds"].notna().any()
    assert tasks["agreement_score"].notna().any()
    assert {"sub-never", "sub-never-b"} <= set(workers["worker_key"])
    assert (stores["random-0"] / "events" / "date=unknown").is_dir()
    assert list((stores["random-1"] / "events").glob("date=*/.compaction.json"))


def test_worker_part_reads_only_the_columns_it_declares(stores: dict[str, Path]) -> None:
    """The Spark engine sends only ``WORKER_PART_EVENT_COLUMNS`` to the per-worker stage: a
    metric that reads another column must be declared there, or this fails."""
    events = Store(stores["random-0"]).load_events(columns=list(EVENT_COLUMNS))
    full = worker_part(team_data_from_tables(events))
    declared = worker_part(team_data_from_tables(events.select(list(WORKER_PART_EVENT_COLUMNS))))
    pd.testing.assert_frame_equal(declared.rows, full.rows)
    pd.testing.assert_frame_equal(declared.pairs, full.pairs)


def test_cluster_job_writes_the_export_csvs(
    spark: Any, stores: dict[str, Path], tmp_path: Path
) -> None:
    from analytics.spark.job import run_job

    root, out = stores["random-0"], tmp_path / "out"
    glue_adds = ["--JOB_ID", "j_1", "--JOB_RUN_ID", "jr_1", "--TempDir", "s3://t/"]
    written = run_job(
        spark,
        [*glue_adds, "--store", str(root), "--out", str(out), "--since", DAYS[1], "--tasks"],
    )
    assert sorted(Path(uri.removeprefix("file:")).name for uri in written) == [
        "tasks.csv",
        "tasks.definitions.csv",
        "workers.csv",
        "workers.definitions.csv",
    ]
    data = load_team_data(Store(root), Filters(since=_utc(f"{DAYS[1]}T00:00:00")))
    workers = worker_summary(data)
    assert (out / "workers.csv").read_bytes() == frame_csv_bytes(workers)
    assert (out / "workers.definitions.csv").read_bytes() == definitions_csv_bytes(workers.columns)
    assert (out / "tasks.csv").read_bytes() == frame_csv_bytes(task_table(data))


@pytest.mark.parametrize(
    ("argv", "accepted"),
    [
        pytest.param(["--JOB_RUN_ID", "jr_1", "--TempDir", "s3://t/"], True, id="inside-glue"),
        pytest.param(["--TempDir", "s3://t/"], False, id="unknown-outside-glue"),
    ],
)
def test_cluster_job_leaves_glue_its_arguments_only_inside_glue(
    argv: list[str], accepted: bool
) -> None:
    from analytics.spark.job import parse_arguments

    given = ["--store", "s3://b/p", "--out", "s3://b/o", *argv]
    if accepted:
        assert parse_arguments(given).store == "s3://b/p"
    else:
        with pytest.raises(SystemExit):
            parse_arguments(given)


@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        pytest.param("no-store", "holds no store", id="no-store"),
        pytest.param("file-not-parquet", "Spark failed on the store", id="file-not-parquet"),
    ],
)
def test_a_store_spark_cannot_read_gives_one_line(
    spark: Any, stores: dict[str, Path], tmp_path: Path, damage: str, needle: str
) -> None:
    from analytics.errors import SparkEngineError
    from analytics.spark.engine import spark_worker_summary

    root = tmp_path / "store"
    if damage == "file-not-parquet":
        shutil.copytree(stores["random-0"], root)
        victim = sorted((root / "events").glob("date=*/part-*.parquet"))[0]
        victim.write_bytes(b"not a parquet file")
    with pytest.raises(SparkEngineError) as raised:
        spark_worker_summary(spark, str(root))
    message = str(raised.value)
    assert needle in message
    assert str(root) in message
    assert "\n" not in message
