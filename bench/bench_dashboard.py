"""Benchmark: the dashboard on a store of 1,000,000 events, measured in a real browser.

Usage (from the repository root)::

    .venv/bin/python -m bench.bench_dashboard                    # 1,000,000 events
    .venv/bin/python -m bench.bench_dashboard --events 100000    # a quicker run

What it does:

1. Builds (once; cached under ``bench/results/store-<N>/``) a store of ``--events`` synthetic
   worker-activity events shaped like ``sample_logs/``: about 200 workers in 2 work teams, 4
   labeling jobs, 30 days, written as JSON lines and loaded with ``analytics.ingest.ingest_paths``
   (the path ``gt-throughput ingest`` takes).
2. Starts ``gt-throughput dashboard`` on it and drives Debian's chromium with Playwright:

   - **Overview, cold**: the first load after the server answered its health check, from
     ``page.goto`` until the title, the four KPI cards and every plotly chart are drawn and the
     script run has ended. The server reads the store and computes the default Overview before
     it answers (``dashboard/lookahead.py``), so this is the first browser session, not the first
     read of the store.
   - **Overview, warm**: the same in a new session (a new browser context), caches filled.
   - **Filter change**: in the Overview, pick another date range and another team in the sidebar
     (the real widgets) and time from the click until the page has settled with its charts
     drawn; the script run itself (``data-test-script-state`` running → notRunning, timed in the
     page) is reported apart. Each change is made twice: first to a view the server may have
     looked ahead at (``lookahead.look_ahead``: other date presets, each team alone), then back and
     forth again (cached). A last change picks a labeling job, which nothing looks ahead at: the
     cost of computing a view on demand.

3. Times in this process, on the same store, the ``analytics`` calls the Overview makes on a
   cache miss (read the store and convert it to pandas, cut it to the filters, ``kpis``,
   ``throughput_series``, ``activity_heatmap``, ``worker_summary``, ``backlog_status``,
   ``alerts``), to show which step dominates.

Prints a markdown section and writes ``bench/results/dashboard.json``. Targets (issue 5): Overview
under 3 s; a filter change under 0.5 s of server time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from analytics import (
    Filters,
    Store,
    activity_heatmap,
    alerts,
    backlog_status,
    ingest_paths,
    kpis,
    last_log_sync,
    load_team_data,
    previous_period,
    restrict,
    throughput_series,
    worker_summary,
)
from tests.support.served_dashboard import HEADLESS_CHROMIUM_ARGS, PAGE_SETTLED_JS, serve_dashboard

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = REPO_ROOT / "bench" / "results"
TARGET_OVERVIEW_SECONDS = 3.0
TARGET_FILTER_SECONDS = 0.5

ACCOUNT = "123456789012"
POOL = "us-east-1_BenchPool1"
#: Team -> its jobs and their typical task time in seconds.
TEAMS = {
    "image-team": {"street-scenes-bbox": 90.0, "aerial-roads-segmentation": 240.0},
    "text-team": {"support-tickets-intent": 20.0, "product-reviews-sentiment": 35.0},
}
DAYS = 30
LAST_DAY = dt.date(2026, 11, 8)
VIEWPORT: ViewportSize = {"width": 1440, "height": 1200}
TIMEOUT_MS = 180_000
SETTLED = PAGE_SETTLED_JS
#: The Overview is drawn: title, four KPI values, and every plotly chart on screen has its SVG.
OVERVIEW_DRAWN = (
    """() => {
    const settled = ("""
    + SETTLED
    + """)();
    if (!settled || document.querySelector('h1') === null) return false;
    if (document.querySelectorAll('[data-testid="stMetricValue"]').length < 4) return false;
    const charts = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'))
        .filter(c => c.offsetParent !== null);
    return charts.length >= 2 && charts.every(c => c.querySelector('.main-svg') !== null);
}"""
)
#: Times each script run in the page: running -> notRunning, on the page's clock.
RUN_RECORDER = """() => {
    window.__runs = [];
    const app = document.querySelector('[data-testid="stApp"]');
    new MutationObserver(() => {
        const state = app.getAttribute('data-test-script-state');
        const last = window.__runs[window.__runs.length - 1];
        if (state === 'running' && (!last || last.end !== null)) {
            window.__runs.push({start: performance.now(), end: null});
        } else if (state !== 'running' && last && last.end === null) {
            last.end = performance.now();
        }
    }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


# --------------------------------------------------------------------------- the synthetic store
def _log_time(epoch_seconds: float) -> str:
    """Ground Truth's ``task_*_time`` format: ``Mon Oct 26 02:39:00 UTC 2026``."""
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(epoch_seconds))


def _workers(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """``count`` workers; 60 % in the image team, two of them planted slow."""
    workers = []
    team_names = list(TEAMS)
    for index in range(count):
        team = team_names[0] if index < count * 0.6 else team_names[1]
        workers.append(
            {
                "worker_id": f"{rng.getrandbits(64):016x}",
                "sub": f"{rng.getrandbits(128):032x}",
                "team": team,
                "jobs": list(TEAMS[team]),
                "speed": 2.5 if index in (0, count - 1) else rng.lognormvariate(0, 0.1),
                "start_hour": rng.choice([1, 4, 8, 13, 14]),  # where they live, in UTC
            }
        )
    return workers


def write_events(folder: Path, events: int, workers: int = 200, seed: int = 20261108) -> int:
    """Write ``events`` worker-activity messages as JSON lines, one file per day; returns count.

    Each worker works every day of the 30, from their local morning, one task after the other;
    about 97 % of tasks are submitted, 2.5 % returned and 0.5 % declined.
    """
    rng = random.Random(seed)
    cast = _workers(workers, rng)
    first_day = LAST_DAY - dt.timedelta(days=DAYS - 1)
    per_slot, extra = divmod(events, workers * DAYS)
    written = 0
    folder.mkdir(parents=True, exist_ok=True)
    for day_index in range(DAYS):
        day = first_day + dt.timedelta(days=day_index)
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp()
        lines: list[str] = []
        for worker_index, worker in enumerate(cast):
            slot = day_index * workers + worker_index
            count = per_slot + (1 if slot < extra else 0)
            clock = midnight + worker["start_hour"] * 3600 + rng.uniform(0, 1800)
            team_arn = (
                f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:workteam/private-crowd/{worker['team']}"
            )
            for _ in range(count):
                job = rng.choice(worker["jobs"])
                seconds = TEAMS[worker["team"]][job] * worker["speed"] * rng.lognormvariate(0, 0.3)
                accepted = clock
                finished = accepted + max(seconds, 2.0)
                clock = finished + rng.expovariate(1 / 8.0)
                draw = rng.random()
                outcome = "submitted" if draw < 0.97 else "returned" if draw < 0.995 else "declined"
                message = {
                    "worker_id": worker["worker_id"],
                    "cognito_user_pool_id": POOL,
                    "cognito_sub_id": worker["sub"],
                    "task_accepted_time": _log_time(accepted),
                    "task_submitted_time": _log_time(finished) if outcome == "submitted" else "",
                    "task_returned_time": _log_time(finished) if outcome == "returned" else "",
                    "task_declined_time": _log_time(finished) if outcome == "declined" else "",
                    "workteam_arn": team_arn,
                    "labeling_job_arn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:labeling-job/{job}",
                    "work_requester_account_id": ACCOUNT,
                    "job_reference_code": f"{abs(hash(job)) % (1 << 48):012x}",
                    "job_type": "Private",
                    "event_type": f"Tasks{outcome.title()}",
                    "event_timestamp": str(int(finished)),
                }
                lines.append(json.dumps(message, separators=(",", ":")))
        (folder / f"worker-activity-{day.isoformat()}.jsonl").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )
        written += len(lines)
    return written


def bench_store(events: int) -> tuple[Path, dict[str, float]]:
    """The store of ``events`` synthetic events, built once and reused (``bench/results/``)."""
    root = RESULTS / f"store-{events}"
    marker = root / "bench-built.json"
    if marker.exists():
        return root, json.loads(marker.read_text())["seconds"]
    if root.exists():
        shutil.rmtree(root)  # a half-built store from an interrupted run
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-logs-") as logs:
        started = time.perf_counter()
        written = write_events(Path(logs), events)
        timings["write_json_lines"] = time.perf_counter() - started
        started = time.perf_counter()
        report = ingest_paths(Store(root), [Path(logs)])
        timings["ingest"] = time.perf_counter() - started
    stored = Store(root).summary().events
    if stored != written:
        raise SystemExit(f"the store holds {stored:,} events, {written:,} were written: {report}")
    marker.write_text(json.dumps({"events": stored, "seconds": timings}))
    return root, timings


# --------------------------------------------------------------------------- browser measures
def load_overview(browser: Browser, url: str) -> tuple[dict[str, float], Page]:
    """Seconds from ``goto`` to the title and to a fully drawn Overview, in a new session."""
    context = browser.new_context(viewport=VIEWPORT, timezone_id="UTC")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url + "/")
    page.locator("h1").first.wait_for(timeout=TIMEOUT_MS)
    title = time.perf_counter() - started
    page.wait_for_function(OVERVIEW_DRAWN, timeout=TIMEOUT_MS, polling=20)
    seconds = time.perf_counter() - started
    errors = page.locator('[data-testid="stException"]').all_inner_texts()
    if errors:
        raise SystemExit(f"the Overview shows an exception: {errors}")
    return {"title_seconds": title, "drawn_seconds": seconds}, page


