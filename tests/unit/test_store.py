"""The local store: one event once, atomic writes, partitions any Parquet reader understands."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from analytics.errors import StoreError
from analytics.ingest.parse import parse_bytes
from analytics.store import schema
from analytics.store.compaction import COMPACT_AFTER_FILES
from analytics.store.keys import EVENT_KEY_ALGORITHM
from analytics.store.store import Store
from tests.conftest import message_line

UTC = dt.UTC


def events_for(*lines: str) -> pa.Table:
    return parse_bytes("\n".join(lines).encode(), "test").events


DAY_1 = message_line(task_submitted_time="Wed Aug 14 16:01:20 UTC 2019")
DAY_1_OTHER = message_line(worker_id="w2", cognito_sub_id="")
DAY_2 = message_line(
    task_accepted_time="Thu Aug 15 09:00:00 UTC 2019",
    task_submitted_time="Thu Aug 15 09:00:30 UTC 2019",
    event_timestamp="1565859630",
)
NO_TIME = message_line(
    task_accepted_time="", task_submitted_time="", event_timestamp="", worker_id="w3"
)


def test_events_are_written_once_however_often_they_arrive(store: Store) -> None:
    first = store.add_events(events_for(DAY_1, DAY_1, DAY_2))
    assert (first.new, first.duplicates) == (2, 1)
    second = store.add_events(events_for(DAY_1, DAY_2, DAY_1_OTHER))
    assert (second.new, second.duplicates) == (1, 2)
    assert store.load_events().num_rows == 3


def test_one_message_in_every_shape_is_stored_once(store: Store) -> None:
    timeless = message_line(task_accepted_time="", task_submitted_time="", event_timestamp="")
    shapes = [
        timeless,
        "2019-08-14T16:01:21.000Z " + timeless,
        DAY_1,
        "2019-08-20T00:00:00Z " + DAY_1,
    ]
    for text in shapes:
        store.add_events(parse_bytes(text.encode(), "t").events)
    assert store.load_events().num_rows == 2


def test_partitions_are_hive_style_utc_dates(store: Store) -> None:
    store.add_events(events_for(DAY_1, DAY_2, NO_TIME))
    partitions = sorted(p.name for p in store.events_dir.iterdir())
    assert partitions == ["date=2019-08-14", "date=2019-08-15", "date=unknown"]


def test_any_parquet_reader_sees_typed_columns(store: Store) -> None:
    store.add_events(events_for(DAY_1, DAY_2))
    dataset = ds.dataset(store.events_dir, format="parquet", partitioning="hive")
    table = dataset.to_table()
    assert table.schema.field("event_time").type == pa.timestamp("ms", tz="UTC")
    assert table.schema.field("task_accepted_time").type == pa.timestamp("ms", tz="UTC")
    relation = duckdb.sql(
        "SELECT date, count(*) AS n, typeof(min(event_time)) "
        f"FROM read_parquet('{store.events_dir}/*/*.parquet', hive_partitioning = true) "
        "GROUP BY date ORDER BY date"
    )
    assert relation is not None
    rows = relation.fetchall()
    assert [(str(r[0]), r[1], r[2]) for r in rows] == [
        ("2019-08-14", 1, "TIMESTAMP WITH TIME ZONE"),
        ("2019-08-15", 1, "TIMESTAMP WITH TIME ZONE"),
    ]


def test_load_events_reads_a_window_and_chosen_columns(store: Store) -> None:
    store.add_events(events_for(DAY_1, DAY_2, NO_TIME))
    window = store.load_events(
        since=dt.datetime(2019, 8, 15, tzinfo=UTC),
        until=dt.datetime(2019, 8, 16, tzinfo=UTC),
        columns=["worker_key", "event_time"],
    )
    assert window.column_names == ["worker_key", "event_time"]
    assert window.column("event_time").to_pylist() == [
        dt.datetime(2019, 8, 15, 9, 0, 30, tzinfo=UTC)
    ]
    # Without bounds every event comes back, those without a time too.
    assert store.load_events().num_rows == 3


def test_until_is_exclusive_and_since_inclusive(store: Store) -> None:
    store.add_events(events_for(DAY_1))
    at = dt.datetime(2019, 8, 14, 16, 1, 20, tzinfo=UTC)
    assert store.load_events(since=at).num_rows == 1
    assert store.load_events(until=at).num_rows == 0


def test_naive_bounds_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="since must be timezone-aware"):
        store.load_events(since=dt.datetime(2019, 8, 14))  # noqa: DTZ001 - the point of the test


def test_an_empty_store_loads_an_empty_typed_table(store: Store) -> None:
    table = store.load_events(columns=["worker_key", "event_time"])
    assert table.num_rows == 0
    assert table.schema.field("event_time").type == schema.UTC_MS


def test_a_summary_of_what_was_already_read_equals_reading_again(store: Store) -> None:
    store.add_events(events_for(DAY_1, DAY_1_OTHER, DAY_2, NO_TIME))
    store.add_rejected(parse_bytes(b"not json\n", "bad.jsonl").rejected)
    read = store.summary(
        events=store.load_events(text_as_dictionary=True),
        rejected=store.load_rejected(),
        tables={name: store.read_table(name) for name in schema.TABLES},
    )
    assert read == store.summary()
    # Workers by worker key: NO_TIME keeps the default Cognito sub, DAY_1_OTHER has none.
    assert (read.events, read.rejected_lines, read.workers) == (4, 1, 2)


def test_text_read_as_dictionary_has_the_same_values(store: Store) -> None:
    store.add_events(events_for(DAY_1, DAY_1_OTHER, DAY_2, NO_TIME))
    columns = ["worker_key", "worker_id", "cognito_sub_id", "event_type", "event_time"]
    plain = store.load_events(columns=columns)
    encoded = store.load_events(columns=columns, text_as_dictionary=True)
    assert encoded.schema.field("worker_id").type == pa.dictionary(pa.int32(), pa.string())
    assert encoded.schema.field("event_time").type == schema.UTC_MS
    decoded = encoded.cast(plain.schema)
    assert decoded.sort_by("worker_key").equals(plain.sort_by("worker_key"))
    empty = Store(store.root / "empty").load_events(columns=columns, text_as_dictionary=True)
    assert empty.num_rows == 0
    assert empty.schema == encoded.schema


def test_a_leftover_temporary_file_is_invisible(store: Store) -> None:
    store.add_events(events_for(DAY_1))
    partition = store.events_dir / "date=2019-08-14"
    (partition / ".tmp-deadbeef-part-x.parquet").write_bytes(b"half a file")
    assert store.load_events().num_rows == 1
    assert store.add_events(events_for(DAY_1, DAY_1_OTHER)).new == 1


def test_many_small_writes_are_compacted_into_one_file(store: Store) -> None:
    for i in range(COMPACT_AFTER_FILES + 1):
        store.add_events(events_for(message_line(worker_id=f"w{i}", cognito_sub_id="")))
    files = list((store.events_dir / "date=2019-08-14").glob("*.parquet"))
    assert len(files) == 1
    assert store.load_events().num_rows == COMPACT_AFTER_FILES + 1


def test_a_crash_between_merge_and_deletes_shows_no_duplicate_and_is_repaired_on_open(
    store: Store,
) -> None:
    import pyarrow.parquet as pq

    store.add_events(events_for(DAY_1))
    store.add_events(events_for(DAY_1_OTHER))
    partition = store.events_dir / "date=2019-08-14"
    files = sorted(p.name for p in partition.glob("*.parquet"))
    merged = ds.dataset([str(partition / f) for f in files], schema=schema.EVENTS).to_table()
    pq.write_table(merged, partition / "part-merged.parquet")
    journal = {"merged": "part-merged.parquet", "replaced": files}
    (partition / ".compaction.json").write_text(json.dumps(journal))
    # The crash: merged file renamed in, originals still there. Readers see each event once.
    assert store.load_events().num_rows == 2
    assert store.summary().events == 2
    # Opening the store again (no writer at work) finishes the job for every Parquet reader.
    Store(store.root)
    assert sorted(p.name for p in partition.glob("*.parquet")) == ["part-merged.parquet"]
    assert not (partition / ".compaction.json").exists()


def test_a_damaged_file_is_a_store_error_naming_it(store: Store) -> None:
    store.add_events(events_for(DAY_1))
    damaged = next((store.events_dir / "date=2019-08-14").glob("*.parquet"))
    damaged.write_bytes(b"not parquet at all")
    with pytest.raises(StoreError, match="move it out of the store"):
        store.load_events()
    with pytest.raises(StoreError, match=str(damaged.name)):
        store.add_events(events_for(DAY_1_OTHER))


def test_a_data_path_that_is_a_file_is_a_store_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(StoreError, match="cannot create the store"):
        Store(not_a_folder / "store").add_events(events_for(DAY_1))


def test_leftover_temporary_files_are_swept_by_the_next_writer(store: Store) -> None:
    store.add_events(events_for(DAY_1))
    leftover = store.events_dir / "date=2019-08-14" / ".tmp-dead-part-x.parquet"
    leftover.write_bytes(b"half")
    Store(store.root).add_events(events_for(DAY_2))
    assert not leftover.exists()


@pytest.mark.parametrize("merged_was_written", [True, False])
def test_an_interrupted_compaction_is_completed_or_undone(
    store: Store, merged_was_written: bool
) -> None:
    store.add_events(events_for(DAY_1))
    store.add_events(events_for(DAY_1_OTHER))
    partition = store.events_dir / "date=2019-08-14"
    files = sorted(p.name for p in partition.glob("*.parquet"))
    merged = "part-merged.parquet"
    if merged_was_written:
        table = ds.dataset([str(partition / f) for f in files], schema=schema.EVENTS).to_table()
        import pyarrow.parquet as pq

        pq.write_table(table, partition / merged)
    (partition / ".compaction.json").write_text(json.dumps({"merged": merged, "replaced": files}))
    store.add_events(events_for(DAY_2))
    assert not (partition / ".compaction.json").exists()
    assert store.load_events().num_rows == 3


def test_rejected_lines_are_kept_once(store: Store) -> None:
    rejected = parse_bytes(b'oops\n{"cut": \n', "a.jsonl").rejected
    assert store.add_rejected(rejected) == 2
    assert store.add_rejected(rejected) == 0
    assert sorted(store.load_rejected().column("reason").to_pylist()) == [
        "invalid_json",
        "truncated_json",
    ]


def test_snapshot_tables_replace_and_upsert(store: Store) -> None:
    backlog = pa.table(
        {
            "queue_name": ["GroundTruth-job"],
            "labeling_job_name": ["job"],
            "observed_at": [dt.datetime(2026, 1, 1, tzinfo=UTC)],
            "messages_visible": [10],
            "messages_in_flight": [2],
            "oldest_message_age_seconds": [60.0],
        }
    )
    assert store.upsert_table("backlog", backlog) == 1
    assert store.upsert_table("backlog", backlog) == 0
    assert store.read_table("backlog").num_rows == 1
    assert store.read_table("users").num_rows == 0


def test_state_round_trips(store: Store) -> None:
    state = {"logs": {"account/region/group": {"synced_until_epoch_ms": 5}}}
    store.write_state(state)
    assert Store(store.root).read_state() == state


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    (root / "meta.json").write_text(json.dumps({"schema_version": schema.STORE_SCHEMA_VERSION + 1}))
    with pytest.raises(StoreError, match="newer groundtruth-throughput"):
        Store(root)


def test_event_keys_are_xxh3_128_of_the_message_text(store: Store) -> None:
    import xxhash

    key = events_for(DAY_1).column("event_key")[0].as_py()
    assert key == xxhash.xxh3_128_digest(DAY_1.encode())
    assert EVENT_KEY_ALGORITHM == "xxh3_128(message-text)"


def test_state_updates_keep_each_others_changes(store: Store) -> None:
    store.update_state(lambda state: state.setdefault("logs", {}).update(a={"ok": True}))
    store.update_state(lambda state: state.setdefault("logs", {}).update(b={"ok": False}))
    assert store.read_state() == {"logs": {"a": {"ok": True}, "b": {"ok": False}}}


def test_an_upsert_can_replace_rows_it_supersedes(store: Store) -> None:
    import pyarrow.compute as pc

    def points(period: int, hours: list[int]) -> pa.Table:
        return pa.table(
            {
                "namespace": ["AWS/SageMaker/Workteam"] * len(hours),
                "metric_name": ["TasksSubmitted"] * len(hours),
                "statistic": ["Sum"] * len(hours),
                "period_seconds": [period] * len(hours),
                "timestamp": [dt.datetime(2026, 11, 1, h, tzinfo=UTC) for h in hours],
                "value": [1.0] * len(hours),
                "dimensions": ["{}"] * len(hours),
                "workteam": ["t"] * len(hours),
                "labeling_job": ["j"] * len(hours),
                "worker": [None] * len(hours),
                "queue_name": [None] * len(hours),
            }
        )

    store.upsert_table("metrics", points(300, [0, 1, 2]))
    store.upsert_table(
        "metrics",
        points(60, [1]),
        replacing=lambda stored: pc.and_(
            pc.not_equal(stored["period_seconds"], 60),
            pc.greater_equal(
                stored["timestamp"], pa.scalar(dt.datetime(2026, 11, 1, 1, tzinfo=UTC))
            ),
        ),
    )
    rows = sorted(
        (r["timestamp"].hour, r["period_seconds"]) for r in store.read_table("metrics").to_pylist()
    )
    assert rows == [(0, 300), (1, 60)]


def _read_with_every_reader(events_dir: Path) -> dict[str, int]:
    """Rows of ``events_dir`` as pyarrow.dataset, pq.read_table, pandas and DuckDB count them."""
    import pandas as pd
    import pyarrow.parquet as pq

    relation = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{events_dir}/*/*.parquet', hive_partitioning = true)"
    )
    assert relation is not None
    counts = {
        "pyarrow.dataset": ds.dataset(events_dir, partitioning="hive").to_table().num_rows,
        "pq.read_table": pq.read_table(events_dir).num_rows,
        "pandas": len(pd.read_parquet(events_dir)),
        "duckdb": relation.fetchall()[0][0],
    }
    return counts


@pytest.mark.parametrize(
    "lines",
    [pytest.param([NO_TIME], id="only-timeless"), pytest.param([NO_TIME, DAY_1], id="mixed")],
)
def test_every_parquet_reader_opens_the_events(store: Store, lines: list[str]) -> None:
    store.add_events(events_for(*lines))
    expected = len(lines)
    assert _read_with_every_reader(store.events_dir) == dict.fromkeys(
        ["pyarrow.dataset", "pq.read_table", "pandas", "duckdb"], expected
    )


def test_every_parquet_reader_opens_a_store_without_events(store: Store) -> None:
    store.add_rejected(parse_bytes(b"not json\n", "bad.jsonl").rejected)
    counts = _read_with_every_reader(store.events_dir)
    assert counts == dict.fromkeys(["pyarrow.dataset", "pq.read_table", "pandas", "duckdb"], 0)
    assert ds.dataset(store.events_dir, partitioning="hive").schema.field(
        "event_time"
    ).type == pa.timestamp("ms", tz="UTC")
    assert not store.has_events()


def test_timeless_events_of_an_earlier_version_move_to_their_new_folder(store: Store) -> None:
    store.add_events(events_for(NO_TIME, DAY_1))
    (store.events_dir / "date=unknown").rename(store.events_dir / "date=__HIVE_DEFAULT_PARTITION__")
    # Moved as soon as the store is opened with no writer at work (or by the next writer)...
    reopened = Store(store.root)
    assert reopened.load_events().num_rows == 2
    # ...where they are kept once when they come again, and every Parquet reader opens them.
    assert reopened.add_events(events_for(NO_TIME, DAY_2)).new == 1
    assert sorted(p.name for p in store.events_dir.iterdir())[-1] == "date=unknown"
    assert set(_read_with_every_reader(store.events_dir).values()) == {3}


def test_events_stored_twice_are_merged_once_by_the_next_write_to_their_day(
    store: Store,
) -> None:
    import pyarrow.parquet as pq

    # A crash between a merge's rename and its deletes, and then its journal lost by hand.
    store.add_events(events_for(DAY_1))
    store.add_events(events_for(DAY_1_OTHER))
    partition = store.events_dir / "date=2019-08-14"
    copy = ds.dataset([str(p) for p in partition.glob("*.parquet")], schema=schema.EVENTS)
    pq.write_table(copy.to_table(), partition / "part-merged.parquet")
    assert store.load_events().num_rows == 4
    assert store.add_events(events_for(DAY_1, message_line(worker_id="w9"))).new == 1
    assert store.load_events().num_rows == 3
    assert len(list(partition.glob("*.parquet"))) == 1
