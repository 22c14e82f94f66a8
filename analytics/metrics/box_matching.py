"""Bounding-box agreement of many responses at once: ``quality.box_f1`` in NumPy.

``quality.box_f1`` (and ``quality.box_iou``) is the definition, box by box in Python; this
module computes the same numbers for every box response in a few array passes (issue 11: the
quality table on 150,000 box responses took 1.4 s of CPU box by box). A property test
(``tests/unit/test_box_matching.py``) holds the two equal on random boxes, ties included.

Boxes are flat arrays (``BoxLists``): list ``k`` is rows ``bounds[k]:bounds[k + 1]``, in the
list's own order (the order breaks ties). Every (worker box, consolidated box) pair of a
response is a row; pairs of the same label with IoU at least ``min_iou`` are the candidates.

The greedy rule (pairs by descending IoU, ties by worker box then consolidated box, each taken
when neither box is taken yet) is sequential; it is computed in rounds instead: in each round
every candidate that comes first, in that order, among the remaining candidates of both its
boxes is taken, and the candidates of taken boxes are dropped. Such a candidate is exactly one
the sequential rule takes (every earlier candidate touching its boxes has been dropped because
its other box was taken), and the first remaining candidate always qualifies, so the rounds end
with the sequential rule's matching (the "locally dominant" matching, Preis 1999). A response
needs as many rounds as the longest chain of conflicting candidates: one or two in practice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Candidate pairs built at once: bounds memory (about 100 bytes a pair) on hostile inputs
#: (a response of 1,000 boxes against 1,000 is a million pairs), whatever the number of boxes.
PAIRS_PER_CHUNK = 2_000_000


@dataclass(frozen=True)
class BoxLists:
    """Lists of boxes as flat arrays: list ``k`` is rows ``bounds[k]:bounds[k + 1]``.

    ``label`` holds integer codes (equal codes, equal labels); ``left``, ``top``, ``width``
    and ``height`` are in pixels, float64.
    """

    bounds: np.ndarray
    label: np.ndarray
    left: np.ndarray
    top: np.ndarray
    width: np.ndarray
    height: np.ndarray

    @property
    def sizes(self) -> np.ndarray:
        """How many boxes each list holds."""
        return np.diff(self.bounds)


def pair_iou(
    first: BoxLists, first_rows: np.ndarray, second: BoxLists, second_rows: np.ndarray
) -> np.ndarray:
    """IoU of the boxes at ``first_rows`` of ``first`` with those at ``second_rows`` of ``second``,
    operation for operation as ``quality.box_iou`` (so equal to the last bit)."""
    l1, t1 = first.left[first_rows], first.top[first_rows]
    w1, h1 = first.width[first_rows], first.height[first_rows]
    l2, t2 = second.left[second_rows], second.top[second_rows]
    w2, h2 = second.width[second_rows], second.height[second_rows]
    no_area = (w1 <= 0) | (h1 <= 0) | (w2 <= 0) | (h2 <= 0)
    # Python's min(a, b) is ``b if b < a else a`` and max(a, b) ``b if b > a else a``: the
    # same choice here, whatever the values (np.minimum would differ on signed zeros).
    right1, right2 = l1 + w1, l2 + w2
    bottom1, bottom2 = t1 + h1, t2 + h2
    overlap_w = np.where(right2 < right1, right2, right1) - np.where(l2 > l1, l2, l1)
    overlap_h = np.where(bottom2 < bottom1, bottom2, bottom1) - np.where(t2 > t1, t2, t1)
    inter = overlap_w * overlap_h
    union = w1 * h1 + w2 * h2 - inter
    zero = no_area | (overlap_w <= 0) | (overlap_h <= 0) | ~(union > 0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        iou = inter / np.where(zero, 1.0, union)
    iou[zero] = 0.0
    return iou


def box_f1_many(
    worker: BoxLists,
    worker_list: np.ndarray,
    consolidated: BoxLists,
    consolidated_list: np.ndarray,
    min_iou: float,
    pairs_per_chunk: int = PAIRS_PER_CHUNK,
) -> np.ndarray:
    """F1 of worker list ``worker_list[r]`` against consolidated list ``consolidated_list[r]``
    for each response ``r``: ``quality.box_f1`` of each, as float64.

    Responses are matched ``pairs_per_chunk`` box pairs at a time (a response with more alone).
    """
    n_worker = worker.sizes[worker_list]
    n_consolidated = consolidated.sizes[consolidated_list]
    pairs = n_worker * n_consolidated
    matches = np.zeros(len(worker_list), dtype=np.int64)
    start = 0
    while start < len(worker_list):
        # Responses start:stop make at most pairs_per_chunk pairs (or one response alone).
        reach = np.cumsum(pairs[start:])
        stop = start + max(1, int(np.searchsorted(reach, pairs_per_chunk, side="right")))
        matches[start:stop] = _matches(
            worker,
            worker_list[start:stop],
            consolidated,
            consolidated_list[start:stop],
            min_iou,
        )
        start = stop
    boxes = n_worker + n_consolidated
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = 2 * matches / boxes
    f1[boxes == 0] = 1.0
    return f1


def _matches(
    worker: BoxLists,
    worker_list: np.ndarray,
    consolidated: BoxLists,
    consolidated_list: np.ndarray,
    min_iou: float,
) -> np.ndarray:
    """How many one-to-one matches the greedy rule makes in each response (see the module)."""
    n_worker = worker.sizes[worker_list]
    n_consolidated = consolidated.sizes[consolidated_list]
    pairs = n_worker * n_consolidated
    total = int(pairs.sum())
    matches = np.zeros(len(worker_list), dtype=np.int64)
    if not total:
        return matches
    response = np.repeat(np.arange(len(worker_list)), pairs)
    first_pair = np.cumsum(pairs) - pairs
    within = np.arange(total) - first_pair[response]
    per_row = n_consolidated[response]
    i = within // per_row
    j = within - i * per_row
    worker_rows = worker.bounds[:-1][worker_list][response] + i
    consolidated_rows = consolidated.bounds[:-1][consolidated_list][response] + j
    same_label = worker.label[worker_rows] == consolidated.label[consolidated_rows]
    iou = np.zeros(total)
    iou[same_label] = pair_iou(
        worker, worker_rows[same_label], consolidated, consolidated_rows[same_label]
    )
    candidate = same_label & (iou >= min_iou)
    response, i, j, iou = response[candidate], i[candidate], j[candidate], iou[candidate]
    # Boxes as nodes numbered per response (the same worker list may serve many responses).
    worker_node = (np.cumsum(n_worker) - n_worker)[response] + i
    consolidated_node = (np.cumsum(n_consolidated) - n_consolidated)[response] + j
    # Candidates come in response order; only a response with several needs sorting (by
    # descending IoU, then worker box, then consolidated box), in place among its own.
    several = np.bincount(response, minlength=len(worker_list))[response] > 1
    order = np.arange(len(response))
    if several.any():
        rows = order[several]
        order[several] = rows[np.lexsort((j[rows], i[rows], -iou[rows], response[rows]))]
    response, worker_node, consolidated_node = (
        response[order],
        worker_node[order],
        consolidated_node[order],
    )
    worker_taken = np.zeros(int(n_worker.sum()), dtype=bool)
    consolidated_taken = np.zeros(int(n_consolidated.sum()), dtype=bool)
    while len(response):
        take = _first_of_each(worker_node) & _first_of_each(consolidated_node)
        matches += np.bincount(response[take], minlength=len(matches))
        worker_taken[worker_node[take]] = True
        consolidated_taken[consolidated_node[take]] = True
        left = ~(worker_taken[worker_node] | consolidated_taken[consolidated_node])
        response, worker_node, consolidated_node = (
            response[left],
            worker_node[left],
            consolidated_node[left],
        )
    return matches


def _first_of_each(nodes: np.ndarray) -> np.ndarray:
    """True at the first occurrence of each value of ``nodes``."""
    first = np.zeros(len(nodes), dtype=bool)
    first[np.unique(nodes, return_index=True)[1]] = True
    return first
