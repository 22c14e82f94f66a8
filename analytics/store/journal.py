"""The compaction journal of a store folder: which merged file replaced which files, so that
readers never see an event twice while the replaced files wait to be deleted, and a writer can
finish (or mend) an interrupted compaction. The how and why are in ``analytics.store.store``'s
docstring ("Reads: one snapshot, no retries").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from analytics.errors import StoreError

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


def journal_text(merges: Sequence[Merge]) -> str:
    entries = [{"merged": m.merged, "replaced": list(m.replaced)} for m in merges]
    return json.dumps({"merges": entries})


def pending_merges(directory: Path) -> list[Merge]:
    """The merges whose replaced files may still exist in ``directory`` (its journal).

    Raises
    ------
    StoreError
        The journal is damaged (see ``Store._repair_partition``: any writer mends it).
    """
    journal = directory / JOURNAL
    try:
        text = journal.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise _damaged_journal(journal, str(exc)) from exc
    try:
        return parse_journal(text)
    except (ValueError, KeyError) as exc:
        raise _damaged_journal(journal, str(exc) or type(exc).__name__) from exc


def _damaged_journal(journal: Path, why: str) -> StoreError:
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
    its entry hides nothing). Readers list under the store's read lock (``Store._snapshot``),
    so no listed file is deleted before they have read it.
    """
    files = data_files(directory)
    if not files:
        return files
    names = {f.name for f in files}
    hidden: set[str] = set()
    for merge in pending_merges(directory):
        if merge.merged in names:
            hidden.update(merge.replaced)
    return [f for f in files if f.name not in hidden]
