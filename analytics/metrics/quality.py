"""Active time and agreement from Ground Truth's worker responses (issue 11).

Ground Truth writes one worker-response file per answer, with the time the worker actively
worked (``timeSpentInSeconds``, pauses excluded) and the answer; the output manifest holds the
consolidated label (``TeamData.responses`` and ``TeamData.consolidated``). This module scores each
response against the consolidated label and against gold answers, and sums the scores and active
times per worker and per job. Every column is defined in ``analytics.metrics.definitions``.

Scores (``agreement_score``, 0..1) are given only where they mean something:

- the object was answered by at least two distinct workers (with one, the consolidated label is
  that worker's own and Ground Truth reports confidence 0.00);
- single-label classification (image or text): 1 when the worker's label equals the consolidated
  ``class-name``, else 0. The comparison is exact and **case-sensitive**: a job's labels are a
  fixed list the worker picks from, and nothing stops a list holding both ``Car`` and ``car``, so
  labels differing in case are different labels;
- multi-label classification: Jaccard index of the worker's and the consolidated label sets (both
  empty: 1);
- bounding boxes: F1 of the worker's boxes against the consolidated boxes, matched one to one,
  same label, greedily by descending IoU (ties broken by the boxes' order: worker box, then
  consolidated box), a match needing IoU >= 0.5; no boxes on either side: 1;
- any other task type (segmentation, NER, video, point cloud, custom templates) is not scored:
  ``agreement_note`` says ``not available: <why>``. Responses and active time still count.

A response's worker is its ``sub`` (= the log's ``cognito_sub_id``) when known, else its
``workerId``: the same rule as the log's ``worker_key``, so the two sources meet per worker.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from analytics.dataset import TeamData, in_window
from analytics.metrics.box_matching import BoxLists, box_f1_many
from analytics.metrics.box_reading import FlatBoxes, read_box_answers, read_box_labels
from analytics.metrics.grouping import category_codes, modified_z_by_group
from analytics.metrics.outcomes import MS_PER_SECOND, SUBMITTED, column_epoch_ms, outcomes_of

#: Defaults of ``Thresholds.quality_z`` and ``Thresholds.quality_min_scored``.
QUALITY_Z = 3.5
QUALITY_MIN_SCORED = 20
#: IoU a worker's box needs with a consolidated box of the same label to match it.
MIN_BOX_IOU = 0.5
#: How far apart a log task's and a response's acceptance and submission times may be for the
#: two to be the same task: the log writes whole seconds, the response milliseconds.
MATCH_TOLERANCE_MS = 1_000

#: The consolidated ``type`` of each scored kind of task.
SINGLE_LABEL_TYPES = frozenset(
    {"groundtruth/image-classification", "groundtruth/text-classification"}
)
MULTI_LABEL_TYPES = frozenset(
    {"groundtruth/image-classification-multilabel", "groundtruth/text-classification-multilabel"}
)
BOX_TYPES = frozenset({"groundtruth/object-detection"})

#: The numbers per worker and per job (columns of ``worker_summary`` and ``job_summary``).
QUALITY_COLUMNS = (
    "responses",
    "median_active_seconds",
    "mean_active_seconds",
    "active_share",
    "agreement_rate",
    "responses_scored",
    "gold_accuracy",
    "gold_scored",
)
#: ``worker_summary`` adds these after ``QUALITY_COLUMNS``.
QUALITY_FLAG_COLUMNS = ("quality_flag", "quality_reason")
#: ``job_summary`` adds these: agreement between workers.
JOB_AGREEMENT_COLUMNS = ("objects_compared", "unanimous_share", "krippendorff_alpha")
#: ``task_table`` adds these, from the task's response.
TASK_RESPONSE_COLUMNS = ("active_seconds", "agreement_score")

# Answer kinds.
_LABEL, _LABELS, _BOXES, _OTHER = "label", "labels", "boxes", "other"


class Box(NamedTuple):
    """An axis-aligned box in pixels: ``left``, ``top``, ``width``, ``height`` and its label.

    A named tuple, not a dataclass: an answer of 150,000 boxes builds them four times faster.
    """

    label: str
    left: float
    top: float
    width: float
    height: float


# --------------------------------------------------------------------------- pure scores
def label_score(worker_label: str, consolidated_label: str) -> float:
    """Single-label agreement: 1.0 when the labels are equal (exact, case-sensitive), else 0.0."""
    return 1.0 if worker_label == consolidated_label else 0.0


def jaccard(worker_labels: Iterable[str], consolidated_labels: Iterable[str]) -> float:
    """Multi-label agreement: |A and B| / |A or B| of the label sets; 1.0 when both are empty."""
    first, second = set(worker_labels), set(consolidated_labels)
    union = first | second
    return len(first & second) / len(union) if union else 1.0


def jaccard_many(
    first: Sequence[frozenset[str]],
    first_of: np.ndarray,
    second: Sequence[frozenset[str]],
    second_of: np.ndarray,
) -> np.ndarray:
    """``jaccard(first[first_of[r]], second[second_of[r]])`` for each ``r``, as float64.

    Label sets are bit masks when at most 64 labels occur (a job's label list is short): the
    counts are the same integers and their quotient the same float as ``jaccard``'s.
    """
    bits: dict[str, int] = {}
    for labels in (*first, *second):
        for label in labels:
            bits.setdefault(label, len(bits))
    if len(bits) > 64:
        return np.array(
            [
                jaccard(first[i], second[j])
                for i, j in zip(first_of.tolist(), second_of.tolist(), strict=True)
            ],
            dtype=np.float64,
        )

    def masks(sets: Sequence[frozenset[str]]) -> np.ndarray:
        return np.array(
            [sum(1 << bits[label] for label in labels) for labels in sets], dtype=np.uint64
        )

    mine, theirs = masks(first)[first_of], masks(second)[second_of]
    both = np.bitwise_count(mine & theirs).astype(np.int64)
    either = np.bitwise_count(mine | theirs).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(either > 0, both / np.maximum(either, 1), 1.0)


def box_iou(first: Box, second: Box) -> float:
    """Intersection over union of two boxes; 0.0 when either has no area.

    The definition; ``box_matching.pair_iou`` computes it for many pairs at once.
    """
    if first.width <= 0 or first.height <= 0 or second.width <= 0 or second.height <= 0:
        return 0.0
    overlap_w = min(first.left + first.width, second.left + second.width) - max(
        first.left, second.left
    )
    overlap_h = min(first.top + first.height, second.top + second.height) - max(
        first.top, second.top
    )
    if overlap_w <= 0 or overlap_h <= 0:
        return 0.0
    inter = overlap_w * overlap_h
    union = first.width * first.height + second.width * second.height - inter
    # Areas too small for a float (1e-200 squared) are no area: 0, not a division by zero.
    if not union > 0:
        return 0.0
    return inter / union


def box_f1(
    worker_boxes: Sequence[Box], consolidated_boxes: Sequence[Box], min_iou: float = MIN_BOX_IOU
) -> float:
    """Bounding-box agreement: F1 = 2 * matches / (worker boxes + consolidated boxes).

    Boxes match one to one when their labels are equal and their IoU is at least ``min_iou``;
    pairs are taken greedily by descending IoU, ties in the boxes' order (worker box first, then
    consolidated box). No boxes on either side is full agreement (1.0); boxes on one side only,
    none (0.0).

    The definition, box by box; ``response_scores`` computes it for every response at once with
    ``box_matching.box_f1_many`` (held equal to this by a property test).
    """
    if not worker_boxes and not consolidated_boxes:
        return 1.0
    if not worker_boxes or not consolidated_boxes:
        return 0.0
    candidates = []
    for i, mine in enumerate(worker_boxes):
        for j, theirs in enumerate(consolidated_boxes):
            if mine.label != theirs.label:
                continue
            iou = box_iou(mine, theirs)
            if iou >= min_iou:
                candidates.append((-iou, i, j))
    candidates.sort()
    used_worker: set[int] = set()
    used_consolidated: set[int] = set()
    for _, i, j in candidates:
        if i not in used_worker and j not in used_consolidated:
            used_worker.add(i)
            used_consolidated.add(j)
    return 2 * len(used_worker) / (len(worker_boxes) + len(consolidated_boxes))


def krippendorff_alpha_nominal(units: Iterable[Sequence[Hashable | None]]) -> float:
    """Krippendorff's alpha for nominal values; each unit is the values its coders gave.

    ``None`` is a missing value. Units with fewer than two values cannot be paired and are left
    out. NaN when fewer than two pairable values remain or when only one value occurs (expected
    disagreement 0: alpha is undefined). See ``_alpha_by_group`` for the formula.
    """
    groups, unit_ids, values = [], [], []
    for unit, given in enumerate(units):
        for value in given:
            if value is not None:
                groups.append(0)
                unit_ids.append(unit)
                values.append(value)
    frame = pd.DataFrame({"group": groups, "unit": unit_ids, "value": values})
    alpha = _alpha_by_group(frame)
    return float(alpha.get(0, np.nan))


def _alpha_by_group(frame: pd.DataFrame) -> pd.Series:
    """Nominal Krippendorff's alpha of each ``group`` from rows (``group``, ``unit``, ``value``).

    With ``n_uc`` the values ``c`` in unit ``u``, ``m_u`` the values in ``u`` (units with
    ``m_u >= 2`` only), ``n_c = sum_u n_uc`` and ``n = sum_c n_c`` (Krippendorff 2011, "Computing
    Krippendorff's alpha-reliability", coincidence matrix form)::

        observed agreement  A_o = sum_u sum_c n_uc (n_uc - 1) / (m_u - 1)
        alpha = 1 - (n - 1) (n - A_o) / (n^2 - sum_c n_c^2)
    """
    if not len(frame):
        return pd.Series(dtype="float64")
    counts = frame.groupby(["group", "unit", "value"], sort=False).size().reset_index(name="n_uc")
    m_u = counts.groupby(["group", "unit"], sort=False)["n_uc"].transform("sum")
    counts = counts[m_u >= 2]
    m_u = m_u[m_u >= 2]
    agree = (counts["n_uc"] * (counts["n_uc"] - 1) / (m_u - 1)).groupby(counts["group"]).sum()
    n_c = counts.groupby(["group", "value"], sort=False)["n_uc"].sum()
    n = n_c.groupby(level="group").sum()
    squares = (n_c**2).groupby(level="group").sum()
    expected = n**2 - squares
    alpha = 1 - (n - 1) * (n - agree.reindex(n.index, fill_value=0.0)) / expected.where(
        expected > 0
    )
    return alpha.where(n >= 2)


# --------------------------------------------------------------------------- reading answers
@dataclass(frozen=True)
class Answer:
    """A worker's answer: ``kind`` is ``label``, ``labels``, ``boxes`` or ``other`` (unscored)."""

    kind: str
    label: str | None = None
    labels: frozenset[str] = frozenset()
    boxes: tuple[Box, ...] = ()


_UNREADABLE = Answer(_OTHER)


def _number(value: Any) -> float:
    kind = type(value)
    if kind is int or kind is float:  # every coordinate JSON gives (bool is not int here)
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("not a number")
    return float(value)


def _box(item: Any, label: Any) -> Box:
    if not isinstance(item, dict) or not isinstance(label, str):
        raise ValueError("not a box")
    return Box(
        label,
        _number(item.get("left")),
        _number(item.get("top")),
        _number(item.get("width")),
        _number(item.get("height")),
    )


def read_answer(text: str | None) -> Answer:
    """The worker's answer in ``answerContent`` (canonical JSON): a label, a label set, boxes.

    Recognised shapes, inside any top-level key (the template's element name):
    ``{"label": "cat"}`` (classification), ``{"labels": [...]}`` (multi-label),
    ``{"boundingBoxes": [{"label", "left", "top", "width", "height"}]}`` (bounding boxes).
    Anything else, or a malformed value, is kind ``other`` (not scored).
    """
    if not text:
        return _UNREADABLE
    try:
        content = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _UNREADABLE
    if not isinstance(content, dict):
        return _UNREADABLE
    for value in content.values():
        if not isinstance(value, dict):
            continue
        try:
            if "boundingBoxes" in value:
                boxes = value["boundingBoxes"]
                if not isinstance(boxes, list):
                    return _UNREADABLE
                return Answer(_BOXES, boxes=tuple(_box(b, b.get("label")) for b in boxes))
        except (ValueError, AttributeError):
            return _UNREADABLE
        if "labels" in value:
            labels = value["labels"]
            if isinstance(labels, list) and all(isinstance(x, str) for x in labels):
                return Answer(_LABELS, labels=frozenset(labels))
            return _UNREADABLE
        if isinstance(value.get("label"), str):
            return Answer(_LABEL, label=value["label"])
    return _UNREADABLE


@dataclass(frozen=True)
class ConsolidatedLabel:
    """An object's consolidated label (``kind`` as in ``Answer``), or why it cannot be compared
    (kind ``other``, ``note`` saying why)."""

    kind: str
    label: str | None = None
    labels: frozenset[str] = frozenset()
    boxes: tuple[Box, ...] = ()
    note: str = ""


def _class_name(class_map: Any, class_id: Any) -> str:
    if isinstance(class_id, bool) or not isinstance(class_id, int | str):
        raise ValueError("not a class id")
    if not isinstance(class_map, dict) or not isinstance(class_map.get(str(class_id)), str):
        raise ValueError(f"class id {class_id} is not in the class-map")
    name: str = class_map[str(class_id)]
    return name


def read_consolidated(
    task_type: str | None, label: str | None, metadata: str | None
) -> ConsolidatedLabel:
    """The consolidated label of an object from the output manifest's ``<attr>`` and metadata.

    Class ids map to names through the metadata's ``class-name`` (single label) or ``class-map``
    (``{"0": "car"}``: multi-label and boxes).
    """
    if task_type is None:
        return ConsolidatedLabel(
            _OTHER, note="not available: the output manifest gives no task type"
        )
    if task_type not in SINGLE_LABEL_TYPES | MULTI_LABEL_TYPES | BOX_TYPES:
        return ConsolidatedLabel(
            _OTHER,
            note=f"not available: {task_type} answers are not scored "
            "(only classification and bounding boxes are)",
        )
    try:
        value = orjson.loads(label or "null")
        meta = orjson.loads(metadata or "{}")
        if not isinstance(meta, dict):
            raise ValueError("metadata is not an object")
        class_map = meta.get("class-map")
        if task_type in SINGLE_LABEL_TYPES:
            name = meta.get("class-name")
            if not isinstance(name, str):
                name = _class_name(class_map, value)
            return ConsolidatedLabel(_LABEL, label=name)
        if task_type in MULTI_LABEL_TYPES:
            if not isinstance(value, list):
                raise ValueError("the label is not a list of class ids")
            return ConsolidatedLabel(
                _LABELS, labels=frozenset(_class_name(class_map, v) for v in value)
            )
        if not isinstance(value, dict) or not isinstance(value.get("annotations"), list):
            raise ValueError("the label has no annotations")
        boxes = tuple(
            _box(item, _class_name(class_map, item.get("class_id")))
            for item in value["annotations"]
        )
        return ConsolidatedLabel(_BOXES, boxes=boxes)
    except (ValueError, AttributeError, orjson.JSONDecodeError) as exc:
        return ConsolidatedLabel(
            _OTHER, note=f"not available: the consolidated label cannot be read ({exc})"
        )


# --------------------------------------------------------------------------- per response
RESPONSE_SCORE_COLUMNS = (
    "labeling_job_name",
    "object_index",
    "worker_key",
    "worker_id",
    "acceptance_time",
    "submission_time",
    "active_seconds",
    "wall_seconds",
    "task_type",
    "worker_label",
    "agreement_score",
    "agreement_note",
    "gold_label",
    "gold_correct",
    "source",
)


def _codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 missing) and the distinct values as a NumPy object array.

    Text stays in Arrow until here and only the distinct values become Python strings: turning
    300,000 Arrow strings into Python objects and back cost more than all the scoring.
    """
    codes, names = category_codes(series)
    return codes.astype(np.int64), np.asarray(names.astype("object"), dtype=object)


def _worker_codes(responses: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each response's worker as codes into names: its ``sub`` when non-empty, else its
    ``worker_id`` (the log's ``worker_key`` rule)."""
    sub, sub_names = _codes(responses["sub"])
    ids, id_names = _codes(responses["worker_id"])
    usable = np.append(sub_names != "", False)[sub]  # code -1 reads the appended False
    combined = np.where(usable, sub, len(sub_names) + ids)
    combined = np.where(usable | (ids >= 0), combined, -1)
    all_names = np.concatenate([sub_names, id_names])
    # The same text may be a sub and a worker id: one worker.
    unique_codes, names = pd.factorize(all_names)
    lookup = np.append(unique_codes, -1)
    return lookup[combined], np.asarray(names, dtype=object)


