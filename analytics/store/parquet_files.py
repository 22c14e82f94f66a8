"""How one store file is written and read: written through a hidden temporary file and a rename,
so a crash leaves readable files only; read checked, so that a damaged or foreign file is named
with its repair (a ``StoreError`` in one line) and nothing is deleted or moved on a guess.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from analytics.errors import StoreError
from analytics.store import schema

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


def write_parquet_atomically(table: pa.Table, path: Path) -> None:
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


def write_text_atomically(text: str, path: Path) -> None:
    temporary = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc}") from exc
    finally:
        temporary.unlink(missing_ok=True)


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


def file_problem(path: Path, table_schema: pa.Schema, *, deep: bool = True) -> str | None:
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


def damaged_file(path: Path, problem: str, kind: str) -> StoreError:
    return StoreError(
        f"{path} is damaged ({problem}): move it out of the store (e.g. mv '{path}' /tmp/) and "
        f"{_REFILL[kind]}; nothing else is lost"
    )


def diagnose(
    files: Sequence[Path], table_schema: pa.Schema, kind: str, exc: Exception | None
) -> StoreError | None:
    """The error naming the first damaged file of ``files``; for ``exc`` (a read failure) a
    general one when no single file is to blame, for None (a suspicious read) None."""
    for path in files:
        problem = file_problem(path, table_schema)
        if problem is not None:
            return damaged_file(path, problem, kind)
    if exc is None:
        return None
    where = files[0].parent if files else "the store"
    return StoreError(
        f"cannot read {where}: {str(exc).splitlines()[0]}; a damaged file can be moved out of "
        f"the store and its data ingested or synced again"
    )


def read_checked(
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
        error = diagnose(files, table_schema, kind, exc)
        assert error is not None
        raise error from exc
    required = [f.name for f in table_schema if not f.nullable and f.name in table.column_names]
    if any(table.column(name).null_count for name in required):
        error = diagnose(files, table_schema, kind, None)
        if error is not None:
            raise error
    return table
