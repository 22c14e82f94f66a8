"""The store as Spark sees it: a local folder or a published prefix (``s3://``), read through
Hadoop's file system, so the same code lists a laptop's store and a bucket on EMR or Glue.

Only the files our own readers would read are given to Spark: the data files of each partition
minus those a pending merge replaced (the store's journal rule, ``analytics.store``), and only the
partitions a window can touch. Listing a folder with Spark's own reader would read a merged file
and the files it replaced, and count those events twice.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from analytics.errors import SparkEngineError, StoreError
from analytics.store.compaction import visible_data_files
from analytics.store.schema import NO_DATE_PARTITION

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: The store's partition folders (``analytics.store``): ``date=YYYY-MM-DD`` or ``date=unknown``.
PARTITION_PREFIX = "date="
JOURNAL_NAME = ".compaction.json"


def store_uri(location: str) -> str:
    """``location`` as a URI Hadoop opens: a URI as given, a local path as an absolute ``file:``."""
    if "://" in location:
        return location.rstrip("/")
    return Path(os.path.abspath(location)).as_uri()


class HadoopStore:
    """Read-only access to a store at ``uri`` through the session's Hadoop file system."""

    def __init__(self, spark: SparkSession, location: str, argument: str = "--store") -> None:
        self.uri = store_uri(location)
        self.location = location
        self.argument = argument
        jvm = spark._jvm  # Hadoop's FileSystem is only reachable through the gateway
        assert jvm is not None
        self._jvm = jvm
        self._conf = spark._jsc.hadoopConfiguration()
        self._fs = self._call(lambda: self._path(self.uri).getFileSystem(self._conf), self.uri)

    def _path(self, uri: str) -> Any:
        return self._jvm.org.apache.hadoop.fs.Path(uri)

    def _call(self, action: Any, uri: str) -> Any:
        """Run a Hadoop call; a Java exception becomes one line naming ``uri``."""
        from py4j.protocol import Py4JJavaError  # type: ignore[import-untyped]

        try:
            return action()
        except Py4JJavaError as exc:
            java = exc.java_exception
            reason = str(java.getMessage() or java.getClass().getName()).splitlines()[0]
            raise StoreError(
                f"{self.argument} {self.location}: cannot read {uri} ({reason}): check the path "
                "and that this machine or role may read it"
            ) from exc

    def child(self, relative: str) -> str:
        return f"{self.uri}/{relative}"

    def exists(self, uri: str) -> bool:
        return bool(self._call(lambda: self._fs.exists(self._path(uri)), uri))

    def listing(self, uri: str) -> list[tuple[str, bool, int]]:
        """``(name, is_folder, bytes)`` of each entry of the folder ``uri`` (none when absent)."""
        if not self.exists(uri):
            return []
        statuses = self._call(lambda: self._fs.listStatus(self._path(uri)), uri)
        return sorted(
            (s.getPath().getName(), bool(s.isDirectory()), int(s.getLen())) for s in statuses
        )

    def read_bytes(self, uri: str) -> bytes | None:
        """The content of the file ``uri``, or None when there is none (small files only: the
        bytes cross the Py4J gateway)."""
        if not self.exists(uri):
            return None

        def read() -> bytes:
            stream = self._fs.open(self._path(uri))
            try:
                return bytes(self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
            finally:
                stream.close()

        return bytes(self._call(read, uri))

    def read_text(self, uri: str) -> str | None:
        """The UTF-8 text of the file ``uri``, or None when there is none."""
        content = self.read_bytes(uri)
        return None if content is None else content.decode("utf-8", errors="replace")

    def write_bytes(self, uri: str, payload: bytes) -> None:
        """Write ``payload`` to ``uri`` whole: one PUT on S3, a hidden file renamed elsewhere."""
        target = self._path(uri)

        def write() -> None:
            fs = target.getFileSystem(self._conf)
            if uri.startswith(("s3://", "s3a://", "s3n://", "gs://")):
                stream = fs.create(target, True)  # an object store makes the object whole
                try:
                    stream.write(bytearray(payload))
                finally:
                    stream.close()
                return
            temporary = self._path(f"{target.getParent().toString()}/.{target.getName()}.tmp")
            stream = fs.create(temporary, True)
            try:
                stream.write(bytearray(payload))
            finally:
                stream.close()
            fs.delete(target, False)
            if not fs.rename(temporary, target):
                raise OSError(f"could not rename {temporary} to {uri}")

        self._call(write, uri)

    # ----------------------------------------------------------------- the store's parts
    def holds_store(self) -> bool:
        """Whether ``uri`` holds a store: its ``meta.json`` or an ``events`` folder."""
        return self.exists(self.child("meta.json")) or self.exists(self.child("events"))

    def state(self) -> dict[str, Any]:
        """The store's ``state.json`` (sync checkpoints), empty when absent or unreadable."""
        text = self.read_text(self.child("state.json"))
        if text is None:
            return {}
        try:
            state = json.loads(text)
        except ValueError:
            return {}
        return state if isinstance(state, dict) else {}

    def read_table(self, name: str) -> pa.Table | None:
        """The sync table ``name`` (a few MB at most: team lists, jobs, metrics), read on the
        driver without a Spark job; None when the store has none."""
        uri = self.child(f"tables/{name}.parquet")
        content = self.read_bytes(uri)
        if content is None:
            return None
        try:
            return pq.read_table(pa.BufferReader(content))
        except (pa.ArrowException, OSError) as exc:
            raise StoreError(
                f"--store {self.location}: {uri} is not a readable Parquet file ({exc}): publish "
                "the store again, or run `gt-throughput sync` on the store it came from"
            ) from exc

    def event_files(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[tuple[str, int]]:
        """URIs and sizes of the event files a read of ``[since, until)`` needs, in the store's
        order.

        Partitions outside the window's UTC days are skipped (as ``Store.load_events`` prunes
        them); the exact cut is still ``dataset.in_window``, on every event read.
        """
        root = self.child("events")
        files: list[tuple[str, int]] = []
        for name, is_folder, _ in self.listing(root):
            if not is_folder or not name.startswith(PARTITION_PREFIX):
                continue
            day = name[len(PARTITION_PREFIX) :]
            if not _partition_in_window(day, since, until):
                continue
            folder = f"{root}/{name}"
            sizes = {entry: size for entry, flag, size in self.listing(folder) if not flag}
            names = list(sizes)
            journal = self.read_text(f"{folder}/{JOURNAL_NAME}") if JOURNAL_NAME in names else None
            try:
                visible = visible_data_files(names, journal)
            except ValueError as exc:
                raise StoreError(
                    f"{folder}/{JOURNAL_NAME} is damaged ({exc}): run any ingest or sync on the "
                    "store it was published from, then publish again"
                ) from exc
            files += [(f"{folder}/{file}", sizes[file]) for file in visible]
        return files


def _partition_in_window(day: str, since: dt.datetime | None, until: dt.datetime | None) -> bool:
    if day == NO_DATE_PARTITION or not day[:1].isdigit():
        return since is None and until is None  # timeless events are in no window with a bound
    if since is not None and day < since.astimezone(dt.UTC).strftime("%Y-%m-%d"):
        return False
    return not (until is not None and day > until.astimezone(dt.UTC).strftime("%Y-%m-%d"))


def require_store(store: HadoopStore) -> None:
    """A ``SparkEngineError`` when ``store`` holds no store."""
    if not store.holds_store():
        raise SparkEngineError(
            f"--store {store.location} holds no store (no meta.json, no events/): name the folder "
            "or prefix that `gt-throughput publish --to` wrote, or a local store folder"
        )
