"""Read Ground Truth's job output files: worker-response files and the output manifest.

Parsers take bytes and names, never paths or clients: the same functions read a file on disk and
an object in S3. The formats are in ``docs/responses.md`` (and the facts file, section 6):

- ``annotations/worker-response/iteration-<N>/<object index>/<timestamp>.json``:
  ``{"answers": [{"workerId", "submissionTime", "acceptanceTime", "timeSpentInSeconds",
  "workerMetadata": {"identityData": {"sub", "identityProviderType", "issuer"}},
  "answerContent"}, ...]}``, one answer per worker;
- ``manifests/output/output.manifest``: one JSON object per line, line i for object i, with the
  label attribute ``<attr>`` and ``<attr>-metadata``.

Every value is checked where it is read, and a bad one affects only its own answer (or manifest
line): an answer without a worker id or a usable submission time is rejected with its reason, the
other answers of the file are kept; an acceptance time or active time that is not usable is kept
as null.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from analytics.ingest.times import parse_times
from analytics.store import schema

#: Longest raw text kept with a rejected file, answer or line (the contract: 4 KiB).
MAX_RAW_BYTES = 4096
#: Where the answers of a job are, relative to its folder.
WORKER_RESPONSE_DIR = ("annotations", "worker-response")
#: Where the consolidated labels of a job are, relative to its folder.
OUTPUT_MANIFEST = ("manifests", "output", "output.manifest")
_ITERATION = re.compile(r"iteration-(\d{1,9})")
_OBJECT_INDEX = re.compile(r"\d{1,18}")

#: Why a worker-response file, one of its answers, or a manifest line is not stored, besides the
#: reasons it shares with log lines (``invalid_json``, ``truncated_json``,
#: ``too_deeply_nested``). ``analytics.ingest.rules.REJECT_REASONS`` holds both: one table
#: explains every reason the rejected table holds.
JOB_OUTPUT_REJECT_REASONS = {
    "unknown_shape": (
        'a worker-response file that is JSON but not {"answers": [...]}, an answer that is not'
        " an object, or an output-manifest line that is not an object"
    ),
    "unexpected_path": (
        "a file under annotations/worker-response/ not at iteration-<N>/<object index>/<name>.json"
    ),
    "no_worker_id": "a worker response without workerId (as non-empty text)",
    "invalid_submission_time": "a worker response without a usable submissionTime",
    "invalid_answer": "a worker response whose answerContent cannot be kept as JSON",
    "invalid_label": "an output-manifest line whose label or metadata cannot be kept as JSON",
    "too_large": "an S3 object too large to be a worker-response file or output manifest",
}


@dataclass
class ParsedResponses:
    """Columns of rows for the ``responses`` and ``consolidated`` tables, and rejected items.

    Built up file by file (:func:`parse_worker_response`, :func:`parse_output_manifest`) and
    turned into tables once (:meth:`responses_table` ...), so that thousands of small files cost
    one Arrow conversion.
    """

    responses: dict[str, list[Any]] = field(
        default_factory=lambda: {name: [] for name in schema.RESPONSES.names}
    )
    submission_texts: list[str | None] = field(default_factory=list)
    acceptance_texts: list[str | None] = field(default_factory=list)
    consolidated: dict[str, list[Any]] = field(
        default_factory=lambda: {name: [] for name in schema.CONSOLIDATED.names}
    )
    #: ``(source, location, reason, detail, raw_text)`` of each rejected item.
    rejected: list[tuple[str, str, str, str | None, str]] = field(default_factory=list)
    #: Answers seen (stored or rejected): what the ingest report calls "responses read".
    answers_read: int = 0
    files_read: int = 0
    #: Worker-response files rejected as a whole, and output-manifest lines rejected.
    files_rejected: int = 0
    lines_rejected: int = 0

    def reject(self, source: str, location: str, reason: str, detail: str | None, raw: Any) -> None:
        """Keep an item aside with its reason and at most ``MAX_RAW_BYTES`` of its text."""
        self.rejected.append((source, location, reason, detail, raw_text(raw)))

    def reject_file(self, source: str, reason: str, detail: str | None, raw: Any) -> None:
        self.files_rejected += 1
        self.reject(source, "file", reason, detail, raw)

    def reject_line(
        self, source: str, line: int, reason: str, detail: str | None, raw: Any
    ) -> None:
        self.lines_rejected += 1
        self.reject(source, str(line), reason, detail, raw)

    # ------------------------------------------------------------------ tables
    def responses_table(self) -> pa.Table:
        """The ``responses`` rows. Call it before :meth:`rejected_table`.

        Times are parsed here, in one column, by :func:`analytics.ingest.times.parse_times` (the
        project's one time rule): an answer whose submission time does not parse (or is not
        plausible) is moved to the rejected items.
        """
        submitted, _ = parse_times(pa.array(self.submission_texts, pa.string()))
        accepted, _ = parse_times(pa.array(self.acceptance_texts, pa.string()))
        arrays = {
            name: pa.array(values, schema.RESPONSES.field(name).type)
            for name, values in self.responses.items()
        }
        arrays["submission_time"] = submitted
        arrays["acceptance_time"] = accepted
        table = pa.table(arrays)
        valid = np.asarray(submitted.is_valid())
        if valid.all():
            return table.cast(schema.RESPONSES)
        for row in np.flatnonzero(~valid):
            text = self.submission_texts[row]
            self.reject(
                self.responses["source"][row],
                "file",
                "invalid_submission_time",
                f"answer of {self.responses['worker_id'][row]}: submissionTime "
                + ("is missing" if text is None else "is not a time"),
                {"submissionTime": text},
            )
        return table.filter(pa.array(valid)).cast(schema.RESPONSES)

    def consolidated_table(self) -> pa.Table:
        return pa.table(self.consolidated, schema=schema.CONSOLIDATED)

    def rejected_table(self) -> pa.Table:
        """The rejected items as ``schema.REJECTED`` rows (key: MD5 of source, location, text)."""
        if not self.rejected:
            return schema.REJECTED.empty_table()
        sources, locations, reasons, details, texts = map(list, zip(*self.rejected, strict=True))
        keys = b"".join(
            hashlib.md5(
                f"{s}\x00{loc}\x00{t}".encode(errors="backslashreplace"), usedforsecurity=False
            ).digest()
            for s, loc, t in zip(sources, locations, texts, strict=True)
        )
        now = dt.datetime.now(dt.UTC)
        return pa.table(
            {
                "reject_key": pa.FixedSizeBinaryArray.from_buffers(
                    pa.binary(16), len(texts), [None, pa.py_buffer(keys)]
                ),
                "source": pa.array(sources, pa.string()),
                "location": pa.array(locations, pa.string()),
                "reason": pa.array(reasons, pa.string()),
                "detail": pa.array(details, pa.string()),
                "raw_text": pa.array(texts, pa.string()),
                "rejected_at": pa.array([now] * len(texts), schema.UTC_MS),
            },
            schema=schema.REJECTED,
        )


# --------------------------------------------------------------------------- paths
@dataclass(frozen=True)
class JobFile:
    """What a file inside a job's output folder is: a worker-response file or the manifest."""

    kind: str  # "worker-response" or "output-manifest"
    iteration: int | None = None
    object_index: int | None = None


