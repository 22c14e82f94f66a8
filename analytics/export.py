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

Where a CSV may go (a file replaced atomically, a device, pipe or ``/dev/stdout`` written through,
anything else refused with the fix) is described in :func:`output_destination`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import os
import re
import stat
import time
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from analytics.dataset import Filters, load_team_data, store_is_empty
from analytics.errors import UsageError
from analytics.metrics.definitions import definitions_frame
from analytics.metrics.outcomes import task_table
from analytics.metrics.workers import Thresholds, worker_summary
from analytics.store import Store
from analytics.text import escape_controls

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
def check_timezone(timezone: str) -> str:
    """``timezone`` if it is an IANA time zone name, else a ``UsageError`` naming the fix."""
    try:
        if not timezone.strip():
            raise ValueError(timezone)
        pd.Timestamp("2000-01-01", tz=timezone)
    except (KeyError, ValueError, IndexError) as exc:
        raise UsageError(
            f"--timezone must be an IANA time zone such as UTC or Europe/Berlin (got {timezone!r})"
        ) from exc
    return timezone


@dataclass(frozen=True)
class ExportResult:
    """What ``export_csv`` wrote.

    ``definitions_path`` is None when no definitions were written (``out`` is a device or a
    pipe and no place was named for them); ``streamed`` is True when ``out`` is one.
    """

    path: Path
    definitions_path: Path | None
    rows: int
    streamed: bool = False

    def summary_line(self) -> str:
        """One line for the terminal."""
        if self.definitions_path is not None:
            definitions = f"definitions: {self.definitions_path}"
        else:
            definitions = (
                "definitions not written beside a device, pipe or descriptor:"
                " add --definitions FILE"
            )
        return f"wrote {self.rows:,} rows to {self.path} ({definitions})"


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
    definitions: Path | None = None,
) -> ExportResult:
    """Write the per-worker or per-task CSV of ``store`` to ``out``, and its definitions.

    The definitions go to ``definitions`` when given, else beside ``out`` as
    ``FILE.definitions.csv`` when ``out`` is a regular file, else nowhere. How each destination
    is written (a regular file replaced atomically, a device or pipe written through, anything
    else refused) is described in :func:`write_outputs`.

    Raises
    ------
    UsageError
        When the store is empty (there is nothing trustworthy to export; the dashboard's sample
        fallback is deliberately not used here), or a destination cannot be written (the message
        names it, why, and the fix).
    """
    check_timezone(timezone)
    # Destinations first: a wrong --out is reported before the store is read.
    target = output_destination(Path(out), "--out", example=f"{what}.csv")
    companion = None
    if definitions is not None:
        companion = output_destination(
            Path(definitions), "--definitions", example=f"{what}.definitions.csv"
        )
    elif not target.streamed:
        companion = output_destination(
            Path(definitions_path_for(out)), "--out's definitions file", example=f"{what}.csv"
        )
    if companion is not None and os.path.abspath(companion.path) == os.path.abspath(target.path):
        raise UsageError(f"--definitions {definitions} is the --out file: name another file")
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
    outputs = [(payload, target)]
    if companion is not None:
        outputs.append((definitions_csv_bytes(frame.columns), companion))
    write_outputs(outputs)
    return ExportResult(
        path=target.path,
        definitions_path=companion.path if companion is not None else None,
        rows=len(frame),
        streamed=target.streamed,
    )


# --------------------------------------------------------------------------- writing
#: How long a write to a FIFO waits for a reader to open it before refusing.
FIFO_READER_WAIT_SECONDS = 5.0

#: The fix named when writing fails with an errno.
_FIXES = {
    errno.ENOSPC: "free some space or name a file on another disk",
    errno.EDQUOT: "free some space or name a file on another disk",
    errno.EACCES: "name a file in a folder you may write to",
    errno.EPERM: "name a file in a folder you may write to",
    errno.EROFS: "the file system is read-only: name a file on another one",
    errno.EPIPE: "the reader closed the pipe before the end: keep it reading",
    errno.ENAMETOOLONG: "name a shorter path",
    errno.ELOOP: "the symbolic links form a loop: fix them or name another file",
}


