"""Charts: pure functions from ``analytics`` frames to plotly figures.

Every axis says its unit, and an outcome has one colour everywhere (colour-blind safe, from the
Okabe-Ito palette): submitted blue, returned orange, declined purple. Plotly draws ``<b>``,
``<a href>`` and ``<br>`` in names and labels: every name from data (team, job, worker) goes
through ``literal`` and no data goes into a hover template, whose ``%{...}`` it would expand.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.literal import literal

OUTCOME_COLORS = {
    "submitted": "#0072B2",
    "returned": "#E69F00",
    "declined": "#CC79A7",
}
OUTCOME_LABELS = {"submitted": "Submitted", "returned": "Returned", "declined": "Declined"}
#: Colours for series that are not outcomes (teams, jobs, workers), in order.
SERIES_COLORS = ["#0072B2", "#009E73", "#D55E00", "#56B4E9", "#F0E442", "#000000", "#999999"]
_FONT = "Source Sans Pro, sans-serif"


def _layout(figure: go.Figure, *, x_title: str, y_title: str, height: int = 340) -> go.Figure:
    figure.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        font={"family": _FONT, "size": 13},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": None},
        plot_bgcolor="white",
        hovermode="x unified",
    )
    figure.update_xaxes(title_text=x_title, showgrid=False, linecolor="#ccc", automargin=True)
    figure.update_yaxes(title_text=y_title, gridcolor="#eee", zeroline=False, automargin=True)
    return figure


def _literal_values(values: pd.Series) -> pd.Series:
    """``values`` as plotly category labels: each distinct name escaped once, not once a row."""
    text = values.astype("str")
    distinct = text.unique()
    return text.map(dict(zip(distinct, map(literal, distinct), strict=True)))


def _period_word(freq: str) -> str:
    return "hour" if freq == "h" else "day"


def outcomes_over_time(series: pd.DataFrame, freq: str, tz: str) -> go.Figure:
    """Stacked bars of outcomes per period (``throughput_series`` rows, any grouping)."""
    totals = series.groupby(["period_start", "outcome"], as_index=False, observed=True)[
        "tasks"
    ].sum()
    figure = go.Figure()
    for outcome, color in OUTCOME_COLORS.items():
        rows = totals[totals["outcome"] == outcome]
        figure.add_bar(
            x=rows["period_start"],
            y=rows["tasks"],
            name=OUTCOME_LABELS[outcome],
            marker_color=color,
            hovertemplate="%{y:,} tasks<extra>" + OUTCOME_LABELS[outcome] + "</extra>",
        )
    figure.update_layout(barmode="stack")
    return _layout(figure, x_title=f"Time ({tz})", y_title=f"Tasks per {_period_word(freq)}")


def submitted_by_group(series: pd.DataFrame, freq: str, tz: str, group_label: str) -> go.Figure:
    """One line per team, job or worker: tasks submitted per period."""
    submitted = series[series["outcome"] == "submitted"]
    figure = go.Figure()
    for index, (group, rows) in enumerate(submitted.groupby("group", observed=True, sort=True)):
        figure.add_scatter(
            x=rows["period_start"],
            y=rows["tasks"],
            mode="lines+markers",
            name=literal(group),
            line={"color": SERIES_COLORS[index % len(SERIES_COLORS)], "width": 2},
            marker={"size": 5},
            hovertemplate="%{y:,} submitted<extra>%{fullData.name}</extra>",
        )
    return _layout(
        figure,
        x_title=f"Time ({tz})",
        y_title=f"Tasks submitted per {_period_word(freq)} by {group_label}",
    )


def activity_heatmap(heatmap: pd.DataFrame, tz: str) -> go.Figure:
    """Outcomes by weekday (rows) and hour of day (columns) in the viewer's time zone."""
    ordered = heatmap.sort_values(["weekday", "hour"])
    days = ordered.drop_duplicates("weekday").sort_values("weekday")["weekday_name"].tolist()
    grid = ordered.pivot(index="weekday_name", columns="hour", values="outcomes").reindex(days)
    figure = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=[f"{hour:02d}:00" for hour in grid.columns],
            y=days,
            colorscale="Blues",
            colorbar={"title": {"text": "Tasks"}},
            hovertemplate="%{y} %{x}: %{z:,} tasks<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(tickangle=0, nticks=12)
    _layout(figure, x_title=f"Hour of day ({tz})", y_title="Weekday", height=300)
    figure.update_layout(hovermode="closest")
    return figure


