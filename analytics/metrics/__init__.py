"""The numbers managers staff and coach on, one module per question.

Every function is pure: it takes a ``TeamData`` (``analytics.dataset``) and settings, and returns
a new frame, never modifying its input. Each output column is defined once in ``definitions``.
The public functions are exported by ``analytics`` itself; this package exports nothing.

==================  ==============================================================================
Module              Question it answers
==================  ==============================================================================
``outcomes``        Which events are tasks (outcomes), how long each took; the per-task table.
``workers``         How is each worker doing? The worker table and its slow, return and idle
                    flags (``Thresholds``).
``jobs_teams``      How is each labeling job and each work team doing? Their tables.
``kpis``            The headline numbers against the previous period.
``alerts``          What should a manager look at first?
``throughput``      Tasks over time, by hour and weekday; task-time distributions (charts).
``sessions``        When does a worker work? Active and idle time, working sessions.
``returns``         Who returns tasks, on which jobs, after how long?
``health``          Can the numbers be trusted? Log against metrics, skew, rejects, gaps.
``backlog``         When will a streaming job's queue clear, and what is at risk?
``definitions``     What does each column mean? (Generates ``docs/metrics.md``.)
``grouping``        How the above group 10 million tasks fast: the NumPy group-by kit.
==================  ==============================================================================
"""