def change_filter(page: Page, widget_key: str, option: str, url_pattern: str) -> dict[str, float]:
    """Pick ``option`` in a sidebar widget; seconds until settled, and of the script run."""
    page.evaluate("() => { window.__runs = window.__runs || []; window.__runs.length = 0; }")
    page.locator(f'.st-key-{widget_key} input[role="combobox"]').click()
    option_locator = page.get_by_role("option", name=option, exact=True)
    option_locator.wait_for()
    clicked = page.evaluate("() => performance.now()")
    started = time.perf_counter()
    option_locator.click()
    page.wait_for_url(re.compile(url_pattern))
    measures, runs = _settle(page, started)
    page.keyboard.press("Escape")
    return {**measures, "click_to_run_end_seconds": (runs[-1]["end"] - clicked) / 1000}


def _settle(page: Page, started: float) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Wait until the script runs are over and the Overview is drawn; the measures and runs."""
    page.wait_for_function(
        "() => window.__runs.length > 0 && window.__runs.every(r => r.end !== null)",
        timeout=TIMEOUT_MS,
        polling=10,
    )
    page.wait_for_function(OVERVIEW_DRAWN, timeout=TIMEOUT_MS, polling=10)
    settled = time.perf_counter() - started
    runs: list[dict[str, float]] = page.evaluate("() => window.__runs")
    measures = {
        "settled_seconds": settled,
        "script_run_seconds": sum(r["end"] - r["start"] for r in runs) / 1000,
        "runs": len(runs),
    }
    return measures, runs


def remove_team(page: Page, option: str) -> dict[str, float]:
    """Clear the team multiselect (back to all teams); same measures as ``change_filter``."""
    page.evaluate("() => { window.__runs.length = 0; }")
    started = time.perf_counter()
    page.get_by_role("button", name=f"Remove {option}").first.click()
    return _settle(page, started)[0]


def browser_measures(store: Path, repeat: int) -> dict[str, Any]:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        raise SystemExit("chromium is missing: install Debian's `chromium` package")
    RESULTS.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {}
    with (
        serve_dashboard(store, RESULTS / "dashboard-server.log") as url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=executable, args=HEADLESS_CHROMIUM_ARGS
        )
        try:
            cold, page = load_overview(browser, url)
            page.context.close()
            result["overview_cold_seconds"] = cold
            warm: list[dict[str, float]] = []
            for _ in range(repeat):
                seconds, page = load_overview(browser, url)
                warm.append(seconds)
                page.context.close()
            result["overview_warm_seconds"] = warm

            _, page = load_overview(browser, url)
            page.evaluate(RUN_RECORDER)
            changes: dict[str, list[dict[str, float]]] = {
                "range 7d -> 30d (first time)": [],
                "range 30d -> 7d (cached)": [],
                "team: all -> text-team (first time)": [],
                "team: text-team -> all (cached)": [],
                "job: all -> one job (never looked ahead)": [],
            }
            changes["range 7d -> 30d (first time)"].append(
                change_filter(page, "filters_range", "Last 30 days", r"range=30d")
            )
            for _ in range(repeat):
                changes["range 30d -> 7d (cached)"].append(
                    change_filter(page, "filters_range", "Last 7 days", r"range=7d")
                )
                change_filter(page, "filters_range", "Last 30 days", r"range=30d")
            change_filter(page, "filters_range", "Last 7 days", r"range=7d")
            changes["team: all -> text-team (first time)"].append(
                change_filter(page, "filters_teams", "text-team", r"team=text-team")
            )
            for _ in range(repeat):
                changes["team: text-team -> all (cached)"].append(remove_team(page, "text-team"))
                change_filter(page, "filters_teams", "text-team", r"team=text-team")
            # Jobs are not looked ahead: this is the cost of a view nothing prepared.
            changes["job: all -> one job (never looked ahead)"].append(
                change_filter(
                    page, "filters_jobs", "support-tickets-intent", r"job=support-tickets-intent"
                )
            )
            page.context.close()
            result["filter_changes"] = changes
        finally:
            browser.close()
    return result


# --------------------------------------------------------------------------- server-side compute
def _timed(timings: dict[str, float], name: str, call: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    value = call()
    timings[name] = time.perf_counter() - started
    return value


def compute_measures(store_root: Path, team: str | None, days: int = 7) -> dict[str, float]:
    """The Overview's ``analytics`` calls on a cache miss for the last ``days`` days."""
    timings: dict[str, float] = {}
    store = Store(store_root)
    # As the dashboard does (``dashboard/cache.py``): the whole store read and converted once,
    # then cut to each view.
    everything = _timed(
        timings, "read + to pandas: whole store (once)", lambda: load_team_data(store)
    )
    synced = last_log_sync(store.read_state())
    until = (everything.as_of + dt.timedelta(milliseconds=1)).to_pydatetime()
    filters = Filters(
        since=until - dt.timedelta(days=days), until=until, workteams=(team,) if team else ()
    )
    current = _timed(
        timings, "cut: window", lambda: restrict(everything, filters, last_log_sync=synced)
    )
    previous = _timed(
        timings,
        "cut: previous window",
        lambda: restrict(everything, previous_period(filters, current.as_of), last_log_sync=synced),
    )
    _timed(timings, "kpis", lambda: kpis(current, previous))
    _timed(
        timings,
        "throughput_series (team, day)",
        lambda: throughput_series(current, "workteam", "D", "UTC"),
    )
    _timed(timings, "activity_heatmap", lambda: activity_heatmap(current, "UTC"))
    workers = _timed(timings, "worker_summary", lambda: worker_summary(current))
    status = _timed(timings, "backlog_status", lambda: backlog_status(current))
    _timed(timings, "alerts", lambda: alerts(current, workers, status))
    return timings


