"""Reading back the statements ``athena-ddl`` prints, and the Athena type each store type needs
(written out, not computed: a changed mapping or a column of a new type fails a test)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa

from analytics.athena import athena_ddl
from analytics.cli.athena_ddl import DEFAULT_DATABASE
from analytics.store import schema

LOCATION = "s3://gt-bucket/teams/store"

#: Each Arrow type of the store's schemas and the Athena type that reads it.
EXPECTED_TYPES = {
    pa.string(): "string",
    pa.binary(16): "binary",
    schema.UTC_MS: "timestamp",
    pa.int64(): "bigint",
    pa.int32(): "int",
    pa.float64(): "double",
    pa.bool_(): "boolean",
}


@dataclass(frozen=True)
class Table:
    """One ``CREATE EXTERNAL TABLE`` statement, read back."""

    name: str
    columns: list[tuple[str, str]]
    partitioned_by: str | None
    location: str
    properties: dict[str, str]


def read_statements(ddl: str) -> Iterator[Table]:
    """The tables of ``ddl`` (the form ``athena_ddl`` writes, read strictly)."""
    statements = ddl.strip().removesuffix(";").split(";\n\n")
    assert statements[0] == f"CREATE DATABASE IF NOT EXISTS `{DEFAULT_DATABASE}`"
    for statement in statements[1:]:
        head = re.match(r"CREATE EXTERNAL TABLE IF NOT EXISTS `(\w+)`\.`(\w+)` \(\n", statement)
        assert head is not None, statement
        body, _, rest = statement[head.end() :].partition("\n)\n")
        columns = []
        for line in body.split(",\n"):
            column = re.fullmatch(r"  `(\w+)` (\w+)", line)
            assert column is not None, line
            columns.append((column[1], column[2]))
        partition = re.search(r"^PARTITIONED BY \((.*)\)$", rest, re.MULTILINE)
        location = re.search(r"^LOCATION '([^']*)'$", rest, re.MULTILINE)
        assert location is not None
        properties = dict(re.findall(r"^  '([^']*)' = '([^']*)'", rest, re.MULTILINE))
        assert "STORED AS PARQUET" in rest
        yield Table(head[2], columns, partition[1] if partition else None, location[1], properties)


def tables() -> dict[str, Table]:
    return {t.name: t for t in read_statements(athena_ddl(LOCATION, DEFAULT_DATABASE))}
