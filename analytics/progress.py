"""How work reports its advance: the callback ``ingest`` and ``sync`` call (the command line
draws it as a bar, ``analytics.cli.progress``)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Called as work advances: ``done`` of ``total`` units (None when unknown), and a label."""

    def __call__(self, done: int, total: int | None, label: str) -> None: ...
