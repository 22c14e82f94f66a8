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
- ``pseudonymize=True`` replaces ``worker_key``, ``worker_id``, ``username`` and ``email`` with
  stable pseudonyms ``p-`` + the first 16 hex digits of HMAC-SHA256(key, value) of the raw
  value. The key is ``$GT_THROUGHPUT_PSEUDONYM_KEY`` when set, else a fixed salt built into the
  tool: with the fixed salt the same person gets the same pseudonym in every export, on every
  machine (so files can be joined), but anyone holding a list of candidate IDs could recompute
  them. Set the variable to a secret for exports that leave the team. This is
  pseudonymisation, not anonymisation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from analytics.dataset import Filters, last_log_sync, load_team_data, store_is_empty
from analytics.definitions import definitions_frame
from analytics.errors import UsageError
from analytics.metrics import Thresholds, task_table, worker_summary
from analytics.store import Store
from analytics.text import escape_controls
from analytics.timeparse import parse_span

PSEUDONYM_KEY_ENV_VAR = "GT_THROUGHPUT_PSEUDONYM_KEY"
#: The fixed salt used when no key is configured (see the module docstring).
DEFAULT_PSEUDONYM_SALT = b"groundtruth-throughput/pseudonym/v1"
#: Identity columns replaced by ``pseudonymize=True``.
IDENTITY_COLUMNS = ("worker_key", "worker_id", "username", "email", "top_returner", "subject")

#: What a spreadsheet runs as a formula when a cell starts with it (OWASP's list).
_FORMULA_STARTS = frozenset("=+-@\t\r")


def pseudonym_key() -> bytes:
    """The HMAC key: ``$GT_THROUGHPUT_PSEUDONYM_KEY`` (UTF-8) if set, else the fixed salt."""
    configured = os.environ.get(PSEUDONYM_KEY_ENV_VAR)
    return configured.encode("utf-8") if configured else DEFAULT_PSEUDONYM_SALT


