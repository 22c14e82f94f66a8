"""A compiled single-pass scanner for the common input: plain JSON lines of worker messages.

``scan_lines`` walks a chunk of bytes once (compiled by Numba) and, for every line,
either **accepts** it, **skips** it as blank, or **refuses** it. A line is accepted only when
``parsing``'s exact path would certainly make it an event with exactly the values read here:

* the line is ASCII, with no control character (a final carriage return and spaces, tabs or
  carriage returns between tokens aside) and no backslash, so no JSON escape can change a value;
* it is one flat JSON object (optionally after an S3 export prefix ``<ISO timestamp> ``) whose
  members all have string values, and nothing but JSON whitespace follows it;
* no message field appears twice (JSON readers disagree on which copy wins), and no key of a
  CloudWatch envelope (``message``, ``eventId``, ...) appears (the exact path reads those as
  envelopes);
* it has a non-empty ``cognito_sub_id`` or ``worker_id`` and a non-empty ``event_type``.

While an accepted line is in cache, its message text is also hashed into its event key
(``analytics.store.xxh3``, the bytes ``keys.event_keys`` gives): one compiled pass instead of a
Python call per message on the ingest's main thread (0.5 s per million messages).

Everything else (envelopes, escapes, non-ASCII text, numbers where strings are expected, broken
JSON, messages that will be rejected) is refused and goes through the exact path, which also
gives rejects their reasons. Values of accepted lines are byte ranges of the input: with no
escapes, the bytes are the decoded text.

The documented time form (``Wed Aug 14 16:00:59 UTC 2019``) and integral epoch seconds are decoded
here too, with ``times``'s definitions: the form's byte tables (``times.JAVA_TIME_FORM``),
its date arithmetic (``civil_is_valid`` and ``civil_epoch_ms``, compiled here from the very same
functions) and the plausible range; any other present time text is left to ``times`` itself.
Which fields a message has, which keys make an envelope and what makes a message an event come
from ``parsing`` (``MESSAGE_FIELDS``, ``ENVELOPE_KEYS``, ``IDENTITY_FIELDS``, ``EVENT_TYPE_FIELD``).

The rules' tables and constants are globals here, which Numba freezes into the compiled code (as
fast as literals: passing them as arguments cost 15-20% of the scan). Numba reuses its cached code
while this file is unchanged, even when a module it took a constant or a function from changed:
``numba_options.forget_stale_compiled_code`` makes it compile afresh when one of those modules
(``_RULE_MODULES``) changes. Compile options: ``numba_options.NJIT_OPTIONS``, whose ``cache``
makes this module fail at import where Numba finds no folder to cache in (ingest then reads
every line the exact way, ``parse._line_scanner``).
"""

from __future__ import annotations

import itertools
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np
import pyarrow as pa

from analytics import numba_options
from analytics.ingest import rules, times
from analytics.store import schema, xxh3

#: The message fields, in the order of the scanner's field index: the string fields first, then
#: the time fields (``event_timestamp`` last).
FIELDS = rules.MESSAGE_FIELDS
TIME_FIELDS = rules.TIME_FIELDS
#: Keys that make the exact path read an object as a CloudWatch envelope: refused.
_KEYS = FIELDS + rules.ENVELOPE_KEYS
_KEY_BYTES = np.frombuffer("".join(_KEYS).encode("ascii"), dtype=np.uint8).copy()
_KEY_OFFSETS = np.cumsum([0] + [len(k) for k in _KEYS]).astype(np.int64)
_FIELD_COUNT = len(FIELDS)
#: A line is an event when one of these fields and this one are non-empty (``parsing``'s rule).
_IDENTITY = tuple(FIELDS.index(name) for name in rules.IDENTITY_FIELDS)
_EVENT_TYPE = FIELDS.index(rules.EVENT_TYPE_FIELD)
_STRING_COUNT = len(schema.MESSAGE_STRING_FIELDS)
_TIME_COUNT = _FIELD_COUNT - _STRING_COUNT
assert FIELDS[_STRING_COUNT:] == TIME_FIELDS
#: The documented time form's tables (``times.JAVA_TIME_FORM``) as constants of the compiled
#: code: (offset, byte) of each literal, (offset, width) of each field, the month names' bytes.
_FORM = times.JAVA_TIME_FORM
_JAVA_LENGTH = _FORM.length
_JAVA_LITERALS = tuple(
    zip(_FORM.literal_positions.tolist(), _FORM.literal_bytes.tolist(), strict=True)
)
_JAVA_FIELDS = dict(
    zip(
        times.JAVA_TIME_FIELDS,
        zip(_FORM.field_starts.tolist(), _FORM.field_widths.tolist(), strict=True),
        strict=True,
    )
)
_JAVA_MONTH, _JAVA_DAY, _JAVA_HOUR = _JAVA_FIELDS["%b"], _JAVA_FIELDS["%d"], _JAVA_FIELDS["%H"]
_JAVA_MINUTE, _JAVA_SECOND, _JAVA_YEAR = _JAVA_FIELDS["%M"], _JAVA_FIELDS["%S"], _JAVA_FIELDS["%Y"]
_JAVA_MONTH_NAMES = _FORM.month_names

