"""``python -m analytics.warm`` (run by ``make install``) compiles every version of the Numba code
that the public functions use, so no user waits for a compile.

Numba compiles a kernel again for each new type of argument (read-only or not, strided or not,
``int32`` or ``int64``): a path that passed another type would compile in front of a user,
seconds on the first dashboard page. So, in a fresh process: warm up, then run the public
functions on other shapes of data (events out of time order, a one-team cut, a store without
outcomes), and check that nothing new was compiled and that each kernel has one version.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _python(
    *arguments: str, cwd: Path = REPO, **variables: str
) -> subprocess.CompletedProcess[str]:
    """This Python on ``arguments`` in a fresh process (a fresh Numba dispatcher), bounded in time,
    with the repository's code unless ``variables`` (environment variables) say otherwise; it must
    succeed."""
    completed = subprocess.run(
        [sys.executable, *arguments],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO), **variables},
        cwd=cwd,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed


PROBE = r"""
import dataclasses, json, sys
from pathlib import Path

import numpy as np

from analytics.dataset import Filters, load_team_data
from analytics.metrics import kernels
from analytics.metrics.jobs_teams import job_summary, team_summary
from analytics.metrics.sessions import worker_sessions
from analytics.metrics.staffing import staffing_plan
from analytics.metrics.throughput import task_time_quantiles
from analytics.metrics.timesheet import timesheet
from analytics.metrics.workers import job_worker_speed, worker_summary
from analytics.store.store import Store
from analytics.warm import warm

PUBLIC = ("interval_starts", "pair_counts", "pair_scatter", "slice_quantiles", "sweep_walk",
          "task_durations")

def versions():
    return {name: [str(s) for s in getattr(kernels, name).signatures] for name in PUBLIC}

folder = Path(sys.argv[1])
warm(folder)
after_warm = versions()
data = load_team_data(Store(folder / "store"))
events = data.events
shuffled = dataclasses.replace(
    data, events=events.sample(frac=1.0, random_state=7).reset_index(drop=True)
)
team = str(events["workteam_name"].dropna().iloc[0])
one_team = load_team_data(Store(folder / "store"), Filters(workteams=(team,)))
no_outcomes = dataclasses.replace(data, events=events[events["event_type"] == "TaskAccepted"])
for view in (data, shuffled, one_team, no_outcomes):
    worker_summary(view)
    worker_sessions(view)
    job_summary(view)
    team_summary(view)
    timesheet(view, timezone="Asia/Kolkata")
    job_worker_speed(view)
    staffing_plan(view)
    for by in ("workteam", "job", "worker"):
        task_time_quantiles(view, by)
print(json.dumps({"after_warm": after_warm, "after_all": versions()}))
"""


def test_the_warm_up_compiles_every_version_the_public_functions_use(tmp_path: Path) -> None:
    completed = _python("-c", PROBE, str(tmp_path))
    found = json.loads(completed.stdout.strip().splitlines()[-1])
    assert found["after_all"] == found["after_warm"]
    assert {name: len(versions) for name, versions in found["after_all"].items()} == dict.fromkeys(
        found["after_all"], 1
    )


def test_the_warm_up_command_runs_and_says_so() -> None:
    completed = _python("-m", "analytics.warm")
    assert completed.stdout.strip() == "compiled code ready (Numba's cache in __pycache__)"


UNCACHED = r"""
import sys
from pathlib import Path

if sys.argv[2] == "no-cache-folder":
    # What Numba finds on a read-only install run by a user without a home folder.
    import numba.core.caching

    numba.core.caching.CacheImpl._locator_classes = []

from analytics.dataset import load_team_data
from analytics.metrics.workers import worker_summary
from analytics.sample import build_sample_store

store = build_sample_store(Path(sys.argv[1]))
print(worker_summary(load_team_data(store)).to_json(orient="split"))
"""


def test_without_a_folder_to_cache_in_the_metrics_compile_in_memory_and_agree(
    tmp_path: Path,
) -> None:
    outputs = {}
    for case in ("cached", "no-cache-folder"):
        completed = _python("-c", UNCACHED, str(tmp_path / case), case)
        outputs[case] = (completed.stdout, completed.stderr)
    assert outputs["no-cache-folder"][0] == outputs["cached"][0]
    assert "compiled metrics code is not cached" in outputs["no-cache-folder"][1]
    assert "not cached" not in outputs["cached"][1]


#: A call of one compiled function per module that compiles with ``numba_options.NJIT_OPTIONS``,
#: reading one value past the end of an input: an ``IndexError`` only where bounds are checked.
READ_PAST_THE_END = {
    "kernels": (
        "from analytics.metrics import kernels\n"
        "kernels.interval_starts(np.zeros({n}, np.int64), np.zeros(2, np.int64), -1,"
        " np.zeros(2, np.int64))\n"
    ),
    "xxh3": (
        "from analytics.store import xxh3\n"
        "xxh3.xxh3_128_at(np.zeros({n}, np.uint8), 0, 2, np.zeros(16, np.uint8), 0)\n"
    ),
}


@pytest.mark.parametrize("call", READ_PAST_THE_END.values(), ids=READ_PAST_THE_END.keys())
def test_changed_compile_options_reach_the_compiled_code_despite_numbas_cache(
    tmp_path: Path, call: str
) -> None:
    """Numba reuses cached code while the file defining a function is unchanged, and its cache
    ignores the options the code was compiled with: a change of ``numba_options`` must still
    compile the code afresh."""
    package = tmp_path / "code" / "analytics"
    shutil.copytree(REPO / "analytics", package, ignore=shutil.ignore_patterns("__pycache__"))

    def outcome(length: int) -> str:
        script = (
            "import numpy as np\n"
            "try:\n"
            + textwrap.indent(call.format(n=length), "    ")
            + "except IndexError:\n    print('IndexError')\nelse:\n    print('done')\n"
        )
        completed = _python(
            "-c",
            script,
            cwd=tmp_path,  # not the repository, whose analytics/ would come first on sys.path
            PYTHONPATH=str(tmp_path / "code"),
            NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"),
        )
        return completed.stdout.strip()

    assert outcome(2) == "done"  # compiled and cached, no bounds checked
    options = package / "numba_options.py"
    source = options.read_text(encoding="utf-8")
    old = '"boundscheck": False'
    assert source.count(old) == 1
    options.write_text(source.replace(old, '"boundscheck": True'), encoding="utf-8")
    assert outcome(1) == "IndexError"
