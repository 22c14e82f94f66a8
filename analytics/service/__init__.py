"""The service: ``gt-throughput serve`` keeps the store fresh and serves the dashboard.

- ``config``: the TOML configuration file (``gt-throughput.example.toml`` shows every key).
- ``lock``: the cross-process sync lock (one sync per store at a time, across processes).
- ``schedule``: the sync schedule with its back-off, and what it records in the store state.
- ``freshness``: how fresh the store is (pure functions over the store state), for the
  dashboard's "data as of" line, its warnings, the Data page and ``gt-throughput status``.
- ``run``: the ``serve`` process itself: the schedule in this process, the dashboard in a child.
"""
