"""The vectorised box scoring equals the definition, ``quality.box_f1``, on random boxes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analytics.metrics.box_matching import box_f1_many
from analytics.metrics.quality import MIN_BOX_IOU, Box, box_f1, box_iou, box_lists

LABELS = ("car", "Car", "bus")


def random_boxes(rng: np.random.Generator, most: int) -> list[Box]:
    """Up to ``most`` boxes on a small integer grid (so IoUs tie, and hit 0.5 exactly), some
    without area, some of areas too small for a float, some fractional."""
    boxes = []
    for _ in range(int(rng.integers(0, most + 1))):
        style = rng.random()
        if style < 0.05:
            left, top, width, height = 0.0, 0.0, 1e-200, 1e-200  # area underflows to 0
        elif style < 0.15:
            left, top = rng.integers(-2, 6, 2).astype(float)
            width, height = rng.choice([0.0, -1.0, -0.0, 2.0], 2)  # no area
        elif style < 0.3:
            left, top = rng.uniform(-5, 10, 2)
            width, height = rng.uniform(0.1, 8, 2)
        else:
            left, top = rng.integers(-2, 6, 2).astype(float)
            width, height = rng.integers(1, 8, 2).astype(float)
        label = LABELS[int(rng.integers(0, 2 if rng.random() < 0.9 else 3))]
        boxes.append(Box(label, float(left), float(top), float(width), float(height)))
    return boxes


def scored_at_once(
    worker: list[list[Box]], consolidated: list[list[Box]], **options: int
) -> np.ndarray:
    codes: dict[str, int] = {}
    return box_f1_many(
        box_lists(worker, codes),
        np.arange(len(worker)),
        box_lists(consolidated, codes),
        np.arange(len(consolidated)),
        MIN_BOX_IOU,
        **options,
    )


@pytest.mark.parametrize(
    ("seed", "most", "pairs_per_chunk"),
    [
        pytest.param(1, 3, 2_000_000, id="few-boxes"),
        pytest.param(2, 8, 2_000_000, id="crowded-images"),
        pytest.param(3, 8, 7, id="small-chunks"),
        pytest.param(4, 1, 2_000_000, id="one-box-or-none"),
    ],
)
def test_vectorised_box_f1_equals_the_definition(
    seed: int, most: int, pairs_per_chunk: int
) -> None:
    rng = np.random.default_rng(seed)
    worker = [random_boxes(rng, most) for _ in range(3_000)]
    consolidated = [random_boxes(rng, most) for _ in range(3_000)]
    # Half the pairs copy the consolidated boxes with a jitter: many matches and near-ties.
    for k in range(0, len(worker), 2):
        worker[k] = [
            Box(b.label, b.left + float(rng.integers(-1, 2)), b.top, b.width, b.height)
            for b in consolidated[k]
        ] + worker[k][:1]
    expected = np.array([box_f1(w, c) for w, c in zip(worker, consolidated, strict=True)])
    got = scored_at_once(worker, consolidated, pairs_per_chunk=pairs_per_chunk)
    assert got.tolist() == expected.tolist()  # to the last bit
    assert len(set(expected.tolist())) >= 3  # the cases really vary


def test_the_same_lists_serve_many_responses() -> None:
    rng = np.random.default_rng(5)
    worker = [random_boxes(rng, 4) for _ in range(50)]
    consolidated = [random_boxes(rng, 4) for _ in range(40)]
    worker_list = rng.integers(0, 50, 2_000)
    consolidated_list = rng.integers(0, 40, 2_000)
    codes: dict[str, int] = {}
    got = box_f1_many(
        box_lists(worker, codes),
        worker_list,
        box_lists(consolidated, codes),
        consolidated_list,
        MIN_BOX_IOU,
    )
    expected = [
        box_f1(worker[w], consolidated[c])
        for w, c in zip(worker_list.tolist(), consolidated_list.tolist(), strict=True)
    ]
    assert got.tolist() == expected


C0 = Box("car", 0, 0, 10, 10)
C1 = Box("car", 2, 0, 10, 10)
W0 = Box("car", 1, 0, 10, 10)
W1 = Box("car", -3, 0, 10, 10)


@pytest.mark.parametrize(
    ("worker", "consolidated", "expected"),
    [
        pytest.param([], [], 1.0, id="both-empty"),
        pytest.param([C0], [], 0.0, id="consolidated-empty"),
        pytest.param([], [C0], 0.0, id="worker-empty"),
        pytest.param([W0, W1], [C0, C1], 0.5, id="tie-broken-by-box-order"),
        pytest.param([W0, W1], [C1, C0], 1.0, id="tie-other-order"),
        pytest.param([C0, C0], [C0], 2 / 3, id="one-to-one"),
        pytest.param([Box("car", 0, 0, 10, 5)], [C0], 1.0, id="iou-exactly-half"),
        pytest.param(
            [Box("car", 0, 0, 1e-200, 1e-200)] * 2,
            [Box("car", 0, 0, 1e-200, 1e-200)],
            0.0,
            id="area-underflows",
        ),
    ],
)
def test_hand_worked_cases_at_once(
    worker: list[Box], consolidated: list[Box], expected: float
) -> None:
    assert math.isclose(scored_at_once([worker], [consolidated])[0], expected)
    assert math.isclose(box_f1(worker, consolidated), expected)


def test_an_area_too_small_for_a_float_is_no_area_not_a_division_by_zero() -> None:
    tiny = Box("car", 0, 0, 1e-200, 1e-200)
    assert box_iou(tiny, tiny) == 0.0
