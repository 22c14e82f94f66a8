"""The worker table: one row per worker with counts, task seconds, active time, sessions and flags.

A worker is flagged *slow* when their median task seconds on a labeling job is far above the other
workers' on the same job (modified z-score), *returning* when they give back too many tasks, and
*idle* when their last outcome is long before the window's end (``Thresholds`` says how far).
Every column is defined in ``analytics.metrics.definitions``; the essentials:

- *Task seconds*: ``task_submitted_time - task_accepted_time`` of a submitted task, wall clock
  (pauses included), when both are known and the difference is not negative.
- ``return_rate = tasks_returned / (tasks_submitted + tasks_returned)``.
"""

from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.dataset import TeamData
from analytics.metrics.grouping import (
    category_codes,
    join_names,
    modified_z_by_group,
    sliced_quantiles,
)
from analytics.metrics.kernels import (
    BLOCK_PAIRS,
    pair_counts,
    pair_scatter,
    read_only,
    sweep_walk,
)
from analytics.metrics.outcomes import (
    DECLINED,
    MISSING_MS,
    MS_PER_DAY,
    MS_PER_HOUR,
    MS_PER_SECOND,
    RETURNED,
    SUBMITTED,
    Outcomes,
    identity_lookup,
    ms_to_times,
    outcome_counts,
    outcomes_of,
)
from analytics.metrics.quality import (
    QUALITY_COLUMNS,
    QUALITY_FLAG_COLUMNS,
    QUALITY_MIN_SCORED,
    QUALITY_Z,
    active_time_pairs,
    worker_quality,
)


@dataclass(frozen=True)
class Thresholds:
    """When a worker is flagged. Every number is configurable; the defaults are the documented ones.

    Attributes
    ----------
    slow_z
        Modified z-score above which a worker's median task seconds on a job is slow.
    slow_min_tasks
        Submitted tasks with task seconds a worker needs on a job to be compared on it.
    return_rate
        Return rate above which a worker is flagged for returns.
    return_min_outcomes
        Submitted plus returned tasks a worker needs to be flagged for returns.
    idle_after_hours
        Hours between the last outcome and the window's end after which a worker is idle (72: a
        weekend is not idleness).
    session_gap_minutes
        A gap between tasks longer than this ends a working session.
    quality_z
        Modified z-score below minus this at which a worker's agreement rate on a job is low.
    quality_min_scored
        Scored responses a worker needs on a job to be compared on it (and to count in the job's
        reference group).
    """

    slow_z: float = 3.5
    slow_min_tasks: int = 10
    return_rate: float = 0.2
    return_min_outcomes: int = 10
    idle_after_hours: float = 72.0
    session_gap_minutes: float = 30.0
    quality_z: float = QUALITY_Z
    quality_min_scored: int = QUALITY_MIN_SCORED


WORKER_COLUMNS = (
    "worker_key",
    "worker_id",
    "username",
    "email",
    "workteams",
    "jobs",
    "tasks_submitted",
    "tasks_returned",
    "tasks_declined",
    "return_rate",
    "mean_task_seconds",
    "median_task_seconds",
    "p90_task_seconds",
    "time_spent_metric_seconds",
    "mean_seconds_before_return",
    "active_hours",
    "tasks_per_active_hour",
    "session_count",
    "session_hours",
    "idle_minutes",
    "first_activity",
    "last_activity",
    "hours_since_last_activity",
    "active_days",
    "slow_flag",
    "slow_reason",
    "return_flag",
    "return_reason",
    "idle_flag",
    "idle_reason",
    *QUALITY_COLUMNS,
    *QUALITY_FLAG_COLUMNS,
)


# --------------------------------------------------------------------------- time coverage
def time_order(outcomes: Outcomes) -> np.ndarray:
    """Empty when the tasks with a worker are in outcome-time order (the store keeps events so),
    else a stable order of all tasks by outcome time (missing times first).

    The per-worker passes (``kernels.sweep_walk``, ``kernels.pair_scatter``) visit the tasks in
    this order, so each worker's tasks come in outcome-time order without grouping them.
    """
    worker, end = outcomes.worker, outcomes.end_ms
    with_worker = worker >= 0
    if not bool(with_worker.all()):
        end = end[with_worker]
    del with_worker
    if len(end) < 2 or bool(np.all(end[1:] >= end[:-1])):
        return np.zeros(0, dtype=np.int64)
    order: np.ndarray = pc.sort_indices(pa.array(outcomes.end_ms)).to_numpy().view(np.int64)
    return order


