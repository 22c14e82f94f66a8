"""From events to tasks: which events are outcomes, their durations, and the task table.

An *outcome* is an event whose type is one of ``schema.OUTCOME_EVENT_TYPES`` (``TasksSubmitted``,
``TasksReturned``, ``TasksDeclined``); each one is one *task*. Other event types count toward no
metric. ``outcomes_of`` turns a ``TeamData`` into aligned arrays that every metric reads; times
are epoch milliseconds (``*_ms``) inside, converted to seconds or UTC times only in outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from analytics.dataset import TeamData
from analytics.metrics.grouping import category_codes, codes_of, pair_codes
from analytics.metrics.kernels import read_only, task_durations
from analytics.store.schema import OUTCOME_EVENT_TYPES, OUTCOME_TIME_FIELDS

#: NumPy's integer for a missing time (``NaT`` viewed as int64).
MISSING_MS = np.iinfo(np.int64).min

#: Outcome kind codes: the position of each event type in ``schema.OUTCOME_EVENT_TYPES``.
SUBMITTED, RETURNED, DECLINED = range(len(OUTCOME_EVENT_TYPES))
#: Outcome kind code -> the short word used in task tables and charts.
OUTCOME_WORDS = ("submitted", "returned", "declined")

MS_PER_SECOND = 1_000.0
MS_PER_HOUR = 3_600_000.0
MS_PER_DAY = 86_400_000


def column_epoch_ms(series: pd.Series) -> np.ndarray:
    """A UTC time column as epoch milliseconds (``MISSING_MS`` where missing); a view if it can."""
    if not isinstance(series.dtype, pd.DatetimeTZDtype):
        series = pd.to_datetime(series, utc=True)
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) and dtype.unit != "ms":
        series = series.dt.as_unit("ms")
    return np.asarray(series.array.asi8)


def ms_to_times(values: np.ndarray) -> pd.DatetimeIndex:
    """Epoch milliseconds (``MISSING_MS`` = missing) as UTC times."""
    return pd.DatetimeIndex(np.asarray(values, dtype=np.int64).view("datetime64[ms]")).tz_localize(
        "UTC"
    )


@dataclass(frozen=True)
class Outcomes:
    """The outcome events of a ``TeamData`` as aligned arrays (one element per task).

    Attributes
    ----------
    rows
        Position of each task in ``TeamData.events`` (made when first read: the worker table
        never reads it).
    picked_rows
        The same when some events are not tasks; None when every event is one.
    worker, job, team
        ``int32`` codes into ``worker_keys``, ``job_names``, ``team_names`` (``-1`` when missing).
    kind
        ``SUBMITTED``, ``RETURNED`` or ``DECLINED`` (``int8``).
    end_ms
        The outcome's filed time (``event_time``) in epoch ms, ``MISSING_MS`` when unknown.
    start_ms
        ``task_accepted_time`` in epoch ms, ``MISSING_MS`` when unknown.
    task_ms
        Submitted tasks: ``task_submitted_time - task_accepted_time`` when both are known and the
        difference is not negative, else NaN. NaN for other outcomes.
    return_ms
        Returned tasks: ``task_returned_time - task_accepted_time`` under the same rule, else NaN.
    skew_ms
        The outcome time minus the accepted time when it is negative (clock skew), else NaN.
    """

    picked_rows: np.ndarray | None
    worker: np.ndarray
    worker_keys: pd.Index
    job: np.ndarray
    job_names: pd.Index
    team: np.ndarray
    team_names: pd.Index
    kind: np.ndarray
    end_ms: np.ndarray
    start_ms: np.ndarray
    task_ms: np.ndarray
    return_ms: np.ndarray
    skew_ms: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)

    @cached_property
    def rows(self) -> np.ndarray:
        if self.picked_rows is not None:
            return self.picked_rows
        return np.arange(len(self.kind), dtype=_index_type(len(self.kind)))


def _index_type(count: int) -> type[np.signedinteger]:
    """``int32`` positions while they fit (half the memory), else ``int64``."""
    return np.int32 if count < np.iinfo(np.int32).max else np.int64


def outcome_kinds(event_types: pd.Series) -> np.ndarray:
    """Outcome kind of each event (``-1`` for every other event type)."""
    codes, names = category_codes(event_types)
    lookup = np.full(len(names) + 1, -1, dtype=np.int8)  # the extra slot serves code -1
    for kind, name in enumerate(OUTCOME_EVENT_TYPES):
        where = names.get_indexer(pd.Index([name]))[0]
        if where >= 0:
            lookup[where] = kind
    return lookup[codes]


def outcomes_of(data: TeamData) -> Outcomes:
    """Extract the tasks of ``data`` (see ``Outcomes``); O(n), no sorting.

    When every event is an outcome (the usual case) the time arrays are views of the frame's
    columns, and only the three duration arrays are new: 10 million events need about 400 MB.
    """
    events = data.events
    kind_all = outcome_kinds(events["event_type"])
    every_row = bool((kind_all >= 0).all())
    index_type = _index_type(len(kind_all))
    rows = (
        np.zeros(0, dtype=index_type)
        if every_row
        else np.flatnonzero(kind_all >= 0).astype(index_type)
    )

    def take(values: np.ndarray) -> np.ndarray:
        return values if every_row else values[rows]

    kind = take(kind_all)
    worker_all, worker_keys = codes_of(events["worker_key"])
    job_all, job_names = codes_of(events["labeling_job_name"])
    team_all, team_names = codes_of(events["workteam_name"])
    end_ms = take(column_epoch_ms(events["event_time"]))
    start_ms = take(column_epoch_ms(events["task_accepted_time"]))
    # The time that ends each task: the time field of its outcome type, by its kind.
    own_fields = tuple(OUTCOME_TIME_FIELDS.values())
    # Made here, not in the kernel: NumPy asks for huge pages (see ``grouping.sliced_quantiles``).
    task_ms, return_ms, skew_ms = (np.empty(len(kind)) for _ in range(3))
    task_durations(
        read_only(rows, index_type),
        read_only(kind, np.int8),
        read_only(column_epoch_ms(events["task_accepted_time"]), np.int64),
        read_only(column_epoch_ms(events[own_fields[SUBMITTED]]), np.int64),
        read_only(column_epoch_ms(events[own_fields[RETURNED]]), np.int64),
        read_only(column_epoch_ms(events[own_fields[DECLINED]]), np.int64),
        MISSING_MS,
        SUBMITTED,
        RETURNED,
        task_ms,
        return_ms,
        skew_ms,
    )
    return Outcomes(
        picked_rows=None if every_row else rows,
        worker=take(worker_all),
        worker_keys=worker_keys,
        job=take(job_all),
        job_names=job_names,
        team=take(team_all),
        team_names=team_names,
        kind=kind,
        end_ms=end_ms,
        start_ms=start_ms,
        task_ms=task_ms,
        return_ms=return_ms,
        skew_ms=skew_ms,
    )


def outcome_counts(codes: np.ndarray, kind: np.ndarray, n: int) -> np.ndarray:
    """Outcomes of each kind per code, shape ``(n, 3)`` (columns by kind code); code ``-1`` is
    left out."""
    known = codes >= 0
    if not bool(known.all()):
        codes, kind = codes[known], kind[known]
    n_kinds = len(OUTCOME_EVENT_TYPES)
    return np.bincount(pair_codes(codes, kind, n_kinds), minlength=n_kinds * n).reshape(n, n_kinds)


# --------------------------------------------------------------------------- task table
TASK_COLUMNS = (
    "worker_key",
    "worker_id",
    "username",
    "email",
    "workteam_name",
    "labeling_job_name",
    "outcome",
    "task_accepted_time",
    "outcome_time",
    "task_seconds",
    "seconds_before_return",
    "clock_skew_seconds",
    "active_seconds",
    "agreement_score",
    "source",
)


def identity_lookup(data: TeamData) -> pd.DataFrame:
    """``username`` and ``email`` by ``worker_key`` (the Cognito sub): users first, then members."""
    parts = []
    for frame in (data.users, data.memberships):
        if len(frame):
            parts.append(frame[["sub", "username", "email"]])
    if not parts:
        return pd.DataFrame(
            {"username": pd.Series(dtype="str"), "email": pd.Series(dtype="str")},
            index=pd.Index([], name="worker_key", dtype="str"),
        )
    table = pd.concat(parts, ignore_index=True).dropna(subset=["sub"])
    table = table.drop_duplicates(subset=["sub"], keep="first")
    table = table.rename(columns={"sub": "worker_key"}).set_index("worker_key")
    return table.astype({"username": "str", "email": "str"})


def task_table(data: TeamData, worker_key: str | None = None) -> pd.DataFrame:
    """One row per task (outcome event), for drill-down and ``export tasks``.

    Parameters
    ----------
    data
        What ``load_team_data`` returned.
    worker_key
        Only this worker's tasks (the Cognito sub, else the worker id); None for everyone.

    Returns
    -------
    pandas.DataFrame
        Columns ``TASK_COLUMNS``, sorted by ``outcome_time``: ``outcome`` is ``submitted``,
        ``returned`` or ``declined``; ``task_seconds`` (submitted tasks) and
        ``seconds_before_return`` (returned tasks) are wall-clock seconds from acceptance, empty
        when a time is missing or the difference is negative; ``clock_skew_seconds`` is that
        negative difference (outcome before acceptance) when there is one; ``active_seconds``
        and ``agreement_score`` come from the submitted task's worker response, when one matches
        (``quality.task_response_numbers``), else empty.
    """
    return order_tasks(task_rows(data, worker_key))


def task_rows(data: TeamData, worker_key: str | None = None) -> pd.DataFrame:
    """The rows of ``task_table`` in event order, indexed by their position in ``data.events``.

    Each row depends on its own event (and the identity tables) only, so the Spark engine builds
    them batch by batch and orders them as ``order_tasks`` does, with the position in the store
    (file, row) as the tie-break. ``active_seconds`` and ``agreement_score`` need every
    submitted task of the worker and job (``quality.task_response_numbers``): the Spark engine
    builds its rows from events without responses and adds them on its driver.
    """
    # quality builds on this module (outcomes_of): imported here, not at the top, to avoid a cycle.
    from analytics.metrics.quality import task_response_numbers

    outcomes = outcomes_of(data)
    events = data.events
    select = np.ones(len(outcomes), dtype=bool)
    if worker_key is not None:
        where = outcomes.worker_keys.get_indexer(pd.Index([worker_key]))[0]
        select = outcomes.worker == where if where >= 0 else np.zeros(len(outcomes), dtype=bool)
    rows = outcomes.rows[select]
    picked = events.iloc[rows]
    frame = pd.DataFrame(
        {
            "worker_key": picked["worker_key"].astype("str").to_numpy(),
            "worker_id": picked["worker_id"].astype("str").to_numpy(),
            "workteam_name": picked["workteam_name"].astype("str").to_numpy(),
            "labeling_job_name": picked["labeling_job_name"].astype("str").to_numpy(),
            "outcome": np.asarray(OUTCOME_WORDS, dtype=object)[outcomes.kind[select]],
            "task_accepted_time": picked["task_accepted_time"].reset_index(drop=True),
            "outcome_time": picked["event_time"].reset_index(drop=True),
            "task_seconds": outcomes.task_ms[select] / MS_PER_SECOND,
            "seconds_before_return": outcomes.return_ms[select] / MS_PER_SECOND,
            "clock_skew_seconds": outcomes.skew_ms[select] / MS_PER_SECOND,
            "source": picked["source"].astype("str").to_numpy(),
        }
    )
    from_responses = task_response_numbers(data, rows)
    for name in from_responses.columns:
        frame[name] = from_responses[name].to_numpy()
    frame["outcome"] = frame["outcome"].astype("str")
    identities = identity_lookup(data)
    frame["username"] = frame["worker_key"].map(identities["username"]).astype("str")
    frame["email"] = frame["worker_key"].map(identities["email"]).astype("str")
    frame.index = pd.Index(rows, dtype=np.int64)
    return frame[list(TASK_COLUMNS)]


def order_tasks(rows: pd.DataFrame) -> pd.DataFrame:
    """``task_rows`` in ``task_table``'s order: by outcome time (missing last), ties as given."""
    frame = rows.sort_values("outcome_time", kind="stable", na_position="last")
    return frame.reset_index(drop=True)
