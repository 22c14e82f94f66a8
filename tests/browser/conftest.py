"""The fixture every browser test module shares: Debian's chromium, headless, one per module."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.support.served_dashboard import HEADLESS_CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless; a missing chromium fails (CI must run this test)."""
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail(
            "chromium is missing: install Debian's `chromium` package "
            "(`apt-get install chromium`, or `make browser`); the browser tests need it"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=HEADLESS_CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()