def job_file(parts: Sequence[str]) -> JobFile | None:
    """What the file at ``parts`` (its path relative to the job folder, split) is, or None.

    Files of a job folder that hold neither answers nor consolidated labels (the
    consolidated-annotation folder, intermediate manifests, Ground Truth's own logs) are None:
    they are not read. A file under ``annotations/worker-response/`` in an unexpected place is a
    worker-response file without an object index (rejected as ``unexpected_path``).
    """
    parts = tuple(parts)
    if parts == OUTPUT_MANIFEST:
        return JobFile("output-manifest")
    if parts[:2] != WORKER_RESPONSE_DIR or not parts[-1].endswith(".json"):
        return None
    rest = parts[2:]
    iteration = _ITERATION.fullmatch(rest[0]) if len(rest) == 3 else None
    if iteration is None or not _OBJECT_INDEX.fullmatch(rest[1]):
        return JobFile("worker-response")
    return JobFile("worker-response", int(iteration.group(1)), int(rest[1]))


# --------------------------------------------------------------------------- values
def raw_text(raw: Any) -> str:
    """At most ``MAX_RAW_BYTES`` of ``raw`` (bytes or a decoded value) as text, to keep."""
    if isinstance(raw, bytes | bytearray | memoryview):
        data = bytes(raw[:MAX_RAW_BYTES])
    else:
        try:
            data = orjson.dumps(raw)[:MAX_RAW_BYTES]
        except TypeError:
            data = repr(raw).encode("utf-8", "backslashreplace")[:MAX_RAW_BYTES]
    return data.decode("utf-8", errors="backslashreplace")


