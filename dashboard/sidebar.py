"""The shared sidebar filters: date range, team, job, time zone, privacy; mirrored in the URL.

Presets count back from the store's *as of* time (its latest event or last log sync), not from
the wall clock, so a store synced yesterday still shows "the last 7 days" of data, and the caption
says up to when. Widget keys start with ``filters_``; the URL keys are ``range``, ``from``, ``to``,
``team``, ``job``, ``tz`` and ``private``, so a manager can share a link to exactly this view.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from analytics import escape_controls, pseudonym, window_of_last
from dashboard.cache import FilterKey, Source, as_of, choices

PRESETS = {
    "24h": ("Last 24 hours", dt.timedelta(hours=24)),
    "7d": ("Last 7 days", dt.timedelta(days=7)),
    "30d": ("Last 30 days", dt.timedelta(days=30)),
    "all": ("All time", None),
    "custom": ("Custom dates", None),
}
DEFAULT_PRESET = "7d"
COMMON_TIMEZONES = [
    "UTC",
    "America/Los_Angeles",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Africa/Nairobi",
    "Asia/Kolkata",
    "Asia/Manila",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
]


@dataclass(frozen=True)
class View:
    """What every page shows: the filters, the time zone to show times in, and privacy."""

    key: FilterKey
    timezone: str
    private: bool
    window_label: str

    def person(self, worker_key: str, username: object = None, worker_id: object = None) -> str:
        """How to name a worker on screen: a pseudonym in privacy mode, else the username."""
        if self.private:
            return pseudonym(worker_key)
        for name in (username, worker_id):
            if isinstance(name, str) and name:
                return name
        return worker_key


@functools.cache
def _timezones() -> list[str]:
    # Cached: listing the system's zones reads the zone folder, on every rerun otherwise.
    return COMMON_TIMEZONES + sorted(zoneinfo.available_timezones() - set(COMMON_TIMEZONES))


def _browser_timezone() -> str:
    try:
        zone = st.context.timezone
    except AttributeError:  # older Streamlit: no st.context.timezone
        zone = None
    return zone if zone in zoneinfo.available_timezones() else "UTC"


def _from_url() -> None:
    """Seed the widgets from the URL once per session (a shared link opens its view)."""
    if st.session_state.get("filters_seeded"):
        return
    params = st.query_params
    preset = params.get("range", DEFAULT_PRESET)
    st.session_state["filters_range"] = preset if preset in PRESETS else DEFAULT_PRESET
    try:
        start = dt.date.fromisoformat(params.get("from", ""))
        end = dt.date.fromisoformat(params.get("to", ""))
        st.session_state["filters_dates"] = (start, end)
    except ValueError:
        pass
    st.session_state["filters_teams"] = params.get_all("team")
    st.session_state["filters_jobs"] = params.get_all("job")
    zone = params.get("tz") or _browser_timezone()
    st.session_state["filters_tz"] = zone if zone in zoneinfo.available_timezones() else "UTC"
    st.session_state["filters_private"] = params.get("private") == "1"
    st.session_state["filters_seeded"] = True


#: The URL keys the sidebar owns; any other key (a page's own, such as ``worker``) is left as is.
FILTER_URL_KEYS = ("range", "from", "to", "team", "job", "tz", "private")


def _to_url(view_range: str, dates: tuple[dt.date, dt.date] | None) -> None:
    wanted: dict[str, str | list[str]] = {
        key: st.query_params.get_all(key) for key in st.query_params if key not in FILTER_URL_KEYS
    }
    wanted["range"] = view_range
    if view_range == "custom" and dates:
        wanted |= {"from": dates[0].isoformat(), "to": dates[1].isoformat()}
    if st.session_state["filters_teams"]:
        wanted["team"] = list(st.session_state["filters_teams"])
    if st.session_state["filters_jobs"]:
        wanted["job"] = list(st.session_state["filters_jobs"])
    wanted["tz"] = st.session_state["filters_tz"]
    if st.session_state["filters_private"]:
        wanted["private"] = "1"
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    normalised = {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}
    if current != normalised:
        st.query_params.from_dict(wanted)


def window(
    preset: str, anchor: pd.Timestamp, dates: tuple[dt.date, dt.date] | None, tz: str
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``[since, until)`` of a preset counted back from ``anchor``, or of custom dates in ``tz``."""
    span = PRESETS[preset][1]
    if span is not None:
        return window_of_last(span, anchor.to_pydatetime())
    if preset == "custom" and dates:
        zone = zoneinfo.ZoneInfo(tz)
        start = dt.datetime.combine(dates[0], dt.time(), tzinfo=zone)
        end = dt.datetime.combine(dates[1] + dt.timedelta(days=1), dt.time(), tzinfo=zone)
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    return None, None


