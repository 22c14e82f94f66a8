"""``gt-throughput publish`` and ``athena-ddl`` as a user runs them (a child process, bounded in
time): killed mid-publish then run again, refused actions, endpoints that misbehave, bad
arguments. Each failure is one line naming the argument or the object and what to do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from analytics.aws import make_client, make_session
from analytics.ingest.run import ingest_paths
from analytics.publish import MANIFEST_NAME, load_published, read_manifest
from analytics.s3_location import S3Location
from analytics.store.store import Store
from tests.aws_emulator.fixtures import use_test_credentials
from tests.aws_emulator.hostile import misbehaving_endpoint
from tests.aws_emulator.seed import SAMPLE_REGION
from tests.aws_emulator.server import Emulator, Faults
from tests.conftest import message_line
from tests.faults.support import assert_clean_error, assert_no_traceback, run_cli

BUCKET = "gt-bucket"
LOCATION = S3Location(BUCKET, "store")


@pytest.fixture
def s3(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The emulator with one empty bucket; this process and the CLI use test credentials."""
    use_test_credentials(monkeypatch)
    emulator.reset()
    client(emulator).create_bucket(Bucket=BUCKET)
    return emulator


def client(emulator: Emulator) -> Any:
    return make_client("s3", make_session(region=SAMPLE_REGION), emulator.endpoint_url)


@pytest.fixture
def filled_store(tmp_path: Path) -> Store:
    """A store of 40 events over five days (five files), one rejected line."""
    lines = [
        message_line(
            job_reference_code=f"r-{i}",
            task_submitted_time=f"Mon Aug {12 + i % 5:02d} 11:{i:02d}:00 UTC 2019",
        )
        for i in range(40)
    ]
    source = tmp_path / "log.jsonl"
    source.write_text("\n".join([*lines, "{broken"]) + "\n")
    store = Store(tmp_path / "store")
    ingest_paths(store, [source])
    return store


def publish_args(emulator: Emulator | str, store: Store, *extra: str) -> list[str]:
    url = emulator if isinstance(emulator, str) else emulator.endpoint_url
    return ["publish", "--data", str(store.root), "--to", str(LOCATION), "--endpoint-url", url,
            "--region", SAMPLE_REGION, *extra]  # fmt: skip


def published_keys(emulator: Emulator) -> Counter[bytes]:
    _, events = load_published(client(emulator), LOCATION, "events")
    return Counter(events.column("event_key").to_pylist())


def local_keys(store: Store) -> Counter[bytes]:
    return Counter(store.load_events(columns=["event_key"]).column("event_key").to_pylist())


def test_a_publish_killed_mid_upload_is_completed_by_running_it_again(
    s3: Emulator, filled_store: Store
) -> None:
    s3.set_faults(Faults(action_delay_seconds={"s3:PutObject": 0.4}))
    child = subprocess.Popen(
        [sys.executable, "-m", "analytics.cli", *publish_args(s3, filled_store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    try:
        deadline = time.monotonic() + 60
        # The empty manifest claiming the prefix, then two uploads: killed in the middle.
        while s3.count("s3:PutObject") < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    manifest, _ = read_manifest(client(s3), LOCATION)
    assert manifest is not None
    assert manifest.files == ()  # nothing visible yet: the claim only
    s3.set_faults(Faults())

    completed = run_cli(*publish_args(s3, filled_store))

    assert_no_traceback(completed)
    assert completed.returncode == 0, completed.stderr
    assert "published generation 1" in completed.stdout
    assert published_keys(s3) == local_keys(filled_store)
    again = run_cli(*publish_args(s3, filled_store))
    assert "nothing new" in again.stdout
    assert " 0 uploaded" in again.stdout


def test_a_refused_upload_names_the_iam_action_and_a_rerun_completes(
    s3: Emulator, filled_store: Store
) -> None:
    s3.set_faults(Faults(denied_actions={"s3:PutObject"}))

    completed = run_cli(*publish_args(s3, filled_store))

    assert_clean_error(completed, "not allowed to write to", "s3:PutObject", str(LOCATION))
    s3.set_faults(Faults())
    assert run_cli(*publish_args(s3, filled_store)).returncode == 0
    assert published_keys(s3) == local_keys(filled_store)


@pytest.mark.parametrize("kind", ["refused", "silent", "html", "error500", "truncated"])
def test_an_endpoint_that_misbehaves_gives_one_line_in_bounded_time(
    s3: Emulator, filled_store: Store, kind: str
) -> None:
    with misbehaving_endpoint(kind) as url:
        started = time.monotonic()
        completed = run_cli(*publish_args(url, filled_store, "--aws-timeout", "2"), timeout=60)
    assert_clean_error(completed, url.removeprefix("http://"))
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    ("arguments", "needles"),
    [
        (["--to", "/local/folder"], ["--to /local/folder is not an S3 URI"]),
        (["--to", "s3://Bucket/x"], ["--to s3://Bucket/x", "not an S3 bucket name"]),
        (["--to", "s3://gt-bucket/a/../b"], ["'..' part"]),
        (["--to", "s3://no-such-bucket/x"], ["no-such-bucket", "does not exist"]),
    ],
    ids=["local-path", "upper-case-bucket", "dot-dot", "missing-bucket"],
)
def test_a_bad_destination_is_one_line(
    s3: Emulator, filled_store: Store, arguments: list[str], needles: list[str]
) -> None:
    args = publish_args(s3, filled_store)
    args[args.index("--to") : args.index("--to") + 2] = arguments
    assert_clean_error(run_cli(*args), *needles)


def test_a_folder_without_a_store_is_named(s3: Emulator, tmp_path: Path) -> None:
    completed = run_cli(*publish_args(s3, Store(tmp_path / "nothing")))
    assert_clean_error(completed, "--data", "holds no store")


def test_a_prefix_of_someone_elses_files_is_not_taken_over(
    s3: Emulator, filled_store: Store
) -> None:
    theirs = LOCATION.key("rejected/part-theirs.parquet")
    client(s3).put_object(Bucket=BUCKET, Key=theirs, Body=b"x")

    completed = run_cli(*publish_args(s3, filled_store))

    assert_clean_error(completed, "not published by gt-throughput", MANIFEST_NAME)


def test_athena_ddl_prints_the_statements_and_refuses_a_bad_database() -> None:
    completed = run_cli("athena-ddl", "--location", "s3://gt-bucket/store")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.count("CREATE EXTERNAL TABLE") >= 4
    assert "PARTITIONED BY (`date` string)" in completed.stdout
    bad = run_cli("athena-ddl", "--location", "s3://gt-bucket/store", "--database", "x; DROP")
    assert_clean_error(bad, "--database", "not an Athena database name")
    assert_clean_error(run_cli("athena-ddl", "--location", "gt-bucket"), "--location gt-bucket")
