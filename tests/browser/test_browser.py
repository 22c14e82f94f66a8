"""The dashboard in a real browser: the served app, driven by Playwright in Debian's chromium.

One server per module (``gt-throughput dashboard`` on a store of the bundled sample with hostile
names planted: markdown, HTML, links and images pointing at a beacon server that records any
hit), one fresh browser context (a new Streamlit session) per test. Every test also checks
that the page asked no host but the dashboard's own (no remote fonts, icons or telemetry).
Screenshots of every page go to ``test-artifacts/`` (git-ignored) for a human to look at.
"""

from __future__ import annotations

import base64
import csv
import http.server
import io
import os
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    Page,
    Request,
    ViewportSize,
    WebSocket,
    expect,
)

from analytics import (
    Filters,
    Store,
    escape_controls,
    load_team_data,
    pseudonym,
    worker_summary,
    workers_csv_bytes,
)
from tests.conftest import REPO_ROOT
from tests.support.hostile_sample import HostileNames, build_hostile_sample, hostile_names
from tests.support.served_dashboard import (
    PAGE_SETTLED_JS,
    DashboardDidNotStart,
    serve_dashboard,
)

pytestmark = pytest.mark.browser

ARTIFACTS = REPO_ROOT / "test-artifacts"
#: Streamlit scrolls inside a container, so a full-page screenshot is only as tall as the window.
VIEWPORT: ViewportSize = {"width": 1440, "height": 2600}
#: Generous: the machine running CI may be a loaded 2-core box.
SERVER_START_SECONDS = 90
STEP_TIMEOUT_MS = 60_000
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PSEUDONYM = re.compile(r"^p-[0-9a-f]{16}$")
#: URL path -> (h1 shown, whether the page draws a plotly chart on the sample's default view).
PAGES = {
    "/": ("Team overview", True),
    "/workers": ("Workers", True),
    "/worker_detail": ("Worker detail", True),
    "/timesheet": ("Timesheet", False),
    "/jobs": ("Labeling jobs", True),
    "/data": ("Data", False),
}
#: The columns ``export workers`` promises (docs/metrics.md); the download must carry them.
CONTRACT_COLUMNS = {
    "worker_key",
    "worker_id",
    "username",
    "email",
    "tasks_submitted",
    "tasks_returned",
    "return_rate",
    "median_task_seconds",
    "slow_flag",
    "idle_flag",
    "return_flag",
}
SETTLED = PAGE_SETTLED_JS


@dataclass
class Server:
    """The dashboard served by ``gt-throughput dashboard`` in a subprocess."""

    url: str
    netloc: str
    output: Path
    store: Path
    names: HostileNames
    beacon_hits: list[str]


