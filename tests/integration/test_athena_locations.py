"""``athena-ddl`` against a published store (moto over real HTTP): every file ``publish`` writes
lies in exactly one table's location, with the columns and types that table declares."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics.athena import FIRST_PROJECTED_DAY
from analytics.aws import make_client, make_session
from analytics.ingest.run import ingest_paths
from analytics.publish import PublishOptions, publish_store
from analytics.s3_location import S3Location
from analytics.store import schema
from analytics.store.store import Store
from tests.aws_emulator.fixtures import use_test_credentials
from tests.aws_emulator.seed import SAMPLE_REGION
from tests.aws_emulator.server import Emulator
from tests.conftest import message_line
from tests.support.athena_ddl import EXPECTED_TYPES, tables


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
    publish_store(
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
