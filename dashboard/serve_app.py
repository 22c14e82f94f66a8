"""The dashboard as served: Streamlit's ``st.App`` around ``app.py``, with a start-up step.

``gt-throughput dashboard`` runs ``streamlit run`` on this file. Before the server answers its
first request, ``warmup.warm_up`` reads the store and computes what the default Overview shows,
so the first manager to open the dashboard does not wait for a million events to be read.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import streamlit as st


@asynccontextmanager
async def _read_the_store_first(_app: Any) -> AsyncIterator[None]:
    from dashboard.warmup import warm_up  # imported here: it pulls pandas, plotly and the store

    # A thread of our own, named so that Streamlit's warning about cached functions called
    # outside a page run is not printed for it (see ``warmup``).
    worker = threading.Thread(target=warm_up, name="gt-warm-up")
    worker.start()
    await asyncio.to_thread(worker.join)
    yield


app = st.App(str(Path(__file__).resolve().parent / "app.py"), lifespan=_read_the_store_first)
