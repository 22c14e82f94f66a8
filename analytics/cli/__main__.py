"""``python -m analytics.cli``: the same as ``gt-throughput``."""

from analytics.cli.main import run_program

run_program()
