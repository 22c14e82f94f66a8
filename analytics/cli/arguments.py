"""Arguments every command shares: where the store is."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

DEFAULT_DATA_DIR = "gt-data"
DATA_ENV_VAR = "GT_THROUGHPUT_DATA"


def data_dir(value: str | None) -> Path:
    """The store directory: ``--data``, else ``$GT_THROUGHPUT_DATA``, else ``./gt-data``."""
    return Path(value or os.environ.get(DATA_ENV_VAR) or DEFAULT_DATA_DIR)


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        metavar="DIR",
        help=f"store directory (default: ${DATA_ENV_VAR}, else ./{DEFAULT_DATA_DIR})",
    )
