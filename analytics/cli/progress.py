"""The terminal progress bar of ``ingest`` and ``sync``: one line redrawn on stderr.

It is a ``analytics.progress.Progress``: the library calls it and knows nothing of terminals.
"""

from __future__ import annotations

import time
from typing import TextIO


def _human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


class TerminalProgress:
    """A one-line progress bar redrawn at most ten times a second on a terminal."""

    def __init__(self, stream: TextIO, *, unit: str = "bytes", width: int = 30) -> None:
        self.stream = stream
        self.unit = unit
        self.width = width
        self._last_draw = 0.0
        self._drawn = False

    def _amount(self, value: int) -> str:
        return _human_bytes(value) if self.unit == "bytes" else f"{value:,} {self.unit}"

    def __call__(self, done: int, total: int | None, label: str) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if now - self._last_draw < 0.1 and not finished:
            return
        self._last_draw = now
        if total:
            filled = int(self.width * min(done, total) / total)
            bar = "#" * filled + "-" * (self.width - filled)
            line = f"[{bar}] {self._amount(done)} / {self._amount(total)} {label}"
        else:
            line = f"{self._amount(done)} {label}"
        self.stream.write("\r" + line[:120].ljust(120))
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the bar's line so the next output starts on a fresh one."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def progress_for_terminal(stream: TextIO, *, unit: str = "bytes") -> TerminalProgress | None:
    """A progress bar on ``stream`` when it is a terminal, else None (no noise in logs or pipes)."""
    return TerminalProgress(stream, unit=unit) if stream.isatty() else None