@dataclass(frozen=True)
class OutputDestination:
    """Where one CSV goes: see :func:`output_destination`.

    Attributes
    ----------
    path
        The path as given (for messages and the result).
    argument
        What named it, for messages: ``--out``, ``--definitions``, ...
    file
        The regular file replaced atomically (symbolic links resolved); None for a stream.
    fifo
        Whether the stream is a FIFO (a named or anonymous pipe) rather than a character device.
    descriptor
        This process's open descriptor that ``path`` names (``/dev/stdout``: 1), written through.
    """

    path: Path
    argument: str
    file: Path | None
    fifo: bool = False
    descriptor: int | None = None

    @property
    def streamed(self) -> bool:
        """Whether the CSV is written through to a character device or a pipe."""
        return self.file is None


def output_destination(path: Path, argument: str, *, example: str) -> OutputDestination:
    """How a CSV is written to ``path``, or a ``UsageError`` naming ``argument`` and the fix.

    - A new path or a regular file: written atomically (temporary file beside it, then a
      rename). A symbolic link is followed: the file it points to is replaced, the link stays.
    - A character device (``/dev/null``, a terminal) or a FIFO: written through, never
      replaced.
    - A name of one of this process's open descriptors (``/dev/stdout``, ``/dev/fd/3``,
      ``/proc/self/fd/1``): written through that descriptor, whatever it is open on, so
      ``--out /dev/stdout > file`` and ``>> file`` behave as the shell says.
    - A directory, a block device, a socket, or a path under a regular file: refused.
    """
    descriptor = _descriptor_named(path)
    if descriptor is not None:
        try:
            os.fstat(descriptor)
        except OSError as exc:
            raise UsageError(
                f"{argument} {path} names descriptor {descriptor}, which is not open: open it "
                f"(e.g. {descriptor}> file) or name a file"
            ) from exc
        return OutputDestination(path, argument, None, descriptor=descriptor)
    try:
        status = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        status = None  # a new file, the missing target of a link, or under a file (see below)
    except OSError as exc:
        raise _write_error(argument, path, exc, written=None) from exc
    if status is None or stat.S_ISREG(status.st_mode):
        file = Path(os.path.realpath(path))
        _check_folder(file, argument, path)
        return OutputDestination(path, argument, file)
    if stat.S_ISDIR(status.st_mode):
        raise UsageError(
            f"{argument} {path} is a directory: name a file inside it, e.g. {path / example}"
        )
    if stat.S_ISCHR(status.st_mode) or stat.S_ISFIFO(status.st_mode):
        return OutputDestination(path, argument, None, fifo=stat.S_ISFIFO(status.st_mode))
    kinds = {stat.S_IFBLK: "block device", stat.S_IFSOCK: "socket"}
    kind = kinds.get(stat.S_IFMT(status.st_mode), "special file")
    raise UsageError(
        f"{argument} {path} is a {kind}: name a regular file, a pipe or a character device such"
        " as /dev/stdout"
    )


def _descriptor_named(path: Path) -> int | None:
    """The descriptor of this process that ``path`` names through ``/proc/<pid>/fd``, if any.

    The links are followed one by one: ``/dev/stdout`` -> ``/proc/self/fd/1`` -> the file or
    pipe the shell opened, which ``realpath`` would skip straight to.
    """
    current = os.path.abspath(path)
    own = re.compile(rf"/proc/{os.getpid()}(/task/\d+)?/fd")
    for _ in range(40):  # the kernel's own limit on links followed
        folder = os.path.realpath(os.path.dirname(current))
        name = os.path.basename(current)
        if own.fullmatch(folder) and name.isdigit():
            return int(name)
        try:
            target = os.readlink(current)
        except OSError:  # not a link, or one we may not read: the usual rules then apply
            return None
        current = os.path.join(folder, target)
    return None


def _check_folder(file: Path, argument: str, path: Path) -> None:
    """A ``UsageError`` when the nearest existing folder of ``file`` is not a folder."""
    for parent in file.parents:
        try:
            status = os.stat(parent)
        except FileNotFoundError:
            continue  # created when writing
        except OSError as exc:
            raise _write_error(argument, path, exc, written=None) from exc
        if not stat.S_ISDIR(status.st_mode):
            raise UsageError(
                f"{argument} {path}: {parent} is a file, not a folder: name a file in a folder"
            )
        return


