"""The one check of a time zone name, for every command option and library parameter that takes
one (exports, the digest, the staffing plan, the Spark job)."""

from __future__ import annotations

import pandas as pd

from analytics.errors import UsageError


def check_timezone(timezone: str, argument: str = "--timezone") -> str:
    """``timezone`` if it is an IANA time zone name, else a ``UsageError`` naming ``argument``
    and the fix."""
    try:
        if not isinstance(timezone, str) or not timezone.strip():
            raise ValueError(timezone)
        pd.Timestamp("2000-01-01", tz=timezone)
    except (KeyError, ValueError, IndexError, TypeError) as exc:
        raise UsageError(
            f"{argument} must be an IANA time zone such as UTC or Europe/Berlin (got {timezone!r})"
        ) from exc
    return timezone
