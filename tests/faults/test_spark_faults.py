"""``export --engine spark`` at its edges: wrong combinations, no Java, and no PySpark cost for
the local engine. The CLI runs as a child process; none of these starts a Spark."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.faults.support import assert_clean_error, run_cli


@pytest.mark.parametrize(
    ("arguments", "needles"),
    [
        pytest.param(
            ["--data", "s3://bucket/prefix"],
            ["--data s3://bucket/prefix is a published store", "--engine spark"],
            id="published-store-with-the-local-engine",
        ),
        pytest.param(
            ["--data", "s3://bucket/prefix", "--engine", "spark", "--last", "7d"],
            ["--last counts back from a local store", "--since and --until"],
            id="last-with-a-published-store",
        ),
        pytest.param(
            ["--spark-master", "local[2]"],
            ["--spark-master goes with --engine spark"],
            id="spark-master-without-the-spark-engine",
        ),
    ],
)
def test_wrong_engine_arguments_get_one_line_naming_the_fix(
    arguments: list[str], needles: list[str], tmp_path: Path
) -> None:
    completed = run_cli("export", "workers", "--out", str(tmp_path / "w.csv"), *arguments)
    assert_clean_error(completed, *needles)
    assert not (tmp_path / "w.csv").exists()


def test_spark_without_java_says_so_at_once(sample_store_root: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    completed = run_cli(
        "export",
        "workers",
        "--engine",
        "spark",
        "--data",
        str(sample_store_root),
        "--out",
        str(tmp_path / "w.csv"),
        env={"JAVA_HOME": str(tmp_path / "no-java")},
    )
    assert_clean_error(completed, "--engine spark needs Java", "JAVA_HOME", "openjdk-17")
    assert time.monotonic() - started < 60, "no JVM may be waited for"
    assert not (tmp_path / "w.csv").exists()


def test_the_local_engine_does_not_load_pyspark(sample_store_root: Path, tmp_path: Path) -> None:
    """PySpark (and its seconds of import) stays out of every command but ``--engine spark``."""
    program = (
        "import sys\n"
        "from analytics.cli.main import main\n"
        f"code = main(['export', 'workers', '--data', {str(sample_store_root)!r},"
        f" '--out', {str(tmp_path / 'w.csv')!r}])\n"
        "assert code == 0, code\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in"
        " ('pyspark', 'py4j')))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "[]"
