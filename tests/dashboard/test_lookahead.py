"""The look-ahead: a filter change it prepared is served from what it prepared, with the very
numbers the page computes on demand; with its switch off, nothing is computed ahead.

"Computed" is seen where it happens: every call the dashboard makes to the ``analytics``
functions behind the Overview is recorded with the filters of the data it was given.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import analytics
from analytics import Filters, Store, kpis, load_team_data, previous_period, worker_summary
from dashboard import cache, lookahead
from tests.conftest import REPO_ROOT

APP = REPO_ROOT / "dashboard" / "app.py"
#: The ``analytics`` functions behind the Overview's numbers, and where their data's filters are:
#: the ``filters`` of the ``TeamData`` they are given first, or the ``Filters`` argument itself.
OVERVIEW_FUNCTIONS = {
    "load_team_data": None,
    "restrict": 1,
    "worker_summary": 0,
    "backlog_status": 0,
    "alerts": 0,
    "kpis": 0,
    "throughput_series": 0,
    "activity_heatmap": 0,
}


@dataclass(frozen=True)
class Computed:
    function: str
    filters: Filters


def _filters_of(function: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Filters:
    where = OVERVIEW_FUNCTIONS[function]
    if where is None:  # load_team_data(store, filters=None)
        given = args[1] if len(args) > 1 else kwargs.get("filters")
        return given if given is not None else Filters()
    value = args[where]
    return value if isinstance(value, Filters) else value.filters


@pytest.fixture
def computed(
    sample_store_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[Computed]]:
    """The dashboard on an empty store (so: the bundled sample), with empty caches, and every
    Overview computation it makes from now on, on any thread."""
    monkeypatch.setenv("GT_THROUGHPUT_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("GT_THROUGHPUT_SAMPLE_STORE", str(sample_store_root))
    monkeypatch.setenv(lookahead.SWITCH_ENV_VAR, "on")
    st.cache_data.clear()
    st.cache_resource.clear()
    calls: list[Computed] = []
    for name in OVERVIEW_FUNCTIONS:
        real = getattr(analytics, name)

        def counting(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls.append(Computed(_name, _filters_of(_name, args, kwargs)))
            return _real(*args, **kwargs)

        monkeypatch.setattr(analytics, name, counting)
    yield calls
    lookahead.wait_until_idle()  # nothing left computing into the next test's caches


def overview(at: AppTest) -> dict[str, Any]:
    """Everything the Overview shows that comes from numbers: cards, charts, alerts, window."""
    return {
        "caption": [c.value for c in at.caption],
        "metrics": [(m.label, m.value, m.proto.delta) for m in at.metric],
        "charts": [json.loads(c.proto.spec)["data"] for c in at.get("plotly_chart")],
        "html": [h.proto.body for h in at.get("html")],
    }


def shown_filters(at: AppTest) -> Filters:
    filters: Filters = at.session_state["view"].key.to_filters()
    return filters


def open_overview(query: dict[str, str | list[str]]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update({"tz": "UTC", **query})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


CHANGES = {
    # id: (the sidebar widget, its new value, whether the look-ahead prepares that view)
    "30-days": ("filters_range", "30d", True),
    "all-time": ("filters_range", "all", True),
    "24-hours": ("filters_range", "24h", True),
    "one-team": ("filters_teams", ["text-team"], True),
    "one-job-not-looked-ahead": ("filters_jobs", ["street-scenes-bbox-2026-10"], False),
}


@pytest.mark.parametrize(("widget", "value", "prepared"), CHANGES.values(), ids=CHANGES)
def test_a_prepared_filter_change_is_served_from_what_was_prepared(
    computed: list[Computed], widget: str, value: object, prepared: bool
) -> None:
    at = open_overview({})
    lookahead.wait_until_idle()  # the manager reads the page for a while
    before = len(computed)
    if isinstance(value, list):
        at.multiselect(key=widget).set_value(value).run()
    else:
        at.selectbox(key=widget).set_value(value).run()
    assert not at.exception, [e.value for e in at.exception]
    changed_to = shown_filters(at)
    computed_for_it = [c.function for c in computed[before:] if c.filters == changed_to]
    if prepared:
        assert computed_for_it == []
    else:  # the page computes what nothing prepared: proof that computing is seen
        assert {"restrict", "worker_summary", "kpis"} <= set(computed_for_it), computed_for_it
    served = overview(at)
    link = {name: at.query_params[name] for name in at.query_params}

    # The same view opened on a dashboard that computes everything on demand.
    st.cache_data.clear()
    st.cache_resource.clear()
    lookahead.wait_until_idle()
    with pytest.MonkeyPatch.context() as switch:
        switch.setenv(lookahead.SWITCH_ENV_VAR, "off")
        on_demand = open_overview(link)
    assert shown_filters(on_demand) == changed_to
    assert overview(on_demand) == served


def test_looked_ahead_numbers_are_the_analytics_numbers_of_each_view(
    computed: list[Computed], sample_store_root: Path
) -> None:
    at = open_overview({})
    lookahead.wait_until_idle()
    source = at.session_state["source"]
    prepared = {c.filters for c in computed if c.function == "worker_summary"}
    assert len(prepared) > 4  # the page's own view and the ones one change away
    store = Store(sample_store_root)
    for filters in prepared:
        view = cache.FilterKey.of(filters)
        current = load_team_data(store, filters)
        previous = load_team_data(store, previous_period(filters, current.as_of))
        pd.testing.assert_frame_equal(cache.kpi_table(source, view), kpis(current, previous))
        pd.testing.assert_frame_equal(cache.worker_table(source, view), worker_summary(current))


def test_the_start_up_prepares_the_default_overview(computed: list[Computed]) -> None:
    lookahead.start_up()  # as the served dashboard does before it answers
    lookahead.wait_until_idle()
    before = len(computed)
    at = open_overview({})
    assert computed[before:] == []  # the first page, and its sidebar, computed nothing
    assert at.title[0].value == "Team overview"


def test_with_the_switch_off_nothing_is_computed_ahead(
    computed: list[Computed], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(lookahead.SWITCH_ENV_VAR, "off")
    lookahead.start_up()
    assert computed == []  # the served dashboard answers at once, nothing read
    at = open_overview({})
    lookahead.wait_until_idle()
    shown = shown_filters(at)
    assert shown.until is not None
    # The page's own view and the period its KPIs compare with, nothing one change away.
    assert {c.filters for c in computed} == {Filters(), shown, previous_period(shown, shown.until)}
    before = len(computed)
    at.selectbox(key="filters_range").set_value("30d").run()
    assert [c for c in computed[before:] if c.filters == shown_filters(at)] != []


def test_a_view_queued_for_an_older_store_version_is_not_computed(
    computed: list[Computed], sample_store_root: Path
) -> None:
    """A sync between a page and its look-ahead: what was queued for the store before it is
    dropped (nobody asks for that version again, and computing it would evict the new one)."""
    root = str(sample_store_root)
    current = cache.Source(root, True, cache.store_version(sample_store_root), root)
    older = cache.Source(root, True, "1-before-the-last-sync", root)
    view = lookahead.preset_key("7d", cache.as_of(current), cache.FilterKey())
    before = len(computed)
    lookahead._prepare(older, view, lookahead.DEFAULT_TIMEZONE)
    assert computed[before:] == []
    lookahead._prepare(current, view, lookahead.DEFAULT_TIMEZONE)
    assert {"worker_summary", "kpis"} <= {c.function for c in computed[before:]}
