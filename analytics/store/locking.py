"""The store's locks, all ``flock``\\ s (released by the kernel when a process dies):

- the writers' lock, exclusive on ``DIR/.lock``: one writer at a time (``writer_lock``), or
  none at all when another holds it (``writer_lock_if_free``: an idle open's housekeeping);
- the read lock, shared on the ``events`` folder while a reader lists and reads
  (``read_lock``); a merge deletes the files it replaced only while nobody holds it
  (``without_readers``), so nothing a reader listed disappears before it is read.

Readers never block writers; a writer holds the exclusive read lock only for its deletes and
renames (milliseconds). Why this design is in ``analytics.store.store``'s docstring.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from analytics.errors import StoreError


@contextlib.contextmanager
def read_lock(events_dir: Path) -> Iterator[None]:
    """Hold the read lock: a shared ``flock`` on the ``events`` folder, while listing and
    reading. A merge deletes the files it replaced only while nobody holds it
    (``without_readers``), so nothing a reader listed disappears before it is read."""
    try:
        descriptor = os.open(events_dir, os.O_RDONLY)
    except OSError:
        yield  # no events folder: nothing a merge could remove
        return
    try:
        # Blocks only while a writer deletes the files of a merge (milliseconds): writers
        # never wait for anything while they hold it exclusively.
        with contextlib.suppress(OSError):  # no locks on this file system: read unlocked
            fcntl.flock(descriptor, fcntl.LOCK_SH)
        yield
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def without_readers(events_dir: Path) -> Iterator[bool]:
    """Whether no reader holds the read lock; if so, none starts until the block ends.

    Never waits: a writer that finds readers leaves its deletions to the next writer.
    """
    try:
        descriptor = os.open(events_dir, os.O_RDONLY)
    except OSError:
        yield True
        return
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            free = True
        except BlockingIOError:
            free = False
        except OSError:
            free = True  # no locks on this file system: readers do not lock either
        yield free
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def writer_lock_if_free(lock_path: Path) -> Iterator[bool]:
    """Whether the writers' lock was free; if so, it is held until the block ends.

    Never waits. ``OSError`` when ``lock_path`` cannot be opened (a read-only store).
    """
    with open(lock_path, "a+b") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False  # a writer is at work
            return
        try:
            yield True
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


@contextlib.contextmanager
def writer_lock(lock_path: Path) -> Iterator[None]:
    """Hold the writers' lock (one writer at a time; readers never wait).

    Raises
    ------
    StoreError
        ``lock_path`` cannot be opened or locked: it holds no data, so the fix is to remove it.
    """
    try:
        lock_file = open(lock_path, "a+b")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise StoreError(
            f"{lock_path} cannot be opened as the store's lock file ({exc.strerror}): it "
            f"holds no data; remove it (rm -r '{lock_path}') and run the command again"
        ) from exc
    with lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        except OSError as exc:
            raise StoreError(
                f"{lock_path} cannot be locked ({exc.strerror}): it holds no data; remove "
                f"it (rm -r '{lock_path}') and run the command again"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
