"""``athena-ddl``: the statements' columns and types against the store's schema, the partition
projection, and the locations against what ``publish`` writes (moto over real HTTP)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics import schema
from analytics.athena import DEFAULT_DATABASE, FIRST_PROJECTED_DAY, athena_ddl, athena_type
from analytics.aws import make_client, make_session
from analytics.errors import UsageError
from analytics.ingest import ingest_paths
from analytics.publish import PublishOptions, S3Location, publish
from analytics.store import Store
from tests.aws_emulator.fixtures import use_test_credentials
from tests.aws_emulator.seed import SAMPLE_REGION
from tests.aws_emulator.server import Emulator, running_emulator
from tests.conftest import message_line

LOCATION = "s3://gt-bucket/teams/store"

#: Each Arrow type of the store's schemas and the Athena type that reads it, written out here
#: (not computed) so that a changed mapping, or a column of a new type, fails a test.
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
    return {t.name: t for t in read_statements(athena_ddl(LOCATION))}


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
    ddl = athena_ddl(LOCATION)
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


# ----------------------------------------------------------------- against a published store
@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with running_emulator() as running:
        yield running


def test_each_location_holds_the_published_files_of_its_table_with_those_columns(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, store: Store, tmp_path: Path
) -> None:
    use_test_credentials(monkeypatch)
    emulator.reset()
    s3 = make_client("s3", make_session(region=SAMPLE_REGION), emulator.endpoint_url)
    s3.create_bucket(Bucket="gt-bucket")
    lines = [
        message_line(job_reference_code=f"r-{i}", task_submitted_time=f"{day}T10:00:00Z")
        for i, day in enumerate(["2019-08-12", "2019-08-13"])
    ]
    lines.append(message_line(task_submitted_time="", task_accepted_time="", event_timestamp=""))
    (tmp_path / "log.jsonl").write_text("\n".join([*lines, "{broken"]) + "\n")
    ingest_paths(store, [tmp_path / "log.jsonl"])
    store.replace_table(
        "jobs", pa.Table.from_pylist([{"labeling_job_name": "job-x"}], schema=schema.JOBS)
    )
    publish(
        store,
        S3Location("gt-bucket", "teams/store"),
        PublishOptions(region=SAMPLE_REGION, endpoint_url=emulator.endpoint_url),
    )
    keys = [c["Key"] for c in s3.list_objects_v2(Bucket="gt-bucket").get("Contents", [])]
    claimed: set[str] = set()
    for table in tables().values():
        prefix = table.location.removeprefix("s3://gt-bucket/")
        below = [k for k in keys if k.startswith(prefix)]
        if table.name == "events":
            template = table.properties["storage.location.template"]
            days = {k.removeprefix(prefix).split("/")[0] for k in below}
            projected = {d for d in days if _projected(d)}
            below = [k for k in below if k.removeprefix(prefix).split("/")[0] in projected]
            assert projected == {"date=2019-08-12", "date=2019-08-13"}
            assert template.replace("${date}", "2019-08-12").endswith("events/date=2019-08-12/")
        for key in below:
            data = s3.get_object(Bucket="gt-bucket", Key=key)["Body"].read()
            file_schema = pq.read_schema(pa.BufferReader(data))
            declared = dict(table.columns)
            for field in file_schema:
                assert declared[field.name] == EXPECTED_TYPES[field.type], (key, field)
        claimed.update(below)
    data_keys = {k for k in keys if k.endswith(".parquet")}
    assert claimed == data_keys  # every published file is in exactly the table it belongs to
    assert any("date=unknown" in k for k in claimed)


def _projected(folder: str) -> bool:
    """Whether projection of ``yyyy-MM-dd`` days from FIRST_PROJECTED_DAY yields ``folder``."""
    value = folder.removeprefix("date=")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return False
    return day.isoformat() == value and day >= dt.date.fromisoformat(FIRST_PROJECTED_DAY)
