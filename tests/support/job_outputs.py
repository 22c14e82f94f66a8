"""Job output folders for the tests: worker-response files and output manifests as Ground Truth
writes them (facts file, section 6), built from small dicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1"


def make_answer(worker: str = "a", label: str = "cat", **overrides: Any) -> dict[str, Any]:
    """One entry of a worker-response file's ``answers``; ``None`` removes a field."""
    answer: dict[str, Any] = {
        "acceptanceTime": "2026-10-27T10:00:00.000Z",
        "answerContent": {"crowd-image-classifier": {"label": label}},
        "submissionTime": "2026-10-27T10:00:09.500Z",
        "timeSpentInSeconds": 8.25,
        "workerId": f"private.us-east-1.{worker}",
        "workerMetadata": {
            "identityData": {
                "identityProviderType": "Cognito",
                "issuer": ISSUER,
                "sub": f"sub-{worker}",
            }
        },
    }
    answer.update(overrides)
    return {k: v for k, v in answer.items() if v is not None}


def response_file(*answers: dict[str, Any]) -> bytes:
    """A worker-response file holding ``answers``."""
    return json.dumps({"answers": list(answers)}).encode()


def response_path(index: int, iteration: int = 1, name: str = "2026-10-27_10:00:09.json") -> str:
    """The path of a worker-response file relative to its job folder."""
    return f"annotations/worker-response/iteration-{iteration}/{index}/{name}"


MANIFEST_PATH = "manifests/output/output.manifest"


def classification_line(job: str, class_id: int, class_name: str) -> dict[str, Any]:
    """An output-manifest line of an image-classification job."""
    return {
        "source-ref": f"s3://bucket/images/{class_id}.jpg",
        job: class_id,
        f"{job}-metadata": {
            "class-name": class_name,
            "confidence": 0.91,
            "type": "groundtruth/image-classification",
            "job-name": f"labeling-job/{job}",
            "human-annotated": "yes",
            "creation-date": "2026-10-27T10:05:00.000000",
        },
    }


def manifest(*lines: dict[str, Any] | bytes) -> bytes:
    """An output manifest: one JSON line per object (bytes given as they are)."""
    return b"".join(
        (line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines
    )


def write_job_folder(root: Path, job: str, files: dict[str, bytes]) -> Path:
    """A job output folder ``root/job`` holding ``files`` (paths relative to it)."""
    folder = root / job
    for relative, content in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return folder


def small_job(job: str = "cats-2026") -> dict[str, bytes]:
    """Three objects answered by two or three workers, and their output manifest."""
    return {
        response_path(0): response_file(make_answer("a"), make_answer("b")),
        response_path(1): response_file(
            make_answer("a", "dog", submissionTime="2026-10-27T10:01:00Z"),
            make_answer("b", "dog", submissionTime="2026-10-27T10:01:02Z"),
            make_answer("c", "cat", submissionTime="2026-10-27T10:01:05Z"),
        ),
        response_path(2): response_file(make_answer("c", submissionTime="2026-10-27T10:02:00Z")),
        MANIFEST_PATH: manifest(
            classification_line(job, 0, "cat"),
            classification_line(job, 1, "dog"),
            classification_line(job, 0, "cat"),
        ),
    }
