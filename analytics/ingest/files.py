"""The input files of an ingest: which files a folder holds, and each one opened safely.

Only regular files are read. A FIFO, socket or device named as an input is refused, and one found
in a folder is skipped with a warning, without ever being read (reading one could wait forever,
or never end: ``/dev/zero``); so are broken symbolic links and symbolic link loops. The check is
made on the opened file itself, so a file swapped for a FIFO after the folder was listed is still
refused. A file is gunzipped when it starts with the gzip magic bytes, whatever its name, and read
in chunks cut at line boundaries.
"""

from __future__ import annotations

import errno
import fcntl
import gzip
import io
import os
import stat
import zlib
from collections.abc import Iterator, Sequence, Set
from pathlib import Path
from typing import BinaryIO

import orjson

from analytics.errors import InputFileError
from analytics.ingest.parse import looks_like_a_document

#: File endings taken when a folder is given (explicitly named files are always read). Files
#: without an ending (S3 exports are named ``000000``) are read when their first bytes look like a
#: log: gzip, a JSON object, or a line starting with a timestamp.
LOG_SUFFIXES = (".jsonl", ".ndjson", ".json", ".log", ".txt", ".gz")
#: A compressed file is decompressed this much at a time.
_PIECE_BYTES = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


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


def _not_a_log_file(path: Path | str, mode: int) -> str:
    """Why a named ``path`` of ``mode`` (not a regular file) is not read, and the fix."""
    return (
        f"{path_text(path)}: {_kind_of(mode)}, not a regular file: name a log file or a folder "
        "of them"
    )


def _stat_problem(path: Path, error: OSError) -> str:
    """Why ``path`` cannot be looked at, in words (a broken link and a link loop named)."""
    if error.errno == errno.ELOOP:
        return "a symbolic link loop"
    if error.errno == errno.ENOENT:
        return "a symbolic link to nothing" if path.is_symlink() else "no such file or folder"
    return error.strerror or str(error)


def _open_regular(path: Path | str) -> io.FileIO:
    """Open ``path`` for reading if it is a regular file, else raise ``InputFileError``.

    Opened without blocking, then checked: opening a FIFO for reading otherwise waits for a
    writer forever, and a device such as ``/dev/zero`` never ends.
    """
    fd, _ = _regular_descriptor(path)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return io.FileIO(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise


def _regular_descriptor(path: Path | str) -> tuple[int, int]:
    """``path`` opened without blocking, and its size, if it is a regular file, else
    ``InputFileError`` (see ``_open_regular``)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise InputFileError(_not_a_log_file(path, status.st_mode))
    except BaseException:
        os.close(fd)
        raise
    return fd, status.st_size


def read_regular_file(path: Path | str) -> bytes:
    """The bytes of ``path`` if it is a regular file, else ``InputFileError`` (as
    ``_open_regular``), in the fewest system calls: open, fstat, read, read, close.

    For job folders of hundreds of thousands of small files: 13 µs of CPU a file here instead
    of 22 through a file object. A regular file's reads never block, so ``O_NONBLOCK`` stays.
    """
    fd, size = _regular_descriptor(path)
    try:
        pieces = [os.read(fd, size + 1)]
        while pieces[-1]:  # to the end, should the file have grown since fstat
            pieces.append(os.read(fd, max(size, 1 << 16)))
    finally:
        os.close(fd)
    return pieces[0] if len(pieces) == 2 else b"".join(pieces)


def open_log_file(path: Path) -> BinaryIO:
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


def read_chunks(
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


def expand_paths(
    paths: Sequence[Path],
    unreadable: list[str],
    warnings: list[str],
    skip: Set[Path] = frozenset(),
) -> list[tuple[Path, bool]]:
    """The files to read, each with whether it was named (rather than found in a folder).

    A named path that is missing or not a regular file or folder is listed in
    ``unreadable``; a file found in a folder that is not a regular file (or no longer exists)
    in ``warnings``. Folders in ``skip`` (a labeling job's outputs, read by
    ``analytics.responses``) are not walked. Nothing is opened here.
    """
    files: list[tuple[Path, bool]] = []
    for path in paths:
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            unreadable.append(f"{path_text(path)}: {_stat_problem(path, exc)}")
            continue
        if stat.S_ISDIR(mode):
            found = _files_in_folder(path, unreadable, warnings, skip)
            files.extend((file, False) for file in found)
        elif stat.S_ISREG(mode):
            files.append((path, True))
        else:
            unreadable.append(_not_a_log_file(path, mode))
    return files


def _files_in_folder(
    root: Path, unreadable: list[str], warnings: list[str], skip: Set[Path] = frozenset()
) -> list[Path]:
    """The regular files under ``root`` whose names may hold logs, sorted; hidden ones left out,
    and the folders in ``skip``.

    Symbolic links to folders are not followed (no loop can make the walk endless); a folder
    that cannot be listed, or vanishes meanwhile, is listed in ``unreadable``.
    """
    found: list[Path] = []

    def unreadable_folder(error: OSError) -> None:
        folder = path_text(error.filename) if error.filename is not None else path_text(root)
        unreadable.append(f"{folder}: folder cannot be read ({error.strerror or error})")

    for folder, subfolders, names in os.walk(root, onerror=unreadable_folder):
        subfolders[:] = sorted(
            d for d in subfolders if not d.startswith(".") and Path(folder, d) not in skip
        )
        for name in names:
            if name.startswith(".") or not (name.lower().endswith(LOG_SUFFIXES) or "." not in name):
                continue
            path = Path(folder) / name
            try:
                mode = os.stat(path).st_mode
            except OSError as exc:
                warnings.append(f"{path_text(path)}: {_stat_problem(path, exc)}: skipped")
                continue
            if stat.S_ISREG(mode):
                found.append(path)
            else:
                warnings.append(f"{path_text(path)}: {_kind_of(mode)}, not a regular file: skipped")
    return sorted(found)


def _looks_like_a_log(path: Path) -> bool:
    with _open_regular(path) as stream:
        head = stream.read(64)
    if head.startswith(_GZIP_MAGIC):
        return True
    first = head.lstrip()[:1]
    return first == b"{" or first.isdigit()


def is_non_log_document(path: Path) -> bool:
    """A file found in a folder that is not worker-activity log data.

    ``.json`` files that are JSON documents without log events (recorded API responses,
    manifests), and files without an ending whose first bytes do not look like a log.
    """
    if "." not in path.name:
        return not _looks_like_a_log(path)
    if not path.name.lower().endswith(".json"):
        return False
    with open_log_file(path) as stream:
        head = stream.read(4096)
    if not looks_like_a_document(head) and not head.lstrip().startswith(b"["):
        return False
    try:
        with _open_regular(path) as whole:
            document = orjson.loads(whole.readall())
    except (orjson.JSONDecodeError, OSError):
        return False
    return not (isinstance(document, dict) and isinstance(document.get("events"), list))


def stream_position(stream: BinaryIO) -> int:
    """Bytes of the underlying file consumed so far (compressed bytes for gzip)."""
    inner = getattr(stream, "fileobj", None)
    try:
        return int(inner.tell() if inner is not None else stream.tell())
    except (OSError, ValueError):
        return 0
