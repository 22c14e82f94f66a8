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
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import itertools
import json
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from analytics.errors import StoreError
from analytics.store import schema
from analytics.store.keys import (
    EVENT_KEY_ALGORITHM,
    EVENT_KEY_ALGORITHM_V1,
    event_keys,
    md5_keys,
)
from analytics.store.schema import LEGACY_NO_DATE_PARTITION, NO_DATE_PARTITION

_UNIQUE_COLUMNS = {"event_key", "raw_message", "reject_key", "raw_text", "detail"}
_REPEATING_COLUMNS = {
    field.name
    for table_schema in (
        schema.EVENTS,
        schema.REJECTED,
        *(s for s, _ in schema.TABLES.values()),
        *(s for s, _ in schema.BOOKKEEPING_TABLES.values()),
    )
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
        _write_text_atomically(f"{writes}-{uuid.uuid4().hex[:12]}\n", root / VERSION_FILE_NAME)


def _partition_name(day: str | None) -> str:
    return f"date={day if day else NO_DATE_PARTITION}"


def _partition_problem(directory: Path) -> str | None:
    """Why ``directory`` (an ``events/`` entry named ``date=...``) is no partition of ours."""
    if schema.is_partition_name(directory.name):
        return None
    return f"not a partition this tool writes (date=YYYY-MM-DD or date={NO_DATE_PARTITION})"


_JOURNAL = ".compaction.json"


@dataclass(frozen=True)
class _Merge:
    """One compaction of a partition: ``merged`` holds every row of the ``replaced`` files."""

    merged: str
    replaced: tuple[str, ...]


def _is_data_file_name(name: object) -> bool:
    return (
        isinstance(name, str)
        and name.endswith(".parquet")
        and not name.startswith((".", "_"))
        and "/" not in name
        and "\\" not in name
        and "\0" not in name
    )


def _parse_journal(text: str) -> list[_Merge]:
    """The merges a journal lists, oldest first; ``ValueError`` saying why if it is damaged.

    Two forms: ``{"merges": [{"merged": ..., "replaced": [...]}, ...]}``, and the single
    ``{"merged": ..., "replaced": [...]}`` of earlier versions. Every name must be a plain data
    file name of the same folder: a journal can make a writer delete files, never outside it.
    """
    document = json.loads(text)
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    entries = document.get("merges", [document])
    if not isinstance(entries, list):
        raise ValueError('"merges" is not a list')
    merges = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ValueError("a merge is not a JSON object")
        merged, replaced = entry.get("merged"), entry.get("replaced")
        if not isinstance(merged, str) or not _is_data_file_name(merged):
            raise ValueError(f'"merged" is not a data file name: {merged!r}')
        if not isinstance(replaced, list) or not all(_is_data_file_name(n) for n in replaced):
            raise ValueError('"replaced" is not a list of data file names')
        merges.append(_Merge(merged, tuple(replaced)))
    return merges


def _journal_text(merges: Sequence[_Merge]) -> str:
    entries = [{"merged": m.merged, "replaced": list(m.replaced)} for m in merges]
    return json.dumps({"merges": entries})


def _pending_merges(directory: Path) -> list[_Merge]:
    """The merges whose replaced files may still exist in ``directory`` (its journal).

    Raises
    ------
    StoreError
        The journal is damaged (see ``Store._repair_partition``: any writer mends it).
    """
    journal = directory / _JOURNAL
    try:
        text = journal.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise _damaged_journal(journal, str(exc)) from exc
    try:
        return _parse_journal(text)
    except (ValueError, KeyError) as exc:
        raise _damaged_journal(journal, str(exc) or type(exc).__name__) from exc


def _damaged_journal(journal: Path, why: str) -> StoreError:
    return StoreError(
        f"{journal} is damaged ({why}); the next command that can write to the store repairs it "
        "(it merges that day's files, keeping each event once): run the command again when no "
        "ingest or sync is at work and the store is writable"
    )


def _data_files(directory: Path) -> list[Path]:
    """Every data file of a folder, replaced ones included (names as ``_is_data_file_name``)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.parquet") if _is_data_file_name(p.name))


def _visible_parquet_files(directory: Path) -> list[Path]:
    """The data files of a folder, as of the last completed write.

    The files a merge replaced are left out while its journal entry lists them and its merged
    file is among the files listed (a merge whose deletes wait for readers, or a crash between
    its rename and its deletes), so our readers never see an event twice. The folder is listed
    *before* the journal is read: a merge that completes in between is then either wholly in the
    listing (merged file listed, its entry read) or wholly out of it (merged file not listed, so
    its entry hides nothing). Readers list under the store's read lock (``Store._snapshot``),
    so no listed file is deleted before they have read it.
    """
    files = _data_files(directory)
    if not files:
        return files
    hidden = _hidden_by_merges({f.name for f in files}, _pending_merges(directory))
    return [f for f in files if f.name not in hidden]


def _hidden_by_merges(names: set[str], merges: Sequence[_Merge]) -> set[str]:
    """The files a merge replaced, of each merge whose merged file is among ``names``."""
    hidden: set[str] = set()
    for merge in merges:
        if merge.merged in names:
            hidden.update(merge.replaced)
    return hidden


def visible_data_files(names: Iterable[str], journal_text: str | None) -> list[str]:
    """``_visible_parquet_files`` over a listing made elsewhere (a bucket, Hadoop's file system).

    ``names`` are one partition folder's entries, ``journal_text`` its journal (None when it has
    none). Returns the data file names a reader reads, sorted; ``ValueError`` when the journal is
    damaged.
    """
    files = sorted(name for name in names if _is_data_file_name(name))
    if not files or journal_text is None:
        return files
    hidden = _hidden_by_merges(set(files), _parse_journal(journal_text))
    return [name for name in files if name not in hidden]


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


#: How each kind of store file can be made again once a damaged one is moved out.
_REFILL = {
    "events": "ingest or sync its data again",
    "rejected": "ingest its source files again to keep their rejected lines",
    "tables": "run gt-throughput sync again to rebuild it",
}


def _compatible(actual: pa.DataType, expected: pa.DataType) -> bool:
    """Whether a column stored as ``actual`` reads as ``expected`` (by cast, values intact)."""
    if actual == expected:
        return True
    if pa.types.is_dictionary(actual):
        return _compatible(actual.value_type, expected)
    kinds = (
        lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
        pa.types.is_timestamp,
        lambda t: (
            pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t)
        ),
        pa.types.is_integer,
        pa.types.is_floating,
        pa.types.is_boolean,
    )
    return any(kind(actual) and kind(expected) for kind in kinds)


def _file_problem(path: Path, table_schema: pa.Schema, *, deep: bool = True) -> str | None:
    """What is wrong with data file ``path`` for ``table_schema``, or None if it reads well
    (``deep``: every value is read; else only its footer: the columns and their types)."""
    try:
        if path.stat().st_size == 0:
            return "an empty file, not Parquet"
        file_schema = pq.read_schema(path)
    except FileNotFoundError:
        return "removed while it was being read"
    except (pa.ArrowException, OSError) as exc:
        return f"not a readable Parquet file: {str(exc).splitlines()[0]}"
    missing = [f.name for f in table_schema if not f.nullable and f.name not in file_schema.names]
    if missing:
        return f"not a file of this store: it has no column {', '.join(missing)}"
    for field in table_schema:
        if field.name in file_schema.names:
            actual = file_schema.field(field.name).type
            if not _compatible(actual, field.type):
                return f"column {field.name} is {actual}, not {field.type}"
    if not deep:
        return None
    columns = [name for name in table_schema.names if name in file_schema.names]
    try:
        table = pq.read_table(path, columns=columns)
        for field in table_schema:
            if field.name in columns:
                table.column(field.name).cast(field.type)
    except (pa.ArrowException, OSError) as exc:
        return f"unreadable: {str(exc).splitlines()[0]}"
    return None


def _damaged_file(path: Path, problem: str, kind: str) -> StoreError:
    return StoreError(
        f"{path} is damaged ({problem}): move it out of the store (e.g. mv '{path}' /tmp/) and "
        f"{_REFILL[kind]}; nothing else is lost"
    )


def _diagnose(
    files: Sequence[Path], table_schema: pa.Schema, kind: str, exc: Exception | None
) -> StoreError | None:
    """The error naming the first damaged file of ``files``; for ``exc`` (a read failure) a
    general one when no single file is to blame, for None (a suspicious read) None."""
    for path in files:
        problem = _file_problem(path, table_schema)
        if problem is not None:
            return _damaged_file(path, problem, kind)
    if exc is None:
        return None
    where = files[0].parent if files else "the store"
    return StoreError(
        f"cannot read {where}: {str(exc).splitlines()[0]}; a damaged file can be moved out of "
        f"the store and its data ingested or synced again"
    )


def _read_checked(
    files: Sequence[Path],
    table_schema: pa.Schema,
    kind: str,
    read: Callable[[], pa.Table],
) -> pa.Table:
    """``read()`` of ``files``; a failure, or a null in a required column (the mark of a file
    without that column: a foreign one), becomes a ``StoreError`` naming the damaged file."""
    try:
        table = read()
    except (pa.ArrowException, OSError) as exc:
        error = _diagnose(files, table_schema, kind, exc)
        assert error is not None
        raise error from exc
    required = [f.name for f in table_schema if not f.nullable and f.name in table.column_names]
    if any(table.column(name).null_count for name in required):
        error = _diagnose(files, table_schema, kind, None)
        if error is not None:
            raise error
    return table


def _first_row_group(path: Path, columns: list[str]) -> pa.Table:
    return pq.ParquetFile(path).read_row_group(0, columns)


def _read_keys(files: Sequence[Path], column: str, table_schema: pa.Schema, kind: str) -> pa.Array:
    """The 16-byte keys stored in ``files``."""
    if not files:
        return pa.array([], pa.binary(16))
    # The footers of the files a write is checked against (a millisecond each): a foreign or
    # mistyped file is named before anything is added beside it.
    for path in files:
        problem = _file_problem(path, table_schema, deep=False)
        if problem is not None:
            raise _damaged_file(path, problem, kind)
    key_schema = pa.schema([table_schema.field(column)])
    keys = _read_checked(
        files,
        table_schema,
        kind,
        lambda: ds.dataset([str(f) for f in files], format="parquet", schema=key_schema).to_table(),
    )
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
            (self.rejected_dir, lambda p: p.is_file() and _is_data_file_name(p.name)),
            (self.tables_dir, lambda p: p.is_file() and p.name in table_files),
        ]
        folders += [
            (partition, lambda p: p.is_file() and _is_data_file_name(p.name))
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
    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Hold the read lock: a shared ``flock`` on the ``events`` folder, while listing and
        reading. A merge deletes the files it replaced only while nobody holds it
        (``_without_readers``), so nothing a reader listed disappears before it is read."""
        try:
            descriptor = os.open(self.events_dir, os.O_RDONLY)
        except OSError:
            yield  # no events folder: nothing a merge could remove
            return
        try:
            # Blocks only while a writer deletes the files of a merge (milliseconds): writers
            # never wait for anything while they hold it exclusively.
            with contextlib.suppress(OSError):  # no locks on this file system: read unlocked
                fcntl.flock(descriptor, fcntl.LOCK_SH)
            yield
        finally:
            os.close(descriptor)

    @contextlib.contextmanager
    def _without_readers(self) -> Iterator[bool]:
        """Whether no reader holds the read lock; if so, none starts until the block ends.

        Never waits: a writer that finds readers leaves its deletions to the next writer.
        """
        try:
            descriptor = os.open(self.events_dir, os.O_RDONLY)
        except OSError:
            yield True
            return
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                free = True
            except BlockingIOError:
                free = False
            except OSError:
                free = True  # no locks on this file system: readers do not lock either
            yield free
        finally:
            os.close(descriptor)

    def _repair_if_idle(self) -> None:
        """Do a writer's housekeeping now if it is due and no writer is at work.

        Finishes a merge a crash or a reader left (readers skip the replaced files already;
        this clears them for other Parquet readers), mends a damaged journal, moves the
        timeless events to their new folder, and gives an empty store its typed empty file.
        """
        if not self._housekeeping_due():
            return
        try:
            with open(self.root / ".lock", "a+b") as lock_file:
                try:
                    fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return  # a writer is at work; it does the same itself
                try:
                    self._housekeeping()
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)
        except OSError:
            return  # a read-only store: readers still skip the replaced files

    def _housekeeping_due(self) -> bool:
        if not self.meta_path.exists():
            return False
        if not self.events_dir.is_dir():
            return True  # no typed empty file yet
        if next(self.events_dir.glob(f"date=*/{_JOURNAL}"), None) is not None:
            return True
        legacy = self.events_dir / f"date={LEGACY_NO_DATE_PARTITION}"
        if legacy.is_dir() and not (self.events_dir / f"date={NO_DATE_PARTITION}").exists():
            return True
        return next(self.events_dir.glob("date=*"), None) is None

    def _housekeeping(self) -> None:
        """What every writer does first, under the writer lock (see ``_repair_if_idle``)."""
        self._finish_interrupted_compactions()
        self._move_timeless_partition()
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
            version = self._key_version()
            meta.update(
                schema_version=version,
                event_key_algorithm=EVENT_KEY_ALGORITHM
                if version == schema.STORE_SCHEMA_VERSION
                else EVENT_KEY_ALGORITHM_V1,
                rebuilt=meta.pop("created"),
            )
        _write_text_atomically(json.dumps(meta, indent=2) + "\n", self.meta_path)

    def _key_version(self) -> int:
        """The schema version whose key algorithm computed the stored event keys."""
        for directory in self._partitions():
            files = _visible_parquet_files(directory)
            if not files:
                continue
            first = files[0]
            sample = _read_checked(
                [first],
                schema.EVENTS,
                "events",
                functools.partial(_first_row_group, first, ["event_key", "raw_message"]),
            ).slice(0, 64)
            if sample.num_rows == 0:
                continue
            stored = sample.column("event_key").cast(pa.binary(16)).to_pylist()
            if stored == event_keys(sample.column("raw_message")).to_pylist():
                return schema.STORE_SCHEMA_VERSION
            if stored == md5_keys(sample.column("raw_message")).to_pylist():  # schema 1
                return 1
            raise StoreError(
                f"{first} holds event keys of no known algorithm, so {self.meta_path} cannot "
                "be rebuilt: move that file out of the store and ingest or sync its data again"
            )
        return schema.STORE_SCHEMA_VERSION

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the store's writer lock (one writer at a time; readers never wait)."""
        self._ensure_created()
        lock_path = self.root / ".lock"
        try:
            lock_file = open(lock_path, "a+b")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise StoreError(
                f"{lock_path} cannot be opened as the store's lock file ({exc.strerror}): it "
                f"holds no data; remove it (rm -r '{lock_path}') and run the command again"
            ) from exc
        with lock_file:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
            except OSError as exc:
                raise StoreError(
                    f"{lock_path} cannot be locked ({exc.strerror}): it holds no data; remove "
                    f"it (rm -r '{lock_path}') and run the command again"
                ) from exc
            try:
                self._partitions()  # a folder that is no partition: named before any write
                self._finish_interrupted_compactions()
                self._move_timeless_partition()
                self._sweep_leftover_temporaries()
                self._upgrade()
                yield
                self._write_empty_file_if_no_partition()
            finally:
                # Even after a failed write: what landed before it is new to readers.
                _bump_version(self.root)
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
        for directory in self._partitions():
            self._compact_partition(directory, rekey=True)
        meta = self._meta() or {}
        meta.update(
            schema_version=schema.STORE_SCHEMA_VERSION,
            event_key_algorithm=EVENT_KEY_ALGORITHM,
            upgraded_from=version,
            upgraded=dt.datetime.now(dt.UTC).isoformat(),
        )
        _write_text_atomically(json.dumps(meta, indent=2) + "\n", self.meta_path)
        self._current = True

    def _sweep_leftover_temporaries(self) -> None:
        """Delete hidden temporary files a killed writer left (once per Store, under the lock)."""
        if self._swept:
            return
        self._swept = True
        for pattern in ("events/date=*/.tmp-*", "rejected/.tmp-*", "tables/.tmp-*", ".tmp-*"):
            for leftover in self.root.glob(pattern):
                leftover.unlink(missing_ok=True)

    def _move_timeless_partition(self) -> None:
        """Rename the timeless folder of earlier versions to ``date=unknown`` (one atomic
        rename, while no reader is listing), so that pyarrow and pandas can read the store."""
        legacy = self.events_dir / f"date={LEGACY_NO_DATE_PARTITION}"
        target = self.events_dir / f"date={NO_DATE_PARTITION}"
        if not legacy.is_dir() or target.exists():
            return
        with self._without_readers() as free:
            if free:
                with contextlib.suppress(OSError):  # left for the next writer
                    os.rename(legacy, target)

    def _write_empty_file_if_no_partition(self) -> None:
        """Give a store without events one typed, empty events file.

        Parquet readers infer a hive partition's type from folder names and the columns from
        the files: with no file at all, pyarrow, pandas and DuckDB fail on ``events/`` or
        return no columns.
        """
        if next(self.events_dir.glob("date=*"), None) is not None:
            return
        directory = self.events_dir / f"date={NO_DATE_PARTITION}"
        _write_parquet_atomically(
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
        first_index = _first_occurrences(_keys_as_numpy(events.column("event_key")))
        if first_index is not None:
            events = events.take(pa.array(first_index))
        with self.writing():
            new = 0
            for day, part in _by_day(events):
                new += self._add_to_partition(day, part)
        return AddResult(new=new, duplicates=received - new)

    def _add_to_partition(self, day: str | None, events: pa.Table) -> int:
        directory = self.events_dir / _partition_name(day) if day else self._timeless_partition()
        stored = _read_keys(_visible_parquet_files(directory), "event_key", schema.EVENTS, "events")
        if len(stored):
            fresh = ~_stored(events.column("event_key"), stored)
            if not fresh.all():
                events = events.filter(pa.array(fresh))
        if events.num_rows == 0:
            return 0
        _write_parquet_atomically(events, directory / f"part-{uuid.uuid4().hex}.parquet")
        # An event stored twice (a journal lost by hand after a crash): merging keeps it once.
        twice = _first_occurrences(_keys_as_numpy(stored)) is not None
        self._compact_partition(directory, force=twice)
        return events.num_rows

    def _compact_partition(
        self, directory: Path, *, rekey: bool = False, force: bool = False, mend: bool = False
    ) -> None:
        """Merge a partition's files into one once there are too many (or to ``rekey`` it:
        recompute every ``event_key`` from ``raw_message`` with the current algorithm; or when
        ``force``\\ d; or to ``mend`` a damaged journal: every file, replaced ones included).

        The journal gets an entry naming the merged file and the files it replaces before the
        merged file is written; the replaced files are deleted when no reader holds the read
        lock, now or by a later writer (``_finish_merges``). Until then our readers skip them.
        """
        files = _data_files(directory) if mend else _visible_parquet_files(directory)
        if not files or not (len(files) > COMPACT_AFTER_FILES or rekey or force or mend):
            return
        merge = _Merge(f"part-{uuid.uuid4().hex}.parquet", tuple(f.name for f in files))
        journal = directory / _JOURNAL
        if not mend:
            _write_text_atomically(_journal_text([*_pending_merges(directory), merge]), journal)
        paths = [str(f) for f in files]
        table = _read_checked(
            files,
            schema.EVENTS,
            "events",
            lambda: ds.dataset(paths, format="parquet", schema=schema.EVENTS).to_table(),
        ).sort_by([("event_time", "ascending")])
        if rekey:
            keys = event_keys(table.column("raw_message"))
            table = table.set_column(0, schema.EVENTS.field("event_key"), keys)
        # One row per key, the first kept: a writer of an older version that kept writing MD5
        # keys while this store was being re-keyed left copies that now share a key.
        first_index = _first_occurrences(_keys_as_numpy(table.column("event_key")))
        if first_index is not None:
            table = table.take(pa.array(first_index))
        _write_parquet_atomically(table, directory / merge.merged)
        if mend:
            # Only now: with the merged file in, the new journal hides every other file.
            _write_text_atomically(_journal_text([merge]), journal)
        self._finish_merges(directory)

    def _finish_merges(self, directory: Path) -> None:
        """Delete what the journal's merges replaced, if no reader holds the read lock.

        A merge whose merged file never landed (a crash before its rename) hid nothing and is
        dropped. The others are done oldest first: a later merge may have replaced an earlier
        one's merged file, which must outlive the earlier merge's replaced files.
        """
        merges = _pending_merges(directory)
        if not merges:
            return
        journal = directory / _JOURNAL
        present = {f.name for f in _data_files(directory)}
        landed = [merge for merge in merges if merge.merged in present]
        if len(landed) < len(merges):
            if landed:
                _write_text_atomically(_journal_text(landed), journal)
            else:
                journal.unlink(missing_ok=True)
                return
        with self._without_readers() as free:
            if not free:
                return  # our readers skip the replaced files; the next writer deletes them
            for merge in landed:
                for name in merge.replaced:
                    (directory / name).unlink(missing_ok=True)
            journal.unlink(missing_ok=True)

    def _finish_interrupted_compactions(self) -> None:
        """Finish every merge left pending (by a crash or by readers); mend damaged journals."""
        if not self.events_dir.is_dir():
            return
        for journal in sorted(self.events_dir.glob(f"date=*/{_JOURNAL}")):
            try:
                _pending_merges(journal.parent)
            except StoreError:
                # Which files it hid is unknown: merge them all, each event kept once.
                self._compact_partition(journal.parent, mend=True)
            else:
                self._finish_merges(journal.parent)

    @contextlib.contextmanager
    def visible_files(self) -> Iterator[list[Path]]:
        """Every data file a reader of the store sees now (events, rejected lines, tables),
        held for the block: no file listed is deleted before the block ends (the read lock of
        ``_snapshot``). A table may be replaced by a rename meanwhile: open it once and use what
        that one descriptor reads. Used by ``publish`` to mirror the store.
        """
        with self._snapshot():
            files = self._event_files() + _visible_parquet_files(self.rejected_dir)
            files += [
                path
                for name in schema.TABLES
                if (path := self.tables_dir / f"{name}.parquet").is_file()
            ]
            yield files

    def _event_files(self) -> list[Path]:
        return [f for directory in self._partitions() for f in _visible_parquet_files(directory)]

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
        with self._snapshot():
            for file in self._event_files():
                try:
                    if pq.read_metadata(file).num_rows:
                        return True
                except (pa.ArrowException, OSError) as exc:
                    error = _diagnose([file], schema.EVENTS, "events", exc)
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
        writers add and merge files meanwhile (``_snapshot``).

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
        with self._snapshot():
            files = self._event_files()
            if not files:
                empty = (
                    _text_as_dictionary(schema.EVENTS)[0] if text_as_dictionary else schema.EVENTS
                )
                return empty.empty_table().select(wanted)
            dataset = self._events_dataset(files, text_as_dictionary=text_as_dictionary)
            return _read_checked(
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
            first_index = _first_occurrences(_keys_as_numpy(rejected.column("reject_key")))
            keep = np.ones(rejected.num_rows, dtype=bool)
            if first_index is not None:
                keep[:] = False
                keep[first_index] = True
            stored = _read_keys(
                _visible_parquet_files(self.rejected_dir), "reject_key", schema.REJECTED, "rejected"
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

        files = _visible_parquet_files(self.rejected_dir)
        if not files:
            return schema.REJECTED.empty_table()
        paths = [str(f) for f in files]
        return _read_checked(
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
            _write_parquet_atomically(table, self.tables_dir / f"{name}.parquet")

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
            _write_parquet_atomically(merged, self.tables_dir / f"{name}.parquet")
        return merged.num_rows - before

    def read_table(self, name: str) -> pa.Table:
        """Table ``name`` as stored, or an empty table of its schema."""
        table_schema, _ = schema.table_spec(name)
        path = self.tables_dir / f"{name}.parquet"
        if not path.exists():
            return table_schema.empty_table()
        if not path.is_file():
            raise _damaged_file(path, "not a file", "tables")
        return _read_checked(
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