@dataclass(frozen=True)
class _Coverage:
    """Per-worker results of the interval sweep (see ``sessions.sweep_sorted``)."""

    active_ms: np.ndarray
    idle_ms: np.ndarray
    session_count: np.ndarray
    session_ms: np.ndarray
    first_ms: np.ndarray
    last_ms: np.ndarray
    active_days: np.ndarray


def _coverage(outcomes: Outcomes, order: np.ndarray, gap_minutes: float) -> _Coverage:
    """Active and idle time, sessions, first and last outcome and active days of each worker.

    One walk back over the tasks in outcome-time order (``order``, see ``time_order``), each
    worker's intervals merged as ``sessions.sweep_sorted`` merges a group's.
    """
    nothing = np.zeros(0, dtype=np.int64)
    active, idle, sessions, first, last, days = sweep_walk(
        read_only(outcomes.worker, np.int32),
        read_only(outcomes.start_ms, np.int64),
        read_only(outcomes.end_ms, np.int64),
        read_only(order, np.int64),
        len(outcomes.worker_keys),
        gap_minutes * 60_000.0,
        MISSING_MS,
        MS_PER_DAY,
        nothing,
        nothing,
        np.zeros(0, dtype=bool),
    )
    return _Coverage(
        active_ms=active.astype(np.float64),
        idle_ms=idle.astype(np.float64),
        session_count=sessions,
        session_ms=(active + idle).astype(np.float64),
        first_ms=first,
        last_ms=last,
        active_days=days,
    )


# --------------------------------------------------------------------------- slow workers
SPEED_COLUMNS = (
    "worker_key",
    "labeling_job_name",
    "tasks_with_seconds",
    "median_task_seconds",
    "job_median_seconds",
    "job_mad_seconds",
    "job_mean_ad_seconds",
    "job_workers_compared",
    "modified_z",
    "measure",
    "slow",
)


@dataclass(frozen=True)
class _TaskTimes:
    """Per-worker task-ms statistics and the per-(worker, job) medians used for the slow flag."""

    count: np.ndarray  # submitted tasks with task seconds
    total_ms: np.ndarray
    quantiles: np.ndarray  # shape (n_workers, 2): median, p90
    pairs: pd.DataFrame  # worker, job, tasks_with_seconds, median_ms (pairs with enough tasks)


def _worker_task_times(
    outcomes: Outcomes, order: np.ndarray, min_tasks: int, pool: Executor | None = None
) -> _TaskTimes:
    """Each worker's count, total, median and p90 of task ms, and the median of each (worker,
    job) pair with at least ``min_tasks`` timed tasks.

    One scatter lays the task ms out by (worker, job) pair (``kernels.pair_scatter``): every pair
    is a slice, and so is every worker (pairs are worker-major), so the worker quantiles and the
    pair medians read the same copy. With a ``pool``, the worker quantiles run on it while this
    thread computes the pair medians. Pair rows come by worker, then job.
    """
    n_workers = len(outcomes.worker_keys)
    job = outcomes.job
    n_slots = int(job.max()) + 2 if len(job) else 1  # slot 0: tasks without a job
    worker = read_only(outcomes.worker, np.int32)
    job = read_only(job, np.int32)
    task_ms = read_only(outcomes.task_ms, np.float64)
    order = read_only(order, np.int64)
    bounds, totals = pair_counts(worker, job, task_ms, order, n_workers, n_slots)
    # The big arrays are made by NumPy (huge pages; see ``grouping.sliced_quantiles``).
    laid = np.empty(int(bounds[-1]))
    block_edges = np.append(bounds[::BLOCK_PAIRS], bounds[-1])
    largest_block = int(np.diff(block_edges).max()) if len(block_edges) > 1 else 0
    pair_scatter(
        worker,
        job,
        task_ms,
        order,
        n_slots,
        read_only(bounds, np.int64),
        laid,
        np.empty(len(laid), dtype=np.uint16),
        np.empty(largest_block),
        np.empty(largest_block, dtype=np.uint16),
    )
    worker_bounds = bounds[::n_slots]
    if pool is None:
        worker_quantiles = sliced_quantiles(laid, worker_bounds, [0.5, 0.9])
    else:
        quantiles_job = pool.submit(sliced_quantiles, laid, worker_bounds, [0.5, 0.9])
    pair_sizes = np.diff(bounds)
    pair_slot = np.arange(len(pair_sizes), dtype=np.int64) % n_slots
    chosen = np.flatnonzero((pair_sizes >= max(min_tasks, 1)) & (pair_slot > 0))
    medians = sliced_quantiles(laid, bounds, [0.5], only=chosen)[chosen, 0]
    pairs = pd.DataFrame(
        {
            "worker": chosen // n_slots,
            "job": pair_slot[chosen] - 1,
            "tasks_with_seconds": pair_sizes[chosen].astype(np.int64),
            "median_ms": medians,
        }
    )
    if pool is not None:
        worker_quantiles = quantiles_job.result()
    return _TaskTimes(
        count=np.diff(worker_bounds), total_ms=totals, quantiles=worker_quantiles, pairs=pairs
    )