class _Beacon(http.server.BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # recorded in ``hits``, not printed


@pytest.fixture(scope="module")
def beacon() -> Iterator[tuple[str, list[str]]]:
    """A server on another loopback address that records every request: (base URL, hits)."""
    hits: list[str] = []
    handler = type("Beacon", (_Beacon,), {"hits": hits})
    with http.server.ThreadingHTTPServer(("127.0.0.2", 0), handler) as beacon_server:
        thread = threading.Thread(target=beacon_server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.2:{beacon_server.server_address[1]}", hits
        finally:
            beacon_server.shutdown()
            thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(
    beacon: tuple[str, list[str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The dashboard on the sample with hostile names planted, on a free local port."""
    folder = tmp_path_factory.mktemp("browser")
    names = hostile_names(beacon[0])
    store = build_hostile_sample(folder, names)
    output = folder / "server.log"
    try:
        with serve_dashboard(
            store, output, environment=dict(os.environ), start_seconds=SERVER_START_SECONDS
        ) as url:
            yield Server(
                url=url,
                netloc=url.removeprefix("http://"),
                output=output,
                store=store,
                names=names,
                beacon_hits=beacon[1],
            )
    except DashboardDidNotStart as exc:
        pytest.fail(str(exc))


@dataclass
class Visit:
    """A page in a fresh Streamlit session, with every URL it asked for."""

    page: Page
    server: Server
    requested: list[str] = field(default_factory=list)

    def foreign(self) -> list[str]:
        """Requests to any host other than the dashboard's own."""
        outside = []
        for url in self.requested:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue  # made by the page itself, nothing leaves the machine
            if parts.netloc != self.server.netloc:
                outside.append(url)
        return outside


@pytest.fixture
def visit(browser: Browser, server: Server) -> Iterator[Visit]:
    """A new browser context (a new session) in UTC, with its requests recorded."""
    context = browser.new_context(viewport=VIEWPORT, timezone_id="UTC", accept_downloads=True)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    expect.set_options(timeout=STEP_TIMEOUT_MS)
    page = context.new_page()
    result = Visit(page=page, server=server)

    def record_request(request: Request) -> None:
        result.requested.append(request.url)

    def record_websocket(websocket: WebSocket) -> None:
        result.requested.append(websocket.url)

    page.on("request", record_request)
    page.on("websocket", record_websocket)
    try:
        yield result
    finally:
        context.close()


def wait_until_settled(page: Page) -> None:
    """Wait for the script run to end and the page to drop what the previous run drew."""
    page.wait_for_function(SETTLED, timeout=STEP_TIMEOUT_MS)


def open_page(visit: Visit, path: str) -> None:
    title, has_charts = PAGES[path]
    page = visit.page
    page.goto(visit.server.url + path)
    page.locator("h1", has_text=title).first.wait_for()
    wait_until_settled(page)
    if has_charts:
        page.locator(".js-plotly-plot .main-svg").first.wait_for()
    assert_no_exception(page)


def assert_no_exception(page: Page) -> None:
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.all_inner_texts()


#: st.dataframe paints its canvas (and its accessible cells) a moment after the script run.
#: Code blocks are highlighted by a chunk loaded on demand: wait for their text too.
TABLES_DRAWN = """() =>
    Array.from(document.querySelectorAll('[data-testid="stDataFrame"]'))
        .every(grid => grid.querySelector('[role="gridcell"]') !== null)
    && Array.from(document.querySelectorAll('[data-testid="stCode"]'))
        .every(block => block.innerText.trim() !== '')"""
#: Resolves after two frames: the grids paint their canvas in an animation frame.
TWO_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def screenshot(page: Page, name: str) -> None:
    page.wait_for_function(TABLES_DRAWN, timeout=STEP_TIMEOUT_MS)
    page.evaluate(TWO_FRAMES)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"browser-{name}.png"), full_page=True)


def pick(page: Page, widget_key: str, option: str) -> None:
    """Choose ``option`` in the selectbox or multiselect with ``widget_key``, as a person would."""
    page.locator(f'.st-key-{widget_key} input[role="combobox"]').click()
    page.get_by_role("option", name=option, exact=True).click()


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def download_workers_csv(page: Page) -> bytes:
    with page.expect_download() as download:
        page.get_by_role("button", name="Download these rows (CSV)").click()
    path = download.value.path()
    return Path(path).read_bytes()


def assert_only_own_host(visit: Visit) -> None:
    assert visit.requested, "no request recorded: the recorder is broken"
    assert visit.foreign() == [], f"requests to other hosts: {visit.foreign()}"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.strip("/") or "overview")
def test_every_page_renders_with_no_error(visit: Visit, path: str) -> None:
    open_page(visit, path)
    page = visit.page
    assert "bundled sample team" not in page.locator("body").inner_text()  # a store of its own
    screenshot(page, path.strip("/") or "overview")
    assert_only_own_host(visit)


#: Where each page shows planted names as text of its own (not in a table's canvas).
SHOWN_NAMES = {
    "/": ("returner", "slow", "job"),
    "/workers": ("returner", "slow"),
    "/jobs": ("job",),
}
#: Elements that data must never become.
MARKUP = "a, img, strong, b, em, i, h1, h2, h3, h4, h5, h6, code, ul li li"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.strip("/") or "overview")
def test_names_from_data_are_literal_text(visit: Visit, server: Server, path: str) -> None:
    open_page(visit, path)
    page = visit.page
    hits_before = list(server.beacon_hits)
    shown_names = [escape_controls(name) for name in vars(server.names).values()]
    planted = [name.split(" ", 1)[0] + " " for name in shown_names]
    for element in page.locator(f'[data-testid="stMain"] :is({MARKUP})').all():
        text = element.inner_text()
        link = element.get_attribute("href") or element.get_attribute("src") or ""
        assert "evil.invalid" not in link, link
        assert "127.0.0.2" not in link, link
        for prefix, name in zip(planted, shown_names, strict=True):
            # Only our bold labels ("Slow: <name>") may hold a name, and then all of it.
            if prefix in text:
                assert element.evaluate("e => e.tagName") in ("STRONG", "B"), text
                assert name in text, (name, text)
    body = page.locator('[data-testid="stMain"]').inner_text()
    for field_name in SHOWN_NAMES.get(path, ()):
        shown = escape_controls(getattr(server.names, field_name))
        assert shown in body, (field_name, shown)
    for chart_text in page.locator(".js-plotly-plot :is(a, tspan[style*='bold'])").all():
        raise AssertionError(f"markup in a chart: {chart_text.inner_text()}")
    screenshot(page, f"hostile-{path.strip('/') or 'overview'}")
    assert server.beacon_hits == hits_before == [], server.beacon_hits
    assert_only_own_host(visit)


def _status_line(server: Server, request: list[str], origin: str | None) -> str:
    """The status line the dashboard answers ``request`` (its lines, plus ``origin``) with."""
    lines = [*request, *([f"Origin: {origin}"] if origin is not None else [])]
    address, port = server.netloc.rsplit(":", 1)
    with socket.create_connection((address, int(port)), timeout=30) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return connection.recv(4096).split(b"\r\n", 1)[0].decode()


def _handshake(host: str) -> list[str]:
    """A websocket handshake on Streamlit's stream, as a browser opens it."""
    return [
        "GET /_stcore/stream HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Protocol: streamlit",
    ]


#: id: (Host, Origin, answered): ``{own}`` is the served host:port, ``{port}`` its port.
REQUESTS = {
    "own-page": ("{own}", "http://{own}", True),
    "own-no-origin": ("{own}", None, True),
    "localhost-alias": ("localhost:{port}", "http://localhost:{port}", True),
    "foreign-origin": ("{own}", "http://evil.example", False),
    "other-local-server": ("{own}", "http://localhost:3000", False),
    "null-origin": ("{own}", "null", False),
    "dns-rebinding": ("evil.example:{port}", "http://evil.example:{port}", False),
    "foreign-host-no-origin": ("evil.example:{port}", None, False),
}


@pytest.mark.parametrize(("host", "origin", "answered"), REQUESTS.values(), ids=REQUESTS)
def test_only_the_dashboards_own_pages_reach_it(
    server: Server, host: str, origin: str | None, answered: bool
) -> None:
    port = server.netloc.rsplit(":", 1)[1]
    host = host.format(own=server.netloc, port=port)
    origin = origin.format(own=server.netloc, port=port) if origin else None
    websocket = _status_line(server, _handshake(host), origin)
    plain = _status_line(
        server, ["GET /_stcore/health HTTP/1.1", f"Host: {host}", "Connection: close"], origin
    )
    if answered:
        assert websocket.split()[1] == "101", websocket
        assert plain.split()[1] == "200", plain
    else:
        assert websocket.split()[1] == "403", websocket
        assert plain.split()[1] == "403", plain


def test_filters_download_and_privacy_on_workers(visit: Visit, server: Server) -> None:
    page = visit.page
    open_page(visit, "/workers")

    pick(page, "filters_range", "All time")
    page.wait_for_url(re.compile(r"[?&]range=all"))
    wait_until_settled(page)
    assert (
        page.locator('[data-testid="stCaptionContainer"]')
        .first.inner_text()
        .startswith("all data up to")
    )

    pick(page, "filters_teams", "text-team")
    page.wait_for_url(re.compile(r"[?&]team=text-team"))
    page.keyboard.press("Escape")  # close the multiselect's list
    wait_until_settled(page)
    assert_no_exception(page)
    assert query(page)["range"] == ["all"]
    assert query(page)["team"] == ["text-team"]
    assert "text-team" in page.locator(".st-key-filters_teams").inner_text()

    store = Store(server.store)
    expected = worker_summary(load_team_data(store, Filters(workteams=("text-team",))))
    count = page.get_by_text(re.compile(r"of [\d,]+ workers shown"))
    assert count.inner_text().startswith(f"{len(expected)} of {len(expected)} workers shown")

    downloaded = download_workers_csv(page)
    assert downloaded == workers_csv_bytes(expected, timezone="UTC")
    rows = list(csv.DictReader(io.StringIO(downloaded.decode("utf-8"))))
    assert rows, "the download has no row"
    assert set(rows[0]) >= CONTRACT_COLUMNS, CONTRACT_COLUMNS - set(rows[0])
    assert {r["worker_key"] for r in rows} == set(expected["worker_key"])
    slow = {r["username"] for r in rows if r["slow_flag"] == "true"}
    assert "thiago.pereira" in slow
    screenshot(page, "workers-text-team-all-time")

    page.locator(".st-key-filters_private label").first.click()
    page.wait_for_url(re.compile(r"[?&]private=1"))
    wait_until_settled(page)
    assert_no_exception(page)
    # st.dataframe draws on a canvas: read its accessible cells besides the page's text. The
    # grid redraws a moment after the script run ends: wait for the first name to change.
    first_name = page.get_by_test_id("stDataFrame").get_by_test_id("glide-cell-0-0")
    expect(first_name).to_have_text(PSEUDONYM)
    cells = page.locator('[data-testid="stDataFrame"] [role="gridcell"]').all_text_contents()
    assert cells, "the workers table exposes no accessible cell"
    assert EMAIL.findall(page.locator("body").inner_text()) == []
    assert [c for c in cells if EMAIL.search(c)] == []
    assert "thiago.pereira" not in page.locator("body").inner_text()
    private = download_workers_csv(page).decode("utf-8")
    assert EMAIL.findall(private) == []
    private_rows = list(csv.DictReader(io.StringIO(private)))
    assert {r["worker_key"] for r in private_rows} == {
        pseudonym(str(key)) for key in expected["worker_key"]
    }
    screenshot(page, "workers-private")

    # The filters are kept when moving to another page through the navigation.
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Overview").click()
    page.locator("h1", has_text="Team overview").wait_for()
    wait_until_settled(page)
    assert_no_exception(page)
    assert query(page).get("team") == ["text-team"]
    assert query(page).get("private") == ["1"]
    assert EMAIL.findall(page.locator("body").inner_text()) == []
    screenshot(page, "overview-text-team-private")
    assert_only_own_host(visit)


def test_the_overview_draws_the_chart_of_the_tab_it_opens(visit: Visit) -> None:
    open_page(visit, "/")
    page = visit.page
    legend = page.locator(".js-plotly-plot .legendtext")
    # The planted team name is drawn as its text, not as bold markup or a link.
    assert sorted(legend.all_text_contents()) == sorted([visit.server.names.team, "text-team"])
    page.get_by_role("tab", name="All outcomes").click()
    page.locator(".js-plotly-plot .legendtext", has_text="Returned").wait_for()
    wait_until_settled(page)
    assert_no_exception(page)
    # Only the open tab's chart is drawn: the per-team lines are gone, the outcomes are there.
    assert sorted(legend.all_text_contents()) == ["Declined", "Returned", "Submitted"]
    screenshot(page, "overview-all-outcomes")
    assert_only_own_host(visit)


def test_the_server_prints_no_error_nor_warning(visit: Visit, server: Server) -> None:
    """Run last: after every page (and the look-ahead each one starts), nothing to alarm anyone."""
    open_page(visit, "/")
    printed = server.output.read_text(errors="replace")
    assert "You can now view your Streamlit app" in printed, printed
    for alarming in ("Traceback", "Error", "WARNING", "missing ScriptRunContext"):
        assert alarming not in printed, printed


#: The response charts (issue 11) and a text each draws once it has data.
RESPONSE_CHARTS = {
    "/workers": "fast and agreeing",  # a quadrant's name in the speed-against-agreement chart
    "/jobs": "Active (responses, pauses excluded)",  # the active-against-wall legend
}


@pytest.mark.parametrize("path", RESPONSE_CHARTS, ids=lambda p: p.strip("/"))
def test_response_charts_render_with_no_error(visit: Visit, server: Server, path: str) -> None:
    if not len(load_team_data(Store(server.store)).responses):
        pytest.skip("the sample has no worker responses yet (issue 11's sample data)")
    page = visit.page
    # Over all time: the sample's job outputs are older than the default seven days.
    page.goto(visit.server.url + path + "?range=all&tz=UTC")
    page.locator("h1", has_text=PAGES[path][0]).first.wait_for()
    wait_until_settled(page)
    page.locator(".js-plotly-plot", has_text=RESPONSE_CHARTS[path]).first.wait_for()
    assert_no_exception(page)
