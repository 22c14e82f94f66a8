"""Bounding-box answers and consolidated box labels read many at a time (issue 11).

``quality.read_answer`` and ``quality.read_consolidated`` are the definitions, one JSON text at
a time; a real box job has a distinct text per answer and per object, and reading 200,000 of
them one by one took 2.5 s of CPU. This module reads, in a few Arrow and NumPy passes, the texts
whose shape is certain, and says which: every other text goes to the definition, so every rule
and every "not available" note stays the definition's. A property test
(``tests/unit/test_box_reading.py``) holds the two readers equal on random and hostile texts.

A text is read here only when one RE2 pattern matches all of it: the canonical JSON the ingest
writes (``responses.parse.canonical_json``: sorted keys, no white space), strings without
escapes or control characters (so no surrogate, and a string cannot hold a quote: every quote in
the text is JSON's own), numbers of at most 15 integer and 17 fraction digits with a two-digit
exponent (no overflow to infinity, integers exact as floats; a bare ``-0``, which the definition
reads as the integer 0, is left to it). Such a text is valid JSON that the definition reads as
boxes. The boxes' values are then cut out of the texts (NumPy finds them: every quote is JSON's own)
and Arrow casts them (numbers to the nearest float, as ``orjson`` reads them).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

_STRING = r'"[^"\\\x00-\x1f]*"'
_FRACTION = r"\.[0-9]{1,17}"
_EXPONENT = r"[eE][-+]?[0-9]{1,2}"
_NUMBER = (
    rf"(?:-?[1-9][0-9]{{0,14}}(?:{_FRACTION})?(?:{_EXPONENT})?"
    rf"|0(?:{_FRACTION})?(?:{_EXPONENT})?"
    rf"|-0(?:{_FRACTION}(?:{_EXPONENT})?|{_EXPONENT}))"
)
_CLASS_ID = r"(?:0|[1-9][0-9]{0,8})"
_SCALAR = rf"(?:{_STRING}|{_NUMBER}|true|false|null)"


def _nested(inner: str) -> str:
    """A value that is ``inner``, or an array or object of ``inner`` values."""
    array = rf"\[(?:{inner}(?:,{inner})*)?\]"
    members = rf"\{{(?:{_STRING}:{inner}(?:,{_STRING}:{inner})*)?\}}"
    return rf"(?:{inner}|{array}|{members})"


#: Any metadata value up to two levels deep (``"objects":[{"confidence":0.9}]``).
_VALUE = _nested(_nested(_SCALAR))


def _boxes_of(box: str) -> str:
    return rf"\[(?:{box}(?:,{box})*)?\]"


#: A worker's box answer: one template element holding ``boundingBoxes`` (and, optionally, the
#: image's size, as Ground Truth's bounding-box template writes it).
BOX_ANSWER_PATTERN = (
    rf"^\{{{_STRING}:\{{\"boundingBoxes\":"
    + _boxes_of(
        rf"\{{\"height\":{_NUMBER},\"label\":{_STRING},\"left\":{_NUMBER},"
        rf"\"top\":{_NUMBER},\"width\":{_NUMBER}\}}"
    )
    + rf"(?:,\"inputImageProperties\":\{{\"height\":{_NUMBER},\"width\":{_NUMBER}\}})?\}}\}}$"
)
#: A consolidated box label of the output manifest: annotations by class id, and the image size.
BOX_LABEL_PATTERN = (
    r"^\{\"annotations\":"
    + _boxes_of(
        rf"\{{\"class_id\":{_CLASS_ID},\"height\":{_NUMBER},\"left\":{_NUMBER},"
        rf"\"top\":{_NUMBER},\"width\":{_NUMBER}\}}"
    )
    + rf"(?:,\"image_size\":\[\{{\"depth\":{_NUMBER},\"height\":{_NUMBER},"
    rf"\"width\":{_NUMBER}\}}\])?\}}$"
)
#: A label's metadata with its ``class-map`` (class id -> name) and any other values.
BOX_METADATA_PATTERN = (
    rf"^\{{(?:{_STRING}:{_VALUE},)*\"class-map\":"
    rf"\{{(?:{_STRING}:{_STRING}(?:,{_STRING}:{_STRING})*)?\}}(?:,{_STRING}:{_VALUE})*\}}$"
)


@dataclass(frozen=True)
class FlatBoxes:
    """Lists of boxes as flat arrays: list ``k`` is rows ``bounds[k]:bounds[k + 1]``.

    ``label`` holds the boxes' labels (Python strings, object array); ``left``, ``top``,
    ``width`` and ``height`` are float64 pixels.
    """

    bounds: np.ndarray
    label: np.ndarray
    left: np.ndarray
    top: np.ndarray
    width: np.ndarray
    height: np.ndarray

    @staticmethod
    def empty(lists: int = 0) -> FlatBoxes:
        """``lists`` lists without boxes."""
        none = np.zeros(0, dtype=np.float64)
        return FlatBoxes(
            np.zeros(lists + 1, dtype=np.int64),
            np.zeros(0, dtype=object),
            none,
            none,
            none,
            none,
        )

    def then(self, other: FlatBoxes) -> FlatBoxes:
        """These lists followed by ``other``'s."""
        return FlatBoxes(
            np.concatenate([self.bounds, self.bounds[-1] + other.bounds[1:]]),
            np.concatenate([self.label, other.label]),
            np.concatenate([self.left, other.left]),
            np.concatenate([self.top, other.top]),
            np.concatenate([self.width, other.width]),
            np.concatenate([self.height, other.height]),
        )


