"""How stored rows are keyed: an event by a hash of its message text, a rejected line by a hash
of its source, place and text. A key already stored is never written again, so a rerun of an
ingest or sync adds exactly what is missing.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
from xxhash import xxh3_128_digest

#: How ``event_key`` is computed: XXH3-128 (seed 0) of the worker-activity message text (UTF-8), as
#: its 16-byte big-endian canonical digest (``xxhash.xxh3_128_digest``). Kept in the store's
#: metadata; ``raw_message`` is stored so that a change of algorithm can re-key.
EVENT_KEY_ALGORITHM = "xxh3_128(message-text)"
#: The algorithm of version-1 stores.
EVENT_KEY_ALGORITHM_V1 = "md5(message-text)"


def event_keys(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The ``event_key`` of each message text (``EVENT_KEY_ALGORITHM``), as ``binary(16)``.

    XXH3-128 is a non-cryptographic hash: 128 bits make an accidental collision between distinct
    messages practically impossible, which is all a duplicate check needs. ``xxhash`` hashes each
    text where it lies in the Arrow data buffer (no copy): about 0.4 s of CPU per million
    messages of 640 bytes, where MD5 took 0.8 s (``docs/performance.md``).

    Raises
    ------
    ValueError
        A text is null: a null has no message text to key.
    """
    digests: list[bytes] = []
    chunks = texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]
    for chunk in chunks:
        if chunk.null_count:
            raise ValueError(f"{chunk.null_count} message texts are null: a null has no key")
        large = pa.types.is_large_string(chunk.type)
        if not (large or pa.types.is_string(chunk.type)):
            chunk = chunk.cast(pa.string())  # views, dictionaries
        offset_type = np.int64 if large else np.int32
        _, offsets_buffer, data = chunk.buffers()
        ends = np.frombuffer(
            offsets_buffer,
            offset_type,
            len(chunk) + 1,
            chunk.offset * np.dtype(offset_type).itemsize,
        ).tolist()
        view = memoryview(data if data is not None else b"")
        digests.extend(map(xxh3_128_digest, map(view.__getitem__, map(slice, ends[:-1], ends[1:]))))
    # ``xxh3_128_digest`` is the canonical digest: the 128-bit value big-endian.
    keys = pa.py_buffer(b"".join(digests))
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), len(digests), [None, keys])


def md5_keys(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """MD5 of each UTF-8 text as 16 bytes: the keys of rejected records, and the event keys of
    version-1 stores (``EVENT_KEY_ALGORITHM_V1``). Rejected lines are rare, so a loop over
    ``hashlib`` is enough."""
    digests = b"".join(
        hashlib.md5(text.encode(), usedforsecurity=False).digest() for text in texts.to_pylist()
    )
    return pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), len(texts), [None, pa.py_buffer(digests)]
    )


def keys_as_numpy(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """16-byte keys as a NumPy ``S16`` array: a view of one Arrow buffer (chunks combined)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(array) == 0:
        return np.empty(0, dtype="S16")
    array = array.cast(pa.binary(16))
    data = array.buffers()[1]
    start = array.offset * 16
    return np.frombuffer(data, dtype="S16", count=len(array), offset=start)


def first_occurrences(keys: np.ndarray) -> np.ndarray | None:
    """Positions of the first occurrence of each distinct key in order, or None when every key
    is distinct (the common case, checked on the keys' first 8 bytes: one sort of integers)."""
    if len(keys) < 2:
        return None
    heads = np.sort(np.frombuffer(keys.tobytes(), dtype=np.uint64)[::2])
    if not (heads[1:] == heads[:-1]).any():
        return None
    _, first_index = np.unique(keys, return_index=True)
    first_index.sort()
    return first_index if len(first_index) < len(keys) else None
