"""``publish``: mirror the local store to S3, immutable files first, the manifest that makes them
visible last (issue 14).

Layout under ``s3://BUCKET/PREFIX/`` (the local store's, but for the tables)::

    _gt_manifest.json                      the pointer: every visible file, its size and rows
    events/date=YYYY-MM-DD/part-*.parquet  the local files, same names (never rewritten)
    events/date=unknown/part-*.parquet     events without a time
    rejected/part-*.parquet
    tables/<name>/part-<sha256>.parquet    one file per table, named by its content

Every data object is immutable: a name is never written with other bytes. Local event and
rejected files already are (a UUID each; a merge writes a new file). A local table is replaced in
place, so in S3 its name is its content's hash, and each table has a folder of its own: what an
Athena table's ``LOCATION`` must be. Overwriting one key instead would let a Parquet reader's
range requests mix the footer of one version with the pages of the next.

One publish: (1) read the manifest (first publish: write an empty one, ``If-None-Match: *``,
claiming the prefix), (2) list the prefix, (3) upload every visible local file that is not there
yet, (4) write the new manifest, ``If-Match`` the one read in (1), so two publishes at once cannot
both win, (5) delete the objects of ours that the manifest no longer names (files a merge replaced,
tables' older contents, uploads of an interrupted run that are no longer wanted). Killed at any
point, the next publish finishes the work: (3) skips what is there, (5) deletes by listing.

Readers of the manifest (``read_manifest``; the Spark engine) see one published state: every
file it names exists until a later manifest drops it, each event in one file. A reader that finds
a named file gone (a later publish deleted it in step 5) reads the manifest again. Readers that
list the prefix (Athena, Trino, plain Parquet readers) see appended files as they land, whole;
between steps 4 and 5 they also see the files a merge or a table update replaced, next to what
replaced them: those rows count twice for that moment (``docs/scale.md``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.exceptions
import pyarrow as pa
import pyarrow.parquet as pq

from analytics.aws import (
    DEFAULT_ANSWER_TIMEOUT_SECONDS,
    EndpointWatch,
    converting_errors,
    make_client,
    make_session,
)
from analytics.errors import NotFoundError, StoreError, UsageError
from analytics.s3_location import S3Location
from analytics.store import keys, schema
from analytics.store.schema import LEGACY_NO_DATE_PARTITION, NO_DATE_PARTITION
from analytics.store.store import Store
from analytics.text import escape_controls, has_controls

#: The pointer object, at the prefix's root (outside every table's folder; ``_`` makes Hive,
#: Spark and Athena skip it should a location ever include it).
MANIFEST_NAME = "_gt_manifest.json"
MANIFEST_FORMAT = "groundtruth-throughput published store"
#: Bump when a reader of the previous version would misread a manifest.
MANIFEST_VERSION = 1
#: The folders a publish owns: it deletes there the data objects its manifest does not name.
MANAGED_FOLDERS = ("events", "rejected", "tables")
#: DeleteObjects takes at most 1,000 keys per call.
_DELETE_BATCH = 1000
_DATA_FILE = re.compile(r"[^/\\\x00]+\.parquet")
_CONFLICT_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})


# --------------------------------------------------------------------------- the manifest
@dataclass(frozen=True)
class PublishedFile:
    """One visible object: ``key`` below the prefix, its ``size`` in bytes and ``rows``."""

    key: str
    size: int
    rows: int


@dataclass(frozen=True)
class Manifest:
    """What a published store holds (``_gt_manifest.json``).

    ``generation`` counts the manifests written (0: claimed, nothing published); ``store`` is the
    local store's ``meta.json`` (schema version, event key algorithm); ``files`` every visible
    object, sorted by key.
    """

    generation: int
    published: str
    store: Mapping[str, Any]
    files: tuple[PublishedFile, ...]

    def files_of(self, kind: str) -> list[PublishedFile]:
        """The files of ``kind``: ``events``, ``rejected`` or a table name (``users``...)."""
        folder = kind if kind in ("events", "rejected") else f"tables/{kind}"
        return [f for f in self.files if f.key.startswith(f"{folder}/")]

    def uris(self, location: S3Location, kind: str) -> list[str]:
        """The ``s3://`` URIs of the files of ``kind`` (what a Spark reader loads)."""
        return [location.uri(f.key) for f in self.files_of(kind)]

    def to_json(self) -> str:
        document = {
            "format": MANIFEST_FORMAT,
            "format_version": MANIFEST_VERSION,
            "generation": self.generation,
            "published": self.published,
            "store": dict(self.store),
            "files": [{"key": f.key, "size": f.size, "rows": f.rows} for f in self.files],
        }
        return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def parse_manifest(data: bytes) -> Manifest:
    """The manifest in ``data``; ``ValueError`` saying what is wrong (a newer format included)."""
    document = json.loads(data)
    if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT:
        raise ValueError("not a manifest of groundtruth-throughput")
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(f"format_version is {version!r}, not an integer")
    if version > MANIFEST_VERSION:
        raise ValueError(
            f"format {version}, written by a newer groundtruth-throughput (this one reads up to"
            f" {MANIFEST_VERSION}): upgrade groundtruth-throughput"
        )
    generation, store, entries = (document.get(k) for k in ("generation", "store", "files"))
    if not isinstance(generation, int) or isinstance(generation, bool) or generation < 0:
        raise ValueError(f"generation is {generation!r}, not a count")
    if not isinstance(store, dict) or not isinstance(entries, list):
        raise ValueError('"store" is not an object or "files" not a list')
    files = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ValueError("a file entry is not an object")
        key, size, rows = entry.get("key"), entry.get("size"), entry.get("rows")
        if not isinstance(key, str) or _kind_of(key) is None:
            raise ValueError(f"{escape_controls(repr(key))} is not a key of a published store")
        if not (
            isinstance(size, int) and isinstance(rows, int) and _is_count(size) and _is_count(rows)
        ):
            raise ValueError(f"{escape_controls(key)}: size and rows must be counts")
        files.append(PublishedFile(key, size, rows))
    return Manifest(generation, str(document.get("published", "")), store, tuple(files))


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _kind_of(key: str) -> str | None:
    """``events``, ``rejected`` or the table name of a key this tool publishes, else None."""
    parts = key.split("/")
    if not _DATA_FILE.fullmatch(parts[-1]) or parts[-1].startswith((".", "_")):
        return None
    if len(parts) == 3 and parts[0] == "events" and schema.is_partition_name(parts[1]):
        return "events"
    if len(parts) == 2 and parts[0] == "rejected":
        return "rejected"
    if len(parts) == 3 and parts[0] == "tables" and parts[1] in schema.TABLES:
        return parts[1]
    return None


