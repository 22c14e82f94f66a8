"""Time arguments of the command line (``--since``, ``--until``, ``--last``), one meaning each.

* A **time** is an ISO 8601 date or time: ``2026-11-01``, ``2026-11-01T08:00``,
  ``2026-11-01T08:00Z``, ``2026-11-01T08:00+01:00``. Without an offset it is in the command's
  time zone (``--timezone`` where the command has one, else UTC). Nothing looser (``now``,
  ``Nov 1``): a shell script must mean the same thing every day it runs.
* A **span** is a number and a unit, ``30m``, ``12h``, ``7d``, ``2w`` (``s``, ``m``, ``h``,
  ``d``, ``w``; ``1.5d`` too). In ``--since`` and ``--until`` a span counts back **from now**, in
  every command: ``--since 7d`` is "from 7 days ago".
* ``--last SPAN`` (``export``) is the last SPAN **of the data**: counted back from the store's
  latest data (its latest event or last log sync), exactly as the dashboard's "Last 7 days" is.
  On a store that is not synced up to today (exported files, a copy) ``--since 7d`` may select
  nothing while ``--last 7d`` selects the store's last week.

Two anchors, two names: ``sync`` reads AWS, where the data runs up to now; ``export`` and the
dashboard read the store, whose data ends at its latest data.
"""

from __future__ import annotations

import datetime as dt
import re

from analytics import UsageError

#: Seconds of each span unit.
SPAN_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)

#: ``--help`` wording shared by the commands, so they describe the forms alike.
TIME_FORMS_HELP = "an ISO 8601 date or time (2026-11-01, 2026-11-01T08:00+01:00)"
SINCE_HELP = f"{TIME_FORMS_HELP} or a span back from now (30m, 12h, 7d, 2w)"
LAST_HELP = (
    "the last SPAN of the store's data (30m, 12h, 7d, 2w), counted back from its latest event or "
    'last log sync like the dashboard\'s "Last 7 days"; instead of --since and --until'
)


def parse_span(text: str) -> dt.timedelta | None:
    """A span such as ``30m``, ``12h``, ``7d`` or ``2w``; None when ``text`` is not one."""
    match = _SPAN.match(text)
    if match is None:
        return None
    seconds = float(match.group(1)) * SPAN_UNIT_SECONDS[match.group(2).lower()]
    return dt.timedelta(seconds=seconds)


def parse_time(text: str, argument: str, timezone: str = "UTC") -> dt.datetime:
    """An ISO 8601 date or time as a UTC datetime; no offset means ``timezone``.

    A local time that a daylight-saving change makes ambiguous is taken in summer time; one it
    skips is moved forward to the change.

    Raises
    ------
    UsageError
        ``text`` is not an ISO 8601 date or time; the message names ``argument``.
    """
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{argument} must be {TIME_FORMS_HELP} or a span back from now such as 7d or 12h"
            f" (got {text!r})"
        ) from None
    if moment.tzinfo is None and timezone == "UTC":
        moment = moment.replace(tzinfo=dt.UTC)
    elif moment.tzinfo is None:
        import pandas as pd  # here: only a local time needs it (the zone names of export's CSVs)

        local = pd.Timestamp(moment).tz_localize(
            timezone, ambiguous=True, nonexistent="shift_forward"
        )
        moment = local.to_pydatetime()
    return moment.astimezone(dt.UTC)


def parse_when(text: str, now: dt.datetime, argument: str, timezone: str = "UTC") -> dt.datetime:
    """``--since``/``--until``: a span back from ``now``, or a time (see ``parse_time``)."""
    span = parse_span(text)
    if span is not None:
        return now - span
    return parse_time(text, argument, timezone)


def window_of_last(span: dt.timedelta, latest_data: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` of the last ``span`` of data ending at ``latest_data``.

    The window holds the latest data itself: it ends one millisecond after ``latest_data`` and
    starts ``span`` before that. ``export --last`` and the dashboard's "Last 7 days" both use it.
    """
    end = latest_data + dt.timedelta(milliseconds=1)
    return end - span, end


def last_span_start(text: str, latest_data: dt.datetime | None, argument: str) -> dt.datetime:
    """``--last``: the start of the last ``text`` (a span) of data ending at ``latest_data``.

    The window ``[start, ...)`` holds the latest data itself: it starts one millisecond after
    ``latest_data - span``, as the dashboard's presets do.

    Raises
    ------
    UsageError
        ``text`` is not a span, or there is no data to count back from.
    """
    span = parse_span(text)
    if span is None:
        raise UsageError(f"{argument} must be a span such as 30m, 12h, 7d or 2w (got {text!r})")
    if latest_data is None:
        raise UsageError(
            f"{argument} {text}: the store holds no data to count back from: run gt-throughput"
            " ingest or sync first"
        )
    return window_of_last(span, latest_data)[0]
