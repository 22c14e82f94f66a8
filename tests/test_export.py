"""CSV exports: format rules, formula neutralisation, pseudonyms, the CLI, the planted sample."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from analytics import metrics
from analytics.cli import main
from analytics.export import (
    DEFAULT_PSEUDONYM_SALT,
    csv_ready,
    neutralize_formula,
    pseudonym,
    pseudonymize_frame,
    tasks_csv_bytes,
    workers_csv_bytes,
)
from analytics.store import Store
from tests.test_metrics import data_of, events_of, line

REPOSITORY = Path(__file__).resolve().parent.parent


FORMULA_CASES = [
    pytest.param("=1+2", "'=1+2", id="equals"),
    pytest.param("+SUM(A1)", "'+SUM(A1)", id="plus"),
    pytest.param("-2+3", "'-2+3", id="minus"),
    pytest.param("@cmd", "'@cmd", id="at"),
    pytest.param("\tx", "'\tx", id="tab"),
    pytest.param("\rx", "'\rx", id="carriage-return"),
    pytest.param("team-a", "team-a", id="plain"),
    pytest.param("", "", id="empty"),
]


@pytest.mark.parametrize(("text", "expected"), FORMULA_CASES)
def test_neutralize_formula(text: str, expected: str) -> None:
    assert neutralize_formula(text) == expected


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
    workers = metrics.worker_summary(data)
    rows = list(csv.DictReader(io.StringIO(workers_csv_bytes(workers).decode("utf-8"))))
    assert list(rows[0]) == list(workers.columns)
    assert {r["worker_key"] for r in rows} == {"'=evil", "w"}
    by_key = {r["worker_key"]: r for r in rows}
    assert by_key["w"]["median_task_seconds"] == "120"
    assert by_key["w"]["last_activity"] == "2026-11-02T10:02:00+00:00"
    hidden = workers_csv_bytes(workers, pseudonymize=True).decode("utf-8")
    assert "evil" not in hidden
    assert "id-w" not in hidden
    tasks = tasks_csv_bytes(metrics.task_table(data), timezone="Asia/Kolkata").decode("utf-8")
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
    assert flagged["slow"] == {w["worker_key"] for w in cast["slow_workers"]}
    assert flagged["return"] == {cast["returner"]["worker_key"]}
    assert flagged["idle"] == {w["worker_key"] for w in cast["never_worked"]}
