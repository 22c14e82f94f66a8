"""Stable pseudonyms for worker identities in exports and on screen.

``pseudonymize=True`` replaces ``worker_key``, ``worker_id``, ``username`` and ``email`` with
stable pseudonyms ``p-`` + the first 16 hex digits of HMAC-SHA256(key, value) of the raw
value. The key is ``$GT_THROUGHPUT_PSEUDONYM_KEY`` when set, else a fixed salt built into the
tool: with the fixed salt the same person gets the same pseudonym in every export, on every
machine (so files can be joined), but anyone holding a list of candidate IDs could recompute
them. Set the variable to a secret for exports that leave the team. This is
pseudonymisation, not anonymisation.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence

import pandas as pd

PSEUDONYM_KEY_ENV_VAR = "GT_THROUGHPUT_PSEUDONYM_KEY"
#: The fixed salt used when no key is configured (see the module docstring).
DEFAULT_PSEUDONYM_SALT = b"groundtruth-throughput/pseudonym/v1"
#: Identity columns replaced by ``pseudonymize=True``.
IDENTITY_COLUMNS = ("worker_key", "worker_id", "username", "email", "top_returner", "subject")


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