#: Line states in ``ScannedLines.status``.
BLANK, ACCEPTED, REFUSED = 0, 1, 2
#: Time states from ``decode_times``: no time (absent or ""), decoded, present but not a time
#: (a time issue), or left to ``times`` (another form).
NO_TIME, DECODED, TIME_ISSUE, UNDECIDED = 0, 1, 2, 3

#: Inputs the scanner takes: positions are 32-bit.
MAX_SCAN_BYTES = (1 << 31) - 1

_jit = numba.njit(**numba_options.NJIT_OPTIONS)
_civil_is_valid = _jit(times.civil_is_valid)
_civil_epoch_ms = _jit(times.civil_epoch_ms)


@numba.njit(inline="always", **numba_options.NJIT_OPTIONS)
def _at(buf, i):  # type: ignore[no-untyped-def]
    # An unsigned index: Numba then skips its negative-index wraparound, which otherwise keeps
    # LLVM from optimising every byte loop (4-10x slower here).
    return buf[np.uint64(i)]


#: Helper threads for the compiled passes (they release the GIL).
_HELPERS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gt-scan")


@_jit
def _is_space(byte: int) -> bool:
    # JSON whitespace inside a line: space, tab, carriage return (a newline ends the line).
    return byte == 32 or byte == 9 or byte == 13


@_jit
def _key_index(buf, start, length, key_bytes, key_offsets):  # type: ignore[no-untyped-def]
    for k in range(len(key_offsets) - 1):
        offset = key_offsets[k]
        if key_offsets[k + 1] - offset != length:
            continue
        j = 0
        while j < length and _at(buf, start + j) == key_bytes[offset + j]:
            j += 1
        if j == length:
            return k
    return -1


_LOW = np.uint64(0x0101010101010101)
_HIGH = np.uint64(0x8080808080808080)
_QUOTES = np.uint64(0x2222222222222222)
_BACKSLASHES = np.uint64(0x5C5C5C5C5C5C5C5C)
_SPACES = np.uint64(0x2020202020202020)
_SHIFTS = np.arange(0, 64, 8).astype(np.uint64)


@_jit
def _load8(buf, i):  # type: ignore[no-untyped-def]
    p = np.uint64(i)
    word = np.uint64(0)
    for k in range(8):
        word |= np.uint64(buf[p + np.uint64(k)]) << _SHIFTS[k]
    return word


@_jit
def _string_end(buf, i, end):  # type: ignore[no-untyped-def]
    """Index of the closing quote of a string whose text starts at ``i``; -1 if the string holds a
    byte the fast path does not take (control, backslash, non-ASCII) or the line ends first."""
    while i + 8 <= end:
        word = _load8(buf, i)
        quote = word ^ _QUOTES
        backslash = word ^ _BACKSLASHES
        stop = ((quote - _LOW) & ~quote) | ((backslash - _LOW) & ~backslash)
        stop |= (word - _SPACES) & ~word
        stop |= word
        if stop & _HIGH:
            break
        i += 8
    while i < end:
        byte = _at(buf, i)
        if byte == 34:
            return i
        if byte < 32 or byte > 127 or byte == 92:
            return -1
        i += 1
    return -1


_MAX_PREDICTED = 64


@_jit
def _same_bytes(buf, start, other, other_start, length):  # type: ignore[no-untyped-def]
    j = 0
    while j + 8 <= length:
        if _load8(buf, start + j) != _load8(other, other_start + j):
            return False
        j += 8
    while j < length:
        if _at(buf, start + j) != _at(other, other_start + j):
            return False
        j += 1
    return True


