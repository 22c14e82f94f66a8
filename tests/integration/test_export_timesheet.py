"""``gt-throughput export timesheet`` as a user runs it: the columns, the definitions beside the
CSV, local days and times, the days summing to ``export workers``, pseudonyms, clean refusals."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from analytics.metrics.timesheet import TIMESHEET_COLUMNS
from analytics.store.store import Store
from tests.faults.support import assert_clean_error, run_cli

WINDOW = ("--since", "2026-10-20", "--until", "2026-11-10")


def _export(root: Path, what: str, out: Path, *extra: str) -> pd.DataFrame:
    completed = run_cli("export", what, "--data", root, "--out", out, *WINDOW, *extra)
    assert completed.returncode == 0, completed.stderr
    return pd.read_csv(out, dtype=str, keep_default_na=False)


def test_the_csv_has_the_columns_local_days_and_its_definitions(
    sample_store_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "timesheet.csv"
    sheet = _export(sample_store_root, "timesheet", out, "--timezone", "America/New_York")
    assert list(sheet.columns) == list(TIMESHEET_COLUMNS)
    assert len(sheet) > 0
    definitions = pd.read_csv(tmp_path / "timesheet.definitions.csv", dtype=str)
    assert definitions["name"].tolist() == list(TIMESHEET_COLUMNS)
    assert definitions["definition"].str.len().min() > 20
    # Times are written in the zone the days were cut in, and each lies on its row's date.
    times = sheet[sheet["first_activity"] != ""]
    assert times["first_activity"].str.endswith(("-04:00", "-05:00")).all()
    assert (times["first_activity"].str[:10] == times["date"]).all()
    assert (times["last_activity"].str[:10] == times["date"]).all()


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param((), id="all-teams"),
        pytest.param(("--timezone", "Asia/Kolkata"), id="kolkata"),
    ],
)
def test_the_days_sum_to_export_workers(
    sample_store_root: Path, tmp_path: Path, extra: tuple[str, ...]
) -> None:
    sheet = _export(sample_store_root, "timesheet", tmp_path / "t.csv", *extra)
    workers = _export(sample_store_root, "workers", tmp_path / "w.csv", *extra)
    summed = (
        sheet.astype({"active_hours": float, "session_hours": float, "tasks_submitted": int})
        .groupby("worker_key")[["active_hours", "session_hours", "tasks_submitted"]]
        .sum()
    )
    table = workers.set_index("worker_key").reindex(summed.index)
    for column in ("active_hours", "session_hours"):
        # Six decimals per cell: a day's rounding is at most 5e-7 hours.
        assert (summed[column] - table[column].astype(float)).abs().max() < 1e-4, column
    assert (summed["tasks_submitted"] == table["tasks_submitted"].astype(int)).all()


def test_team_selects_the_teams_workers(sample_store_root: Path, tmp_path: Path) -> None:
    teams = Store(sample_store_root).read_table("workteams")["workteam_name"].to_pylist()
    team = sorted(str(name) for name in teams)[0]
    sheet = _export(sample_store_root, "timesheet", tmp_path / "t.csv", "--team", team)
    workers = _export(sample_store_root, "workers", tmp_path / "w.csv", "--team", team)
    everyone = _export(sample_store_root, "timesheet", tmp_path / "all.csv")
    assert 0 < len(sheet) < len(everyone)
    assert (
        sheet["tasks_submitted"].astype(int).sum() == workers["tasks_submitted"].astype(int).sum()
    )


def test_pseudonymize_leaves_no_identity(sample_store_root: Path, tmp_path: Path) -> None:
    plain = _export(sample_store_root, "timesheet", tmp_path / "plain.csv")
    out = tmp_path / "p.csv"
    _export(sample_store_root, "timesheet", out, "--pseudonymize")
    written = out.read_text(encoding="utf-8")
    store = Store(sample_store_root)
    identities = set()
    for column in ("worker_key", "worker_id", "username", "email"):
        identities |= set(plain[column])
    users = store.read_table("users").to_pandas()
    identities |= set(users["sub"].dropna()) | set(users["username"].dropna())
    identities |= set(users["email"].dropna())
    responses = store.read_table("responses").to_pandas()
    identities |= set(responses["sub"].dropna()) | set(responses["worker_id"].dropna())
    identities.discard("")
    assert len(identities) > 10
    leaked = sorted(value for value in identities if value in written)
    assert leaked == []
    pseudonymous = pd.read_csv(io.StringIO(written), dtype=str, keep_default_na=False)
    assert pseudonymous["worker_key"].str.startswith("p-").all()
    assert len(pseudonymous) == len(plain)


@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        pytest.param(("--timezone", "Mars/Olympus"), ("--timezone", "Mars/Olympus"), id="zone"),
        pytest.param(("--timezone", ""), ("--timezone", "IANA"), id="empty-zone"),
        pytest.param(("--engine", "spark"), ("--engine spark", "timesheet"), id="spark"),
    ],
)
def test_refusals_are_one_clear_line(
    sample_store_root: Path, tmp_path: Path, extra: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    out = tmp_path / "t.csv"
    completed = run_cli("export", "timesheet", "--data", sample_store_root, "--out", out, *extra)
    assert_clean_error(completed, *needles)
    assert not out.exists()