#: How a (worker, job) pair's median was measured: ``wall`` from the log's task seconds (pauses
#: included), ``active`` from the worker responses' ``timeSpentInSeconds`` (pauses excluded).
WALL, ACTIVE = "wall", "active"


def active_pairs(data: TeamData, workers: pd.Index, jobs: pd.Index, min_tasks: int) -> pd.DataFrame:
    """The (worker, job) pairs measured by active time: ``PAIR_COLUMNS``, ``measure`` ``ACTIVE``.

    A pair whose worker has at least ``min_tasks`` responses with active seconds on the job
    (``quality.active_time_pairs``), for ``workers`` (worker keys) and ``jobs`` (job names) that
    have events in the window. Reads ``data.responses`` only (never events): the Spark engine
    runs it on its driver.
    """
    columns = {name: pd.Series(dtype=dtype) for name, dtype in _PAIR_DTYPES.items()}
    if not len(data.responses):
        return pd.DataFrame(columns)
    active = active_time_pairs(data, min_tasks)
    known = pd.Index(active["worker_key"]).isin(workers.astype("str")) & pd.Index(
        active["labeling_job_name"]
    ).isin(jobs.astype("str"))
    return pd.DataFrame(
        {
            "worker": active["worker_key"].to_numpy(dtype=object)[known],
            "job": active["labeling_job_name"].to_numpy(dtype=object)[known],
            "tasks_with_seconds": active["responses_with_active"].to_numpy(dtype=np.int64)[known],
            "median_ms": active["median_active_ms"].to_numpy(dtype=np.float64)[known],
            "measure": np.full(int(known.sum()), ACTIVE, dtype=object),
        }
    )


_PAIR_DTYPES = {
    "worker": object,
    "job": object,
    "tasks_with_seconds": np.int64,
    "median_ms": np.float64,
    "measure": object,
}


def fair_pairs(pairs: pd.DataFrame, active: pd.DataFrame) -> pd.DataFrame:
    """The pairs the slow test compares: ``active`` pairs (``active_pairs``) replace the wall
    clock ``pairs`` of the same worker and job (a pause is not slowness); the others stay."""
    if not len(active):
        return pairs
    replaced = pd.MultiIndex.from_frame(pairs[["worker", "job"]]).isin(
        pd.MultiIndex.from_frame(active[["worker", "job"]])
    )
    return pd.concat([pairs[~replaced], active], ignore_index=True)


def score_jobs(pairs: pd.DataFrame, thresholds: Thresholds = Thresholds()) -> pd.DataFrame:
    """The per-job stage of the slow flag: each pair's modified z-score and ``slow``.

    ``pairs`` are ``fair_pairs`` (``PAIR_COLUMNS``) holding every pair of each job they name (a
    job's pairs from every worker: the Spark engine groups them by job first). A pair is compared
    with the job's pairs measured the same way (active with active, wall clock with wall clock,
    ``grouping.modified_z_by_group``). The pairs are put in one canonical order (job, then worker)
    before anything is summed, so the result does not depend on the order they came in, bit for
    bit: both engines give the same floats.
    """
    canonical = pairs.sort_values(["job", "worker"], kind="stable", ignore_index=True)
    group = canonical["job"].astype("str") + "/" + canonical["measure"].astype("str")
    robust = modified_z_by_group(canonical["median_ms"], group)
    scored = canonical.assign(
        job_median_ms=robust["group_median"],
        job_mad_ms=robust["group_mad"],
        job_mean_ad_ms=robust["group_mean_ad"],
        job_workers_compared=robust["group_size"],
        modified_z=robust["modified_z"],
    )
    return scored.assign(slow=(scored["modified_z"] > thresholds.slow_z).to_numpy(dtype=bool))


