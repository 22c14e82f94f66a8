"""The local store: a directory of Parquet files that any Parquet reader can open.

Layout::

    DIR/meta.json                          schema version, event key algorithm
    DIR/events/date=YYYY-MM-DD/*.parquet   worker-activity events, hive-partitioned by UTC date
    DIR/rejected/*.parquet                 lines that could not become events, with the reason
    DIR/tables/<name>.parquet              users, workteams, memberships, jobs, metrics, backlog
    DIR/state.json                         sync checkpoints and the last sync of each part

An event's partition depends on its message text only (``event_time`` is read from the
message, never from its envelope), and its key is a 128-bit hash of that text
(``schema.EVENT_KEY_ALGORITHM``), so checking a new event's key against its own partition is
enough to keep every event once.

Every write goes to a hidden temporary file first (Parquet readers skip names starting with ``.``)
and is renamed into place, so a crash at any point leaves readable files only; a rerun of the same
ingest or sync then adds exactly what was missing, because every event is keyed by the hash of
its message text and a key already stored is never written again. Writers hold an exclusive lock
on ``DIR/.lock``.

A store written by an older version with another key algorithm (schema 1: MD5) is re-keyed from
``raw_message`` by the first writer, partition by partition, before anything is added; readers
need no keys and read either version.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import itertools
import json
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from analytics import schema
from analytics.errors import StoreError

NO_DATE_PARTITION = "__HIVE_DEFAULT_PARTITION__"
_UNIQUE_COLUMNS = {"event_key", "raw_message", "reject_key", "raw_text", "detail"}
_REPEATING_COLUMNS = {
    field.name
    for table_schema in (schema.EVENTS, schema.REJECTED, *(s for s, _ in schema.TABLES.values()))
    for field in table_schema
    if pa.types.is_string(field.type) and field.name not in _UNIQUE_COLUMNS
}
#: A partition holding more files than this is merged into one after a write.
COMPACT_AFTER_FILES = 12

_PARTITIONING = ds.partitioning(pa.schema([("date", pa.string())]), flavor="hive")


def _count_distinct(column: pa.ChunkedArray) -> int:
    """Distinct non-null values of a dictionary-encoded text column (chunks may differ)."""
    used = [chunk.dictionary.take(pc.unique(chunk.indices)) for chunk in column.chunks]
    return int(pc.count_distinct(pa.chunked_array(used, pa.string())).as_py())


def _text_as_dictionary(table_schema: pa.Schema) -> tuple[pa.Schema, list[str]]:
    """``table_schema`` with text columns as ``dictionary<int32, string>``, and their names."""
    text = [f.name for f in table_schema if pa.types.is_string(f.type)]
    fields = [
        f.with_type(pa.dictionary(pa.int32(), pa.string())) if f.name in text else f
        for f in table_schema
    ]
    return pa.schema(fields, metadata=table_schema.metadata), text


@dataclass(frozen=True)
class AddResult:
    """What one write of events did: ``new`` rows stored, ``duplicates`` already known."""

    new: int
    duplicates: int


@dataclass(frozen=True)
class StoreSummary:
    """What the store holds, for ``status`` and the dashboard's Data page."""

    events: int
    first_event_time: dt.datetime | None
    last_event_time: dt.datetime | None
    events_without_time: int
    workers: int
    workteams: int
    labeling_jobs: int
    event_types: dict[str, int]
    rejected_lines: int
    rejected_reasons: dict[str, int]
    tables: dict[str, int]


