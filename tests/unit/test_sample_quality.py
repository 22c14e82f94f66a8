"""The sample team's planted cast, through `gt-throughput export workers` (issue 11): the careless
worker is flagged for low agreement and nobody else; the pause worker, slow on the wall clock
only, is not flagged slow; the planted slow workers still are."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from analytics.cli.main import main
from analytics.sample import build_sample_store

REPOSITORY = Path(__file__).resolve().parents[2]
PLANTED = json.loads((REPOSITORY / "sample_logs" / "planted.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    if "careless_worker" not in PLANTED["cast"]:
        pytest.skip("the sample has no worker responses yet (issue 11's sample data)")
    tmp = tmp_path_factory.mktemp("sample")
    store = build_sample_store(tmp / "sample")
    out = tmp / "workers.csv"
    assert main(["export", "workers", "--data", str(store.root), "--out", str(out)]) == 0
    return list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))


def flagged(rows: list[dict[str, str]], kind: str) -> set[str]:
    return {r["worker_key"] for r in rows if r[f"{kind}_flag"] == "true"}


def test_only_the_careless_worker_is_flagged_for_agreement(exported: list[dict[str, str]]) -> None:
    careless = PLANTED["cast"]["careless_worker"]
    assert flagged(exported, "quality") == {careless["worker_key"]}
    row = next(r for r in exported if r["worker_key"] == careless["worker_key"])
    assert row["quality_reason"].startswith(f"on {careless['labeling_job']}: agreement ")
    assert float(row["agreement_rate"]) == pytest.approx(careless["agreement_rate"], abs=1e-3)


def test_the_pause_worker_is_not_slow_and_the_planted_slow_workers_are(
    exported: list[dict[str, str]],
) -> None:
    cast = PLANTED["cast"]
    assert flagged(exported, "slow") == {w["worker_key"] for w in cast["slow_workers"]}
    assert cast["pause_worker"]["worker_key"] not in flagged(exported, "slow")
