"""Read exported log files into the store, in chunks, so that any size fits in memory.

Each file (``analytics.ingest.files``: which files, opened how) is cut into chunks at line
boundaries, parsed (``analytics.ingest.parse``), and each chunk is written before the next is
read: an interruption loses at most the chunk in flight, and a rerun adds exactly what is missing.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from analytics.errors import InputFileError
from analytics.ingest.files import (
    expand_paths,
    is_non_log_document,
    open_log_file,
    path_text,
    read_chunks,
    stream_position,
)
from analytics.ingest.parse import ParseResult, looks_like_a_document, parse_bytes, parse_chunk
from analytics.progress import Progress
from analytics.store.store import Store

#: Bytes read and parsed at a time; bounds memory to a few times this.
#: 32 MB rather than 64: a first ingest in a new process faulted in fresh memory for every 64 MB
#: chunk (1.9-2.5 s instead of 1.6 s per million events here), for no gain once memory is reused.
DEFAULT_CHUNK_BYTES = 32 << 20
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
    #: Files found in a folder and not read because they are not regular files (FIFOs, sockets,
    #: devices, broken links), or vanished: each a line naming the file and why.
    warnings: list[str] = field(default_factory=list)
    #: Labeling job output folders read (``analytics.responses``) and what they gave: answers
    #: read, stored anew and rejected; worker-response files and manifest lines rejected whole.
    job_folders: int = 0
    responses_read: int = 0
    responses_new: int = 0
    responses_rejected: int = 0
    response_files_rejected: int = 0
    labels_read: int = 0
    manifest_lines_rejected: int = 0

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
        if self.warnings:
            line += f"; skipped {len(self.warnings)} file(s) that are not regular files"
        if self.unreadable:
            line += f"; {len(self.unreadable)} file(s) could not be read"
        if self.job_folders:
            duplicates = self.responses_read - self.responses_new - self.responses_rejected
            line += (
                f"; {self.job_folders} labeling job folder{'s' if self.job_folders != 1 else ''}:"
                f" {self.responses_read:,} worker responses read, {self.responses_new:,} new,"
                f" {duplicates:,} already stored, {self.responses_rejected:,} rejected,"
                f" {self.response_files_rejected:,} unreadable response files;"
                f" {self.labels_read:,} consolidated labels"
                f" ({self.manifest_lines_rejected:,} manifest lines rejected)"
            )
        return line


def ingest_file(
    store: Store,
    path: Path,
    report: IngestReport,
    *,
    progress: Progress | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> None:
    """Ingest one file into ``store``, chunk by chunk, adding what it did to ``report``.

    A file that breaks off part way (a gzip stream cut short or damaged) keeps what was read
    before the break: it counts as read, and the error says how much was stored.

    Raises
    ------
    InputFileError
        The file is not a regular file, or cannot be opened, read or decompressed.
    """
    source = path_text(path.resolve())
    records_before = report.records
    try:
        total = path.stat().st_size
        with open_log_file(path) as stream:
            head = stream.read(4096)
            stream.seek(0)
            if looks_like_a_document(head):
                _store_chunk(store, parse_bytes(stream.read(), source), report)
                if progress:
                    progress(total, total, path_text(path.name))
            else:
                # Chunk k is written on a second thread while chunk k+1 is parsed; one write at a
                # time, waited for before the next is started, so an interruption still loses at
                # most the chunks not yet written, and leaving this block waits for the one in
                # flight.
                with ThreadPoolExecutor(1, thread_name_prefix="gt-store-writer") as writer:
                    in_flight: Future[None] | None = None
                    first_line = 1
                    for chunk in read_chunks(stream, chunk_bytes, total):
                        result, line_count = _parse_chunk(chunk, source, first_line)
                        first_line += line_count
                        if in_flight is not None:
                            in_flight.result()
                        in_flight = writer.submit(_store_chunk, store, result, report)
                        if progress:
                            progress(
                                min(stream_position(stream), total), total, path_text(path.name)
                            )
                    if in_flight is not None:
                        in_flight.result()
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        stored = report.records - records_before
        if stored:
            report.files_read += 1
            raise InputFileError(
                f"{path_text(path)}: is cut short or damaged ({_reason(exc)}): the "
                f"{stored:,} records before the damage were stored, the rest could not be read"
            ) from exc
        raise InputFileError(f"{path_text(path)}: cannot be read ({_reason(exc)})") from exc
    report.files_read += 1


def _reason(error: BaseException) -> str:
    """An exception in words, without the file name an ``OSError`` repeats."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def _store_chunk(store: Store, result: ParseResult, report: IngestReport) -> None:
    new = store.add_events(result.events).new
    store.add_rejected(result.rejected)
    report.add(result, new)


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
    listed in ``report.skipped``; files there that are not regular files (FIFOs, sockets,
    devices, broken links) are skipped and listed in ``report.warnings``. A named path that is
    missing, unreadable or not a regular file or folder is listed in ``report.unreadable``, and the
    others are still read. Labeling job output folders among the paths or under them are read
    by ``analytics.responses`` (worker responses, output manifests), not as logs.
    """
    # Imported here: analytics.responses reads files with analytics.ingest.files.
    from analytics.responses.files import find_job_folders, ingest_job_folders, job_output_folders

    report = IngestReport()
    job_folders = find_job_folders(paths)
    skip = job_output_folders(job_folders)
    for path, named in expand_paths(paths, report.unreadable, report.warnings, skip):
        try:
            if not named and is_non_log_document(path):
                report.skipped.append(f"{path_text(path)}: not worker-activity log data")
                continue
            ingest_file(store, path, report, progress=progress, chunk_bytes=chunk_bytes)
        except InputFileError as exc:
            report.unreadable.append(str(exc))
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            report.unreadable.append(f"{path_text(path)}: cannot be read ({_reason(exc)})")
    if job_folders:
        stored = ingest_job_folders(
            store, job_folders, warnings=report.warnings, unreadable=report.unreadable
        )
        report.job_folders = len(job_folders)
        report.responses_read += stored.responses_read
        report.responses_new += stored.responses_new
        report.responses_rejected += stored.responses_rejected
        report.response_files_rejected += stored.files_rejected
        report.labels_read += stored.labels_read
        report.manifest_lines_rejected += stored.lines_rejected
    close = getattr(progress, "close", None)
    if callable(close):
        close()
    return report
