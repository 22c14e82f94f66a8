"""What the metrics are computed from: the store's tables, cut to a time window, teams and jobs.

``load_team_data(store, filters)`` reads the store once and returns a ``TeamData``: pandas frames
that every function in ``analytics.metrics`` takes as its only input. The frames are never modified
after they are built (the dataclass is frozen and the metric functions never mutate their input),
so the dashboard can cache one ``TeamData`` and call any number of metric functions on it.

Frame conventions
-----------------
- Times are ``datetime64[ms, UTC]``; convert to the viewer's time zone only for display.
- The text columns of ``events`` are pandas ``Categorical`` (dictionary-encoded once here): 10
  million events then take about a gigabyte less memory and group an order of magnitude faster.
  Compare them with strings as usual (``events.worker_key == "..."``).
- ``events`` holds every event type whose filed time (``event_time``: outcome time, else accepted
  time, else ``event_timestamp``, else the CloudWatch timestamp) is in ``[since, until)``; with no
  bound at all, events without any time are kept too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.errors import UsageError
from analytics.store import schema
from analytics.store.store import Store

#: Events columns read from the store: everything but the message text and its binary key, which
#: no metric needs and which would double the memory of a large window.
EVENT_COLUMNS: tuple[str, ...] = tuple(
    name for name in schema.EVENTS.names if name not in ("raw_message", "event_key")
)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


#: The tables of Ground Truth's job outputs (issue 11), cut to the selected jobs, not to the window.
RESPONSE_TABLES = ("responses", "consolidated", "gold")


def table_schema(name: str) -> pa.Schema:
    """The schema of the store table ``name`` (``schema.TABLES``)."""
    return schema.TABLES[name][0]


@dataclass(frozen=True)
class Filters:
    """What to look at: a time window and, optionally, some work teams and labeling jobs.

    Parameters
    ----------
    since, until
        Timezone-aware bounds of the window ``[since, until)`` on each event's filed time (outcome
        time, else accepted time, else ``event_timestamp``). None leaves that side open.
    workteams, jobs
        Work team and labeling job *names*; empty means all.
    """

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    workteams: tuple[str, ...] = ()
    jobs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            bound = getattr(self, name)
            if bound is not None and bound.tzinfo is None:
                raise UsageError(
                    f"--{name} must carry a time zone (got {bound.isoformat()}): "
                    "add Z or an offset such as +02:00"
                )
        if self.since is not None and self.until is not None and self.since > self.until:
            raise UsageError(
                f"--since must be before --until (got {self.since.isoformat()} > "
                f"{self.until.isoformat()})"
            )


def _empty_frame(table_schema: pa.Schema) -> pd.DataFrame:
    return _to_pandas(table_schema.empty_table(), categorical=())


@dataclass(frozen=True)
class TeamData:
    """The store's content for one ``Filters``, as pandas frames (see the module docstring).

    Attributes
    ----------
    events
        Events in the window for the selected teams and jobs, every event type, columns
        ``EVENT_COLUMNS`` of ``schema.EVENTS``.
    users, memberships, workteams, jobs, metrics, backlog
        The tables written by sync (``schema.USERS`` ...), cut to the selected teams and jobs where
        they name one; empty when only files were ingested. ``users`` is not cut.
        ``metrics`` and ``backlog`` are cut to the window too.
    rejected
        Every line ingest could not read (not cut: a rejected line has no trustworthy time).
    responses, consolidated, gold
        Worker responses, consolidated labels and gold answers of the selected jobs (issue 11;
        ``table_schema`` gives their columns; empty when no job output was read). Not cut to the
        window: whether an object was answered by two workers does not depend on it. The
        numbers (``analytics.metrics.quality``) window responses by ``submission_time`` with
        ``in_window``.
    as_of
        The window's end (UTC): ``until`` when given, else the later of the store's latest event
        time and the last successful log sync recorded in the store state. "Last activity N hours
        ago" and idleness are measured against it.
    filters
        The filters these frames were cut with.
    """

    events: pd.DataFrame
    users: pd.DataFrame = field(default_factory=lambda: _empty_frame(schema.USERS))
    memberships: pd.DataFrame = field(default_factory=lambda: _empty_frame(schema.MEMBERSHIPS))
    workteams: pd.DataFrame = field(default_factory=lambda: _empty_frame(schema.WORKTEAMS))
    jobs: pd.DataFrame = field(default_factory=lambda: _empty_frame(schema.JOBS))
    metrics: pd.DataFrame = field(default_factory=lambda: _empty_frame(schema.METRICS))
    backlog: pd.DataFrame = field(default_factory=lambda: _empty_frame(schema.BACKLOG))
    rejected: pd.DataFrame = field(default_factory=lambda: _empty_frame(schema.REJECTED))
    responses: pd.DataFrame = field(default_factory=lambda: _empty_frame(table_schema("responses")))
    consolidated: pd.DataFrame = field(
        default_factory=lambda: _empty_frame(table_schema("consolidated"))
    )
    gold: pd.DataFrame = field(default_factory=lambda: _empty_frame(table_schema("gold")))
    as_of: pd.Timestamp = field(default_factory=lambda: pd.Timestamp(_EPOCH))
    filters: Filters = field(default_factory=Filters)


# --------------------------------------------------------------------------- conversion
_NULLABLE_TYPES = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
_UTC_MS_DTYPE = pd.DatetimeTZDtype(unit="ms", tz="UTC")


def _to_pandas(table: pa.Table, categorical: tuple[str, ...]) -> pd.DataFrame:
    """``table`` as pandas: UTC millisecond times, the ``categorical`` text columns categorical."""
    columns = {}
    for name in table.column_names:
        column = table.column(name)
        if name in categorical and pa.types.is_string(column.type):
            column = column.dictionary_encode()
        columns[name] = column
    encoded = pa.table(columns) if columns else table
    # Nullable integers and booleans keep "unknown" apart from 0 and False (sync tables).
    frame = encoded.to_pandas(split_blocks=True, types_mapper=_NULLABLE_TYPES.get)
    for name in table.column_names:
        if pa.types.is_timestamp(table.schema.field(name).type):
            series = frame[name]
            if series.dtype == _UTC_MS_DTYPE:
                continue  # already what we want: converting again would copy the column
            if not isinstance(series.dtype, pd.DatetimeTZDtype):
                series = pd.to_datetime(series, utc=True)
            frame[name] = series.dt.tz_convert("UTC").dt.as_unit("ms")
    return frame


def events_frame(events: pa.Table | pd.DataFrame) -> pd.DataFrame:
    """Events (a ``schema.EVENTS`` table or frame) in the form ``TeamData.events`` uses.

    Missing columns are added empty, so tests and benchmarks can build events from a few columns.
    Converted one column at a time, so the peak memory is the frame plus one column's Arrow
    intermediates (converting the whole table at once held about twice the frame on 10 million
    events).
    """
    if isinstance(events, pd.DataFrame):
        events = pa.Table.from_pandas(events, preserve_index=False)
    columns: dict[str, pd.Series] = {}
    for name in EVENT_COLUMNS:
        wanted = schema.EVENTS.field(name).type
        if name not in events.column_names:
            columns[name] = _missing_column(wanted, events.num_rows)
            continue
        column = events.column(name)
        if pa.types.is_string(wanted):
            if pa.types.is_dictionary(column.type):
                # Already dictionary-encoded text (read so from the store): keep the codes, but
                # not the dictionary's order nor its values no row uses (a filtered read keeps
                # them): the categories are those encoding the text afresh gives.
                column = column.cast(pa.dictionary(pa.int32(), pa.string()))
                columns[name] = _recode_as_first_seen(column.to_pandas())
            else:
                columns[name] = column.cast(wanted).dictionary_encode().to_pandas()
        else:
            columns[name] = _to_pandas(pa.table({name: column.cast(wanted)}), categorical=())[name]
        del column
    return pd.DataFrame(columns, copy=False)


def _missing_column(wanted: pa.DataType, rows: int) -> pd.Series:
    """An all-missing column of ``rows`` rows, as ``events_frame`` would convert it."""
    if pa.types.is_string(wanted):
        # Codes only (int8, all -1): a tenth of the memory of an Arrow null column converted.
        dtype = pa.nulls(0, pa.string()).dictionary_encode().to_pandas().dtype
        return pd.Series(pd.Categorical.from_codes(np.full(rows, -1, dtype=np.int8), dtype=dtype))
    return _to_pandas(pa.table({"column": pa.nulls(rows, wanted)}), categorical=())["column"]


def team_data_from_tables(
    events: pa.Table | pd.DataFrame,
    *,
    tables: Mapping[str, pa.Table | pd.DataFrame] | None = None,
    rejected: pa.Table | pd.DataFrame | None = None,
    filters: Filters | None = None,
    as_of: dt.datetime | pd.Timestamp | None = None,
    last_log_sync: dt.datetime | None = None,
) -> TeamData:
    """A ``TeamData`` from in-memory tables: what ``load_team_data`` does after reading the store.

    Parameters
    ----------
    events
        Events of ``schema.EVENTS`` (extra or missing columns tolerated); cut here by ``filters``.
    tables
        Any of ``users``, ``memberships``, ``workteams``, ``jobs``, ``metrics``, ``backlog``,
        ``responses``, ``consolidated``, ``gold``.
    rejected
        Rejected lines (``schema.REJECTED``).
    as_of
        Overrides the computed window end (see ``TeamData.as_of``).
    last_log_sync
        The last successful log sync, when known.
    """
    filters = filters or Filters()
    tables = dict(tables or {})
    event_table = (
        events
        if isinstance(events, pa.Table)
        else pa.Table.from_pandas(events, preserve_index=False)
    )
    event_table = cut_to_window(event_table, filters)
    if as_of is None:
        latest = pc.max(event_table.column("event_time")).as_py() if event_table.num_rows else None
        as_of = window_end(filters, latest, last_log_sync)
    event_table = cut_to_teams_and_jobs(event_table, filters)
    return team_data_from_cut_events(
        event_table, tables=tables, rejected=rejected, filters=filters, as_of=as_of
    )


def team_data_from_cut_events(
    events: pa.Table,
    *,
    tables: Mapping[str, pa.Table | pd.DataFrame],
    filters: Filters,
    as_of: dt.datetime | pd.Timestamp,
    rejected: pa.Table | pd.DataFrame | None = None,
) -> TeamData:
    """``team_data_from_tables`` for events already cut to ``filters`` (``cut_to_window``, then
    ``cut_to_teams_and_jobs``) and a window end already known: the sync tables are cut here.

    The Spark engine cuts the events on its executors and calls this on the driver, with only the
    events' team names, for the tables that ``finish_workers`` and ``task_rows`` read.
    """
    frames: dict[str, pd.DataFrame] = {}
    for name in schema.TABLES:  # every table TeamData holds besides events and rejected
        frames[name] = _as_schema_frame(tables.get(name), table_schema(name))
    rejected_frame = _as_schema_frame(rejected, schema.REJECTED)
    return _assemble(events_frame(events), frames, rejected_frame, as_of, filters)


def _assemble(
    events: pd.DataFrame,
    frames: dict[str, pd.DataFrame],
    rejected: pd.DataFrame,
    as_of: dt.datetime | pd.Timestamp,
    filters: Filters,
) -> TeamData:
    """A ``TeamData`` of events already cut to ``filters``; the sync tables are cut here."""
    cut = _cut_tables(frames, events, filters)
    return TeamData(
        events=events,
        users=cut["users"],
        memberships=cut["memberships"],
        workteams=cut["workteams"],
        jobs=cut["jobs"],
        metrics=cut["metrics"],
        backlog=cut["backlog"],
        rejected=rejected,
        responses=cut["responses"],
        consolidated=cut["consolidated"],
        gold=cut["gold"],
        as_of=pd.Timestamp(as_of).tz_convert("UTC"),
        filters=filters,
    )


def _recode_as_first_seen(column: pd.Series) -> pd.Series:
    """A categorical with only the categories its rows use, in the order they first appear.

    That is the order ``dictionary_encode`` gives when the cut table is encoded afresh, so a
    frame cut from a cached one is identical to one converted from the cut table.
    """
    codes = column.cat.codes.to_numpy()
    seen = pd.unique(codes)
    used = seen[seen >= 0]
    if len(used) == len(column.cat.categories) and (used == np.arange(len(used))).all():
        return column  # every category used, already in first-seen order
    lookup = np.full(len(column.cat.categories) + 1, -1, dtype=np.int64)
    lookup[used] = np.arange(len(used))
    # Arrow encodes a column with no value to empty object categories: do the same.
    categories = column.cat.categories[used] if len(used) else pd.Index([], dtype=object)
    new_codes = lookup[codes]  # -1 (missing) indexes the last slot, which stays -1
    recoded = pd.Categorical.from_codes(new_codes, categories=categories, validate=False)
    return pd.Series(recoded, name=column.name, copy=False)


def restrict(
    data: TeamData, filters: Filters, last_log_sync: dt.datetime | None = None
) -> TeamData:
    """``data`` (loaded with no filter) cut to ``filters``, without going back to Arrow.

    Gives exactly what ``team_data_from_tables`` gives for the same tables and ``filters``, in a
    fraction of the time: the dashboard converts the store to pandas once and cuts it on every
    filter change.
    """
    events = data.events
    keep = in_window(events["event_time"], filters)
    latest = events["event_time"][keep].max()
    as_of = window_end(filters, None if pd.isna(latest) else latest, last_log_sync)
    for column, names in (
        ("workteam_name", filters.workteams),
        ("labeling_job_name", filters.jobs),
    ):
        if names:
            keep &= events[column].isin(names).to_numpy()
    rows = np.flatnonzero(keep)
    cut = events.take(rows).reset_index(drop=True) if len(rows) != len(events) else events
    if len(rows) != len(events):
        for name in cut.columns:
            if isinstance(cut[name].dtype, pd.CategoricalDtype):
                cut[name] = _recode_as_first_seen(cut[name])
    frames = {name: getattr(data, name) for name in schema.TABLES}
    return _assemble(cut, frames, data.rejected, as_of, filters)


def _as_schema_frame(
    given: pa.Table | pd.DataFrame | None, table_schema: pa.Schema
) -> pd.DataFrame:
    if given is None:
        return _empty_frame(table_schema)
    table: pa.Table = (
        pa.Table.from_pandas(given, preserve_index=False)
        if isinstance(given, pd.DataFrame)
        else given
    )
    columns = {}
    for item in table_schema:
        if item.name in table.column_names:
            columns[item.name] = table.column(item.name).cast(item.type)
        else:
            columns[item.name] = pa.nulls(table.num_rows, item.type)
    return _to_pandas(pa.table(columns), categorical=())


def in_window(times: pa.Array | pa.ChunkedArray | pd.Series, filters: Filters) -> np.ndarray:
    """The window cut, the one definition: which ``times`` are in ``[since, until)``.

    Bounds count in whole milliseconds (a bound's sub-millisecond part is dropped), as times are
    stored. A missing time is in no window with a bound, and in the window without any (so a
    store's events without a time still count when nothing is filtered). ``times`` may be Arrow
    (``load_team_data`` cuts what it reads) or pandas (``restrict`` cuts converted frames).
    """
    if filters.since is None and filters.until is None:
        return np.ones(len(times), dtype=bool)
    if isinstance(times, pd.Series):
        keep = np.array(times.notna(), dtype=bool)
        epoch_ms = times.to_numpy(dtype="datetime64[ms]").astype(np.int64)
    else:
        times = times.cast(schema.UTC_MS)
        keep = np.array(times.is_valid(), dtype=bool)  # a copy: written below
        epoch_ms = np.asarray(times.cast(pa.int64()).fill_null(0), dtype=np.int64)
    if filters.since is not None:
        keep &= epoch_ms >= pd.Timestamp(filters.since).as_unit("ms").value // 1_000_000
    if filters.until is not None:
        keep &= epoch_ms < pd.Timestamp(filters.until).as_unit("ms").value // 1_000_000
    return keep


def cut_to_window(events: pa.Table, filters: Filters) -> pa.Table:
    """The events of ``events`` whose ``event_time`` is in the window (``in_window``)."""
    if filters.since is None and filters.until is None:
        return events
    return events.filter(pa.array(in_window(events.column("event_time"), filters)))


def cut_to_teams_and_jobs(events: pa.Table, filters: Filters) -> pa.Table:
    """The events of ``events`` of the selected work teams and labeling jobs (all when none)."""
    events = _cut_to_names(events, "workteam_name", filters.workteams)
    return _cut_to_names(events, "labeling_job_name", filters.jobs)


def _cut_to_names(events: pa.Table, column: str, names: tuple[str, ...]) -> pa.Table:
    if not names or column not in events.column_names:
        return events
    mask = pc.is_in(events.column(column), value_set=pa.array(list(names), pa.string()))
    return events.filter(pc.fill_null(mask, False))


def _latest_data(latest_event: Any, last_log_sync: dt.datetime | None) -> pd.Timestamp | None:
    """The latest data: the later of the latest event time and the last successful log sync
    (a sync that found nothing new still says the data is current up to then)."""
    candidates: list[pd.Timestamp] = []
    if latest_event is not None:
        candidates.append(pd.Timestamp(latest_event).tz_convert("UTC"))
    if last_log_sync is not None:
        candidates.append(pd.Timestamp(last_log_sync).tz_convert("UTC"))
    return max(candidates).as_unit("ms") if candidates else None


def window_end(
    filters: Filters, latest_event: Any, last_log_sync: dt.datetime | None
) -> pd.Timestamp:
    """``until``, else the latest data (``_latest_data``)."""
    if filters.until is not None:
        return pd.Timestamp(filters.until).tz_convert("UTC")
    latest = _latest_data(latest_event, last_log_sync)
    # Nothing to measure against: an empty store. The Unix epoch keeps types simple and is never
    # mistaken for a real window end.
    return latest if latest is not None else pd.Timestamp(_EPOCH)


def _name_from_arn(arns: pd.Series) -> pd.Series:
    return arns.astype("str").str.replace(r"^.*/", "", regex=True)


def _cut_tables(
    frames: dict[str, pd.DataFrame], events: pd.DataFrame, filters: Filters
) -> dict[str, pd.DataFrame]:
    """Cut the sync tables to the selected teams and jobs (and the window for time series)."""
    out = dict(frames)
    teams = set(filters.workteams)
    jobs_frame = frames["jobs"]
    if filters.jobs:
        jobs_frame = jobs_frame[jobs_frame["labeling_job_name"].isin(filters.jobs)]
        if not teams:
            # Members who could have worked on the selected jobs: the jobs' teams.
            teams = set(_name_from_arn(jobs_frame["workteam_arn"].dropna()))
            teams |= set(events["workteam_name"].dropna().astype("str").unique())
    if filters.workteams and len(jobs_frame):
        job_teams = _name_from_arn(jobs_frame["workteam_arn"].fillna(""))
        jobs_frame = jobs_frame[job_teams.isin(filters.workteams).to_numpy()]
    out["jobs"] = jobs_frame.reset_index(drop=True)
    if teams:
        for name in ("memberships", "workteams"):
            frame = frames[name]
            out[name] = frame[frame["workteam_name"].isin(sorted(teams))].reset_index(drop=True)
    metrics = frames["metrics"]
    if len(metrics):
        keep = pd.Series(in_window(metrics["timestamp"], filters), index=metrics.index)
        if filters.workteams:
            team = metrics["workteam"].astype("str").str.replace(r"^.*/", "", regex=True)
            keep &= metrics["workteam"].isna() | team.isin(filters.workteams)
        if filters.jobs:
            keep &= metrics["labeling_job"].isna() | metrics["labeling_job"].isin(filters.jobs)
        out["metrics"] = metrics[keep.to_numpy()].reset_index(drop=True)
    backlog = frames["backlog"]
    if len(backlog):
        keep = pd.Series(True, index=backlog.index)
        if filters.until is not None:
            keep &= backlog["observed_at"] < pd.Timestamp(filters.until)
        if filters.jobs or filters.workteams:
            keep &= backlog["labeling_job_name"].isin(out["jobs"]["labeling_job_name"])
            if not len(out["jobs"]) and filters.jobs:
                keep |= backlog["labeling_job_name"].isin(filters.jobs)
        out["backlog"] = backlog[keep.to_numpy()].reset_index(drop=True)
    if filters.jobs or filters.workteams:
        selected = set(filters.jobs) if filters.jobs else None
        if filters.workteams:
            # A team's jobs: those it worked on in the window, and those sync says it was given.
            of_teams = set(events["labeling_job_name"].dropna().astype("str").unique())
            of_teams |= set(out["jobs"]["labeling_job_name"].dropna().astype("str"))
            selected = of_teams if selected is None else selected & of_teams
        for name in RESPONSE_TABLES:
            frame = frames[name]
            keep_rows = frame["labeling_job_name"].isin(sorted(selected or ())).to_numpy()
            out[name] = frame[keep_rows].reset_index(drop=True)
    return out


# --------------------------------------------------------------------------- store
#: Where sync records its last log read in the store state (``analytics.sync.PART_LOGS``): the
#: value is ``{"at": ISO time, "ok": bool, ...}``; a failed read does not count.
_LOG_SYNC_PATH = ("last_sync", "worker activity")


def last_log_sync(state: Mapping[str, Any]) -> dt.datetime | None:
    """The last successful log sync recorded in the store ``state``, or None."""
    value: Any = state
    for key in _LOG_SYNC_PATH:
        value = value.get(key) if isinstance(value, Mapping) else None
    if isinstance(value, Mapping):
        if value.get("ok") is False:
            return None
        value = value.get("at")
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(str(value))
    except ValueError:
        return None
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


def data_as_of(store: Store) -> dt.datetime | None:
    """The store's latest data (None when it holds none): what ``TeamData.as_of`` is without
    ``until``, and what ``--last`` and the dashboard's date ranges count back from."""
    times = store.load_events(columns=["event_time"]).column("event_time")
    latest_event = pc.max(times).as_py() if len(times) else None
    latest = _latest_data(latest_event, last_log_sync(store.read_state()))
    return latest.to_pydatetime() if latest is not None else None


def store_is_empty(store: Store) -> bool:
    """True when the store holds no event and no sync table row."""
    if store.has_events():
        return False
    return all(store.read_table(name).num_rows == 0 for name in schema.TABLES)


def load_team_data(store: Store, filters: Filters | None = None) -> TeamData:
    """Read what the metrics need from ``store`` for ``filters``.

    Parameters
    ----------
    store
        The local store; an empty one gives empty frames (never an error).
    filters
        Window, teams and jobs; default everything.

    Returns
    -------
    TeamData
        See ``TeamData``; ``as_of`` is ``until`` when given, else the later of the latest event
        time in the store (whatever the team and job filters) and the last successful log sync.

    Raises
    ------
    StoreError
        A file of the store is damaged; the message names it and its repair, in one line.
    """
    filters = filters or Filters()
    events = store.load_events(
        filters.since, filters.until, columns=list(EVENT_COLUMNS), text_as_dictionary=True
    )
    # Response tables the store schema does not declare yet are not read (empty frames).
    tables = {name: store.read_table(name) for name in schema.TABLES}
    return team_data_from_tables(
        events,
        tables=tables,
        rejected=store.load_rejected(),
        filters=filters,
        last_log_sync=last_log_sync(store.read_state()),
    )


def previous_period(filters: Filters, as_of: dt.datetime | pd.Timestamp) -> Filters:
    """The window of the same length just before ``filters``' window, for KPI changes.

    ``[since - (end - since), since)`` where ``end`` is ``until``, else ``as_of``; same teams and
    jobs. Without ``since`` the window has no length, so the previous period is empty (since =
    until = the Unix epoch) and every previous value is missing rather than wrong.
    """
    if filters.since is None:
        return Filters(since=_EPOCH, until=_EPOCH, workteams=filters.workteams, jobs=filters.jobs)
    end = filters.until if filters.until is not None else pd.Timestamp(as_of).to_pydatetime()
    length = end - filters.since
    length = max(length, dt.timedelta(0))
    return Filters(
        since=filters.since - length,
        until=filters.since,
        workteams=filters.workteams,
        jobs=filters.jobs,
    )
