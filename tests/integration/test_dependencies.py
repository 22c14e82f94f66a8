"""Each command runs on the runtime dependencies alone and imports only what it uses; event keys."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
import xxhash

from analytics.ingest.run import ingest_paths
from analytics.store.keys import event_keys
from analytics.store.store import Store
from tests.support.ingest import WriteFile, day_messages

#: Packages that are no runtime dependency (tests and benchmarks only, or no longer used at all).
NOT_RUNTIME = ("duckdb", "polars", "polars_hash", "moto", "pytest")


#: Runs in the child: one CLI command, then a ``RESULT`` line with its exit status and the
#: top-level packages loaded by then.
_RUN_ONE = """
try:
    code = main({command!r})
except SystemExit as exc:
    code = exc.code
loaded = sorted({{name.split(".")[0] for name, module in sys.modules.items() if module}})
print("RESULT", json.dumps({{"exit": code, "loaded": loaded}}))
"""


def _run_hiding(hidden: tuple[str, ...], *commands: list[str]) -> list[dict]:
    """Run CLI commands one after the other in a new process where ``hidden`` cannot be
    imported; each command's exit status and the top-level packages loaded after it."""
    script = "\n".join(
        [
            "import json, sys",
            *(f"sys.modules[{name!r}] = None" for name in hidden),
            "from analytics.cli.main import main",
            *(_RUN_ONE.format(command=command) for command in commands),
        ]
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=300
    )
    results = [
        json.loads(line.removeprefix("RESULT "))
        for line in run.stdout.splitlines()
        if line.startswith("RESULT ")
    ]
    assert run.returncode == 0, run.stdout + run.stderr
    assert len(results) == len(commands), run.stdout + run.stderr
    return results


def test_ingest_status_and_export_need_no_test_or_benchmark_package(
    tmp_path: Path, write_file: WriteFile
) -> None:
    log = write_file("a.jsonl", "\n".join([*day_messages(30), "garbage"]) + "\n")
    data = str(tmp_path / "store")
    results = _run_hiding(
        NOT_RUNTIME,
        ["ingest", "--no-progress", "--data", data, str(log)],
        ["status", "--data", data],
        ["export", "workers", "--data", data, "--out", str(tmp_path / "workers.csv")],
    )
    assert [result["exit"] for result in results] == [0, 0, 0]
    assert (tmp_path / "workers.csv").read_text().count("\n") > 1
    store = Store(Path(data))
    # Event keys: XXH3-128 of the message text, the canonical (big-endian) digest.
    events = store.load_events(columns=["event_key", "raw_message"]).to_pylist()
    assert len(events) == 30
    assert all(e["event_key"] == xxhash.xxh3_128_digest(e["raw_message"].encode()) for e in events)
    # Reject keys: MD5 of source, line number and text, as every earlier version computed them.
    (rejected,) = store.load_rejected().to_pylist()
    material = f"{rejected['source']}\x00{rejected['location']}\x00{rejected['raw_text']}"
    assert (rejected["location"], rejected["raw_text"]) == ("31", "garbage")
    assert rejected["reject_key"] == hashlib.md5(material.encode()).digest()


IMPORT_CASES = [
    # (command, packages it must not load)
    pytest.param(["--help"], {"pyarrow", "pandas", "numpy", "numba", "boto3"}, id="help"),
    pytest.param(
        ["ingest", "--no-progress", "--data", "{data}", "{log}"],
        {"boto3", "streamlit", "plotly", "duckdb", "polars"},
        id="ingest",
    ),
    pytest.param(
        ["status", "--data", "{data}"],
        {"numba", "boto3", "streamlit", "plotly", "duckdb", "polars"},
        id="status",
    ),
    pytest.param(
        ["export", "workers", "--data", "{data}", "--out", "{out}"],
        # Numba loads here: the worker table's sweep and quantiles are compiled kernels
        # (analytics/metrics/kernels.py), the only implementation of those rules.
        {"streamlit", "plotly", "duckdb", "polars"},
        id="export",
    ),
    pytest.param(
        ["athena-ddl", "--location", "s3://gt-bucket/store"],
        {"pandas", "boto3", "numba", "streamlit", "plotly", "duckdb", "polars"},
        id="athena-ddl",
    ),
]


@pytest.mark.parametrize(("command", "unused"), IMPORT_CASES)
def test_a_command_loads_no_package_it_does_not_use(
    command: list[str], unused: set[str], tmp_path: Path, write_file: WriteFile
) -> None:
    # Over 1 MB, so that the ingest takes the compiled scanner, as real files do.
    log = write_file("a.jsonl", "\n".join(day_messages(4000)) + "\n")
    data = tmp_path / "store"
    if command[0] != "ingest":
        ingest_paths(Store(data), [log])  # status and export read a store
    values = {"data": str(data), "log": str(log), "out": str(tmp_path / "out.csv")}
    (result,) = _run_hiding((), [part.format(**values) for part in command])
    assert result["exit"] == 0
    assert set(result["loaded"]) & unused == set()


TEXTS = ["", "a", '{"worker_id":"é ü 🙂"}', "x" * 5000, "nul \x00 inside", "{}"]
LAYOUT_CASES = [
    pytest.param(pa.array(TEXTS), id="string"),
    pytest.param(pa.array(TEXTS, pa.large_string()), id="large-string"),
    pytest.param(pa.array(TEXTS)[2:5], id="slice"),
    pytest.param(pa.array(TEXTS, pa.large_string())[1:4], id="large-slice"),
    pytest.param(pa.chunked_array([TEXTS[:2], [], TEXTS[2:]]), id="chunks"),
    pytest.param(pa.chunked_array([], pa.string()), id="no-chunk"),
    pytest.param(pa.array([], pa.string()), id="empty"),
    pytest.param(pa.array(TEXTS).dictionary_encode(), id="dictionary"),
]


@pytest.mark.parametrize("texts", LAYOUT_CASES)
def test_event_keys_are_the_xxh3_128_digest_of_each_text_whatever_the_layout(
    texts: pa.Array | pa.ChunkedArray,
) -> None:
    keys = event_keys(texts)
    assert keys.type == pa.binary(16)
    assert keys.to_pylist() == [xxhash.xxh3_128_digest(t.encode()) for t in texts.to_pylist()]


def test_a_null_text_has_no_event_key() -> None:
    with pytest.raises(ValueError, match="1 message texts are null"):
        event_keys(pa.array(["a", None]))