def custom_dates_problem(dates: object, last_day: dt.date) -> str | None:
    """Why ``dates`` (from a shared link, or picked before the time zone changed) cannot be the
    "From – to" control's range, in the control's own words; ``None`` when they can.

    The control orders what a manager picks and stops at the latest data, but a link's ``from``
    and ``to`` (or a later time zone) may say anything.
    """
    if not isinstance(dates, tuple) or len(dates) != 2:
        return None  # a range being picked (one date so far), or none
    start, end = dates
    if start > end:
        return f"“From – to” starts on {start:%b %d, %Y}, after its end on {end:%b %d, %Y}"
    if end > last_day:
        return f"“From – to” ends on {end:%b %d, %Y}, after the latest data ({last_day:%b %d, %Y})"
    return None


def _describe(
    since: dt.datetime | None, until: dt.datetime | None, tz: str, anchor: pd.Timestamp
) -> str:
    zone = zoneinfo.ZoneInfo(tz)
    if since is None or until is None:
        return f"all data up to {anchor.tz_convert(tz):%b %d, %Y %H:%M} ({tz})"
    start = since.astimezone(zone)
    end = (until - dt.timedelta(milliseconds=1)).astimezone(zone)
    return f"{start:%b %d, %Y %H:%M} – {end:%b %d, %Y %H:%M} ({tz})"


def render_sidebar(source: Source) -> View:
    """Draw the shared filters in the sidebar and return the view they select."""
    _from_url()
    teams, jobs = choices(source)
    # Names in a shared link that this store does not know are dropped, not an error.
    st.session_state["filters_teams"] = [t for t in st.session_state["filters_teams"] if t in teams]
    st.session_state["filters_jobs"] = [j for j in st.session_state["filters_jobs"] if j in jobs]
    anchor = as_of(source)
    with st.sidebar:
        st.header("Filters")
        preset = st.selectbox(
            "Date range",
            options=list(PRESETS),
            format_func=lambda key: PRESETS[key][0],
            key="filters_range",
            help="Counted back from the latest data in the store "
            f"({anchor.tz_convert('UTC'):%b %d, %Y %H:%M} UTC), not from now.",
        )
        dates: tuple[dt.date, dt.date] | None = None
        if preset == "custom":
            last_day = anchor.tz_convert(st.session_state["filters_tz"]).date()
            latest_week = (last_day - dt.timedelta(days=6), last_day)
            st.session_state.setdefault("filters_dates", latest_week)
            problem = custom_dates_problem(st.session_state["filters_dates"], last_day)
            if problem is not None:
                st.session_state["filters_dates"] = latest_week
            picked = st.date_input("From – to", key="filters_dates", max_value=last_day)
            if problem is not None:
                st.warning(
                    f"{problem}: showing the last 7 days of data instead; pick other dates "
                    "in “From – to”.",
                    icon=":material/event_busy:",
                )
            if isinstance(picked, tuple) and len(picked) == 2:
                dates = (picked[0], picked[1])
        st.multiselect(
            "Work team",
            options=teams,
            format_func=escape_controls,
            key="filters_teams",
            placeholder="All teams",
        )
        st.multiselect(
            "Labeling job",
            options=jobs,
            format_func=escape_controls,
            key="filters_jobs",
            placeholder="All jobs",
        )
        st.selectbox("Time zone", options=_timezones(), key="filters_tz")
        st.toggle(
            "Privacy mode",
            key="filters_private",
            help="Show stable pseudonyms instead of names, emails and ids, on screen and in "
            "downloads.",
        )
    tz = st.session_state["filters_tz"]
    since, until = window(preset, anchor, dates, tz)
    _to_url(preset, dates)
    key = FilterKey(
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
        workteams=tuple(st.session_state["filters_teams"]),
        jobs=tuple(st.session_state["filters_jobs"]),
    )
    return View(
        key, tz, bool(st.session_state["filters_private"]), _describe(since, until, tz, anchor)
    )


def current_view() -> View:
    """The view the sidebar selected on this run (set by ``app.py`` before the page runs)."""
    view: View = st.session_state["view"]
    return view


def current_source() -> Source:
    """The store shown on this run (``cache.choose_source``, set by ``app.py`` before the page
    runs)."""
    source: Source = st.session_state["source"]
    return source
