"""Where an export may go: a file replaced atomically, a device, pipe or ``/dev/stdout`` written
through, anything else refused with the fix (:func:`output_destination`, :func:`write_outputs`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from analytics.errors import UsageError


def definitions_path_for(path: os.PathLike[str] | str) -> str:
    """Where the definitions of the CSV at ``path`` go: ``FILE.definitions.csv``."""
    text = os.fspath(path)
    stem = text[: -len(".csv")] if text.lower().endswith(".csv") else text
    return stem + ".definitions.csv"


# --------------------------------------------------------------------------- writing
#: How long a write to a FIFO waits for a reader to open it before refusing.
FIFO_READER_WAIT_SECONDS = 5.0

#: The fix named when writing fails with an errno.
_FIXES = {
    errno.ENOSPC: "free some space or name a file on another disk",
    errno.EDQUOT: "free some space or name a file on another disk",
    errno.EACCES: "name a file in a folder you may write to",
    errno.EPERM: "name a file in a folder you may write to",
    errno.EROFS: "the file system is read-only: name a file on another one",
    errno.EPIPE: "the reader closed the pipe before the end: keep it reading",
    errno.ENAMETOOLONG: "name a shorter path",
    errno.ELOOP: "the symbolic links form a loop: fix them or name another file",
}


@dataclass(frozen=True)
class OutputDestination:
    """Where one CSV goes: see :func:`output_destination`.

    Attributes
    ----------
    path
        The path as given (for messages and the result).
    argument
        What named it, for messages: ``--out``, ``--definitions``, ...
    file
        The regular file replaced atomically (symbolic links resolved); None for a stream.
    fifo
        Whether the stream is a FIFO (a named or anonymous pipe) rather than a character device.
    descriptor
        This process's open descriptor that ``path`` names (``/dev/stdout``: 1), written through.
    """

    path: Path
    argument: str
    file: Path | None
    fifo: bool = False
    descriptor: int | None = None

    @property
    def streamed(self) -> bool:
        """Whether the CSV is written through to a character device or a pipe."""
        return self.file is None


def output_destination(path: Path, argument: str, *, example: str) -> OutputDestination:
    """How a CSV is written to ``path``, or a ``UsageError`` naming ``argument`` and the fix.

    - A new path or a regular file: written atomically (temporary file beside it, then a
      rename). A symbolic link is followed: the file it points to is replaced, the link stays.
    - A character device (``/dev/null``, a terminal) or a FIFO: written through, never
      replaced.
    - A name of one of this process's open descriptors (``/dev/stdout``, ``/dev/fd/3``,
      ``/proc/self/fd/1``): written through that descriptor, whatever it is open on, so
      ``--out /dev/stdout > file`` and ``>> file`` behave as the shell says.
    - A directory, a block device, a socket, or a path under a regular file: refused.
    """
    descriptor = _descriptor_named(path)
    if descriptor is not None:
        try:
            os.fstat(descriptor)
        except OSError as exc:
            raise UsageError(
                f"{argument} {path} names descriptor {descriptor}, which is not open: open it "
                f"(e.g. {descriptor}> file) or name a file"
            ) from exc
        return OutputDestination(path, argument, None, descriptor=descriptor)
    try:
        status = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        status = None  # a new file, the missing target of a link, or under a file (see below)
    except OSError as exc:
        raise _write_error(argument, path, exc, written=None) from exc
    if status is None or stat.S_ISREG(status.st_mode):
        file = Path(os.path.realpath(path))
        _check_folder(file, argument, path)
        return OutputDestination(path, argument, file)
    if stat.S_ISDIR(status.st_mode):
        raise UsageError(
            f"{argument} {path} is a directory: name a file inside it, e.g. {path / example}"
        )
    if stat.S_ISCHR(status.st_mode) or stat.S_ISFIFO(status.st_mode):
        return OutputDestination(path, argument, None, fifo=stat.S_ISFIFO(status.st_mode))
    kinds = {stat.S_IFBLK: "block device", stat.S_IFSOCK: "socket"}
    kind = kinds.get(stat.S_IFMT(status.st_mode), "special file")
    raise UsageError(
        f"{argument} {path} is a {kind}: name a regular file, a pipe or a character device such"
        " as /dev/stdout"
    )


def _descriptor_named(path: Path) -> int | None:
    """The descriptor of this process that ``path`` names through ``/proc/<pid>/fd``, if any.

    The links are followed one by one: ``/dev/stdout`` -> ``/proc/self/fd/1`` -> the file or
    pipe the shell opened, which ``realpath`` would skip straight to.
    """
    current = os.path.abspath(path)
    own = re.compile(rf"/proc/{os.getpid()}(/task/\d+)?/fd")
    for _ in range(40):  # the kernel's own limit on links followed
        folder = os.path.realpath(os.path.dirname(current))
        name = os.path.basename(current)
        if own.fullmatch(folder) and name.isdigit():
            return int(name)
        try:
            target = os.readlink(current)
        except OSError:  # not a link, or one we may not read: the usual rules then apply
            return None
        current = os.path.join(folder, target)
    return None


def _check_folder(file: Path, argument: str, path: Path) -> None:
    """A ``UsageError`` when the nearest existing folder of ``file`` is not a folder."""
    for parent in file.parents:
        try:
            status = os.stat(parent)
        except FileNotFoundError:
            continue  # created when writing
        except OSError as exc:
            raise _write_error(argument, path, exc, written=None) from exc
        if not stat.S_ISDIR(status.st_mode):
            raise UsageError(
                f"{argument} {path}: {parent} is a file, not a folder: name a file in a folder"
            )
        return


def _write_error(
    argument: str, path: Path, exc: OSError, *, written: tuple[int, int] | None
) -> UsageError:
    """One line naming ``path``, why writing it failed and the fix."""
    reason = exc.strerror or str(exc)
    fix = _FIXES.get(exc.errno or 0, "name another file")
    if written is None:
        state = "nothing was changed"
    else:
        state = f"only {written[0]:,} of {written[1]:,} bytes were written"
    return UsageError(f"{argument} {path}: cannot write ({reason}): {fix}; {state}")


def write_outputs(outputs: Sequence[tuple[bytes, OutputDestination]]) -> None:
    """Write each payload to its destination, all regular files or none.

    Regular files are first written in full to hidden temporary files beside them
    (``.NAME.<random>.tmp``, created exclusively, flushed to disk, with the replaced file's
    permissions), streams are written next, and only then are the temporary files renamed into
    place: a failure leaves every regular file as it was and no temporary file behind. A FIFO is
    opened without blocking, waiting at most ``FIFO_READER_WAIT_SECONDS`` for a reader; once
    open, it is written at the reader's pace, like any pipe.
    """
    staged: list[tuple[Path, Path, OutputDestination]] = []
    try:
        for payload, destination in outputs:
            if destination.file is not None:
                temporary = _stage(payload, destination, destination.file)
                staged.append((temporary, destination.file, destination))
        for payload, destination in outputs:
            if destination.file is None:
                _write_through(payload, destination)
        for temporary, file, destination in staged:
            try:
                os.replace(temporary, file)
            except OSError as exc:
                raise _write_error(
                    destination.argument, destination.path, exc, written=None
                ) from exc
    finally:
        for temporary, _, _ in staged:
            temporary.unlink(missing_ok=True)


def _stage(payload: bytes, destination: OutputDestination, file: Path) -> Path:
    """``payload`` in a new hidden file beside ``file``; returns its path."""
    temporary = file.with_name(f".{file.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666
        )
    except OSError as exc:
        raise _write_error(destination.argument, destination.path, exc, written=None) from exc
    try:
        with os.fdopen(descriptor, "wb") as handle:
            with contextlib.suppress(FileNotFoundError):
                os.fchmod(handle.fileno(), stat.S_IMODE(os.stat(file).st_mode))
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise _write_error(destination.argument, destination.path, exc, written=None) from exc
    return temporary


def _open_stream(destination: OutputDestination) -> int:
    """A descriptor open for writing on the device or FIFO, or a ``UsageError``."""
    deadline = time.monotonic() + FIFO_READER_WAIT_SECONDS
    flags = os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    while True:
        try:
            return os.open(destination.path, flags)
        except OSError as exc:
            # ENXIO: a FIFO nobody reads (open(2)); wait a little for the reader to start.
            if exc.errno == errno.ENXIO and destination.fifo and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            if exc.errno == errno.ENXIO and destination.fifo:
                raise UsageError(
                    f"{destination.argument} {destination.path} is a FIFO nobody reads (waited "
                    f"{FIFO_READER_WAIT_SECONDS:g} s): start its reader first, e.g. "
                    f"cat {destination.path} > export.csv &"
                ) from exc
            raise _write_error(destination.argument, destination.path, exc, written=None) from exc


def _write_through(payload: bytes, destination: OutputDestination) -> None:
    """Write ``payload`` to a character device, FIFO or open descriptor without replacing it."""
    if destination.descriptor is not None:
        descriptor = os.dup(destination.descriptor)  # closing it below keeps stdout open
    else:
        descriptor = _open_stream(destination)
    done = 0
    try:
        os.set_blocking(descriptor, True)
        view = memoryview(payload)
        while done < len(payload):
            done += os.write(descriptor, view[done:])
    except OSError as exc:
        raise _write_error(
            destination.argument, destination.path, exc, written=(done, len(payload))
        ) from exc
    finally:
        os.close(descriptor)
