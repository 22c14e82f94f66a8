"""Read exported log files into the store, in chunks, so that any size fits in memory.

Each file is read (gunzipped when it starts with the gzip magic bytes, whatever its name), cut
into chunks at line boundaries, parsed, and each chunk is written before the next is read: an
interruption loses at most the chunk in flight, and a rerun adds exactly what is missing.

Only regular files are read. A FIFO, socket or device named as an input is refused, and one found
in a folder is skipped with a warning, without ever being read (reading one could wait forever,
or never end: ``/dev/zero``); so are broken symbolic links and symbolic link loops. The check is
made on the opened file itself, so a file swapped for a FIFO after the folder was listed is still
refused.
"""

from __future__ import annotations

import errno
import fcntl
import gzip
import io
import os
import stat
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
#: A compressed file is decompressed this much at a time.
_PIECE_BYTES = 1 << 20
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
    #: Files found in a folder and not read because they are not regular files (FIFOs, sockets,
    #: devices, broken links), or vanished: each a line naming the file and why.
    warnings: list[str] = field(default_factory=list)

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
        return line


def path_text(path: Path | str) -> str:
    """``path`` as text that can be stored and printed: bytes of a file name that are not UTF-8
    are written as ``\\xNN`` escapes (a name from another system's encoding)."""
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


_FILE_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _kind_of(mode: int) -> str:
    """What a file of ``mode`` is, in words, for one that is not a regular file."""
    return next((name for test, name in _FILE_KINDS if test(mode)), "not a regular file")


def _stat_problem(path: Path, error: OSError) -> str:
    """Why ``path`` cannot be looked at, in words (a broken link and a link loop named)."""
    if error.errno == errno.ELOOP:
        return "a symbolic link loop"
    if error.errno == errno.ENOENT:
        return "a symbolic link to nothing" if path.is_symlink() else "no such file or folder"
    return error.strerror or str(error)