def job_worker_speed(data: TeamData, thresholds: Thresholds = Thresholds()) -> pd.DataFrame:
    """How each worker's median task seconds compares with the others on the same labeling job.

    Only pairs with at least ``thresholds.slow_min_tasks`` submitted tasks with task seconds are
    compared (and make up the job's reference group). ``modified_z = 0.6745 * (x - median) / MAD``
    over the job's compared workers' medians; when MAD is 0, ``(x - median) / (1.253314 * MeanAD)``;
    when both are 0 (everyone equal), 0. ``slow`` when ``modified_z > thresholds.slow_z``.

    Returns
    -------
    pandas.DataFrame
        Columns ``SPEED_COLUMNS``; seconds columns in seconds.
    """
    outcomes = outcomes_of(data)
    times = _worker_task_times(outcomes, time_order(outcomes), thresholds.slow_min_tasks)
    pairs = _named_pairs(times.pairs, outcomes.worker_keys, outcomes.job_names)
    active = active_pairs(data, outcomes.worker_keys, outcomes.job_names, thresholds.slow_min_tasks)
    return _speed_frame(score_jobs(fair_pairs(pairs, active), thresholds))


def _named_pairs(pairs: pd.DataFrame, worker_keys: pd.Index, job_names: pd.Index) -> pd.DataFrame:
    """``pairs`` with the worker and job codes replaced by ``worker_key`` and job name, measured
    by the wall clock.

    Codes are only meaningful inside one ``Outcomes``; names let pairs computed on different
    machines (the Spark engine's worker groups) meet in the per-job stage.
    """
    keys = np.asarray(worker_keys.astype("str"), dtype=object)
    jobs = np.asarray(job_names.astype("str"), dtype=object)
    return pairs.assign(
        worker=keys[pairs["worker"].to_numpy()],
        job=jobs[pairs["job"].to_numpy()],
        measure=np.full(len(pairs), WALL, dtype=object),
    )


def _speed_frame(scored: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "worker_key": pd.array(scored["worker"].to_numpy(dtype=object), dtype="str"),
            "labeling_job_name": pd.array(scored["job"].to_numpy(dtype=object), dtype="str"),
            "tasks_with_seconds": scored["tasks_with_seconds"].to_numpy(),
            "median_task_seconds": scored["median_ms"].to_numpy() / MS_PER_SECOND,
            "job_median_seconds": scored["job_median_ms"].to_numpy() / MS_PER_SECOND,
            "job_mad_seconds": scored["job_mad_ms"].to_numpy() / MS_PER_SECOND,
            "job_mean_ad_seconds": scored["job_mean_ad_ms"].to_numpy() / MS_PER_SECOND,
            "job_workers_compared": scored["job_workers_compared"].to_numpy(),
            "modified_z": scored["modified_z"].to_numpy(),
            "measure": pd.array(scored["measure"].to_numpy(dtype=object), dtype="str"),
            "slow": scored["slow"].to_numpy(dtype=bool),
        }
    )
    return frame.sort_values(["labeling_job_name", "worker_key"]).reset_index(drop=True)


#: How a slow reason says which time it compared, and what it counted.
_MEASURE_WORDS = {
    WALL: ("wall clock (pauses included)", "tasks"),
    ACTIVE: ("active (pauses excluded, from worker responses)", "responses"),
}


def slow_reasons(scored: pd.DataFrame, thresholds: Thresholds = Thresholds()) -> pd.Series:
    """Why each slow worker is slow, by ``worker_key``: one clause per job, highest z first.

    ``scored`` is what ``score_jobs`` returned (only its ``slow`` rows are read, so the Spark
    engine sends just those to the driver). Workers who are not slow are absent.
    """
    reasons: dict[str, list[str]] = {}
    slow = scored[scored["slow"]].sort_values("modified_z", ascending=False, kind="stable")
    z = thresholds.slow_z
    for row in slow.to_dict("records"):
        spread = (
            f"MAD {row['job_mad_ms'] / MS_PER_SECOND:.1f} s"
            if row["job_mad_ms"] > 0
            else f"MAD 0, mean absolute deviation {row['job_mean_ad_ms'] / MS_PER_SECOND:.1f} s"
        )
        measured, counted = _MEASURE_WORDS[row["measure"]]
        reasons.setdefault(str(row["worker"]), []).append(
            f"on {row['job']}: median {row['median_ms'] / MS_PER_SECOND:.1f} s "
            f"{measured} over {row['tasks_with_seconds']} {counted} vs the job's "
            f"{row['job_workers_compared']} workers' median "
            f"{row['job_median_ms'] / MS_PER_SECOND:.1f} s ({spread}; "
            f"modified z {row['modified_z']:.1f} > {z:g})"
        )
    return pd.Series(
        {key: "; ".join(items) for key, items in reasons.items()}, dtype="str", name="slow_reason"
    )


