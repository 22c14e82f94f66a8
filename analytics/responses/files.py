"""Job output folders on disk, as ``aws s3 sync s3://<S3OutputPath>/<job>/ <job>/`` leaves them.

A folder is a job folder when it holds ``annotations/worker-response/`` or
``manifests/output/output.manifest``; the job's name is the folder's name. Such folders are
found anywhere under the paths given to ``gt-throughput ingest``, beside log files; their
worker-response files and output manifest are read here, and the rest of the job folder is left
to nobody (Ground Truth's other outputs are not log data).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from analytics.errors import InputFileError
from analytics.ingest.files import _kind_of, _stat_problem, path_text, read_regular_file
from analytics.responses.parse import (
    OUTPUT_MANIFEST,
    WORKER_RESPONSE_DIR,
    JobFile,
    ParsedResponses,
    job_file,
    parse_output_manifest,
    parse_worker_response,
)
from analytics.responses.tables import StoredResponses, add_counts, store_parsed
from analytics.store.store import Store

#: Files parsed before their rows are written: bounds memory (about 1 KB a response) and what
#: an interruption can lose (nothing a rerun does not read again).
FILES_PER_WRITE = 50_000


def is_job_folder(folder: Path) -> bool:
    """Whether ``folder`` is a labeling job's output folder (see the module docstring)."""
    return (folder.joinpath(*WORKER_RESPONSE_DIR)).is_dir() or (
        folder.joinpath(*OUTPUT_MANIFEST)
    ).is_file()


def find_job_folders(paths: Sequence[Path]) -> list[Path]:
    """The job output folders among ``paths`` and under them (not inside one another), sorted.

    Symbolic links to folders are not followed; hidden folders are skipped, as ingest does.
    """
    found: set[Path] = set()
    for path in paths:
        if not path.is_dir():
            continue
        if is_job_folder(path):
            found.add(path)
            continue
        for folder, subfolders, _ in os.walk(path):
            current = Path(folder)
            kept = []
            for name in sorted(subfolders):
                if name.startswith("."):
                    continue
                if is_job_folder(current / name):
                    found.add(current / name)
                else:
                    kept.append(name)
            subfolders[:] = kept
    return sorted(found)


def job_name_of(folder: Path) -> str:
    """The job's name: the folder's own name (``.`` and ``..`` resolved first)."""
    name = folder.name if folder.name not in ("", ".", "..") else folder.resolve().name
    return path_text(name)


def job_output_folders(folders: Sequence[Path]) -> frozenset[Path]:
    """The ``annotations`` and ``manifests`` folders of job folders ``folders``: read here, so
    the walk for log files leaves them out."""
    return frozenset(folder / name for folder in folders for name in ("annotations", "manifests"))


def job_files(folder: Path, warnings: list[str]) -> Iterator[tuple[str, str, JobFile]]:
    """The worker-response files and output manifest of job folder ``folder``, sorted, as
    ``(path, path relative to the folder, kind)``.

    Anything there that is not a regular file (a FIFO, a broken link) is skipped with a line in
    ``warnings``; it is never opened. Walked with ``os.scandir`` and plain strings (no ``stat``
    for a regular file, no ``Path`` per file): a job folder may hold hundreds of thousands.
    """
    root = os.fspath(folder)
    relative = "/".join(OUTPUT_MANIFEST)
    manifest = os.path.join(root, relative)
    if os.path.lexists(manifest):
        yield from _regular(manifest, relative, OUTPUT_MANIFEST, warnings)
    yield from _walk(os.path.join(root, *WORKER_RESPONSE_DIR), WORKER_RESPONSE_DIR, warnings)


def _walk(
    directory: str, parts: tuple[str, ...], warnings: list[str]
) -> Iterator[tuple[str, str, JobFile]]:
    try:
        with os.scandir(directory) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as exc:
        warnings.append(f"{path_text(directory)}: folder cannot be read ({exc.strerror or exc})")
        return
    # What a file here is depends on the folder and on its name ending in .json only (see
    # job_file): worked out once per folder, not per file.
    json_kind = job_file((*parts, "file.json"))
    prefix = "/".join(parts) + "/"
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(entry.path, (*parts, name), warnings)
            continue
        if json_kind is None or not name.endswith(".json"):
            continue
        try:
            regular = entry.is_file(follow_symlinks=True)
        except OSError:
            regular = False
        if regular:
            yield entry.path, prefix + name, json_kind
        else:
            yield from _regular(entry.path, prefix + name, (*parts, name), warnings)


def _regular(
    path: str, relative: str, parts: tuple[str, ...], warnings: list[str]
) -> Iterator[tuple[str, str, JobFile]]:
    """``path`` if it is a regular file, else a warning saying what it is."""
    kind = job_file(parts)
    if kind is None:
        return
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        problem = f"{path_text(path)}: {_stat_problem(Path(path), exc)}: skipped"
    else:
        if stat.S_ISREG(mode):
            yield path, relative, kind
            return
        problem = f"{path_text(path)}: {_kind_of(mode)}, not a regular file: skipped"
    # Said once: the walk of the folder for log files may have said it already.
    if problem not in warnings:
        warnings.append(problem)


def read_job_file(path: str) -> bytes:
    """The bytes of regular file ``path`` (refused without blocking if it became a FIFO)."""
    return read_regular_file(path)


def ingest_job_folders(
    store: Store,
    folders: Sequence[Path],
    *,
    warnings: list[str],
    unreadable: list[str],
    files_per_write: int = FILES_PER_WRITE,
) -> StoredResponses:
    """Read the worker responses and output manifests of ``folders`` into ``store``.

    A file that cannot be opened is listed in ``unreadable``; one that opens but cannot be
    read as a worker-response file is a rejected item with its reason: neither stops the run.
    """
    totals = StoredResponses()
    for folder in folders:
        job_name = job_name_of(folder)
        # Sources are absolute: the folder resolved once (a resolve per file costs more than
        # reading it), the rest as found.
        resolved = path_text(folder.resolve())
        parsed = ParsedResponses()
        pending = 0
        for path, relative, kind in job_files(folder, warnings):
            # path_text leaves ASCII as it is: only other names need it.
            source = f"{resolved}/{relative if relative.isascii() else path_text(relative)}"
            try:
                data = read_job_file(path)
            except OSError as exc:
                unreadable.append(f"{path_text(path)}: cannot be read ({exc.strerror or exc})")
                continue
            except InputFileError as exc:  # swapped for a FIFO after the listing
                unreadable.append(str(exc))
                continue
            if kind.kind == "output-manifest":
                parse_output_manifest(data, job_name=job_name, source=source, into=parsed)
            else:
                parse_worker_response(
                    data, job_name=job_name, where=kind, source=source, into=parsed
                )
            pending += 1
            if pending >= files_per_write:
                totals = add_counts(totals, store_parsed(store, parsed))
                parsed, pending = ParsedResponses(), 0
        if pending:
            totals = add_counts(totals, store_parsed(store, parsed))
    return totals