def _text_array(texts: Collection[str | None]) -> pa.LargeStringArray | None:
    try:
        array = pa.array(texts, type=pa.large_string())
    except (pa.ArrowException, UnicodeEncodeError):  # a lone surrogate, a non-text value
        return None
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    result: pa.LargeStringArray = array
    return result


def _buffers(texts: pa.LargeStringArray) -> tuple[np.ndarray, np.ndarray]:
    """The texts' bytes and their ``len + 1`` offsets into them."""
    if texts.buffers()[1] is None:  # an empty array may have no offsets
        return np.zeros(0, np.uint8), np.zeros(1, np.int64)
    offsets = np.frombuffer(texts.buffers()[1], np.int64, len(texts) + 1, texts.offset * 8)
    data = texts.buffers()[2]
    chars = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
    return chars, offsets


def _spans(data: pa.Buffer, start: np.ndarray, end: np.ndarray) -> pa.LargeStringArray:
    """Bytes ``start[i]:end[i]`` of ``data`` as texts (the spans in order, not overlapping).

    Offsets start0, end0, start1, end1, ... over ``data`` make the spans the even items of one
    array (the odd ones are what lies between), which ``take`` copies out.
    """
    bounds = np.empty(2 * len(start), dtype=np.int64)
    bounds[0::2], bounds[1::2] = start, end
    between = pa.Array.from_buffers(
        pa.large_string(), len(bounds) - 1, [None, pa.py_buffer(bounds), data]
    )
    spans: pa.LargeStringArray = between.take(pa.array(np.arange(0, len(bounds) - 1, 2)))
    return spans


def _box_rows(
    texts: pa.LargeStringArray,
    start: np.ndarray,
    end: np.ndarray,
    keys: tuple[str, ...],
    types: tuple[pa.DataType, ...],
) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """The boxes between byte ``start[i]`` and ``end[i]`` of each text (canonical objects of
    exactly ``keys``, separated by commas), one column per key, and how many boxes each text
    has. Strings are the text between their quotes, other values are cast to their type."""
    columns = {key: pa.array([], type) for key, type in zip(keys, types, strict=True)}
    if not len(start):
        return np.zeros(0, dtype=np.int64), columns
    compact = _spans(texts.buffers()[2], start, end)
    runs, run_offsets = _buffers(compact)
    runs, run_start = runs[: run_offsets[-1]], run_offsets[:-1]
    # Strings hold no quote, so quotes pair up: even ones open a string, odd ones close it,
    # and a closing quote followed by a colon ends a key. A box starts at a brace followed by
    # an opening quote (in a run, only a box's first key).
    quotes = np.flatnonzero(runs == ord('"'))
    is_key = runs[quotes[1::2] + 1] == ord(":")
    key_start, key_end = quotes[0::2][is_key], quotes[1::2][is_key]
    opening = quotes[0::2]
    begins = opening[runs[opening - 1] == ord("{")] - 1
    counts = np.diff(np.searchsorted(begins, np.append(run_start, len(runs))))
    if not len(begins):
        return counts, columns
    # Each value runs from after its key's colon to the comma before the next key, or to its
    # box's closing brace (before the comma to the next box, or the next box of the next run).
    value_start = (key_end + 2).reshape(-1, len(keys))
    value_end = np.empty_like(value_start)
    value_end[:, :-1] = key_start.reshape(-1, len(keys))[:, 1:] - 1
    box_end = np.append(begins[1:] - 1, len(runs) - 1)
    box_end -= runs[box_end] == ord(",")
    value_end[:, -1] = box_end
    data = compact.buffers()[2]
    for column, (key, type) in enumerate(zip(keys, types, strict=True)):
        first, last = value_start[:, column], value_end[:, column]
        if pa.types.is_string(type):
            columns[key] = _spans(data, first + 1, last - 1).cast(type)
        else:
            columns[key] = pc.cast(_spans(data, first, last), type)
    return counts, columns