def canonical_json(value: Any) -> str | None:
    """``value`` as canonical JSON text (orjson, sorted keys); None when it cannot be written
    as JSON (an integer beyond 64 bits, a lone surrogate in a string)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return None


def _text(value: Any) -> str | None:
    """A non-empty string that can be stored (UTF-8 encodable), else None."""
    if not isinstance(value, str) or not value:
        return None
    if value.isascii():  # nearly every value: no need to encode it
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def _seconds(value: Any) -> float | None:
    """``timeSpentInSeconds`` as a finite number >= 0, else None (bool, text, NaN, 1e400...)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _decode(data: bytes) -> tuple[Any, str | None, str | None]:
    """The JSON value of ``data``, or (None, reason, detail).

    orjson first; a document it refuses only for a value it cannot represent (an integer beyond
    64 bits, NaN, a lone surrogate, bytes that are not UTF-8) is read by the standard library,
    so that such a value affects only the answer holding it. Nesting deeper than either reads
    (about 1,000 levels) makes the whole document unreadable.
    """
    try:
        return orjson.loads(data), None, None
    except orjson.JSONDecodeError as error:
        first = error
    try:
        # Bytes that are not UTF-8 become lone surrogates, which no stored text may hold: a
        # field holding them is treated as absent, in its own answer only.
        text = data.decode("utf-8", "surrogateescape")
        return json.loads(text, strict=False), None, None  # strict: control bytes in strings
    except RecursionError:
        return None, "too_deeply_nested", "nested deeper than Python's JSON reader goes"
    except ValueError:
        if not data.strip():
            return None, "truncated_json", "empty: nothing was written (or it was cut off)"
        message = str(first)
        if "depth limit exceeded" in message:
            return None, "too_deeply_nested", message
        reason = "truncated_json" if "unexpected end of data" in message else "invalid_json"
        return None, reason, message


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