@_jit
def _next_newline(buf, position):  # type: ignore[no-untyped-def]
    for i in range(position, len(buf)):
        if _at(buf, i) == 10:
            return i
    return -1


@_jit
def _digit(byte):  # type: ignore[no-untyped-def]
    return byte - 48 if 48 <= byte <= 57 else -1


@_jit
def _number(buf, s, width):  # type: ignore[no-untyped-def]
    """The decimal number of the ``width`` digits at ``buf[s:]``; -1 if one is not a digit."""
    value = 0
    for q in range(width):
        d = _digit(_at(buf, s + q))
        if d < 0:
            return -1
        value = value * 10 + d
    return value


@_jit
def _java_time_ms(buf, s):  # type: ignore[no-untyped-def]
    """Epoch ms of ``Wed Aug 14 16:00:59 UTC 2019`` at ``buf[s:]``; -1 if not that form.

    As ``times._parse_java_form``, from ``times.JAVA_TIME_FORM``: its literals, an English
    month abbreviation, digits in every number field, and ``civil_is_valid``.
    """
    for position, byte in _JAVA_LITERALS:
        if _at(buf, s + position) != byte:
            return -1
    at = s + _JAVA_MONTH[0]
    month = 0
    for m in range(12):
        if (
            _at(buf, at) == _JAVA_MONTH_NAMES[3 * m]
            and _at(buf, at + 1) == _JAVA_MONTH_NAMES[3 * m + 1]
            and _at(buf, at + 2) == _JAVA_MONTH_NAMES[3 * m + 2]
        ):
            month = m + 1
            break
    if month == 0:
        return -1
    day = _number(buf, s + _JAVA_DAY[0], _JAVA_DAY[1])
    hour = _number(buf, s + _JAVA_HOUR[0], _JAVA_HOUR[1])
    minute = _number(buf, s + _JAVA_MINUTE[0], _JAVA_MINUTE[1])
    second = _number(buf, s + _JAVA_SECOND[0], _JAVA_SECOND[1])
    year = _number(buf, s + _JAVA_YEAR[0], _JAVA_YEAR[1])
    if day < 0 or hour < 0 or minute < 0 or second < 0 or year < 0:
        return -1
    if not _civil_is_valid(year, month, day, hour, minute, second):
        return -1
    return _civil_epoch_ms(year, month, day, hour, minute, second)


@_jit
def _time_value(buf, s, length, epoch_seconds):  # type: ignore[no-untyped-def]
    """Epoch ms of the time text ``buf[s:s+length]``, or -1 when it is not a form decoded here.

    ``epoch_seconds``: an ``event_timestamp`` (1 to 11 digits of whole seconds, as
    ``times.parse_epoch_seconds`` reads them); otherwise a time text in the documented form.
    """
    if epoch_seconds:
        if length > 11:
            return -1
        value = _number(buf, s, length)
        return -1 if value < 0 else value * 1000
    if length != _JAVA_LENGTH:
        return -1
    return _java_time_ms(buf, s)


@_jit
def _copy_bytes(buf, source, length, out, target):  # type: ignore[no-untyped-def]
    source = np.uint64(source)
    target = np.uint64(target)
    for q in range(np.uint64(length)):
        out[target + q] = buf[source + q]


