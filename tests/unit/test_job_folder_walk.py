"""The walk of a job folder (worked out per folder, not per file) finds what ``job_file`` says."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from analytics.responses.files import ingest_job_folders, job_files, read_job_file
from analytics.responses.parse import job_file
from analytics.store.store import Store

ANSWER = (
    b'{"answers":[{"workerId":"w1","submissionTime":"2026-09-21T14:14:18.479Z",'
    b'"answerContent":{"x":{"label":"cat"}}}]}'
)
#: Paths under the job folder, as bytes (a name need not be UTF-8).
PATHS = [
    b"annotations/worker-response/iteration-1/5/a.json",
    b"annotations/worker-response/iteration-1/5/b.JSON",
    b"annotations/worker-response/iteration-1/5/notes.txt",
    b"annotations/worker-response/iteration-1/5/.hidden.json",
    b"annotations/worker-response/iteration-12/0/z.json",
    b"annotations/worker-response/iteration-x/5/a.json",
    b"annotations/worker-response/iteration-1/abc/a.json",
    b"annotations/worker-response/iteration-1/5/deeper/a.json",
    b"annotations/worker-response/stray.json",
    b"annotations/worker-response/iteration-1/6/caf\xc3\xa9.json",
    b"annotations/worker-response/iteration-1/7/\xff.json",
    b"annotations/consolidated-annotation/iteration-1/5/a.json",
    b"manifests/output/output.manifest",
    b"manifests/intermediate/1/output.manifest",
]


@pytest.fixture
def job_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "job-a"
    for relative in PATHS:
        path = os.path.join(os.fsencode(folder), relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as stream:
            stream.write(ANSWER if relative.endswith(b".json") else b"")
    return folder


def test_the_walk_yields_every_file_job_file_knows_with_its_kind(job_folder: Path) -> None:
    warnings: list[str] = []
    found = list(job_files(job_folder, warnings))
    expected = []
    for relative in PATHS:
        text = os.fsdecode(relative)
        parts = tuple(text.split("/"))
        kind = job_file(parts)
        if kind is not None and not parts[-1].startswith("."):
            expected.append((os.path.join(os.fspath(job_folder), text), text, kind))
    assert sorted(found) == sorted(expected)
    assert len(found) == 9
    assert not warnings
    assert all(
        read_job_file(path) == (ANSWER if path.endswith(".json") else b"") for path, *_ in found
    )


def test_the_source_of_a_file_with_a_name_that_is_not_utf8_is_escaped(
    job_folder: Path, store: Store
) -> None:
    warnings: list[str] = []
    ingest_job_folders(store, [job_folder], warnings=warnings, unreadable=[])
    sources = set(store.read_table("responses").column("source").to_pylist())
    root = os.fspath(job_folder.resolve())
    assert f"{root}/annotations/worker-response/iteration-1/7/\\xff.json" in sources
    assert f"{root}/annotations/worker-response/iteration-1/6/café.json" in sources
    assert f"{root}/annotations/worker-response/iteration-1/5/a.json" in sources
