"""Stores written by earlier versions, brought to the current schema by the first writer.

- Schema 1 keyed events by MD5 (``keys.EVENT_KEY_ALGORITHM_V1``): every partition is re-keyed
  (``upgrade``), a lost ``meta.json`` is rebuilt from the stored keys (``key_version``), and a
  rejected line kept before the upgrade is not kept again (``lines_rejected_before_upgrade``).
- Timeless events were filed under ``__HIVE_DEFAULT_PARTITION__``, which pyarrow and pandas
  cannot read beside dated partitions: the folder becomes ``date=unknown``
  (``move_timeless_partition``).

Readers need none of this: they read either version.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analytics.errors import StoreError
from analytics.store import locking, schema
from analytics.store.compaction import compact_partition, visible_parquet_files
from analytics.store.keys import EVENT_KEY_ALGORITHM, event_keys, md5_keys
from analytics.store.parquet_files import read_checked, write_text_atomically
from analytics.store.schema import LEGACY_NO_DATE_PARTITION, NO_DATE_PARTITION


def first_row_group(path: Path, columns: list[str]) -> pa.Table:
    return pq.ParquetFile(path).read_row_group(0, columns)


def key_version(partitions: Iterable[Path], meta_path: Path) -> int:
    """The schema version whose key algorithm computed the event keys stored in ``partitions``
    (the store's event folders), for rebuilding a lost ``meta_path``."""
    for directory in partitions:
        files = visible_parquet_files(directory)
        if not files:
            continue
        first = files[0]
        sample = read_checked(
            [first],
            schema.EVENTS,
            "events",
            functools.partial(first_row_group, first, ["event_key", "raw_message"]),
        ).slice(0, 64)
        if sample.num_rows == 0:
            continue
        stored = sample.column("event_key").cast(pa.binary(16)).to_pylist()
        if stored == event_keys(sample.column("raw_message")).to_pylist():
            return schema.STORE_SCHEMA_VERSION
        if stored == md5_keys(sample.column("raw_message")).to_pylist():  # schema 1
            return 1
        raise StoreError(
            f"{first} holds event keys of no known algorithm, so {meta_path} cannot "
            "be rebuilt: move that file out of the store and ingest or sync its data again"
        )
    return schema.STORE_SCHEMA_VERSION


def upgrade(
    version: int, partitions: Iterable[Path], meta: dict[str, Any], meta_path: Path
) -> None:
    """Bring a store of schema ``version`` to the current schema (under the writer lock).

    Schema 1 keyed events by MD5: every partition is re-keyed from ``raw_message`` (one merge
    per partition, crash-safe like a compaction; redoing it gives the same keys), and only
    then is ``meta.json`` (``meta``, written to ``meta_path``) rewritten, so an interrupted
    upgrade is simply done again by the next writer. Rejected records keep their MD5 keys:
    those never changed.
    """
    for directory in partitions:
        compact_partition(directory, rekey=True)
    meta.update(
        schema_version=schema.STORE_SCHEMA_VERSION,
        event_key_algorithm=EVENT_KEY_ALGORITHM,
        upgraded_from=version,
        upgraded=dt.datetime.now(dt.UTC).isoformat(),
    )
    write_text_atomically(json.dumps(meta, indent=2) + "\n", meta_path)


def move_timeless_partition(events_dir: Path) -> None:
    """Rename the timeless folder of earlier versions to ``date=unknown`` (one atomic
    rename, while no reader is listing), so that pyarrow and pandas can read the store."""
    legacy = events_dir / f"date={LEGACY_NO_DATE_PARTITION}"
    target = events_dir / f"date={NO_DATE_PARTITION}"
    if not legacy.is_dir() or target.exists():
        return
    with locking.without_readers(events_dir) as free:
        if free:
            with contextlib.suppress(OSError):  # left for the next writer
                os.rename(legacy, target)


def lines_rejected_before_upgrade(
    meta: Mapping[str, Any], load_rejected: Callable[[], pa.Table]
) -> set[tuple[str, str]]:
    """``(source, location)`` of the lines rejected before an upgrade from schema 1.

    Schema 1 kept some rejected lines of S3 exports (a message without a worker identity or
    event type) with only the message part as their text, where schema 2 keeps the whole
    line: their keys differ, and a re-ingest of such an export would keep them once more. A
    line of the same file rejected before the upgrade is that line. ``meta`` is the store's
    ``meta.json``; ``load_rejected`` reads its rejected lines (only after an upgrade).
    """
    lines: set[tuple[str, str]] = set()
    if meta.get("upgraded_from") == 1 and meta.get("upgraded"):
        upgraded = pa.scalar(dt.datetime.fromisoformat(meta["upgraded"]), schema.UTC_MS)
        kept = load_rejected().select(["source", "location", "rejected_at"])
        before = kept.filter(pc.less(kept.column("rejected_at"), upgraded))
        lines = set(
            zip(
                before.column("source").to_pylist(),
                before.column("location").to_pylist(),
                strict=True,
            )
        )
    return lines
