"""``publish``: the local store mirrored to S3 (moto over real HTTP), immutable files first, the
manifest last, replaced files deleted after; interrupted at each step and run again; read while it
runs."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import botocore.exceptions
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics.aws import make_client, make_session
from analytics.errors import AccessDeniedError, NotFoundError, StoreError, UsageError
from analytics.ingest.run import ingest_paths
from analytics.publish import (
    MANIFEST_NAME,
    PublishOptions,
    PublishReport,
    load_published,
    publish_store,
    read_manifest,
)
from analytics.s3_location import S3Location, parse_s3_location
from analytics.store import schema
from analytics.store.compaction import COMPACT_AFTER_FILES
from analytics.store.store import Store
from tests.aws_emulator.fixtures import use_test_credentials
from tests.aws_emulator.seed import SAMPLE_REGION
from tests.aws_emulator.server import Emulator, Faults
from tests.conftest import message_line

BUCKET = "gt-bucket"
LOCATION = S3Location(BUCKET, "teams/store")
#: A table of the store, as sync writes it (any table: they are all published alike).
USERS = pa.Table.from_pylist(
    [{"user_pool_id": "pool-1", "sub": f"sub-{i}", "username": f"user {i}"} for i in (1, 2)],
    schema=schema.USERS,
)


@pytest.fixture
def s3(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The emulator with one empty bucket, no faults and no recorded calls."""
    use_test_credentials(monkeypatch)
    emulator.reset()
    client(emulator).create_bucket(Bucket=BUCKET)
    emulator.calls.clear()
    return emulator


def client(emulator: Emulator) -> Any:
    """An S3 client built as in production (one per thread: a watch serves one thread)."""
    return make_client("s3", make_session(region=SAMPLE_REGION), emulator.endpoint_url)


def options(emulator: Emulator, timeout: float = 30.0) -> PublishOptions:
    return PublishOptions(
        region=SAMPLE_REGION, endpoint_url=emulator.endpoint_url, answer_timeout_seconds=timeout
    )


def run_publish(emulator: Emulator, store: Store, location: S3Location = LOCATION) -> PublishReport:
    return publish_store(store, location, options(emulator))


def add_events(store: Store, folder: Path, batch: str, count: int, days: int = 3) -> None:
    """Ingest ``count`` new messages over ``days`` days (one file per day partition)."""
    lines = [
        message_line(
            worker_id=f"{i % 7:016x}",
            task_submitted_time=f"Mon Aug {12 + i % days:02d} 11:{i % 60:02d}:00 UTC 2019",
            task_accepted_time=f"Mon Aug {12 + i % days:02d} 10:{i % 60:02d}:00 UTC 2019",
            job_reference_code=f"{batch}-{i}",
        )
        for i in range(count)
    ]
    path = folder / f"{batch}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([*lines, "not json at all"]) + "\n")
    ingest_paths(store, [path])


def local_state(store: Store) -> dict[str, Any]:
    """What a reader of the local store sees: event keys (with repeats), rejected, tables."""
    keys = store.load_events(columns=["event_key"]).column("event_key").to_pylist()
    return {
        "events": Counter(keys),
        "rejected": store.load_rejected().num_rows,
        "users": sorted(store.read_table("users").column("sub").to_pylist()),
    }


def _parquet(data: bytes) -> pa.Table:
    return pq.read_table(pa.BufferReader(data))