# --------------------------------------------------------------------------- worker responses
def parse_worker_response(
    data: bytes,
    *,
    job_name: str,
    where: JobFile,
    source: str,
    into: ParsedResponses,
) -> None:
    """Add the answers of one worker-response file to ``into`` (rejected ones with a reason).

    ``where`` says the iteration and object index (from the file's path); ``source`` is the
    path or ``s3://`` URI stored with each row.
    """
    into.files_read += 1
    if where.object_index is None:
        into.reject_file(source, "unexpected_path", "no iteration-<N>/<object index>", data)
        return
    document, reason, detail = _decode(data)
    if reason is not None:
        into.reject_file(source, reason, detail, data)
        return
    answers = document.get("answers") if isinstance(document, dict) else None
    if not isinstance(answers, list):
        shape = "an object without an answers list" if isinstance(document, dict) else None
        detail = shape or f"{_json_type(document)}, not an object"
        into.reject_file(source, "unknown_shape", detail, data)
        return
    columns = into.responses
    for position, answer in enumerate(answers):
        into.answers_read += 1
        if not isinstance(answer, dict):
            into.reject(
                source,
                "file",
                "unknown_shape",
                f"answers[{position}] is {_json_type(answer)}, not an object",
                answer,
            )
            continue
        worker_id = _text(answer.get("workerId"))
        if worker_id is None:
            into.reject(source, "file", "no_worker_id", f"answers[{position}]", answer)
            continue
        content = answer.get("answerContent")
        answer_text = None if content is None else canonical_json(content)
        if content is not None and answer_text is None:
            into.reject(
                source,
                "file",
                "invalid_answer",
                f"answers[{position}] of {worker_id}: a value JSON cannot hold",
                answer,
            )
            continue
        metadata = answer.get("workerMetadata")
        identity = metadata.get("identityData") if isinstance(metadata, dict) else None
        identity = identity if isinstance(identity, dict) else {}
        submitted = answer.get("submissionTime")
        accepted = answer.get("acceptanceTime")
        into.submission_texts.append(_text(submitted))
        into.acceptance_texts.append(_text(accepted))
        columns["labeling_job_name"].append(job_name)
        columns["iteration"].append(where.iteration)
        columns["object_index"].append(where.object_index)
        columns["worker_id"].append(worker_id)
        columns["sub"].append(_text(identity.get("sub")))
        columns["identity_provider_type"].append(_text(identity.get("identityProviderType")))
        columns["issuer"].append(_text(identity.get("issuer")))
        columns["acceptance_time"].append(None)
        columns["submission_time"].append(None)
        columns["active_seconds"].append(_seconds(answer.get("timeSpentInSeconds")))
        columns["answer"].append(answer_text)
        columns["source"].append(source)


# --------------------------------------------------------------------------- output manifest
def label_attribute(line: dict[str, Any], job_name: str) -> str | None:
    """The label attribute of ``job_name`` in an output-manifest line, or None.

    A line may carry the labels of several jobs (a chained job keeps its parent's): the one
    whose ``<attr>-metadata`` names this job (``job-name`` ``labeling-job/<name>``) wins, then
    an attribute named after the job, then the only attribute with a metadata object.
    """
    suffix = "-metadata"
    attributes = [
        key[: -len(suffix)]
        for key, value in line.items()
        if isinstance(value, dict) and key.endswith(suffix) and key[: -len(suffix)] in line
    ]
    for attribute in attributes:
        named = line[f"{attribute}-metadata"].get("job-name")
        if isinstance(named, str) and named.rsplit("/", 1)[-1] == job_name:
            return attribute
    if job_name in attributes:
        return job_name
    return attributes[0] if len(attributes) == 1 else None


def parse_output_manifest(
    data: bytes, *, job_name: str, source: str, into: ParsedResponses
) -> None:
    """Add the consolidated label of each line of an output manifest to ``into``.

    Line i (0-based, blank lines included) is object i. A line without a label attribute (an
    object not labeled, or failed) is skipped; one that is not a JSON object is rejected with
    its 1-based line number as location.
    """
    into.files_read += 1
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    columns = into.consolidated
    for index, line in enumerate(data.split(b"\n")):
        if not line.strip():
            continue
        value, reason, detail = _decode(line)
        if reason is not None:
            into.reject_line(source, index + 1, reason, detail, line)
            continue
        if not isinstance(value, dict):
            detail = f"{_json_type(value)}, not an object"
            into.reject_line(source, index + 1, "unknown_shape", detail, line)
            continue
        attribute = label_attribute(value, job_name)
        if attribute is None or _text(attribute) is None:
            continue
        metadata = value[f"{attribute}-metadata"]
        label = canonical_json(value[attribute])
        metadata_text = canonical_json(metadata)
        if label is None or metadata_text is None:
            detail = f"label attribute {attribute}"
            into.reject_line(source, index + 1, "invalid_label", detail, line)
            continue
        columns["labeling_job_name"].append(job_name)
        columns["object_index"].append(index)
        columns["label_attribute"].append(attribute)
        columns["task_type"].append(_text(metadata.get("type")))
        columns["label"].append(label)
        columns["metadata"].append(metadata_text)
        columns["source"].append(source)