@_jit
def _scan(  # type: ignore[no-untyped-def]
    buf,
    start,
    end,
    text_data,
    string_data,
    key_bytes,
    key_offsets,
    plausible_from,
    plausible_until,
):
    """Scan the lines of ``buf[start:end]`` (``start`` at a line start); see ``scan_lines``.

    ``text_data`` (``end - start`` bytes) and ``string_data`` (``_STRING_COUNT`` rows of as many)
    receive the accepted messages and their string fields; the returned ``keys`` hold 16 bytes per
    accepted message, its event key.
    """
    count = 0
    for i in range(start, end):
        if _at(buf, i) == 10:
            count += 1
    if end > start and _at(buf, end - 1) != 10:
        count += 1
    status = np.zeros(count, np.uint8)
    line_start = np.empty(count, np.int32)
    text_offsets = np.zeros(count + 1, np.int32)
    prefix = np.empty((count, 2), np.int32)
    string_offsets = np.zeros((_STRING_COUNT, count + 1), np.int32)
    string_valid = np.empty((_STRING_COUNT, count), np.uint8)
    string_total = np.zeros(_STRING_COUNT, np.int64)
    time_ms = np.empty((_TIME_COUNT, count), np.int64)
    time_state = np.empty((_TIME_COUNT, count), np.uint8)
    time_spans = np.empty((_TIME_COUNT, count, 2), np.int32)
    keys = np.empty(16 * count, np.uint8)
    spans = np.empty((_FIELD_COUNT, 2), np.int64)
    predicted = np.full(_MAX_PREDICTED, -1, np.int64)
    accepted = 0
    text_total = 0
    position = start
    for row in range(count):
        line_start[row] = position
        spans[:] = -1
        prefix_start = -1
        prefix_end = -1
        i = position
        while i < end and _is_space(_at(buf, i)):
            i += 1
        if i >= end or _at(buf, i) == 10:
            status[row] = BLANK
            position = i + 1
            continue
        ok = True
        byte = _at(buf, i)
        if 48 <= byte <= 57:
            # An S3 export line: "<timestamp> <message>"; the timestamp ends at the first space.
            prefix_start = i
            while i < end and _at(buf, i) != 32 and _at(buf, i) != 10 and _at(buf, i) < 128:
                i += 1
            if i >= end or _at(buf, i) != 32:
                ok = False
            else:
                prefix_end = i
                while i < end and _is_space(_at(buf, i)):
                    i += 1
                ok = i < end and _at(buf, i) == 123
        elif byte != 123:
            ok = False
        text_start = i
        if ok:
            i += 1
            while i < end and _is_space(_at(buf, i)):
                i += 1
            member = 0
            while True:
                if i >= end or _at(buf, i) != 34:
                    ok = False
                    break
                key_start = i + 1
                # Lines of one file have their keys in one order: try the previous line's key at
                # this place first (a comparison instead of a scan and a search).
                k = -1
                guess = predicted[member] if member < _MAX_PREDICTED else -1
                if guess >= 0:
                    length = key_offsets[guess + 1] - key_offsets[guess]
                    if (
                        key_start + length < end
                        and _at(buf, key_start + length) == 34
                        and _same_bytes(buf, key_start, key_bytes, key_offsets[guess], length)
                    ):
                        k = guess
                        key_end = key_start + length
                if k < 0:
                    key_end = _string_end(buf, key_start, end)
                    if key_end < 0:
                        ok = False
                        break
                    k = _key_index(buf, key_start, key_end - key_start, key_bytes, key_offsets)
                    if member < _MAX_PREDICTED:
                        predicted[member] = k
                member += 1
                i = key_end + 1
                while i < end and _is_space(_at(buf, i)):
                    i += 1
                if i >= end or _at(buf, i) != 58:
                    ok = False
                    break
                i += 1
                while i < end and _is_space(_at(buf, i)):
                    i += 1
                if i >= end or _at(buf, i) != 34:
                    ok = False
                    break
                value_start = i + 1
                value_end = _string_end(buf, value_start, end)
                if value_end < 0:
                    ok = False
                    break
                i = value_end + 1
                if k >= _FIELD_COUNT or (k >= 0 and spans[k, 0] >= 0):
                    ok = False  # an envelope key, or a field seen twice
                    break
                if k >= 0:
                    spans[k, 0] = value_start
                    spans[k, 1] = value_end
                while i < end and _is_space(_at(buf, i)):
                    i += 1
                if i < end and _at(buf, i) == 44:
                    i += 1
                    while i < end and _is_space(_at(buf, i)):
                        i += 1
                    continue
                if i < end and _at(buf, i) == 125:
                    i += 1
                    break
                ok = False
                break
        text_end = i
        if ok:
            while i < end and _is_space(_at(buf, i)):
                i += 1
            ok = i >= end or _at(buf, i) == 10
        if ok:
            # parsing's rule: a non-empty identity field and a non-empty event type.
            has_identity = False
            for f in _IDENTITY:
                has_identity = has_identity or spans[f, 1] > spans[f, 0]
            ok = has_identity and spans[_EVENT_TYPE, 1] > spans[_EVENT_TYPE, 0]
        if ok:
            # Copy the message and its fields while they are in the cache.
            status[row] = ACCEPTED
            j = accepted
            accepted += 1
            _copy_bytes(buf, text_start, text_end - text_start, text_data, text_total)
            xxh3.xxh3_128_at(buf, text_start, text_end - text_start, keys, 16 * j)
            text_total += text_end - text_start
            text_offsets[j + 1] = text_total
            prefix[j, 0] = prefix_start
            prefix[j, 1] = prefix_end
            for k in range(_STRING_COUNT):
                value_start = spans[k, 0]
                if value_start < 0:
                    string_valid[k, j] = 0
                else:
                    length = spans[k, 1] - value_start
                    _copy_bytes(buf, value_start, length, string_data[k], string_total[k])
                    string_total[k] += length
                    string_valid[k, j] = 1
                string_offsets[k, j + 1] = string_total[k]
            for t in range(_TIME_COUNT):
                value_start = spans[_STRING_COUNT + t, 0]
                length = spans[_STRING_COUNT + t, 1] - value_start
                time_spans[t, j, 0] = value_start
                time_spans[t, j, 1] = value_start + length
                time_ms[t, j] = 0
                if value_start < 0 or length == 0:
                    time_state[t, j] = NO_TIME
                    continue
                value = _time_value(buf, value_start, length, t == _TIME_COUNT - 1)
                if value < 0:
                    time_state[t, j] = UNDECIDED
                elif plausible_from <= value < plausible_until:
                    time_state[t, j] = DECODED
                    time_ms[t, j] = value
                else:
                    time_state[t, j] = TIME_ISSUE
        else:
            status[row] = REFUSED
        while i < end and _at(buf, i) != 10:
            i += 1
        position = i + 1
    return (
        status,
        line_start,
        accepted,
        text_offsets,
        prefix,
        string_offsets,
        string_valid,
        string_total,
        time_ms,
        time_state,
        time_spans,
        keys,
    )


