"""``athena-ddl``: the ``CREATE EXTERNAL TABLE`` statements over a published store (issue 14).

Athena, Trino and QuickSight users query the Parquet files ``publish`` put in S3, in place. One
table per kind of file, its columns and types taken from ``analytics.schema`` (never listed
here a second time):

- ``events``: ``events/date=YYYY-MM-DD/``, partitioned by ``date`` (a string, as the folder names
  are), found by partition projection: no crawler, no ``MSCK REPAIR``, a new day is queryable as
  soon as it is published. ``date`` is a reserved word in Athena DDL, so every identifier is
  quoted with backticks here; in queries write ``"date"``. The folders keep their name
  (``date=``), so stores published before read as they are.
- ``events_without_time``: ``events/date=unknown/``, the events whose message has no usable time.
  A projection of type ``date`` cannot produce ``unknown`` (and an ``enum`` of every day, or an
  ``injected`` one that every query must name, would cost more than it gives), so they are a
  table of their own; ``events`` never shows them. Count both with ``UNION ALL``.
- ``rejected``: ``rejected/``, the lines that could not become events, with their reasons.
- one table per store table (``users``, ``jobs``...): ``tables/<name>/``.

Athena reads the files it lists under a location: see ``analytics.publish`` and
``docs/scale.md`` for what such a reader sees while a publish runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyarrow as pa

from analytics.errors import UsageError
from analytics.s3_location import S3Location, parse_s3_location
from analytics.store import schema
from analytics.store.schema import NO_DATE_PARTITION
from analytics.text import escape_controls

#: The first day projected: Ground Truth opened in November 2018, so no worker activity is older.
#: A query without a ``"date"`` condition looks at every day from here to today.
FIRST_PROJECTED_DAY = "2018-11-01"
#: The partition column of ``events`` (the folders' ``date=``), a reserved word in Athena DDL.
PARTITION_COLUMN = "date"
_DATABASE_NAME = re.compile(r"[a-z0-9_]{1,255}")
#: Characters of a location Athena DDL cannot hold literally: the string quote, the escape, and
#: ``${`` (the projection template's placeholders).
_UNQUOTABLE = ("'", "\\", "${", "`")


def athena_type(data_type: pa.DataType) -> str:
    """The Athena (Hive DDL) type that reads a Parquet column written from ``data_type``.

    Raises
    ------
    ValueError
        No mapping for ``data_type``: a column added to the schema needs one here.
    """
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type):
        return "string"
    if pa.types.is_fixed_size_binary(data_type) or pa.types.is_binary(data_type):
        return "binary"
    if pa.types.is_timestamp(data_type):
        return "timestamp"  # ``timestamp[ms, UTC]``: Parquet TIMESTAMP(MILLIS, UTC)
    if pa.types.is_boolean(data_type):
        return "boolean"
    if pa.types.is_float64(data_type):
        return "double"
    for test, name in (
        (pa.types.is_int64, "bigint"),
        (pa.types.is_int32, "int"),
        (pa.types.is_int16, "smallint"),
        (pa.types.is_int8, "tinyint"),
        (pa.types.is_float32, "float"),
    ):
        if test(data_type):
            return name
    raise ValueError(f"no Athena type for {data_type}: add one to analytics.athena.athena_type")


def _quoted(identifier: str) -> str:
    return f"`{identifier}`"


def _columns(table_schema: pa.Schema) -> str:
    return ",\n".join(f"  {_quoted(f.name)} {athena_type(f.type)}" for f in table_schema)


def _table(
    database: str,
    name: str,
    table_schema: pa.Schema,
    location: str,
    *,
    comment: str,
    partitioned_by: str = "",
    properties: dict[str, str] | None = None,
) -> str:
    lines = [
        f"CREATE EXTERNAL TABLE IF NOT EXISTS {_quoted(database)}.{_quoted(name)} (",
        _columns(table_schema),
        ")",
        f"COMMENT '{comment}'",
    ]
    if partitioned_by:
        lines.append(f"PARTITIONED BY ({partitioned_by})")
    lines += ["STORED AS PARQUET", f"LOCATION '{location}'"]
    if properties:
        entries = ",\n".join(f"  '{key}' = '{value}'" for key, value in properties.items())
        lines.append(f"TBLPROPERTIES (\n{entries}\n)")
    return "\n".join(lines) + ";"


def _statements(location: S3Location, database: str) -> Iterator[str]:
    yield f"CREATE DATABASE IF NOT EXISTS {_quoted(database)};"
    events = location.uri("events/")
    column = PARTITION_COLUMN
    yield _table(
        database,
        "events",
        schema.EVENTS,
        events,
        comment="Ground Truth worker activity events, by UTC day of event_time",
        partitioned_by=f"{_quoted(column)} string",
        properties={
            "projection.enabled": "true",
            f"projection.{column}.type": "date",
            f"projection.{column}.format": "yyyy-MM-dd",
            f"projection.{column}.range": f"{FIRST_PROJECTED_DAY},NOW",
            f"projection.{column}.interval": "1",
            f"projection.{column}.interval.unit": "DAYS",
            "storage.location.template": location.uri(f"events/{column}=${{{column}}}/"),
        },
    )
    yield _table(
        database,
        "events_without_time",
        schema.EVENTS,
        location.uri(f"events/{column}={NO_DATE_PARTITION}/"),
        comment="Events whose message has no usable time (the events table leaves them out)",
    )
    yield _table(
        database,
        "rejected",
        schema.REJECTED,
        location.uri("rejected/"),
        comment="Lines that could not become events, with the reason",
    )
    for name, (table_schema, _key) in schema.TABLES.items():
        yield _table(
            database,
            name,
            table_schema,
            location.uri(f"tables/{name}/"),
            comment=f"The {name} table synced from AWS",
        )


def athena_ddl(location: str, database: str) -> str:
    """The statements that create ``database`` and its tables over the store published at
    ``location`` (``--location s3://bucket/prefix``), separated by blank lines.

    Raises
    ------
    UsageError
        ``location`` or ``database`` cannot be used (the message names the argument and fix).
    """
    parsed = parse_s3_location(location, "--location")
    for bad in _UNQUOTABLE:
        if bad in parsed.prefix:
            raise UsageError(
                f"--location {escape_controls(location)}: the prefix holds {bad}, which Athena"
                " DDL cannot hold in a location; publish to a prefix without it"
            )
    if not _DATABASE_NAME.fullmatch(database):
        raise UsageError(
            f"--database {escape_controls(database)!r} is not an Athena database name: use"
            f" lowercase letters, digits and underscores, e.g. --database groundtruth_throughput"
        )
    return "\n\n".join(_statements(parsed, database)) + "\n"
