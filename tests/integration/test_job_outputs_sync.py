"""Job outputs synced from S3 (moto over real HTTP): incremental, read-only, interrupt-safe."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pytest

from analytics.ingest.run import ingest_paths
from analytics.store.store import Store
from analytics.sync import PART_LOGS, PART_RESPONSES, SyncReport
from tests.aws_emulator import Emulator, Faults
from tests.aws_emulator.fixtures import TEST_ENVIRONMENT, run_sync, use_test_credentials
from tests.aws_emulator.seed import job_folder_objects, seed_log_records, seed_s3_objects
from tests.support.job_outputs import (
    make_answer,
    response_file,
    response_path,
    small_job,
    write_job_folder,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
BUCKET = "gt-outputs-123456789012"
PREFIX = "runs/october/"
JOBS = ("cats-2026", "dogs-2026")
SINCE = dt.datetime(2026, 10, 26, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 10, 28, tzinfo=dt.UTC)


def job_description(name: str, output_path: str) -> dict[str, object]:
    """A DescribeLabelingJob answer: what the sync needs of a job."""
    return {
        "LabelingJobName": name,
        "LabelingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:labeling-job/{name}",
        "LabelingJobStatus": "Completed",
        "CreationTime": "2026-10-26T08:00:00+00:00",
        "LastModifiedTime": "2026-10-27T18:00:00+00:00",
        "OutputConfig": {"S3OutputPath": output_path},
        "HumanTaskConfig": {"NumberOfHumanWorkersPerDataObject": 3},
    }


@pytest.fixture
def account(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Emulator:
    """Two labeling jobs whose output folders are in S3, an empty activity log."""
    use_test_credentials(monkeypatch)
    emulator.reset()
    seed_log_records([])
    for job in JOBS:
        folder = write_job_folder(tmp_path / "outputs", job, small_job(job))
        seed_s3_objects(BUCKET, job_folder_objects(folder, PREFIX))
        emulator.sagemaker.add_labeling_job(job_description(job, f"s3://{BUCKET}/{PREFIX}"))
    emulator.calls.clear()
    return emulator


def sync_into(emulator: Emulator, root: Path, answer_timeout_seconds: float = 30.0) -> SyncReport:
    return run_sync(
        emulator, root, since=SINCE, now=NOW, answer_timeout_seconds=answer_timeout_seconds
    )


def snapshot(store: Store) -> dict[str, pa.Table]:
    """The job-output tables, in a fixed order, and the rejected items' keys."""
    tables = {
        name: store.read_table(name).sort_by(
            [(c, "ascending") for c in ("labeling_job_name", "object_index", "source")]
        )
        for name in ("responses", "consolidated")
    }
    rejected = store.load_rejected()
    tables["rejected"] = rejected.select(["reject_key", "reason"]).sort_by("reject_key")
    return tables


def test_sync_reads_every_job_s_responses_and_labels(account: Emulator, tmp_path: Path) -> None:
    report = sync_into(account, tmp_path / "store")

    part = report.part(PART_RESPONSES)
    assert part.ok, report.summary_text()
    assert part.warnings == []
    store = Store(tmp_path / "store")
    responses = store.read_table("responses")
    assert responses.num_rows == 12
    assert sorted(set(responses.column("labeling_job_name").to_pylist())) == list(JOBS)
    sources = responses.column("source").to_pylist()
    assert all(s.startswith(f"s3://{BUCKET}/{PREFIX}") for s in sources)
    assert store.read_table("consolidated").num_rows == 6
    assert "8 new objects of 8 in 2 job output folders: 12 new responses" in part.detail
    # Read-only: only listings and reads.
    s3_actions = {a for a in account.actions() if a.startswith("s3:")}
    assert s3_actions == {"s3:ListObjectsV2", "s3:GetObject"}  # s3:ListBucket, s3:GetObject


def test_a_second_sync_reads_only_objects_it_has_not_read(
    account: Emulator, tmp_path: Path
) -> None:
    sync_into(account, tmp_path / "store")
    before = snapshot(Store(tmp_path / "store"))
    account.calls.clear()

    unchanged = sync_into(account, tmp_path / "store")
    assert account.count("s3:GetObject") == 0
    assert snapshot(Store(tmp_path / "store")) == before
    assert unchanged.part(PART_RESPONSES).detail.startswith("0 new objects of 8")

    late = make_answer("d", submissionTime="2026-10-27T12:00:00Z")
    key = f"{PREFIX}{JOBS[0]}/{response_path(2, name='late.json')}"
    seed_s3_objects(BUCKET, {key: response_file(late)})
    account.calls.clear()
    sync_into(account, tmp_path / "store")

    assert account.count("s3:GetObject") == 1
    assert Store(tmp_path / "store").read_table("responses").num_rows == 13