def _string_array(offsets: np.ndarray, valid: np.ndarray | None, data: np.ndarray) -> pa.Array:
    """An Arrow string array over NumPy memory (no copy); ``valid`` None means no nulls."""
    count = len(offsets) - 1
    nulls = 0 if valid is None else count - int(np.count_nonzero(valid))
    validity = (
        pa.py_buffer(np.packbits(valid.view(bool), bitorder="little"))
        if valid is not None and nulls
        else None
    )
    return pa.Array.from_buffers(
        pa.string(),
        count,
        [validity, pa.py_buffer(offsets), pa.py_buffer(data)],
        null_count=nulls,
    )


@dataclass
class _Part:
    """The scan of one part of a chunk: its lines, and the accepted ones' columns."""

    status: np.ndarray
    line_start: np.ndarray
    texts: pa.Array
    prefix: np.ndarray
    strings: dict[str, pa.Array]
    time_ms: np.ndarray
    time_state: np.ndarray
    time_spans: np.ndarray
    keys: pa.Array


def _scan_part(buffer: np.ndarray, start: int, end: int) -> _Part:
    # Outputs come from Arrow's memory pool, which keeps freed memory for the next chunk: fresh
    # pages from the system cost a page fault each, slow with two threads (and in VMs).
    capacity = max(end - start, 1)
    text_data = np.frombuffer(pa.allocate_buffer(capacity), dtype=np.uint8)
    string_data = np.frombuffer(
        pa.allocate_buffer(_STRING_COUNT * capacity), dtype=np.uint8
    ).reshape(_STRING_COUNT, capacity)
    (
        status,
        line_start,
        accepted,
        text_offsets,
        prefix,
        string_offsets,
        string_valid,
        string_total,
        time_ms,
        time_state,
        time_spans,
        keys,
    ) = _scan(
        buffer,
        start,
        end,
        text_data,
        string_data,
        _KEY_BYTES,
        _KEY_OFFSETS,
        times.PLAUSIBLE_FROM_MS,
        times.PLAUSIBLE_UNTIL_MS,
    )
    m = int(accepted)
    strings = {
        name: _string_array(
            string_offsets[k, : m + 1],
            string_valid[k, :m],
            string_data[k, : int(string_total[k])],
        )
        for k, name in enumerate(FIELDS[:_STRING_COUNT])
    }
    return _Part(
        status=status,
        line_start=line_start,
        texts=_string_array(text_offsets[: m + 1], None, text_data[: int(text_offsets[m])]),
        prefix=prefix[:m],
        strings=strings,
        time_ms=time_ms[:, :m],
        time_state=time_state[:, :m],
        time_spans=time_spans[:, :m],
        keys=pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(16), m, [None, pa.py_buffer(keys[: 16 * m])]
        ),
    )