def _flat(counts: np.ndarray, labels: np.ndarray, columns: dict[str, pa.Array]) -> FlatBoxes:
    bounds = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=bounds[1:])
    return FlatBoxes(
        bounds,
        labels,
        *(
            np.ascontiguousarray(columns[name].to_numpy(), dtype=np.float64)
            for name in ("left", "top", "width", "height")
        ),
    )


def read_box_answers(texts: Collection[str | None]) -> tuple[np.ndarray, FlatBoxes]:
    """Which of ``texts`` (answer contents) are read here, and their boxes.

    Returns
    -------
    tuple
        A boolean array over ``texts`` (True: read here, as ``quality.read_answer`` would read
        it: kind ``boxes``) and the boxes of those texts, in order. The others are left to
        ``read_answer``.
    """
    array = _text_array(texts)
    if array is None or not len(array):
        return np.zeros(len(texts), dtype=bool), FlatBoxes.empty()
    fast = _flags(pc.match_substring_regex(array, BOX_ANSWER_PATTERN))
    chars, offsets = _buffers(array)
    marker = '"boundingBoxes":['
    found = pc.fill_null(pc.find_substring(array, marker), -1).to_numpy()
    start = offsets[:-1] + found + len(marker)
    # The boxes end at the text's last bracket: what follows holds no string.
    brackets = np.flatnonzero(chars == ord("]"))
    end = (
        brackets[np.maximum(np.searchsorted(brackets, offsets[1:]) - 1, 0)]
        if len(brackets)
        else start
    )
    keys = ("height", "label", "left", "top", "width")
    counts, columns = _box_rows(
        array,
        np.where(fast, start, offsets[:-1]),
        np.where(fast, end, offsets[:-1]),
        keys,
        (pa.float64(), pa.string(), *(pa.float64(),) * 3),
    )
    labels = np.asarray(columns["label"].to_numpy(zero_copy_only=False), dtype=object)
    return fast, _flat(counts[fast], labels, columns)


def _flags(values: pa.Array) -> np.ndarray:
    """A boolean Arrow array as NumPy, null as False."""
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _class_maps(metadata: pa.LargeStringArray, fast: np.ndarray) -> pa.LargeStringArray:
    """The ``class-map`` object of each ``fast`` metadata text (a flat object of strings).

    It starts after its key (the only one: ``read_box_labels`` counts them) and ends at the
    first brace after it that closes a string (every quote is JSON's own, so quotes pair up:
    odd ones close a string), or at once when it is empty. Capturing it with a pattern cost
    more than all the rest of ``read_box_labels``.
    """
    _, offsets = _buffers(metadata)
    if not fast.any():
        return pa.array([], pa.large_string())
    # The fast texts alone: quotes pair up over all of them.
    texts = _spans(metadata.buffers()[2], offsets[:-1][fast], offsets[1:][fast])
    chars, offsets = _buffers(texts)
    key = '"class-map":'
    start = offsets[:-1] + pc.find_substring(texts, key).to_numpy() + len(key)
    closing = np.flatnonzero(chars == ord('"'))[1::2]
    braces = closing[chars[closing + 1] == ord("}")] + 1
    after = braces[np.minimum(np.searchsorted(braces, start), max(len(braces) - 1, 0))]
    end = np.where(chars[start + 1] == ord("}"), start + 1, after)
    return _spans(texts.buffers()[2], start, end + 1)


