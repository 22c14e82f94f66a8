"""CSV exports that a spreadsheet opens safely and a manager can explain.

Every CSV the project writes (``export workers``/``tasks``, their definitions, the dashboard's
downloads) goes through :func:`frame_csv_bytes`, so these rules hold for all of them; a new CSV
(a timesheet) must use it too, never ``DataFrame.to_csv``:

- UTF-8 with a header row, one line per record ending in ``\n``; times as ISO 8601 with their UTC
  offset in the chosen time zone (``2026-11-06T21:13:41+01:00``); plain numbers (no thousands
  separators, no exponent); true/false for flags; empty cells for unknown values.
- Text cells (and the header) are always quoted (``"..."``, a quote doubled), so no content can
  end a cell or a row early; numbers, flags, times and unknown values are written bare.
- Control characters in text (CR, LF, tab, NUL, the other C0/C1 controls, bidirectional
  overrides) are written as visible escapes by :func:`analytics.text.escape_controls`, the one
  rule for showing data strings: a worker ID ``"\\r=1+1"`` (a real carriage return) is written
  as the six characters ``\\r=1+1``, never raw.
- A text cell a spreadsheet would run as a formula gets a leading apostrophe, as OWASP recommends
  for CSV injection: text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return (the
  OWASP list), also after leading whitespace (``" =1+1"``: some importers trim it) and in their
  full-width and other compatibility forms (U+FF1D, the full-width equals sign, is read as ``=``
  by NFKC normalisation first, as some East Asian Excel set-ups may read it). The check runs
  after the escaping, on the text as written. Only text cells: numbers stay numbers (``-3.2`` in
  a numeric column is written as is), while ``-3.2`` in a text column such as a worker ID is
  text and gets its apostrophe.

Identity columns are replaced by pseudonyms with ``pseudonymize=True``
(``analytics.export.pseudonyms``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import numpy as np
import pandas as pd

from analytics.export.pseudonyms import pseudonymize_frame
from analytics.metrics.definitions import definitions_frame
from analytics.text import escape_controls

#: What a spreadsheet runs as a formula when a cell starts with it (OWASP's list).
_FORMULA_STARTS = frozenset("=+-@\t\r")


def neutralize_formula(text: str) -> str:
    """``text`` with a leading apostrophe when a spreadsheet would run it as a formula.

    That is when it starts with one of ``= + - @``, tab or carriage return, or its first
    character after leading whitespace does, read in its compatibility form (U+FF1D as ``=``).
    """
    start = text.lstrip()[:1]
    if text[:1] in _FORMULA_STARTS or unicodedata.normalize("NFKC", start)[:1] in _FORMULA_STARTS:
        return "'" + text
    return text


def text_cell(text: str) -> str:
    """``text`` as a CSV text cell: control characters escaped, then formulas neutralised."""
    return neutralize_formula(escape_controls(text))


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _format_times(series: pd.Series, timezone: str) -> pd.Series:
    local = series.dt.tz_convert(timezone)
    has_ms = bool(((local.dt.microsecond.fillna(0) // 1000) != 0).any())
    text = local.dt.strftime("%Y-%m-%dT%H:%M:%S.%f" if has_ms else "%Y-%m-%dT%H:%M:%S")
    if has_ms:
        text = text.str[:-3]
    offset = local.dt.strftime("%z")
    offset = offset.str[:3] + ":" + offset.str[3:]
    return (text + offset).where(series.notna(), "")


def _format_number(series: pd.Series) -> pd.Series:
    values = series.astype("float64")
    text = pd.Series(
        [np.format_float_positional(v, precision=6, trim="-") for v in values.fillna(0.0)],
        index=series.index,
        dtype="str",
    )
    text = text.where(np.isfinite(values.fillna(0.0)), values.astype("str").str.lower())
    return text.where(values.notna(), "")


def _format_text(series: pd.Series, *, quote: bool) -> pd.Series:
    """Each value as :func:`text_cell` (quoted when ``quote``); missing values as empty cells."""
    present = series.notna()
    text = series.astype("str")
    # Once per distinct value: identities repeat on every row of a task table.
    cells = {value: text_cell(value) for value in text[present].unique()}
    if quote:
        cells = {value: _quoted(cell) for value, cell in cells.items()}
    return text.map(cells).where(present, "").astype("str")


def _cells(series: pd.Series, timezone: str, *, quote: bool) -> pd.Series:
    """``series`` as cells, written by its dtype (module docstring)."""
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return _format_times(series, timezone)
    if pd.api.types.is_bool_dtype(dtype):
        return series.map({True: "true", False: "false"}).astype("str").fillna("")
    if pd.api.types.is_integer_dtype(dtype):
        return series.astype("str").fillna("").replace("<NA>", "")
    if pd.api.types.is_float_dtype(series):
        return _format_number(series)
    return _format_text(series, quote=quote)


def csv_ready(frame: pd.DataFrame, timezone: str = "UTC") -> pd.DataFrame:
    """``frame`` as the cell values the export rules write (module docstring), unquoted."""
    out = {name: _cells(frame[name], timezone, quote=False) for name in frame.columns}
    return pd.DataFrame(out, index=frame.index)


def frame_csv_bytes(
    frame: pd.DataFrame, *, timezone: str = "UTC", pseudonymize: bool = False
) -> bytes:
    """Any frame as CSV bytes under the export rules: the one CSV writer of the project."""
    if pseudonymize:
        frame = pseudonymize_frame(frame)
    header = ",".join(_quoted(text_cell(str(name))) for name in frame.columns)
    columns = [
        _cells(frame.iloc[:, position], timezone, quote=True).tolist()
        for position in range(frame.shape[1])
    ]
    # A blank line is no row to a CSV reader: a one-column record with an empty cell says "".
    rows = [",".join(cells) or '""' for cells in zip(*columns, strict=True)]
    return "".join(line + "\n" for line in (header, *rows)).encode("utf-8")


def definitions_csv_bytes(columns: Iterable[str]) -> bytes:
    """The definitions of ``columns`` as CSV bytes, to ship next to an export."""
    return frame_csv_bytes(definitions_frame(columns))
