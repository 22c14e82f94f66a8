"""Getting a SparkSession: the active one inside a cluster, else a local one started within a bound.

PySpark is imported here, and this module is imported only when ``--engine spark`` is chosen
(or by the cluster job), so the rest of the tool pays nothing for it. Starting Spark launches a
JVM; PySpark waits for it without a deadline (``pyspark.java_gateway``), so the start runs on a
helper thread and gives up after ``START_TIMEOUT_SECONDS`` with a one-line error: a missing or
broken Java never hangs a command.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analytics.errors import SparkEngineError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: How long a local Spark may take to start (a JVM start is 3-10 s on a busy laptop).
START_TIMEOUT_SECONDS = 120.0
DEFAULT_MASTER = "local[*]"
APP_NAME = "groundtruth-throughput"
#: The Java releases Spark 4 runs on.
JAVA_FIX = (
    "install Java 17 or 21 (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME to one"
)


def import_pyspark() -> Any:
    """The ``pyspark.sql`` module, or a ``SparkEngineError`` saying how to install it."""
    try:
        import pyspark.sql
    except ImportError as exc:
        raise SparkEngineError(
            "--engine spark needs PySpark: pip install 'groundtruth-throughput[spark]'"
        ) from exc
    return pyspark.sql


@contextlib.contextmanager
def quiet_pyspark() -> Iterator[None]:
    """Silence PySpark's warning that it "does not yet fully support pandas >= 3": we hand it
    Arrow tables only (``applyInArrow``, ``mapInArrow``, ``toArrow``), never pandas frames."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
        )
        yield


@contextlib.contextmanager
def spark_failures(location: str) -> Iterator[None]:
    """A failed Spark job (a Java error, an error in our code on an executor, a file gone
    between listing and reading) as one ``SparkEngineError`` line naming the store."""
    from py4j.protocol import Py4JError  # type: ignore[import-untyped]
    from pyspark.errors import PySparkException

    try:
        yield
    except (PySparkException, Py4JError) as exc:
        raise SparkEngineError(
            f"Spark failed on the store {location}: {_first_line(exc)}: the Spark log above says"
            " more; if the store was being written to, run the command again"
        ) from exc


def java_executable() -> str | None:
    """The ``java`` Spark would launch: ``$JAVA_HOME/bin/java``, else the one on ``PATH``."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        return str(candidate) if os.access(candidate, os.X_OK) else None
    return shutil.which("java")


def spark_session(
    master: str | None = None, *, timeout_seconds: float = START_TIMEOUT_SECONDS
) -> SparkSession:
    """The active SparkSession (inside a cluster job), else a new local one on ``master``.

    Parameters
    ----------
    master
        ``--spark-master``: ``local[*]`` (default), ``local[2]``, ``spark://host:7077``... Ignored
        when a session is already active (``spark-submit``, EMR, Glue, Databricks configure it).
    timeout_seconds
        How long the JVM may take to start.

    Raises
    ------
    SparkEngineError
        PySpark is not installed, Java is missing, or Spark did not start in time; the message
        says what to do.
    """
    sql = import_pyspark()
    active = sql.SparkSession.getActiveSession()
    if active is not None:
        return active
    java = java_executable()
    if java is None:
        where = "$JAVA_HOME/bin/java" if os.environ.get("JAVA_HOME") else "java on PATH"
        raise SparkEngineError(f"--engine spark needs Java, and there is no {where}: {JAVA_FIX}")
    builder = (
        sql.SparkSession.builder.master(master or DEFAULT_MASTER)
        .appName(APP_NAME)
        # Times are UTC inside (STYLE 7): Spark's conversions to and from Arrow use this zone.
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.ui.enabled", "false")
    )
    # The executors' Python is ours, with the same packages (a cluster sets its own through
    # spark-submit). PySpark reads it from the environment when the context starts, not from the
    # builder's settings; one the user set wins.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    result: dict[str, Any] = {}

    def start() -> None:
        try:
            result["session"] = builder.getOrCreate()
        except BaseException as exc:  # reported on the caller's thread below
            result["error"] = exc

    def start_quietly() -> None:
        with quiet_pyspark():
            start()

    thread = threading.Thread(target=start_quietly, name="spark-start", daemon=True)
    thread.start()
    thread.join(timeout_seconds)
    if thread.is_alive():
        raise SparkEngineError(
            f"Spark did not start within {timeout_seconds:g} s (master {master or DEFAULT_MASTER},"
            f" Java {java}): check that `{java} -version` answers, or use --engine local"
        )
    if "error" in result:
        error = result["error"]
        raise SparkEngineError(
            f"Spark could not start (master {master or DEFAULT_MASTER}, Java {java}): "
            f"{_first_line(error)}: {JAVA_FIX}, or use --engine local"
        ) from error
    session = result["session"]
    session.sparkContext.setLogLevel("ERROR")
    return session


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
