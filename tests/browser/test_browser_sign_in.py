"""Sign-in and access rules in a real browser, against a real OpenID Connect provider.

``oidc-provider-mock`` (its own command, in a subprocess) serves a real provider (discovery,
authorization form, token endpoint, signed ID tokens, end-session) on 127.0.0.1;
``gt-throughput dashboard --config`` serves the sample store with ``st.login`` configured and
three rules; headless Chromium signs people in by clicking through the provider's form, as a
person would. Each test is a fresh browser context (a new session, no cookie).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from analytics import (
    Filters,
    Store,
    build_sample_store,
    load_team_data,
    pseudonym,
    worker_summary,
)
from tests.support.served_dashboard import (
    PAGE_SETTLED_JS,
    DashboardDidNotStart,
    free_local_port,
    serve_dashboard,
)

pytestmark = pytest.mark.browser

SERVER_START_SECONDS = 90
PROVIDER_START_SECONDS = 60
STEP_TIMEOUT_MS = 60_000
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
COOKIE_SECRET = "cookie-secret-for-the-browser-test-0123456789"
PSEUDONYM_KEY = "pseudonym-key-for-the-browser-test"
#: The provider's people: sub -> claims (``groups`` is the rules' groups claim).
PEOPLE: dict[str, dict[str, object]] = {
    "lead-text": {"email": "lead@corp.example", "email_verified": True, "name": "Lena Lead"},
    "viewer-all": {"email": "viewer@corp.example", "groups": ["auditors"]},
    "no-rule": {"email": "stranger@corp.example", "name": "Sam Stranger"},
}
CONFIG = """
[auth]
mode = "oidc"
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
client_id = "gt-dashboard"
client_secret_env = "GT_TEST_CLIENT_SECRET"
cookie_secret_env = "GT_TEST_COOKIE_SECRET"
server_metadata_url = "%s/.well-known/openid-configuration"

[access]
ask = "Ana Admin (ana@corp.example)"

[[access.rules]]
email = "LEAD@corp.example"
role = "lead"
teams = ["text-team"]

[[access.rules]]
group = "auditors"
role = "viewer"
teams = ["text-team", "image-team"]

[[access.rules]]
email = "ana@corp.example"
role = "admin"
"""
PAGES = {
    "/": "Team overview",
    "/workers": "Workers",
    "/worker_detail": "Worker detail",
    "/timesheet": "Timesheet",
    "/jobs": "Labeling jobs",
    "/data": "Data",
}


@dataclass
class Served:
    url: str
    store: Path
    log: Path
    #: What only image-team (not the lead's text-team) has: its name, its jobs, its members.
    other_team_words: list[str]
    text_team_workers: set[str]
    text_team_jobs: set[str]
    every_identity: set[str]
    every_worker: set[str]


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """oidc-provider-mock on 127.0.0.1, its own command in a subprocess, with our people."""
    port = free_local_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    for sub, claims in PEOPLE.items():
        command += ["--user-claims", json.dumps({"sub": sub} | claims)]
    log = tmp_path_factory.mktemp("provider") / "provider.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + PROVIDER_START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"the OIDC provider exited: {log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{url}/.well-known/openid-configuration", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the OIDC provider did not answer: {log.read_text()}")
                time.sleep(0.2)  # a server starting: nothing to wait on but time
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def served(provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("sign-in")
    store = folder / "store"
    build_sample_store(store)
    config = folder / "gt.toml"
    config.write_text(CONFIG % provider, encoding="utf-8")
    whole = load_team_data(Store(store))
    text = load_team_data(Store(store), Filters(workteams=("text-team",)))
    image_jobs = set(whole.jobs["labeling_job_name"]) - set(text.jobs["labeling_job_name"])
    text_members = set(text.memberships["username"].dropna())
    image_members = set(whole.memberships["username"].dropna()) - text_members
    identities = set()
    for column in ("username", "email", "sub"):
        identities |= set(whole.users[column].dropna().astype("str"))
    environment = {
        **os.environ,
        "GT_TEST_CLIENT_SECRET": "any-secret",
        "GT_TEST_COOKIE_SECRET": COOKIE_SECRET,
        "GT_THROUGHPUT_PSEUDONYM_KEY": PSEUDONYM_KEY,
    }
    log = folder / "server.log"
    try:
        with serve_dashboard(
            store,
            log,
            environment=environment,
            start_seconds=SERVER_START_SECONDS,
            arguments=["--config", str(config)],
        ) as url:
            yield Served(
                url=url,
                store=store,
                log=log,
                other_team_words=["image-team", *sorted(image_jobs), *sorted(image_members)],
                text_team_workers=set(worker_summary(text)["worker_key"].astype("str")),
                text_team_jobs=set(text.jobs["labeling_job_name"]),
                every_identity=identities,
                every_worker=set(worker_summary(whole)["worker_key"].astype("str")),
            )
    except DashboardDidNotStart as exc:
        pytest.fail(str(exc))


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context(
        viewport={"width": 1440, "height": 2000}, timezone_id="UTC", accept_downloads=True
    )
    opened.set_default_timeout(STEP_TIMEOUT_MS)
    expect.set_options(timeout=STEP_TIMEOUT_MS)
    try:
        yield opened
    finally:
        opened.close()


def settled(page: Page) -> None:
    page.wait_for_function(PAGE_SETTLED_JS, timeout=STEP_TIMEOUT_MS)
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.all_inner_texts()


def sign_in(page: Page, served: Served, sub: str) -> None:
    """Open the dashboard, press Sign in, pick ``sub`` on the provider's form, come back."""
    page.goto(served.url + "/")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/oauth2/authorize"))
    page.get_by_role("button", name=sub, exact=True).click()
    page.wait_for_url(re.compile(re.escape(served.url)))
    settled(page)


