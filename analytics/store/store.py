"""The local store: a directory of Parquet files that any Parquet reader can open.

Layout::

    DIR/meta.json                          schema version, event key algorithm
    DIR/events/date=YYYY-MM-DD/*.parquet   worker-activity events, hive-partitioned by UTC date
    DIR/events/date=unknown/*.parquet      events whose message carries no usable time
    DIR/rejected/*.parquet                 lines that could not become events, with the reason
    DIR/tables/<name>.parquet              users, workteams, memberships, jobs, metrics, backlog
    DIR/state.json                         sync checkpoints and the last sync of each part
    DIR/.lock                              the writers' lock (no data)
    DIR/version                            a token every write replaces (``store_version``)
    DIR/events/date=*/.compaction.json     merges whose replaced files are not deleted yet

An event's partition depends on its message text only (``event_time`` is read from the
message, never from its envelope), and its key is a 128-bit hash of that text
(``keys.EVENT_KEY_ALGORITHM``), so checking a new event's key against its own partition is
enough to keep every event once. Timeless events were filed under ``__HIVE_DEFAULT_PARTITION__``
before; pyarrow cannot type a partition column whose only value is null, nor pandas read one
beside dated partitions, so they now go to ``date=unknown``, and the first writer (or an idle
open) renames the old folder, in one atomic rename.

Writes. Every file goes to a hidden temporary file first (Parquet readers skip names starting
with ``.``) and is renamed into place, so a crash at any point leaves readable files only; a
rerun of the same ingest or sync then adds exactly what was missing, because every event is
keyed by the hash of its message text and a key already stored is never written again. Writers
hold an exclusive ``flock`` on ``DIR/.lock``, one at a time.

Reads: one snapshot, no retries. Readers take no writer lock: a read never waits for an ingest.
What could break a read is a merge (a partition of more than ``COMPACT_AFTER_FILES`` files is
merged into one) deleting files a reader has listed but not yet opened. So a reader holds a
*shared* ``flock`` on the ``events`` folder while it lists and reads, and a merge deletes the
files it replaced only if it gets the *exclusive* lock at once; if a reader holds it, the files
stay, the journal keeps naming them, our readers skip them, and the next writer (or the next
idle open of the store) deletes them. Readers never block writers; a writer holds the
exclusive lock only for its deletes and renames (milliseconds), the only time a reader waits.
Rejected lines and tables are only ever replaced by a rename, which an open reader survives.
Other choices were weighed: holding every listed file open (an open descriptor keeps its data)
needs one descriptor per file, over the usual limit of 1,024 in a store of a few years, and a
manifest naming the current files would leave other Parquet readers, which list folders, on
their own. A read sees every write finished before it began, each event once, and of a write
under way each file whole or not at all: the states a crash could leave.

Damage. A file that is unreadable or not what this tool writes gives a ``StoreError`` that names
it and its repair, in one line; nothing is deleted or moved on a guess. Repaired without asking,
because that is safe: a lost ``meta.json`` (rebuilt from the stored keys), a damaged journal
(the day's files are merged, each event kept once), columns added by someone else (ignored).

A store written by an older version with another key algorithm (schema 1: MD5) is re-keyed from
``raw_message`` by the first writer, partition by partition, before anything is added; readers
need no keys and read either version.

This module is the ``Store``; its parts live beside it: ``parquet_files`` (one file written
atomically, read checked), ``locking`` (the writers' and the readers' locks), ``compaction``
(merges and their journal) and ``migrate`` (stores of earlier versions).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from analytics.errors import StoreError
from analytics.store import locking, migrate, schema
from analytics.store.compaction import (
    JOURNAL,
    compact_partition,
    finish_interrupted_compactions,
    is_data_file_name,
    visible_parquet_files,
)
from analytics.store.keys import (
    EVENT_KEY_ALGORITHM,
    EVENT_KEY_ALGORITHM_V1,
    first_occurrences,
    keys_as_numpy,
)
from analytics.store.parquet_files import (
    damaged_file,
    diagnose,
    file_problem,
    read_checked,
    write_parquet_atomically,
    write_text_atomically,
)
from analytics.store.schema import LEGACY_NO_DATE_PARTITION, NO_DATE_PARTITION

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


#: The store's version token (``DIR/version``): replaced by every write, see ``store_version``.
VERSION_FILE_NAME = "version"


def store_version(root: Path | str) -> str:
    """A token that changes with every write to the store in ``root`` (one small file read).

    Every writer replaces ``DIR/version`` under the writer lock as its write ends: a count of
    writes and a random part, so that a store deleted and made again never repeats a token.
    Readers key their caches on it (the dashboard rereads the store once per version). A store
    no writer of this version has touched yet answers ``"unversioned"``.
    """
    try:
        token = (Path(root) / VERSION_FILE_NAME).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return "unversioned"
    return token or "unversioned"


def _bump_version(root: Path) -> None:
    count, _, _ = store_version(root).partition("-")
    writes = int(count) + 1 if count.isdigit() else 1
    with contextlib.suppress(StoreError):  # a reader then rereads one write late, no more
        write_text_atomically(f"{writes}-{uuid.uuid4().hex[:12]}\n", root / VERSION_FILE_NAME)


def _partition_name(day: str | None) -> str:
    return f"date={day if day else NO_DATE_PARTITION}"


def _partition_problem(directory: Path) -> str | None:
    """Why ``directory`` (an ``events/`` entry named ``date=...``) is no partition of ours."""
    if schema.is_partition_name(directory.name):
        return None
    return f"not a partition this tool writes (date=YYYY-MM-DD or date={NO_DATE_PARTITION})"


def _state_problem(state: object) -> str | None:
    """What in ``state.json``'s content sync could not use (see ``analytics.sync``), or None."""
    if not isinstance(state, dict):
        return "not a JSON object"
    for section in ("logs", "metrics", "last_sync"):
        entries = state.get(section, {})
        if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
            return f'"{section}" is not an object of objects'
        for entry in entries.values():
            epoch_ms = entry.get("synced_until_epoch_ms")
            if epoch_ms is not None and (
                isinstance(epoch_ms, bool) or not isinstance(epoch_ms, int)
            ):
                return f"synced_until_epoch_ms is {epoch_ms!r}, not an integer"
            for name in ("synced_until", "at"):
                value = entry.get(name)
                if value is None:
                    continue
                try:
                    dt.datetime.fromisoformat(value)
                except (TypeError, ValueError):
                    return f"{name} is {value!r}, not an ISO time"
    return None


