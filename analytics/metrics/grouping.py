"""The NumPy group-by kit every metric uses: integer codes, group bounds, sums, quantiles.

The helpers work on NumPy arrays of integer codes rather than on pandas groupbys: 10 million
events must summarise in well under a second on two cores (see ``bench/bench_metrics.py``). A
*group* is a run ``values[bounds[g]:bounds[g + 1]]`` of values put together by ``stable_order``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.metrics.kernels import read_only, slice_quantiles


def codes_of(series: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (``-1`` for missing) and the distinct values, without copying categories.

    Codes are ``int32``: half the memory of ``int64`` on 10 million events, and wide enough that
    ``code * small number`` cannot overflow (pandas' own codes may be ``int8``); pair codes are
    built in ``int64`` (see ``pair_codes``).
    """
    codes, names = category_codes(series)
    return codes.astype(np.int32), names


def category_codes(series: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Like ``codes_of`` but in pandas' own code type (``int8`` to ``int32``), without a copy.

    For lookups and comparisons only: arithmetic on ``int8`` codes would overflow silently.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(), pd.Index(series.cat.categories)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return np.asarray(codes), pd.Index(uniques)


def pair_codes(first: np.ndarray, second: np.ndarray, n_second: int) -> np.ndarray:
    """``first * n_second + second`` in ``int64``: no overflow, and what ``np.bincount`` uses."""
    product = first.astype(np.int64)
    product *= n_second
    product += second
    return product


def group_order(codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """A stable order that puts equal codes together, and each group's start offsets.

    Stable, so rows keep their input order inside a group. Codes must be in ``[0, n_groups)``.
    Returns ``(order, bounds)`` with ``bounds`` of length ``n_groups + 1``.
    """
    order = stable_order(codes).to_numpy().view(np.int64)
    return order, group_bounds(codes, n_groups)


def stable_order(codes: np.ndarray) -> pa.Array:
    """Positions that sort ``codes`` stably, as an Arrow array (for ``take``).

    Arrow sorts integers of a small range with one counting-sort pass (stable, documented):
    about four times faster than NumPy's stable radix argsort on 10 million codes.
    """
    return pc.array_sort_indices(pa.array(codes))


def group_bounds(codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Start offsets of each code's rows once sorted by code (length ``n_groups + 1``)."""
    bounds = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(codes, minlength=n_groups), out=bounds[1:])
    return bounds


def gather(values: np.ndarray, indices: pa.Array) -> np.ndarray:
    """``values[indices]`` through Arrow's ``take``.

    On 10 million scattered positions (grouping time-ordered tasks by worker) Arrow's gather is
    about a third faster than NumPy's fancy indexing. NaN stays NaN (no nulls are made), and the
    result is a NumPy array.
    """
    taken: np.ndarray = pc.take(pa.array(values), indices).to_numpy()
    return taken


def group_sums(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Exact ``int64`` sum of each ``values[bounds[i]:bounds[i + 1]]`` (integers or booleans)."""
    sizes = np.diff(bounds)
    sums = np.zeros(len(sizes), dtype=np.int64)
    nonempty = sizes > 0
    if len(values):
        # ``reduceat`` sums from each start to the next start: with empty groups left out, the
        # next start is exactly this group's end.
        sums[nonempty] = np.add.reduceat(values, bounds[:-1][nonempty], dtype=np.int64)
    return sums


def sliced_quantiles(
    values: np.ndarray,
    bounds: np.ndarray,
    quantiles: Sequence[float],
    only: np.ndarray | None = None,
) -> np.ndarray:
    """Quantiles (linear interpolation, NumPy's default) of each ``values[bounds[i]:bounds[i+1]]``.

    ``values`` must hold no NaN. Returns an array of shape ``(len(bounds) - 1, len(quantiles))``,
    NaN for empty slices (and for slices not in ``only``, the slice numbers to compute, when
    given). One ``np.partition`` per slice, in a compiled loop (``kernels.slice_quantiles``, the
    rule): linear in the number of values, and a hundred thousand slices cost little more than
    their values.
    """
    n_groups = len(bounds) - 1
    out = np.full((n_groups, len(quantiles)), np.nan)
    sizes = np.diff(bounds)
    groups = np.flatnonzero(sizes) if only is None else only[sizes[only] > 0]
    if len(groups):
        # Big arrays are made by NumPy, not in the kernel: NumPy asks for huge pages, and Numba's
        # own allocations cost a page fault every 4 kB (five times slower to fill).
        scratch = np.empty(int(sizes[groups].max()), dtype=np.float64)
        out[groups] = slice_quantiles(
            read_only(values, np.float64),
            read_only(bounds, np.int64),
            read_only(groups, np.int64),
            read_only(np.asarray(quantiles), np.float64),
            scratch,
        )
    return out


def grouped_quantiles(
    codes: np.ndarray, values: np.ndarray, n_groups: int, quantiles: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Per-group quantiles of ``values`` ignoring NaN and codes ``-1``; also the group counts."""
    keep = (codes >= 0) & ~np.isnan(values)
    kept_codes = codes[keep]
    order, bounds = group_order(kept_codes, n_groups)
    result = sliced_quantiles(values[keep][order], bounds, quantiles)
    return result, np.diff(bounds)


def join_names(
    pair_first: np.ndarray, pair_second: np.ndarray, names: pd.Index, n_first: int
) -> list[str]:
    """For each ``first`` code, the sorted distinct ``names[second]`` joined by ``", "``."""
    keep = (pair_first >= 0) & (pair_second >= 0)
    first, second = pair_first, pair_second
    if not bool(keep.all()):
        first, second = pair_first[keep], pair_second[keep]
    n_second = max(len(names), 1)
    if n_first * n_second <= 50_000_000:
        present = np.bincount(pair_codes(first, second, n_second), minlength=n_first * n_second)
        first_u, second_u = np.divmod(np.flatnonzero(present), n_second)
    else:
        unique = pd.unique(pair_codes(first, second, n_second))
        first_u, second_u = np.divmod(np.sort(unique), n_second)
    labels: list[str] = (
        list(np.asarray(names.astype("str"), dtype=object)[second_u]) if len(second_u) else []
    )
    result: list[list[str]] = [[] for _ in range(n_first)]
    for f, label in zip(first_u.tolist(), list(labels), strict=True):
        result[f].append(label)
    return [", ".join(sorted(items)) for items in result]


#: Scale of the median absolute deviation to the standard deviation of a normal distribution.
MAD_SCALE = 0.6745
#: When MAD is 0 (over half of the group's values are equal), the modified z-score uses the mean
#: absolute deviation instead: ``(x - median) / (1.253314 * MeanAD)`` (IBM SPSS Statistics'
#: definition; 1.253314 = sqrt(pi / 2) makes MeanAD estimate the standard deviation).
MEAN_AD_SCALE = 1.253314


def modified_z_by_group(values: pd.Series, groups: pd.Series) -> pd.DataFrame:
    """The robust z-score of each value among the values of its group: THE rule of every flag.

    ``modified_z = 0.6745 * (x - median) / MAD`` over the group's values; when MAD is 0,
    ``(x - median) / (1.253314 * MeanAD)``; when both are 0 (everyone equal), 0. The slow flag
    (median task seconds of a job's workers) and the quality flag (agreement rates of a job's
    workers) both use it.

    Returns
    -------
    pandas.DataFrame
        Aligned with ``values``: ``group_median``, ``group_mad``, ``group_mean_ad``,
        ``group_size`` (values compared) and ``modified_z``.
    """
    by_group = values.groupby(groups, sort=False)
    median = by_group.transform("median")
    difference = values - median
    deviation = difference.abs()
    mad = deviation.groupby(groups, sort=False).transform("median")
    mean_ad = deviation.groupby(groups, sort=False).transform("mean")
    z_mad = MAD_SCALE * difference / mad.where(mad > 0)
    z_mean = difference / (MEAN_AD_SCALE * mean_ad.where(mean_ad > 0))
    z = z_mad.where(mad > 0, z_mean.where(mean_ad > 0, 0.0))
    return pd.DataFrame(
        {
            "group_median": median,
            "group_mad": mad,
            "group_mean_ad": mean_ad,
            "group_size": by_group.transform("size"),
            "modified_z": z.fillna(0.0),
        },
        index=values.index,
    )
