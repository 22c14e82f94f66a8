"""Compaction: a partition of more than ``COMPACT_AFTER_FILES`` files is merged into one, and the
journal (``.compaction.json`` in the partition folder) names which merged file replaced which
files, so that readers never see an event twice while the replaced files wait for readers to
finish, and a writer can finish (or mend) an interrupted compaction. The how and why are in
``analytics.store.store``'s docstring ("Reads: one snapshot, no retries").
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from analytics.errors import StoreError
from analytics.store import locking, schema
from analytics.store.keys import event_keys, first_occurrences, keys_as_numpy
from analytics.store.parquet_files import (
    read_checked,
    write_parquet_atomically,
    write_text_atomically,
)

#: A partition holding more files than this is merged into one after a write.
COMPACT_AFTER_FILES = 12


JOURNAL = ".compaction.json"


@dataclass(frozen=True)
class Merge:
    """One compaction of a partition: ``merged`` holds every row of the ``replaced`` files."""

    merged: str
    replaced: tuple[str, ...]


def is_data_file_name(name: object) -> bool:
    return (
        isinstance(name, str)
        and name.endswith(".parquet")
        and not name.startswith((".", "_"))
        and "/" not in name
        and "\\" not in name
        and "\0" not in name
    )


def parse_journal(text: str) -> list[Merge]:
    """The merges a journal lists, oldest first; ``ValueError`` saying why if it is damaged.

    Two forms: ``{"merges": [{"merged": ..., "replaced": [...]}, ...]}``, and the single
    ``{"merged": ..., "replaced": [...]}`` of earlier versions. Every name must be a plain data
    file name of the same folder: a journal can make a writer delete files, never outside it.
    """
    document = json.loads(text)
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    entries = document.get("merges", [document])
    if not isinstance(entries, list):
        raise ValueError('"merges" is not a list')
    merges = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ValueError("a merge is not a JSON object")
        merged, replaced = entry.get("merged"), entry.get("replaced")
        if not isinstance(merged, str) or not is_data_file_name(merged):
            raise ValueError(f'"merged" is not a data file name: {merged!r}')
        if not isinstance(replaced, list) or not all(is_data_file_name(n) for n in replaced):
            raise ValueError('"replaced" is not a list of data file names')
        merges.append(Merge(merged, tuple(replaced)))
    return merges


def format_journal(merges: Sequence[Merge]) -> str:
    entries = [{"merged": m.merged, "replaced": list(m.replaced)} for m in merges]
    return json.dumps({"merges": entries})


def pending_merges(directory: Path) -> list[Merge]:
    """The merges whose replaced files may still exist in ``directory`` (its journal).

    Raises
    ------
    StoreError
        The journal is damaged (see ``finish_interrupted_compactions``: any writer mends it).
    """
    journal = directory / JOURNAL
    try:
        text = journal.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise damaged_journal(journal, str(exc)) from exc
    try:
        return parse_journal(text)
    except (ValueError, KeyError) as exc:
        raise damaged_journal(journal, str(exc) or type(exc).__name__) from exc


def damaged_journal(journal: Path, why: str) -> StoreError:
    return StoreError(
        f"{journal} is damaged ({why}); the next command that can write to the store repairs it "
        "(it merges that day's files, keeping each event once): run the command again when no "
        "ingest or sync is at work and the store is writable"
    )


def data_files(directory: Path) -> list[Path]:
    """Every data file of a folder, replaced ones included (names as ``is_data_file_name``)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.parquet") if is_data_file_name(p.name))


def visible_parquet_files(directory: Path) -> list[Path]:
    """The data files of a folder, as of the last completed write.

    The files a merge replaced are left out while its journal entry lists them and its merged
    file is among the files listed (a merge whose deletes wait for readers, or a crash between
    its rename and its deletes), so our readers never see an event twice. The folder is listed
    *before* the journal is read: a merge that completes in between is then either wholly in the
    listing (merged file listed, its entry read) or wholly out of it (merged file not listed, so
    its entry hides nothing). Readers list under the store's read lock (``locking.read_lock``),
    so no listed file is deleted before they have read it.
    """
    files = data_files(directory)
    if not files:
        return files
    hidden = hidden_by_merges({f.name for f in files}, pending_merges(directory))
    return [f for f in files if f.name not in hidden]