def _read_keys(files: Sequence[Path], column: str, table_schema: pa.Schema, kind: str) -> pa.Array:
    """The 16-byte keys stored in ``files``."""
    if not files:
        return pa.array([], pa.binary(16))
    # The footers of the files a write is checked against (a millisecond each): a foreign or
    # mistyped file is named before anything is added beside it.
    for path in files:
        problem = file_problem(path, table_schema, deep=False)
        if problem is not None:
            raise damaged_file(path, problem, kind)
    key_schema = pa.schema([table_schema.field(column)])
    keys = read_checked(
        files,
        table_schema,
        kind,
        lambda: ds.dataset([str(f) for f in files], format="parquet", schema=key_schema).to_table(),
    )
    return keys.column(column).combine_chunks().cast(pa.binary(16))


def _epoch_days(times: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """UTC day number (days since 1970-01-01) of each timestamp; -1 for a null time."""
    epoch_ms = pc.fill_null(pc.cast(times, pa.int64()), -(2**62))
    days = np.floor_divide(np.asarray(epoch_ms), 86_400_000)
    days[days < -(2**40)] = -1
    result: np.ndarray = days
    return result


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
        self.meta_path = self.root / "meta.json"
        self._swept = False
        self._current = False
        self._rejected_before_upgrade: set[tuple[str, str]] | None = None
        self._check_version()
        self._repair_if_idle()

    # ----------------------------------------------------------------- housekeeping
    def _meta(self) -> dict[str, Any] | None:
        """``meta.json``, or None when there is none (a store not created, or one that lost it).

        Raises
        ------
        StoreError
            ``meta.json`` is unreadable or is not what this tool writes.
        """
        try:
            text = self.meta_path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise self._damaged_meta(str(exc)) from exc
        try:
            meta = json.loads(text)
        except ValueError as exc:
            raise self._damaged_meta(f"not JSON: {exc}") from exc
        if not isinstance(meta, dict):
            raise self._damaged_meta("not a JSON object")
        version = meta.get("schema_version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise self._damaged_meta(f"schema_version is {version!r}, not a positive integer")
        upgraded = meta.get("upgraded")
        if upgraded is not None:
            try:
                dt.datetime.fromisoformat(upgraded)
            except (TypeError, ValueError) as exc:
                raise self._damaged_meta(f"upgraded is {upgraded!r}, not an ISO time") from exc
        return meta

    def _damaged_meta(self, why: str) -> StoreError:
        return StoreError(
            f"{self.meta_path} is damaged ({why}): if {self.root} is a gt-throughput store, move "
            f"that file aside (mv '{self.meta_path}' '{self.meta_path}.damaged'); the next "
            "command that writes rebuilds it from the stored events"
        )

    def schema_version(self) -> int:
        """The schema version of the store on disk (the current one for a store not created)."""
        meta = self._meta()
        return schema.STORE_SCHEMA_VERSION if meta is None else int(meta["schema_version"])

    def _check_version(self) -> None:
        version = self.schema_version()
        if version > schema.STORE_SCHEMA_VERSION:
            raise StoreError(
                f"the store in {self.root} was written by a newer groundtruth-throughput "
                f"({self.meta_path}: schema {version}; this one reads up to "
                f"{schema.STORE_SCHEMA_VERSION}): upgrade groundtruth-throughput"
            )

    def exists(self) -> bool:
        """True when the store directory holds a store (even an empty one, or one whose
        ``meta.json`` was lost: a folder holding events is never taken for no store)."""
        return self.meta_path.exists() or self._holds_data()

    def _holds_data(self) -> bool:
        patterns = ("events/date=*/*.parquet", "rejected/*.parquet", "tables/*.parquet")
        return any(next(self.root.glob(pattern), None) is not None for pattern in patterns)

    def _partitions(self) -> list[Path]:
        """The partition folders of ``events/``.

        Raises
        ------
        StoreError
            A folder ``date=...`` whose name is not a UTC date: its events would be neither
            found by a window nor checked against when the same events come again.
        """
        if not self.events_dir.is_dir():
            return []
        partitions = sorted(p for p in self.events_dir.glob("date=*") if p.is_dir())
        for directory in partitions:
            problem = _partition_problem(directory)
            if problem is not None:
                raise StoreError(
                    f"{directory} is {problem}: move it out of the store (its files are kept "
                    "there) and ingest or sync the data it came from again"
                )
        return partitions

    def _timeless_partition(self) -> Path:
        """Where events without a time go: the folder of earlier versions while it exists."""
        legacy = self.events_dir / f"date={LEGACY_NO_DATE_PARTITION}"
        return legacy if legacy.is_dir() else self.events_dir / f"date={NO_DATE_PARTITION}"

    def stray_files(self) -> list[Path]:
        """Files and folders in the store that it did not write (hidden ones aside).

        Our readers skip them, but other Parquet readers of ``events/`` may fail on them.
        """
        stray: list[Path] = []
        table_files = {f"{name}.parquet" for name in (*schema.TABLES, *schema.BOOKKEEPING_TABLES)}
        folders = [
            (self.events_dir, lambda p: p.is_dir() and p.name.startswith("date=")),
            (self.rejected_dir, lambda p: p.is_file() and is_data_file_name(p.name)),
            (self.tables_dir, lambda p: p.is_file() and p.name in table_files),
        ]
        folders += [
            (partition, lambda p: p.is_file() and is_data_file_name(p.name))
            for partition in sorted(self.events_dir.glob("date=*"))
            if partition.is_dir()
        ]
        for folder, ours in folders:
            if folder.is_dir():
                stray += sorted(
                    p for p in folder.iterdir() if not p.name.startswith(".") and not ours(p)
                )
        return stray

    # ----------------------------------------------------------------- locks
    def _repair_if_idle(self) -> None:
        """Do a writer's housekeeping now if it is due and no writer is at work.

        Finishes a merge a crash or a reader left (readers skip the replaced files already;
        this clears them for other Parquet readers), mends a damaged journal, moves the
        timeless events to their new folder, and gives an empty store its typed empty file.
        """
        if not self._housekeeping_due():
            return
        try:
            with locking.writer_lock_if_free(self.root / ".lock") as free:
                if free:  # else a writer is at work; it does the same itself
                    self._housekeeping()
        except OSError:
            return  # a read-only store: readers still skip the replaced files

    def _housekeeping_due(self) -> bool:
        if not self.meta_path.exists():
            return False
        if not self.events_dir.is_dir():
            return True  # no typed empty file yet
        if next(self.events_dir.glob(f"date=*/{JOURNAL}"), None) is not None:
            return True
        legacy = self.events_dir / f"date={LEGACY_NO_DATE_PARTITION}"
        if legacy.is_dir() and not (self.events_dir / f"date={NO_DATE_PARTITION}").exists():
            return True
        return next(self.events_dir.glob("date=*"), None) is None

    def _housekeeping(self) -> None:
        """What every writer does first, under the writer lock (see ``_repair_if_idle``)."""
        finish_interrupted_compactions(self.events_dir)
        migrate.move_timeless_partition(self.events_dir)
        self._write_empty_file_if_no_partition()

    def _ensure_created(self) -> None:
        if self.meta_path.exists():
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store in {self.root}: {exc}") from exc
        meta: dict[str, Any] = {
            "schema_version": schema.STORE_SCHEMA_VERSION,
            "event_key_algorithm": EVENT_KEY_ALGORITHM,
            "created": dt.datetime.now(dt.UTC).isoformat(),
        }
        if self._holds_data():
            # meta.json was lost: the stored keys tell which version wrote the events.
            version = migrate.key_version(self._partitions(), self.meta_path)
            meta.update(
                schema_version=version,
                event_key_algorithm=EVENT_KEY_ALGORITHM
                if version == schema.STORE_SCHEMA_VERSION
                else EVENT_KEY_ALGORITHM_V1,
                rebuilt=meta.pop("created"),
            )
        write_text_atomically(json.dumps(meta, indent=2) + "\n", self.meta_path)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the store's writer lock (one writer at a time; readers never wait)."""
        self._ensure_created()
        with locking.writer_lock(self.root / ".lock"):
            try:
                self._partitions()  # a folder that is no partition: named before any write
                finish_interrupted_compactions(self.events_dir)
                migrate.move_timeless_partition(self.events_dir)
                self._sweep_leftover_temporaries()
                self._upgrade()
                yield
                self._write_empty_file_if_no_partition()
            finally:
                # Even after a failed write: what landed before it is new to readers.
                _bump_version(self.root)

    def _upgrade(self) -> None:
        """Bring an older store to the current schema (``migrate.upgrade``), once per Store."""
        if self._current:
            return
        version = self.schema_version()
        if version < schema.STORE_SCHEMA_VERSION:
            migrate.upgrade(version, self._partitions(), self._meta() or {}, self.meta_path)
        self._current = True

    def _sweep_leftover_temporaries(self) -> None:
        """Delete hidden temporary files a killed writer left (once per Store, under the lock)."""
        if self._swept:
            return
        self._swept = True
        for pattern in ("events/date=*/.tmp-*", "rejected/.tmp-*", "tables/.tmp-*", ".tmp-*"):
            for leftover in self.root.glob(pattern):
                leftover.unlink(missing_ok=True)

    def _write_empty_file_if_no_partition(self) -> None:
        """Give a store without events one typed, empty events file.

        Parquet readers infer a hive partition's type from folder names and the columns from
        the files: with no file at all, pyarrow, pandas and DuckDB fail on ``events/`` or
        return no columns.
        """
        if next(self.events_dir.glob("date=*"), None) is not None:
            return
        directory = self.events_dir / f"date={NO_DATE_PARTITION}"
        write_parquet_atomically(
            schema.EVENTS.empty_table(), directory / f"part-{uuid.uuid4().hex}.parquet"
        )

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
        first_index = first_occurrences(keys_as_numpy(events.column("event_key")))
        if first_index is not None:
            events = events.take(pa.array(first_index))
        with self.writing():
            new = 0
            for day, part in _by_day(events):
                new += self._add_to_partition(day, part)
        return AddResult(new=new, duplicates=received - new)

    def _add_to_partition(self, day: str | None, events: pa.Table) -> int:
        directory = self.events_dir / _partition_name(day) if day else self._timeless_partition()
        stored = _read_keys(visible_parquet_files(directory), "event_key", schema.EVENTS, "events")
        if len(stored):
            fresh = ~_stored(events.column("event_key"), stored)
            if not fresh.all():
                events = events.filter(pa.array(fresh))
        if events.num_rows == 0:
            return 0
        write_parquet_atomically(events, directory / f"part-{uuid.uuid4().hex}.parquet")
        # An event stored twice (a journal lost by hand after a crash): merging keeps it once.
        twice = first_occurrences(keys_as_numpy(stored)) is not None
        compact_partition(directory, force=twice)
        return events.num_rows

    @contextlib.contextmanager
    def visible_files(self) -> Iterator[list[Path]]:
        """Every data file a reader of the store sees now (events, rejected lines, tables),
        held for the block: no file listed is deleted before the block ends (the read lock,
        ``locking.read_lock``). A table may be replaced by a rename meanwhile: open it once and
        use what that one descriptor reads. Used by ``publish`` to mirror the store.
        """
        with locking.read_lock(self.events_dir):
            files = self._event_files() + visible_parquet_files(self.rejected_dir)
            files += [
                path
                for name in schema.TABLES
                if (path := self.tables_dir / f"{name}.parquet").is_file()
            ]
            yield files

    def _event_files(self) -> list[Path]:
        return [f for directory in self._partitions() for f in visible_parquet_files(directory)]

    def _events_dataset(self, files: Sequence[Path], *, text_as_dictionary: bool) -> ds.Dataset:
        """``files`` as a ``pyarrow.dataset`` (partition column ``date``).

        With ``text_as_dictionary``, text columns are read as ``dictionary<int32, string>``
        straight from the files' dictionary pages: about 8x faster than materialising each string,
        for columns that repeat a few values (names, ARNs, event types) a million times.
        """
        events_schema, file_format = schema.EVENTS, ds.ParquetFileFormat()
        if text_as_dictionary:
            events_schema, text_columns = _text_as_dictionary(schema.EVENTS)
            file_format = ds.ParquetFileFormat(
                read_options=ds.ParquetReadOptions(dictionary_columns=text_columns)
            )
        return ds.dataset(
            [str(f) for f in files],
            format=file_format,
            schema=events_schema.append(pa.field("date", pa.string())),
            partitioning=_PARTITIONING,
            partition_base_dir=str(self.events_dir),
        )

    def has_events(self) -> bool:
        """True when the store holds at least one event (read from the files' footers)."""
        with locking.read_lock(self.events_dir):
            for file in self._event_files():
                try:
                    if pq.read_metadata(file).num_rows:
                        return True
                except (pa.ArrowException, OSError) as exc:
                    error = diagnose([file], schema.EVENTS, "events", exc)
                    assert error is not None
                    raise error from exc
        return False

    def load_events(
        self,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        columns: Sequence[str] | None = None,
        *,
        text_as_dictionary: bool = False,
    ) -> pa.Table:
        """Events whose ``event_time`` is in ``[since, until)``, reading only what is needed.

        One consistent snapshot: every write finished before the call, each event once, however
        writers add and merge files meanwhile (``locking.read_lock``).

        Parameters
        ----------
        since, until
            Timezone-aware bounds; either may be None (open). With a bound, events without any
            time are left out; with neither, every event is returned.
        columns
            Columns to read (default: all but ``raw_message``).
        text_as_dictionary
            Read text columns as ``dictionary<int32, string>`` (see ``_events_dataset``); the
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
        with locking.read_lock(self.events_dir):
            files = self._event_files()
            if not files:
                empty = (
                    _text_as_dictionary(schema.EVENTS)[0] if text_as_dictionary else schema.EVENTS
                )
                return empty.empty_table().select(wanted)
            dataset = self._events_dataset(files, text_as_dictionary=text_as_dictionary)
            return read_checked(
                files,
                schema.EVENTS,
                "events",
                lambda: dataset.to_table(columns=wanted, filter=condition),
            )

    # ----------------------------------------------------------------- rejected lines
    def add_rejected(self, rejected: pa.Table) -> int:
        """Keep lines that could not become events; a line already kept is not kept twice."""
        if rejected.num_rows == 0:
            return 0
        rejected = rejected.select(schema.REJECTED.names).cast(schema.REJECTED)
        with self.writing():
            first_index = first_occurrences(keys_as_numpy(rejected.column("reject_key")))
            keep = np.ones(rejected.num_rows, dtype=bool)
            if first_index is not None:
                keep[:] = False
                keep[first_index] = True
            stored = _read_keys(
                visible_parquet_files(self.rejected_dir), "reject_key", schema.REJECTED, "rejected"
            )
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
                write_parquet_atomically(fresh, self.rejected_dir / name)
        return fresh.num_rows

    def _lines_rejected_before_upgrade(self) -> set[tuple[str, str]]:
        """``migrate.lines_rejected_before_upgrade``, read once per Store: what was rejected
        before the upgrade never changes."""
        if self._rejected_before_upgrade is None:
            self._rejected_before_upgrade = migrate.lines_rejected_before_upgrade(
                self._meta() or {}, self.load_rejected
            )
        return self._rejected_before_upgrade

    def load_rejected(self) -> pa.Table:
        """Every rejected line kept so far."""

        files = visible_parquet_files(self.rejected_dir)
        if not files:
            return schema.REJECTED.empty_table()
        paths = [str(f) for f in files]
        return read_checked(
            files,
            schema.REJECTED,
            "rejected",
            lambda: ds.dataset(paths, format="parquet", schema=schema.REJECTED).to_table(),
        )

    # ----------------------------------------------------------------- snapshot tables
    def replace_table(self, name: str, table: pa.Table) -> None:
        """Replace table ``name`` (see ``schema.table_spec``) with ``table`` as a whole."""
        table_schema, _ = schema.table_spec(name)
        table = table.select(table_schema.names).cast(table_schema)
        with self.writing():
            write_parquet_atomically(table, self.tables_dir / f"{name}.parquet")

    def upsert_table(
        self,
        name: str,
        table: pa.Table,
        *,
        replacing: Callable[[pa.Table], pa.Array] | None = None,
        keep: Literal["first", "last"] = "last",
    ) -> int:
        """Merge ``table`` into table ``name`` by its key columns; the newer row wins.

        ``replacing``, when given, marks stored rows that ``table`` supersedes although their
        key differs (e.g. the same metric at another period); they are dropped first. ``keep``
        ``"first"`` keeps the stored row of a key instead (a record that must not change once
        read, such as a worker response and where it was first read from). Returns the number
        of rows whose key was not stored before.
        """
        table_schema, key = schema.table_spec(name)
        table = table.select(table_schema.names).cast(table_schema)
        with self.writing():
            existing = self.read_table(name)
            if replacing is not None and existing.num_rows:
                existing = existing.filter(pc.invert(replacing(existing)))
            before = existing.num_rows
            combined = pa.concat_tables([existing, table])
            frame = combined.to_pandas(types_mapper=None)
            frame = frame.drop_duplicates(subset=list(key), keep=keep)
            merged = pa.Table.from_pandas(frame, schema=table_schema, preserve_index=False)
            write_parquet_atomically(merged, self.tables_dir / f"{name}.parquet")
        return merged.num_rows - before

    def read_table(self, name: str) -> pa.Table:
        """Table ``name`` as stored, or an empty table of its schema."""
        table_schema, _ = schema.table_spec(name)
        path = self.tables_dir / f"{name}.parquet"
        if not path.exists():
            return table_schema.empty_table()
        if not path.is_file():
            raise damaged_file(path, "not a file", "tables")
        return read_checked(
            [path], table_schema, "tables", lambda: pq.read_table(path, schema=table_schema)
        )

    # ----------------------------------------------------------------- sync state
    def read_state(self) -> dict[str, Any]:
        """The sync state (checkpoints, last sync of each part); empty if never synced."""
        try:
            text = self.state_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise self._damaged_state(str(exc)) from exc
        try:
            state = json.loads(text)
        except ValueError as exc:
            raise self._damaged_state(f"not JSON: {exc}") from exc
        problem = _state_problem(state)
        if problem is not None:
            raise self._damaged_state(problem)
        result: dict[str, Any] = state
        return result

    def _damaged_state(self, why: str) -> StoreError:
        return StoreError(
            f"{self.state_path} is damaged ({why}): move it aside (mv '{self.state_path}' "
            f"'{self.state_path}.damaged'); the next sync starts afresh (from 14 days back, or "
            "--since) and every stored event is kept"
        )

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
        write_text_atomically(text, self.state_path)

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
