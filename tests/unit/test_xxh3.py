"""The compiled XXH3-128 (``analytics.store.xxh3``) gives ``xxhash.xxh3_128_digest``'s bytes for
every text, and the event keys the compiled scanner computes are those ``keys.event_keys`` gives.

``xxhash`` is the reference: it keys every event the scanner does not read (small inputs, refused
lines, Numba unavailable), so the two must agree to the bit or one message would get two keys.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import xxhash

from analytics.ingest import fast_scan, parse
from analytics.ingest.parse import line_scanner_limit, parse_chunk
from analytics.ingest.run import ingest_paths
from analytics.store import xxh3
from analytics.store.keys import event_keys
from analytics.store.store import Store
from tests.conftest import make_message
from tests.support.ingest import WriteFile

#: Each of XXH3's paths (0, 1-3, 4-8, 9-16, 17-128, 129-240, longer) has its own code; 2,100
#: bytes take the long path through two 1,024-byte blocks and a partial one.
LONGEST = 2100


def compiled_digest(data: bytes, at: int = 0) -> bytes:
    """``xxh3_128_at`` of ``data`` placed ``at`` bytes into a larger buffer, read back."""
    buffer = np.frombuffer(b"\xaa" * at + data + b"\xbb" * 7, dtype=np.uint8)
    buffer.flags.writeable = False
    out = np.zeros(40, dtype=np.uint8)
    xxh3.xxh3_128_at(buffer, at, len(data), out, 12)
    # Exactly the 16 bytes at the given place are written.
    assert not out[:12].any()
    assert not out[28:].any()
    return out[12:28].tobytes()


@pytest.mark.parametrize("at", [0, 3], ids=["aligned", "unaligned"])
def test_every_length_to_2100_bytes_hashes_as_xxhash(at: int) -> None:
    rng = random.Random(f"xxh3-{at}")
    wrong = []
    for length in range(LONGEST + 1):
        data = rng.randbytes(length)
        if compiled_digest(data, at) != xxhash.xxh3_128_digest(data):
            wrong.append(length)
    assert wrong == []


def _utf8(length: int) -> bytes:
    return ("é ü 🙂 " * length).encode()[:length]


CONTENT_CASES = [
    pytest.param(lambda n: b"\x00" * n, id="nul"),
    pytest.param(lambda n: b"\xff" * n, id="all-ones"),
    pytest.param(lambda n: b"\x80" * n, id="high-bit"),
    pytest.param(_utf8, id="non-ascii"),
    pytest.param(lambda n: (b'{"worker_id":"a","event_type":"b"}' * n)[:n], id="json"),
    pytest.param(lambda n: bytes(range(256)) * (n // 256) + bytes(range(n % 256)), id="ramp"),
]
#: The edges of each path, of a stripe, of a block, and of a stripe after a block.
BOUNDARIES = [0, 1, 2, 3, 4, 5, 8, 9, 15, 16, 17, 32, 33, 64, 65, 96, 97, 127, 128, 129, 159, 160,
              161, 191, 192, 239, 240, 241, 255, 256, 257, 1023, 1024, 1025, 1087, 1088, 1089,
              2047, 2048, 2049, 3072, 3073, 100_000]  # fmt: skip


@pytest.mark.parametrize("content", CONTENT_CASES)
def test_texts_of_any_bytes_at_every_path_edge_hash_as_xxhash(
    content: Callable[[int], bytes],
) -> None:
    for length in BOUNDARIES:
        data = content(length)
        assert len(data) == length
        assert compiled_digest(data) == xxhash.xxh3_128_digest(data), length


def _message_line(pad: int, i: int) -> str:
    """A message the scanner accepts, whose text is longer by ``pad`` bytes per unit of ``pad``."""
    return json.dumps(make_message(worker_id=f"w{i}", job_reference_code="r" * pad))


#: Lines whose message texts run from the shortest message the scanner accepts to beyond 2,100
#: bytes, as plain lines, S3 export lines and lines with spaces around the object.
SHAPES = [
    pytest.param(lambda text: text, id="plain"),
    pytest.param(lambda text: f"2019-08-14T16:00:59.123Z {text}", id="export-line"),
    pytest.param(lambda text: f" \t{text} \r", id="spaces"),
]


def _texts_of_every_length() -> list[str]:
    shortest = '{"worker_id":"w","event_type":"a"}'
    longer = [shortest[:-1] + f',"x":"{"y" * n}"}}' for n in range(LONGEST)]
    return [shortest, *longer, *(_message_line(pad, pad) for pad in range(0, LONGEST, 7))]


@pytest.mark.parametrize("shape", SHAPES)
def test_the_scanner_keys_every_text_it_accepts_as_event_keys_does(
    shape: Callable[[str], str],
) -> None:
    texts = _texts_of_every_length()
    scanned = fast_scan.scan_lines("\n".join(shape(t) for t in texts).encode())
    assert (scanned.status == fast_scan.ACCEPTED).all()
    assert scanned.texts.to_pylist() == texts
    assert scanned.keys.type == pa.binary(16)
    assert scanned.keys.to_pylist() == [xxhash.xxh3_128_digest(t.encode()) for t in texts]


@pytest.mark.parametrize("parts", [1, 3], ids=["one-part", "three-parts"])
def test_a_chunk_gives_the_same_event_keys_scanned_or_read_the_exact_way(parts: int) -> None:
    assert line_scanner_limit() > 0  # else both ways would be the exact way
    texts = _texts_of_every_length()
    # Lines the scanner refuses are keyed by xxhash among those it keys: an escape, non-ASCII.
    lines = [*texts[:500], _message_line(3, -1).replace("r", "\\u0072"), *texts[500:]]
    lines.insert(40, json.dumps(make_message(worker_id="é"), ensure_ascii=False))
    data = ("\n".join(lines) + "\n").encode()
    scanned = fast_scan.scan_lines(data, parts=parts)
    assert (scanned.status == fast_scan.REFUSED).sum() == 2
    fast, _ = parse_chunk(data, "f.jsonl", fast=True)
    exact, _ = parse_chunk(data, "f.jsonl", fast=False)
    assert fast.events.num_rows == len(lines)
    assert fast.events.column("event_key").equals(exact.events.column("event_key"))
    assert fast.events.column("event_key").to_pylist() == (
        event_keys(exact.events.column("raw_message")).to_pylist()
    )


def test_whole_ingests_store_the_same_event_keys_either_way(
    tmp_path: Path, write_file: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = write_file("lengths.jsonl", "\n".join(_texts_of_every_length()) + "\n")
    keys = {}
    for name, minimum in [("scanned", 0), ("exact", 1 << 40)]:
        monkeypatch.setattr(parse, "FAST_PATH_MIN_BYTES", minimum)
        store = Store(tmp_path / name)
        ingest_paths(store, [log], chunk_bytes=1 << 20)
        table = store.load_events(columns=["event_key", "raw_message"]).sort_by("raw_message")
        keys[name] = table.column("event_key").combine_chunks()
    assert len(keys["scanned"]) == len(_texts_of_every_length())
    assert keys["scanned"].equals(keys["exact"])
