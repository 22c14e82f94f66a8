"""Compile the Numba code ahead: ``python -m analytics.warm``, run by ``make install``.

The line scanner (``analytics.ingest.fast_scan``, with ``analytics.store.xxh3``) and the metrics'
kernels (``analytics.metrics.kernels``) are compiled on first use and cached in ``__pycache__``:
10 to 25 seconds the first time, a fraction of a second after. Run once at install, on the bundled
sample through the very functions a user calls, so that neither the first dashboard page nor the
first large ingest waits for a compile. Every kernel gets one version only
(``kernels.read_only``), so these calls compile all there is.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

#: The compiled scanner reads chunks of at least ``parse.FAST_PATH_MIN_BYTES`` (1 MiB).
_SCANNED_BYTES = 1 << 21


def warm(folder: Path) -> None:
    """Build the sample store in ``folder``, ingest 2 MiB of its lines again, and compute every
    table whose code is compiled (the worker table, sessions, job and team tables, timesheet)."""
    from analytics.dataset import load_team_data
    from analytics.ingest.run import ingest_paths
    from analytics.metrics.jobs_teams import job_summary, team_summary
    from analytics.metrics.sessions import worker_sessions
    from analytics.metrics.timesheet import timesheet
    from analytics.metrics.workers import worker_summary
    from analytics.sample import SAMPLE_LOGS_DIR, build_sample_store

    store = build_sample_store(folder / "store")
    lines = (SAMPLE_LOGS_DIR / "logs" / "worker-activity-2026-10-26.jsonl").read_bytes()
    repeated = folder / "repeated.jsonl"
    repeated.write_bytes(lines * (_SCANNED_BYTES // len(lines) + 1))
    ingest_paths(store, [repeated])
    data = load_team_data(store)
    worker_summary(data)
    worker_sessions(data)
    job_summary(data)
    team_summary(data)
    timesheet(data)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="gt-throughput-warm-") as folder:
        warm(Path(folder))
    print("compiled code ready (Numba's cache in __pycache__)")


if __name__ == "__main__":
    main()
