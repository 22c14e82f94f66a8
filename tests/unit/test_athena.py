"""``athena-ddl``: the statements' columns and types against the store's schema, the quoted and
projected ``date``, the timeless events' table, one-line errors."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest

from analytics.athena import FIRST_PROJECTED_DAY, athena_ddl, athena_type
from analytics.cli.athena_ddl import DEFAULT_DATABASE
from analytics.errors import UsageError
from analytics.store import schema
from tests.support.athena_ddl import EXPECTED_TYPES, LOCATION, tables


@pytest.mark.parametrize(
    ("arrow_type", "expected"), list(EXPECTED_TYPES.items()), ids=[str(t) for t in EXPECTED_TYPES]
)
def test_each_arrow_type_maps_to_its_athena_type(arrow_type: pa.DataType, expected: str) -> None:
    assert athena_type(arrow_type) == expected


def test_a_type_without_a_mapping_is_named() -> None:
    with pytest.raises(ValueError, match=r"no Athena type for list<item: string>"):
        athena_type(pa.list_(pa.string()))


def every_schema() -> dict[str, pa.Schema]:
    named = {"events": schema.EVENTS, "events_without_time": schema.EVENTS}
    named["rejected"] = schema.REJECTED
    named.update({name: table_schema for name, (table_schema, _) in schema.TABLES.items()})
    return named


def test_every_table_has_every_column_of_its_schema_once_with_its_type() -> None:
    found = tables()
    assert set(found) == set(every_schema())
    for name, table_schema in every_schema().items():
        expected = [(f.name, EXPECTED_TYPES[f.type]) for f in table_schema]
        assert found[name].columns == expected, name


def test_events_are_partitioned_by_a_quoted_date_found_by_projection() -> None:
    events = tables()["events"]
    assert events.partitioned_by == "`date` string"
    assert events.location == f"{LOCATION}/events/"
    assert events.properties == {
        "projection.enabled": "true",
        "projection.date.type": "date",
        "projection.date.format": "yyyy-MM-dd",
        "projection.date.range": f"{FIRST_PROJECTED_DAY},NOW",
        "projection.date.interval": "1",
        "projection.date.interval.unit": "DAYS",
        "storage.location.template": f"{LOCATION}/events/date=${{date}}/",
    }
    # The reserved word appears nowhere unquoted as an identifier (in names and values, yes).
    ddl = athena_ddl(LOCATION, DEFAULT_DATABASE)
    assert re.findall(r"(?<![`.$={'])\bdate\b(?![`=}.'])", ddl) == []


def test_timeless_events_are_a_table_of_their_own_and_the_rest_unpartitioned() -> None:
    found = tables()
    assert found["events_without_time"].location == f"{LOCATION}/events/date=unknown/"
    assert found["rejected"].location == f"{LOCATION}/rejected/"
    for name in schema.TABLES:
        assert found[name].location == f"{LOCATION}/tables/{name}/"
    assert [t.name for t in found.values() if t.partitioned_by] == ["events"]


def test_a_named_database_qualifies_every_table() -> None:
    ddl = athena_ddl("s3://gt-bucket", database="team_a")
    assert ddl.count("`team_a`.`") == len(every_schema())
    assert "LOCATION 's3://gt-bucket/events/'" in ddl


@pytest.mark.parametrize(
    ("location", "database", "needle"),
    [
        ("gt-bucket/x", DEFAULT_DATABASE, "--location gt-bucket/x is not an S3 URI"),
        ("s3://gt-bucket/it's", DEFAULT_DATABASE, "holds '"),
        ("s3://gt-bucket/a${date}", DEFAULT_DATABASE, "holds ${"),
        ("s3://gt-bucket/a\\b", DEFAULT_DATABASE, "holds \\"),
        ("s3://gt-bucket/x", "Team-A", "--database 'Team-A' is not an Athena database name"),
        ("s3://gt-bucket/x", "a`; DROP", "is not an Athena database name"),
        ("s3://gt-bucket/x", "", "is not an Athena database name"),
    ],
    ids=["no-scheme", "quote", "template", "backslash", "upper-hyphen", "injection", "empty"],
)
def test_a_bad_argument_is_refused_in_one_line(location: str, database: str, needle: str) -> None:
    with pytest.raises(UsageError) as raised:
        athena_ddl(location, database)
    assert needle in str(raised.value)
    assert "\n" not in str(raised.value)