def _write_error(
    argument: str, path: Path, exc: OSError, *, written: tuple[int, int] | None
) -> UsageError:
    """One line naming ``path``, why writing it failed and the fix."""
    reason = exc.strerror or str(exc)
    fix = _FIXES.get(exc.errno or 0, "name another file")
    if written is None:
        state = "nothing was changed"
    else:
        state = f"only {written[0]:,} of {written[1]:,} bytes were written"
    return UsageError(f"{argument} {path}: cannot write ({reason}): {fix}; {state}")


def write_outputs(outputs: Sequence[tuple[bytes, OutputDestination]]) -> None:
    """Write each payload to its destination, all regular files or none.

    Regular files are first written in full to hidden temporary files beside them
    (``.NAME.<random>.tmp``, created exclusively, flushed to disk, with the replaced file's
    permissions), streams are written next, and only then are the temporary files renamed into
    place: a failure leaves every regular file as it was and no temporary file behind. A FIFO is
    opened without blocking, waiting at most ``FIFO_READER_WAIT_SECONDS`` for a reader; once
    open, it is written at the reader's pace, like any pipe.
    """
    staged: list[tuple[Path, Path, OutputDestination]] = []
    try:
        for payload, destination in outputs:
            if destination.file is not None:
                temporary = _stage(payload, destination, destination.file)
                staged.append((temporary, destination.file, destination))
        for payload, destination in outputs:
            if destination.file is None:
                _write_through(payload, destination)
        for temporary, file, destination in staged:
            try:
                os.replace(temporary, file)
            except OSError as exc:
                raise _write_error(
                    destination.argument, destination.path, exc, written=None
                ) from exc
    finally:
        for temporary, _, _ in staged:
            temporary.unlink(missing_ok=True)


def _stage(payload: bytes, destination: OutputDestination, file: Path) -> Path:
    """``payload`` in a new hidden file beside ``file``; returns its path."""
    temporary = file.with_name(f".{file.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666
        )
    except OSError as exc:
        raise _write_error(destination.argument, destination.path, exc, written=None) from exc
    try:
        with os.fdopen(descriptor, "wb") as handle:
            with contextlib.suppress(FileNotFoundError):
                os.fchmod(handle.fileno(), stat.S_IMODE(os.stat(file).st_mode))
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise _write_error(destination.argument, destination.path, exc, written=None) from exc
    return temporary


def _open_stream(destination: OutputDestination) -> int:
    """A descriptor open for writing on the device or FIFO, or a ``UsageError``."""
    deadline = time.monotonic() + FIFO_READER_WAIT_SECONDS
    flags = os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    while True:
        try:
            return os.open(destination.path, flags)
        except OSError as exc:
            # ENXIO: a FIFO nobody reads (open(2)); wait a little for the reader to start.
            if exc.errno == errno.ENXIO and destination.fifo and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            if exc.errno == errno.ENXIO and destination.fifo:
                raise UsageError(
                    f"{destination.argument} {destination.path} is a FIFO nobody reads (waited "
                    f"{FIFO_READER_WAIT_SECONDS:g} s): start its reader first, e.g. "
                    f"cat {destination.path} > export.csv &"
                ) from exc
            raise _write_error(destination.argument, destination.path, exc, written=None) from exc


def _write_through(payload: bytes, destination: OutputDestination) -> None:
    """Write ``payload`` to a character device, FIFO or open descriptor without replacing it."""
    if destination.descriptor is not None:
        descriptor = os.dup(destination.descriptor)  # closing it below keeps stdout open
    else:
        descriptor = _open_stream(destination)
    done = 0
    try:
        os.set_blocking(descriptor, True)
        view = memoryview(payload)
        while done < len(payload):
            done += os.write(descriptor, view[done:])
    except OSError as exc:
        raise _write_error(
            destination.argument, destination.path, exc, written=(done, len(payload))
        ) from exc
    finally:
        os.close(descriptor)
