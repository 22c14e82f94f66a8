"""The digest's pure parts: rendering with every data string literal, the receivers' limits,
``--only-new``'s memory of windows, the ``[digest]`` table and its daylight-saving-proof due
times, and the composition of a pseudonymised store."""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from typing import Any

import pytest

from analytics.digest.compose import Digest, Item, Section, alert_id
from analytics.digest.render import (
    SLACK_MAX_BLOCKS,
    SLACK_MAX_SECTION_CHARS,
    SNS_MAX_MESSAGE_BYTES,
    fit_sns_message,
    render_html,
    render_slack,
    render_text,
    subject_line,
)
from analytics.digest.state import sent_alerts
from analytics.errors import UsageError
from analytics.service.config import load_config
from analytics.service.digest_schedule import next_due
from analytics.text import escape_controls
from tests.support.hostile_identities import HOSTILE_TEXTS
from tests.support.receivers import MARKUP_NAMES

UTC = dt.UTC
SINCE = dt.datetime(2026, 11, 1, tzinfo=UTC)
UNTIL = dt.datetime(2026, 11, 2, tzinfo=UTC)


def digest_of(*names: str, items_per_section: int = 1) -> Digest:
    items = tuple(
        Item(f"{name}: on job-a: median 50.0 s", alert_id("slow", f"{name}{index}"))
        for name in names
        for index in range(items_per_section)
    )
    return Digest(SINCE, UNTIL, "window", (Section("slow", "Slow workers", items, "none"),))


# --------------------------------------------------------------------------- rendering
#: Every hostile name, by what it tries (the very long one aside: it is cut by Slack's limit).
RENDER_CASES = {**MARKUP_NAMES, **{k: v for k, v in HOSTILE_TEXTS.items() if 0 < len(v) < 1000}}


@pytest.mark.parametrize("name", list(RENDER_CASES.values()), ids=list(RENDER_CASES))
def test_every_rendering_shows_a_hostile_name_literally(name: str) -> None:
    digest = digest_of(name)
    literal = escape_controls(name)
    text, page, slack = render_text(digest), render_html(digest), render_slack(digest)
    assert literal in text
    assert "\r" not in text
    assert "\x00" not in text
    assert html.escape(literal) in page
    assert html.unescape(page).count(literal) >= 1
    for rendered in (page, json.dumps(slack, ensure_ascii=False)):
        for markup in ("<script", "<b>", "<!channel>", "<@U0BOSS>", "<http://evil"):
            assert markup not in rendered
    body = slack["blocks"]
    shown = [b["text"]["text"] for b in body if b.get("text", {}).get("type") == "plain_text"]
    assert any(html.unescape(s).count(literal) for s in shown)
    assert slack["text"].strip()


def test_a_slack_message_keeps_to_slacks_limits_and_says_what_it_left_out() -> None:
    names = [f"worker-{i} " + "x" * 400 for i in range(40)]
    sections = tuple(
        Section(f"s{n}", f"Section {n}", digest_of(*names).sections[0].items, "none")
        for n in range(12)
    )
    slack = render_slack(Digest(SINCE, UNTIL, "window", sections))
    assert len(slack["blocks"]) <= SLACK_MAX_BLOCKS
    for block in slack["blocks"]:
        assert len(block.get("text", {}).get("text", "")) <= SLACK_MAX_SECTION_CHARS
    assert "left out" in slack["blocks"][-1]["elements"][0]["text"]
    assert len(slack["text"]) <= 40_000


