"""Multi-label agreement of many responses at once equals the definition, ``quality.jaccard``."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.metrics.quality import jaccard, jaccard_many


def random_sets(rng: np.random.Generator, labels: list[str], count: int) -> list[frozenset[str]]:
    return [
        frozenset(rng.choice(labels, int(rng.integers(0, min(6, len(labels)) + 1)), replace=False))
        for _ in range(count)
    ]


@pytest.mark.parametrize(
    "n_labels",
    [
        pytest.param(3, id="few-labels"),
        pytest.param(64, id="as-many-labels-as-bits"),
        pytest.param(65, id="more-labels-than-bits"),
    ],
)
def test_jaccard_many_equals_jaccard(n_labels: int) -> None:
    rng = np.random.default_rng(n_labels)
    labels = [f"label {i}" for i in range(n_labels - 2)] + ["Car", "car"]
    first, second = random_sets(rng, labels, 40), random_sets(rng, labels, 30)
    first[0] = second[0] = frozenset()  # both empty: full agreement
    first[1] = frozenset(labels)  # every label occurs
    first_of, second_of = rng.integers(0, 40, 2000), rng.integers(0, 30, 2000)
    first_of[0] = second_of[0] = 0
    at_once = jaccard_many(first, first_of, second, second_of)
    one_by_one = [jaccard(first[i], second[j]) for i, j in zip(first_of, second_of, strict=True)]
    assert at_once.tolist() == one_by_one  # to the bit
    assert at_once[0] == 1.0