def hidden_by_merges(names: set[str], merges: Sequence[Merge]) -> set[str]:
    """The files a merge replaced, of each merge whose merged file is among ``names``."""
    hidden: set[str] = set()
    for merge in merges:
        if merge.merged in names:
            hidden.update(merge.replaced)
    return hidden


def visible_data_files(names: Iterable[str], journal_text: str | None) -> list[str]:
    """``visible_parquet_files`` over a listing made elsewhere (a bucket, Hadoop's file system).

    ``names`` are one partition folder's entries, ``journal_text`` its journal (None when it has
    none). Returns the data file names a reader reads, sorted; ``ValueError`` when the journal is
    damaged.
    """
    files = sorted(name for name in names if is_data_file_name(name))
    if not files or journal_text is None:
        return files
    hidden = hidden_by_merges(set(files), parse_journal(journal_text))
    return [name for name in files if name not in hidden]


def compact_partition(
    directory: Path, *, rekey: bool = False, force: bool = False, mend: bool = False
) -> None:
    """Merge a partition's files into one once there are too many (or to ``rekey`` it:
    recompute every ``event_key`` from ``raw_message`` with the current algorithm; or when
    ``force``\\ d; or to ``mend`` a damaged journal: every file, replaced ones included).

    The journal gets an entry naming the merged file and the files it replaces before the
    merged file is written; the replaced files are deleted when no reader holds the read
    lock, now or by a later writer (``finish_merges``). Until then our readers skip them.
    """
    files = data_files(directory) if mend else visible_parquet_files(directory)
    if not files or not (len(files) > COMPACT_AFTER_FILES or rekey or force or mend):
        return
    merge = Merge(f"part-{uuid.uuid4().hex}.parquet", tuple(f.name for f in files))
    journal = directory / JOURNAL
    if not mend:
        write_text_atomically(format_journal([*pending_merges(directory), merge]), journal)
    paths = [str(f) for f in files]
    table = read_checked(
        files,
        schema.EVENTS,
        "events",
        lambda: ds.dataset(paths, format="parquet", schema=schema.EVENTS).to_table(),
    ).sort_by([("event_time", "ascending")])
    if rekey:
        keys = event_keys(table.column("raw_message"))
        table = table.set_column(0, schema.EVENTS.field("event_key"), keys)
    # One row per key, the first kept: a writer of an older version that kept writing MD5
    # keys while this store was being re-keyed left copies that now share a key.
    first_index = first_occurrences(keys_as_numpy(table.column("event_key")))
    if first_index is not None:
        table = table.take(pa.array(first_index))
    write_parquet_atomically(table, directory / merge.merged)
    if mend:
        # Only now: with the merged file in, the new journal hides every other file.
        write_text_atomically(format_journal([merge]), journal)
    finish_merges(directory)


def finish_merges(directory: Path) -> None:
    """Delete what the journal's merges replaced, if no reader holds the read lock.

    A merge whose merged file never landed (a crash before its rename) hid nothing and is
    dropped. The others are done oldest first: a later merge may have replaced an earlier
    one's merged file, which must outlive the earlier merge's replaced files.
    """
    merges = pending_merges(directory)
    if not merges:
        return
    journal = directory / JOURNAL
    present = {f.name for f in data_files(directory)}
    landed = [merge for merge in merges if merge.merged in present]
    if len(landed) < len(merges):
        if landed:
            write_text_atomically(format_journal(landed), journal)
        else:
            journal.unlink(missing_ok=True)
            return
    with locking.without_readers(directory.parent) as free:  # the events folder
        if not free:
            return  # our readers skip the replaced files; the next writer deletes them
        for merge in landed:
            for name in merge.replaced:
                (directory / name).unlink(missing_ok=True)
        journal.unlink(missing_ok=True)


def finish_interrupted_compactions(events_dir: Path) -> None:
    """Finish every merge left pending (by a crash or by readers); mend damaged journals."""
    if not events_dir.is_dir():
        return
    for journal in sorted(events_dir.glob(f"date=*/{JOURNAL}")):
        try:
            pending_merges(journal.parent)
        except StoreError:
            # Which files it hid is unknown: merge them all, each event kept once.
            compact_partition(journal.parent, mend=True)
        else:
            finish_merges(journal.parent)