def response_worker_keys(responses: pd.DataFrame) -> pd.Series:
    """Each response's worker: its ``sub`` when non-empty, else its ``worker_id``."""
    codes, names = _worker_codes(responses)
    return pd.Series(_categorical(codes, names), dtype="str")


def _object_keys(job_codes: np.ndarray, objects: np.ndarray) -> np.ndarray:
    """One int64 per (job, object index): ``job code * 2**40 + object index``; -1 without a job
    (object indexes are line numbers of a manifest: far below 2**40)."""
    return np.where(job_codes >= 0, job_codes * (1 << 40) + objects, -1)


def _job_codes_in(series: pd.Series, job_names: np.ndarray) -> np.ndarray:
    """Codes of ``series`` (job names) into ``job_names``; -1 for jobs not in it."""
    codes, names = _codes(series)
    lookup = np.append(pd.Index(job_names).get_indexer(names), -1)
    return lookup[codes]


def _categorical(codes: np.ndarray, names: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(names, dtype="str"))


def _small_text(values: np.ndarray) -> pd.Categorical:
    """An object array of few distinct texts (None = missing) as a categorical."""
    codes, names = pd.factorize(values, use_na_sentinel=True)
    return _categorical(codes, np.asarray(names, dtype=object))


def response_scores(data: TeamData, worker_key: str | None = None) -> pd.DataFrame:
    """One row per response submitted in the window, with its times, scores and gold result.

    Parameters
    ----------
    data
        What ``load_team_data`` returned; its ``responses`` are windowed here by
        ``submission_time`` (``dataset.in_window``, the one window cut).
    worker_key
        Only this worker's responses; None for everyone.

    Returns
    -------
    pandas.DataFrame
        Columns ``RESPONSE_SCORE_COLUMNS`` sorted by submission time (text columns categorical):
        ``wall_seconds`` is submission minus acceptance (empty when acceptance is missing or
        later); ``worker_label`` the worker's single label, when the answer is one;
        ``agreement_score`` (0..1) empty when not scored, with ``agreement_note`` saying why;
        ``gold_correct`` true/false on gold objects when the answer is a single label.
    """
    responses = data.responses
    worker, worker_names = _worker_codes(responses)
    job, job_names = _codes(responses["labeling_job_name"])
    objects = responses["object_index"].to_numpy(dtype=np.int64, na_value=-1)
    object_keys = _object_keys(job, objects)
    # Distinct workers per object, over every response read (whatever the window): each
    # distinct (object, worker) pair counted once for its object.
    object_of, _ = pd.factorize(object_keys)
    pairs = pd.unique(object_of.astype(np.int64) * (len(worker_names) + 1) + worker + 1)
    workers_per_object = np.bincount(pairs // (len(worker_names) + 1), minlength=len(object_of))
    keep = in_window(responses["submission_time"], data.filters)
    if worker_key is not None:
        keep &= worker == pd.Index(worker_names).get_indexer([worker_key])[0]
    rows = np.flatnonzero(keep)
    picked = responses.iloc[rows]
    object_keys, worker, job = object_keys[rows], worker[rows], job[rows]
    accepted = _epoch_ms_or_nan(picked["acceptance_time"])
    submitted = _epoch_ms_or_nan(picked["submission_time"])
    with np.errstate(invalid="ignore"):
        wall = (submitted - accepted) / MS_PER_SECOND
    answer_codes, answer_texts = category_codes(picked["answer"])
    answer_codes = answer_codes.astype(np.int64)
    # Box answers of the certain shape read at once (box_reading), the others one by one: the
    # distinct texts stay in Arrow, and only those read one by one become Python strings.
    fast, fast_boxes = read_box_answers(answer_texts.array)
    slow = np.flatnonzero(~fast)
    answers = [_BOX_ANSWER] * len(fast) + [_UNREADABLE]
    kinds = np.full(len(answers), _BOXES, dtype=object)
    labels = np.full(len(answers), None, dtype=object)
    kinds[-1] = _OTHER
    for position, text in zip(slow.tolist(), answer_texts[slow].tolist(), strict=True):
        answer = answers[position] = read_answer(text)
        kinds[position] = answer.kind
        labels[position] = answer.label if answer.kind == _LABEL else None
    answer_boxes, answer_list = _answer_boxes(answers, np.append(fast, False), fast_boxes)
    answer_kind, worker_label = _kind_codes(kinds)[answer_codes], labels[answer_codes]
    truth = _consolidated_by_object(data.consolidated, job_names, object_keys)
    several = workers_per_object[object_of[rows]] >= 2
    scores, notes = _scores(
        answers, answer_codes, answer_kind, worker_label, truth, several, answer_boxes, answer_list
    )
    gold_label = _gold_by_object(data.gold, job_names, object_keys)
    gold_scored = pd.notna(gold_label) & pd.notna(worker_label)
    correct = np.zeros(len(rows), dtype=bool)
    correct[gold_scored] = worker_label[gold_scored] == gold_label[gold_scored]
    gold_correct = pd.arrays.BooleanArray(correct, ~gold_scored)
    frame = pd.DataFrame(
        {
            "labeling_job_name": _categorical(job, job_names),
            "object_index": objects[rows],
            "worker_key": _categorical(worker, worker_names),
            "worker_id": picked["worker_id"].reset_index(drop=True),
            "acceptance_time": picked["acceptance_time"].reset_index(drop=True),
            "submission_time": picked["submission_time"].reset_index(drop=True),
            "active_seconds": picked["active_seconds"].to_numpy(dtype=np.float64),
            "wall_seconds": np.where(wall >= 0, wall, np.nan),
            "task_type": _small_text(truth.task_type),
            "worker_label": _small_text(worker_label),
            "agreement_score": scores,
            "agreement_note": _small_text(notes),
            "gold_label": _small_text(gold_label),
            "gold_correct": gold_correct,
            "source": picked["source"].reset_index(drop=True),
        }
    )
    if len(frame) > 1 and not bool((np.diff(submitted) >= 0).all()):
        frame = frame.sort_values("submission_time", kind="stable")
    return frame[list(RESPONSE_SCORE_COLUMNS)].reset_index(drop=True)


@dataclass(frozen=True)
class _Truth:
    """The consolidated label of each response's object, aligned with the responses."""

    task_type: np.ndarray  # object: the type text, None when unknown
    kind: np.ndarray  # object: _LABEL, _LABELS, _BOXES or _OTHER
    label: np.ndarray  # object: the class name of single-label objects
    read: np.ndarray  # object: the ConsolidatedLabel (None for the single-label fast path)
    read_code: np.ndarray  # int64: the label's list in ``boxes`` (-1 for single-label objects)
    boxes: FlatBoxes  # the boxes of each distinct label read


def _consolidated_by_object(
    consolidated: pd.DataFrame, job_names: np.ndarray, object_keys: np.ndarray
) -> _Truth:
    """Read the consolidated label of every object in ``object_keys`` (each object once).

    Single-label objects whose metadata names the class (``class-name``) are read in one
    vectorised pass (Arrow's JSON reader), box labels of the certain shape in another
    (``box_reading.read_box_labels``); every other object through ``read_consolidated``.
    """
    table_keys = _object_keys(
        _job_codes_in(consolidated["labeling_job_name"], job_names),
        consolidated["object_index"].to_numpy(dtype=np.int64, na_value=-1),
    )
    # The last row of an object wins (the table's key makes it unique anyway).
    last = ~pd.Index(table_keys).duplicated(keep="last") & (table_keys >= 0)
    table_rows = np.flatnonzero(last)
    index = pd.Index(table_keys[table_rows])
    # Each response's object (``back``) among the distinct objects, in one hash pass.
    back, wanted = pd.factorize(object_keys)
    where = index.get_indexer(wanted)
    found = where >= 0
    rows = table_rows[where[found]]
    type_codes, type_names = _codes(consolidated["task_type"])
    types = np.append(type_names, np.array([None], dtype=object))[type_codes[rows]]
    kind = np.full(len(rows), _OTHER, dtype=object)
    name = np.full(len(rows), None, dtype=object)
    read = np.full(len(rows), None, dtype=object)
    read_code = np.full(len(rows), -1, dtype=np.int64)
    values: list[ConsolidatedLabel] = []
    single = np.isin(types, list(SINGLE_LABEL_TYPES))
    metadata = consolidated["metadata"]
    name[single] = _class_names(metadata.iloc[rows[single]])
    kind[single & pd.notna(name)] = _LABEL
    slow = np.flatnonzero(kind != _LABEL)
    box_fast = np.zeros(len(slow), dtype=bool)
    fast_boxes = FlatBoxes.empty()
    box_rows = np.flatnonzero(np.isin(types[slow], list(BOX_TYPES)))
    if len(box_rows):
        picked = rows[slow[box_rows]]
        read_fast, fast_boxes = read_box_labels(
            consolidated["label"].iloc[picked], metadata.iloc[picked]
        )
        box_fast[box_rows[read_fast]] = True
    fast_slow, slow = slow[box_fast], slow[~box_fast]
    if len(slow):
        # Each distinct (type, label, metadata) is read once: objects often share them.
        slow_rows = rows[slow]
        type_of, type_texts = _codes(pd.Series(types[slow], dtype=object))
        label_of, label_texts = _codes(consolidated["label"].iloc[slow_rows])
        metadata_of, metadata_texts = _codes(metadata.iloc[slow_rows])
        # One int64 per triple (codes + 1: -1 is missing); at most types x labels x metadata.
        triple = (type_of + 1) * (len(label_texts) + 1) + label_of + 1
        triple = triple * (len(metadata_texts) + 1) + metadata_of + 1
        distinct, _ = pd.factorize(triple)
        for first in (np.unique(distinct, return_index=True)[1]).tolist():
            type_code, label_code = type_of[first], label_of[first]
            metadata_code = metadata_of[first]
            values.append(
                read_consolidated(
                    None if type_code < 0 else type_texts[type_code],
                    None if label_code < 0 else label_texts[label_code],
                    None if metadata_code < 0 else metadata_texts[metadata_code],
                )
            )
        read[slow] = np.array(values, dtype=object)[distinct]
        read_code[slow] = distinct
        kind[slow] = np.array([v.kind for v in values], dtype=object)[distinct]
        name[slow] = np.array([v.label for v in values], dtype=object)[distinct]
    # Box labels read at once: lists after the distinct labels read one by one.
    kind[fast_slow] = _BOXES
    read[fast_slow] = _BOX_LABEL
    read_code[fast_slow] = len(values) + np.arange(len(fast_slow))
    # Objects without a consolidated row: kind _OTHER, read _NO_CONSOLIDATED.
    object_kind = np.full(len(wanted), _OTHER, dtype=object)
    object_name = np.full(len(wanted), None, dtype=object)
    object_read = np.full(len(wanted), _NO_CONSOLIDATED, dtype=object)
    object_type = np.full(len(wanted), None, dtype=object)
    object_kind[found], object_name[found], object_type[found] = kind, name, types
    object_read[found] = read
    object_read_code = np.full(len(wanted), -1, dtype=np.int64)
    object_read_code[found] = read_code
    return _Truth(
        object_type[back],
        object_kind[back],
        object_name[back],
        object_read[back],
        object_read_code[back],
        flat_boxes([value.boxes for value in values]).then(fast_boxes),
    )


def _class_names(metadata: pd.Series) -> np.ndarray:
    """The ``class-name`` of each metadata JSON text (None where absent or not text)."""
    if not len(metadata) or bool(metadata.isna().any()):
        return _class_names_one_by_one(metadata)
    # A job's objects share a few metadata texts: each distinct one is read once.
    codes, texts = _codes(metadata)
    return _distinct_class_names(pd.Series(texts, dtype="str"))[codes]


def _distinct_class_names(metadata: pd.Series) -> np.ndarray:
    names = np.full(len(metadata), None, dtype=object)
    # One JSON document per line (canonical JSON has no raw newline), read by Arrow in C++.
    texts = pa.array(metadata.array).cast(pa.large_string())
    empty, newline = pa.scalar("", pa.large_string()), pa.scalar("\n", pa.large_string())
    lines = pc.binary_join_element_wise(texts, empty, newline)
    offsets = np.frombuffer(lines.buffers()[1], np.int64, len(lines) + 1, lines.offset * 8)
    data = lines.buffers()[2]
    joined = data[int(offsets[0]) : int(offsets[-1])] if data is not None else b""
    try:
        table = pa_json.read_json(pa.BufferReader(joined))
    except pa.ArrowInvalid:
        return _class_names_one_by_one(metadata)
    if table.num_rows != len(metadata) or "class-name" not in table.column_names:
        return _class_names_one_by_one(metadata)
    column = table.column("class-name")
    if not pa.types.is_string(column.type):
        return _class_names_one_by_one(metadata)
    names[:] = column.to_numpy(zero_copy_only=False)
    return names


def _class_names_one_by_one(metadata: pd.Series) -> np.ndarray:
    names = np.full(len(metadata), None, dtype=object)
    for position, text in enumerate(metadata.tolist()):
        try:
            value = orjson.loads(text) if isinstance(text, str) else None
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict) and isinstance(value.get("class-name"), str):
            names[position] = value["class-name"]
    return names