def published_state(reader: Any, location: S3Location = LOCATION) -> dict[str, Any]:
    """What a reader of the manifest sees; a named file gone means a newer manifest: read again."""
    for _ in range(20):
        manifest, _etag = read_manifest(reader, location)
        assert manifest is not None
        try:
            tables = {
                kind: [
                    _parquet(
                        reader.get_object(Bucket=location.bucket, Key=location.key(f.key))[
                            "Body"
                        ].read()
                    )
                    for f in manifest.files_of(kind)
                ]
                for kind in ("events", "rejected", "users")
            }
        except botocore.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] != "NoSuchKey":
                raise
            continue
        for kind in ("events", "rejected", "users"):
            assert [t.num_rows for t in tables[kind]] == [f.rows for f in manifest.files_of(kind)]
        return {
            "events": Counter(k for t in tables["events"] for k in t["event_key"].to_pylist()),
            "rejected": sum(t.num_rows for t in tables["rejected"]),
            "users": sorted(s for t in tables["users"] for s in t["sub"].to_pylist()),
        }
    raise AssertionError("the manifest changed 20 times during one read")


def listed_keys(reader: Any, location: S3Location = LOCATION) -> list[str]:
    """Every key below the prefix, relative to it, as a listing reader (Athena) finds them."""
    answer = reader.list_objects_v2(Bucket=location.bucket, Prefix=location.key(""))
    return sorted(c["Key"].removeprefix(location.key("")) for c in answer.get("Contents", []))


def listed_events(reader: Any, location: S3Location = LOCATION) -> Counter[bytes]:
    """The event keys a listing reader of ``events/`` reads (files may vanish: skipped)."""
    keys: Counter[bytes] = Counter()
    for key in listed_keys(reader, location):
        if key.startswith("events/"):
            try:
                body = reader.get_object(Bucket=location.bucket, Key=location.key(key))["Body"]
            except botocore.exceptions.ClientError:
                raise _Vanished from None
            keys.update(_parquet(body.read())["event_key"].to_pylist())
    return keys


class _Vanished(Exception):
    """A listed file was deleted before it was read (a listing reader's query fails)."""


def test_publish_mirrors_the_store_and_a_listing_matches_the_manifest(
    s3: Emulator, store: Store, tmp_path: Path
) -> None:
    add_events(store, tmp_path / "in", "a", 60)
    store.replace_table("users", USERS)

    report = run_publish(s3, store)

    reader = client(s3)
    assert published_state(reader) == local_state(store)
    manifest, _ = read_manifest(reader, LOCATION)
    assert manifest is not None
    assert manifest.generation == report.generation == 1
    assert manifest.store["schema_version"] == store.schema_version()
    assert listed_keys(reader) == sorted([MANIFEST_NAME, *(f.key for f in manifest.files)])
    assert len(manifest.files_of("events")) == 3  # one file per day
    assert report.uploaded == len(manifest.files) == 5  # 3 days, 1 rejected file, 1 table
    # A Parquet reader given the events folder (as Athena is) reads the same events.
    assert listed_events(reader) == local_state(store)["events"]


def test_a_second_publish_uploads_only_new_files_and_a_third_writes_nothing(
    s3: Emulator, store: Store, tmp_path: Path
) -> None:
    add_events(store, tmp_path / "in", "a", 60)
    store.replace_table("users", USERS)
    run_publish(s3, store)
    add_events(store, tmp_path / "in", "b", 10, days=1)  # one new event file, one rejected file
    s3.calls.clear()

    second = run_publish(s3, store)

    assert (second.uploaded, second.deleted, second.generation) == (2, 0, 2)
    assert s3.count("s3:PutObject") == 3  # the two files, then the manifest
    assert published_state(client(s3)) == local_state(store)
    s3.calls.clear()

    third = run_publish(s3, store)

    assert (third.uploaded, third.manifest_written, third.generation) == (0, False, 2)
    assert (s3.count("s3:PutObject"), s3.count("s3:DeleteObjects")) == (0, 0)


def compacting_change(store: Store, folder: Path) -> None:
    """New events in a new day, merges of one day's files, a table updated."""
    for batch in range(COMPACT_AFTER_FILES):
        add_events(store, folder, f"merge-{batch}", 3, days=1)
    add_events(store, folder, "new-day", 8, days=5)
    store.replace_table("users", pa.concat_tables([USERS, USERS.slice(0, 1)]).slice(1))


