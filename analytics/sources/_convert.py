"""Small conversions shared by the transforms: times, integers, table building."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa


def as_utc(value: Any) -> dt.datetime | None:
    """A timezone-aware UTC time from a boto3 ``datetime``, an ISO-8601 string or epoch seconds.

    Naive datetimes and ISO strings without an offset are taken as UTC (botocore always returns
    aware times; recordings may not). None and ``""`` give None.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, int | float):
        moment = dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def as_int(value: Any) -> int | None:
    """An integer from an int or a numeric string (SQS attributes are strings); else None."""
    if value is None or value == "":
        return None
    return int(value)


def epoch_ms(moment: dt.datetime) -> int:
    """Milliseconds since the epoch of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError(f"expected a timezone-aware time, got {moment!r}")
    return int(moment.timestamp() * 1000)


def table_from_rows(rows: Sequence[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """A table of ``schema`` from row dicts (missing keys become nulls)."""
    columns = {name: [row.get(name) for row in rows] for name in schema.names}
    return pa.Table.from_pydict(columns, schema=schema)
