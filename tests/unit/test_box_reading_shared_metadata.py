"""A job's consolidated labels share a few metadata texts, and ``read_box_labels`` (box labels)
and ``quality._class_names`` (single labels) read each distinct one once: every label still gets
its own metadata's class names, whatever the order the texts come in and whichever of them are
left to the definition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.metrics.box_reading import read_box_labels
from analytics.metrics.quality import _class_names, read_consolidated

BOX_TYPE = "groundtruth/object-detection"
SINGLE_TYPE = "groundtruth/image-classification"

#: Metadata texts shared by many labels: class-maps naming the ids differently, one naming only
#: id 0, and texts left to the definition (a second class-map, no class-map, not JSON, missing).
SHARED_METADATA = (
    '{"class-map":{"0":"car","1":"bus"},"type":"groundtruth/object-detection"}',
    '{"class-map":{"0":"bus","1":"car"},"type":"groundtruth/object-detection"}',
    '{"class-map":{"0":"cat","1":"dog"},"objects":[{"confidence":0.5}]}',
    '{"class-map":{"0":"only"}}',
    '{"class-map":{"0":"car"},"deep":{"class-map":{"0":"nested"}}}',
    '{"type":"groundtruth/object-detection"}',
    "not json",
    None,
)


def _label(rng: np.random.Generator) -> str:
    boxes = ",".join(
        f'{{"class_id":{int(rng.integers(2))},"height":{int(rng.integers(1, 50))},'
        f'"left":{rng.random() * 100!r},"top":{int(rng.integers(100))},"width":7}}'
        for _ in range(int(rng.integers(0, 4)))
    )
    return f'{{"annotations":[{boxes}],"image_size":[{{"depth":3,"height":100,"width":100}}]}}'


@pytest.mark.parametrize("seed", [pytest.param(seed, id=f"seed-{seed}") for seed in range(3)])
def test_labels_sharing_metadata_each_get_their_own_class_names(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = [_label(rng) for _ in range(600)]
    metadata = [SHARED_METADATA[int(rng.integers(len(SHARED_METADATA)))] for _ in labels]
    fast, flat = read_box_labels(labels, metadata)
    taken = np.flatnonzero(fast).tolist()
    for position, row in enumerate(taken):
        read = read_consolidated(BOX_TYPE, labels[row], metadata[row])
        assert read.kind == "boxes", (labels[row], metadata[row])
        start, stop = int(flat.bounds[position]), int(flat.bounds[position + 1])
        assert flat.label[start:stop].tolist() == [box.label for box in read.boxes]
        assert flat.left[start:stop].tolist() == [box.left for box in read.boxes]
    # The first four texts are read here (whenever every id is named), the others never.
    assert {metadata[row] for row in taken} == set(SHARED_METADATA[:4])


#: Single-label metadata shared by many objects; the last ones make Arrow's reader give up.
CLASS_NAME_METADATA = (
    '{"class-name":"cat","confidence":0.9}',
    '{"class-name":"dog","job-name":"labeling-job/pets"}',
    '{"confidence":0.5}',
    '{"class-name":"Cat"}',
)
MIXED_METADATA = ('{"class-name":7}', "not json", "[1]")


@pytest.mark.parametrize(
    "texts",
    [
        pytest.param(CLASS_NAME_METADATA, id="read-by-arrow"),
        *(
            pytest.param((*CLASS_NAME_METADATA, bad), id=f"one-by-one-{number}")
            for number, bad in enumerate(MIXED_METADATA)
        ),
    ],
)
def test_objects_sharing_metadata_each_get_their_own_class_name(texts: tuple[str, ...]) -> None:
    rng = np.random.default_rng(7)
    metadata = pd.Series([texts[int(rng.integers(len(texts)))] for _ in range(500)], dtype="str")
    names = _class_names(metadata)
    expected = [read_consolidated(SINGLE_TYPE, "0", text).label for text in metadata.tolist()]
    assert names.tolist() == [name if isinstance(name, str) else None for name in expected]
