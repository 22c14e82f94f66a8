"""Agreement, gold and active-time numbers from worker responses, worked out by hand (issue 11)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analytics.dataset import Filters, TeamData, team_data_from_tables
from analytics.export.tables import workers_csv_bytes
from analytics.metrics.jobs_teams import job_summary
from analytics.metrics.outcomes import task_table
from analytics.metrics.quality import (
    QUALITY_COLUMNS,
    QUALITY_FLAG_COLUMNS,
    Box,
    box_f1,
    box_iou,
    jaccard,
    job_quality,
    krippendorff_alpha_nominal,
    label_score,
    match_tasks_to_responses,
    read_answer,
    read_consolidated,
    response_coverage,
    response_scores,
    worker_job_quality,
    worker_quality,
)
from analytics.metrics.workers import job_worker_speed, worker_summary
from tests.support.responses import (
    IMAGE_CLASSIFICATION,
    MULTI_LABEL,
    OBJECT_DETECTION,
    boxes,
    canonical,
    classified,
    consolidated,
    frame,
    gold,
    label,
    labels,
    response,
)
from tests.support.team_data import events_of, line, row, same


def team(
    responses: list[dict[str, Any]],
    consolidated_rows: list[dict[str, Any]] = (),  # type: ignore[assignment]
    gold_rows: list[dict[str, Any]] = (),  # type: ignore[assignment]
    *lines: str,
    filters: Filters | None = None,
) -> TeamData:
    """A window with these responses, consolidated labels, gold answers and log lines."""
    return team_data_from_tables(
        events_of(*lines),
        tables={
            "responses": frame(list(responses), "responses"),
            "consolidated": frame(list(consolidated_rows), "consolidated"),
            "gold": frame(list(gold_rows), "gold"),
        },
        filters=filters,
    )


# --------------------------------------------------------------------------- the pure scores
@pytest.mark.parametrize(
    ("worker", "consolidated_name", "expected"),
    [
        pytest.param("cat", "cat", 1.0, id="equal"),
        pytest.param("dog", "cat", 0.0, id="different"),
        # A job's labels are a fixed list: "Cat" and "cat" can both be on it, so case counts.
        pytest.param("Cat", "cat", 0.0, id="differ-only-in-case-disagree"),
        pytest.param("cat ", "cat", 0.0, id="trailing-space-is-another-label"),
    ],
)
def test_label_score(worker: str, consolidated_name: str, expected: float) -> None:
    assert label_score(worker, consolidated_name) == expected


@pytest.mark.parametrize(
    ("worker", "truth", "expected"),
    [
        pytest.param([], [], 1.0, id="both-empty-agree"),
        pytest.param(["a"], [], 0.0, id="worker-only"),
        pytest.param(["a", "b"], ["a", "b"], 1.0, id="same-set"),
        pytest.param(["a", "b"], ["b", "c"], 1 / 3, id="one-of-three"),
        pytest.param(["a"], ["a", "b", "c", "d"], 0.25, id="subset"),
        pytest.param(["A"], ["a"], 0.0, id="case-differs"),
    ],
)
def test_jaccard(worker: list[str], truth: list[str], expected: float) -> None:
    assert math.isclose(jaccard(worker, truth), expected)


C0 = Box("car", 0, 0, 10, 10)
C1 = Box("car", 2, 0, 10, 10)
# W0 overlaps C0 and C1 alike: intersection 9 x 10 = 90, union 110, IoU 0.818 with each.
W0 = Box("car", 1, 0, 10, 10)
# W1 overlaps C0 with IoU 70 / 130 = 0.538 and C1 with 50 / 150 = 0.333 (no match).
W1 = Box("car", -3, 0, 10, 10)

BOX_CASES = [
    pytest.param([], [], 1.0, id="no-boxes-on-both-sides-agree"),
    pytest.param([C0], [], 0.0, id="worker-boxes-consolidated-empty"),
    pytest.param([], [C0], 0.0, id="worker-empty-consolidated-boxes"),
    pytest.param([C0], [C0], 1.0, id="same-box"),
    pytest.param([Box("truck", 0, 0, 10, 10)], [C0], 0.0, id="same-place-other-label"),
    # 10 x 5 inside 10 x 10: IoU 50 / 100 = 0.5 exactly, which matches.
    pytest.param([Box("car", 0, 0, 10, 5)], [C0], 1.0, id="iou-exactly-half-matches"),
    pytest.param([Box("car", 0, 0, 10, 4.9)], [C0], 0.0, id="iou-below-half-does-not"),
    # One of two worker boxes matches one of one consolidated box: 2 * 1 / (2 + 1).
    pytest.param([C0, Box("car", 50, 50, 5, 5)], [C0], 2 / 3, id="extra-worker-box"),
    # Tie at IoU 0.818 between (W0, C0) and (W0, C1): the worker box order, then the
    # consolidated order, decides: (W0, C0) wins, and W1 (only C0 within reach) stays unmatched:
    # 2 * 1 / (2 + 2) = 0.5.
    pytest.param([W0, W1], [C0, C1], 0.5, id="tie-broken-by-box-order"),
    # The same boxes with the consolidated ones listed the other way: (W0, C1) wins the tie,
    # then (W1, C0) at 0.538 matches too: 2 * 2 / 4 = 1.
    pytest.param([W0, W1], [C1, C0], 1.0, id="tie-other-order"),
    # One to one: two identical worker boxes over one consolidated box match once.
    pytest.param([C0, C0], [C0], 2 / 3, id="one-to-one"),
    pytest.param([Box("car", 0, 0, 0, 10)], [C0], 0.0, id="box-without-area"),
]


@pytest.mark.parametrize(("worker", "truth", "expected"), BOX_CASES)
def test_box_f1(worker: list[Box], truth: list[Box], expected: float) -> None:
    assert math.isclose(box_f1(worker, truth), expected)


def test_box_iou_of_the_tie_case() -> None:
    assert math.isclose(box_iou(W0, C0), 90 / 110)
    assert math.isclose(box_iou(W0, C1), 90 / 110)
    assert math.isclose(box_iou(W1, C0), 70 / 130)
    assert math.isclose(box_iou(W1, C1), 50 / 150)


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four coders,
# twelve units, missing values; nominal alpha = 0.743.
_N = None
_KRIPPENDORFF_2011 = list(
    zip(
        [1, 2, 3, 3, 2, 1, 4, 1, 2, _N, _N, _N],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _N, 3],
        [_N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _N],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _N],
        strict=True,
    )
)


@pytest.mark.parametrize(
    ("units", "expected"),
    [
        pytest.param(_KRIPPENDORFF_2011, 0.743, id="krippendorff-2011-worked-example"),
        pytest.param([["a", "a"], ["b", "b"]], 1.0, id="perfect-agreement"),
        # n = 4 values, A_o = 0, sum n_c^2 = 8: 1 - 3 * 4 / 8 = -0.5 (systematic disagreement).
        pytest.param([["a", "b"], ["b", "a"]], -0.5, id="systematic-disagreement"),
        pytest.param([["a", "a"], ["a", "a"]], math.nan, id="one-value-only-undefined"),
        # The lone value of unit 3 cannot be paired and changes nothing.
        pytest.param([["a", "a"], ["b", "b"], ["c"]], 1.0, id="single-value-unit-left-out"),
        pytest.param([], math.nan, id="no-units"),
    ],
)
def test_krippendorff_alpha_nominal(units: list[list[Any]], expected: float) -> None:
    alpha = krippendorff_alpha_nominal(units)
    if math.isnan(expected):
        assert math.isnan(alpha)
    else:
        assert round(alpha, 3) == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        pytest.param(label("cat"), "label", id="image-classifier"),
        pytest.param(canonical({"crowd-classifier": {"label": "x"}}), "label", id="text"),
        pytest.param(labels("a", "b"), "labels", id="multi-label"),
        pytest.param(boxes(("car", 1, 2, 3, 4)), "boxes", id="boxes"),
        pytest.param(canonical({"annotatedResult": {"labelMappings": {}}}), "other", id="other"),
        pytest.param('{"x": {"label": ', "other", id="truncated-json"),
        pytest.param(
            canonical({"b": {"boundingBoxes": [{"label": "c"}]}}), "other", id="no-geometry"
        ),
        pytest.param(canonical({"b": {"labels": [1, 2]}}), "other", id="labels-not-text"),
        pytest.param(None, "other", id="missing"),
        pytest.param(canonical([1, 2]), "other", id="not-an-object"),
    ],
)
def test_read_answer(text: str | None, kind: str) -> None:
    assert read_answer(text).kind == kind


@pytest.mark.parametrize(
    ("task_type", "value", "metadata", "expected"),
    [
        pytest.param(
            IMAGE_CLASSIFICATION, 1, {"class-name": "dog"}, ("label", "dog"), id="class-name"
        ),
        pytest.param(
            IMAGE_CLASSIFICATION, 1, {"class-map": {"1": "dog"}}, ("label", "dog"), id="class-map"
        ),
        pytest.param(
            MULTI_LABEL,
            [0, 2],
            {"class-map": {"0": "a", "1": "b", "2": "c"}},
            ("labels", frozenset({"a", "c"})),
            id="multi-label-ids-to-names",
        ),
        pytest.param(
            OBJECT_DETECTION,
            {"annotations": [{"class_id": 0, "left": 1, "top": 2, "width": 3, "height": 4}]},
            {"class-map": {"0": "car"}},
            ("boxes", (Box("car", 1, 2, 3, 4),)),
            id="boxes-ids-to-names",
        ),
        pytest.param(
            OBJECT_DETECTION,
            {"annotations": [{"class_id": 7, "left": 1, "top": 2, "width": 3, "height": 4}]},
            {"class-map": {"0": "car"}},
            ("other", "not available: the consolidated label cannot be read"),
            id="class-id-not-in-map",
        ),
        pytest.param(
            "groundtruth/semantic-segmentation",
            {},
            {},
            ("other", "not available: groundtruth/semantic-segmentation answers are not scored"),
            id="segmentation-not-scored",
        ),
        pytest.param(
            None,
            0,
            {},
            ("other", "not available: the output manifest gives no task type"),
            id="no-type",
        ),
    ],
)
def test_read_consolidated(
    task_type: str | None, value: Any, metadata: dict[str, Any], expected: tuple[str, Any]
) -> None:
    read = read_consolidated(task_type, canonical(value), canonical(metadata))
    kind, content = expected
    assert read.kind == kind
    if kind == "label":
        assert read.label == content
    elif kind == "labels":
        assert read.labels == content
    elif kind == "boxes":
        assert read.boxes == content
    else:
        assert read.note.startswith(content)


# --------------------------------------------------------------------------- per response
def at_key(frame: pd.DataFrame, key: Any, column: str) -> Any:
    """``frame.loc[key, column]`` (typed as anything: a cell may be a number or text)."""
    return frame.loc[key, column]


def scores_of(data: TeamData) -> pd.DataFrame:
    return response_scores(data).set_index(["worker_key", "object_index"])


def test_single_worker_objects_are_not_scored() -> None:
    data = team(
        [
            response("w1", 1, label("cat")),
            response("w1", 2, label("cat")),
            response("w2", 2, label("dog")),
        ],
        [classified(1, "cat"), classified(2, "cat")],
    )
    scores = scores_of(data)
    assert math.isnan(at_key(scores, ("w1", 1), "agreement_score"))
    assert str(scores.loc[("w1", 1), "agreement_note"]).startswith("not available: one worker")
    assert scores.loc[("w1", 2), "agreement_score"] == 1.0
    assert scores.loc[("w2", 2), "agreement_score"] == 0.0


def test_one_worker_answering_twice_is_still_one_worker() -> None:
    data = team(
        [
            response("w1", 1, label("cat"), "10:00", "10:01"),
            response("w1", 1, label("cat"), "10:02", "10:03"),
        ],
        [classified(1, "cat")],
    )
    assert response_scores(data)["agreement_score"].isna().all()


def test_other_task_types_count_but_are_not_scored() -> None:
    segmentation = canonical(
        {"crowd-semantic-segmentation": {"labeledImage": {"pngImageData": "x"}}}
    )
    data = team(
        [response("w1", 1, segmentation, active=5.0), response("w2", 1, segmentation, active=7.0)],
        [consolidated(1, "groundtruth/semantic-segmentation", {}, {"class-map": {}})],
    )
    scores = response_scores(data)
    assert scores["agreement_score"].isna().all()
    assert (
        scores["agreement_note"].str.contains("semantic-segmentation answers are not scored")
    ).all()
    quality = worker_quality(data).set_index("worker_key")
    assert quality.loc["w1", "responses"] == 1
    assert quality.loc["w1", "median_active_seconds"] == 5.0
    assert quality.loc["w1", "responses_scored"] == 0
    assert math.isnan(at_key(quality, "w1", "agreement_rate"))


def test_multi_label_and_boxes_scores() -> None:
    data = team(
        [
            response("w1", 1, labels("a", "b"), job="multi"),
            response("w2", 1, labels("b", "c"), job="multi"),
            response("w1", 1, boxes(("car", 0, 0, 10, 10)), job="boxes"),
            response("w2", 1, boxes(), job="boxes"),
        ],
        [
            consolidated(1, MULTI_LABEL, [1], {"class-map": {"1": "b"}}, job="multi"),
            consolidated(
                1,
                OBJECT_DETECTION,
                {"annotations": [{"class_id": 0, "left": 0, "top": 0, "width": 10, "height": 10}]},
                {"class-map": {"0": "car"}},
                job="boxes",
            ),
        ],
    )
    scores = response_scores(data).set_index(["labeling_job_name", "worker_key"])
    assert math.isclose(at_key(scores, ("multi", "w1"), "agreement_score"), 0.5)  # {b} of {a, b}
    assert math.isclose(at_key(scores, ("multi", "w2"), "agreement_score"), 0.5)
    assert scores.loc[("boxes", "w1"), "agreement_score"] == 1.0
    assert scores.loc[("boxes", "w2"), "agreement_score"] == 0.0  # no boxes against one


def test_answer_of_the_wrong_shape_is_not_scored() -> None:
    data = team(
        [response("w1", 1, labels("cat")), response("w2", 1, label("cat"))],
        [classified(1, "cat")],
    )
    scores = scores_of(data)
    assert math.isnan(at_key(scores, ("w1", 1), "agreement_score"))
    assert str(scores.loc[("w1", 1), "agreement_note"]).startswith(
        "not available: the answer holds"
    )
    assert scores.loc[("w2", 1), "agreement_score"] == 1.0


def test_object_without_consolidated_label_is_not_scored() -> None:
    data = team([response("w1", 1, label("cat")), response("w2", 1, label("cat"))])
    notes = response_scores(data)["agreement_note"]
    assert notes.str.startswith("not available: no consolidated label").all()


def test_gold_results_case_sensitive_and_only_on_gold_objects() -> None:
    data = team(
        [
            response("w1", 1, label("cat")),
            response("w1", 2, label("Dog")),
            response("w1", 3, label("dog")),
            response("w1", 4, boxes()),
        ],
        [],
        [gold(1, "cat"), gold(2, "dog"), gold(4, "car")],
    )
    # Object 3 is not a gold object; object 4's answer has no single label to compare.
    assert response_scores(data)["gold_correct"].tolist() == [True, False, pd.NA, pd.NA]
    quality = row(worker_quality(data), "w1")
    assert quality["gold_scored"] == 2
    assert quality["gold_accuracy"] == 0.5


# --------------------------------------------------------------------------- per worker, per job
def test_worker_numbers_by_hand() -> None:
    data = team(
        [
            # wall 60 s, active 20 s
            response("w1", 1, label("cat"), "10:00", "10:01", active=20.0),
            # wall 120 s, active 40 s
            response("w1", 2, label("dog"), "10:02", "10:04", active=40.0),
            # no acceptance: counts for the median and mean, not for the share
            response("w1", 3, label("cat"), None, "10:05", active=90.0),
            response("w2", 1, label("cat"), "10:00", "10:02", active=30.0),
            response("w2", 2, label("cat"), "10:00", "10:02"),
        ],
        [classified(1, "cat"), classified(2, "cat"), classified(3, "cat")],
    )
    w1 = row(worker_quality(data), "w1")
    assert w1["responses"] == 3
    assert w1["median_active_seconds"] == 40.0
    assert w1["mean_active_seconds"] == 50.0
    assert math.isclose(w1["active_share"], 60.0 / 180.0)
    # Object 3 has one worker: only objects 1 (agrees) and 2 (dog vs cat) are scored.
    assert w1["responses_scored"] == 2
    assert w1["agreement_rate"] == 0.5
    w2 = row(worker_quality(data), "w2")
    assert math.isclose(w2["active_share"], 30.0 / 120.0)  # the response without active left out
    job = job_quality(data).iloc[0]
    assert job["responses"] == 5
    assert job["responses_scored"] == 4
    assert job["agreement_rate"] == 0.75
    assert job["objects_compared"] == 2
    assert job["unanimous_share"] == 0.5  # object 1 unanimous, object 2 not


def test_window_cuts_responses_by_submission_time() -> None:
    since = dt.datetime(2026, 11, 2, 10, 2, tzinfo=dt.UTC)
    data = team(
        [
            response("w1", 1, label("cat"), "10:00", "10:01"),
            response("w2", 1, label("cat"), "10:01", "10:03"),
        ],
        [classified(1, "cat")],
        filters=Filters(since=since),
    )
    scores = response_scores(data)
    assert scores["worker_key"].tolist() == ["w2"]
    # Its object still had two workers (one outside the window): it is scored.
    assert scores["agreement_score"].tolist() == [1.0]


def flag_cast(agreeing: int, rates: dict[str, int], scored: int = 20) -> list[dict[str, Any]]:
    """Responses on ``scored`` objects: every worker in ``rates`` agrees on that many of them,
    ``reference`` always agrees."""
    rows = []
    for i in range(scored):
        rows.append(response("reference", i, label("cat")))
        for worker, agree in rates.items():
            rows.append(response(worker, i, label("cat" if i < agree else "dog")))
    return rows


def test_quality_flag_uses_the_robust_rule_and_names_job_and_numbers() -> None:
    rates = {"a": 19, "b": 19, "c": 18, "d": 20, "low": 5}
    data = team(flag_cast(20, rates), [classified(i, "cat") for i in range(20)])
    quality = worker_quality(data).set_index("worker_key")
    assert quality["quality_flag"].to_dict() == {
        "a": False,
        "b": False,
        "c": False,
        "d": False,
        "low": True,
        "reference": False,
    }
    reason = quality.loc["low", "quality_reason"]
    # rates 1.0 (d, reference), 0.95 (a, b), 0.9 (c), 0.25 (low): median 0.95, MAD 0.05,
    # z = 0.6745 * (0.25 - 0.95) / 0.05 = -9.4
    assert reason == (
        "on job-a: agreement 0.25 over 20 scored responses vs the job's 6 workers' median 0.95 "
        "(MAD 0.050; modified z -9.4 < -3.5)"
    )


def test_quality_flag_needs_enough_scored_responses() -> None:
    rates = {"a": 19, "b": 19, "c": 18, "d": 19, "low": 5}
    data = team(flag_cast(19, rates, scored=19), [classified(i, "cat") for i in range(19)])
    assert not worker_quality(data)["quality_flag"].any()
    assert not worker_quality(data, min_scored=19)["quality_flag"].all()
    assert worker_quality(data, min_scored=19).set_index("worker_key").loc["low", "quality_flag"]


def test_quadrants_split_at_the_job_medians() -> None:
    rows = []
    for i in range(4):
        rows += [
            response("fast-good", i, label("cat"), active=10.0),
            response("slow-good", i, label("cat"), active=50.0),
            response("fast-bad", i, label("dog"), active=10.0),
            response("slow-bad", i, label("dog" if i else "cat"), active=50.0),
        ]
    data = team(rows, [classified(i, "cat") for i in range(4)])
    pairs = worker_job_quality(data).set_index("worker_key")
    assert pairs["quadrant"].to_dict() == {
        "fast-bad": "fast and disagreeing",
        "fast-good": "fast and agreeing",
        "slow-bad": "slow and disagreeing",
        "slow-good": "slow and agreeing",
    }


def test_no_responses_gives_empty_tables() -> None:
    data = team_data_from_tables(events_of(line("w", "10:00", "10:01")))
    assert len(worker_quality(data)) == 0
    assert len(job_quality(data)) == 0
    coverage = response_coverage(data)
    assert len(coverage.responses_without_task) == 0
    assert len(coverage.tasks_without_response) == 0


# --------------------------------------------------------------------------- log tasks
@pytest.mark.parametrize(
    ("task", "found"),
    [
        pytest.param(("w", "job-a", 0.0, 60_000.0), True, id="same-times"),
        pytest.param(("w", "job-a", 1_000.0, 59_000.0), True, id="one-second-apart"),
        pytest.param(("w", "job-a", 0.0, 61_001.0), False, id="submission-over-a-second"),
        pytest.param(("w", "job-a", 1_001.0, 60_000.0), False, id="acceptance-over-a-second"),
        pytest.param(("v", "job-a", 0.0, 60_000.0), False, id="other-worker"),
        pytest.param(("w", "job-b", 0.0, 60_000.0), False, id="other-job"),
        pytest.param(("w", "job-a", math.nan, 60_000.0), False, id="no-acceptance"),
    ],
)
def test_match_tasks_to_responses(task: tuple[str, str, float, float], found: bool) -> None:
    columns = ["worker_key", "labeling_job_name", "accepted_ms", "submitted_ms"]
    tasks = pd.DataFrame([task], columns=columns)
    responses = pd.DataFrame([("w", "job-a", 0.0, 60_000.0)], columns=columns)
    matches = match_tasks_to_responses(tasks, responses)
    assert (len(matches) == 1) is found


def test_coverage_lists_each_side_alone() -> None:
    data = team(
        [
            response("w", 1, label("cat"), "10:00", "10:01"),  # has its log task
            response("w", 2, label("cat"), "11:00", "11:01"),  # no log task
        ],
        [],
        [],
        line("w", "10:00", "10:01"),
        line("w", "12:00", "12:01"),  # no response
        line("w", "12:00", "12:01", job="job-without-responses"),  # job not in responses
    )
    coverage = response_coverage(data)
    assert coverage.responses_without_task["object_index"].tolist() == [2]
    lonely = coverage.tasks_without_response
    assert lonely["labeling_job_name"].tolist() == ["job-a"]
    assert lonely["task_submitted_time"].tolist() == [pd.Timestamp("2026-11-02T12:01Z")]


def test_numbers_are_floats_and_counts_integers() -> None:
    data = team([response("w1", 1, label("cat"), active=1.0)], [classified(1, "cat")])
    quality = worker_quality(data)
    for name in ("responses", "responses_scored", "gold_scored"):
        assert quality[name].dtype == np.int64
    assert same(quality.iloc[0]["agreement_rate"], math.nan)


# --------------------------------------------------------------------------- in the worker table
def paced_team(active: dict[str, float], wall_minutes: dict[str, int]) -> TeamData:
    """Ten tasks per worker on job-a, one per hour from 10:00, taking ``wall_minutes`` on the
    clock; with a response per task (same times) holding ``active`` seconds when given."""
    lines, rows = [], []
    for worker, minutes in wall_minutes.items():
        for i in range(10):
            accepted, submitted = f"{10 + i}:00", f"{10 + i}:{minutes:02d}"
            lines.append(line(worker, accepted, submitted))
            if worker in active:
                rows.append(
                    response(worker, i, label("cat"), accepted, submitted, active=active[worker])
                )
    return team(rows, [classified(i, "cat") for i in range(10)], [], *lines)


WALL = {"a": 1, "b": 1, "c": 2, "d": 2, "e": 3, "pauser": 30}


def test_slow_on_wall_clock_only_because_of_pauses_is_not_slow() -> None:
    before = worker_summary(
        team_data_from_tables(
            events_of(
                *[
                    line(w, f"{10 + i}:00", f"{10 + i}:{m:02d}")
                    for w, m in WALL.items()
                    for i in range(10)
                ]
            )
        )
    )
    assert row(before, "pauser")["slow_flag"]  # wall clock: 30 min against 1-3
    active = {"a": 40.0, "b": 45.0, "c": 50.0, "d": 55.0, "e": 60.0, "pauser": 52.0}
    after = worker_summary(paced_team(active, WALL))
    assert not after["slow_flag"].any()


def test_slow_on_active_time_says_so() -> None:
    active = {"a": 40.0, "b": 45.0, "c": 50.0, "d": 55.0, "e": 60.0, "pauser": 600.0}
    summary = worker_summary(paced_team(active, WALL))
    reason = row(summary, "pauser")["slow_reason"]
    # Active medians 40..60 and 600: median 52.5, MAD 7.5, z = 0.6745 * 547.5 / 7.5 = 49.2.
    assert reason == (
        "on job-a: median 600.0 s active (pauses excluded, from worker responses) over 10 "
        "responses vs the job's 6 workers' median 52.5 s (MAD 7.5 s; modified z 49.2 > 3.5)"
    )
    assert summary["slow_flag"].sum() == 1


def test_slow_on_wall_clock_says_so() -> None:
    summary = worker_summary(
        team_data_from_tables(
            events_of(
                *[
                    line(w, f"{10 + i}:00", f"{10 + i}:{m:02d}")
                    for w, m in WALL.items()
                    for i in range(10)
                ]
            )
        )
    )
    assert row(summary, "pauser")["slow_reason"].startswith(
        "on job-a: median 1800.0 s wall clock (pauses included) over 10 tasks vs"
    )


def test_active_and_wall_workers_are_compared_apart() -> None:
    # Only the pauser's output was read: alone on active time, nobody to compare with; the
    # others stay compared on the wall clock among themselves.
    summary = worker_summary(paced_team({"pauser": 52.0}, WALL))
    assert not summary["slow_flag"].any()
    speed = job_worker_speed(paced_team({"pauser": 52.0}, WALL)).set_index("worker_key")
    assert speed.loc["pauser", "measure"] == "active"
    assert speed.loc["pauser", "job_workers_compared"] == 1
    assert speed.loc["a", "measure"] == "wall"
    assert speed.loc["a", "job_workers_compared"] == 5


def test_worker_table_without_responses_has_the_new_columns_empty() -> None:
    summary = worker_summary(team_data_from_tables(events_of(line("w", "10:00", "10:01"))))
    assert list(summary.columns[-10:]) == [*QUALITY_COLUMNS, *QUALITY_FLAG_COLUMNS]
    assert summary[list(QUALITY_COLUMNS)].isna().all().all()
    assert summary["quality_flag"].tolist() == [False]
    assert summary["quality_reason"].tolist() == [""]


def test_worker_table_carries_the_quality_numbers() -> None:
    active = {"a": 40.0, "b": 45.0}
    summary = worker_summary(paced_team(active, {"a": 1, "b": 1, "c": 1}))
    a = row(summary, "a")
    assert a["responses"] == 10
    assert a["median_active_seconds"] == 40.0
    assert math.isclose(a["active_share"], 40.0 / 60.0)
    assert a["responses_scored"] == 10
    assert a["agreement_rate"] == 1.0
    assert pd.isna(row(summary, "c")["responses"])  # no response read for c


def test_task_table_matches_each_task_to_its_response() -> None:
    data = team(
        [
            response("w", 1, label("cat"), "10:00:00.400", "10:01:00.900", active=20.0),
            response("v", 1, label("dog"), "10:00", "10:01", active=30.0),
        ],
        [classified(1, "cat")],
        [],
        line("w", "10:00", "10:01"),  # within a second of w's response
        line("w", "11:00", "11:01"),  # no response
        line("v", "10:00", "10:03"),  # submitted two minutes after v's response: no match
    )
    tasks = task_table(data)
    assert tasks["active_seconds"].tolist()[0] == 20.0
    assert tasks["agreement_score"].tolist()[0] == 1.0
    assert tasks[["active_seconds", "agreement_score"]].iloc[1:].isna().all().all()


def test_export_workers_has_exactly_the_new_column_names() -> None:
    data = paced_team({"a": 40.0}, {"a": 1})
    header = next(csv.reader(io.StringIO(workers_csv_bytes(worker_summary(data)).decode())))
    assert header[-10:] == [
        "responses",
        "median_active_seconds",
        "mean_active_seconds",
        "active_share",
        "agreement_rate",
        "responses_scored",
        "gold_accuracy",
        "gold_scored",
        "quality_flag",
        "quality_reason",
    ]


def test_job_table_carries_agreement_between_workers() -> None:
    data = team(
        [
            response("a", 1, label("cat")),
            response("b", 1, label("cat")),
            response("a", 2, label("cat")),
            response("b", 2, label("dog")),
            response("a", 3, label("dog"), job="job-only-in-output"),
        ],
        [classified(1, "cat"), classified(2, "cat")],
        [],
        line("a", "10:00", "10:01"),
        line("x", "10:00", "10:01", job="job-without-output"),
    )
    jobs = job_summary(data).set_index("labeling_job_name")
    assert jobs.loc["job-a", "objects_compared"] == 2
    assert jobs.loc["job-a", "unanimous_share"] == 0.5
    # Units {cat, cat}, {cat, dog}: n = 4, A_o = 2, n_cat = 3, n_dog = 1:
    # alpha = 1 - 3 * (4 - 2) / (16 - 10) = 0.
    assert jobs.loc["job-a", "krippendorff_alpha"] == 0.0
    assert jobs.loc["job-a", "responses"] == 4
    assert jobs.loc["job-only-in-output", "tasks_submitted"] == 0
    assert jobs.loc["job-only-in-output", "responses"] == 1
    assert pd.isna(at_key(jobs, "job-without-output", "responses"))
    assert pd.isna(at_key(jobs, "job-without-output", "krippendorff_alpha"))
