"""Write what was read from job outputs into the store: responses once, labels, gold answers.

- ``responses``: one row per (job, object index, worker, submission time). A response already
  stored is never written again, wherever it is read from next (the same file on disk and in
  S3): the stored row, with the source it was first read from, stays as it is.
- ``consolidated``: one row per (job, object index). A label read again unchanged keeps its row;
  a changed one (a job's manifest written anew) replaces it.
- ``gold``: a job's gold answers, replaced as a whole by each ``gt-throughput gold``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from analytics.errors import InputFileError, UsageError
from analytics.ingest.files import _open_regular, path_text
from analytics.responses.parse import ParsedResponses
from analytics.store import schema
from analytics.store.store import Store

#: Labeling job names as SageMaker allows them (CreateLabelingJob ``LabelingJobName``).
JOB_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
_CONSOLIDATED_VALUES = ("label_attribute", "task_type", "label", "metadata")


@dataclass(frozen=True)
class StoredResponses:
    """What one write of parsed job outputs did.

    ``responses_read`` counts the answers found in readable files, ``responses_rejected`` those
    of them not stored (no worker id, no usable submission time...), ``files_rejected`` the
    worker-response files not readable at all (their answers are not counted: unknown).
    """

    files_read: int = 0
    files_rejected: int = 0
    responses_read: int = 0
    responses_new: int = 0
    responses_rejected: int = 0
    labels_read: int = 0
    labels_new: int = 0
    lines_rejected: int = 0


def add_counts(first: StoredResponses, second: StoredResponses) -> StoredResponses:
    """The sum of two counts of stored job outputs."""
    return StoredResponses(
        *(getattr(first, name) + getattr(second, name) for name in first.__dataclass_fields__)
    )


def store_parsed(store: Store, parsed: ParsedResponses) -> StoredResponses:
    """Write ``parsed`` into ``store``: new responses, new or changed labels, rejected items.

    Responses and labels go first and rejected items last; every write is keyed, so an
    interruption between two writes leaves what a rerun completes without adding anything twice.
    """
    responses = parsed.responses_table()
    new = store.upsert_table("responses", responses, keep="first") if responses.num_rows else 0
    consolidated = parsed.consolidated_table()
    labels_new = _store_consolidated(store, consolidated) if consolidated.num_rows else 0
    rejected = parsed.rejected_table()
    store.add_rejected(rejected)
    return StoredResponses(
        files_read=parsed.files_read,
        files_rejected=parsed.files_rejected,
        responses_read=parsed.answers_read,
        responses_new=new,
        responses_rejected=parsed.answers_read - responses.num_rows,
        labels_read=consolidated.num_rows,
        labels_new=labels_new,
        lines_rejected=parsed.lines_rejected,
    )


def _store_consolidated(store: Store, table: pa.Table) -> int:
    key = ["labeling_job_name", "object_index"]

    def changed(stored: pa.Table) -> pa.Array:
        # Stored labels that ``table`` gives differently are dropped, so the new one is kept;
        # an unchanged one keeps its row (and the source it was first read from).
        old = stored.select([*key, *_CONSOLIDATED_VALUES]).to_pandas()
        new = table.select([*key, *_CONSOLIDATED_VALUES]).to_pandas()
        new = new.drop_duplicates(subset=key, keep="first")
        merged = old.merge(new, on=key, how="left", suffixes=("", "_new"), indicator=True)
        differs = np.zeros(len(merged), dtype=bool)
        for name in _CONSOLIDATED_VALUES:
            before, after = merged[name], merged[f"{name}_new"]
            same = (before.isna() & after.isna()) | (before == after)
            differs |= ~same.to_numpy(dtype=bool)
        return pa.array((merged["_merge"] == "both").to_numpy() & differs)

    return store.upsert_table("consolidated", table, replacing=changed, keep="first")


# --------------------------------------------------------------------------- gold answers
def check_job_name(job_name: str, argument: str = "--job") -> str:
    """``job_name`` if SageMaker could have given it, else a ``UsageError`` naming the rule."""
    if not JOB_NAME.fullmatch(job_name):
        shown = orjson.dumps(job_name).decode()
        raise UsageError(
            f"{argument} {shown} is not a labeling job name: 1 to 63 letters, digits and"
            " hyphens, starting and ending with a letter or digit (as in the job's S3 output"
            " folder)"
        )
    return job_name


def parse_gold(data: bytes, source: str) -> dict[int, str]:
    """Gold answers from JSON lines ``{"<object index>": "<label>"}`` (AWS's accuracy sample).

    A line may hold several objects; blank lines are skipped.

    Raises
    ------
    InputFileError
        The first problem, naming ``source``, the 1-based line and what is wrong; nothing is
        kept from a file with any problem.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    answers: dict[int, str] = {}
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        where = f"{source} line {number}"
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InputFileError(
                f'{where}: not JSON ({exc}): write one object per line, e.g. {{"0": "cat"}}'
            ) from exc
        if not isinstance(value, dict) or not value:
            raise InputFileError(
                f'{where}: not a JSON object of object index to label, e.g. {{"0": "cat"}}'
            )
        for key, label in value.items():
            shown = orjson.dumps(key).decode()
            if not key.isascii() or not key.isdigit() or len(key) > 18:
                raise InputFileError(
                    f"{where}: object index {shown} is not a whole number >= 0 (the line"
                    " number of the object in the output manifest, from 0)"
                )
            if not isinstance(label, str) or not label:
                raise InputFileError(
                    f"{where}: the label of object {key} is not a non-empty string"
                )
            try:
                label.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise InputFileError(
                    f"{where}: the label of object {key} is not valid text (a lone surrogate)"
                ) from exc
            index = int(key)
            if index in answers:
                raise InputFileError(
                    f"{where}: object {index} has a gold answer already: give one per object"
                )
            answers[index] = label
    if not answers:
        raise InputFileError(
            f'{source}: no gold answer in it: write JSON lines such as {{"0": "cat"}}'
        )
    return answers


#: The largest gold file read: a gold set is a few answers per object of one job.
MAX_GOLD_FILE_BYTES = 256 << 20


def load_gold_file(store: Store, job_name: str, path: Path) -> int:
    """``gt-throughput gold``: read gold file ``path`` and make it job ``job_name``'s gold set.

    Nothing is stored unless the whole file is good. Returns how many answers were stored.

    Raises
    ------
    UsageError
        ``job_name`` is not a name SageMaker could have given.
    InputFileError
        ``path`` is missing, not a regular file, too large, or malformed (the line and why).
    """
    check_job_name(job_name)
    shown = path_text(path)
    try:
        with _open_regular(path) as stream:
            data = stream.read(MAX_GOLD_FILE_BYTES + 1)
    except InputFileError as exc:  # a folder, FIFO or device
        why = str(exc).removeprefix(f"{shown}: ").split(":", 1)[0]
        raise InputFileError(
            f'{shown}: {why}: name a JSON lines file of gold answers ({{"0": "cat"}} per line)'
        ) from exc
    except OSError as exc:
        raise InputFileError(
            f"{shown}: cannot be read ({exc.strerror or exc}): name a JSON lines file of gold"
            ' answers ({"0": "cat"} per line)'
        ) from exc
    if len(data) > MAX_GOLD_FILE_BYTES:
        raise InputFileError(f"{shown}: larger than {MAX_GOLD_FILE_BYTES >> 20} MB: not a gold set")
    return store_gold(store, job_name, parse_gold(data, shown))


def store_gold(
    store: Store, job_name: str, answers: dict[int, str], *, now: dt.datetime | None = None
) -> int:
    """Replace the gold answers of ``job_name`` in ``store`` with ``answers``; returns how many.

    The other jobs' gold answers are kept. One write (a rename): a crash leaves the old set or
    the new one, never a mix.
    """
    check_job_name(job_name)
    now = now or dt.datetime.now(dt.UTC)
    fresh = pa.table(
        {
            "labeling_job_name": pa.array([job_name] * len(answers), pa.string()),
            "object_index": pa.array(sorted(answers), pa.int64()),
            "label": pa.array([answers[i] for i in sorted(answers)], pa.string()),
            "loaded_at": pa.array([now] * len(answers), schema.UTC_MS),
        },
        schema=schema.GOLD,
    )

    def of_this_job(stored: pa.Table) -> pa.Array:
        return pc.equal(stored["labeling_job_name"], job_name)

    store.upsert_table("gold", fresh, replacing=of_this_job)
    return fresh.num_rows