def read_manifest(client: Any, location: S3Location) -> tuple[Manifest | None, str | None]:
    """The published store's manifest and its ETag; ``(None, None)`` when there is none.

    Raises
    ------
    StoreError
        The manifest is damaged or of a newer format (the message says what to do).
    """
    manifest, etag, problem = _read_manifest(client, location)
    if problem is not None:
        raise StoreError(
            f"{location.uri(MANIFEST_NAME)} is damaged ({problem}): publish the local store to"
            " it again, which rewrites it"
        )
    return manifest, etag


def _read_manifest(
    client: Any, location: S3Location
) -> tuple[Manifest | None, str | None, str | None]:
    """``(manifest, etag, None)``, ``(None, None, None)`` if absent, ``(None, etag, why)`` if
    it cannot be used."""
    with converting_errors(client, f"the manifest {location.uri(MANIFEST_NAME)}"):
        try:
            answer = client.get_object(Bucket=location.bucket, Key=location.key(MANIFEST_NAME))
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404"):
                return None, None, None
            if code == "NoSuchBucket":
                raise NotFoundError(
                    f"the bucket {location.bucket} ({location}) does not exist in"
                    f" {client.meta.region_name}: create it (aws s3 mb s3://{location.bucket})"
                    " or check the S3 URI and --region"
                ) from exc
            raise
        etag = str(answer["ETag"])
        data = answer["Body"].read()
    try:
        return parse_manifest(data), etag, None
    except (ValueError, UnicodeDecodeError) as exc:
        return None, etag, escape_controls(str(exc))