def _write_parquet_atomically(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` through a hidden temporary file and a rename."""
    temporary = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    times = [f.name for f in table.schema if pa.types.is_timestamp(f.type)]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            table,
            temporary,
            compression="zstd",
            compression_level=1,
            # Dictionary pages only where values repeat: trying them on unique texts costs time.
            use_dictionary=[name for name in table.column_names if name in _REPEATING_COLUMNS],
            # Min/max statistics only for times, which reads filter on (``load_events``): string
            # statistics cost the writer a comparison per value (a fifth of an ingest's writing)
            # and would hardly prune anything, every file holding every team and worker.
            write_statistics=times,
            # Times nearly in order: deltas are smaller and quicker to write than zstd alone.
            column_encoding=dict.fromkeys(times, "DELTA_BINARY_PACKED"),
        )
        os.replace(temporary, path)
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc}; what was written before is intact") from exc
    finally:
        temporary.unlink(missing_ok=True)


def _write_text_atomically(text: str, path: Path) -> None:
    temporary = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc}") from exc
    finally:
        temporary.unlink(missing_ok=True)


def _partition_name(day: str | None) -> str:
    return f"date={day if day else NO_DATE_PARTITION}"


_JOURNAL = ".compaction.json"


def _visible_parquet_files(directory: Path) -> list[Path]:
    """The data files of a folder, as of the last completed write.

    While a compaction journal is present and its merged file is among the files listed, the
    files it replaces are left out even if they still exist (a crash between the rename and the
    deletes), so our readers never see an event twice. The merged file must be in *this* listing:
    a merge that completed after the listing would otherwise hide both the old files (listed)
    and the merged one (not listed), and the day would read as empty. A listed file deleted by a
    merge meanwhile makes the read fail with FileNotFoundError, which readers retry.
    """
    if not directory.is_dir():
        return []
    files = sorted(p for p in directory.glob("*.parquet") if not p.name.startswith((".", "_")))
    journal = directory / _JOURNAL
    if journal.exists():
        try:
            entry = json.loads(journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return files
        if entry["merged"] in {f.name for f in files}:
            replaced = set(entry["replaced"])
            files = [f for f in files if f.name not in replaced]
    return files


def _damaged(root: Path, exc: Exception) -> StoreError:
    return StoreError(
        f"cannot read the store in {root}: {exc}. A damaged file can be moved out of the store "
        "and its data ingested or synced again."
    )


def _read_keys(files: Sequence[Path], column: str) -> pa.Array:
    """The 16-byte keys stored in ``files``."""
    if not files:
        return pa.array([], pa.binary(16))
    try:
        keys = ds.dataset([str(f) for f in files], format="parquet").to_table(columns=[column])
    except (pa.ArrowInvalid, OSError) as exc:
        raise _damaged(files[0].parent, exc) from exc
    return keys.column(column).combine_chunks().cast(pa.binary(16))


def _keys_as_numpy(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(array) == 0:
        return np.empty(0, dtype="S16")
    array = array.cast(pa.binary(16))
    data = array.buffers()[1]
    start = array.offset * 16
    return np.frombuffer(data, dtype="S16", count=len(array), offset=start)


def _epoch_days(times: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """UTC day number (days since 1970-01-01) of each timestamp; -1 for a null time."""
    epoch_ms = pc.fill_null(pc.cast(times, pa.int64()), -(2**62))
    days = np.floor_divide(np.asarray(epoch_ms), 86_400_000)
    days[days < -(2**40)] = -1
    result: np.ndarray = days
    return result


def _first_occurrences(keys: np.ndarray) -> np.ndarray | None:
    """Positions of the first occurrence of each distinct key in order, or None when every key
    is distinct (the common case, checked on the keys' first 8 bytes: one sort of integers)."""
    if len(keys) < 2:
        return None
    heads = np.sort(np.frombuffer(keys.tobytes(), dtype=np.uint64)[::2])
    if not (heads[1:] == heads[:-1]).any():
        return None
    _, first_index = np.unique(keys, return_index=True)
    first_index.sort()
    return first_index if len(first_index) < len(keys) else None


def _stored(keys: pa.Array | pa.ChunkedArray, stored: pa.Array) -> np.ndarray:
    """Which of ``keys`` are in ``stored`` (a hash lookup; NumPy's sort-based ``isin`` on 16-byte
    strings took over a second per 100,000 keys)."""
    return np.asarray(pc.is_in(keys, value_set=stored), dtype=bool)


#: Above this many runs of one day, ``_by_day`` sorts instead of gathering slices.
_MAX_DAY_RUNS = 1024


def _by_day(events: pa.Table) -> Iterator[tuple[str | None, pa.Table]]:
    """The events of each UTC day of ``event_time`` (None: no time), in their order.

    Events arrive nearly in time order, so a day is a few runs of rows: zero-copy slices, put
    together without copying. Only input in no order at all is sorted (a copy).
    """
    days = _epoch_days(events.column("event_time"))
    if len(days) == 0:
        return
    starts = np.flatnonzero(days[1:] != days[:-1]) + 1
    if len(starts) > _MAX_DAY_RUNS:
        order = np.argsort(days, kind="stable")  # stable: each day keeps its events' order
        events, days = events.take(pa.array(order)), days[order]
        starts = np.flatnonzero(days[1:] != days[:-1]) + 1
    runs: dict[int, list[pa.Table]] = {}
    bounds = [0, *starts.tolist(), len(days)]
    for start, end in itertools.pairwise(bounds):
        runs.setdefault(int(days[start]), []).append(events.slice(start, end - start))
    for day in sorted(runs):
        parts = runs[day]
        yield _day_name(day), parts[0] if len(parts) == 1 else pa.concat_tables(parts)


def _day_name(epoch_day: int) -> str | None:
    if epoch_day < 0:
        return None
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(epoch_day))).isoformat()


class Store:
    """The local store in directory ``root`` (created on first write).

    Parameters
    ----------
    root
        The store directory: ``--data DIR``, else ``$GT_THROUGHPUT_DATA``, else ``./gt-data``.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.events_dir = self.root / "events"
        self.rejected_dir = self.root / "rejected"
        self.tables_dir = self.root / "tables"
        self.state_path = self.root / "state.json"
        self._swept = False
        self._current = False
        self._rejected_before_upgrade: set[tuple[str, str]] | None = None
        self._check_version()
        self._repair_if_idle()

    # ----------------------------------------------------------------- housekeeping
    def _meta(self) -> dict[str, Any] | None:
        """``meta.json``, or None for a store not created yet."""
        meta_path = self.root / "meta.json"
        if not meta_path.exists():
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"{meta_path} is unreadable ({exc}); is {self.root} a store?") from exc
        if not isinstance(meta, dict):
            raise StoreError(f"{meta_path} has no valid schema_version; is {self.root} a store?")
        return meta

    def schema_version(self) -> int:
        """The schema version of the store on disk (the current one for a store not created)."""
        meta = self._meta()
        if meta is None:
            return schema.STORE_SCHEMA_VERSION
        try:
            return int(meta.get("schema_version", 0))
        except (TypeError, ValueError) as exc:
            raise StoreError(
                f"{self.root / 'meta.json'} has no valid schema_version; is {self.root} a store?"
            ) from exc

    def _check_version(self) -> None:
        version = self.schema_version()
        if version > schema.STORE_SCHEMA_VERSION:
            raise StoreError(
                f"the store in {self.root} was written by a newer groundtruth-throughput "
                f"(schema {version}, this one reads up to {schema.STORE_SCHEMA_VERSION}): upgrade"
            )

    def exists(self) -> bool:
        """True when the store directory holds a store (even an empty one)."""
        return (self.root / "meta.json").exists()

    def _repair_if_idle(self) -> None:
        """Finish a compaction a crash interrupted, if no writer is at work right now.

        Our readers already skip the files a finished merge replaces; this also clears them for
        other Parquet readers as soon as the store is opened again.
        """
        if not self.events_dir.is_dir() or not any(self.events_dir.glob(f"date=*/{_JOURNAL}")):
            return
        try:
            with open(self.root / ".lock", "a+b") as lock_file:
                try:
                    fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return  # a writer is at work; it finishes the job itself
                try:
                    self._finish_interrupted_compactions()
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)
        except OSError:
            return  # a read-only store: readers still skip the replaced files

    def _ensure_created(self) -> None:
        if self.exists():
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store in {self.root}: {exc}") from exc
        meta = {
            "schema_version": schema.STORE_SCHEMA_VERSION,
            "event_key_algorithm": schema.EVENT_KEY_ALGORITHM,
            "created": dt.datetime.now(dt.UTC).isoformat(),
        }
        _write_text_atomically(json.dumps(meta, indent=2) + "\n", self.root / "meta.json")

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the store's writer lock (one writer at a time; readers never wait)."""
        self._ensure_created()
        try:
            lock_file = open(self.root / ".lock", "a+b")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise StoreError(f"cannot write to the store in {self.root}: {exc}") from exc
        with lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                self._finish_interrupted_compactions()
                self._sweep_leftover_temporaries()
                self._upgrade()
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _upgrade(self) -> None:
        """Bring an older store to the current schema (under the writer lock).

        Schema 1 keyed events by MD5: every partition is re-keyed from ``raw_message`` (one merge
        per partition, crash-safe like a compaction; redoing it gives the same keys), and only
        then is ``meta.json`` rewritten, so an interrupted upgrade is simply done again by the
        next writer. Rejected records keep their MD5 keys: those never changed.
        """
        if self._current:
            return
        version = self.schema_version()
        if version >= schema.STORE_SCHEMA_VERSION:
            self._current = True
            return
        partitions = sorted(self.events_dir.glob("date=*")) if self.events_dir.is_dir() else []
        for directory in partitions:
            self._compact_partition(directory, rekey=True)
        meta = self._meta() or {}
        meta.update(
            schema_version=schema.STORE_SCHEMA_VERSION,
            event_key_algorithm=schema.EVENT_KEY_ALGORITHM,
            upgraded_from=version,
            upgraded=dt.datetime.now(dt.UTC).isoformat(),
        )
        _write_text_atomically(json.dumps(meta, indent=2) + "\n", self.root / "meta.json")
        self._current = True

    def _sweep_leftover_temporaries(self) -> None:
        """Delete hidden temporary files a killed writer left (once per Store, under the lock)."""
        if self._swept:
            return
        self._swept = True
        for pattern in ("events/date=*/.tmp-*", "rejected/.tmp-*", "tables/.tmp-*", ".tmp-*"):
            for leftover in self.root.glob(pattern):
                leftover.unlink(missing_ok=True)

    # ----------------------------------------------------------------- events
    def add_events(self, events: pa.Table) -> AddResult:
        """Store the events whose ``event_key`` is not stored yet.

        ``events`` must have the columns of ``schema.EVENTS``. Duplicates inside ``events`` and
        against the store are counted, not written.
        """
        if events.num_rows == 0:
            return AddResult(0, 0)
        events = events.select(schema.EVENTS.names).cast(schema.EVENTS)
        received = events.num_rows
        first_index = _first_occurrences(_keys_as_numpy(events.column("event_key")))
        if first_index is not None:
            events = events.take(pa.array(first_index))
        with self.writing():
            new = 0
            for day, part in _by_day(events):
                new += self._add_to_partition(day, part)
        return AddResult(new=new, duplicates=received - new)

    def _add_to_partition(self, day: str | None, events: pa.Table) -> int:
        directory = self.events_dir / _partition_name(day)
        stored = _read_keys(_visible_parquet_files(directory), "event_key")
        if len(stored):
            fresh = ~_stored(events.column("event_key"), stored)
            if not fresh.all():
                events = events.filter(pa.array(fresh))
        if events.num_rows == 0:
            return 0
        _write_parquet_atomically(events, directory / f"part-{uuid.uuid4().hex}.parquet")
        self._compact_partition(directory)
        return events.num_rows

    def _compact_partition(self, directory: Path, *, rekey: bool = False) -> None:
        """Merge a partition's files into one once there are too many (or to ``rekey`` it:
        recompute every ``event_key`` from ``raw_message`` with the current algorithm).

        A journal names the files being replaced; if a crash leaves it behind,
        ``_finish_interrupted_compactions`` completes or undoes the merge before the next write.
        """
        files = _visible_parquet_files(directory)
        if not files or (len(files) <= COMPACT_AFTER_FILES and not rekey):
            return
        merged_name = f"part-{uuid.uuid4().hex}.parquet"
        journal = directory / _JOURNAL
        entry = {"merged": merged_name, "replaced": [f.name for f in files]}
        _write_text_atomically(json.dumps(entry), journal)
        merged = ds.dataset([str(f) for f in files], format="parquet", schema=schema.EVENTS)
        table = merged.to_table().sort_by([("event_time", "ascending")])
        if rekey:
            keys = schema.event_keys(table.column("raw_message"))
            table = table.set_column(0, schema.EVENTS.field("event_key"), keys)
        # One row per key, the first kept: a writer of an older version that kept writing MD5
        # keys while this store was being re-keyed left copies that now share a key.
        first_index = _first_occurrences(_keys_as_numpy(table.column("event_key")))
        if first_index is not None:
            table = table.take(pa.array(first_index))
        _write_parquet_atomically(table, directory / merged_name)
        for file in files:
            file.unlink(missing_ok=True)
        journal.unlink()

    def _finish_interrupted_compactions(self) -> None:
        for journal in self.events_dir.glob(f"date=*/{_JOURNAL}"):
            entry = json.loads(journal.read_text(encoding="utf-8"))
            if (journal.parent / entry["merged"]).exists():
                for name in entry["replaced"]:
                    (journal.parent / name).unlink(missing_ok=True)
            journal.unlink()

    def events_dataset(self, *, text_as_dictionary: bool = False) -> ds.Dataset | None:
        """The events as a ``pyarrow.dataset`` (partition column ``date``), or None if empty.

        With ``text_as_dictionary``, text columns are read as ``dictionary<int32, string>``
        straight from the files' dictionary pages: about 8x faster than materialising each string,
        for columns that repeat a few values (names, ARNs, event types) a million times.
        """
        partitions = sorted(self.events_dir.glob("date=*")) if self.events_dir.is_dir() else []
        files = [str(p) for partition in partitions for p in _visible_parquet_files(partition)]
        if not files:
            return None
        events_schema, file_format = schema.EVENTS, ds.ParquetFileFormat()
        if text_as_dictionary:
            events_schema, text_columns = _text_as_dictionary(schema.EVENTS)
            file_format = ds.ParquetFileFormat(
                read_options=ds.ParquetReadOptions(dictionary_columns=text_columns)
            )
        return ds.dataset(
            files,
            format=file_format,
            schema=events_schema.append(pa.field("date", pa.string())),
            partitioning=_PARTITIONING,
            partition_base_dir=str(self.events_dir),
        )

    def load_events(
        self,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        columns: Sequence[str] | None = None,
        *,
        text_as_dictionary: bool = False,
    ) -> pa.Table:
        """Events whose ``event_time`` is in ``[since, until)``, reading only what is needed.

        Parameters
        ----------
        since, until
            Timezone-aware bounds; either may be None (open). With a bound, events without any
            time are left out; with neither, every event is returned.
        columns
            Columns to read (default: all but ``raw_message``).
        text_as_dictionary
            Read text columns as ``dictionary<int32, string>`` (see ``events_dataset``); the
            values are the same, only their encoding differs.
        """
        for name, bound in (("since", since), ("until", until)):
            if bound is not None and bound.tzinfo is None:
                raise ValueError(f"{name} must be timezone-aware (got {bound!r})")
        wanted = (
            list(columns)
            if columns is not None
            else [n for n in schema.EVENTS.names if n != "raw_message"]
        )
        condition: ds.Expression | None = None
        if since is not None:
            condition = (ds.field("date") >= since.astimezone(dt.UTC).strftime("%Y-%m-%d")) & (
                ds.field("event_time") >= pa.scalar(since, type=schema.UTC_MS)
            )
        if until is not None:
            upper = (ds.field("date") <= until.astimezone(dt.UTC).strftime("%Y-%m-%d")) & (
                ds.field("event_time") < pa.scalar(until, type=schema.UTC_MS)
            )
            condition = upper if condition is None else condition & upper

        def read() -> pa.Table:
            dataset = self.events_dataset(text_as_dictionary=text_as_dictionary)
            if dataset is None:
                empty = (
                    _text_as_dictionary(schema.EVENTS)[0] if text_as_dictionary else schema.EVENTS
                )
                return empty.empty_table().select(wanted)
            return dataset.to_table(columns=wanted, filter=condition)

        return self._reading(read)

    def _reading(self, read: Callable[[], pa.Table]) -> pa.Table:
        """Run ``read``; once more if a concurrent compaction removed a file it had listed.

        Readers take no lock, so a writer may merge a partition under them: the second attempt
        lists the files again. A damaged file becomes a ``StoreError`` that names it.
        """
        for attempt in (1, 2):
            try:
                return read()
            except FileNotFoundError:
                if attempt == 2:
                    raise
            except (pa.ArrowInvalid, OSError) as exc:
                raise _damaged(self.root, exc) from exc
        raise AssertionError("unreachable")

    # ----------------------------------------------------------------- rejected lines
    def add_rejected(self, rejected: pa.Table) -> int:
        """Keep lines that could not become events; a line already kept is not kept twice."""
        if rejected.num_rows == 0:
            return 0
        rejected = rejected.select(schema.REJECTED.names).cast(schema.REJECTED)
        with self.writing():
            first_index = _first_occurrences(_keys_as_numpy(rejected.column("reject_key")))
            keep = np.ones(rejected.num_rows, dtype=bool)
            if first_index is not None:
                keep[:] = False
                keep[first_index] = True
            stored = _read_keys(_visible_parquet_files(self.rejected_dir), "reject_key")
            if len(stored):
                keep &= ~_stored(rejected.column("reject_key"), stored)
            kept_before = self._lines_rejected_before_upgrade()
            if kept_before:
                lines = zip(
                    rejected.column("source").to_pylist(),
                    rejected.column("location").to_pylist(),
                    strict=True,
                )
                keep &= np.array([line not in kept_before for line in lines], dtype=bool)
            fresh = rejected.filter(pa.array(keep))
            if fresh.num_rows:
                name = f"part-{uuid.uuid4().hex}.parquet"
                _write_parquet_atomically(fresh, self.rejected_dir / name)
        return fresh.num_rows

    def _lines_rejected_before_upgrade(self) -> set[tuple[str, str]]:
        """``(source, location)`` of the lines rejected before an upgrade from schema 1.

        Schema 1 kept some rejected lines of S3 exports (a message without a worker identity or
        event type) with only the message part as their text, where schema 2 keeps the whole
        line: their keys differ, and a re-ingest of such an export would keep them once more. A
        line of the same file rejected before the upgrade is that line.
        """
        if self._rejected_before_upgrade is None:
            meta = self._meta() or {}
            lines: set[tuple[str, str]] = set()
            if meta.get("upgraded_from") == 1 and meta.get("upgraded"):
                upgraded = pa.scalar(dt.datetime.fromisoformat(meta["upgraded"]), schema.UTC_MS)
                kept = self.load_rejected().select(["source", "location", "rejected_at"])
                before = kept.filter(pc.less(kept.column("rejected_at"), upgraded))
                lines = set(
                    zip(
                        before.column("source").to_pylist(),
                        before.column("location").to_pylist(),
                        strict=True,
                    )
                )
            # Read once per Store: what was rejected before the upgrade never changes.
            self._rejected_before_upgrade = lines
        return self._rejected_before_upgrade

    def load_rejected(self) -> pa.Table:
        """Every rejected line kept so far."""

        def read() -> pa.Table:
            files = _visible_parquet_files(self.rejected_dir)
            if not files:
                return schema.REJECTED.empty_table()
            paths = [str(f) for f in files]
            return ds.dataset(paths, format="parquet", schema=schema.REJECTED).to_table()

        return self._reading(read)

    # ----------------------------------------------------------------- snapshot tables
    def replace_table(self, name: str, table: pa.Table) -> None:
        """Replace table ``name`` (one of ``schema.TABLES``) with ``table`` as a whole."""
        table_schema, _ = schema.TABLES[name]
        table = table.select(table_schema.names).cast(table_schema)
        with self.writing():
            _write_parquet_atomically(table, self.tables_dir / f"{name}.parquet")

    def upsert_table(
        self,
        name: str,
        table: pa.Table,
        *,
        replacing: Callable[[pa.Table], pa.Array] | None = None,
    ) -> int:
        """Merge ``table`` into table ``name`` by its key columns; the newer row wins.

        ``replacing``, when given, marks stored rows that ``table`` supersedes although their
        key differs (e.g. the same metric at another period); they are dropped first. Returns
        the number of rows whose key was not stored before.
        """
        table_schema, key = schema.TABLES[name]
        table = table.select(table_schema.names).cast(table_schema)
        with self.writing():
            existing = self.read_table(name)
            if replacing is not None and existing.num_rows:
                existing = existing.filter(pc.invert(replacing(existing)))
            before = existing.num_rows
            combined = pa.concat_tables([existing, table])
            frame = combined.to_pandas(types_mapper=None)
            frame = frame.drop_duplicates(subset=list(key), keep="last")
            merged = pa.Table.from_pandas(frame, schema=table_schema, preserve_index=False)
            _write_parquet_atomically(merged, self.tables_dir / f"{name}.parquet")
        return merged.num_rows - before

    def read_table(self, name: str) -> pa.Table:
        """Table ``name`` as stored, or an empty table of its schema."""
        table_schema, _ = schema.TABLES[name]
        path = self.tables_dir / f"{name}.parquet"
        if not path.exists():
            return table_schema.empty_table()
        return self._reading(lambda: pq.read_table(path, schema=table_schema))

    # ----------------------------------------------------------------- sync state
    def read_state(self) -> dict[str, Any]:
        """The sync state (checkpoints, last sync of each part); empty if never synced."""
        if not self.state_path.exists():
            return {}
        try:
            state: dict[str, Any] = json.loads(self.state_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise StoreError(f"{self.state_path} is not valid JSON ({exc})") from exc
        return state

    def write_state(self, state: dict[str, Any]) -> None:
        """Replace the sync state atomically."""
        with self.writing():
            self._write_state(state)

    def update_state(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Read, ``change`` in place and write the sync state, all under the writer lock.

        Two syncs sharing one store (a scheduled one and a manual one, two regions) then never
        overwrite each other's checkpoints.
        """
        with self.writing():
            state = self.read_state()
            change(state)
            self._write_state(state)

    def _write_state(self, state: dict[str, Any]) -> None:
        text = json.dumps(state, indent=2, sort_keys=True, default=str) + "\n"
        _write_text_atomically(text, self.state_path)

    # ----------------------------------------------------------------- summary
    def summary(
        self,
        *,
        events: pa.Table | None = None,
        rejected: pa.Table | None = None,
        tables: Mapping[str, pa.Table] | None = None,
    ) -> StoreSummary:
        """Counts for ``status``: events, date range, workers, teams, jobs, types, rejected.

        A caller that already read the store passes what it read, so nothing is read twice:
        ``events`` as ``load_events(text_as_dictionary=True)`` gives them (with at least
        ``event_time``, ``worker_key``, ``workteam_arn``, ``labeling_job_arn``, ``event_type``),
        ``rejected`` as ``load_rejected``, ``tables`` as ``read_table`` for every name.
        """
        if events is None:
            columns = ["event_time", "worker_key", "workteam_arn", "labeling_job_arn", "event_type"]
            events = self.load_events(columns=columns, text_as_dictionary=True)
        if rejected is None:
            rejected = self.load_rejected()
        if tables is None:
            tables = {name: self.read_table(name) for name in schema.TABLES}
        times = events.column("event_time")
        first = pc.min(times).as_py() if events.num_rows else None
        last = pc.max(times).as_py() if events.num_rows else None
        types = events.column("event_type").value_counts().to_pylist()
        reasons = rejected.column("reason").value_counts().to_pylist()
        return StoreSummary(
            events=events.num_rows,
            first_event_time=first,
            last_event_time=last,
            events_without_time=times.null_count,
            workers=_count_distinct(events.column("worker_key")),
            workteams=_count_distinct(events.column("workteam_arn")),
            labeling_jobs=_count_distinct(events.column("labeling_job_arn")),
            event_types={
                t["values"]: t["counts"] for t in sorted(types, key=lambda t: t["values"])
            },
            rejected_lines=rejected.num_rows,
            rejected_reasons={r["values"]: r["counts"] for r in reasons},
            tables={name: tables[name].num_rows for name in schema.TABLES},
        )