def visible_text(page: Page) -> str:
    """The page's text and the cells of its tables (drawn on a canvas)."""
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('[data-testid="stDataFrame"]'))
            .every(grid => grid.querySelector('[role="gridcell"]') !== null)""",
        timeout=STEP_TIMEOUT_MS,
    )
    cells = page.locator('[data-testid="stDataFrame"] [role="gridcell"]').all_text_contents()
    return page.locator("body").inner_text() + "\n" + "\n".join(cells)


def sidebar_teams(page: Page) -> list[str]:
    page.locator('.st-key-filters_teams input[role="combobox"]').click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return [option for option in options if option != "Select all"]  # Streamlit's own


def download(page: Page, button: str) -> str:
    with page.expect_download() as downloaded:
        page.get_by_role("button", name=button).click()
    return Path(downloaded.value.path()).read_text(encoding="utf-8")


def assert_no_data(page: Page, served: Served) -> None:
    text = page.locator("body").inner_text()
    for word in ["text-team", *served.other_team_words, *served.text_team_jobs]:
        assert word not in text, word
    assert page.locator('[data-testid="stDataFrame"]').count() == 0
    assert page.locator(".js-plotly-plot").count() == 0
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0


def audit_lines(served: Served) -> list[dict[str, object]]:
    path = served.store / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_an_unsigned_request_gets_no_data(context: BrowserContext, served: Served) -> None:
    page = context.new_page()
    for path in [*PAGES, "/workers?team=image-team&range=all"]:
        page.goto(served.url + path)
        page.get_by_role("button", name="Sign in").wait_for()
        settled(page)
        assert_no_data(page, served)


def test_a_lead_sees_only_their_team_everywhere_even_after_editing_the_url(
    context: BrowserContext, served: Served
) -> None:
    page = context.new_page()
    sign_in(page, served, "lead-text")
    # Every page, with the URL edited to ask for the other team over all time.
    for path, title in PAGES.items():
        page.goto(served.url + path + "?team=image-team&team=text-team&range=all")
        page.locator("h1", has_text=title).first.wait_for()
        settled(page)
        text = visible_text(page)
        for word in served.other_team_words:
            assert word not in text, (path, word)
    page.goto(served.url + "/workers?range=all&team=image-team")
    page.locator("h1", has_text="Workers").wait_for()
    settled(page)
    assert sidebar_teams(page) == ["text-team"]
    rows = list(csv.DictReader(io.StringIO(download(page, "Download these rows (CSV)"))))
    assert rows
    assert {r["worker_key"] for r in rows} <= served.text_team_workers
    assert any(EMAIL.fullmatch(r["email"]) for r in rows)  # a lead sees names
    page.goto(served.url + "/worker_detail?range=all")
    page.locator("h1", has_text="Worker detail").wait_for()
    settled(page)
    tasks = list(csv.DictReader(io.StringIO(download(page, "Download this worker's tasks (CSV)"))))
    assert tasks
    assert {t["labeling_job_name"] for t in tasks} <= served.text_team_jobs
    # Who viewed and downloaded what, beside the store (the click's record is written by the
    # rerun the click starts, a moment after the file arrived).
    settled(page)
    deadline = time.monotonic() + 30
    while True:
        mine = [line for line in audit_lines(served) if line["who"] == "lead@corp.example"]
        if "tasks.csv" in {line.get("file") for line in mine} or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # the server writes the line: nothing to wait on but time
    viewed = {line["page"] for line in mine if line["action"] == "view"}
    assert viewed >= {"Overview", "Workers", "Worker detail", "Timesheet", "Jobs", "Data"}
    assert {line["file"] for line in mine if line["action"] == "download"} >= {
        "workers.csv",
        "tasks.csv",
    }
    assert all(line["role"] == "lead" for line in mine)


def test_a_viewer_sees_no_name_or_email(context: BrowserContext, served: Served) -> None:
    page = context.new_page()
    sign_in(page, served, "viewer-all")
    for path, title in PAGES.items():
        page.goto(served.url + path + "?range=all")
        page.locator("h1", has_text=title).first.wait_for()
        settled(page)
        text = visible_text(page)
        shown = set(re.findall(r"[\w.+-]+", text))
        # Only the viewer's own email (who is signed in) may appear.
        assert EMAIL.findall(text.replace("viewer@corp.example", "")) == [], path
        assert not shown & served.every_identity, (path, shown & served.every_identity)
    page.goto(served.url + "/workers?range=all")
    page.locator("h1", has_text="Workers").wait_for()
    settled(page)
    assert sidebar_teams(page) == ["image-team", "text-team"]
    downloaded = download(page, "Download these rows (CSV)")
    assert EMAIL.findall(downloaded) == []
    rows = list(csv.DictReader(io.StringIO(downloaded)))
    assert rows
    assert all(re.fullmatch(r"p-[0-9a-f]{16}", r["worker_key"]) for r in rows)
    assert not set(re.findall(r"[\w.+-]+", downloaded)) & served.every_identity
    # Keyed by the server's secret: not what the built-in salt gives anyone for these people.
    assert {r["worker_key"] for r in rows} == {
        pseudonym(key, PSEUDONYM_KEY.encode()) for key in served.every_worker
    }
    assert not {r["worker_key"] for r in rows} & {pseudonym(k) for k in served.every_worker}


def test_a_person_without_a_rule_sees_who_they_are_and_whom_to_ask_and_no_data(
    context: BrowserContext, served: Served
) -> None:
    page = context.new_page()
    sign_in(page, served, "no-rule")
    page.get_by_text("No access yet").wait_for()
    text = page.locator("body").inner_text()
    assert "stranger@corp.example" in text
    assert "Ana Admin (ana@corp.example)" in text
    assert_no_data(page, served)
    page.goto(served.url + "/workers?team=text-team&range=all")
    page.get_by_text("No access yet").wait_for()
    settled(page)
    assert_no_data(page, served)


def test_signing_out_ends_the_session(context: BrowserContext, served: Served) -> None:
    page = context.new_page()
    sign_in(page, served, "lead-text")
    page.locator("h1", has_text="Team overview").wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda url: not url.startswith(served.url + "/?") and url != served.url + "/")
    page.goto(served.url + "/workers?range=all")
    page.get_by_role("button", name="Sign in").wait_for()
    settled(page)
    assert_no_data(page, served)
    assert not [c for c in context.cookies() if c["name"].startswith("_streamlit_user")]