#: What the fast readers (``box_reading``) stand for: their boxes are in flat arrays.
_BOX_ANSWER = Answer(_BOXES)
_BOX_LABEL = ConsolidatedLabel(_BOXES)
_NO_CONSOLIDATED = ConsolidatedLabel(
    _OTHER, note="not available: no consolidated label for the object (output manifest not read)"
)
_ONE_WORKER = "not available: one worker answered the object (the consolidated label is their own)"


def _scores(
    answers: list[Answer],
    answer_codes: np.ndarray,
    answer_kind: np.ndarray,
    worker_label: np.ndarray,
    truth: _Truth,
    several: np.ndarray,
    answer_boxes: FlatBoxes,
    answer_list: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Each response's agreement score (NaN when not scored) and the note saying why not.

    ``answers`` are the distinct answers (the last one for code -1), ``answer_codes`` each
    response's, ``answer_kind`` its kind (``_kind_codes``); the boxes of answer ``k`` are list
    ``answer_list[k]`` of ``answer_boxes``.
    """
    scores = np.full(len(answer_codes), np.nan)
    notes = np.full(len(answer_codes), None, dtype=object)
    # Kinds as small codes: each object array compared once per kind, not once per use.
    truth_kind = _kind_codes(truth.kind)
    other = truth_kind == _KINDS.index(_OTHER)
    for position in np.flatnonzero(other).tolist():
        notes[position] = truth.read[position].note
    notes[~other & ~several] = _ONE_WORKER
    comparable = ~other & several
    wrong_shape = comparable & (answer_kind != truth_kind)
    for kind in (_LABEL, _LABELS, _BOXES):
        notes[wrong_shape & (truth_kind == _KINDS.index(kind))] = (
            f"not available: the answer holds no {kind} (the job's task type is scored on them)"
        )
    same = comparable & ~wrong_shape
    notes[same] = ""
    single = same & (truth_kind == _KINDS.index(_LABEL))
    scores[single] = (worker_label[single] == truth.label[single]).astype(np.float64)
    multi = np.flatnonzero(same & (truth_kind == _KINDS.index(_LABELS)))
    if len(multi):
        # Each distinct answer and label read once, as sets; every response scored at once.
        answer_sets, answer_of = np.unique(answer_codes[multi], return_inverse=True)
        _, read_first, read_of = np.unique(
            truth.read_code[multi], return_index=True, return_inverse=True
        )
        scores[multi] = jaccard_many(
            [answers[k].labels for k in answer_sets.tolist()],
            answer_of,
            [truth.read[position].labels for position in multi[read_first].tolist()],
            read_of,
        )
    box = np.flatnonzero(same & (truth_kind == _KINDS.index(_BOXES)))
    if len(box):
        # Every response scored at once; labels coded alike on both sides.
        worker, consolidated = _coded(answer_boxes, truth.boxes)
        scores[box] = box_f1_many(
            worker,
            answer_list[answer_codes[box]],
            consolidated,
            truth.read_code[box],
            MIN_BOX_IOU,
        )
    return scores, notes


#: Every kind of answer and consolidated label (``read_answer``, ``read_consolidated``).
_KINDS = (_LABEL, _LABELS, _BOXES, _OTHER)


def _kind_codes(kinds: np.ndarray) -> np.ndarray:
    """Each kind (object array) as its position in ``_KINDS``."""
    codes = np.full(len(kinds), _KINDS.index(_OTHER), dtype=np.int8)
    for code, kind in enumerate(_KINDS[:-1]):
        codes[kinds == kind] = code
    return codes


def _answer_boxes(
    answers: list[Answer], fast: np.ndarray, fast_boxes: FlatBoxes
) -> tuple[FlatBoxes, np.ndarray]:
    """The boxes of every distinct answer as lists, and each answer's list: the ``fast``
    answers' (``fast_boxes``, in order) first, then the others' (from ``answers``)."""
    slow = np.flatnonzero(~fast)
    position = np.empty(len(answers), dtype=np.int64)
    position[fast] = np.arange(int(fast.sum()))
    position[slow] = int(fast.sum()) + np.arange(len(slow))
    return fast_boxes.then(flat_boxes([answers[k].boxes for k in slow.tolist()])), position


def _coded(first: FlatBoxes, second: FlatBoxes) -> tuple[BoxLists, BoxLists]:
    """Both box lists with labels as integer codes, equal texts equal codes on either side."""
    codes, _ = pd.factorize(np.concatenate([first.label, second.label]))
    split = len(first.label)
    return (
        BoxLists(
            first.bounds,
            codes[:split].astype(np.int64),
            first.left,
            first.top,
            first.width,
            first.height,
        ),
        BoxLists(
            second.bounds,
            codes[split:].astype(np.int64),
            second.left,
            second.top,
            second.width,
            second.height,
        ),
    )


def flat_boxes(lists: Sequence[Sequence[Box]]) -> FlatBoxes:
    """``lists`` of boxes as flat arrays (labels as text)."""
    bounds = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum(list(map(len, lists)), out=bounds[1:])
    flat = [box for boxes in lists for box in boxes]
    # Boxes are tuples (label, left, top, width, height): their fields in one object array,
    # five to a row (chained: ten times faster than numpy sizing a list of tuples).
    table = np.fromiter(
        itertools.chain.from_iterable(flat), dtype=object, count=5 * len(flat)
    ).reshape(len(flat), 5)
    left, top, width, height = (
        np.ascontiguousarray(table[:, column], dtype=np.float64) for column in range(1, 5)
    )
    return FlatBoxes(bounds, table[:, 0], left, top, width, height)


def box_lists(lists: Sequence[Sequence[Box]], label_codes: dict[str, int]) -> BoxLists:
    """``lists`` of boxes as flat arrays; labels become codes through ``label_codes`` (added to:
    share it between the lists compared)."""
    flat = flat_boxes(lists)
    labels, names = pd.factorize(flat.label)
    lookup = np.array([label_codes.setdefault(name, len(label_codes)) for name in names])
    label = lookup[labels] if len(flat.label) else np.zeros(0, dtype=np.int64)
    return BoxLists(
        flat.bounds, label.astype(np.int64), flat.left, flat.top, flat.width, flat.height
    )


def _gold_by_object(
    gold: pd.DataFrame, job_names: np.ndarray, object_keys: np.ndarray
) -> np.ndarray:
    """The gold label of each response's object (None when the object has none)."""
    table_keys = _object_keys(
        _job_codes_in(gold["labeling_job_name"], job_names),
        gold["object_index"].to_numpy(dtype=np.int64, na_value=-1),
    )
    last = ~pd.Index(table_keys).duplicated(keep="last") & (table_keys >= 0)
    index = pd.Index(table_keys[last])
    labels = np.asarray(gold["label"].astype("object").where(gold["label"].notna(), None))[last]
    found = index.get_indexer(object_keys)
    out = np.full(len(object_keys), None, dtype=object)
    out[found >= 0] = labels[found[found >= 0]]
    return out


# --------------------------------------------------------------------------- per group
def _group_numbers(scores: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``QUALITY_COLUMNS`` of each group of ``scores`` (rows of ``response_scores``)."""
    active = scores["active_seconds"]
    both = active.notna() & scores["wall_seconds"].notna()
    gold = scores["gold_correct"]
    frame = pd.DataFrame(
        {
            **{key: scores[key] for key in keys},
            "active": active,
            "active_both": active.where(both),
            "wall_both": scores["wall_seconds"].where(both),
            "score": scores["agreement_score"],
            "gold": gold.astype("float64"),
        }
    )
    grouped = frame.groupby(keys, sort=True, observed=True)
    wall_sum = grouped["wall_both"].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = grouped["active_both"].sum() / wall_sum.where(wall_sum > 0)
    out = pd.DataFrame(
        {
            "responses": grouped.size().astype("int64"),
            "median_active_seconds": grouped["active"].median(),
            "mean_active_seconds": grouped["active"].mean(),
            "active_share": share,
            "agreement_rate": grouped["score"].mean(),
            "responses_scored": grouped["score"].count().astype("int64"),
            "gold_accuracy": grouped["gold"].mean(),
            "gold_scored": grouped["gold"].count().astype("int64"),
        }
    )
    return out.reset_index()


def worker_job_quality(
    data: TeamData,
    quality_z: float = QUALITY_Z,
    min_scored: int = QUALITY_MIN_SCORED,
    scores: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per (worker, job) with responses in the window: the numbers and the robust test.

    A pair with at least ``min_scored`` scored responses is compared with the job's other such
    pairs: ``modified_z`` of its ``agreement_rate`` (``grouping.modified_z_by_group``, the slow
    flag's rule); ``quality_flag`` when it is below ``-quality_z``. ``quadrant`` places the pair
    against the job's medians of ``median_active_seconds`` and ``agreement_rate`` (see
    ``definitions``).

    Returns
    -------
    pandas.DataFrame
        ``worker_key``, ``labeling_job_name``, ``QUALITY_COLUMNS``, ``job_workers_compared``,
        ``job_median_agreement``, ``job_mad_agreement``, ``job_mean_ad_agreement``,
        ``modified_z``, ``quality_flag``, ``quadrant``.
    """
    if scores is None:
        scores = response_scores(data)
    pairs = _group_numbers(scores, ["worker_key", "labeling_job_name"])
    compared = pairs[pairs["responses_scored"] >= min_scored]
    robust = modified_z_by_group(compared["agreement_rate"], compared["labeling_job_name"])
    pairs["job_workers_compared"] = robust["group_size"].reindex(pairs.index).astype("Int64")
    pairs["job_median_agreement"] = robust["group_median"].reindex(pairs.index)
    pairs["job_mad_agreement"] = robust["group_mad"].reindex(pairs.index)
    pairs["job_mean_ad_agreement"] = robust["group_mean_ad"].reindex(pairs.index)
    pairs["modified_z"] = robust["modified_z"].reindex(pairs.index)
    pairs["quality_flag"] = (pairs["modified_z"] < -quality_z).to_numpy(dtype=bool)
    pairs["quadrant"] = pd.array(_quadrants(pairs), dtype="str")
    return pairs


#: The four quadrants of speed against agreement, split at the job's medians.
QUADRANTS = (
    "fast and agreeing",
    "slow and agreeing",
    "fast and disagreeing",
    "slow and disagreeing",
)


def _quadrants(pairs: pd.DataFrame) -> list[str | None]:
    """Each pair's quadrant: at or below the job's median active seconds is fast, at or above
    the job's median agreement rate is agreeing; None without both numbers."""
    by_job = pairs.groupby("labeling_job_name", sort=False)
    speed_median = by_job["median_active_seconds"].transform("median")
    agreement_median = by_job["agreement_rate"].transform("median")
    fast = pairs["median_active_seconds"] <= speed_median
    agreeing = pairs["agreement_rate"] >= agreement_median
    known = pairs["median_active_seconds"].notna() & pairs["agreement_rate"].notna()
    names: list[str | None] = []
    for is_known, is_fast, is_agreeing in zip(known, fast, agreeing, strict=True):
        if not is_known:
            names.append(None)
        else:
            names.append(QUADRANTS[(0 if is_fast else 1) + (0 if is_agreeing else 2)])
    return names


def worker_quality(
    data: TeamData, quality_z: float = QUALITY_Z, min_scored: int = QUALITY_MIN_SCORED
) -> pd.DataFrame:
    """One row per worker with responses in the window: ``QUALITY_COLUMNS`` and the flag.

    ``quality_flag`` when, on any job, the worker's agreement rate is far below the job's other
    workers' (``worker_job_quality``); ``quality_reason`` names each such job with the numbers.
    """
    scores = response_scores(data)
    per_worker = _group_numbers(scores, ["worker_key"])
    pairs = worker_job_quality(data, quality_z, min_scored, scores=scores)
    reasons = _quality_reasons(pairs, quality_z)
    per_worker["quality_reason"] = pd.array(
        [reasons.get(key, "") for key in per_worker["worker_key"].tolist()], dtype="str"
    )
    per_worker["quality_flag"] = (per_worker["quality_reason"] != "").to_numpy(dtype=bool)
    return per_worker[["worker_key", *QUALITY_COLUMNS, *QUALITY_FLAG_COLUMNS]]


def _quality_reasons(pairs: pd.DataFrame, quality_z: float) -> dict[str, str]:
    flagged = pairs[pairs["quality_flag"]].sort_values("modified_z")
    reasons: dict[str, list[str]] = {}
    for row in flagged.to_dict("records"):
        spread = (
            f"MAD {row['job_mad_agreement']:.3f}"
            if row["job_mad_agreement"] > 0
            else f"MAD 0, mean absolute deviation {row['job_mean_ad_agreement']:.3f}"
        )
        reasons.setdefault(row["worker_key"], []).append(
            f"on {row['labeling_job_name']}: agreement {row['agreement_rate']:.2f} over "
            f"{row['responses_scored']} scored responses vs the job's "
            f"{row['job_workers_compared']} workers' median {row['job_median_agreement']:.2f} "
            f"({spread}; modified z {row['modified_z']:.1f} < -{quality_z:g})"
        )
    return {key: "; ".join(items) for key, items in reasons.items()}


def job_quality(data: TeamData) -> pd.DataFrame:
    """One row per job with responses in the window: ``QUALITY_COLUMNS`` and agreement between
    workers (``JOB_AGREEMENT_COLUMNS``).

    ``objects_compared``: objects with single-label answers from at least two distinct workers
    in the window; ``unanimous_share``: the share of them where every answer is the same label;
    ``krippendorff_alpha``: nominal alpha over those objects' labels (units = objects).
    """
    scores = response_scores(data)
    per_job = _group_numbers(scores, ["labeling_job_name"])
    labelled = scores[scores["worker_label"].notna()]
    labelled = labelled.drop_duplicates(["labeling_job_name", "object_index", "worker_key"])
    by_object = labelled.groupby(["labeling_job_name", "object_index"], sort=False)
    stats = pd.DataFrame(
        {
            "answers": by_object.size(),
            "distinct": by_object["worker_label"].nunique(),
        }
    ).reset_index()
    stats = stats[stats["answers"] >= 2]
    compared = stats.groupby("labeling_job_name")["answers"].size()
    unanimous = (stats["distinct"] == 1).groupby(stats["labeling_job_name"]).mean()
    alpha = _alpha_by_group(
        pd.DataFrame(
            {
                "group": labelled["labeling_job_name"].to_numpy(),
                "unit": labelled["object_index"].to_numpy(),
                "value": labelled["worker_label"].to_numpy(dtype=object),
            }
        )
    )
    names = per_job["labeling_job_name"]
    per_job["objects_compared"] = names.map(compared).fillna(0).astype("int64")
    per_job["unanimous_share"] = names.map(unanimous).astype("float64")
    per_job["krippendorff_alpha"] = names.map(alpha).astype("float64")
    return per_job[["labeling_job_name", *QUALITY_COLUMNS, *JOB_AGREEMENT_COLUMNS]]


def gold_results(data: TeamData, worker_key: str | None = None) -> pd.DataFrame:
    """The responses on gold objects (``response_scores`` rows with a gold label)."""
    scores = response_scores(data, worker_key)
    rows = scores[scores["gold_label"].notna()]
    return rows[
        [
            "labeling_job_name",
            "object_index",
            "worker_key",
            "submission_time",
            "worker_label",
            "gold_label",
            "gold_correct",
        ]
    ].reset_index(drop=True)


# --------------------------------------------------------------------------- active time pairs
def active_time_pairs(data: TeamData, min_responses: int) -> pd.DataFrame:
    """Median active seconds of each (worker, job) with at least ``min_responses`` responses
    with active seconds in the window: what the fair slow flag compares (``workers``).

    Returns
    -------
    pandas.DataFrame
        ``worker_key``, ``labeling_job_name``, ``responses_with_active``, ``median_active_ms``.
    """
    responses = data.responses
    keep = in_window(responses["submission_time"], data.filters)
    keep &= responses["active_seconds"].notna().to_numpy()
    rows = np.flatnonzero(keep)
    frame = pd.DataFrame(
        {
            "worker_key": response_worker_keys(responses).to_numpy()[rows],
            "labeling_job_name": responses["labeling_job_name"].astype("str").to_numpy()[rows],
            "active_ms": responses["active_seconds"].to_numpy(dtype=np.float64)[rows]
            * MS_PER_SECOND,
        }
    )
    grouped = frame.groupby(["worker_key", "labeling_job_name"], sort=True)["active_ms"]
    pairs = pd.DataFrame(
        {"responses_with_active": grouped.size(), "median_active_ms": grouped.median()}
    ).reset_index()
    return pairs[pairs["responses_with_active"] >= min_responses].reset_index(drop=True)


# --------------------------------------------------------------------------- log tasks
TASK_MATCH_COLUMNS = ("task_position", "response_position")


def match_tasks_to_responses(tasks: pd.DataFrame, responses: pd.DataFrame) -> pd.DataFrame:
    """Pair log tasks with worker responses: same worker and job, acceptance and submission
    each within ``MATCH_TOLERANCE_MS``.

    Parameters
    ----------
    tasks
        ``worker_key``, ``labeling_job_name``, ``accepted_ms``, ``submitted_ms`` (float epoch
        ms, NaN when unknown) of submitted log tasks.
    responses
        The same columns for responses.

    Returns
    -------
    pandas.DataFrame
        ``task_position`` and ``response_position`` (row positions in the inputs), one row per
        matched task: its nearest response by submission time, taken at most once.
    """
    columns = ["worker_key", "labeling_job_name", "accepted_ms", "submitted_ms"]
    left = tasks[columns].assign(task_position=np.arange(len(tasks)))
    right = responses[columns].assign(response_position=np.arange(len(responses)))
    left = left.dropna(subset=["accepted_ms", "submitted_ms"])
    right = right.dropna(subset=["accepted_ms", "submitted_ms"])
    if not len(left) or not len(right):
        return pd.DataFrame({name: pd.Series(dtype="int64") for name in TASK_MATCH_COLUMNS})
    for side in (left, right):
        side["worker_key"] = side["worker_key"].astype("str")
        side["labeling_job_name"] = side["labeling_job_name"].astype("str")
        for name in ("accepted_ms", "submitted_ms"):
            side[name] = side[name].astype("int64")
    # Stable sorts: which of two tasks submitted at the same ms takes a response depends on the
    # event order alone, not on which other workers' tasks are in the frame (export --worker,
    # the Spark engine).
    merged = pd.merge_asof(
        left.sort_values("submitted_ms", kind="stable"),
        right.sort_values("submitted_ms", kind="stable").rename(
            columns={"accepted_ms": "response_accepted_ms", "submitted_ms": "response_ms"}
        ),
        left_on="submitted_ms",
        right_on="response_ms",
        by=["worker_key", "labeling_job_name"],
        direction="nearest",
        tolerance=MATCH_TOLERANCE_MS,
    )
    merged = merged.dropna(subset=["response_position"])
    close = (merged["accepted_ms"] - merged["response_accepted_ms"]).abs() <= MATCH_TOLERANCE_MS
    merged = merged[close].drop_duplicates("response_position", keep="first")
    return pd.DataFrame(
        {
            "task_position": merged["task_position"].astype("int64").to_numpy(),
            "response_position": merged["response_position"].astype("int64").to_numpy(),
        }
    )


def _epoch_ms_or_nan(series: pd.Series) -> np.ndarray:
    values = column_epoch_ms(series).astype(np.float64)
    values[series.isna().to_numpy()] = np.nan
    return values


def log_submitted_tasks(data: TeamData) -> pd.DataFrame:
    """The log's submitted tasks with the columns ``match_tasks_to_responses`` reads, plus
    ``row`` (the event's position in ``data.events``) and ``source``."""
    outcomes = outcomes_of(data)
    submitted = outcomes.rows[outcomes.kind == SUBMITTED]
    events = data.events.iloc[submitted]
    return pd.DataFrame(
        {
            "row": submitted,
            "worker_key": events["worker_key"].astype("str").to_numpy(),
            "labeling_job_name": events["labeling_job_name"].astype("str").to_numpy(),
            "accepted_ms": _epoch_ms_or_nan(events["task_accepted_time"]),
            "submitted_ms": _epoch_ms_or_nan(events["task_submitted_time"]),
            "task_accepted_time": events["task_accepted_time"].to_numpy(),
            "task_submitted_time": events["task_submitted_time"].to_numpy(),
            "source": events["source"].astype("str").to_numpy(),
        }
    )


def response_match_frame(scores: pd.DataFrame) -> pd.DataFrame:
    """``response_scores`` rows with the columns ``match_tasks_to_responses`` reads."""
    return pd.DataFrame(
        {
            "worker_key": scores["worker_key"].to_numpy(),
            "labeling_job_name": scores["labeling_job_name"].to_numpy(),
            "accepted_ms": _epoch_ms_or_nan(scores["acceptance_time"]),
            "submitted_ms": _epoch_ms_or_nan(scores["submission_time"]),
        }
    )


@dataclass(frozen=True)
class ResponseCoverage:
    """The two sources side by side, never merged: what one has and the other lacks.

    Attributes
    ----------
    responses_without_task
        Responses in the window that match no submitted log task.
    tasks_without_response
        Submitted log tasks, on jobs with responses in the window, that match no response.
    """

    responses_without_task: pd.DataFrame
    tasks_without_response: pd.DataFrame


def response_coverage(data: TeamData) -> ResponseCoverage:
    """Which responses have no log task, and which log tasks no response (see the class)."""
    scores = response_scores(data)
    tasks = log_submitted_tasks(data)
    tasks = tasks[tasks["labeling_job_name"].isin(set(scores["labeling_job_name"]))]
    tasks = tasks.reset_index(drop=True)
    matches = match_tasks_to_responses(tasks, response_match_frame(scores))
    response_matched = np.zeros(len(scores), dtype=bool)
    response_matched[matches["response_position"].to_numpy()] = True
    task_matched = np.zeros(len(tasks), dtype=bool)
    task_matched[matches["task_position"].to_numpy()] = True
    lonely_responses = scores[~response_matched]
    lonely_tasks = tasks[~task_matched]
    return ResponseCoverage(
        responses_without_task=lonely_responses[
            [
                "labeling_job_name",
                "object_index",
                "worker_key",
                "acceptance_time",
                "submission_time",
                "source",
            ]
        ].reset_index(drop=True),
        tasks_without_response=pd.DataFrame(
            {
                "labeling_job_name": lonely_tasks["labeling_job_name"].to_numpy(),
                "worker_key": lonely_tasks["worker_key"].to_numpy(),
                "task_accepted_time": lonely_tasks["task_accepted_time"].to_numpy(),
                "task_submitted_time": lonely_tasks["task_submitted_time"].to_numpy(),
                "source": lonely_tasks["source"].to_numpy(),
            }
        ),
    )


def task_response_numbers(data: TeamData, task_rows: np.ndarray) -> pd.DataFrame:
    """``active_seconds`` and ``agreement_score`` of the log tasks at event rows ``task_rows``
    (NaN where the task matches no response): what ``task_table`` adds."""
    out = pd.DataFrame({name: np.full(len(task_rows), np.nan) for name in TASK_RESPONSE_COLUMNS})
    if not len(data.responses) or not len(task_rows):
        return out
    tasks = log_submitted_tasks(data)
    numbers = submitted_task_numbers(data, tasks)
    found = pd.Series(np.arange(len(tasks)), index=tasks["row"].to_numpy()).reindex(task_rows)
    has = found.notna().to_numpy()
    picks = found[has].astype("int64").to_numpy()
    for name in TASK_RESPONSE_COLUMNS:
        values = out[name].to_numpy(copy=True)
        values[has] = numbers[name].to_numpy(dtype=np.float64)[picks]
        out[name] = values
    return out


def submitted_task_numbers(data: TeamData, tasks: pd.DataFrame) -> pd.DataFrame:
    """``TASK_RESPONSE_COLUMNS`` of each of ``tasks`` (submitted log tasks with the columns
    ``match_tasks_to_responses`` reads, in event order), NaN where none matches a response.

    Reads ``data.responses`` (and the consolidated labels, gold) besides ``tasks``, never the
    events: the Spark engine calls it on its driver with the tasks its executors built. A task's
    match depends on the other tasks of its worker and job only.
    """
    out = pd.DataFrame({name: np.full(len(tasks), np.nan) for name in TASK_RESPONSE_COLUMNS})
    if not len(data.responses) or not len(tasks):
        return out
    scores = response_scores(data)
    matches = match_tasks_to_responses(tasks, response_match_frame(scores))
    task_positions = matches["task_position"].to_numpy()
    response_positions = matches["response_position"].to_numpy()
    for name in TASK_RESPONSE_COLUMNS:
        values = out[name].to_numpy(copy=True)
        values[task_positions] = scores[name].to_numpy(dtype=np.float64)[response_positions]
        out[name] = values
    return out