def read_box_labels(
    labels: Collection[str | None], metadata: Collection[str | None]
) -> tuple[np.ndarray, FlatBoxes]:
    """Which consolidated box labels (with their metadata) are read here, and their boxes.

    Returns
    -------
    tuple
        A boolean array (True: read here, as ``quality.read_consolidated`` reads a box label:
        every class id named by the metadata's ``class-map``) and the boxes of those labels, in
        order, labelled with class names. The others are left to ``read_consolidated``.
    """
    label_array, metadata_array = _text_array(labels), _text_array(metadata)
    if label_array is None or metadata_array is None or not len(label_array):
        return np.zeros(len(labels), dtype=bool), FlatBoxes.empty()
    # A job's labels share a few metadata texts: each distinct one is checked and its class-map
    # read once (``metadata_of``: each label's distinct metadata, -1 when missing).
    encoded_metadata = metadata_array.dictionary_encode()
    metadata_texts = encoded_metadata.dictionary
    metadata_of = pc.fill_null(encoded_metadata.indices, -1).to_numpy().astype(np.int64)
    # One "class-map" in the whole text (a quote is always JSON's own): the top-level one.
    metadata_fast = _flags(
        pc.and_kleene(
            pc.match_substring_regex(metadata_texts, BOX_METADATA_PATTERN),
            pc.equal(pc.count_substring(metadata_texts, '"class-map":'), 1),
        )
    )
    fast = _flags(pc.match_substring_regex(label_array, BOX_LABEL_PATTERN))
    fast &= np.append(metadata_fast, False)[metadata_of]
    chars, offsets = _buffers(label_array)
    start = offsets[:-1] + len('{"annotations":[')
    # The boxes end at the text's first bracket: they hold no string.
    brackets = np.flatnonzero(chars == ord("]"))
    end = (
        brackets[np.minimum(np.searchsorted(brackets, offsets[:-1]), max(len(brackets) - 1, 0))]
        if len(brackets)
        else start
    )
    keys = ("class_id", "height", "left", "top", "width")
    counts, columns = _box_rows(
        label_array,
        np.where(fast, start, offsets[:-1]),
        np.where(fast, end, offsets[:-1]),
        keys,
        (pa.int64(), *(pa.float64(),) * 4),
    )
    counts = counts[fast]
    # Each distinct class-map read once (a job has one).
    encoded = _class_maps(metadata_texts, metadata_fast).dictionary_encode()
    map_of_metadata = np.zeros(len(metadata_texts), dtype=np.int64)
    map_of_metadata[metadata_fast] = encoded.indices.to_numpy(zero_copy_only=False)
    map_codes = map_of_metadata[metadata_of[fast]]
    class_maps = [orjson.loads(text) for text in encoded.dictionary.to_pylist()]
    owner = np.repeat(np.arange(len(counts)), counts)
    class_ids = columns["class_id"].to_numpy()
    # Every class id must be in its class-map: each distinct (class-map, id) looked up once.
    ids = int(class_ids.max(initial=0)) + 1
    pairs, pair_of = np.unique(map_codes[owner] * ids + class_ids, return_inverse=True)
    pair_names = [class_maps[pair // ids].get(str(pair % ids)) for pair in pairs.tolist()]
    names = np.array(pair_names, dtype=object)[pair_of] if len(pairs) else pairs.astype(object)
    named = np.array([isinstance(name, str) for name in pair_names], dtype=bool)[pair_of]
    if not named.all():
        unnamed = np.unique(owner[~named])
        keep = np.ones(len(counts), dtype=bool)
        keep[unnamed] = False
        rows = np.flatnonzero(fast)
        fast[rows[unnamed]] = False
        box_keep = keep[owner]
        counts = counts[keep]
        columns = {key: values.filter(pa.array(box_keep)) for key, values in columns.items()}
        names = names[box_keep]
    return fast, _flat(counts, names, columns)