def _open_regular(path: Path) -> io.FileIO:
    """Open ``path`` for reading if it is a regular file, else raise ``InputFileError``.

    Opened without blocking, then checked: opening a FIFO for reading otherwise waits for a
    writer forever, and a device such as ``/dev/zero`` never ends.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputFileError(
                f"{path_text(path)}: {_kind_of(mode)}, not a regular file: name a log file or "
                "a folder of them"
            )
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return io.FileIO(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise


def _open(path: Path) -> BinaryIO:
    """Open the regular file ``path`` for reading, decompressing it when it starts with the
    gzip magic bytes (``InputFileError`` for anything else than a regular file)."""
    raw = _open_regular(path)
    try:
        magic = raw.read(2)
        raw.seek(0)
    except BaseException:
        raw.close()
        raise
    if magic == _GZIP_MAGIC:
        compressed = gzip.GzipFile(fileobj=raw, mode="rb")
        compressed.myfileobj = raw  # closed with it, as by gzip.open(path)
        return compressed  # type: ignore[return-value]
    return io.BufferedReader(raw)  # the caller closes it


def _chunks(
    stream: BinaryIO, chunk_bytes: int, size_hint: int | None = None
) -> Iterator[bytes | memoryview]:
    """Yield the stream's content in pieces of about ``chunk_bytes``, each cut after a newline.

    A plain file is read into one buffer that every chunk reuses (fresh memory costs a page fault
    per 4 KiB, a good part of an ingest's time), so a chunk is only valid until the next one is
    asked for: parse it first. ``size_hint`` (the file's size) keeps the buffer no larger than
    the file: a folder of thousands of small files would otherwise zero a whole chunk's memory
    for each (20 ms a file here).
    """
    if isinstance(stream, io.BufferedReader):
        wanted = chunk_bytes if size_hint is None else min(chunk_bytes, size_hint + 1)
        buffer = bytearray(max(wanted, 1))
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
    # A decompressed stream is read in pieces: when it breaks off (a gzip file cut short), what
    # was decompressed before the break is still given, then the error raised.
    pieces: list[bytes] = []
    size = 0
    while True:
        try:
            block = stream.read(min(chunk_bytes, _PIECE_BYTES))
        except (OSError, EOFError, zlib.error) as exc:
            if size:
                yield b"".join(pieces)
            raise exc
        if not block:
            if size:
                yield b"".join(pieces)
            return
        pieces.append(block)
        size += len(block)
        if size < chunk_bytes or b"\n" not in block:
            continue
        data = b"".join(pieces)
        cut = data.rfind(b"\n")
        pieces = [data[cut + 1 :]]
        size = len(pieces[0])
        yield data[: cut + 1]


def _expand(paths: Sequence[Path], report: IngestReport) -> list[tuple[Path, bool]]:
    """The files to read, each with whether it was named (rather than found in a folder).

    A named path that is missing or not a regular file or folder is listed in
    ``report.unreadable``; a file found in a folder that is not a regular file (or no longer
    exists) in ``report.warnings``. Nothing is opened here.
    """
    files: list[tuple[Path, bool]] = []
    for path in paths:
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            report.unreadable.append(f"{path_text(path)}: {_stat_problem(path, exc)}")
            continue
        if stat.S_ISDIR(mode):
            files.extend((found, False) for found in _files_in_folder(path, report))
        elif stat.S_ISREG(mode):
            files.append((path, True))
        else:
            report.unreadable.append(
                f"{path_text(path)}: {_kind_of(mode)}, not a regular file: name a log file or "
                "a folder of them"
            )
    return files


def _files_in_folder(root: Path, report: IngestReport) -> list[Path]:
    """The regular files under ``root`` whose names may hold logs, sorted; hidden ones left out.

    Symbolic links to folders are not followed (no loop can make the walk endless); a folder
    that cannot be listed, or vanishes meanwhile, is listed in ``report.unreadable``.
    """
    found: list[Path] = []

    def unreadable_folder(error: OSError) -> None:
        folder = path_text(error.filename) if error.filename is not None else path_text(root)
        report.unreadable.append(f"{folder}: folder cannot be read ({error.strerror or error})")

    for folder, subfolders, names in os.walk(root, onerror=unreadable_folder):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in names:
            if name.startswith(".") or not (name.lower().endswith(LOG_SUFFIXES) or "." not in name):
                continue
            path = Path(folder) / name
            try:
                mode = os.stat(path).st_mode
            except OSError as exc:
                report.warnings.append(f"{path_text(path)}: {_stat_problem(path, exc)}: skipped")
                continue
            if stat.S_ISREG(mode):
                found.append(path)
            else:
                report.warnings.append(
                    f"{path_text(path)}: {_kind_of(mode)}, not a regular file: skipped"
                )
    return sorted(found)


def _looks_like_a_log(path: Path) -> bool:
    with _open_regular(path) as stream:
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
        with _open_regular(path) as whole:
            document = orjson.loads(whole.readall())
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
        with _open(path) as stream:
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
                    for chunk in _chunks(stream, chunk_bytes, total):
                        result, line_count = _parse_chunk(chunk, source, first_line)
                        first_line += line_count
                        if in_flight is not None:
                            in_flight.result()
                        in_flight = writer.submit(_store_chunk, store, result, report)
                        if progress:
                            progress(min(_position(stream), total), total, path_text(path.name))
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
    listed in ``report.skipped``; files there that are not regular files (FIFOs, sockets,
    devices, broken links) are skipped and listed in ``report.warnings``. A named path that is
    missing, unreadable or not a regular file or folder is listed in ``report.unreadable``, and the
    others are still read.
    """
    report = IngestReport()
    for path, named in _expand(paths, report):
        try:
            if not named and _is_non_log_document(path):
                report.skipped.append(f"{path_text(path)}: not worker-activity log data")
                continue
            ingest_file(store, path, report, progress=progress, chunk_bytes=chunk_bytes)
        except InputFileError as exc:
            report.unreadable.append(str(exc))
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            report.unreadable.append(f"{path_text(path)}: cannot be read ({_reason(exc)})")
    close = getattr(progress, "close", None)
    if callable(close):
        close()
    return report