@pytest.mark.parametrize(
    ("size", "cut"),
    [(1_000, False), (SNS_MAX_MESSAGE_BYTES, False), (SNS_MAX_MESSAGE_BYTES + 1, True)],
    ids=["small", "exactly-the-limit", "one-byte-over"],
)
def test_the_sns_message_fits_256_kb(size: int, cut: bool) -> None:
    line = "é" * 49 + "\n"  # 99 bytes a line: multi-byte characters count as bytes
    text = (line * (size // len(line.encode()) + 1)).encode()[:size].decode("utf-8", "ignore")
    fitted = fit_sns_message(text)
    assert len(fitted.encode("utf-8")) <= SNS_MAX_MESSAGE_BYTES
    assert (fitted != text) == cut
    if cut:
        assert "cut at SNS's 256 KB" in fitted


def test_the_subject_is_short_ascii_and_holds_no_data_string() -> None:
    subject = subject_line(digest_of(*MARKUP_NAMES.values()))
    assert subject == "Ground Truth digest 2026-11-02 00:00 UTC: 4 alerts"
    assert subject.isascii()
    assert len(subject) <= 100


# --------------------------------------------------------------------------- --only-new
def _sent(since: str, until: str) -> dict[str, Any]:
    return {"digest": {"sent": [{"id": "slow:1", "since": since, "until": until, "at": until}]}}


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (_sent("2026-11-01T00:00:00+00:00", "2026-11-02T00:00:00+00:00"), {"slow:1"}),
        (_sent("2026-10-31T12:00:00+00:00", "2026-11-01T12:00:00+00:00"), {"slow:1"}),
        (_sent("2026-10-31T00:00:00+00:00", "2026-11-01T00:00:00+00:00"), set()),
        (_sent("2026-11-02T00:00:00+00:00", "2026-11-03T00:00:00+00:00"), set()),
        ({"digest": {"sent": "not a list"}}, set()),
        ({"digest": {"sent": [{"id": 3, "since": "x", "until": None}]}}, set()),
        ({"digest": []}, set()),
        ({}, set()),
    ],
    ids=[
        "same-window",
        "overlapping-sliding-window",
        "window-before-touching",
        "window-after-touching",
        "sent-not-a-list",
        "entry-of-wrong-types",
        "section-not-an-object",
        "never-sent",
    ],
)
def test_sent_alerts_are_those_of_overlapping_windows(
    state: dict[str, Any], expected: set[str]
) -> None:
    assert sent_alerts(state, SINCE, UNTIL) == expected


def test_alert_ids_are_stable_and_apart_by_kind_and_subject() -> None:
    assert alert_id("slow", "w1") == alert_id("slow", "w1")
    assert len({alert_id("slow", "w1"), alert_id("idle", "w1"), alert_id("slow", "w2")}) == 3
    digest = digest_of("a", "b")
    kept = digest.without_alerts({alert_id("slow", "a0")})
    assert [i.text.split(":")[0] for i in kept.sections[0].items] == ["b"]


# --------------------------------------------------------------------------- due times
def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


WEEKDAYS = (0, 1, 2, 3, 4)
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)


@pytest.mark.parametrize(
    ("after", "days", "at", "zone", "expected"),
    [
        # Friday 08:00 CET; the next weekday is Monday, after the spring change: 08:00 CEST.
        (
            "2026-03-27T07:00:00+00:00",
            WEEKDAYS,
            "08:00",
            "Europe/Berlin",
            "2026-03-30T06:00:00+00:00",
        ),
        (
            "2026-03-27T06:59:59+00:00",
            WEEKDAYS,
            "08:00",
            "Europe/Berlin",
            "2026-03-27T07:00:00+00:00",
        ),
        # 02:30 does not exist on 29 March in Berlin: sent at 03:30 CEST (01:30 UTC).
        (
            "2026-03-28T12:00:00+00:00",
            EVERY_DAY,
            "02:30",
            "Europe/Berlin",
            "2026-03-29T01:30:00+00:00",
        ),
        # 01:30 happens twice on 1 November in New York: the first (EDT) only.
        (
            "2026-10-31T12:00:00+00:00",
            EVERY_DAY,
            "01:30",
            "America/New_York",
            "2026-11-01T05:30:00+00:00",
        ),
        (
            "2026-11-01T05:30:00+00:00",
            EVERY_DAY,
            "01:30",
            "America/New_York",
            "2026-11-02T06:30:00+00:00",
        ),
        # After the fall change, 08:00 EST is 13:00 UTC (it was 12:00 UTC the day before).
        (
            "2026-10-31T12:00:00+00:00",
            EVERY_DAY,
            "08:00",
            "America/New_York",
            "2026-11-01T13:00:00+00:00",
        ),
        # Local dates, not UTC dates: 22:00 UTC Sunday is already Monday 07:00 in Tokyo.
        ("2026-11-01T22:00:00+00:00", (0,), "08:00", "Asia/Tokyo", "2026-11-01T23:00:00+00:00"),
        ("2026-11-06T09:00:00+00:00", (6,), "00:00:05", "UTC", "2026-11-08T00:00:05+00:00"),
    ],
    ids=[
        "weekend-then-spring-change",
        "same-day-just-before",
        "skipped-local-time",
        "repeated-local-time-first",
        "repeated-local-time-next-day",
        "after-fall-change",
        "local-day-not-utc-day",
        "seconds-and-one-day-a-week",
    ],
)
def test_due_times_keep_the_local_time_across_daylight_saving(
    after: str, days: tuple[int, ...], at: str, zone: str, expected: str
) -> None:
    time = dt.time.fromisoformat(at)
    assert next_due(_utc(after), days, time, zone) == _utc(expected)