def test_files_read_from_disk_and_then_from_s3_are_stored_once(
    account: Emulator, tmp_path: Path
) -> None:
    store = Store(tmp_path / "store")
    ingest_paths(store, [tmp_path / "outputs"])
    from_disk = snapshot(store)

    sync_into(account, tmp_path / "store")

    assert snapshot(store)["responses"].equals(from_disk["responses"])
    assert snapshot(store)["consolidated"].equals(from_disk["consolidated"])


def test_a_rejected_object_is_kept_once_with_its_uri(account: Emulator, tmp_path: Path) -> None:
    key = f"{PREFIX}{JOBS[1]}/{response_path(9)}"
    seed_s3_objects(BUCKET, {key: b'{"answers": [{"workerId": '})

    sync_into(account, tmp_path / "store")
    sync_into(account, tmp_path / "store")

    (rejected,) = Store(tmp_path / "store").load_rejected().to_pylist()
    assert (rejected["source"], rejected["reason"]) == (f"s3://{BUCKET}/{key}", "truncated_json")


@pytest.mark.parametrize("action", ["s3:ListBucket", "s3:GetObject"])
def test_a_bucket_that_is_not_readable_is_a_named_warning(
    account: Emulator, tmp_path: Path, action: str
) -> None:
    account.set_faults(Faults(denied_actions={action}))

    report = sync_into(account, tmp_path / "store")

    part = report.part(PART_RESPONSES)
    assert len(part.warnings) == len(JOBS), part.warnings
    for job, warning in zip(JOBS, part.warnings, strict=True):
        assert warning.startswith(f"job {job}: outputs")
        assert f"grant the IAM action {action}" in warning
    assert report.part(PART_LOGS).ok
    assert report.exit_code == 0
    assert Store(tmp_path / "store").read_table("responses").num_rows == 0


def test_a_job_without_its_bucket_warns_and_the_others_are_read(
    account: Emulator, tmp_path: Path
) -> None:
    account.sagemaker.add_labeling_job(job_description("gone-2026", "s3://no-such-bucket-x/out/"))

    report = sync_into(account, tmp_path / "store")

    (warning,) = report.part(PART_RESPONSES).warnings
    assert warning.startswith("job gone-2026: outputs not read:")
    assert "does not exist" in warning
    assert Store(tmp_path / "store").read_table("responses").num_rows == 12


KILL_SCRIPT = textwrap.dedent(
    """
    import datetime as dt, os, signal, sys
    import analytics.responses.s3 as responses_s3
    from analytics.store.store import Store
    from analytics.sync import SyncOptions, sync_from_aws

    endpoint, data = sys.argv[1], sys.argv[2]
    responses_s3.OBJECTS_PER_BATCH = 3

    def progress(done, total, label):
        if label.startswith("worker responses") and done == 3:
            os.kill(os.getpid(), signal.SIGKILL)  # kill -9 after the first batch

    options = SyncOptions(
        region="us-east-1", endpoint_url=endpoint, since=dt.datetime(2026, 10, 26, tzinfo=dt.UTC)
    )
    now = dt.datetime(2026, 10, 28, tzinfo=dt.UTC)
    sync_from_aws(Store(data), options, progress=progress, now=now)
    """
)


def test_a_sync_killed_mid_way_and_rerun_gives_the_same_store(
    account: Emulator, tmp_path: Path
) -> None:
    sync_into(account, tmp_path / "uninterrupted")
    environment = {**os.environ, **TEST_ENVIRONMENT, "PYTHONPATH": str(REPO_ROOT)}
    killed = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, account.endpoint_url, str(tmp_path / "rerun")],
        env=environment,
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    partial = Store(tmp_path / "rerun").read_table("responses").num_rows
    assert 0 < partial < 12  # really stopped part-way

    sync_into(account, tmp_path / "rerun")

    assert snapshot(Store(tmp_path / "rerun")) == snapshot(Store(tmp_path / "uninterrupted"))


def test_a_network_lost_mid_sync_then_rerun_gives_the_same_store(
    account: Emulator, tmp_path: Path
) -> None:
    sync_into(account, tmp_path / "clean")
    clean_calls = len(account.calls)
    account.calls.clear()
    account.set_faults(Faults(requests_before_outage=clean_calls - 4))

    cut = sync_into(account, tmp_path / "faulty", answer_timeout_seconds=2.0)
    assert not cut.part(PART_RESPONSES).ok or cut.part(PART_RESPONSES).warnings
    account.set_faults(Faults())
    sync_into(account, tmp_path / "faulty")

    assert snapshot(Store(tmp_path / "faulty")) == snapshot(Store(tmp_path / "clean"))
