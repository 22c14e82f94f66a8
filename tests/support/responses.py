"""Worker responses, consolidated labels and gold answers written by hand, with exactly the columns
of the contract between the readers and the numbers (``dataset.table_schema``), for metric tests.

``response("w1", 3, label("cat"), "10:00", "10:01", active=20.0)`` is worker ``w1``'s answer on
object 3 of ``job-a``, accepted at 10:00 and submitted at 10:01 UTC on ``DAY``.
"""

from __future__ import annotations

from typing import Any

import orjson
import pandas as pd

from analytics.dataset import table_schema
from tests.support.team_data import DAY, at

IMAGE_CLASSIFICATION = "groundtruth/image-classification"
MULTI_LABEL = "groundtruth/image-classification-multilabel"
OBJECT_DETECTION = "groundtruth/object-detection"


def canonical(value: Any) -> str:
    """``value`` as the readers store JSON: orjson, sorted keys."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def label(name: str) -> str:
    """An image-classification ``answerContent``."""
    return canonical({"crowd-image-classifier": {"label": name}})


def labels(*names: str) -> str:
    """A multi-label ``answerContent``."""
    return canonical({"crowd-image-classifier-multi-select": {"labels": list(names)}})


def boxes(*items: tuple[str, float, float, float, float]) -> str:
    """A bounding-box ``answerContent``: items are (label, left, top, width, height)."""
    return canonical(
        {
            "boundingBox": {
                "boundingBoxes": [
                    {"label": n, "left": x, "top": y, "width": w, "height": h}
                    for n, x, y, w, h in items
                ],
                "inputImageProperties": {"height": 100, "width": 100},
            }
        }
    )


def response(
    worker: str,
    object_index: int,
    answer: str | None,
    accepted: str | None = "10:00",
    submitted: str = "10:01",
    *,
    active: float | None = None,
    job: str = "job-a",
    day: str = DAY,
    sub: str | None = "",
) -> dict[str, Any]:
    """One row of the ``responses`` table; ``sub`` defaults to ``worker`` ("" means that)."""
    return {
        "labeling_job_name": job,
        "iteration": 1,
        "object_index": object_index,
        "worker_id": f"private.us-east-1.{worker}",
        "sub": worker if sub == "" else sub,
        "identity_provider_type": "Cognito",
        "issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool",
        "acceptance_time": pd.Timestamp(at(accepted, day)) if accepted else None,
        "submission_time": pd.Timestamp(at(submitted, day)),
        "active_seconds": active,
        "answer": answer,
        "source": f"{job}/annotations/worker-response/iteration-1/{object_index}/x.json",
    }


def classified(object_index: int, name: str, *, job: str = "job-a") -> dict[str, Any]:
    """A ``consolidated`` row of an image-classification object labeled ``name``."""
    return {
        "labeling_job_name": job,
        "object_index": object_index,
        "label_attribute": job,
        "task_type": IMAGE_CLASSIFICATION,
        "label": canonical(0),
        "metadata": canonical(
            {"class-name": name, "confidence": 0.9, "type": IMAGE_CLASSIFICATION}
        ),
        "source": f"{job}/manifests/output/output.manifest",
    }


def consolidated(
    object_index: int,
    task_type: str | None,
    value: Any,
    metadata: dict[str, Any],
    job: str = "job-a",
) -> dict[str, Any]:
    """Any ``consolidated`` row."""
    return {
        "labeling_job_name": job,
        "object_index": object_index,
        "label_attribute": job,
        "task_type": task_type,
        "label": canonical(value),
        "metadata": canonical(metadata),
        "source": f"{job}/manifests/output/output.manifest",
    }


def gold(object_index: int, name: str, job: str = "job-a") -> dict[str, Any]:
    """A ``gold`` row."""
    return {
        "labeling_job_name": job,
        "object_index": object_index,
        "label": name,
        "loaded_at": pd.Timestamp(at("00:00")),
    }


def frame(rows: list[dict[str, Any]], table: str) -> pd.DataFrame:
    """``rows`` as a frame with exactly the contract's columns of ``table``."""
    names = table_schema(table).names
    return pd.DataFrame(rows, columns=names)
