"""Staffing a backlog: when it clears at the recent rate, and how many workers a deadline needs.

For each labeling job with a backlog, ``staffing_plan`` answers "at the recent rate it clears on
DATE; to clear it by DEADLINE you need N workers for H active hours a day". What the backlog is,
which rate, which hours and which days are assumed is defined once, in
``analytics.metrics.definitions`` (the ``remaining_tasks``, ``tasks_per_active_hour``,
``active_hours_per_worker_day``, ``working_days_left``, ``clears_on`` and ``workers_needed``
entries): the dashboard shows those texts next to the numbers, and docs/metrics.md lists them.

The rule in short (numbers per job, "recent" = the last ``rate_days`` before the window end):

- remaining_tasks = waiting objects x workers per object (1 assumed when unknown); waiting
  objects are a streaming job's queued + in-flight SQS messages (``backlog_status``; the
  project's ground-truth facts, section 4) or a batch job's LabelCounters PendingHuman from
  ListLabelingJobsForWorkteam (facts, section 3; the SageMaker API reference documents it as
  "the data objects that need to be labeled by a human worker"), else its Unlabeled (objects not
  yet labeled, automated labeling's included: an overestimate). An object some workers already
  answered counts in full: an approximation the counters cannot refine;
- tasks_per_active_hour = tasks submitted recently / the workers' active hours on the job
  recently (each worker's task intervals on the job merged, the ``active_hours`` rule);
- active_hours_per_worker_day = the median, over worker-days with active time on the job
  recently, of that day's active hours (each interval counted on its outcome's local day);
- clears_on = the working day on which the backlog clears at tasks submitted recently / working
  days in the rate window, counting working days after today;
- workers_needed = ceil(remaining_tasks / (tasks_per_active_hour x active_hours_per_worker_day x
  working_days_left)), with working_days_left the working days after today up to and including
  the deadline's local date.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from analytics.dataset import TeamData
from analytics.errors import UsageError
from analytics.metrics.backlog import (
    FINISHED_STATUSES,
    MAX_RATE_DAYS,
    backlog_status,
    check_rate_days,
    rate_window_start,
)
from analytics.metrics.outcomes import (
    MISSING_MS,
    MS_PER_DAY,
    MS_PER_HOUR,
    SUBMITTED,
    outcomes_of,
)
from analytics.metrics.sessions import interval_starts, sweep_intervals
from analytics.timezones import check_timezone

#: Days back from the window end over which the recent rates are measured (the default).
RATE_DAYS = 7.0

STAFFING_COLUMNS = (
    "labeling_job_name",
    "status",
    "is_streaming",
    "remaining_source",
    "remaining_objects",
    "workers_per_object",
    "remaining_tasks",
    "rate_window_days",
    "working_days_in_rate_window",
    "tasks_submitted_recently",
    "workers_recently",
    "active_hours_recently",
    "tasks_per_active_hour",
    "active_hours_per_worker_day",
    "tasks_per_working_day",
    "clears_on",
    "deadline",
    "working_days_left",
    "workers_needed",
    "working_days",
    "message",
)

#: The columns whose definitions are the plan's assumptions and formula, in reading order: show
#: ``help_for`` of each next to the numbers (the one definition lives in ``definitions.py``).
STAFFING_ASSUMPTIONS = (
    "remaining_objects",
    "remaining_tasks",
    "tasks_per_active_hour",
    "active_hours_per_worker_day",
    "working_days_in_rate_window",
    "tasks_per_working_day",
    "clears_on",
    "working_days_left",
    "workers_needed",
)

#: Where a row's waiting objects were read (the ``remaining_source`` column).
SOURCE_QUEUE = "SQS queue (queued + held by workers)"
SOURCE_PENDING_HUMAN = "LabelCounters PendingHuman"
SOURCE_UNLABELED = "LabelCounters Unlabeled (PendingHuman unknown)"

#: A projection further than this many working days is not given a date (ten years of weekdays):
#: a rate so small says "not in any plannable time", and dates past 2262 do not fit a Timestamp.
MAX_PROJECTED_WORKING_DAYS = 2_610

#: The years a deadline may fall in: any plan fits, and every local date of them is a Timestamp.
DEADLINE_YEARS = (1900, 9998)

_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Ratios that should be whole numbers (100 / 50) can come out a hair above them in floating point;
# ceil must not turn 2.0000000000000004 into 3.
_CEIL_TOLERANCE = 1e-9


def staffing_plan(
    data: TeamData,
    *,
    deadlines: Mapping[str, dt.datetime] | None = None,
    timezone: str = "UTC",
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4),
    rate_days: float = RATE_DAYS,
) -> pd.DataFrame:
    """One row per labeling job with a backlog: when it clears, and the workers a deadline needs.

    Parameters
    ----------
    data
        What ``load_team_data`` returned. Backlogs come from the synced jobs and backlog tables
        (no row without them); rates from the window's events.
    deadlines
        Job name -> an aware deadline; only its local date in ``timezone`` counts ("by Thu 3
        Dec" = by the end of that day). Jobs without one get no ``workers_needed``.
    timezone
        The IANA time zone whose local days are the working days (the team's).
    working_days
        The weekdays people work, Monday = 0 (default Monday to Friday).
    rate_days
        The recent rates are measured over the last ``rate_days`` before the window end (fewer
        when the window is shorter).

    Returns
    -------
    pandas.DataFrame
        Columns ``STAFFING_COLUMNS``, one row per job with remaining_tasks > 0, by job name.
        ``clears_on`` and ``deadline`` are local midnights in ``timezone`` (the local date);
        ``clears_on`` is NaT when there is no rate; ``workers_needed`` is NA when there is no
        rate, no deadline, the deadline has passed or no working day is left before it.
        ``message`` says it in one sentence for people, or says what is missing; the job name
        is in it as plain text (show it literally). The definitions of every column are in
        ``analytics.metrics.definitions``.

    Raises
    ------
    UsageError
        A ``timezone`` that is not an IANA name, ``working_days`` empty or outside 0..6,
        ``rate_days`` not above 0 and at most ``MAX_RATE_DAYS``, or a deadline without a time
        zone or outside ``DEADLINE_YEARS``.
    """
    zone = check_timezone(timezone, "timezone")
    weekdays = _checked_working_days(working_days)
    rate_days = check_rate_days(rate_days)
    deadline_dates = _deadline_dates(deadlines or {}, zone)

    frame = _backlogs(data, rate_days)
    if not len(frame):
        return _empty_plan(zone)
    as_of = pd.Timestamp(data.as_of).tz_convert("UTC")
    rate_start = rate_window_start(data, rate_days)
    today = as_of.tz_convert(zone).date()
    weekmask = "".join("1" if day in weekdays else "0" for day in range(7))

    frame["rate_window_days"] = max((as_of - rate_start) / pd.Timedelta(days=1), 0.0)
    window_working_days = working_days_between(rate_start, as_of, zone, weekdays)
    frame["working_days_in_rate_window"] = window_working_days
    recent = _recent_work(data, frame["labeling_job_name"], rate_start, as_of, zone)
    for name in recent.columns:
        frame[name] = recent[name].to_numpy()
    frame["tasks_per_working_day"] = (
        frame["tasks_submitted_recently"] / window_working_days
        if window_working_days > 0
        else np.nan
    )

    clears: list[dt.date | None] = []
    deadline_column: list[dt.date | None] = []
    days_left: list[int | None] = []
    needed: list[int | None] = []
    messages: list[str] = []
    row: dict[Hashable, Any]
    for row in frame.to_dict("records"):
        name = str(row["labeling_job_name"])
        remaining = int(row["remaining_tasks"])
        per_hour = float(row["tasks_per_active_hour"])
        hours = float(row["active_hours_per_worker_day"])
        per_day = float(row["tasks_per_working_day"])
        has_rate = math.isfinite(per_hour) and per_hour > 0 and math.isfinite(hours) and hours > 0
        clear_date = None
        if has_rate and math.isfinite(per_day) and per_day > 0:
            clear_date = _nth_working_day_after(
                today, _ceil(remaining / per_day), weekmask, MAX_PROJECTED_WORKING_DAYS
            )
        clears.append(clear_date)
        deadline = deadline_dates.get(name)
        deadline_column.append(deadline)
        left = None
        if deadline is not None:
            left = (
                int(
                    np.busday_count(
                        np.datetime64(today, "D") + 1,
                        np.datetime64(deadline, "D") + 1,
                        weekmask=weekmask,
                    )
                )
                if deadline > today
                else 0
            )
        days_left.append(left)
        workers = None
        if has_rate and deadline is not None and deadline >= today and left:
            workers = _ceil(remaining / (per_hour * hours * left))
        needed.append(workers)
        messages.append(
            _message(
                name,
                remaining,
                per_object_known=not pd.isna(row["workers_per_object"])
                and row["workers_per_object"] >= 1,
                submitted=int(row["tasks_submitted_recently"]),
                has_rate=has_rate,
                has_window_working_days=window_working_days > 0,
                hours=hours,
                clear_date=clear_date,
                deadline=deadline,
                today=today,
                days_left=left,
                workers=workers,
                rate_window_days=float(row["rate_window_days"]),
                weekdays=weekdays,
            )
        )
    frame["clears_on"] = _local_dates(clears, zone)
    frame["deadline"] = _local_dates(deadline_column, zone)
    frame["working_days_left"] = pd.array(days_left, dtype="Int64")
    frame["workers_needed"] = pd.array(needed, dtype="Int64")
    frame["working_days"] = pd.array(
        [describe_working_days(weekdays, timezone)] * len(frame), dtype="str"
    )
    frame["message"] = pd.array(messages, dtype="str")
    return frame[list(STAFFING_COLUMNS)].reset_index(drop=True)


# --------------------------------------------------------------------------- arguments
def _checked_working_days(working_days: tuple[int, ...]) -> frozenset[int]:
    days = frozenset(working_days)
    if not days or not all(isinstance(day, int) and 0 <= day <= 6 for day in days):
        raise UsageError(
            "working_days must name at least one weekday as a number, Monday = 0 ... Sunday = 6 "
            f"(got {tuple(working_days)!r})"
        )
    return days


def _deadline_dates(deadlines: Mapping[str, dt.datetime], zone: str) -> dict[str, dt.date]:
    dates = {}
    for name, deadline in deadlines.items():
        if not isinstance(deadline, dt.datetime) or deadline.tzinfo is None:
            raise UsageError(
                f"the deadline of job {name!r} must be a datetime with a time zone "
                f"(got {deadline!r})"
            )
        try:
            local = pd.Timestamp(deadline).tz_convert(zone).date()
        except (OverflowError, ValueError) as exc:  # pandas' out-of-bounds is a ValueError
            local = None
            problem: Exception | None = exc
        else:
            problem = None
        if local is None or not DEADLINE_YEARS[0] <= local.year <= DEADLINE_YEARS[1]:
            raise UsageError(
                f"the deadline of job {name!r} must fall in the years {DEADLINE_YEARS[0]} to "
                f"{DEADLINE_YEARS[1]} (got {deadline!r})"
            ) from problem
        dates[str(name)] = local
    return dates


# --------------------------------------------------------------------------- backlogs
def _backlogs(data: TeamData, rate_days: float) -> pd.DataFrame:
    """Jobs with remaining work: name, status, streaming, source, objects, workers per object."""
    parts = []
    streaming = backlog_status(data, rate_days=rate_days)
    if len(streaming):
        running = ~streaming["status"].fillna("InProgress").isin(FINISHED_STATUSES)
        pending = streaming["pending_messages"].astype("Int64")
        waiting = streaming[(running & (pending.fillna(0) > 0)).to_numpy(dtype=bool)]
        parts.append(
            pd.DataFrame(
                {
                    "labeling_job_name": waiting["labeling_job_name"].astype("str").to_numpy(),
                    "status": waiting["status"].astype("str").to_numpy(),
                    "is_streaming": True,
                    "remaining_source": SOURCE_QUEUE,
                    "remaining_objects": waiting["pending_messages"].astype("Int64").to_numpy(),
                    "workers_per_object": waiting["workers_per_object"].astype("Int64").to_numpy(),
                }
            )
        )
    jobs = data.jobs.drop_duplicates("labeling_job_name", keep="last")
    streaming_names = set(streaming["labeling_job_name"].astype("str"))
    batch = jobs[
        ~jobs["labeling_job_name"].astype("str").isin(streaming_names).to_numpy(dtype=bool)
        & ~jobs["is_streaming"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        & ~jobs["status"].astype("str").isin(FINISHED_STATUSES).to_numpy(dtype=bool)
    ]
    if len(batch):
        pending_human = batch["pending_human"].astype("Int64")
        unlabeled = batch["unlabeled"].astype("Int64")
        objects = pending_human.fillna(unlabeled)
        source = np.where(pending_human.notna().to_numpy(), SOURCE_PENDING_HUMAN, SOURCE_UNLABELED)
        keep = (objects.fillna(0) > 0).to_numpy(dtype=bool)
        parts.append(
            pd.DataFrame(
                {
                    "labeling_job_name": batch["labeling_job_name"].astype("str").to_numpy()[keep],
                    "status": batch["status"].astype("str").to_numpy()[keep],
                    "is_streaming": False,
                    "remaining_source": source[keep],
                    "remaining_objects": objects.to_numpy()[keep],
                    "workers_per_object": batch["workers_per_object"]
                    .astype("Int64")
                    .to_numpy()[keep],
                }
            )
        )
    if not parts or not any(len(part) for part in parts):
        return pd.DataFrame()
    frame = pd.concat([part for part in parts if len(part)], ignore_index=True)
    frame = frame.sort_values("labeling_job_name", kind="stable").reset_index(drop=True)
    frame = frame.astype(
        {
            "labeling_job_name": "str",
            "status": "str",
            "is_streaming": "bool",
            "remaining_source": "str",
            "remaining_objects": "Int64",
            "workers_per_object": "Int64",
        }
    )
    per_object = frame["workers_per_object"].where(frame["workers_per_object"] >= 1).fillna(1)
    frame["remaining_tasks"] = (frame["remaining_objects"] * per_object).astype("int64")
    return frame


# --------------------------------------------------------------------------- recent work
def _recent_work(
    data: TeamData, names: pd.Series, rate_start: pd.Timestamp, as_of: pd.Timestamp, zone: str
) -> pd.DataFrame:
    """Per job of ``names``: tasks submitted, workers, active hours, rate and hours per day."""
    n = len(names)
    result = pd.DataFrame(
        {
            "tasks_submitted_recently": np.zeros(n, dtype=np.int64),
            "workers_recently": np.zeros(n, dtype=np.int64),
            "active_hours_recently": np.zeros(n, dtype=np.float64),
            "tasks_per_active_hour": np.full(n, np.nan),
            "active_hours_per_worker_day": np.full(n, np.nan),
        }
    )
    outcomes = outcomes_of(data)
    if not len(outcomes):
        return result
    # Row i of the result is job code ``wanted[i]`` of the outcomes (-1: no outcome on it).
    wanted = outcomes.job_names.astype("str").get_indexer(pd.Index(names.astype("str")))
    position = np.full(len(outcomes.job_names) + 1, -1, dtype=np.int64)
    position[wanted[wanted >= 0]] = np.flatnonzero(wanted >= 0)
    end = outcomes.end_ms
    row = position[outcomes.job]  # job -1 reads the extra slot: -1
    recent = (
        (row >= 0)
        & (end != MISSING_MS)
        & (end >= rate_start.value // 1_000_000)  # Timestamp.value is always in ns
        & (end < as_of.value // 1_000_000)
    )
    submitted = recent & (outcomes.kind == SUBMITTED)
    result["tasks_submitted_recently"] = np.bincount(row[submitted], minlength=n)

    timed = recent & (outcomes.worker >= 0)
    if not bool(timed.any()):
        return result
    n_workers = len(outcomes.worker_keys)
    pairs = row[timed] * n_workers + outcomes.worker[timed]
    unique_pairs, pair = np.unique(pairs, return_inverse=True)
    result["workers_recently"] = np.bincount(unique_pairs // n_workers, minlength=n)
    task_end = end[timed]
    sweep = sweep_intervals(
        pair, interval_starts(outcomes.start_ms[timed], task_end), task_end, len(unique_pairs), 0.0
    )
    # Each interval's newly covered time, on its pair (job, worker) and its outcome's local day:
    # summed by pair it is the pair's active time (the active_hours union), by day the day's.
    sorted_pair = np.repeat(np.arange(len(unique_pairs)), np.diff(sweep.bounds))
    covered_hours = sweep.covered_ms / MS_PER_HOUR
    job_of_pair = unique_pairs // n_workers
    active = np.bincount(job_of_pair[sorted_pair], weights=covered_hours, minlength=n)
    result["active_hours_recently"] = active
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = result["tasks_submitted_recently"].to_numpy() / active
    result["tasks_per_active_hour"] = np.where(active > 0, rate, np.nan)

    local_day = _local_day_numbers(sweep.end_ms, zone)
    worker_days = (
        pd.DataFrame({"pair": sorted_pair, "day": local_day, "hours": covered_hours})
        .groupby(["pair", "day"], sort=False)["hours"]
        .sum()
    )
    worker_days = worker_days[worker_days > 0]
    job_of_day = job_of_pair[worker_days.index.get_level_values("pair").to_numpy()]
    medians = worker_days.groupby(job_of_day).median()
    hours_per_day = np.full(n, np.nan)
    hours_per_day[medians.index.to_numpy(dtype=np.int64)] = medians.to_numpy(dtype=np.float64)
    result["active_hours_per_worker_day"] = hours_per_day
    return result


def _local_day_numbers(epoch_ms: np.ndarray, zone: str) -> np.ndarray:
    """Days since 1970-01-01 of each time's local date in ``zone``."""
    times = pd.DatetimeIndex(np.asarray(epoch_ms, dtype=np.int64).view("datetime64[ms]"))
    local = times.tz_localize("UTC").tz_convert(zone).tz_localize(None)
    return np.asarray(local.as_unit("ms").asi8) // MS_PER_DAY


# --------------------------------------------------------------------------- working days
def local_midnights(dates: pd.DatetimeIndex, zone: str) -> pd.DatetimeIndex:
    """The instants the local dates ``dates`` (naive midnights) start in ``zone``.

    Where midnight does not exist (a daylight-saving jump at 00:00) the day starts at the first
    instant after the jump; where it happens twice, at the first.
    """
    return dates.tz_localize(
        zone, ambiguous=np.ones(len(dates), dtype=bool), nonexistent="shift_forward"
    )


def working_days_between(
    start: pd.Timestamp, end: pd.Timestamp, zone: str, weekdays: frozenset[int]
) -> float:
    """Working days in ``[start, end)``: each working local date counts by the share of its own
    length (23, 24 or 25 hours) that lies inside."""
    if end <= start:
        return 0.0
    first = pd.Timestamp(start.tz_convert(zone).date())
    last = pd.Timestamp(end.tz_convert(zone).date())
    dates = pd.date_range(first, last, freq="D")
    day_start = local_midnights(dates, zone).as_unit("ns").asi8
    day_end = local_midnights(dates + pd.Timedelta(days=1), zone).as_unit("ns").asi8
    start_ns, end_ns = start.value, end.value  # Timestamp.value is always in ns
    inside = np.minimum(day_end, end_ns) - np.maximum(day_start, start_ns)
    share = np.clip(inside / (day_end - day_start), 0.0, 1.0)
    working = np.isin(dates.day_of_week, sorted(weekdays))
    return float(share[working].sum())


def _nth_working_day_after(today: dt.date, n: int, weekmask: str, limit: int) -> dt.date | None:
    """The ``n``-th working day after ``today`` (today itself not counted); None past ``limit``."""
    if n > limit:
        return None
    # Rolling back first makes "after today" right when today is not a working day.
    day = np.busday_offset(np.datetime64(today, "D"), n, roll="backward", weekmask=weekmask)
    return pd.Timestamp(day).date()


def _ceil(value: float) -> int:
    return max(math.ceil(value - _CEIL_TOLERANCE), 1)


def _local_dates(dates: list[dt.date | None], zone: str) -> pd.Series:
    naive = pd.DatetimeIndex([pd.NaT if day is None else pd.Timestamp(day) for day in dates])
    return pd.Series(local_midnights(naive, zone).as_unit("ms"))


def describe_working_days(weekdays: frozenset[int] | tuple[int, ...], timezone: str) -> str:
    """``Mon–Fri (Europe/Berlin)``: runs of consecutive weekdays joined, then the time zone."""
    return f"{_weekday_list(weekdays)} ({timezone})"


def _weekday_list(weekdays: frozenset[int] | tuple[int, ...]) -> str:
    days = sorted(set(weekdays))
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [
        _WEEKDAY_NAMES[run[0]]
        if len(run) == 1
        else f"{_WEEKDAY_NAMES[run[0]]}–{_WEEKDAY_NAMES[run[-1]]}"
        if len(run) > 2
        else f"{_WEEKDAY_NAMES[run[0]]}, {_WEEKDAY_NAMES[run[1]]}"
        for run in runs
    ]
    return ", ".join(parts)


# --------------------------------------------------------------------------- the sentence
def format_hours(hours: float) -> str:
    """``6.2``; below one hour two significant digits (``0.51``, ``0.05``), never ``0.0``."""
    return f"{hours:.1f}" if hours >= 0.95 else f"{hours:.2g}"


def format_day(day: dt.date, today: dt.date) -> str:
    """``Fri 4 Dec``; the year is added when it is not ``today``'s (``Mon 4 Jan 2027``)."""
    text = f"{_WEEKDAY_NAMES[day.weekday()]} {day.day} {day:%b}"
    return text if day.year == today.year else f"{text} {day.year}"


def _message(
    name: str,
    remaining: int,
    *,
    per_object_known: bool,
    submitted: int,
    has_rate: bool,
    has_window_working_days: bool,
    hours: float,
    clear_date: dt.date | None,
    deadline: dt.date | None,
    today: dt.date,
    days_left: int | None,
    workers: int | None,
    rate_window_days: float,
    weekdays: frozenset[int],
) -> str:
    """The sentence of one row: the job and its tasks, then the projection, then the deadline."""
    unit = "task" if remaining == 1 else "tasks"
    window = "day" if rate_window_days == 1 else f"{rate_window_days:.3g} days"
    parts = [f"{name}: {remaining:,} {unit} to do"]
    if not per_object_known:
        parts[0] += " (workers per object unknown: 1 assumed)"
    if not has_rate:
        if submitted == 0:
            parts.append(f"no work on this job in the last {window}: no rate to project from")
        else:
            parts.append(
                f"no active time measured on this job in the last {window} (no task "
                "with a usable accepted time): no rate to project from"
            )
    elif clear_date is None and not has_window_working_days:
        parts.append(
            f"the last {window} hold no working day ({_weekday_list(weekdays)}): no date to project"
        )
    elif clear_date is None:
        parts.append("at the recent rate it does not clear within ten years")
    else:
        parts.append(f"at the recent rate it clears on {format_day(clear_date, today)}")
    if deadline is not None:
        when = format_day(deadline, today)
        if deadline < today:
            parts.append(f"the deadline {when} has passed")
        elif not days_left:
            parts.append(
                f"no working day is left before the deadline {when} (today not counted; working "
                f"days {_weekday_list(weekdays)})"
            )
        elif workers is not None:
            worker_word = "worker" if workers == 1 else "workers"
            parts.append(
                f"to clear it by {when} you need {workers:,} {worker_word} for "
                f"{format_hours(hours)} active hours a day"
            )
    return "; ".join(parts)


def _empty_plan(zone: str) -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(dtype="float64") for name in STAFFING_COLUMNS})
    for name in ("labeling_job_name", "status", "remaining_source", "working_days", "message"):
        frame[name] = pd.Series(dtype="str")
    for name in ("remaining_objects", "workers_per_object", "working_days_left", "workers_needed"):
        frame[name] = pd.Series(dtype="Int64")
    for name in ("remaining_tasks", "tasks_submitted_recently", "workers_recently"):
        frame[name] = pd.Series(dtype="int64")
    frame["is_streaming"] = pd.Series(dtype="bool")
    for name in ("clears_on", "deadline"):
        frame[name] = pd.Series(dtype=pd.DatetimeTZDtype(unit="ms", tz=zone))
    return frame


__all__ = [
    "DEADLINE_YEARS",
    "MAX_PROJECTED_WORKING_DAYS",
    "MAX_RATE_DAYS",
    "STAFFING_ASSUMPTIONS",
    "STAFFING_COLUMNS",
    "describe_working_days",
    "format_day",
    "format_hours",
    "staffing_plan",
    "working_days_between",
]
