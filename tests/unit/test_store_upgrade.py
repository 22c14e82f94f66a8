"""A store written with the schema-1 event keys (MD5) keeps working: re-keyed by its next writer."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xxhash

from analytics.ingest.run import ingest_paths
from analytics.store import schema
from analytics.store.keys import EVENT_KEY_ALGORITHM, EVENT_KEY_ALGORITHM_V1
from analytics.store.store import Store
from tests.support.ingest import WriteFile, day_messages, snapshot


def make_version_1(store: Store, *, partitions: int | None = None) -> None:
    """Turn ``store`` into what schema 1 wrote: MD5 keys, ``schema_version`` 1.

    ``partitions`` limits how many partitions get MD5 keys (the others keep the current keys:
    a store whose upgrade was interrupted).
    """
    directories = sorted(store.events_dir.glob("date=*"))
    for directory in directories[:partitions]:
        for file in directory.glob("*.parquet"):
            table = pq.read_table(file, schema=schema.EVENTS)
            md5 = [hashlib.md5(m.encode()).digest() for m in table["raw_message"].to_pylist()]
            table = table.set_column(0, "event_key", pa.array(md5, pa.binary(16)))
            pq.write_table(table, file)
    meta_path = store.root / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta.update(schema_version=1, event_key_algorithm=EVENT_KEY_ALGORITHM_V1)
    meta_path.write_text(json.dumps(meta))


def stored_keys(store: Store) -> dict[bytes, str]:
    table = store.load_events(columns=["event_key", "raw_message"])
    return dict(zip(table["event_key"].to_pylist(), table["raw_message"].to_pylist(), strict=True))


def meta(store: Store) -> dict:
    return json.loads((store.root / "meta.json").read_text())


@pytest.fixture
def log_file(write_file: WriteFile) -> Path:
    return write_file("a.jsonl", "\n".join([*day_messages(60), "garbage"]) + "\n")


def test_a_version_1_store_is_read_as_it_is(store: Store, log_file: Path) -> None:
    ingest_paths(store, [log_file])
    before = snapshot(store)
    make_version_1(store)
    reopened = Store(store.root)
    assert reopened.schema_version() == 1
    assert reopened.load_events().num_rows == 60
    assert reopened.summary().events == 60
    assert all(
        key == hashlib.md5(text.encode()).digest() for key, text in stored_keys(reopened).items()
    )
    assert len(before) == 60
    assert reopened.schema_version() == 1  # reading never rewrites


def test_the_next_write_re_keys_a_version_1_store(store: Store, log_file: Path) -> None:
    ingest_paths(store, [log_file])
    reference = snapshot(store)
    make_version_1(store)
    again = ingest_paths(Store(store.root), [log_file])
    assert (again.new_events, again.duplicates) == (0, 60)
    upgraded = Store(store.root)
    assert upgraded.schema_version() == schema.STORE_SCHEMA_VERSION
    assert meta(upgraded)["event_key_algorithm"] == EVENT_KEY_ALGORITHM
    assert meta(upgraded)["upgraded_from"] == 1
    assert all(
        key == xxhash.xxh3_128_digest(text.encode()) for key, text in stored_keys(upgraded).items()
    )
    assert snapshot(upgraded) == reference
    # The rejected line kept its key: it is not kept twice.
    assert upgraded.load_rejected().num_rows == 1


def test_an_interrupted_upgrade_is_finished_by_the_next_writer(
    store: Store, log_file: Path
) -> None:
    ingest_paths(store, [log_file])
    reference = snapshot(store)
    make_version_1(store, partitions=2)  # three of five partitions already re-keyed
    more = day_messages(70)[60:]
    extra = log_file.with_name("b.jsonl")
    extra.write_text("\n".join(more) + "\n")
    report = ingest_paths(Store(store.root), [log_file, extra])
    assert (report.new_events, report.duplicates) == (10, 60)
    upgraded = Store(store.root)
    assert len(snapshot(upgraded)) == 70
    assert set(reference) <= set(snapshot(upgraded))
    assert all(
        key == xxhash.xxh3_128_digest(text.encode()) for key, text in stored_keys(upgraded).items()
    )


def test_copies_an_older_writer_added_during_the_upgrade_are_merged(
    store: Store, log_file: Path
) -> None:
    ingest_paths(store, [log_file])
    reference = snapshot(store)
    make_version_1(store, partitions=2)  # an upgrade stopped after re-keying the first two
    # Meanwhile a writer of the older version checked a message's MD5 key against a partition
    # already re-keyed, did not find it, and wrote the message again.
    partition = sorted(store.events_dir.glob("date=*"))[3]
    row = pq.read_table(next(partition.glob("*.parquet")), schema=schema.EVENTS).slice(0, 1)
    md5 = hashlib.md5(row["raw_message"][0].as_py().encode()).digest()
    copy = row.set_column(0, "event_key", pa.array([md5], pa.binary(16)))
    pq.write_table(copy, partition / "part-written-by-version-1.parquet")
    assert Store(store.root).load_events().num_rows == 61

    ingest_paths(Store(store.root), [log_file])
    upgraded = Store(store.root)
    assert upgraded.load_events().num_rows == 60
    assert snapshot(upgraded) == reference


def test_an_export_line_rejected_by_version_1_is_not_kept_again(
    store: Store, write_file: WriteFile
) -> None:
    message = '{"cognito_sub_id":"","worker_id":"","event_type":"TasksSubmitted"}'
    export = write_file(
        "000000", "\n".join([*day_messages(20), f"2019-08-14T16:01:21.000Z {message}"]) + "\n"
    )
    ingest_paths(store, [export])
    make_version_1(store)
    # What schema 1 kept for that line: the message part only, keyed on it, before the upgrade.
    (file,) = store.rejected_dir.glob("*.parquet")
    kept = pq.read_table(file, schema=schema.REJECTED)
    row = kept.to_pylist()[0]
    material = f"{row['source']}\x00{row['location']}\x00{message}".encode()
    row |= {
        "raw_text": message,
        "reject_key": hashlib.md5(material).digest(),
        "rejected_at": row["rejected_at"].replace(year=2026, month=1, day=1),
    }
    pq.write_table(pa.Table.from_pylist([row], schema=schema.REJECTED), file)

    again = ingest_paths(Store(store.root), [export])
    assert (again.new_events, again.duplicates, again.rejected) == (0, 20, 1)
    assert Store(store.root).load_rejected().to_pylist() == [row]
