"""How the dashboard is started: the ``streamlit run`` command line with our settings.

Kept apart from ``app.py`` so the CLI can build the command without importing Streamlit.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"

#: Settings that make the dashboard private and quiet: no usage statistics, no browser opened by
#: the server, no file watching in production, and the viewer toolbar only.
SERVER_SETTINGS = {
    "server.headless": "true",
    "browser.gatherUsageStats": "false",
    "server.fileWatcherType": "none",
    "global.developmentMode": "false",
    "client.toolbarMode": "viewer",
    "theme.base": "light",
}


#: How a headless Chromium should open the dashboard (the browser test and the benchmark): without
#: the background-networking flags Chromium calls Google's hosts, which a closed network refuses
#: and which would also count as requests to a host other than the dashboard's.
HEADLESS_CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


#: JavaScript that is true once a page is settled: the script run is over, the session is
#: connected, nothing drawn by the previous run is left, and no element is still a loading
#: placeholder (Streamlit shows skeletons for a moment after a run ends on a new session).
PAGE_SETTLED_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app !== null
        && app.getAttribute('data-test-script-state') === 'notRunning'
        && app.getAttribute('data-test-connection-state') === 'CONNECTED'
        && document.querySelector('[data-stale="true"]') === null
        && document.querySelector('[data-testid="stSkeleton"]') === null;
}"""


def streamlit_command(*, host: str = "127.0.0.1", port: int = 8501) -> list[str]:
    """The command that serves the dashboard on ``host:port``."""
    command = [sys.executable, "-m", "streamlit", "run", str(APP)]
    settings = {**SERVER_SETTINGS, "server.address": host, "server.port": str(port)}
    for name, value in settings.items():
        command += [f"--{name}", value]
    return command