def test_replaced_files_are_deleted_only_after_the_manifest_names_their_replacement(
    s3: Emulator, store: Store, tmp_path: Path
) -> None:
    add_events(store, tmp_path / "in", "a", 30)
    store.replace_table("users", USERS)
    run_publish(s3, store)
    before = {f.key for f in read_manifest(client(s3), LOCATION)[0].files}  # type: ignore[union-attr]
    compacting_change(store, tmp_path / "in")
    s3.calls.clear()

    report = run_publish(s3, store)

    manifest, _ = read_manifest(client(s3), LOCATION)
    assert manifest is not None
    gone = before - {f.key for f in manifest.files}
    assert report.deleted == len(gone) >= 2  # the merged day's first file, the old users table
    actions = [action for action in s3.actions() if action != "s3:GetObject"]
    last_put = len(actions) - 1 - actions[::-1].index("s3:PutObject")
    assert actions[last_put + 1 :] == ["s3:DeleteObjects"]
    assert published_state(client(s3)) == local_state(store)
    assert listed_keys(client(s3)) == sorted([MANIFEST_NAME, *(f.key for f in manifest.files)])


#: IAM actions a publish needs whose name is not its operation's: the error must name the one
#: a policy can grant (there is no IAM action s3:DeleteObjects nor s3:ListObjectsV2).
REFUSED_IAM_ACTIONS = [
    pytest.param("s3:DeleteObject", "DeleteObjects", id="deletes"),
    pytest.param("s3:ListBucket", "ListObjectsV2", id="listing"),
]


@pytest.mark.parametrize(("iam_action", "operation"), REFUSED_IAM_ACTIONS)
def test_a_refused_call_names_the_iam_action_a_policy_grants(
    s3: Emulator, store: Store, tmp_path: Path, iam_action: str, operation: str
) -> None:
    add_events(store, tmp_path / "in", "a", 30)
    store.replace_table("users", USERS)
    run_publish(s3, store)
    compacting_change(store, tmp_path / "in")  # so that the publish deletes replaced files
    s3.set_faults(Faults(denied_actions={iam_action}))

    with pytest.raises(AccessDeniedError) as refused:
        run_publish(s3, store)

    assert (refused.value.operation, refused.value.action) == (operation, iam_action)
    assert f"grant the IAM action {iam_action} " in str(refused.value)


#: Where a publish is cut: which S3 action starts failing, after how many more of its calls
#: (``None``: after every upload, i.e. at the manifest).
INTERRUPTIONS = [
    pytest.param("s3:PutObject", 0, id="before-the-first-upload"),
    pytest.param("s3:PutObject", 2, id="after-two-uploads"),
    pytest.param("s3:PutObject", None, id="at-the-manifest"),
    pytest.param("s3:DeleteObjects", 0, id="at-the-deletes"),
    pytest.param("s3:ListObjectsV2", 0, id="at-the-listing"),
]


@pytest.mark.parametrize(("action", "allowed"), INTERRUPTIONS)
def test_an_interrupted_publish_leaves_a_readable_state_and_a_rerun_completes_it(
    s3: Emulator, store: Store, tmp_path: Path, action: str, allowed: int | None
) -> None:
    add_events(store, tmp_path / "in", "a", 30)
    store.replace_table("users", USERS)
    run_publish(s3, store)
    reader = client(s3)
    first = published_state(reader)
    compacting_change(store, tmp_path / "in")
    listed = set(listed_keys(reader))
    with store.visible_files() as paths:
        relative = [p.relative_to(store.root).as_posix() for p in paths]
    # Every new event and rejected file, and the users table (changed: a new content name).
    uploads = sum(1 for r in relative if r not in listed and not r.startswith("tables/")) + 1
    calls_so_far = s3.count(action)
    s3.set_faults(
        Faults(denied_after={action: calls_so_far + (uploads if allowed is None else allowed)})
    )

    with pytest.raises(AccessDeniedError, match=action):
        run_publish(s3, store)

    s3.set_faults(Faults())
    state = published_state(reader)
    assert state == (local_state(store) if action == "s3:DeleteObjects" else first)
    report = run_publish(s3, store)
    assert published_state(reader) == local_state(store)
    manifest, _ = read_manifest(reader, LOCATION)
    assert manifest is not None
    assert listed_keys(reader) == sorted([MANIFEST_NAME, *(f.key for f in manifest.files)])
    if allowed == 2:
        assert report.uploaded == uploads - 2  # what the first run uploaded is not sent again


