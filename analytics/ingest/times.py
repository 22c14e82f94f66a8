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

This module is where each time form is defined, once: the compiled scanner
(``analytics.ingest.fast_scan``) decodes the documented form with the tables and the date arithmetic
defined here (``JAVA_TIME_FORM``, ``civil_is_valid``, ``civil_epoch_ms``), and the sample generator
writes it with ``format_java_time``. Time arguments of the command line (``--since 7d``) are not log
times: they live in ``analytics.cli.time_arguments``.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.store.schema import UTC_MS

# --------------------------------------------------------------------------- the documented form
#: The documented form, ``java.util.Date#toString`` in UTC (``Wed Aug 14 16:00:59 UTC 2019``), as
#: a ``strftime`` format with English names. The one spelling of the form: the decoders' tables
#: below are derived from it and ``format_java_time`` writes it.
JAVA_TIME_FORMAT = "%a %b %d %H:%M:%S UTC %Y"
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Days in each month of a common year; February gets one more in a leap year.
DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
#: The fields of the form in the order of ``JavaTimeForm.field_starts``; the weekday (``%a``) is
#: not read (Java writes the right one; a wrong one changes nothing).
JAVA_TIME_FIELDS = ("%b", "%d", "%H", "%M", "%S", "%Y")
_DIRECTIVE_WIDTHS = {"%a": 3, "%b": 3, "%d": 2, "%H": 2, "%M": 2, "%S": 2, "%Y": 4}


@dataclass(frozen=True)
class JavaTimeForm:
    """Byte tables of ``JAVA_TIME_FORMAT``, for decoders that read it at fixed offsets.

    ``literal_positions``/``literal_bytes``: the offsets and bytes of the fixed characters
    (spaces, colons, ``UTC``); ``field_starts``/``field_widths``: the offset and width of each
    field of ``JAVA_TIME_FIELDS`` (the month name, then numbers of fixed width, zero padded);
    ``month_names``: the twelve English abbreviations, three bytes each, January first.
    """

    length: int
    literal_positions: np.ndarray
    literal_bytes: np.ndarray
    field_starts: np.ndarray
    field_widths: np.ndarray
    month_names: np.ndarray

    @staticmethod
    def of(time_format: str) -> JavaTimeForm:
        """The tables of ``time_format`` (directives of ``_DIRECTIVE_WIDTHS`` and literals)."""
        literals: list[tuple[int, int]] = []
        starts: dict[str, int] = {}
        position = 0
        for piece in re.findall(r"%.|[^%]", time_format):
            if piece in _DIRECTIVE_WIDTHS:
                starts[piece] = position
                position += _DIRECTIVE_WIDTHS[piece]
            else:
                literals.append((position, ord(piece)))
                position += 1
        return JavaTimeForm(
            length=position,
            literal_positions=np.array([p for p, _ in literals], dtype=np.int64),
            literal_bytes=np.array([b for _, b in literals], dtype=np.int64),
            field_starts=np.array([starts[f] for f in JAVA_TIME_FIELDS], dtype=np.int64),
            field_widths=np.array([_DIRECTIVE_WIDTHS[f] for f in JAVA_TIME_FIELDS], np.int64),
            month_names=np.frombuffer("".join(MONTH_NAMES).encode("ascii"), np.uint8).copy(),
        )


JAVA_TIME_FORM = JavaTimeForm.of(JAVA_TIME_FORMAT)


def format_java_time(moment: dt.datetime) -> str:
    """``moment`` (timezone-aware) in the documented form, whatever the process's locale."""
    moment = moment.astimezone(dt.UTC)
    english = JAVA_TIME_FORMAT.replace("%a", WEEKDAY_NAMES[moment.weekday()])
    return moment.strftime(english.replace("%b", MONTH_NAMES[moment.month - 1]))


# The date arithmetic below is written once for two callers: NumPy (arrays, here) and the compiled
# scanner (Numba compiles these very functions for scalars). Hence only operators that mean the
# same for both: ``&`` and ``|`` on comparisons, ``//`` and ``%`` on integers, no calls.
def civil_is_valid(year, month, day, hour, minute, second):  # type: ignore[no-untyped-def]
    """Whether the fields of a month 1..12 name a real time: day 1..days in that month (29 in
    February of a leap year only), hour < 24, minute < 60, second < 61 (a leap second)."""
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    last_day = DAYS_IN_MONTH[month - 1] + ((month == 2) & leap)
    return (day >= 1) & (day <= last_day) & (hour < 24) & (minute < 60) & (second < 61)


def civil_epoch_ms(year, month, day, hour, minute, second):  # type: ignore[no-untyped-def]
    """Epoch milliseconds of a proleptic Gregorian UTC time (days by H. Hinnant's algorithm)."""
    year = year - (month <= 2)
    era = year // 400
    year_of_era = year - era * 400
    shifted_month = (month + 9) % 12
    day_of_year = (153 * shifted_month + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146_097 + day_of_era - 719_468
    return (days * 86_400 + hour * 3600 + minute * 60 + second) * 1000


_MONTH_KEYS = np.array(
    [(m[0] << 16) | (m[1] << 8) | m[2] for m in (n.encode() for n in MONTH_NAMES)], dtype=np.int64
)
_MONTH_ORDER = np.argsort(_MONTH_KEYS)


def _string_array(values: pa.Array | pa.ChunkedArray) -> pa.StringArray:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type == pa.large_string():
        values = values.cast(pa.string())
    result: pa.StringArray = values
    return result


def _parse_java_form(values: pa.StringArray) -> tuple[np.ndarray, np.ndarray]:
    """Epoch ms and a "parsed" mask for rows in the ``Wed Aug 14 16:00:59 UTC 2019`` form."""
    form = JAVA_TIME_FORM
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
    valid = lengths == form.length
    if values.null_count:
        valid &= np.asarray(values.is_valid())
    rows = np.flatnonzero(valid)
    if len(rows) == 0:
        return epoch_ms, valid
    chars = data[offsets[rows][:, None] + np.arange(form.length)]
    ok = (chars[:, form.literal_positions] == form.literal_bytes).all(axis=1)
    month_at = int(form.field_starts[0])
    month_chars = chars[:, month_at : month_at + 3].astype(np.int64)
    month_key = (month_chars[:, 0] << 16) | (month_chars[:, 1] << 8) | month_chars[:, 2]
    found = np.clip(np.searchsorted(_MONTH_KEYS[_MONTH_ORDER], month_key), 0, 11)
    ok &= _MONTH_KEYS[_MONTH_ORDER][found] == month_key
    numbers = []
    for start, width in zip(form.field_starts[1:], form.field_widths[1:], strict=True):
        number = np.zeros(len(rows), dtype=np.int64)
        for position in range(start, start + width):
            digit = chars[:, position].astype(np.int64) - ord("0")
            ok &= (digit >= 0) & (digit <= 9)
            number = number * 10 + digit
        numbers.append(number)
    day, hour, minute, second, year = numbers
    month = _MONTH_ORDER[found] + 1
    ok &= civil_is_valid(year, month, day, hour, minute, second)
    millis = civil_epoch_ms(year, month, day, hour, minute, second)
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
