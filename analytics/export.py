"""CSV exports that a spreadsheet opens safely and a manager can explain.

- UTF-8 with a header row; times as ISO 8601 with their UTC offset in the chosen time zone
  (``2026-11-06T21:13:41+01:00``); plain numbers (no thousands separators, no exponent);
  true/false for flags; empty cells for unknown values.
- Cells a spreadsheet would run as a formula (text starting with ``=``, ``+``, ``-``, ``@``, tab or
  carriage return) get a leading apostrophe, as OWASP recommends for CSV injection. Only text
  cells: numbers stay numbers.
- ``pseudonymize=True`` replaces ``worker_key``, ``worker_id``, ``username`` and ``email`` with
  stable pseudonyms ``p-`` + the first 16 hex digits of HMAC-SHA256(key, value). The key is
  ``$GT_THROUGHPUT_PSEUDONYM_KEY`` when set, else a fixed salt built into the tool: with the fixed
  salt the same person gets the same pseudonym in every export, on every machine (so files can be
  joined), but anyone holding a list of candidate IDs could recompute them. Set the variable to a
  secret for exports that leave the team. This is pseudonymisation, not anonymisation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
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
from analytics.timeparse import parse_span

PSEUDONYM_KEY_ENV_VAR = "GT_THROUGHPUT_PSEUDONYM_KEY"
#: The fixed salt used when no key is configured (see the module docstring).
DEFAULT_PSEUDONYM_SALT = b"groundtruth-throughput/pseudonym/v1"
#: Identity columns replaced by ``pseudonymize=True``.
IDENTITY_COLUMNS = ("worker_key", "worker_id", "username", "email", "top_returner", "subject")

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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
    """``text`` with a leading apostrophe when a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


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


def csv_ready(frame: pd.DataFrame, timezone: str = "UTC") -> pd.DataFrame:
    """``frame`` as text cells following the export rules (module docstring)."""
    out = {}
    for name in frame.columns:
        series = frame[name]
        dtype = series.dtype
        if isinstance(dtype, pd.DatetimeTZDtype):
            out[name] = _format_times(series, timezone)
        elif pd.api.types.is_bool_dtype(dtype):
            out[name] = series.map({True: "true", False: "false"}).astype("str").fillna("")
        elif pd.api.types.is_integer_dtype(dtype):
            out[name] = series.astype("str").fillna("").replace("<NA>", "")
        elif pd.api.types.is_float_dtype(dtype):
            out[name] = _format_number(series)
        else:
            text = series.astype("str").fillna("")
            out[name] = text.map(neutralize_formula).astype("str")
    return pd.DataFrame(out, index=frame.index)


def frame_csv_bytes(
    frame: pd.DataFrame, *, timezone: str = "UTC", pseudonymize: bool = False
) -> bytes:
    """Any frame as CSV bytes under the export rules."""
    if pseudonymize:
        frame = pseudonymize_frame(frame)
    text = csv_ready(frame, timezone).to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8")


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