# --------------------------------------------------------------------------- [digest]
BASE = '[store]\npath = "/tmp/gt-store"\n[digest]\n'


@pytest.mark.parametrize(
    ("table", "needles"),
    [
        ('webhook_url = "https://hooks.slack.com/services/SECRET"\n', ("webhook_url must not",)),
        ('webhook_url_env = "GT_UNSET_HOOK"\n', ("GT_UNSET_HOOK", "empty or unset")),
        ("days = []\n", ("days must be a list",)),
        ('days = ["mon", "funday"]\nwebhook_url_env = "GT_HOOK"\n', ("funday", "mon, tue")),
        ('time = "8am"\nwebhook_url_env = "GT_HOOK"\n', ("time", '"08:00"')),
        ('time = "24:00"\nwebhook_url_env = "GT_HOOK"\n', ("time",)),
        ('timezone = "Mars/Base"\nwebhook_url_env = "GT_HOOK"\n', ("timezone", "IANA")),
        ("smtp_port = 0\n", ("smtp_port",)),
        ('webhok_url_env = "GT_HOOK"\n', ("unknown key", "webhook_url_env")),
        ("enabled = true\n", ("no channel", "webhook_url_env/_file", "email_to")),
        ('email_to = ["a@example.com"]\n', ("email_to needs", "smtp_host", "ses_from")),
        ('smtp_host = "h"\nsmtp_user = "me"\nemail_to = ["a@example.com"]\n', ("smtp_password",)),
        ('sns_topic_arn = "topic"\n', ("sns_topic_arn", "arn:aws:sns:")),
        ('webhook_url_env = "GT_HOOK"\nwindow_hours = 0\n', ("window_hours", "out of range")),
    ],
    ids=[
        "inline-secret",
        "unset-variable",
        "no-days",
        "unknown-day",
        "not-a-time",
        "hour-24",
        "unknown-zone",
        "bad-port",
        "misspelt-key",
        "no-channel",
        "email-without-a-way",
        "smtp-user-without-password",
        "not-an-arn",
        "empty-window",
    ],
)
def test_a_wrong_digest_table_is_one_line_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str, needles: tuple[str, ...]
) -> None:
    monkeypatch.setenv("GT_HOOK", "https://hooks.example.com/services/SECRET")
    monkeypatch.delenv("GT_UNSET_HOOK", raising=False)
    path = tmp_path / "gt.toml"
    path.write_text(BASE + table, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    for needle in needles:
        assert needle in message, message
    assert "SECRET" not in message.replace("SECRETS", "")


def test_a_digest_table_is_read_with_its_secret_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "hook"
    secret.write_text("https://hooks.example.com/services/T/B/SECRET\n", encoding="utf-8")
    path = tmp_path / "gt.toml"
    path.write_text(
        BASE + f'days = ["Mon", "friday"]\ntime = "07:30"\ntimezone = "Europe/Berlin"\n'
        f'webhook_url_file = "{secret}"\nteams = ["text-team"]\nonly_new = true\n',
        encoding="utf-8",
    )
    settings = load_config(path).digest
    assert settings is not None
    assert settings.days == (0, 4)
    assert settings.time == dt.time(7, 30)
    assert settings.webhook_url == "https://hooks.example.com/services/T/B/SECRET"
    assert settings.teams == ("text-team",)
    assert settings.only_new
    assert "SECRET" not in repr(settings)


def test_no_digest_table_means_no_digest(tmp_path: Path) -> None:
    path = tmp_path / "gt.toml"
    path.write_text('[store]\npath = "/tmp/gt-store"\n', encoding="utf-8")
    assert load_config(path).digest is None


# --------------------------------------------------------------------------- composing
def test_the_sample_weeks_digest_has_every_section_the_issue_lists(sample_store_root: Path) -> None:
    from analytics.digest.send import DigestRequest, compose_for
    from analytics.store.store import Store

    request = DigestRequest(
        since=dt.datetime(2026, 11, 1, tzinfo=UTC),
        until=dt.datetime(2026, 11, 8, tzinfo=UTC),
        dry_run=True,
    )
    digest = compose_for(Store(sample_store_root), request, dt.datetime(2026, 11, 8, tzinfo=UTC))
    sections = {section.key: section.items for section in digest.sections}
    assert list(sections) == [
        "throughput", "slow", "idle", "returns", "quality", "backlog", "staffing", "health",
    ]  # fmt: skip
    assert all(sections.values()), {key: len(items) for key, items in sections.items()}
    assert sections["throughput"][0].text.startswith("tasks submitted: 3,280 (previous 3,215")
    assert all(item.alert_id is None for item in sections["throughput"] + sections["staffing"])
    assert all(item.alert_id for key in ("slow", "idle", "health") for item in sections[key])
    assert "clears on" in sections["staffing"][0].text


def test_the_digest_lists_exactly_the_workers_export_workers_flags(sample_store_root: Path) -> None:
    from analytics.dataset import Filters, load_team_data
    from analytics.digest.send import DigestRequest, compose_for
    from analytics.metrics.workers import worker_summary
    from analytics.store.store import Store

    since, until = dt.datetime(2026, 11, 1, tzinfo=UTC), dt.datetime(2026, 11, 8, tzinfo=UTC)
    store = Store(sample_store_root)
    workers = worker_summary(load_team_data(store, Filters(since=since, until=until)))
    digest = compose_for(store, DigestRequest(since, until, dry_run=True), until)
    listed = {s.key: {i.text.split(": ")[0] for i in s.items} for s in digest.sections}
    for key, flag in (("slow", "slow_flag"), ("idle", "idle_flag"), ("returns", "return_flag"),
                      ("quality", "quality_flag")):  # fmt: skip
        flagged = workers[workers[flag]]
        names = flagged["username"].where(flagged["username"].notna(), flagged["worker_key"])
        assert listed[key] == set(names.astype("str")), key


def test_the_example_configuration_shows_every_digest_key() -> None:
    import re

    from analytics.service.digest_schedule import DIGEST_KEYS
    from tests.conftest import REPO_ROOT

    text = (REPO_ROOT / "gt-throughput.example.toml").read_text(encoding="utf-8")
    assert "# [digest]" in text
    for key in DIGEST_KEYS:
        if key in ("webhook_url", "smtp_password"):
            continue  # known only to be refused: a secret is never written in the file
        assert re.search(rf"^# {key} = ", text, re.MULTILINE), key


def test_a_one_day_digest_measures_staffing_rates_over_the_last_week(
    sample_store_root: Path,
) -> None:
    from analytics.dataset import Filters, load_team_data
    from analytics.digest.send import DigestRequest, compose_for
    from analytics.metrics.staffing import staffing_plan
    from analytics.store.store import Store

    store = Store(sample_store_root)
    until = dt.datetime(2026, 11, 8, tzinfo=UTC)

    def staffing(days: int) -> list[str]:
        request = DigestRequest(until - dt.timedelta(days=days), until, dry_run=True)
        digest = compose_for(store, request, until)
        return [i.text for s in digest.sections if s.key == "staffing" for i in s.items]

    week = staffing(7)
    assert week
    assert staffing(1) == week  # a 24-hour digest does not project from one day's pace
    # ... which differs here: the plan of the day's data alone says other things.
    day = load_team_data(store, Filters(since=until - dt.timedelta(days=1), until=until))
    assert list(staffing_plan(day)["message"]) != week


def test_a_deadline_makes_the_staffing_line_say_how_many_workers(sample_store_root: Path) -> None:
    from analytics.digest.send import DigestRequest, compose_for
    from analytics.store.store import Store

    until = dt.datetime(2026, 11, 8, tzinfo=UTC)
    job = "aerial-roads-segmentation-b3"

    def line(deadlines: tuple[tuple[str, dt.date], ...]) -> str:
        request = DigestRequest(
            until - dt.timedelta(days=1), until, dry_run=True, deadlines=deadlines
        )
        digest = compose_for(Store(sample_store_root), request, until)
        staffing = next(s for s in digest.sections if s.key == "staffing")
        return next(i.text for i in staffing.items if i.text.startswith(job))

    assert "workers" not in line(())
    # Hand-worked on the Jobs page's numbers: 292 tasks / (11.2 tasks an hour x 0.51 hours a
    # day x 5 working days, Mon 9 to Fri 13 Nov) = 10.2, so 11 workers.
    assert "to clear it by Sun 15 Nov you need 11 workers" in line(((job, dt.date(2026, 11, 15)),))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("my-job=2026-12-04", ("my-job", dt.date(2026, 12, 4)), id="job-and-date"),
        pytest.param(" my-job = 2026-12-04 ", ("my-job", dt.date(2026, 12, 4)), id="spaces"),
        pytest.param("my-job", None, id="no-date"),
        pytest.param("=2026-12-04", None, id="no-job"),
        pytest.param("my-job=4 Dec", None, id="not-iso"),
        pytest.param("my-job=2026-02-30", None, id="no-such-day"),
    ],
)
def test_a_deadline_is_job_equals_date(text: str, expected: tuple[str, dt.date] | None) -> None:
    from analytics.digest.send import parse_deadline
    from analytics.errors import UsageError

    if expected is not None:
        assert parse_deadline(text, "--deadline") == expected
    else:
        with pytest.raises(UsageError, match=r"^--deadline takes JOB=DATE"):
            parse_deadline(text, "--deadline")


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        pytest.param('deadlines = { "a-job" = 2026-12-04 }', (("a-job", dt.date(2026, 12, 4)),),
                     id="toml-date"),
        pytest.param('deadlines = { "a-job" = "2026-12-04" }', (("a-job", dt.date(2026, 12, 4)),),
                     id="string-date"),
        pytest.param('deadlines = { "a-job" = "soon" }', "job = date", id="bad-date"),
        pytest.param('deadlines = "a-job=2026-12-04"', "must be a table", id="not-a-table"),
    ],
)  # fmt: skip
def test_digest_deadlines_in_the_config(
    tmp_path: Path, table: str, expected: tuple[tuple[str, dt.date], ...] | str
) -> None:
    from analytics.errors import UsageError

    path = tmp_path / "gt.toml"
    path.write_text(
        '[store]\npath = "/tmp/s"\n[digest]\n'
        f'sns_topic_arn = "arn:aws:sns:us-east-1:123456789012:gt"\n{table}\n',
        encoding="utf-8",
    )
    if isinstance(expected, str):
        with pytest.raises(UsageError, match=expected):
            load_config(path)
    else:
        settings = load_config(path).digest
        assert settings is not None
        assert settings.deadlines == expected


@pytest.mark.parametrize(
    ("since", "said"),
    [
        pytest.param(dt.datetime(2026, 11, 20, tzinfo=UTC), True, id="after-the-data"),
        pytest.param(dt.datetime(2026, 11, 7, tzinfo=UTC), False, id="holding-data"),
    ],
)
def test_a_window_after_the_stores_data_says_so(
    sample_store_root: Path, since: dt.datetime, said: bool
) -> None:
    from analytics.digest.send import DigestRequest, compose_for
    from analytics.store.store import Store

    until = since + dt.timedelta(days=1)
    digest = compose_for(Store(sample_store_root), DigestRequest(since, until, dry_run=True), until)
    health = next(s for s in digest.sections if s.key == "health")
    lines = [i.text for i in health.items if i.text.startswith("no data in this window")]
    assert bool(lines) == said, [i.text for i in health.items]
