"""Pieces every page uses: tables whose column headers carry the metric definitions, downloads."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from analytics import (
    DEFINITIONS,
    definitions_csv_bytes,
    escape_controls,
    has_controls,
    help_for,
    pseudonymize_frame,
)
from dashboard.auth import downloaded
from dashboard.sidebar import View

#: Identity columns shown as pseudonyms in privacy mode.
IDENTITY_COLUMNS = ("worker_key", "worker_id", "username", "email", "subject", "top_returner")


def shown(frame: pd.DataFrame, view: View) -> pd.DataFrame:
    """``frame`` as it may be shown: identities pseudonymised in privacy mode, times local, and
    control characters in text written as visible escapes (``escape_controls``)."""
    result = pseudonymize_frame(frame, IDENTITY_COLUMNS) if view.private else frame.copy()
    for name in result.columns:
        column = result[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            result[name] = column.dt.tz_convert(view.timezone)
        elif isinstance(column.dtype, pd.CategoricalDtype):
            # Escaped names may collide with others: shown as plain text, not categories.
            if any(isinstance(c, str) and has_controls(c) for c in column.cat.categories):
                result[name] = _escaped(column.astype("object"))
        elif pd.api.types.is_string_dtype(column.dtype) or column.dtype == object:
            result[name] = _escaped(column)
    return result


def _escaped(column: pd.Series) -> pd.Series:
    """``column`` with each text value's controls escaped; other values (None, numbers) kept."""
    distinct = [v for v in column.dropna().unique() if isinstance(v, str) and has_controls(v)]
    if not distinct:
        return column
    return column.replace({value: escape_controls(value) for value in distinct})


def _column_config(frame: pd.DataFrame) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for name in frame.columns:
        definition = DEFINITIONS.get(name)
        label = definition.label if definition else name.replace("_", " ").capitalize()
        text = help_for(name) or None
        series = frame[name]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            config[name] = st.column_config.DatetimeColumn(label, help=text, format="MMM D, HH:mm")
        elif name.endswith(("_rate", "_share")) or name == "change_ratio":
            config[name] = st.column_config.NumberColumn(label, help=text, format="percent")
        elif pd.api.types.is_bool_dtype(series):
            config[name] = st.column_config.CheckboxColumn(label, help=text)
        elif pd.api.types.is_float_dtype(series):
            # Counts that arrive as floats (sums of metric data points) show no decimals; hours
            # show two, so a three-minute session is not "0.0".
            if definition is not None and definition.unit in ("events", "tasks", "messages"):
                number_format = "%.0f"
            elif name.endswith("_hours"):
                number_format = "%.2f"
            else:
                number_format = "%.1f"
            config[name] = st.column_config.NumberColumn(label, help=text, format=number_format)
        else:
            config[name] = st.column_config.Column(label, help=text)
    return config


def table(frame: pd.DataFrame, view: View, *, key: str, height: int | None = None) -> None:
    """A sortable table; each header's tooltip is the column's definition from docs/metrics.md."""
    display = shown(frame, view)
    st.dataframe(
        display,
        column_config=_column_config(display),
        hide_index=True,
        width="stretch",
        height=height if height is not None else "auto",
        key=key,
    )


def definitions_download(columns: list[str], *, key: str) -> None:
    """A button for the definitions of ``columns`` (the CSV's companion file)."""
    st.download_button(
        "Definitions (CSV)",
        data=definitions_csv_bytes(columns),
        file_name="definitions.csv",
        mime="text/csv",
        key=key,
        on_click=downloaded("definitions.csv"),
        help="What every column of the download means, with its unit.",
    )
