"""What an AppTest download button holds (the ``media`` fixture records the storages)."""

from __future__ import annotations

from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest


def download_bytes(at: AppTest, media: list[MemoryMediaFileStorage], key: str) -> bytes:
    """The bytes of the download button whose key ends with ``key``."""
    button = next(b for b in at.get("download_button") if b.proto.id.endswith(key))
    filename = button.proto.url.rsplit("/", 1)[1]
    for storage in reversed(media):
        try:
            return storage.get_file(filename).content
        except Exception:  # not in this storage: look in the next one
            continue
    raise AssertionError(f"no media file {filename}")