def test_a_manifest_reader_during_a_publish_sees_the_old_or_the_new_store_whole(
    s3: Emulator, store: Store, tmp_path: Path
) -> None:
    add_events(store, tmp_path / "in", "a", 30)
    store.replace_table("users", USERS)
    run_publish(s3, store)
    reader = client(s3)
    old = published_state(reader)
    compacting_change(store, tmp_path / "in")
    new = local_state(store)
    seen: list[dict[str, Any]] = []
    listing_missed: list[bytes] = []
    stop = threading.Event()

    def read_repeatedly() -> None:
        own = client(s3)
        # Until the publish has ended and its result been read once.
        while not (stop.is_set() and seen and seen[-1] == new) and len(seen) < 500:
            seen.append(published_state(own))
            try:
                listed = listed_events(own)
            except _Vanished:
                continue
            listing_missed.extend(k for k in old["events"] if k not in listed)

    # Uploads slowed down (a publish of some seconds), reads not: many reads meanwhile.
    s3.set_faults(Faults(action_delay_seconds={"s3:PutObject": 0.15}))
    thread = threading.Thread(target=read_repeatedly)
    thread.start()
    try:
        run_publish(s3, store)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive()
    assert len(seen) >= 3
    assert all(state in (old, new) for state in seen), [
        (len(s["events"]), max(s["events"].values())) for s in seen
    ]
    assert seen[0] == old
    assert seen[-1] == new
    # A listing reader (Athena) may count a merged day twice for a moment (docs/scale.md), but
    # never misses an event that was published before.
    assert listing_missed == []


def test_a_listing_reader_of_an_append_only_publish_never_sees_an_event_twice(
    s3: Emulator, store: Store, tmp_path: Path
) -> None:
    add_events(store, tmp_path / "in", "a", 30)
    run_publish(s3, store)
    add_events(store, tmp_path / "in", "b", 30, days=5)
    doubled: list[int] = []
    stop = threading.Event()

    def list_repeatedly() -> None:
        own = client(s3)
        while not stop.is_set():
            counts = listed_events(own)
            doubled.extend(n for n in counts.values() if n > 1)

    s3.set_faults(Faults(action_delay_seconds={"s3:PutObject": 0.15}))
    thread = threading.Thread(target=list_repeatedly)
    thread.start()
    try:
        run_publish(s3, store)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert doubled == []
    assert listed_events(client(s3)) == local_state(store)["events"]


def _rename_one_event_file(store: Store, name: str) -> Path:
    first = sorted(store.events_dir.glob("date=*/*.parquet"))[0]
    return first.rename(first.with_name(name))


