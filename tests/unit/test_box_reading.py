"""The box readers at once (``box_reading``) read every text they take exactly as the
definitions (``quality.read_answer``, ``quality.read_consolidated``) do, on random and hostile
texts; the texts they leave go to the definitions, so together they are the definitions."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from analytics.metrics.box_reading import FlatBoxes, read_box_answers, read_box_labels
from analytics.metrics.quality import Box, read_answer, read_consolidated
from analytics.responses.parse import canonical_json

BOX_TYPE = "groundtruth/object-detection"

#: Number texts: canonical, odd (JSON but never written by the ingest), and not JSON at all.
NUMBER_TEXTS = (
    "0", "-0", "-0.0", "0.0", "0e0", "-0e0", "1E2", "1e+2", "2.50", "1.0000000000000002",
    "0.30000000000000004", "9007199254740993", "123456789012345", "1234567890123456",
    "-123456789012345", "123456789012345678901234567890", "1e400", "-1e400", "1e-400",
    "4.9e-324", "1.7976931348623157e308", "NaN", "Infinity", "-Infinity", "01", "1.", ".5",
    "+1", "0x10", "true", "false", "null", '"10"', "[10]", "{}", "1e99", "9.99e-99",
)  # fmt: skip
#: Label texts: plain, with JSON's and CSV's punctuation, escapes (valid and lone surrogates),
#: raw control characters, other scripts.
LABEL_TEXTS = (
    '"car"', '"Car"', '""', '"a,b"', '"a:b"', '":"', '"{"', '"}"', '"]"', '"}],"', '"x},{"',
    '"label"', '"\\"q\\""', '"back\\\\slash"', '"\\u0041"', '"\\ud800"', '"\\ud83d\\ude00"',
    '"new\\nline"', '"raw\x01control"', '"raw\nnewline"', '"猫"', '"😀"', '"é"', '"\x7f"',
    '"a\\/b"', "7", "null", '["car"]',
)  # fmt: skip


def _number(rng: np.random.Generator) -> str:
    style = rng.random()
    if style < 0.04:
        return str(NUMBER_TEXTS[int(rng.integers(len(NUMBER_TEXTS)))])
    if style < 0.4:
        return str(int(rng.integers(-(10**6), 10**6)))
    sign = "-" if rng.random() < 0.3 else ""
    whole = str(int(rng.integers(0, 10 ** int(rng.integers(1, 17)))))
    digits = int(rng.integers(1, 18)) if rng.random() < 0.95 else int(rng.integers(18, 25))
    fraction = "".join(str(d) for d in rng.integers(0, 10, digits))
    exponent = ""
    if rng.random() < 0.3:
        exponent = f"{'eE'[int(rng.integers(2))]}{'-+'[int(rng.integers(2))]}"
        exponent += str(int(rng.integers(0, 100 if rng.random() < 0.95 else 400)))
    return f"{sign}{whole}.{fraction}{exponent}"


def _label(rng: np.random.Generator) -> str:
    if rng.random() < 0.9:
        return '"' + ("car", "bus", "Car", "a,b", "x y")[int(rng.integers(5))] + '"'
    return str(LABEL_TEXTS[int(rng.integers(len(LABEL_TEXTS)))])


def _members(rng: np.random.Generator, members: list[tuple[str, str]]) -> str:
    """An object of ``members``, now and then shuffled, short of one, doubled or widened."""
    members = list(members)
    style = rng.random()
    if style < 0.05 and members:
        members.pop(int(rng.integers(len(members))))
    elif style < 0.1 and members:
        members.append(members[int(rng.integers(len(members)))])
    elif style < 0.15:
        members.append(("extra", _number(rng)))
    elif style < 0.2:
        rng.shuffle(members)
    return "{" + ",".join(f'"{key}":{value}' for key, value in members) + "}"


def _box(rng: np.random.Generator, label_key: str, label: str) -> str:
    keys = ["height", label_key, "left", "top", "width"]
    keys.sort()
    return _members(rng, [(key, label if key == label_key else _number(rng)) for key in keys])


def _mangle(rng: np.random.Generator, text: str) -> str:
    """Now and then: white space, a cut, a character dropped or doubled, junk after."""
    style = rng.random()
    if style > 0.2 or not text:
        return text
    at = int(rng.integers(len(text)))
    if style < 0.05:
        return text[:at] + " " + text[at:]
    if style < 0.1:
        return text[:at]
    if style < 0.15:
        return text[:at] + text[at + 1 :]
    if style < 0.2:
        return text[:at] + text[at] + text[at:]
    return text + ("}", ",", "\n", "x", "[]")[int(rng.integers(5))]


def random_answer(rng: np.random.Generator) -> str:
    boxes = ",".join(_box(rng, "label", _label(rng)) for _ in range(int(rng.integers(0, 4))))
    inner: list[tuple[str, str]] = [("boundingBoxes", f"[{boxes}]")]
    if rng.random() < 0.7:
        inner.append(
            (
                "inputImageProperties",
                _members(rng, [("height", _number(rng)), ("width", _number(rng))]),
            )
        )
    element = ('"boundingBox"', '"a:b"', '""', '"猫"', '"x\\"y"', '"boundingBoxes"')[
        int(rng.integers(6))
    ]
    text = "{" + element + ":" + _members(rng, inner) + "}"
    style = rng.random()
    if style < 0.05:
        text = '{"first":{"label":"cat"},' + text[1:]
    elif style < 0.1:
        text = text[:-1] + ',"z":{"label":"cat"}}'
    elif style < 0.13:
        text = f"[{text}]"
    return _mangle(rng, text)


def random_label(rng: np.random.Generator) -> tuple[str, str]:
    annotations = ",".join(
        _box(
            rng,
            "class_id",
            ("0", "1", "2", "7", '"1"', "-1", "1.0", "true", "01", "99999999999")[
                int(rng.integers(10)) if rng.random() < 0.3 else int(rng.integers(3))
            ],
        )
        for _ in range(int(rng.integers(0, 4)))
    )
    members = [("annotations", f"[{annotations}]")]
    if rng.random() < 0.7:
        members.append(
            (
                "image_size",
                "["
                + _members(rng, [("depth", "3"), ("height", _number(rng)), ("width", _number(rng))])
                + "]",
            )
        )
    label = _mangle(rng, _members(rng, members))
    class_map = _members(rng, [("0", _label(rng)), ("1", '"bus"')])
    meta: list[tuple[str, str]] = [
        ("class-map", class_map),
        ("creation-date", '"2026-09-21T00:00:01.000000"'),
        ("human-annotated", '"yes"'),
        ("objects", "[" + _members(rng, [("confidence", _number(rng))]) + "]"),
        ("type", f'"{BOX_TYPE}"'),
    ]
    style = rng.random()
    if style < 0.05:
        meta.append(("class-map", '{"0":"other"}'))
    elif style < 0.1:
        meta.append(("deep", '{"class-map":{"0":"nested"}}'))
    elif style < 0.15:
        meta.append(("deeper", '[[[["x"]]]]'))
    elif style < 0.2:
        meta[0] = (
            "class-map",
            ('["car"]', "null", '{"0":7}', '{"0":"a","0":"b"}')[int(rng.integers(4))],
        )
    elif style < 0.25:
        meta.insert(0, ("adjustment-status", '"unadjusted"'))
    return label, _mangle(rng, _members(rng, meta))


def _exact(value: float) -> bytes:
    return struct.pack("<d", value)  # sign of zero and NaN payloads compared too


def boxes_of(flat: FlatBoxes, position: int) -> list[tuple[str, bytes, bytes, bytes, bytes]]:
    rows = range(int(flat.bounds[position]), int(flat.bounds[position + 1]))
    return [
        (
            flat.label[row],
            *(_exact(float(side[row])) for side in (flat.left, flat.top, flat.width, flat.height)),
        )
        for row in rows
    ]


def exact_boxes(boxes: tuple[Box, ...]) -> list[tuple[str, bytes, bytes, bytes, bytes]]:
    return [
        (box.label, _exact(box.left), _exact(box.top), _exact(box.width), _exact(box.height))
        for box in boxes
    ]


@pytest.mark.parametrize("seed", [pytest.param(seed, id=f"seed-{seed}") for seed in range(4)])
def test_box_answers_read_at_once_as_one_by_one(seed: int) -> None:
    rng = np.random.default_rng(seed)
    texts = [random_answer(rng) for _ in range(1500)]
    fast, flat = read_box_answers(np.array(texts, dtype=object))
    assert len(fast) == len(texts)
    assert len(flat.bounds) == int(fast.sum()) + 1
    for position, text in enumerate(np.array(texts, dtype=object)[fast].tolist()):
        read = read_answer(text)
        assert read.kind == "boxes", text
        assert boxes_of(flat, position) == exact_boxes(read.boxes), text
    # Enough texts of every kind taken here for the comparison to mean something.
    assert 0.1 < fast.mean() < 0.9


@pytest.mark.parametrize("seed", [pytest.param(seed, id=f"seed-{seed}") for seed in range(4)])
def test_box_labels_read_at_once_as_one_by_one(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    pairs = [random_label(rng) for _ in range(1500)]
    labels, metadata = [label for label, _ in pairs], [meta for _, meta in pairs]
    fast, flat = read_box_labels(labels, metadata)
    assert len(fast) == len(pairs)
    taken = np.flatnonzero(fast).tolist()
    for position, row in enumerate(taken):
        read = read_consolidated(BOX_TYPE, labels[row], metadata[row])
        assert read.kind == "boxes", (labels[row], metadata[row], read.note)
        assert boxes_of(flat, position) == exact_boxes(read.boxes), (labels[row], metadata[row])
    assert 0.1 < fast.mean() < 0.9


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            '{"a":{"boundingBoxes":[{"height":1,"label":"x","left":-0,"top":0,"width":1}]}}',
            id="integer-minus-zero",
        ),
        pytest.param(
            '{"a":{"boundingBoxes":[{"height":1,"label":"x","left":1e400,"top":0,"width":1}]}}',
            id="overflow",
        ),
        pytest.param(
            '{"a":{"boundingBoxes":[{"height":1,"label":"x","left":NaN,"top":0,"width":1}]}}',
            id="nan",
        ),
        pytest.param(
            '{"a":{"boundingBoxes":[{"height":1,"label":"\\ud800","left":1,"top":0,"width":1}]}}',
            id="lone-surrogate-escape",
        ),
        pytest.param(
            '{"a":{"boundingBoxes":[{"height":1,"label":"x","left":"1","top":0,"width":1}]}}',
            id="string-for-number",
        ),
        pytest.param(
            '{"a":{"boundingBoxes":[{"height":1,"label":"x","left":1,"top":0}]}}', id="missing-key"
        ),
        pytest.param(
            '{"a":{"boundingBoxes":[{"height":1,"label":"x","left":1,"left":2,"top":0,"width":1}]}}',
            id="duplicate-key",
        ),
        pytest.param(
            '{"a":{"boundingBoxes":[{"height":1,"label":"x","left":12345678901234567890,"top":0,"width":1}]}}',
            id="huge-integer",
        ),
        pytest.param('{"a":{"boundingBoxes":[]},"b":{"boundingBoxes":[]}}', id="two-elements"),
        pytest.param('{"a": {"boundingBoxes":[]}}', id="white-space"),
        pytest.param(
            '{"a":{"boundingBoxes":[{"height":1,"label":"x\ud800","left":1,"top":0,"width":1}]}}',
            id="lone-surrogate-character",
        ),
    ],
)
def test_box_answers_of_doubtful_shape_are_left_to_the_definition(text: str) -> None:
    fast, _ = read_box_answers([text, canonical_json({"a": {"boundingBoxes": []}})])
    assert not fast[0]


def test_canonical_box_answers_are_taken() -> None:
    """What the ingest writes is read here (else the comparisons above compare little)."""
    rng = np.random.default_rng(7)
    texts = [
        canonical_json(
            {
                "boundingBox": {
                    "boundingBoxes": [
                        {"height": 20, "label": label, "left": float(x), "top": 1.5, "width": 3}
                        for x in rng.normal(0, 1e3, int(rng.integers(0, 4)))
                    ],
                    "inputImageProperties": {"height": 100, "width": 100},
                }
            }
        )
        for label in ["car", "a,b", "猫", "x:{y}]", ""] * 40
    ]
    fast, flat = read_box_answers(texts)
    assert fast.all()
    for position, text in enumerate(texts):
        assert boxes_of(flat, position) == exact_boxes(read_answer(text).boxes)
    assert not any(math.isnan(x) for x in flat.left)


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(5, id="a-number"),
        pytest.param(b"{}", id="bytes"),
        pytest.param("x\ud800", id="a-lone-surrogate"),
    ],
)
def test_values_that_are_not_text_are_left_to_the_definition(other: object) -> None:
    """No error, and the value is not read here (a column read from Parquet never holds such
    values; a frame built in memory might): where Arrow cannot hold the batch, all of it goes to
    the definition."""
    text = canonical_json({"a": {"boundingBoxes": []}})
    fast, flat = read_box_answers(np.array([text, other], dtype=object))
    assert not fast[1]
    assert len(flat.bounds) == int(fast.sum()) + 1
    assert flat.bounds[-1] == 0
