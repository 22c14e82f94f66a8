"""One sync per store at a time, across processes: a non-blocking ``flock`` on
``DIR/.sync.lock``.

The store's writer lock (``DIR/.lock``) serialises each write, but a sync is many writes: two
syncs interleaved would both read the same FilterLogEvents windows and both call AWS. This lock
spans a whole sync. It is taken without waiting: a process that finds it held skips that run
(the holder is syncing the same store right now). The kernel releases it when its holder exits,
however it exits (kill -9 included), so a crash never leaves the store locked. The file holds the
holder's process id and start time, for the message of whoever finds it held; no data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from analytics.errors import StoreError

SYNC_LOCK_NAME = ".sync.lock"


def sync_lock_holder(store_root: Path, name: str = SYNC_LOCK_NAME) -> str:
    """Who holds the sync lock, as its file says (``pid 123 since 09:14 UTC``), or ``""``."""
    try:
        text = (store_root / name).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return " ".join(text.split())[:200]


@contextlib.contextmanager
def sync_lock(store_root: Path, name: str = SYNC_LOCK_NAME) -> Iterator[bool]:
    """Try to take the store's sync lock; yields True when taken (held until the block ends),
    False when another process holds it (then nothing is changed). Another ``name`` is another
    lock of the same kind (the digest schedule's ``.digest.lock``)."""
    store_root.mkdir(parents=True, exist_ok=True)
    path = store_root / name
    try:
        # Not truncated on open: the holder's line stays readable until we own the lock.
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(
            f"{path} cannot be opened as the sync lock ({exc.strerror}): it holds no data; "
            f"remove it (rm -r '{path}') and start again"
        ) from exc
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        except OSError as exc:
            raise StoreError(
                f"{path} cannot be locked ({exc.strerror}): put the store on a file system "
                "with file locks (EFS and local disks have them)"
            ) from exc
        now = dt.datetime.now(dt.UTC)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"pid {os.getpid()} since {now:%Y-%m-%d %H:%M:%S} UTC\n".encode(), 0)
        try:
            yield True
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