@pytest.mark.parametrize(
    "name",
    ["part a b#?%+.parquet", "part-é-日本.parquet", "part-'quoted\"'.parquet"],
    ids=["spaces-and-url-characters", "unicode", "quotes"],
)
def test_a_file_name_with_odd_characters_is_published_under_that_name(
    s3: Emulator, store: Store, tmp_path: Path, name: str
) -> None:
    add_events(store, tmp_path / "in", "a", 30)
    renamed = _rename_one_event_file(store, name)

    run_publish(s3, store)

    assert f"events/{renamed.parent.name}/{name}" in listed_keys(client(s3))
    assert published_state(client(s3)) == local_state(store)


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("part-\nline.parquet", "control characters"),
        ("part-\u202eevil.parquet", "control characters"),
        (b"part-\xff.parquet", "not UTF-8"),
    ],
    ids=["line-feed", "bidi-override", "not-utf8"],
)
def test_a_file_name_s3_tools_cannot_carry_is_refused_before_anything_is_written(
    s3: Emulator, store: Store, tmp_path: Path, name: str | bytes, needle: str
) -> None:
    add_events(store, tmp_path / "in", "a", 30)
    first = sorted(store.events_dir.glob("date=*/*.parquet"))[0]
    if isinstance(name, bytes):
        name = os.fsdecode(name)  # the name as Python sees it: with a surrogate escape
    first.rename(first.parent / name)
    s3.calls.clear()

    with pytest.raises(StoreError, match=needle) as raised:
        run_publish(s3, store)

    assert not {"\n", "\u202e"} & set(str(raised.value))
    assert "rename it" in str(raised.value)
    assert s3.count("s3:PutObject") <= 1  # the empty manifest claiming the prefix, no data


def test_a_prefix_holding_data_without_a_manifest_is_not_taken_over(
    s3: Emulator, store: Store, tmp_path: Path
) -> None:
    add_events(store, tmp_path / "in", "a", 10)
    foreign = LOCATION.key("events/date=2019-08-12/theirs.parquet")
    client(s3).put_object(Bucket=BUCKET, Key=foreign, Body=b"their data")

    with pytest.raises(UsageError, match="not published by gt-throughput"):
        run_publish(s3, store)

    assert listed_keys(client(s3)) == ["events/date=2019-08-12/theirs.parquet"]


def test_objects_not_of_this_tool_in_a_published_prefix_are_left_and_reported(
    s3: Emulator, store: Store, tmp_path: Path
) -> None:
    add_events(store, tmp_path / "in", "a", 10)
    run_publish(s3, store)
    client(s3).put_object(Bucket=BUCKET, Key=LOCATION.key("events/README.txt"), Body=b"hi")

    report = run_publish(s3, store)

    assert report.foreign == ("events/README.txt",)
    assert "events/README.txt" in listed_keys(client(s3))


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b'{"format": "something else"}',
        b'{"format": "groundtruth-throughput'
        b' published store", "format_version": 1, "generation": 1, "store": {}, "files":'
        b' [{"key": "../../etc/passwd", "size": 1, "rows": 1}]}',
    ],
    ids=["not-json", "not-ours", "key-outside-the-store"],
)
def test_a_damaged_manifest_is_named_to_readers_and_rewritten_by_the_next_publish(
    s3: Emulator, store: Store, tmp_path: Path, content: bytes
) -> None:
    add_events(store, tmp_path / "in", "a", 10)
    run_publish(s3, store)
    client(s3).put_object(Bucket=BUCKET, Key=LOCATION.key(MANIFEST_NAME), Body=content)

    with pytest.raises(StoreError, match=f"{MANIFEST_NAME} is damaged"):
        read_manifest(client(s3), LOCATION)
    run_publish(s3, store)

    assert published_state(client(s3)) == local_state(store)


def test_a_manifest_of_a_newer_format_is_refused_not_misread(s3: Emulator) -> None:
    document = {"format": "groundtruth-throughput published store", "format_version": 99}
    client(s3).put_object(
        Bucket=BUCKET, Key=LOCATION.key(MANIFEST_NAME), Body=json.dumps(document).encode()
    )
    with pytest.raises(StoreError, match="newer groundtruth-throughput"):
        read_manifest(client(s3), LOCATION)


def test_a_missing_bucket_is_named(s3: Emulator, store: Store, tmp_path: Path) -> None:
    add_events(store, tmp_path / "in", "a", 10)
    with pytest.raises(NotFoundError) as raised:
        run_publish(s3, store, S3Location("no-such-bucket", "x"))
    assert str(raised.value).startswith("the bucket no-such-bucket (s3://no-such-bucket/x) does")