def task_time_boxes(quantiles: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    """Box per worker from precomputed quantiles: box p25–p75, line median, whiskers p10–p90."""
    rows = quantiles.sort_values("median_seconds")
    names = [literal(labels.get(str(group), group)) for group in rows["group"]]
    figure = go.Figure(
        go.Box(
            x=names,
            q1=rows["p25_seconds"],
            median=rows["median_seconds"],
            q3=rows["p75_seconds"],
            lowerfence=rows["p10_seconds"],
            upperfence=rows["p90_seconds"],
            mean=rows["mean_seconds"],
            marker_color=OUTCOME_COLORS["submitted"],
            name="Task time",
            hoverinfo="y",
        )
    )
    figure.update_layout(showlegend=False)
    _layout(figure, x_title="Worker", y_title="Task time (seconds, wall clock)", height=380)
    figure.update_layout(hovermode="closest")
    return figure


def worker_timeline(tasks: pd.DataFrame, tz: str) -> go.Figure:
    """Each task as a bar from accepted to outcome time, coloured by outcome."""
    figure = go.Figure()
    for outcome, color in OUTCOME_COLORS.items():
        rows = tasks[(tasks["outcome"] == outcome) & tasks["task_accepted_time"].notna()]
        if rows.empty:
            continue
        start = rows["task_accepted_time"].dt.tz_convert(tz)
        end = rows["outcome_time"].dt.tz_convert(tz)
        duration_ms = (end - start).dt.total_seconds() * 1000
        seconds = (duration_ms / 1000).round(1)
        label = OUTCOME_LABELS[outcome]
        jobs = _literal_values(rows["labeling_job_name"])
        figure.add_bar(
            base=start,
            x=duration_ms.clip(lower=1000),
            y=jobs,
            orientation="h",
            name=label,
            marker_color=color,
            customdata=seconds,
            hovertemplate="%{base|%b %d %H:%M:%S} · %{customdata} s<extra>" + label + "</extra>",
        )
        # Short tasks over several days are hairlines: a marker at each outcome keeps them seen.
        figure.add_scatter(
            x=end,
            y=jobs,
            mode="markers",
            marker={"color": color, "size": 8, "line": {"color": "white", "width": 1}},
            name=label,
            showlegend=False,
            customdata=seconds,
            hovertemplate="%{x|%b %d %H:%M:%S} · %{customdata} s<extra>" + label + "</extra>",
        )
    figure.update_layout(barmode="overlay")
    figure.update_xaxes(type="date")
    _layout(figure, x_title=f"Time ({tz})", y_title="Labeling job", height=320)
    figure.update_layout(hovermode="closest")
    return figure


def distribution_against_job(
    worker_histogram: pd.DataFrame, job_histogram: pd.DataFrame, worker_label: str
) -> go.Figure:
    """The worker's task-time histogram against the job's, as shares of tasks.

    Bins may be of unequal width (log-spaced), so they are drawn as ordered categories labelled
    with their bounds, side by side, from the first to the last bin that holds a task.
    """
    bins = job_histogram[["bin_start_seconds", "bin_end_seconds"]].drop_duplicates()
    bins = bins.sort_values("bin_start_seconds")
    used = pd.concat([job_histogram, worker_histogram])
    used = used[used["tasks"] > 0]
    if not used.empty:
        low, high = used["bin_start_seconds"].min(), used["bin_start_seconds"].max()
        bins = bins[(bins["bin_start_seconds"] >= low) & (bins["bin_start_seconds"] <= high)]
    labels = [f"{start:g}–{end:g}" for start, end in bins.itertuples(index=False)]
    figure = go.Figure()
    for rows, name, color in (
        (job_histogram, "All workers on the job", "#999999"),
        (worker_histogram, literal(worker_label), OUTCOME_COLORS["submitted"]),
    ):
        counts = bins.merge(rows, how="left", on=["bin_start_seconds", "bin_end_seconds"])
        tasks = counts["tasks"].fillna(0)
        total = rows["tasks"].sum()
        figure.add_bar(
            x=labels,
            y=tasks / total * 100 if total else tasks,
            name=name,
            marker_color=color,
            hovertemplate="%{x} s: %{y:.1f}% of tasks<extra>%{fullData.name}</extra>",
        )
    figure.update_layout(barmode="group", bargap=0.15)
    _layout(figure, x_title="Task time (seconds, wall clock)", y_title="Share of tasks (%)")
    figure.update_layout(hovermode="closest")
    return figure


def backlog_history(history: pd.DataFrame, tz: str) -> go.Figure:
    """Queued and in-flight objects of a streaming job's queue over time."""
    rows = history.sort_values("observed_at")
    observed = rows["observed_at"].dt.tz_convert(tz)
    figure = go.Figure()
    figure.add_scatter(
        x=observed,
        y=rows["messages_visible"],
        name="Waiting in queue",
        mode="lines+markers",
        line={"color": SERIES_COLORS[1], "width": 2},
    )
    figure.add_scatter(
        x=observed,
        y=rows["messages_in_flight"],
        name="Held by workers (in flight)",
        mode="lines+markers",
        line={"color": "#999999", "width": 2},
    )
    return _layout(figure, x_title=f"Time ({tz})", y_title="Objects (count)")


def active_workers(series: pd.DataFrame, freq: str, tz: str) -> go.Figure:
    """Workers with at least one outcome per period."""
    figure = go.Figure(
        go.Scatter(
            x=series["period_start"],
            y=series["active_workers"],
            mode="lines+markers",
            line={"color": SERIES_COLORS[1], "width": 2},
            name="Active workers",
        )
    )
    return _layout(
        figure, x_title=f"Time ({tz})", y_title=f"Active workers per {_period_word(freq)}"
    )


#: One colour per quadrant of speed against agreement (``quality.QUADRANTS`` order).
QUADRANT_COLORS = ("#009E73", "#0072B2", "#D55E00", "#CC79A7")


def speed_against_agreement(
    pairs: pd.DataFrame, labels: dict[str, str], quadrants: tuple[str, ...]
) -> go.Figure:
    """Workers of one job: median active seconds against agreement rate, point size =
    responses, coloured by quadrant (``worker_job_quality`` rows), the job's medians as lines
    and the four quadrants named in their corners. ``labels`` names every worker shown."""
    figure = go.Figure()
    known = pairs.dropna(subset=["median_active_seconds", "agreement_rate"])
    largest = float(known["responses"].max()) if len(known) else 1.0
    for quadrant, color in zip(quadrants, QUADRANT_COLORS, strict=True):
        rows = known[known["quadrant"].astype("str") == quadrant]
        if rows.empty:
            continue
        names = [literal(labels[str(k)]) for k in rows["worker_key"]]
        figure.add_scatter(
            x=rows["median_active_seconds"],
            y=rows["agreement_rate"],
            mode="markers",
            name=literal(quadrant),
            marker={
                "color": color,
                "size": rows["responses"].astype("float64"),
                "sizemode": "area",
                "sizeref": 2.0 * largest / 40.0**2,
                "sizemin": 5,
                "line": {"width": 1, "color": "white"},
            },
            text=names,
            customdata=rows["responses"],
            hovertemplate="%{text}: %{x:,.1f} s, agreement %{y:.0%}, %{customdata:,} responses"
            "<extra></extra>",
        )
    if len(known):
        speed, agreement = (
            float(known["median_active_seconds"].median()),
            float(known["agreement_rate"].median()),
        )
        figure.add_vline(x=speed, line={"dash": "dot", "color": "#999"})
        figure.add_hline(y=agreement, line={"dash": "dot", "color": "#999"})
        corners = (("left", "top"), ("right", "top"), ("left", "bottom"), ("right", "bottom"))
        for quadrant, (x_side, y_side) in zip(quadrants, corners, strict=True):
            figure.add_annotation(
                text=literal(quadrant),
                xref="paper",
                yref="paper",
                x=0.01 if x_side == "left" else 0.99,
                y=0.99 if y_side == "top" else 0.01,
                xanchor=x_side,
                yanchor=y_side,
                showarrow=False,
                font={"color": "#666", "size": 12},
            )
    figure = _layout(
        figure,
        x_title="Median active seconds per response (pauses excluded)",
        y_title="Agreement rate",
        height=420,
    )
    figure.update_layout(hovermode="closest")
    figure.update_yaxes(tickformat=".0%")
    return figure


def active_against_wall(jobs: pd.DataFrame) -> go.Figure:
    """Per job, median wall-clock task seconds (log) beside median active seconds (responses)."""
    names = _literal_values(jobs["labeling_job_name"])
    figure = go.Figure()
    figure.add_bar(
        x=names,
        y=jobs["median_task_seconds"],
        name="Wall clock (log, pauses included)",
        marker_color="#999999",
        hovertemplate="%{y:,.1f} s<extra>wall clock</extra>",
    )
    figure.add_bar(
        x=names,
        y=jobs["median_active_seconds"],
        name="Active (responses, pauses excluded)",
        marker_color="#0072B2",
        hovertemplate="%{y:,.1f} s<extra>active</extra>",
    )
    figure.update_layout(barmode="group")
    return _layout(figure, x_title="Labeling job", y_title="Median seconds per task")