@dataclass
class ScannedLines:
    """What ``scan_lines`` found in a chunk.

    ``status`` has one entry per line (``BLANK``, ``ACCEPTED``, ``REFUSED``) and ``line_start``
    its first byte. The other members describe the accepted lines only, in line order:
    ``texts`` the message texts (export prefix and surrounding whitespace left out), ``strings``
    the string fields (null where absent), ``prefix`` the byte range of an export line's
    timestamp (-1 for none), and for each time field (``TIME_FIELDS``, in order) the epoch ms, the
    state (``NO_TIME``...) and the byte range of its text; ``keys`` the texts' event keys
    (``binary(16)``, as ``keys.event_keys``).
    """

    buffer: np.ndarray
    status: np.ndarray
    line_start: np.ndarray
    texts: pa.ChunkedArray
    strings: dict[str, pa.ChunkedArray]
    prefix: np.ndarray
    time_ms: np.ndarray
    time_state: np.ndarray
    time_spans: np.ndarray
    keys: pa.ChunkedArray

    def line(self, row: int) -> bytes:
        """The bytes of line ``row``, without its newline."""
        start = int(self.line_start[row])
        if row + 1 < len(self.status):
            end = int(self.line_start[row + 1]) - 1
        else:
            end = len(self.buffer)
            if end > start and self.buffer[end - 1] == 10:
                end -= 1
        return self.buffer[start:end].tobytes()

    def text_at(self, start: int, end: int) -> str:
        """``buffer[start:end]`` as text (ASCII: the scanner takes nothing else)."""
        return self.buffer[start:end].tobytes().decode("ascii")


def scan_lines(data: bytes | memoryview, parts: int = 1) -> ScannedLines:
    """Scan every line of ``data`` (at most ``MAX_SCAN_BYTES``), cut into ``parts`` at newlines
    and scanned on as many threads.

    One part by default: an ingest writes the previous chunk on the other core meanwhile, and two
    scanning threads then only compete with the writer (1.44 s instead of 1.30 s per million).

    The lines are the pieces between newlines; a final newline ends the last line (it does not
    start an empty one), as in ``parse.parse_lines_exactly``.
    """
    if len(data) > MAX_SCAN_BYTES:
        raise ValueError(f"scan_lines takes at most {MAX_SCAN_BYTES} bytes (got {len(data)})")
    buffer = np.frombuffer(data, dtype=np.uint8)
    # Always read-only (``bytes`` give read-only arrays, a reused ``bytearray`` writable ones):
    # Numba compiles, and caches, one version of the scanner per array type.
    buffer.flags.writeable = False
    cuts = [0]
    for k in range(1, parts):
        cut = int(_next_newline(buffer, len(data) * k // parts))
        if cut >= 0 and cut + 1 > cuts[-1] and cut + 1 < len(data):
            cuts.append(cut + 1)
    cuts.append(len(data))
    ranges = list(itertools.pairwise(cuts))
    # The compiled scan releases the GIL: the other parts run on helper threads meanwhile.
    others = [_HELPERS.submit(_scan_part, buffer, *bounds) for bounds in ranges[1:]]
    done = [_scan_part(buffer, *ranges[0]), *(f.result() for f in others)]
    return ScannedLines(
        buffer=buffer,
        status=np.concatenate([p.status for p in done]),
        line_start=np.concatenate([p.line_start for p in done]),
        texts=pa.chunked_array([p.texts for p in done], pa.string()),
        strings={
            name: pa.chunked_array([p.strings[name] for p in done], pa.string())
            for name in FIELDS[:_STRING_COUNT]
        },
        prefix=np.concatenate([p.prefix for p in done]),
        time_ms=np.concatenate([p.time_ms for p in done], axis=1),
        time_state=np.concatenate([p.time_state for p in done], axis=1),
        time_spans=np.concatenate([p.time_spans for p in done], axis=1),
        keys=pa.chunked_array([p.keys for p in done], pa.binary(16)),
    )


#: The modules the compiled code takes functions, constants and options from, besides this one
#: (``xxh3``: its hash is compiled into the scanner; ``numba_options``: how it is compiled).
_RULE_MODULES = (times, rules, schema, xxh3, numba_options)

# Numba itself only watches this file: so the scanner never runs outdated rules.
numba_options.forget_stale_compiled_code(sys.modules[__name__], _RULE_MODULES)