def test_load_published_reads_a_kind_as_the_manifest_names_it(
    s3: Emulator, store: Store, tmp_path: Path
) -> None:
    add_events(store, tmp_path / "in", "a", 30)
    store.replace_table("users", USERS)
    run_publish(s3, store)

    manifest, events = load_published(client(s3), LOCATION, "events")
    _, users = load_published(client(s3), LOCATION, "users")
    _, jobs = load_published(client(s3), LOCATION, "jobs")

    assert Counter(events.column("event_key").to_pylist()) == local_state(store)["events"]
    assert users.to_pylist() == store.read_table("users").to_pylist()
    assert jobs.num_rows == 0
    assert jobs.schema == schema.JOBS
    assert manifest.generation == 1


def test_a_file_gone_from_under_the_manifest_is_named_and_the_next_publish_mends_it(
    s3: Emulator, store: Store, tmp_path: Path
) -> None:
    add_events(store, tmp_path / "in", "a", 30)
    run_publish(s3, store)
    manifest, _ = read_manifest(client(s3), LOCATION)
    assert manifest is not None
    lost = manifest.files_of("events")[0].key
    client(s3).delete_object(Bucket=BUCKET, Key=LOCATION.key(lost))

    with pytest.raises(StoreError, match="gone after 5 reads of the manifest") as raised:
        load_published(client(s3), LOCATION, "events")
    assert lost in str(raised.value)
    report = run_publish(s3, store)

    assert report.uploaded == 1
    _, events = load_published(client(s3), LOCATION, "events")
    assert Counter(events.column("event_key").to_pylist()) == local_state(store)["events"]


def test_a_manifest_written_by_another_publish_meanwhile_stops_this_one_cleanly(
    s3: Emulator, store: Store, tmp_path: Path
) -> None:
    add_events(store, tmp_path / "in", "a", 30)
    run_publish(s3, store)
    add_events(store, tmp_path / "in", "b", 30, days=3)  # three new event files to upload
    theirs = {"format": "groundtruth-throughput published store", "format_version": 1}
    theirs |= {"generation": 9, "published": "", "store": {}, "files": []}
    uploads_before = s3.count("s3:PutObject")

    def write_manifest_during_the_uploads() -> None:
        while s3.count("s3:PutObject") == uploads_before:
            time.sleep(0.01)
        client(s3).put_object(
            Bucket=BUCKET, Key=LOCATION.key(MANIFEST_NAME), Body=json.dumps(theirs).encode()
        )

    s3.set_faults(Faults(action_delay_seconds={"s3:PutObject": 0.3}))
    other = threading.Thread(target=write_manifest_during_the_uploads)
    other.start()
    try:
        with pytest.raises(StoreError, match=r"another publish wrote .* meanwhile"):
            run_publish(s3, store)
    finally:
        other.join(timeout=60)
    s3.set_faults(Faults())

    manifest, _ = read_manifest(client(s3), LOCATION)
    assert manifest is not None
    assert manifest.generation == 9  # theirs stands: ours did not overwrite it
    run_publish(s3, store)
    assert published_state(client(s3)) == local_state(store)


def test_a_prefix_with_spaces_and_url_characters_is_published_and_read_back(
    s3: Emulator, store: Store, tmp_path: Path
) -> None:
    add_events(store, tmp_path / "in", "a", 20)
    location = parse_s3_location(f"s3://{BUCKET}/odd prefix/é#?%+=&", "--to")

    run_publish(s3, store, location)
    run_publish(s3, store, location)

    assert published_state(client(s3), location) == local_state(store)
    manifest, _ = read_manifest(client(s3), location)
    assert manifest is not None
    assert manifest.generation == 1
    assert listed_keys(client(s3), location) == sorted(
        [MANIFEST_NAME, *(f.key for f in manifest.files)]
    )