#: How many manifests a reader tries before giving up (each try that finds a named file gone
#: means a publish ran meanwhile).
READ_ATTEMPTS = 5


def load_published(client: Any, location: S3Location, kind: str) -> tuple[Manifest, pa.Table]:
    """The rows of ``kind`` (``events``, ``rejected``, a table name) as one manifest names them.

    A file the manifest names but S3 no longer has was deleted by a later publish (step 5): the
    manifest is read again, at most ``READ_ATTEMPTS`` times.

    Raises
    ------
    StoreError
        No published store there, or files stayed missing (the message says what to do).
    """
    for _ in range(READ_ATTEMPTS):
        manifest, _etag = read_manifest(client, location)
        if manifest is None:
            raise StoreError(
                f"{location} holds no published store (no {MANIFEST_NAME}): run gt-throughput"
                f" publish --to {location} first"
            )
        parts = []
        gone = None
        for published in manifest.files_of(kind):
            with converting_errors(client, location.uri(published.key)):
                try:
                    answer = client.get_object(
                        Bucket=location.bucket, Key=location.key(published.key)
                    )
                except botocore.exceptions.ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                        raise
                    gone = published.key
                    break
                parts.append(pq.read_table(pa.BufferReader(answer["Body"].read())))
        if gone is None:
            if not parts:
                table_schema = _schema_of(kind)
                return manifest, table_schema.empty_table()
            return manifest, pa.concat_tables(parts, promote_options="permissive")
    raise StoreError(
        f"{location.uri(str(gone))} is named by {MANIFEST_NAME} but gone after {READ_ATTEMPTS}"
        f" reads of the manifest: run gt-throughput publish --to {location} again to mend it"
    )


def _schema_of(kind: str) -> pa.Schema:
    if kind == "events":
        return schema.EVENTS
    if kind == "rejected":
        return schema.REJECTED
    return schema.TABLES[kind][0]


