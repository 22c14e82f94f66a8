"""CSV exports: format rules, formula neutralisation, pseudonyms, the CLI, the planted sample."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import analytics
from analytics.cli.main import main
from analytics.dataset import team_data_from_tables
from analytics.export.csv_writer import (
    csv_ready,
    definitions_csv_bytes,
    frame_csv_bytes,
    neutralize_formula,
    text_cell,
)
from analytics.export.pseudonyms import DEFAULT_PSEUDONYM_SALT, pseudonym, pseudonymize_frame
from analytics.export.tables import tasks_csv_bytes, workers_csv_bytes
from analytics.ingest.parse import parse_bytes
from analytics.store.store import Store
from analytics.text import has_controls
from tests.conftest import message_line
from tests.support.hostile_identities import HOSTILE_TEXTS, cognito_users, formula_start
from tests.support.team_data import data_of, events_of, line

REPOSITORY = Path(__file__).resolve().parents[2]


FORMULA_CASES = [
    pytest.param("=1+2", "'=1+2", id="equals"),
    pytest.param("+SUM(A1)", "'+SUM(A1)", id="plus"),
    pytest.param("-2+3", "'-2+3", id="minus"),
    pytest.param("@cmd", "'@cmd", id="at"),
    pytest.param("\tx", "'\tx", id="tab"),
    pytest.param("\rx", "'\rx", id="carriage-return"),
    pytest.param(" =1+1", "' =1+1", id="leading-space"),
    pytest.param("\u3000@cmd", "'\u3000@cmd", id="leading-ideographic-space"),
    pytest.param("\uff1d1+1", "'\uff1d1+1", id="full-width-equals"),
    pytest.param("\ufe62SUM(A1)", "'\ufe62SUM(A1)", id="small-plus"),
    pytest.param("-3.2", "'-3.2", id="negative-number-as-text"),
    pytest.param("a=1", "a=1", id="equals-inside"),
    pytest.param("team-a", "team-a", id="plain"),
    pytest.param("", "", id="empty"),
]


@pytest.mark.parametrize(("text", "expected"), FORMULA_CASES)
def test_neutralize_formula(text: str, expected: str) -> None:
    assert neutralize_formula(text) == expected


TEXT_CELL_CASES = [
    pytest.param("\r=1+1", "\\r=1+1", id="carriage-return-escaped-not-a-formula"),
    pytest.param("=1\r\n+2", "'=1\\r\\n+2", id="formula-with-line-break"),
    pytest.param("\t=1", "\\t=1", id="tab-escaped"),
    pytest.param(" \x00=1", " \\x00=1", id="nul-escaped-not-a-formula"),
    pytest.param("=1\x00", "'=1\\x00", id="formula-with-nul"),
    pytest.param("\u202e=1", "\\u202e=1", id="bidi-override"),
    pytest.param("kavya.nair", "kavya.nair", id="plain"),
]


@pytest.mark.parametrize(("text", "expected"), TEXT_CELL_CASES)
def test_text_cell_escapes_controls_then_neutralises(text: str, expected: str) -> None:
    assert text_cell(text) == expected


# --------------------------------------------------------------------------- hostile identities
HOSTILE_TEXT = [pytest.param(text, id=name) for name, text in HOSTILE_TEXTS.items()]


def parsed_csv(payload: bytes, frame: pd.DataFrame) -> list[dict[str, str]]:
    """``payload`` read back by Python's csv module, checked against the export's promises.

    One line and one row per record, every row as wide as the header, no control character in
    any cell, and no cell a spreadsheet would run as a formula, numbers excepted (numeric columns
    hold numbers or nothing).
    """
    assert b"\r" not in payload
    assert payload.count(b"\n") == len(frame) + 1
    rows = list(csv.reader(io.StringIO(payload.decode("utf-8"), newline="")))
    assert len(rows) == len(frame) + 1
    header, *records = rows
    numeric = {
        str(name)
        for name, dtype in frame.dtypes.items()
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    }
    for row in rows:
        assert len(row) == len(header)
    for cell in header:
        assert not has_controls(cell)
        assert not formula_start(cell), cell
    for record in records:
        for name, cell in zip(header, record, strict=True):
            assert not has_controls(cell), (name, cell[:80])
            if name in numeric:
                if cell:
                    float(cell)  # a number, written bare
            else:
                assert not formula_start(cell), (name, cell[:80])
    return [dict(zip(header, record, strict=True)) for record in records]


def hostile_team_data(value: str) -> Any:
    """Team data of a normal worker and one whose IDs, username and email are ``value``."""
    lines = [
        message_line(),
        message_line(
            worker_id=value or "0000aaaa0000bbbb",  # an event needs one identity
            cognito_sub_id=value,
            task_accepted_time="Wed Aug 14 16:02:00 UTC 2019",
            task_submitted_time="Wed Aug 14 16:04:30 UTC 2019",
            event_timestamp="1565798670",
        ),
    ]
    parsed = parse_bytes("\n".join(lines).encode("utf-8"), "hostile.jsonl")
    assert parsed.rejected.num_rows == 0
    keys = set(parsed.events.column("worker_key").to_pylist())
    users = cognito_users(dict.fromkeys(keys, value))
    return team_data_from_tables(parsed.events, tables={"users": users})


@pytest.mark.parametrize("value", HOSTILE_TEXT)
def test_hostile_identities_round_trip_in_workers_and_tasks_csv(value: str) -> None:
    data = hostile_team_data(value)
    workers = analytics.worker_summary(data)
    rows = parsed_csv(workers_csv_bytes(workers), workers)
    for column in ("worker_key", "worker_id", "username", "email"):
        assert [r[column] for r in rows] == [text_cell(str(v)) for v in workers[column]], column
    if value:
        assert text_cell(value) in {r["worker_id"] for r in rows}
        assert text_cell(value) in {r["email"] for r in rows}
    tasks = analytics.task_table(data)
    assert len(tasks) == 2
    task_rows = parsed_csv(tasks_csv_bytes(tasks, timezone="Europe/Berlin"), tasks)
    assert [r["worker_id"] for r in task_rows] == [text_cell(str(v)) for v in tasks["worker_id"]]
    hidden = parsed_csv(workers_csv_bytes(workers, pseudonymize=True), workers)
    assert [r["worker_key"] for r in hidden] == [pseudonym(str(v)) for v in workers["worker_key"]]


@pytest.mark.parametrize("value", HOSTILE_TEXT)
def test_hostile_text_in_any_column_and_header(value: str) -> None:
    frame = pd.DataFrame(
        {
            "name": [value, "plain", None],
            value or "unnamed": [value, value, value],
            "seconds": [-3.2, float("nan"), 1.0],
            "count": [-1, 0, 2],
            "flag": [True, False, True],
        }
    )
    rows = parsed_csv(frame_csv_bytes(frame), frame)
    assert [r["name"] for r in rows] == [text_cell(value), "plain", ""]
    assert [r["seconds"] for r in rows] == ["-3.2", "", "1"]
    assert [r["count"] for r in rows] == ["-1", "0", "2"]
    definitions = definitions_csv_bytes([value, "worker_key"])
    rows = parsed_csv(definitions, pd.DataFrame({"name": [value, "worker_key"]}))
    assert [r["name"] for r in rows] == [text_cell(value), "worker_key"]


def test_one_column_of_empty_cells_keeps_its_rows() -> None:
    frame = pd.DataFrame({"name": ["", None, "x"]})
    assert parsed_csv(frame_csv_bytes(frame), frame)[-1] == {"name": "x"}


def test_rows_keep_their_order_whatever_the_index() -> None:
    frame = pd.DataFrame({"name": ["=a", None, "c"], "n": [1.5, 2.0, -3.0]}, index=[7, 7, 1])
    rows = parsed_csv(frame_csv_bytes(frame), frame)
    assert [(r["name"], r["n"]) for r in rows] == [("'=a", "1.5"), ("", "2"), ("c", "-3")]


CELL_CASES = [
    pytest.param(pd.Series([1.5, None, 1234567.25]), ["1.5", "", "1234567.25"], id="floats-plain"),
    pytest.param(pd.Series([-3.0]), ["-3"], id="negative-number-not-neutralised"),
    pytest.param(pd.Series([True, False]), ["true", "false"], id="booleans"),
    pytest.param(pd.Series([3, 10_000]), ["3", "10000"], id="integers-no-separators"),
    pytest.param(pd.Series([1, None], dtype="Int64"), ["1", ""], id="nullable-integers"),
    pytest.param(pd.Series(["=x", None], dtype="str"), ["'=x", ""], id="text"),
    pytest.param(
        pd.Series(pd.to_datetime(pd.Series(["2026-11-02T23:30:00Z", None], dtype="str"), utc=True)),
        ["2026-11-03T00:30:00+01:00", ""],
        id="times-with-offset",
    ),
]


@pytest.mark.parametrize(("series", "expected"), CELL_CASES)
def test_cells(series: pd.Series, expected: list[str]) -> None:
    frame = pd.DataFrame({"column": series})
    assert csv_ready(frame, "Europe/Berlin")["column"].tolist() == expected


def test_pseudonyms_are_stable_hmacs() -> None:
    frame = pd.DataFrame(
        {"worker_key": ["a", "b", "a"], "email": ["x@y", None, "x@y"], "n": [1, 2, 3]}
    )
    result = pseudonymize_frame(frame)
    assert result["worker_key"].iloc[0] == result["worker_key"].iloc[2] == pseudonym("a")
    assert result["worker_key"].iloc[0] != result["worker_key"].iloc[1]
    assert pd.isna(result["email"].iloc[1])
    assert result["n"].tolist() == [1, 2, 3]
    assert frame["worker_key"].tolist() == ["a", "b", "a"]  # input untouched
    assert pseudonym("a", DEFAULT_PSEUDONYM_SALT) == pseudonym("a")
    assert pseudonym("a", b"other key") != pseudonym("a")
    assert pseudonym("a").startswith("p-")
    assert len(pseudonym("a")) == 18


def test_workers_and_tasks_csv() -> None:
    data = data_of(line("=evil", "10:00", "10:01"), line("w", "10:00", "10:02"))
    workers = analytics.worker_summary(data)
    rows = list(csv.DictReader(io.StringIO(workers_csv_bytes(workers).decode("utf-8"))))
    assert list(rows[0]) == list(workers.columns)
    assert {r["worker_key"] for r in rows} == {"'=evil", "w"}
    by_key = {r["worker_key"]: r for r in rows}
    assert by_key["w"]["median_task_seconds"] == "120"
    assert by_key["w"]["last_activity"] == "2026-11-02T10:02:00+00:00"
    hidden = workers_csv_bytes(workers, pseudonymize=True).decode("utf-8")
    assert "evil" not in hidden
    assert "id-w" not in hidden
    tasks = tasks_csv_bytes(analytics.task_table(data), timezone="Asia/Kolkata").decode("utf-8")
    assert "2026-11-02T15:30:00+05:30" in tasks


def test_cli_export_writes_csv_and_definitions(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    store.add_events(
        events_of(line("w", "10:00", "10:01"), line("v", "10:00", "10:03", day="2026-11-03"))
    )
    out = tmp_path / "out" / "workers.csv"
    code = main(
        ["export", "workers", "--data", str(store.root), "--out", str(out), "--since", "2026-11-03",
         "--timezone", "Europe/Berlin", "--pseudonymize"]
    )  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["tasks_submitted"] for r in rows] == ["1"]
    assert rows[0]["worker_key"].startswith("p-")
    definitions = list(
        csv.DictReader(
            io.StringIO((tmp_path / "out" / "workers.definitions.csv").read_text(encoding="utf-8"))
        )
    )
    assert [d["name"] for d in definitions] == list(rows[0])
    assert all(d["definition"] for d in definitions)
    tasks = tmp_path / "tasks.csv"
    assert (
        main(["export", "tasks", "--data", str(store.root), "--out", str(tasks), "--worker", "w"])
        == 0
    )
    assert len(list(csv.DictReader(io.StringIO(tasks.read_text(encoding="utf-8"))))) == 1


CLI_ERROR_CASES = [
    pytest.param([], "is empty: run gt-throughput ingest or sync first", id="empty-store"),
    pytest.param(["--since", "yesterday-ish"], "--since must be an ISO 8601", id="bad-since"),
    pytest.param(["--timezone", "Mars/Olympus"], "--timezone must be an IANA", id="bad-zone"),
]


@pytest.mark.parametrize(("extra", "message"), CLI_ERROR_CASES)
def test_cli_export_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code = main(
        [
            "export",
            "workers",
            "--data",
            str(tmp_path / "none"),
            "--out",
            str(tmp_path / "x.csv"),
            *extra,
        ]
    )
    assert code == 2
    assert message in capsys.readouterr().err


def test_export_flags_exactly_the_planted_workers(tmp_path: Path) -> None:
    sample = pytest.importorskip("analytics.sample")
    planted = json.loads((REPOSITORY / "sample_logs" / "planted.json").read_text(encoding="utf-8"))
    store = sample.build_sample_store(tmp_path / "sample")
    out = tmp_path / "workers.csv"
    assert main(["export", "workers", "--data", str(store.root), "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    flagged = {
        kind: {r["worker_key"] for r in rows if r[f"{kind}_flag"] == "true"}
        for kind in ("slow", "return", "idle")
    }
    cast = planted["cast"]
    slow = {w["worker_key"] for w in cast["slow_workers"]}
    if "median_active_seconds" not in rows[0]:
        # Until the slow flag uses active time (issue 11, fair slow flags), the pause worker
        # looks slow on wall clock, as planted.
        slow.add(cast["pause_worker"]["worker_key"])
    assert flagged["slow"] == slow
    assert flagged["return"] == {cast["returner"]["worker_key"]}
    assert flagged["idle"] == {w["worker_key"] for w in cast["never_worked"]}
