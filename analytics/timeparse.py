"""Vectorised parsing of the time forms Ground Truth logs carry.

Forms accepted (one column may mix them row by row):

* ``Wed Aug 14 16:00:59 UTC 2019``: the documented form (Java's ``Date.toString`` in UTC);
* ISO 8601 with or without fractional seconds, with ``Z``, with an offset, or naive (naive = UTC);
* epoch seconds as a string (``event_timestamp``), parsed by ``parse_epoch_seconds``.

A time must also be plausible (from 2000 up to 2100); an implausible one is flagged like an
unparseable one, so a wild value cannot make dates overflow further down.

``""`` and null mean "no such time" and are not an issue; anything else that does not parse becomes
null and is flagged, so the caller can report it instead of dropping it. The documented form, by far
the most frequent, is decoded with NumPy straight from the Arrow buffers (about 30x faster than
``strptime``); the rest goes through pandas' ISO 8601 parser.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.schema import UTC_MS

_JAVA_FORM_LENGTH = len("Wed Aug 14 16:00:59 UTC 2019")
_MONTHS = [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov"]
_MONTHS.append(b"Dec")
_MONTH_KEYS = np.array([(m[0] << 16) | (m[1] << 8) | m[2] for m in _MONTHS], dtype=np.int64)
_MONTH_ORDER = np.argsort(_MONTH_KEYS)
_DIGIT_POSITIONS = [8, 9, 11, 12, 14, 15, 17, 18, 24, 25, 26, 27]
_LITERALS = {3: b" ", 7: b" ", 10: b" ", 13: b":", 16: b":", 19: b" ", 20: b"U", 21: b"T"}
_LITERALS |= {22: b"C", 23: b" "}
_MS_PER_DAY = 86_400_000


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year = year - (month <= 2)
    era = np.floor_divide(year, 400)
    year_of_era = year - era * 400
    shifted_month = (month + 9) % 12
    day_of_year = (153 * shifted_month + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    result: np.ndarray = era * 146_097 + day_of_era - 719_468
    return result


def _string_array(values: pa.Array | pa.ChunkedArray) -> pa.StringArray:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type == pa.large_string():
        values = values.cast(pa.string())
    result: pa.StringArray = values
    return result


def _parse_java_form(values: pa.StringArray) -> tuple[np.ndarray, np.ndarray]:
    """Epoch ms and a "parsed" mask for rows in the ``Wed Aug 14 16:00:59 UTC 2019`` form."""
    count = len(values)
    epoch_ms = np.zeros(count, dtype=np.int64)
    if count == 0:
        return epoch_ms, np.zeros(0, dtype=bool)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[
        values.offset : values.offset + count + 1
    ]
    data_buffer = values.buffers()[2]
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(0, np.uint8)
    )
    lengths = np.diff(offsets)
    valid = lengths == _JAVA_FORM_LENGTH
    if values.null_count:
        valid &= np.asarray(values.is_valid())
    rows = np.flatnonzero(valid)
    if len(rows) == 0:
        return epoch_ms, valid
    chars = data[offsets[rows][:, None] + np.arange(_JAVA_FORM_LENGTH)]
    ok = np.ones(len(rows), dtype=bool)
    for position, literal in _LITERALS.items():
        ok &= chars[:, position] == literal[0]
    digits = chars[:, _DIGIT_POSITIONS].astype(np.int64) - ord("0")
    ok &= ((digits >= 0) & (digits <= 9)).all(axis=1)
    month_key = (
        (chars[:, 4].astype(np.int64) << 16) | (chars[:, 5].astype(np.int64) << 8) | chars[:, 6]
    )
    found = np.searchsorted(_MONTH_KEYS[_MONTH_ORDER], month_key)
    found = np.clip(found, 0, 11)
    ok &= _MONTH_KEYS[_MONTH_ORDER][found] == month_key
    month = _MONTH_ORDER[found] + 1
    day = digits[:, 0] * 10 + digits[:, 1]
    hour = digits[:, 2] * 10 + digits[:, 3]
    minute = digits[:, 4] * 10 + digits[:, 5]
    second = digits[:, 6] * 10 + digits[:, 7]
    year = digits[:, 8] * 1000 + digits[:, 9] * 100 + digits[:, 10] * 10 + digits[:, 11]
    days_in_month = np.array([31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[month - 1]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days_in_month = np.where((month == 2) & ~leap, 28, days_in_month)
    ok &= (day >= 1) & (day <= days_in_month) & (hour < 24) & (minute < 60) & (second < 61)
    days = _days_from_civil(year, month, day)
    millis = (days * 86_400 + hour * 3600 + minute * 60 + second) * 1000
    epoch_ms[rows[ok]] = millis[ok]
    parsed = np.zeros(count, dtype=bool)
    parsed[rows[ok]] = True
    return epoch_ms, parsed


#: ISO 8601 as the logs use it: a full date, optionally a time (``T`` or a space) with optional
#: fractional seconds, and an optional ``Z`` or offset. Partial forms such as ``2019`` or a bare
#: time are refused: pandas would fill them in (with today's date for a time), so the same line
#: would mean different things on different days.
_ISO_8601 = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)
#: Times outside these bounds are flagged, not stored: Ground Truth did not exist before 2018,
#: and a year such as 33658 (a 12-digit epoch) would break date arithmetic downstream.
PLAUSIBLE_FROM_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
PLAUSIBLE_UNTIL_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z
_UNPARSED = np.iinfo(np.int64).min


def _parse_iso(texts: list[str]) -> np.ndarray:
    """Epoch ms of ISO 8601 texts (naive = UTC); ``INT64_MIN`` where a text does not parse."""
    result = np.full(len(texts), _UNPARSED, dtype=np.int64)
    iso_rows = [i for i, text in enumerate(texts) if _ISO_8601.match(text)]
    if not iso_rows:
        return result
    with warnings.catch_warnings():
        # pandas warns when it cannot infer one format for mixed rows; each row is parsed anyway.
        warnings.simplefilter("ignore", UserWarning)
        parsed = pd.to_datetime(
            pd.Series([texts[i] for i in iso_rows], dtype=object),
            format="ISO8601",
            utc=True,
            errors="coerce",
        )
    good = parsed.notna().to_numpy()
    epoch_ms = np.array(parsed[good].dt.as_unit("ms").astype("int64"), dtype=np.int64)
    result[np.asarray(iso_rows)[good]] = epoch_ms
    return result


def _plausible(epoch_ms: np.ndarray) -> np.ndarray:
    return (epoch_ms >= PLAUSIBLE_FROM_MS) & (epoch_ms < PLAUSIBLE_UNTIL_MS)


def parse_times(values: pa.Array | pa.ChunkedArray) -> tuple[pa.TimestampArray, np.ndarray]:
    """Parse a column of time texts in any accepted form.

    Parameters
    ----------
    values
        Strings: the documented form, ISO 8601, ``""`` or null.

    Returns
    -------
    times
        ``timestamp[ms, UTC]``; null where the text is empty, null or unparseable.
    issues
        Boolean mask of rows whose text was present but could not be parsed.
    """
    strings = _string_array(values)
    epoch_ms, parsed = _parse_java_form(strings)
    present = np.asarray(pc.fill_null(pc.greater(pc.utf8_length(strings), 0), False))
    remaining = np.flatnonzero(present & ~parsed)
    if len(remaining):
        texts = strings.take(pa.array(remaining)).to_pylist()
        iso_ms = _parse_iso([t.strip() for t in texts])
        good = iso_ms != _UNPARSED
        epoch_ms[remaining[good]] = iso_ms[good]
        parsed[remaining[good]] = True
    parsed &= _plausible(epoch_ms)
    issues = present & ~parsed
    times = pa.array(epoch_ms, type=pa.int64(), mask=~parsed).cast(UTC_MS)
    return times, issues


def parse_epoch_seconds(values: pa.Array | pa.ChunkedArray) -> tuple[pa.TimestampArray, np.ndarray]:
    """Parse ``event_timestamp``: epoch seconds as a string (fractions allowed).

    Returns the times as ``timestamp[ms, UTC]`` and the mask of present but unparseable rows. A
    value that is not a number is tried as a time text (some readers rewrite it as ISO 8601).
    """
    strings = _string_array(values)
    numeric = pc.fill_null(pc.match_substring_regex(strings, r"^\s*\d{1,11}(\.\d+)?\s*$"), False)
    seconds = pc.cast(pc.if_else(numeric, pc.utf8_trim_whitespace(strings), None), pa.float64())
    epoch_ms = np.asarray(pc.fill_null(pc.round(pc.multiply(seconds, 1000.0)), 0)).astype(np.int64)
    parsed = np.asarray(numeric)
    present = np.asarray(pc.fill_null(pc.greater(pc.utf8_length(strings), 0), False))
    others = np.flatnonzero(present & ~parsed)
    if len(others):
        texts, _ = parse_times(strings.take(pa.array(others)))
        ok = np.asarray(texts.is_valid())
        epoch_ms[others[ok]] = np.asarray(texts.cast(pa.int64()).fill_null(0))[ok]
        parsed[others[ok]] = True
    parsed &= _plausible(epoch_ms)
    times = pa.array(epoch_ms, type=pa.int64(), mask=~parsed).cast(UTC_MS)
    return times, present & ~parsed


_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_SPAN_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_span(text: str) -> dt.timedelta | None:
    """A relative span such as ``30m``, ``12h``, ``7d`` or ``2w``; None when ``text`` is not one."""
    match = _SPAN.match(text)
    if match is None:
        return None
    seconds = float(match.group(1)) * _SPAN_UNIT_SECONDS[match.group(2).lower()]
    return dt.timedelta(seconds=seconds)