# --------------------------------------------------------------------------- publishing
@dataclass(frozen=True)
class PublishOptions:
    """Where and how to reach S3: ``--region``, ``--profile``, ``--endpoint-url``,
    ``--aws-timeout`` (see :class:`analytics.aws.EndpointWatch`)."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    answer_timeout_seconds: float = DEFAULT_ANSWER_TIMEOUT_SECONDS


@dataclass(frozen=True)
class PublishReport:
    """What one publish did.

    ``uploaded`` files (``uploaded_bytes``) were missing in S3; ``kept`` were there already;
    ``deleted`` objects were replaced or left by an interrupted run; ``foreign`` objects in the
    managed folders are not this tool's and were left alone (listing readers such as Athena read
    them too). ``generation`` is the manifest's; ``manifest_written`` is False when nothing
    changed.
    """

    location: S3Location
    generation: int
    files: int
    uploaded: int
    uploaded_bytes: int
    kept: int
    deleted: int
    foreign: tuple[str, ...]
    manifest_written: bool

    def summary_text(self) -> str:
        """What ``gt-throughput publish`` prints: one line, and one per foreign object."""
        megabytes = self.uploaded_bytes / 1e6
        if self.manifest_written:
            done = f"published generation {self.generation}"
        else:
            done = f"nothing new: generation {self.generation} stands"
        lines = [
            f"{self.location}: {done}; {self.files} files, {self.uploaded} uploaded"
            f" ({megabytes:.1f} MB), {self.kept} already there, {self.deleted} replaced"
            " deleted"
        ]
        if self.foreign:
            lines.append(
                f"warning: {len(self.foreign)} objects in the store's folders are not this"
                " tool's and were left alone (Athena reads them too):"
            )
            lines += [f"  {escape_controls(key)}" for key in self.foreign[:20]]
            if len(self.foreign) > 20:
                lines.append(f"  ... and {len(self.foreign) - 20} more")
        return "\n".join(lines)


@dataclass(frozen=True)
class _LocalFile:
    key: str
    path: Path
    size: int
    data: bytes | None = None  # read already (tables: named by their content)


def _local_files(store: Store, paths: Iterable[Path]) -> Iterator[_LocalFile]:
    """The S3 key of each visible local file (tables are read here: their key is their hash)."""
    for path in paths:
        folder = path.parent
        for part in (folder.name, path.name):
            try:
                part.encode("utf-8")
            except UnicodeEncodeError:
                part = escape_controls(part.encode("utf-8", "surrogateescape").decode("latin-1"))
                raise StoreError(
                    f"{escape_controls(str(path))} has a name that is not UTF-8, which no S3 key"
                    " can hold: rename it to part-<anything>.parquet and publish again"
                ) from None
            if has_controls(part):
                raise StoreError(
                    f"{escape_controls(str(path))} has control characters in its name, which S3"
                    " tools and Athena do not handle reliably: rename it to"
                    " part-<anything>.parquet and publish again"
                )
        if folder.parent == store.events_dir:
            partition = folder.name
            if partition == f"date={LEGACY_NO_DATE_PARTITION}":
                partition = f"date={NO_DATE_PARTITION}"  # as the store renames it when idle
            yield _LocalFile(f"events/{partition}/{path.name}", path, path.stat().st_size)
        elif folder == store.rejected_dir:
            yield _LocalFile(f"rejected/{path.name}", path, path.stat().st_size)
        else:
            data = _read_bytes(path)  # once: a table may be replaced by a rename meanwhile
            digest = hashlib.sha256(data).hexdigest()[:32]
            yield _LocalFile(f"tables/{path.stem}/part-{digest}.parquet", path, len(data), data)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}; nothing was published") from exc


def _rows(data: bytes, path: Path) -> int:
    try:
        return int(pq.ParquetFile(pa.BufferReader(data)).metadata.num_rows)
    except (pa.ArrowException, OSError) as exc:
        raise StoreError(
            f"{path} is damaged (not a readable Parquet file: {str(exc).splitlines()[0]}): move"
            " it out of the store and ingest or sync its data again; nothing was published"
        ) from exc


def _list_objects(client: Any, location: S3Location) -> dict[str, int]:
    """Every object below the prefix, by key relative to it, with its size."""
    start = location.key("")
    objects: dict[str, int] = {}
    with converting_errors(client, f"the bucket {location.bucket} ({location})"):
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=location.bucket, Prefix=start):
            for entry in page.get("Contents", []):
                objects[entry["Key"].removeprefix(start)] = int(entry["Size"])
    return objects


def _store_meta(store: Store) -> dict[str, Any]:
    return {
        "schema_version": store.schema_version(),
        "event_key_algorithm": keys.EVENT_KEY_ALGORITHM
        if store.schema_version() == schema.STORE_SCHEMA_VERSION
        else keys.EVENT_KEY_ALGORITHM_V1,
    }


def publish_store(store: Store, location: S3Location, options: PublishOptions) -> PublishReport:
    """Mirror ``store`` to ``location`` (see the module docstring for the order of steps).

    Raises
    ------
    UsageError
        The store does not exist, or the prefix holds data but no manifest (not ours).
    StoreError
        A local file cannot be published, the manifest is of a newer format, or another publish
        wrote the manifest meanwhile.
    AwsError
        S3 refused or did not answer (converted by :func:`analytics.aws.converting_errors`).
    """
    if not store.exists():
        raise UsageError(
            f"--data {store.root} holds no store: ingest or sync into it first, or name the"
            " store's folder"
        )
    session = make_session(options.profile, options.region)
    watch = EndpointWatch(options.answer_timeout_seconds)
    client = make_client("s3", session, options.endpoint_url, watch)
    return publish_with_client(store, location, client)


def publish_with_client(store: Store, location: S3Location, client: Any) -> PublishReport:
    """:func:`publish` with an S3 client built by :func:`analytics.aws.make_client`."""
    manifest, etag, problem = _read_manifest(client, location)  # before listing: see step (4)
    existing = _list_objects(client, location)
    ours = {key: size for key, size in existing.items() if _kind_of(key) is not None}
    foreign = tuple(
        sorted(
            key
            for key in existing
            if key != MANIFEST_NAME and key.split("/")[0] in MANAGED_FOLDERS and key not in ours
        )
    )
    if manifest is None and etag is None:
        if ours:
            raise UsageError(
                f"--to {location} holds store files ({escape_controls(next(iter(ours)))}...) but"
                f" no {MANIFEST_NAME}: it was not published by gt-throughput; publish to an"
                " empty prefix"
            )
        manifest = Manifest(0, _now(), _store_meta(store), ())
        etag = _put_manifest(client, location, manifest, if_match=None)
    elif manifest is None:
        # Damaged (``problem``): rewritten below from the local store, as readers are told.
        manifest = Manifest(-1, "", {}, ())
    version = manifest.store.get("schema_version", 0)
    if isinstance(version, int) and version > schema.STORE_SCHEMA_VERSION:
        raise StoreError(
            f"{location} holds a store of schema {version}, written by a newer"
            " groundtruth-throughput: upgrade groundtruth-throughput"
        )
    known = {f.key: f for f in manifest.files}
    wanted: list[PublishedFile] = []
    uploaded = uploaded_bytes = 0
    with store.visible_files() as paths:
        for local in _local_files(store, paths):
            published = known.get(local.key)
            if published is not None and published.size == ours.get(local.key) == local.size:
                wanted.append(published)
                continue
            data = local.data if local.data is not None else _read_bytes(local.path)
            rows = _rows(data, local.path)
            if ours.get(local.key) != local.size:
                with converting_errors(client, location.uri(local.key), writing=True):
                    client.put_object(
                        Bucket=location.bucket, Key=location.key(local.key), Body=data
                    )
                uploaded += 1
                uploaded_bytes += len(data)
            wanted.append(PublishedFile(local.key, local.size, rows))
    wanted.sort(key=lambda f: f.key)
    meta = _store_meta(store)
    written = tuple(wanted) != manifest.files or dict(manifest.store) != meta or problem
    generation = manifest.generation
    if written:
        generation = max(manifest.generation, 0) + 1
        new = Manifest(generation, _now(), meta, tuple(wanted))
        _put_manifest(client, location, new, if_match=etag)
    names = {f.key for f in wanted}
    deleted = _delete(client, location, [key for key in ours if key not in names])
    return PublishReport(
        location=location,
        generation=generation,
        files=len(wanted),
        uploaded=uploaded,
        uploaded_bytes=uploaded_bytes,
        kept=len(wanted) - uploaded,
        deleted=deleted,
        foreign=foreign,
        manifest_written=bool(written),
    )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _put_manifest(
    client: Any, location: S3Location, manifest: Manifest, *, if_match: str | None
) -> str:
    """Write ``manifest`` if the manifest is still ``if_match`` (None: if there is none)."""
    condition = {"IfMatch": if_match} if if_match is not None else {"IfNoneMatch": "*"}
    uri = location.uri(MANIFEST_NAME)
    with converting_errors(client, uri, writing=True):
        try:
            answer = client.put_object(
                Bucket=location.bucket,
                Key=location.key(MANIFEST_NAME),
                Body=manifest.to_json().encode("utf-8"),
                ContentType="application/json",
                **condition,
            )
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _CONFLICT_CODES:
                raise StoreError(
                    f"another publish wrote {uri} meanwhile: run publish again once it has"
                    " finished (one publish at a time per prefix); nothing was lost"
                ) from exc
            raise
    return str(answer["ETag"])


def _delete(client: Any, location: S3Location, keys: list[str]) -> int:
    """Delete ``keys`` (relative), 1,000 per call; raises on the first key S3 did not delete."""
    for start in range(0, len(keys), _DELETE_BATCH):
        batch = keys[start : start + _DELETE_BATCH]
        objects = [{"Key": location.key(key)} for key in batch]
        with converting_errors(client, f"replaced files in {location}", writing=True):
            answer = client.delete_objects(
                Bucket=location.bucket, Delete={"Objects": objects, "Quiet": True}
            )
        errors = answer.get("Errors", [])
        if errors:
            key, code = (escape_controls(str(errors[0].get(name))) for name in ("Key", "Code"))
            raise StoreError(
                f"S3 did not delete {len(errors)} replaced files of {location}, e.g. {key}"
                f" ({code}):"
                " readers of the manifest are unaffected; run publish again to delete them"
            )
    return len(keys)