# --------------------------------------------------------------------------- per worker
def time_spent_metric_seconds(metrics: pd.DataFrame, dimension: str) -> pd.Series:
    """Mean TimeSpent (active seconds, pauses excluded) per value of ``dimension``.

    ``Sum(TimeSpent) / SampleCount(TimeSpent)``: ``Average`` is not a statistic the metric offers.
    """
    if not len(metrics):
        return pd.Series(dtype="float64")
    rows = metrics[(metrics["metric_name"] == "TimeSpent") & metrics[dimension].notna()]
    if dimension != "worker":
        rows = rows[rows["worker"].isna()]
    if not len(rows):
        return pd.Series(dtype="float64")
    totals = rows.pivot_table(
        index=dimension, columns="statistic", values="value", aggfunc="sum", observed=True
    )
    if "Sum" not in totals or "SampleCount" not in totals:
        return pd.Series(dtype="float64")
    mean = totals["Sum"] / totals["SampleCount"].where(totals["SampleCount"] > 0)
    mean.index = mean.index.astype("str")
    return mean.dropna()


def worker_ids_of(data: TeamData, outcomes: Outcomes) -> np.ndarray:
    """Each worker's ``worker_id``: the one on its last event that has one (None without)."""
    worker = outcomes.worker
    if len(outcomes) != len(data.events):
        worker, _ = category_codes(data.events["worker_key"])
    ids, id_names = category_codes(data.events["worker_id"])
    known = (worker >= 0) & (ids >= 0)
    if not bool(known.all()):
        worker, ids = worker[known], ids[known]
    del known
    chosen = np.full(len(outcomes.worker_keys), -1, dtype=np.int64)
    chosen[worker] = ids
    names = np.concatenate([np.asarray(id_names.astype("str"), dtype=object), [None]])
    return names[chosen]


def worker_summary(data: TeamData, thresholds: Thresholds = Thresholds()) -> pd.DataFrame:
    """One row per worker: counts, task seconds, active time, sessions and the three flags.

    Workers are everyone with an event in the window plus, when sync stored the team member lists,
    every member of the selected teams (members who never took a task appear with zero tasks).

    Parameters
    ----------
    data
        What ``load_team_data`` returned.
    thresholds
        When a worker is slow, returning or idle.

    Returns
    -------
    pandas.DataFrame
        Columns ``WORKER_COLUMNS`` (each defined in ``analytics.metrics.definitions``), sorted by
        tasks submitted (most first), then ``worker_key``. Seconds are wall clock (pauses
        included) except ``time_spent_metric_seconds`` (the ``TimeSpent`` metric, pauses
        excluded).

    Notes
    -----
    Three stages, each a public function, so that another engine (``analytics.spark``) runs the
    very same code on a cluster: ``worker_part`` (what depends on each worker's own events only:
    any split of the events by worker gives the same rows), ``score_jobs`` (what depends on each
    job's pairs only) and ``finish_workers`` (the team tables, the flags, the order).

    Built for 10 million events in about a second (``bench/bench_metrics.py``): the tasks are
    never grouped by worker; the interval sweep is one compiled walk over them in time order
    (``kernels.sweep_walk``), and the quantiles and per-job medians read one copy of the task
    times laid out by (worker, job) pair (``kernels.pair_scatter``).
    """
    part = worker_part(data, thresholds)
    events = data.events
    active = active_pairs(
        data,
        pd.Index(events["worker_key"].dropna().unique()),
        pd.Index(events["labeling_job_name"].dropna().unique()),
        thresholds.slow_min_tasks,
    )
    reasons = slow_reasons(score_jobs(fair_pairs(part.pairs, active), thresholds), thresholds)
    return finish_workers(part.rows, reasons, data, thresholds)


