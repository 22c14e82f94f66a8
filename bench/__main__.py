"""Run every benchmark, one after the other (never in parallel: they would share the cores)."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = [
    "bench.bench_ingest",
    "bench.bench_metrics",
    "bench.bench_sync",
    "bench.bench_dashboard",
    "bench.bench_publish",
    "bench.bench_spark",
]


def main() -> int:
    failed = []
    for module in BENCHMARKS:
        print(f"\n## {module}\n", flush=True)
        if subprocess.run([sys.executable, "-m", module], check=False).returncode != 0:
            failed.append(module)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
