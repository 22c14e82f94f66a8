"""Read exported log files into the store, in chunks, so that any size fits in memory.

Each file is read (gunzipped when it starts with the gzip magic bytes, whatever its name), cut
into chunks at line boundaries, parsed, and each chunk is written before the next is read: an
interruption loses at most the chunk in flight, and a rerun adds exactly what is missing.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson

from analytics.errors import InputFileError
from analytics.parsing import ParseResult, looks_like_a_document, parse_bytes, parse_chunk
from analytics.progress import Progress
from analytics.store import Store

#: Bytes read and parsed at a time; bounds memory to a few times this.
#: 32 MB rather than 64: a first ingest in a new process faulted in fresh memory for every 64 MB
#: chunk (1.9-2.5 s instead of 1.6 s per million events here), for no gain once memory is reused.
DEFAULT_CHUNK_BYTES = 32 << 20
#: File endings taken when a folder is given (explicitly named files are always read). Files
#: without an ending (S3 exports are named ``000000``) are read when their first bytes look like a
#: log: gzip, a JSON object, or a line starting with a timestamp.
LOG_SUFFIXES = (".jsonl", ".ndjson", ".json", ".log", ".txt", ".gz")
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"


@dataclass
class IngestReport:
    """What an ingest did; ``records == new_events + duplicates + rejected`` always holds."""

    files_read: int = 0
    records: int = 0
    new_events: int = 0
    duplicates: int = 0
    rejected: int = 0
    blank_lines: int = 0
    unreadable: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def add(self, result: ParseResult, new_events: int) -> None:
        self.records += result.records
        self.blank_lines += result.blank_lines
        self.new_events += new_events
        self.duplicates += result.events.num_rows - new_events
        self.rejected += result.rejected.num_rows

    def summary_line(self) -> str:
        """One line: files and records read, events new, duplicates, rejected."""
        files = f"{self.files_read} file{'s' if self.files_read != 1 else ''}"
        line = (
            f"read {self.records:,} records from {files}: {self.new_events:,} new events, "
            f"{self.duplicates:,} duplicates, {self.rejected:,} rejected"
        )
        if self.rejected:
            line += " (kept with their reasons; see `gt-throughput status`)"
        if self.skipped:
            line += f"; skipped {len(self.skipped)} non-log file(s)"
        if self.unreadable:
            line += f"; {len(self.unreadable)} file(s) could not be read"
        return line


def _open(path: Path) -> BinaryIO:
    """Open ``path`` for reading, decompressing it when it starts with the gzip magic bytes."""
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == _GZIP_MAGIC:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")  # the caller closes it


def _chunks(stream: BinaryIO, chunk_bytes: int) -> Iterator[bytes | memoryview]:
    """Yield the stream's content in pieces of about ``chunk_bytes``, each cut after a newline.

    A plain file is read into one buffer that every chunk reuses (fresh memory costs a page fault
    per 4 KiB, a good part of an ingest's time), so a chunk is only valid until the next one is
    asked for: parse it first.
    """
    if isinstance(stream, io.BufferedReader):
        buffer = bytearray(max(chunk_bytes, 1))
        filled = 0
        while True:
            if filled == len(buffer):
                # A line longer than the buffer: a bigger one (the old one may still be viewed).
                buffer = buffer + bytearray(len(buffer))
            read = stream.readinto(memoryview(buffer)[filled:])
            if not read:
                if filled:
                    yield memoryview(buffer)[:filled]
                return
            filled += read
            cut = buffer.rfind(b"\n", 0, filled)
            if cut < 0:
                continue
            yield memoryview(buffer)[: cut + 1]
            rest = filled - cut - 1
            buffer[:rest] = buffer[cut + 1 : filled]
            filled = rest
    carry = b""
    while True:
        block = stream.read(chunk_bytes)
        if not block:
            if carry:
                yield carry
            return
        data = carry + block
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            continue
        carry = data[cut + 1 :]
        yield data[: cut + 1]


def _expand(paths: Sequence[Path], report: IngestReport) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found: list[Path] = []

            def unreadable_folder(error: OSError) -> None:
                report.unreadable.append(f"{error.filename}: folder cannot be read ({error})")

            for folder, subfolders, names in os.walk(path, onerror=unreadable_folder):
                subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
                found.extend(
                    Path(folder) / name
                    for name in names
                    if not name.startswith(".")
                    and (name.lower().endswith(LOG_SUFFIXES) or "." not in name)
                )
            files.extend(sorted(found))
        elif path.exists():
            files.append(path)
        else:
            report.unreadable.append(f"{path}: no such file or folder")
    return files


def _looks_like_a_log(path: Path) -> bool:
    with open(path, "rb") as stream:
        head = stream.read(64)
    if head.startswith(_GZIP_MAGIC):
        return True
    first = head.lstrip()[:1]
    return first == b"{" or first.isdigit()


def _is_non_log_document(path: Path) -> bool:
    """A file found in a folder that is not worker-activity log data.

    ``.json`` files that are JSON documents without log events (recorded API responses,
    manifests), and files without an ending whose first bytes do not look like a log.
    """
    if "." not in path.name:
        return not _looks_like_a_log(path)
    if not path.name.lower().endswith(".json"):
        return False
    with _open(path) as stream:
        head = stream.read(4096)
    if not looks_like_a_document(head) and not head.lstrip().startswith(b"["):
        return False
    try:
        document = orjson.loads(path.read_bytes())
    except (orjson.JSONDecodeError, OSError):
        return False
    return not (isinstance(document, dict) and isinstance(document.get("events"), list))


def ingest_file(
    store: Store,
    path: Path,
    report: IngestReport,
    *,
    progress: Progress | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> None:
    """Ingest one file into ``store``, chunk by chunk, adding what it did to ``report``.

    Raises
    ------
    InputFileError
        The file cannot be opened or decompressed.
    """
    source = str(path.resolve())
    try:
        total = path.stat().st_size
        with _open(path) as stream:
            head = stream.read(4096)
            stream.seek(0)
            if looks_like_a_document(head):
                _store_chunk(store, parse_bytes(stream.read(), source), report)
                if progress:
                    progress(total, total, path.name)
            else:
                # Chunk k is written on a second thread while chunk k+1 is parsed; one write at a
                # time, waited for before the next is started, so an interruption still loses at
                # most the chunks not yet written, and leaving this block waits for the one in
                # flight.
                with ThreadPoolExecutor(1, thread_name_prefix="gt-store-writer") as writer:
                    in_flight: Future[None] | None = None
                    first_line = 1
                    for chunk in _chunks(stream, chunk_bytes):
                        result, line_count = _parse_chunk(chunk, source, first_line)
                        first_line += line_count
                        if in_flight is not None:
                            in_flight.result()
                        in_flight = writer.submit(_store_chunk, store, result, report)
                        if progress:
                            progress(min(_position(stream), total), total, path.name)
                    if in_flight is not None:
                        in_flight.result()
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputFileError(f"{path}: cannot be read ({exc})") from exc
    report.files_read += 1


def _store_chunk(store: Store, result: ParseResult, report: IngestReport) -> None:
    new = store.add_events(result.events).new
    store.add_rejected(result.rejected)
    report.add(result, new)


def _position(stream: BinaryIO) -> int:
    """Bytes of the underlying file consumed so far (compressed bytes for gzip)."""
    inner = getattr(stream, "fileobj", None)
    try:
        return int(inner.tell() if inner is not None else stream.tell())
    except (OSError, ValueError):
        return 0


def _parse_chunk(
    chunk: bytes | memoryview, source: str, first_line: int
) -> tuple[ParseResult, int]:
    """Parse a chunk of whole lines; returns the result and the number of lines in the chunk."""
    if first_line == 1 and chunk[:3] == _BOM:
        chunk = chunk[3:]
    return parse_chunk(chunk, source, first_line)


def ingest_paths(
    store: Store,
    paths: Sequence[Path],
    *,
    progress: Progress | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> IngestReport:
    """Ingest files and folders (recursively) into ``store``.

    In folders, files ending in ``.jsonl .ndjson .json .log .txt .gz`` are read, except JSON
    documents that hold no log events (recorded API responses, manifests), which are skipped and
    listed in ``report.skipped``. A missing or unreadable file is listed in ``report.unreadable``
    and the others are still read.
    """
    report = IngestReport()
    explicit = {p for p in paths if p.is_file()}
    for path in _expand(paths, report):
        try:
            if path not in explicit and _is_non_log_document(path):
                report.skipped.append(f"{path}: not worker-activity log data")
                continue
            ingest_file(store, path, report, progress=progress, chunk_bytes=chunk_bytes)
        except InputFileError as exc:
            report.unreadable.append(str(exc))
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            report.unreadable.append(f"{path}: cannot be read ({exc})")
    close = getattr(progress, "close", None)
    if callable(close):
        close()
    return report