#: Columns of ``WorkerPart.pairs``: each (worker, job) pair with enough timed tasks to be
#: compared (``Thresholds.slow_min_tasks``); ``worker`` is the ``worker_key``, ``job`` the job
#: name, ``median_ms`` the pair's median task ms, ``measure`` ``WALL`` or ``ACTIVE`` (how it was
#: measured: ``worker_part`` gives wall clock pairs, ``fair_pairs`` swaps in active ones).
PAIR_COLUMNS = ("worker", "job", "tasks_with_seconds", "median_ms", "measure")


#: The ``events`` columns ``worker_part`` reads. The Spark engine sends only these to its
#: per-worker stage (a shuffle of every event: the other columns would double its bytes). A metric
#: of ``worker_part`` that reads another column adds it here; a test of
#: ``tests/integration/test_spark_engine.py`` fails until it does.
WORKER_PART_EVENT_COLUMNS = (
    "worker_key",
    "worker_id",
    "event_type",
    "event_time",
    "task_accepted_time",
    "task_submitted_time",
    "task_returned_time",
    "task_declined_time",
    "labeling_job_name",
    "workteam_name",
)


@dataclass(frozen=True)
class WorkerPart:
    """The per-worker stage of ``worker_summary``: what depends on each worker's own events only.

    Attributes
    ----------
    rows
        One row per worker with an event in ``data``: every column of the worker table computed
        from events (a column added here reaches both engines). Any split of the events by
        worker gives the same rows, which is what lets the Spark engine compute them per worker.
    pairs
        ``PAIR_COLUMNS``, wall clock: with ``active_pairs`` through ``fair_pairs``, the input of
        the per-job stage (``score_jobs``).
    """

    rows: pd.DataFrame
    pairs: pd.DataFrame


def worker_part(data: TeamData, thresholds: Thresholds = Thresholds()) -> WorkerPart:
    """The per-worker stage of ``worker_summary`` (see ``WorkerPart``); reads ``data.events``
    only."""
    outcomes = outcomes_of(data)
    worker_keys, job_names = outcomes.worker_keys, outcomes.job_names
    # Independent passes run side by side (NumPy, Arrow and the compiled kernels release the
    # GIL): the per-worker counts and the interval sweep on helper threads while this thread lays
    # out the task times and computes the per-job medians. All of them only read ``outcomes``.
    with ThreadPoolExecutor(max_workers=2) as pool:
        totals_job = pool.submit(_worker_totals, data, outcomes)
        order = time_order(outcomes)
        coverage_job = pool.submit(_coverage, outcomes, order, thresholds.session_gap_minutes)
        times = _worker_task_times(outcomes, order, thresholds.slow_min_tasks, pool)
        totals = totals_job.result()
        coverage = coverage_job.result()
    del outcomes, order
    counts = totals.counts
    submitted, returned, declined = counts[:, SUBMITTED], counts[:, RETURNED], counts[:, DECLINED]
    with np.errstate(invalid="ignore", divide="ignore"):
        return_rate = returned / (submitted + returned)
        mean_ms = times.total_ms / times.count
        mean_return_ms = totals.return_total_ms / totals.return_count
        per_hour = submitted / (coverage.active_ms / MS_PER_HOUR)
    per_hour = np.where(coverage.active_ms > 0, per_hour, np.nan)
    quantiles = times.quantiles
    frame = pd.DataFrame(
        {
            "worker_key": pd.array(np.asarray(worker_keys.astype("str"), dtype=object), "str"),
            "worker_id": pd.array(totals.worker_ids, dtype="str"),
            "workteams": pd.array(totals.workteams, dtype="str"),
            "jobs": pd.array(totals.jobs, dtype="str"),
            "tasks_submitted": submitted.astype(np.int64),
            "tasks_returned": returned.astype(np.int64),
            "tasks_declined": declined.astype(np.int64),
            "return_rate": return_rate,
            "mean_task_seconds": mean_ms / MS_PER_SECOND,
            "median_task_seconds": quantiles[:, 0] / MS_PER_SECOND,
            "p90_task_seconds": quantiles[:, 1] / MS_PER_SECOND,
            "mean_seconds_before_return": mean_return_ms / MS_PER_SECOND,
            "active_hours": coverage.active_ms / MS_PER_HOUR,
            "tasks_per_active_hour": per_hour,
            "session_count": coverage.session_count.astype(np.int64),
            "session_hours": coverage.session_ms / MS_PER_HOUR,
            "idle_minutes": coverage.idle_ms / 60_000.0,
            "first_activity": ms_to_times(coverage.first_ms),
            "last_activity": ms_to_times(coverage.last_ms),
            "active_days": coverage.active_days.astype(np.int64),
        }
    )
    pairs = _named_pairs(times.pairs, worker_keys, job_names)
    return WorkerPart(rows=frame[totals.seen].reset_index(drop=True), pairs=pairs)