# --------------------------------------------------------------------------- report
def machine() -> dict[str, Any]:
    model = "unknown"
    with Path("/proc/cpuinfo").open() as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    with Path("/proc/meminfo").open() as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "load_average_1min": os.getloadavg()[0],
    }


def report(result: dict[str, Any]) -> str:
    browser, box = result["browser"], result["machine"]
    cold, warm = browser["overview_cold_seconds"], browser["overview_warm_seconds"]
    lines = [
        f"## Dashboard on {result['events']:,} events",
        "",
        f"Machine: {box['cpus']} CPUs ({box['cpu_model']}), {box['memory_gib']} GiB, "
        f"load average {box['load_average_1min']:.1f} at the start.",
        "",
        "| measure | seconds | target |",
        "| --- | ---: | ---: |",
        f"| Overview, cold (first load after start, reads the store): title / fully drawn | "
        f"{cold['title_seconds']:.2f} / {cold['drawn_seconds']:.2f} "
        f"| < {TARGET_OVERVIEW_SECONDS:g} |",
        f"| Overview, warm (new session), median of {len(warm)}: title / fully drawn | "
        f"{statistics.median(w['title_seconds'] for w in warm):.2f} / "
        f"{statistics.median(w['drawn_seconds'] for w in warm):.2f} "
        f"| < {TARGET_OVERVIEW_SECONDS:g} |",
    ]
    for name, runs in browser["filter_changes"].items():
        settled = statistics.median(r["settled_seconds"] for r in runs)
        script = statistics.median(r["script_run_seconds"] for r in runs)
        lines.append(
            f"| Filter change {name}: script run (server) / until settled | "
            f"{script:.2f} / {settled:.2f} | < {TARGET_FILTER_SECONDS:g} |"
        )
    lines += [
        "",
        "Server-side compute of the Overview on a cache miss (all teams), in process:",
        "",
        "| step | 7 days (s) | 30 days (s) |",
        "| --- | ---: | ---: |",
    ]
    lines += [
        f"| {name} | {seconds:.3f} | {result['compute_30d'][name]:.3f} |"
        for name, seconds in result["compute"].items()
    ]
    lines += ["", f"Store built in: {json.dumps(result['store_build_seconds'])}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the store")
    parser.add_argument("--repeat", type=int, default=3, help="warm repetitions of each measure")
    args = parser.parse_args(argv)
    if args.events < 200 * DAYS:
        parser.error(f"--events must be at least {200 * DAYS} (got {args.events})")
    result: dict[str, Any] = {"events": args.events, "machine": machine()}
    print(f"building or reusing the store of {args.events:,} events…", file=sys.stderr)
    store, build = bench_store(args.events)
    result["store_build_seconds"] = build
    print("timing the analytics calls in process…", file=sys.stderr)
    result["compute"] = compute_measures(store, None)
    result["compute_30d"] = compute_measures(store, None, days=30)
    print("driving the dashboard in chromium…", file=sys.stderr)
    result["browser"] = browser_measures(store, args.repeat)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "dashboard.json").write_text(json.dumps(result, indent=2) + "\n")
    print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
