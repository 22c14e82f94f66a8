"""Worker responses, output manifests and gold answers: read, kept once, rejected with a reason."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from analytics.errors import InputFileError, UsageError
from analytics.ingest.rules import REJECT_REASONS
from analytics.ingest.run import ingest_paths
from analytics.responses.parse import (
    JobFile,
    ParsedResponses,
    label_attribute,
    parse_output_manifest,
    parse_worker_response,
)
from analytics.responses.tables import check_job_name, parse_gold, store_gold, store_parsed
from analytics.store.store import Store
from tests.conftest import message_line
from tests.support.hostile_values import ABSURD_VALUES
from tests.support.job_outputs import (
    MANIFEST_PATH,
    classification_line,
    make_answer,
    manifest,
    response_file,
    response_path,
    small_job,
    write_job_folder,
)

JOB = "cats-2026"
WHERE = JobFile("worker-response", 1, 7)


def parse_one(data: bytes, where: JobFile = WHERE) -> ParsedResponses:
    parsed = ParsedResponses()
    parse_worker_response(data, job_name=JOB, where=where, source="f.json", into=parsed)
    return parsed


def rows_and_reasons(data: bytes) -> tuple[list[dict[str, Any]], list[str]]:
    parsed = parse_one(data)
    rows = parsed.responses_table().to_pylist()
    return rows, [item[2] for item in parsed.rejected]


# --------------------------------------------------------------------------- one answer
def test_an_answer_becomes_one_row_with_every_field() -> None:
    (row,), reasons = rows_and_reasons(response_file(make_answer("w1", "dog")))

    assert reasons == []
    assert row["labeling_job_name"] == JOB
    assert (row["iteration"], row["object_index"]) == (1, 7)
    assert row["worker_id"] == "private.us-east-1.w1"
    assert (row["sub"], row["identity_provider_type"]) == ("sub-w1", "Cognito")
    assert row["issuer"].startswith("https://cognito-idp.")
    assert row["acceptance_time"].isoformat() == "2026-10-27T10:00:00+00:00"
    assert row["submission_time"].isoformat() == "2026-10-27T10:00:09.500000+00:00"
    assert row["active_seconds"] == 8.25
    assert row["answer"] == '{"crowd-image-classifier":{"label":"dog"}}'
    assert row["source"] == "f.json"


@pytest.mark.parametrize(
    ("overrides", "column", "expected"),
    [
        pytest.param({"timeSpentInSeconds": None}, "active_seconds", None, id="no-active-time"),
        pytest.param({"timeSpentInSeconds": -1}, "active_seconds", None, id="negative-active"),
        pytest.param({"timeSpentInSeconds": "8"}, "active_seconds", None, id="active-as-text"),
        pytest.param({"timeSpentInSeconds": True}, "active_seconds", None, id="active-boolean"),
        pytest.param({"timeSpentInSeconds": 0}, "active_seconds", 0.0, id="zero-active"),
        pytest.param({"acceptanceTime": None}, "acceptance_time", None, id="no-acceptance"),
        pytest.param({"acceptanceTime": "soon"}, "acceptance_time", None, id="bad-acceptance"),
        pytest.param({"workerMetadata": None}, "sub", None, id="no-metadata"),
        pytest.param({"workerMetadata": [1]}, "sub", None, id="metadata-not-object"),
        pytest.param({"answerContent": None}, "answer", None, id="no-answer-content"),
        pytest.param(
            {"answerContent": {"b": 1, "a": [2, {"d": 1, "c": 0}]}},
            "answer",
            '{"a":[2,{"c":0,"d":1}],"b":1}',
            id="answer-keys-sorted",
        ),
    ],
)
def test_an_unusable_optional_field_is_null_and_the_answer_kept(
    overrides: dict[str, Any], column: str, expected: object
) -> None:
    (row,), reasons = rows_and_reasons(response_file(make_answer(**overrides)))
    assert reasons == []
    assert row[column] == expected


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        pytest.param({"workerId": None}, "no_worker_id", id="no-worker-id"),
        pytest.param({"workerId": ""}, "no_worker_id", id="empty-worker-id"),
        pytest.param({"workerId": 12}, "no_worker_id", id="numeric-worker-id"),
        pytest.param({"submissionTime": None}, "invalid_submission_time", id="no-submission"),
        pytest.param({"submissionTime": "x"}, "invalid_submission_time", id="bad-submission"),
        pytest.param(
            {"submissionTime": "1970-01-01T00:00:00Z"}, "invalid_submission_time", id="epoch-0"
        ),
        pytest.param({"answerContent": {"n": "\ud800"}}, "invalid_answer", id="lone-surrogate"),
    ],
)
def test_an_answer_without_identity_or_time_is_rejected_and_its_file_mates_kept(
    overrides: dict[str, Any], reason: str
) -> None:
    data = json.dumps(
        {"answers": [make_answer("good"), make_answer("bad", **overrides)]}, allow_nan=True
    ).encode()
    rows, reasons = rows_and_reasons(data)
    assert [r["worker_id"] for r in rows] == ["private.us-east-1.good"]
    assert reasons == [reason]
    assert reason in REJECT_REASONS


ANSWER_FIELDS = (
    "workerId",
    "submissionTime",
    "acceptanceTime",
    "timeSpentInSeconds",
    "answerContent",
    "workerMetadata",
)
#: Values no JSON reader can read within its depth limit: the whole file is unreadable.
UNREADABLE_WHOLE = {"10,000-deep array"}


def _with_raw_value(answer: dict[str, object], name: str, value: bytes) -> bytes:
    placeholder = "@@absurd@@"
    text = json.dumps({**answer, name: placeholder})
    if value == b"DUPLICATE":
        return text[:-1].encode() + f', "{name}": {{"a": 1}}}}'.encode()
    return text.replace(f'"{placeholder}"', "\x00").encode().replace(b"\x00", value)


@pytest.mark.parametrize("field", ANSWER_FIELDS)
@pytest.mark.parametrize("value_name", sorted(ABSURD_VALUES))
def test_a_hostile_value_affects_only_its_own_answer(field: str, value_name: str) -> None:
    good = make_answer("good", submissionTime="2026-10-27T10:00:01Z")
    baseline, _ = rows_and_reasons(response_file(good))
    hostile = _with_raw_value(make_answer("bad"), field, ABSURD_VALUES[value_name])
    data = b'{"answers": [' + json.dumps(good).encode() + b", " + hostile + b"]}"

    parsed = parse_one(data)
    rows = parsed.responses_table().to_pylist()
    rejected = parsed.rejected_table()

    if value_name in UNREADABLE_WHOLE:
        assert (rows, parsed.files_rejected) == ([], 1)
        return
    assert rows[0] == baseline[0]
    assert len(rows) + rejected.num_rows == 2
    for row in rows[1:]:
        active = row["active_seconds"]
        assert active is None or (math.isfinite(active) and active >= 0)
        for text in (row["worker_id"], row["sub"], row["answer"]):
            assert text is None or isinstance(text, str)
    assert set(rejected.column("reason").to_pylist()) <= set(REJECT_REASONS)
    pa.Table.from_pylist(rows)  # every kept value is storable


# --------------------------------------------------------------------------- whole files
@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b'{"answers": [', "truncated_json", id="truncated"),
        pytest.param(b"", "truncated_json", id="empty-file"),
        pytest.param(b"<html>denied</html>", "invalid_json", id="html"),
        pytest.param(b"[1, 2]", "unknown_shape", id="array"),
        pytest.param(b'{"answer": []}', "unknown_shape", id="no-answers-list"),
        pytest.param(b'{"answers": {"a": 1}}', "unknown_shape", id="answers-not-a-list"),
        pytest.param(b"[" * 5000 + b"]" * 5000, "too_deeply_nested", id="deep"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_rejected_item(data: bytes, reason: str) -> None:
    parsed = parse_one(data)
    assert parsed.responses_table().num_rows == 0
    (item,) = parsed.rejected_table().to_pylist()
    assert (item["source"], item["location"], item["reason"]) == ("f.json", "file", reason)
    assert len(item["raw_text"].encode()) <= 4096 + 3


def test_a_file_out_of_place_under_worker_response_is_rejected() -> None:
    parsed = parse_one(response_file(make_answer()), JobFile("worker-response"))
    assert [i[2] for i in parsed.rejected] == ["unexpected_path"]


def test_the_raw_text_kept_is_at_most_4_kib() -> None:
    parsed = parse_one(b'{"answers": "' + b"x" * 100_000)
    assert len(parsed.rejected_table().column("raw_text")[0].as_py()) == 4096


# --------------------------------------------------------------------------- manifests
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(classification_line(JOB, 0, "cat"), JOB, id="named-after-the-job"),
        pytest.param(
            {"a": 1, "a-metadata": {"job-name": f"labeling-job/{JOB}"}, "b": 2, "b-metadata": {}},
            "a",
            id="metadata-names-the-job",
        ),
        pytest.param({"x": 1, "x-metadata": {"type": "t"}}, "x", id="the-only-attribute"),
        pytest.param({"x": 1, "x-metadata": {}, "y": 2, "y-metadata": {}}, None, id="ambiguous"),
        pytest.param({"source-ref": "s3://b/k"}, None, id="not-labeled"),
        pytest.param({"x-metadata": {}}, None, id="metadata-without-label"),
    ],
)
def test_the_label_attribute_of_a_manifest_line(
    line: dict[str, object], expected: str | None
) -> None:
    assert label_attribute(line, JOB) == expected


def test_manifest_line_i_is_object_i_and_bad_lines_are_rejected_by_line_number() -> None:
    data = manifest(
        classification_line(JOB, 0, "cat"),
        b"",
        b"[1]",
        b'{"truncated": ',
        {"source-ref": "s3://b/unlabeled.jpg"},
        classification_line(JOB, 1, "dog"),
    )
    parsed = ParsedResponses()
    parse_output_manifest(data, job_name=JOB, source="m", into=parsed)

    labels = parsed.consolidated_table().to_pylist()
    assert [(r["object_index"], r["label"]) for r in labels] == [(0, "0"), (5, "1")]
    assert labels[1]["task_type"] == "groundtruth/image-classification"
    assert json.loads(labels[1]["metadata"])["class-name"] == "dog"
    rejected = parsed.rejected_table().to_pylist()
    assert [(r["location"], r["reason"]) for r in rejected] == [
        ("3", "unknown_shape"),
        ("4", "truncated_json"),
    ]


# --------------------------------------------------------------------------- the store
def _responses(store: Store) -> pa.Table:
    return store.read_table("responses").sort_by(
        [("object_index", "ascending"), ("worker_id", "ascending")]
    )


def test_ingest_reads_a_job_folder_beside_log_files(tmp_path: Path, store: Store) -> None:
    write_job_folder(tmp_path / "in", JOB, small_job(JOB))
    (tmp_path / "in" / "activity.jsonl").write_text(message_line() + "\n", encoding="utf-8")

    report = ingest_paths(store, [tmp_path / "in"])

    assert (report.new_events, report.rejected, report.skipped) == (1, 0, [])
    assert (report.job_folders, report.responses_read, report.responses_new) == (1, 6, 6)
    assert store.read_table("consolidated").num_rows == 3
    assert "6 worker responses read, 6 new" in report.summary_line()


def test_the_same_files_read_again_from_anywhere_change_nothing(
    tmp_path: Path, store: Store
) -> None:
    folder = write_job_folder(tmp_path, JOB, small_job(JOB))
    ingest_paths(store, [folder])
    responses, labels = _responses(store), store.read_table("consolidated")

    again = ingest_paths(store, [folder])
    from_s3 = ParsedResponses()
    for relative, data in small_job(JOB).items():
        uri = f"s3://bucket/output/{JOB}/{relative}"
        if relative == MANIFEST_PATH:
            parse_output_manifest(data, job_name=JOB, source=uri, into=from_s3)
        else:
            index = int(relative.split("/")[3])
            where = JobFile("worker-response", 1, index)
            parse_worker_response(data, job_name=JOB, where=where, source=uri, into=from_s3)
    stored = store_parsed(store, from_s3)

    assert (again.responses_read, again.responses_new) == (6, 0)
    assert (stored.responses_read, stored.responses_new, stored.labels_new) == (6, 0, 0)
    assert _responses(store).equals(responses)
    assert store.read_table("consolidated").equals(labels)


def test_a_response_is_one_job_object_worker_and_submission_time(
    tmp_path: Path, store: Store
) -> None:
    first = write_job_folder(
        tmp_path / "one", JOB, {response_path(0): response_file(make_answer())}
    )
    later = make_answer(submissionTime="2026-10-27T11:00:00Z")
    second = write_job_folder(
        tmp_path / "two",
        JOB,
        {
            response_path(0, name="b.json"): response_file(make_answer(), later),
            response_path(1): response_file(make_answer()),
        },
    )
    other_job = write_job_folder(
        tmp_path / "three", "dogs", {response_path(0): response_file(make_answer())}
    )

    ingest_paths(store, [first])
    report = ingest_paths(store, [second, other_job])

    assert (report.responses_read, report.responses_new) == (4, 3)
    assert _responses(store).num_rows == 4


def test_a_changed_consolidated_label_replaces_the_stored_one(tmp_path: Path, store: Store) -> None:
    folder = write_job_folder(
        tmp_path, JOB, {MANIFEST_PATH: manifest(classification_line(JOB, 0, "cat"))}
    )
    ingest_paths(store, [folder])
    (folder / MANIFEST_PATH).write_bytes(manifest(classification_line(JOB, 1, "dog")))

    ingest_paths(store, [folder])

    (row,) = store.read_table("consolidated").to_pylist()
    assert (row["object_index"], row["label"]) == (0, "1")


def test_an_unreadable_entry_in_a_job_folder_never_stops_the_run(
    tmp_path: Path, store: Store
) -> None:
    files = small_job(JOB)
    files[response_path(3)] = b'{"answers": [{"workerId": "x"'
    folder = write_job_folder(tmp_path, JOB, files)
    fifo = folder / response_path(4)
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)

    report = ingest_paths(store, [folder])

    assert (report.responses_new, report.response_files_rejected) == (6, 1)
    assert [w for w in report.warnings if "not a regular file" in w]
    (rejected,) = store.load_rejected().to_pylist()
    assert rejected["reason"] == "truncated_json"
    assert rejected["source"].endswith(response_path(3))


# --------------------------------------------------------------------------- gold answers
def test_gold_answers_are_read_from_json_lines() -> None:
    data = b'{"0": "cat"}\n\n{"2": "dog", "17": "cat"}\n'
    assert parse_gold(data, "gold.jsonl") == {0: "cat", 2: "dog", 17: "cat"}


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        pytest.param(b'{"0": "cat"}\n{"1": ', "line 2: not JSON", id="truncated"),
        pytest.param(b'["0", "cat"]', "line 1: not a JSON object", id="array"),
        pytest.param(b"{}", "line 1: not a JSON object", id="empty-object"),
        pytest.param(b'{"-1": "cat"}', 'object index "-1" is not a whole number', id="negative"),
        pytest.param(b'{"a": "cat"}', 'object index "a"', id="not-a-number"),
        pytest.param(b'{"0": 3}', "label of object 0 is not a non-empty string", id="number"),
        pytest.param(b'{"0": ""}', "label of object 0 is not a non-empty string", id="empty"),
        pytest.param(b'{"0": "a"}\n{"0": "b"}', "line 2: object 0 has a gold answer", id="twice"),
        pytest.param(b"\n\n", "no gold answer in it", id="no-answer"),
    ],
)
def test_a_malformed_gold_file_is_refused_with_its_line(data: bytes, needle: str) -> None:
    with pytest.raises(InputFileError, match=r"gold\.jsonl") as caught:
        parse_gold(data, "gold.jsonl")
    assert needle in str(caught.value)


def test_gold_answers_replace_the_job_s_earlier_set_only(store: Store) -> None:
    store_gold(store, JOB, {0: "cat", 1: "dog"})
    store_gold(store, "dogs", {5: "dog"})

    store_gold(store, JOB, {2: "cat"})

    rows = sorted(
        (r["labeling_job_name"], r["object_index"], r["label"])
        for r in store.read_table("gold").to_pylist()
    )
    assert rows == [(JOB, 2, "cat"), ("dogs", 5, "dog")]


@pytest.mark.parametrize("name", ["", "-job", "job-", "a" * 64, "job_x", "job/x", "jöb", "job\nx"])
def test_a_name_sagemaker_cannot_give_a_job_is_refused(name: str) -> None:
    with pytest.raises(UsageError, match=r"--job .* is not a labeling job name"):
        check_job_name(name)