def pseudonym(value: str, key: bytes | None = None) -> str:
    """The stable pseudonym of one identity value: ``p-`` + 16 hex digits of its HMAC-SHA256."""
    digest = hmac.new(key or pseudonym_key(), value.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"p-{digest[:16]}"


def pseudonymize_frame(
    frame: pd.DataFrame, columns: Sequence[str] = IDENTITY_COLUMNS, *, key: bytes | None = None
) -> pd.DataFrame:
    """A copy of ``frame`` with each of ``columns`` (those present) replaced by pseudonyms.

    Missing values stay missing; equal values get equal pseudonyms in every column and file.
    """
    secret = key or pseudonym_key()
    result = frame.copy()
    for name in columns:
        if name not in result:
            continue
        values = result[name]
        distinct = values.dropna().astype("str").unique()
        mapping = {value: pseudonym(value, secret) for value in distinct}
        result[name] = values.astype("str").map(mapping).astype("str")
    return result


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


def workers_csv_bytes(
    frame: pd.DataFrame, *, timezone: str = "UTC", pseudonymize: bool = False
) -> bytes:
    """The per-worker table (``worker_summary``) as CSV bytes; see the module docstring."""
    return frame_csv_bytes(frame, timezone=timezone, pseudonymize=pseudonymize)


def tasks_csv_bytes(
    frame: pd.DataFrame, *, timezone: str = "UTC", pseudonymize: bool = False
) -> bytes:
    """The task table (``task_table``) as CSV bytes; see the module docstring."""
    return frame_csv_bytes(frame, timezone=timezone, pseudonymize=pseudonymize)


def definitions_csv_bytes(columns: Iterable[str]) -> bytes:
    """The definitions of ``columns`` as CSV bytes, to ship next to an export."""
    return frame_csv_bytes(definitions_frame(columns))


def definitions_path_for(path: os.PathLike[str] | str) -> str:
    """Where the definitions of the CSV at ``path`` go: ``FILE.definitions.csv``."""
    text = os.fspath(path)
    stem = text[: -len(".csv")] if text.lower().endswith(".csv") else text
    return stem + ".definitions.csv"


# --------------------------------------------------------------------------- command line
def parse_bound(
    value: str | None, name: str, timezone: str = "UTC", anchor: dt.datetime | None = None
) -> dt.datetime | None:
    """An ``--since``/``--until`` value; no offset means ``timezone``.

    Either an ISO 8601 date or time, or a span such as ``7d`` or ``12h`` counted back from
    ``anchor``: the store's latest data (latest event or last log sync), as the dashboard's
    "Last 7 days" is, so the two give the same rows.
    """
    if value is None:
        return None
    span = parse_span(value)
    if span is not None:
        if anchor is None:
            raise UsageError(f"--{name} {value!r}: a span needs data to count back from")
        # The window is [since, until): one millisecond past the latest event keeps it inside.
        return anchor + dt.timedelta(milliseconds=1) - span
    try:
        stamp = pd.Timestamp(value)
    except ValueError as exc:
        raise UsageError(
            f"--{name} must be an ISO 8601 date or time such as 2026-11-01 or "
            f"2026-11-01T08:00:00+01:00, or a span back from the latest data such as 7d or 12h "
            f"(got {value!r})"
        ) from exc
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(timezone)
    return stamp.tz_convert("UTC").to_pydatetime()


def data_as_of(store: Store) -> dt.datetime | None:
    """The store's latest data: the later of its latest event time and last log sync."""
    times = store.load_events(columns=["event_time"]).column("event_time")
    candidates = [t for t in (pc.max(times).as_py() if len(times) else None,) if t is not None]
    synced = last_log_sync(store.read_state())
    if synced is not None:
        candidates.append(synced)
    return max(candidates) if candidates else None


def check_timezone(timezone: str) -> str:
    """``timezone`` if it is an IANA time zone name, else a ``UsageError`` naming the fix."""
    try:
        pd.Timestamp("2000-01-01", tz=timezone)
    except (KeyError, ValueError) as exc:
        raise UsageError(
            f"--timezone must be an IANA time zone such as UTC or Europe/Berlin (got {timezone!r})"
        ) from exc
    return timezone


@dataclass(frozen=True)
class ExportResult:
    """What ``export_csv`` wrote."""

    path: Path
    definitions_path: Path
    rows: int

    def summary_line(self) -> str:
        """One line for the terminal."""
        return f"wrote {self.rows:,} rows to {self.path} (definitions: {self.definitions_path})"


def export_csv(
    store: Store,
    what: Literal["workers", "tasks"],
    out: Path,
    *,
    filters: Filters | None = None,
    timezone: str = "UTC",
    pseudonymize: bool = False,
    worker_key: str | None = None,
    thresholds: Thresholds | None = None,
) -> ExportResult:
    """Write the per-worker or per-task CSV of ``store`` to ``out``, and its definitions beside it.

    Raises
    ------
    UsageError
        When the store is empty (there is nothing trustworthy to export; the dashboard's sample
        fallback is deliberately not used here).
    """
    check_timezone(timezone)
    if store_is_empty(store):
        raise UsageError(
            f"the store in {store.root} is empty: run gt-throughput ingest or sync first"
        )
    data = load_team_data(store, filters or Filters())
    if what == "workers":
        frame = worker_summary(data, thresholds or Thresholds())
        payload = workers_csv_bytes(frame, timezone=timezone, pseudonymize=pseudonymize)
    else:
        frame = task_table(data, worker_key=worker_key)
        payload = tasks_csv_bytes(frame, timezone=timezone, pseudonymize=pseudonymize)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    definitions = Path(definitions_path_for(out))
    _write_bytes_atomically(payload, out)
    _write_bytes_atomically(definitions_csv_bytes(frame.columns), definitions)
    return ExportResult(path=out, definitions_path=definitions, rows=len(frame))


def _write_bytes_atomically(payload: bytes, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_bytes(payload)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