def finish_workers(
    rows: pd.DataFrame, reasons: pd.Series, data: TeamData, thresholds: Thresholds = Thresholds()
) -> pd.DataFrame:
    """The last stage of ``worker_summary``: team members, identities, flags and the order.

    ``rows`` are ``WorkerPart.rows`` of every worker (in any order), ``reasons`` what
    ``slow_reasons`` gave; of ``data`` only the team tables (``users``, ``memberships``,
    ``metrics``) and ``as_of`` are read, never ``events``.
    """
    why = reasons.to_dict()
    slow_reason = [why.get(key, "") for key in rows["worker_key"].tolist()]
    frame = rows.assign(slow_reason=pd.array(slow_reason, dtype="str"))
    frame = _add_members(frame, data)
    return _finish_worker_frame(frame, data, thresholds)


@dataclass(frozen=True)
class _WorkerTotals:
    """What ``worker_summary`` needs from the outcome arrays besides the worker grouping."""

    counts: np.ndarray  # shape (n_workers, 3): submitted, returned, declined
    seen: np.ndarray  # the worker has any event in the window
    return_count: np.ndarray  # returned tasks with a time before return
    return_total_ms: np.ndarray
    workteams: list[str]
    jobs: list[str]
    worker_ids: np.ndarray


def _worker_totals(data: TeamData, outcomes: Outcomes) -> _WorkerTotals:
    """Counts by kind, time before return, teams, jobs and ``worker_id`` of each worker."""
    n = len(outcomes.worker_keys)
    counts = outcome_counts(outcomes.worker, outcomes.kind, n)
    before_return = ~np.isnan(outcomes.return_ms) & (outcomes.worker >= 0)
    returning = outcomes.worker[before_return]
    return _WorkerTotals(
        counts=counts,
        seen=_workers_seen(data, counts),
        return_count=np.bincount(returning, minlength=n),
        return_total_ms=np.bincount(
            returning, weights=outcomes.return_ms[before_return], minlength=n
        ),
        workteams=join_names(outcomes.worker, outcomes.team, outcomes.team_names, n),
        jobs=join_names(outcomes.worker, outcomes.job, outcomes.job_names, n),
        worker_ids=worker_ids_of(data, outcomes),
    )


def _workers_seen(data: TeamData, counts: np.ndarray) -> np.ndarray:
    """Which workers have any event in the window: an outcome (``counts``) or another event."""
    seen = counts.sum(axis=1) > 0
    if len(data.events) and int(counts.sum()) < len(data.events):
        codes, _ = category_codes(data.events["worker_key"])
        seen = np.bincount(codes[codes >= 0], minlength=len(seen)) > 0
    return seen


def _add_members(frame: pd.DataFrame, data: TeamData) -> pd.DataFrame:
    """Append team members without any event in the window, and add member teams to everyone."""
    members = data.memberships
    if not len(members):
        return frame
    teams_of = (
        members.dropna(subset=["sub"])
        .groupby("sub", sort=False)["workteam_name"]
        .agg(lambda names: sorted(set(names.astype("str"))))
    )
    absent = teams_of.index.difference(pd.Index(frame["worker_key"]))
    if len(absent):
        extra = pd.DataFrame(
            {
                "worker_key": pd.array(np.asarray(absent, dtype=object), dtype="str"),
                "workteams": pd.array([""] * len(absent), dtype="str"),
                "jobs": pd.array([""] * len(absent), dtype="str"),
                "slow_reason": pd.array([""] * len(absent), dtype="str"),
            }
        )
        for name in (
            "tasks_submitted",
            "tasks_returned",
            "tasks_declined",
            "session_count",
            "active_days",
        ):
            extra[name] = np.zeros(len(absent), dtype=np.int64)
        for name in ("active_hours", "session_hours", "idle_minutes"):
            extra[name] = np.zeros(len(absent))
        frame = pd.concat([frame, extra], ignore_index=True)
    member_teams = frame["worker_key"].map(teams_of)
    merged = []
    for own, extra_teams in zip(frame["workteams"].tolist(), member_teams.tolist(), strict=True):
        names = set(own.split(", ")) if isinstance(own, str) and own else set()
        if isinstance(extra_teams, list):
            names.update(extra_teams)
        merged.append(", ".join(sorted(names)))
    return frame.assign(workteams=pd.array(merged, dtype="str"))


