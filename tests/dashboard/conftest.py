"""Fixtures of the AppTest pages."""

from __future__ import annotations

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage


@pytest.fixture
def no_lookahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages alone, as they compute on demand: the look-ahead has its own tests
    (``test_lookahead.py``). Modules of page tests use it for every test (``pytestmark``)."""
    monkeypatch.setenv("GT_THROUGHPUT_LOOKAHEAD", "off")


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> list[MemoryMediaFileStorage]:
    """The in-memory media storages AppTest creates, where download buttons keep their data."""
    created: list[MemoryMediaFileStorage] = []

    class Recorded(MemoryMediaFileStorage):
        def __init__(self, media_endpoint: str) -> None:
            super().__init__(media_endpoint)
            created.append(self)

    monkeypatch.setattr("streamlit.testing.v1.app_test.MemoryMediaFileStorage", Recorded)
    return created
