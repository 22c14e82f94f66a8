"""The service's pure parts: the configuration file, the back-off, the freshness reading of
the state, and the store's version token."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from analytics.errors import UsageError
from analytics.ingest.run import ingest_paths
from analytics.service.config import SECTION_KEYS, load_config
from analytics.service.freshness import ago, freshness_line, status_lines, sync_health
from analytics.service.schedule import backoff_seconds
from analytics.store.store import Store, store_version
from tests.conftest import REPO_ROOT, message_line

EXAMPLE = REPO_ROOT / "gt-throughput.example.toml"
NOW = dt.datetime(2026, 12, 1, 9, 17, tzinfo=dt.UTC)


# --------------------------------------------------------------------------- configuration
def test_the_example_configuration_loads_and_shows_every_key() -> None:
    config = load_config(EXAMPLE)
    assert config.store == Path("/var/lib/gt-throughput")
    assert config.schedule.interval_minutes == 15
    text = EXAMPLE.read_text(encoding="utf-8")
    for section, keys in SECTION_KEYS.items():
        assert f"[{section}]" in text
        for key in keys:
            # Set or commented out, and explained by a comment above it.
            assert re.search(rf"^(# )?{key} = ", text, re.MULTILINE), key
    assert "[auth]" in text
    assert "[access]" in text


def test_a_relative_store_is_taken_from_the_config_files_folder(tmp_path: Path) -> None:
    config = tmp_path / "etc" / "gt.toml"
    config.parent.mkdir()
    config.write_text('[store]\npath = "data"\n[auth]\nclient_secret_file = "/run/s"\n')
    loaded = load_config(config)
    assert loaded.store == config.parent.resolve() / "data"
    assert loaded.auth == {"client_secret_file": "/run/s"}
    assert "client_secret_file" not in repr(loaded)


CONFIG_ERRORS = [
    pytest.param("[store]\npath = \n", "not valid TOML", id="not-toml"),
    pytest.param("[aws]\nregion = 'us-east-1'\n", "[store] path is missing", id="no-store"),
    pytest.param("[store]\n", "[store] path is missing", id="store-without-path"),
    pytest.param("store = 'x'\n", "[store] must be a table", id="store-not-table"),
    pytest.param("[store]\npath = 'x'\n[shedule]\n", "did you mean [schedule]", id="section"),
    pytest.param(
        "[store]\npath = 'x'\n[schedule]\nintervall_minutes = 5\n",
        "[schedule] has an unknown key 'intervall_minutes': did you mean interval_minutes?",
        id="key-typo",
    ),
    pytest.param(
        "[store]\npath = 'x'\n[schedule]\ninterval_minutes = '15'\n",
        "[schedule] interval_minutes must be a number",
        id="interval-text",
    ),
    pytest.param(
        "[store]\npath = 'x'\n[schedule]\ninterval_minutes = 0\n",
        "[schedule] interval_minutes = 0 is out of range",
        id="interval-zero",
    ),
    pytest.param(
        "[store]\npath = 'x'\n[schedule]\ninterval_minutes = nan\n",
        "[schedule] interval_minutes = nan is out of range",
        id="interval-nan",
    ),
    pytest.param(
        "[store]\npath = 'x'\n[schedule]\ninterval_minutes = 30\nmax_backoff_minutes = 10\n",
        "[schedule] max_backoff_minutes = 10 is out of range: give a number from 30",
        id="backoff-below-interval",
    ),
    pytest.param(
        "[store]\npath = 'x'\n[schedule]\nenabled = 'yes'\n",
        "[schedule] enabled must be true or false",
        id="enabled-text",
    ),
    pytest.param(
        "[store]\npath = 'x'\n[aws]\nregion = 5\n", "[aws] region must be a non-empty", id="region"
    ),
    pytest.param(
        "[store]\npath = 'x'\n[aws]\nendpoint_url = 'localhost:5000'\n",
        "[aws] endpoint_url 'localhost:5000' is not a URL",
        id="endpoint",
    ),
    pytest.param(
        "[store]\npath = 'x'\n[dashboard]\nport = 70000\n",
        "[dashboard] port = 70000: give a whole number from 1 to 65535",
        id="port",
    ),
    pytest.param(
        "[store]\npath = 'x'\n[dashboard]\nallow_hosts = 'gt.example.com'\n",
        "[dashboard] allow_hosts must be a list of names",
        id="allow-hosts",
    ),
    pytest.param("auth = 3\n[store]\npath = 'x'\n", "[auth] must be a table", id="auth-value"),
]


@pytest.mark.parametrize(("text", "needle"), CONFIG_ERRORS)
def test_a_wrong_configuration_is_one_line_naming_the_key_and_the_fix(
    tmp_path: Path, text: str, needle: str
) -> None:
    path = tmp_path / "gt.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as raised:
        load_config(path)
    message = str(raised.value)
    assert needle in message
    assert str(path) in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        pytest.param(lambda p: p, "no such file", id="missing"),
        pytest.param(lambda p: (p.mkdir(), p)[1], "is a folder", id="folder"),
        pytest.param(lambda p: (p.write_bytes(b"\xff\xfe[store]"), p)[1], "not UTF-8", id="bytes"),
    ],
)
def test_a_config_file_that_cannot_be_read_is_named(tmp_path: Path, make: Any, needle: str) -> None:
    path = make(tmp_path / "gt.toml")
    with pytest.raises(UsageError, match=needle):
        load_config(path)


# --------------------------------------------------------------------------- back-off
@pytest.mark.parametrize(
    ("failures", "expected"),
    [
        pytest.param(0, 900, id="healthy-every-interval"),
        pytest.param(1, 1800, id="one-failure-doubles"),
        pytest.param(2, 3600, id="two-failures-quadruple"),
        pytest.param(3, 3600, id="bounded"),
        pytest.param(10_000, 3600, id="no-overflow"),
    ],
)
def test_back_off_doubles_after_each_failure_up_to_the_bound(
    failures: int, expected: float
) -> None:
    assert backoff_seconds(failures, 900, 3600) == expected


# --------------------------------------------------------------------------- freshness
def _part(at: str, ok: bool, **more: Any) -> dict[str, Any]:
    return {"at": at, "ok": ok, "message": None if ok else "AccessDenied", **more}


HEALTH_CASES = [
    pytest.param({}, False, [], None, id="never-synced-no-schedule"),
    pytest.param(
        {"schedule": {"interval_seconds": 900}}, True, [], None, id="scheduled-never-synced"
    ),
    pytest.param(
        {
            "schedule": {"interval_seconds": 900},
            "last_sync": {"worker activity": _part("2026-12-01T09:14:00+00:00", True)},
        },
        False,
        [],
        dt.datetime(2026, 12, 1, 9, 14, tzinfo=dt.UTC),
        id="fresh",
    ),
    pytest.param(
        {
            "schedule": {"interval_seconds": 900},
            "last_sync": {"worker activity": _part("2026-12-01T08:30:00+00:00", True)},
        },
        True,
        [],
        dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC),
        id="stale-after-three-intervals",
    ),
    pytest.param(
        {
            "schedule": {
                "interval_seconds": 900,
                "consecutive_failures": 2,
                "last_error": "endpoint unreachable",
                "last_error_at": "2026-12-01T09:00:00+00:00",
            },
            "last_sync": {
                "worker activity": _part(
                    "2026-12-01T09:00:00+00:00",
                    False,
                    last_success_at="2026-12-01T08:59:00+00:00",
                    last_error="endpoint unreachable",
                )
            },
        },
        False,
        ["sync failing since 2026-12-01 09:00 UTC (2 runs)", "worker activity: not synced"],
        dt.datetime(2026, 12, 1, 8, 59, tzinfo=dt.UTC),
        id="failing-keeps-last-success",
    ),
    pytest.param(
        {
            "schedule": {"interval_seconds": "900", "consecutive_failures": True},
            "last_sync": {"worker activity": {"at": 5, "ok": "yes"}, "x": []},
        },
        False,
        [],
        None,
        id="hand-edited-values-read-as-absent",
    ),
]


@pytest.mark.parametrize(("state", "stale", "failing", "synced"), HEALTH_CASES)
def test_sync_health_reads_staleness_failures_and_the_last_success(
    state: dict[str, Any], stale: bool, failing: list[str], synced: dt.datetime | None
) -> None:
    health = sync_health(state, NOW)
    assert health.stale is stale
    assert len(health.failing) == len(failing)
    for line, start in zip(health.failing, failing, strict=True):
        assert line.startswith(start), line
    assert health.synced_at == synced


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "just now"),
        (59, "just now"),
        (180, "3 min ago"),
        (7200, "2 h ago"),
        (3 * 86400, "3 days ago"),
    ],
)
def test_ago(seconds: float, text: str) -> None:
    assert ago(NOW - dt.timedelta(seconds=seconds), NOW) == text


def test_the_freshness_line_says_data_as_of_and_synced_ago_in_the_viewers_zone() -> None:
    state = {"last_sync": {"worker activity": _part("2026-12-01T09:14:00+00:00", True)}}
    health = sync_health(state, NOW)
    as_of = dt.datetime(2026, 12, 1, 9, 14, tzinfo=dt.UTC)
    assert freshness_line(health, as_of, NOW, "UTC") == "data as of 09:14, synced 3 min ago"
    assert freshness_line(health, as_of, NOW, "Asia/Tokyo").startswith("data as of 18:14")
    earlier = as_of - dt.timedelta(days=2)
    assert freshness_line(health, earlier, NOW, "UTC").startswith("data as of Nov 29 09:14")


def test_status_lists_each_parts_last_success_and_last_error() -> None:
    state = {
        "schedule": {"interval_seconds": 900},
        "last_sync": {
            "identities": _part(
                "2026-12-01T09:00:00+00:00",
                False,
                last_success_at="2026-11-30T09:00:00+00:00",
                last_error="AccessDenied: cognito-idp:ListUsers",
                last_error_at="2026-12-01T09:00:00+00:00",
            )
        },
    }
    text = "\n".join(status_lines(state, NOW))
    assert "schedule:     every 15 min" in text
    assert "identities: NOT SYNCED" in text
    assert "last success: 2026-11-30 09:00 UTC" in text
    assert "last error:   2026-12-01 09:00 UTC (17 min ago): AccessDenied" in text


# --------------------------------------------------------------------------- store version
def test_every_write_gives_the_store_a_new_version(tmp_path: Path) -> None:
    root = tmp_path / "store"
    assert store_version(root) == "unversioned"
    store = Store(root)
    source = tmp_path / "log.jsonl"
    source.write_text(message_line() + "\n", encoding="utf-8")
    seen = []
    for write in (
        lambda: ingest_paths(store, [source]),
        lambda: store.update_state(lambda state: state.update(a=1)),
        # The same bytes again at once: on a file system with coarse times, sizes and mtimes
        # would not tell these two writes apart.
        lambda: store.update_state(lambda state: state.update(a=1)),
        lambda: store.replace_table("jobs", store.read_table("jobs")),
    ):
        write()
        seen.append(store_version(root))
    assert len(set(seen)) == len(seen)
    assert "unversioned" not in seen
    # A store deleted and made again never repeats a version a cache may still hold.
    for path in sorted(root.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    Store(root).update_state(lambda state: state.update(a=1))
    assert store_version(root) not in seen
