"""``python -m analytics.cli``: the same as ``gt-throughput``."""

import sys

from analytics.cli.main import main

sys.exit(main())
