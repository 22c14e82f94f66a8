"""What every benchmark reports besides its figures: the machine, its load, peak memory (of a
fresh process where a figure must be its own), a results file."""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import resource
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def describe_machine() -> dict[str, Any]:
    """CPU model, core count, memory and Python: enough to compare figures across machines."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_gib, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process since it started its program, in MB (``VmHWM``).

    Not ``getrusage``'s ``ru_maxrss`` alone: Linux carries that across ``exec``, so a process
    spawned by ``in_fresh_process`` reported its parent's peak (the parent holds the generated
    data: 3 GB for 10 million events, 9 GB for 30 million).
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> float:
    """The 1-minute load average: the machine is shared, so every figure carries it."""
    return os.getloadavg()[0]


def in_fresh_process(function: Any, *args: Any) -> dict[str, Any]:
    """Run ``function`` in a new process (``spawn``: nothing inherited, its own peak memory)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        result: dict[str, Any] = pool.submit(function, *args).result()
    return result


def write_results(name: str, results: dict[str, Any]) -> Path:
    """Write ``bench/results/<name>.json`` (git-ignored) and return its path."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    return path