def _finish_worker_frame(
    frame: pd.DataFrame, data: TeamData, thresholds: Thresholds
) -> pd.DataFrame:
    identities = identity_lookup(data)
    frame["username"] = frame["worker_key"].map(identities["username"]).astype("str")
    frame["email"] = frame["worker_key"].map(identities["email"]).astype("str")
    spent = time_spent_metric_seconds(data.metrics, "worker")
    time_spent = frame["worker_key"].map(spent)
    if "worker_id" in frame:
        time_spent = time_spent.fillna(frame["worker_id"].map(spent))
    frame["time_spent_metric_seconds"] = time_spent.astype("float64")
    as_of = data.as_of
    frame["hours_since_last_activity"] = (
        as_of - frame["last_activity"]
    ).dt.total_seconds() / 3600.0
    frame["slow_reason"] = frame["slow_reason"].fillna("")
    frame["slow_flag"] = frame["slow_reason"] != ""
    outcomes_for_rate = frame["tasks_submitted"] + frame["tasks_returned"]
    returning = (outcomes_for_rate >= thresholds.return_min_outcomes) & (
        frame["return_rate"] > thresholds.return_rate
    )
    frame["return_flag"] = returning.to_numpy(dtype=bool)
    frame["return_reason"] = np.where(
        frame["return_flag"],
        "returned "
        + frame["tasks_returned"].astype("str")
        + " of "
        + outcomes_for_rate.astype("str")
        + " submitted or returned tasks ("
        + (frame["return_rate"] * 100).round(0).astype("Int64").astype("str")
        + f"%), above {thresholds.return_rate:.0%}",
        "",
    )
    no_outcome = (frame["tasks_submitted"] + frame["tasks_returned"] + frame["tasks_declined"]) == 0
    stale = frame["hours_since_last_activity"] > thresholds.idle_after_hours
    frame["idle_flag"] = (no_outcome | stale).to_numpy(dtype=bool)
    member_of = frame["workteams"].where(frame["workteams"] != "", "no team known")
    last = frame["last_activity"].dt.strftime("%Y-%m-%d %H:%M UTC")
    stale_text = (
        "last task outcome "
        + last.fillna("")
        + ", "
        + frame["hours_since_last_activity"].round(1).astype("str")
        + f" hours before the window's end {as_of:%Y-%m-%d %H:%M} UTC (more than "
        + f"{thresholds.idle_after_hours:g} h)"
    )
    frame["idle_reason"] = np.where(
        no_outcome,
        "no task outcome in the window (team: " + member_of + ")",
        np.where(stale, stale_text, ""),
    )
    for name in ("return_reason", "idle_reason", "slow_reason", "worker_id", "workteams", "jobs"):
        frame[name] = frame[name].astype("str")
    frame = _add_quality(frame, data, thresholds)
    frame = frame.sort_values(["tasks_submitted", "worker_key"], ascending=[False, True])
    return frame[list(WORKER_COLUMNS)].reset_index(drop=True)


def _add_quality(frame: pd.DataFrame, data: TeamData, thresholds: Thresholds) -> pd.DataFrame:
    """Add ``QUALITY_COLUMNS`` and the quality flag (``quality.worker_quality``), empty for
    workers without responses in the window (and for everyone when no job output was read)."""
    quality = worker_quality(data, thresholds.quality_z, thresholds.quality_min_scored)
    quality = quality.set_index(quality["worker_key"].astype("str"))
    keys = frame["worker_key"].astype("str")
    for name in QUALITY_COLUMNS:
        values = keys.map(quality[name])
        if name in ("responses", "responses_scored", "gold_scored"):
            frame[name] = values.astype("Int64")
        else:
            frame[name] = values.astype("float64")
    reason = keys.map(quality["quality_reason"].astype("object")).astype("object")
    frame["quality_reason"] = pd.array(reason.where(reason.notna(), "").tolist(), dtype="str")
    frame["quality_flag"] = (frame["quality_reason"] != "").to_numpy(dtype=bool)
    return frame
