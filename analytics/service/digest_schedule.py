"""The digest schedule of ``gt-throughput serve``: the ``[digest]`` table, its due times, and
the thread that sends the digest when one is due.

Due times are local times (``time``, on ``days``, in ``timezone``), turned into UTC one date at
a time with ``zoneinfo``, so 08:00 stays 08:00 across a daylight-saving change: a time the
change skips (02:30 on a spring-forward night) is sent after the change (03:30, the offset
before it); a time it repeats (01:30 on a fall-back night) is sent once, at its first
occurrence.

Each due time is sent at most once per store: the one last handled is recorded in the store
state (``analytics.digest.state``), and sending happens under a cross-process lock
(``DIR/.digest.lock``, the sync lock's kind): a restart, or a second ``serve`` on the same
store, finds it handled and does not send it again. A due time missed while no ``serve`` ran
is sent when one starts within ``CATCH_UP_HOURS`` of it; older ones are skipped (yesterday
morning's digest at night is noise).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from analytics.errors import GroundTruthError, UsageError
from analytics.service.lock import sync_lock
from analytics.text import escape_controls

LOG = logging.getLogger("gt_throughput.serve")

DIGEST_LOCK_NAME = ".digest.lock"
#: A due time missed by less than this is still sent when serve starts.
CATCH_UP_HOURS = 12.0
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DIGEST_KEYS = (
    "enabled", "days", "time", "timezone", "window_hours", "teams", "pseudonymize", "only_new",
    "webhook_url_env", "webhook_url_file", "email_to", "email_from", "smtp_host", "smtp_port",
    "smtp_starttls", "smtp_user", "smtp_password_env", "smtp_password_file", "ses_from",
    "sns_topic_arn", "timeout_seconds", "deadlines",
    "webhook_url", "smtp_password",  # known, to be refused with the reason: secrets
)  # fmt: skip
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")


@dataclass(frozen=True)
class DigestSettings:
    """The ``[digest]`` table (``gt-throughput.example.toml`` explains each key). Secrets
    (the webhook URL, the SMTP password) were read from the environment or a file."""

    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    time: dt.time = dt.time(8, 0)
    timezone: str = "UTC"
    window_hours: float = 24.0
    teams: tuple[str, ...] = ()
    pseudonymize: bool = False
    only_new: bool = False
    webhook_url: str | None = field(default=None, repr=False)
    email_to: tuple[str, ...] = ()
    email_from: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    ses_from: str | None = None
    sns_topic_arn: str | None = None
    timeout_seconds: float = 10.0
    enabled: bool = True
    deadlines: tuple[tuple[str, dt.date], ...] = ()


def read_digest_settings(
    path: Path, table: object, environ: Mapping[str, str] = os.environ
) -> DigestSettings:
    """The ``[digest]`` table of the config file at ``path``, checked; one ``UsageError`` line
    naming the key and the fix for any mistake."""
    from analytics.access import config_secret
    from analytics.service.config import _Section

    section = _Section(path, "digest", table, DIGEST_KEYS)
    raw = section.table
    where = f"{path}: [digest]"
    days_value = raw.get("days", list(DAY_NAMES[:5]))
    if not isinstance(days_value, list) or not days_value:
        raise section.error('[digest] days must be a list of days, e.g. days = ["mon", "fri"]')
    days = []
    for day in days_value:
        name = day.strip().lower()[:3] if isinstance(day, str) else ""
        if name not in DAY_NAMES:
            raise section.error(
                f"[digest] days has {day!r}: give day names ({', '.join(DAY_NAMES)})"
            )
        days.append(DAY_NAMES.index(name))
    time_text = raw.get("time", "08:00")
    match = _TIME.match(time_text) if isinstance(time_text, str) else None
    if match is None:
        raise section.error(
            f'[digest] time = {time_text!r}: give a 24-hour local time, e.g. time = "08:00"'
        )
    at = dt.time(int(match[1]), int(match[2]), int(match[3] or 0))
    timezone = section.text("timezone", "UTC", "Europe/Berlin") or "UTC"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise section.error(
            f"[digest] timezone = {timezone!r} is not an IANA time zone: give one such as "
            '"Europe/Berlin" or "UTC"'
        ) from None
    webhook = None
    if any(k in raw for k in ("webhook_url", "webhook_url_env", "webhook_url_file")):
        webhook = config_secret(raw, "webhook_url", where, environ)
    password = None
    if any(k in raw for k in ("smtp_password", "smtp_password_env", "smtp_password_file")):
        password = config_secret(raw, "smtp_password", where, environ)
    port = raw.get("smtp_port", 25)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise section.error(f"[digest] smtp_port = {port!r}: give a whole number from 1 to 65535")
    settings = DigestSettings(
        days=tuple(sorted(set(days))),
        time=at,
        timezone=timezone,
        window_hours=section.number("window_hours", 24.0, 1 / 60, 31 * 24, "24"),
        teams=section.names("teams"),
        pseudonymize=section.flag("pseudonymize", False),
        only_new=section.flag("only_new", False),
        webhook_url=webhook,
        email_to=section.names("email_to"),
        email_from=section.text("email_from", None, "gt-throughput@example.com"),
        smtp_host=section.text("smtp_host", None, "smtp.example.com"),
        smtp_port=port,
        smtp_starttls=section.flag("smtp_starttls", False),
        smtp_user=section.text("smtp_user", None, "gt-throughput"),
        smtp_password=password,
        ses_from=section.text("ses_from", None, "gt-throughput@example.com"),
        sns_topic_arn=section.text(
            "sns_topic_arn", None, "arn:aws:sns:us-east-1:123456789012:gt-digest"
        ),
        timeout_seconds=section.number("timeout_seconds", 10.0, 0.1, 600, "10"),
        enabled=section.flag("enabled", True),
        deadlines=_deadlines(section, raw.get("deadlines", {})),
    )
    if settings.smtp_user is not None and password is None:
        raise section.error(
            "[digest] smtp_user needs its password: smtp_password_env (an environment variable)"
            " or smtp_password_file (a file)"
        )
    try:  # the same checks as the command line's, named with the config's keys
        request_for(settings, dt.datetime(2000, 1, 3, tzinfo=dt.UTC), None)
    except UsageError as exc:
        message = str(exc)
        for argument, key in _ARGUMENT_KEYS.items():
            message = message.replace(argument, key)
        raise section.error(f"[digest] {message}") from None
    return settings


def _deadlines(section: Any, value: object) -> tuple[tuple[str, dt.date], ...]:
    """``deadlines = { "my-job" = 2026-12-04 }``: a TOML date, or the same as a string."""
    if not isinstance(value, dict):
        raise section.error(
            '[digest] deadlines must be a table of job = date, e.g. deadlines = { "my-job" = '
            "2026-12-04 }"
        )
    from analytics.digest.send import parse_deadline

    deadlines = []
    for job, day in value.items():
        if isinstance(day, dt.date) and not isinstance(day, dt.datetime):
            deadlines.append((job, day))
            continue
        try:
            deadlines.append(parse_deadline(f"{job}={day}", "[digest] deadlines"))
        except UsageError as exc:
            raise section.error(str(exc).replace("JOB=DATE", "job = date")) from None
    return tuple(deadlines)


#: Command-line names in ``DigestRequest``'s messages, and the config keys they are here.
_ARGUMENT_KEYS = {
    "--webhook-url": "webhook_url_env/_file", "--email-from": "email_from",
    "--email": "email_to", "--smtp-host HOST": "smtp_host", "--ses-from ADDR": "ses_from",
    "--ses-from": "ses_from", "--smtp-host": "smtp_host", "--sns-topic-arn": "sns_topic_arn",
    "--timeout": "timeout_seconds", " (repeatable)": "", " TO": "",
    "or --dry-run to print it": "or set enabled = false",
}  # fmt: skip


def request_for(settings: DigestSettings, due: dt.datetime, aws: Any) -> Any:
    """The ``DigestRequest`` of the digest due at ``due``: the ``window_hours`` before it."""
    from analytics.digest.deliver import AwsTarget, SmtpServer
    from analytics.digest.send import DigestRequest

    smtp = None
    if settings.smtp_host is not None:
        smtp = SmtpServer(
            settings.smtp_host, settings.smtp_port, settings.smtp_starttls, settings.smtp_user,
            settings.smtp_password,
        )  # fmt: skip
    target = AwsTarget()
    if aws is not None:
        target = AwsTarget(aws.region, aws.profile, aws.endpoint_url, aws.timeout_seconds)
    return DigestRequest(
        since=due - dt.timedelta(hours=settings.window_hours),
        until=due,
        teams=settings.teams,
        timezone=settings.timezone,
        webhook_url=settings.webhook_url,
        email_to=settings.email_to,
        email_from=settings.email_from,
        smtp=smtp,
        ses_from=settings.ses_from,
        sns_topic_arn=settings.sns_topic_arn,
        aws=target,
        pseudonymize=settings.pseudonymize,
        only_new=settings.only_new,
        timeout_seconds=settings.timeout_seconds,
        deadlines=settings.deadlines,
    )


# --------------------------------------------------------------------------- due times
def next_due(after: dt.datetime, days: tuple[int, ...], at: dt.time, timezone: str) -> dt.datetime:
    """The first due time strictly after ``after`` (UTC): ``at`` local time in ``timezone`` on
    one of ``days`` (Monday = 0). See the module docstring for daylight-saving changes."""
    zone = ZoneInfo(timezone)
    start = after.astimezone(zone).date()
    for offset in range(9):  # 8 days hold every weekday once past any start
        day = start + dt.timedelta(days=offset)
        if day.weekday() not in days:
            continue
        due = dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC)
        if due > after:
            return due
    raise ValueError(f"no due day in {days!r}")  # days is never empty (read_digest_settings)


# --------------------------------------------------------------------------- the thread
class DigestScheduler:
    """Sends the digest when due; ``run_forever`` is the serve thread's loop."""

    def __init__(self, store_root: Path, settings: DigestSettings, aws: Any = None) -> None:
        from analytics.store.store import Store

        self.root = store_root
        self.store = Store(store_root)
        self.settings = settings
        self.aws = aws
        self.due: dt.datetime | None = None

    def _first_due(self, now: dt.datetime) -> dt.datetime:
        from analytics.digest.state import last_due_handled

        try:
            last = last_due_handled(self.store.read_state())
        except GroundTruthError:
            last = None
        floor = now - dt.timedelta(hours=CATCH_UP_HOURS)
        base = max(last, floor) if last is not None else now
        return self._next(base)

    def _next(self, after: dt.datetime) -> dt.datetime:
        s = self.settings
        return next_due(after, s.days, s.time, s.timezone)

    def run_forever(self, stop: threading.Event) -> None:
        """Send when due until ``stop`` is set (checked at least once a second)."""
        while not stop.is_set():
            now = dt.datetime.now(dt.UTC)
            self.run_due(now)
            assert self.due is not None
            wait = (self.due - dt.datetime.now(dt.UTC)).total_seconds()
            stop.wait(max(0.05, min(1.0, wait)) if math.isfinite(wait) else 1.0)

    def run_due(self, now: dt.datetime) -> str | None:
        """Send the digest if one is due at ``now``; returns what happened, or None."""
        if self.due is None:
            self.due = self._first_due(now)
            LOG.info("digest scheduled: next at %s UTC", f"{self.due:%Y-%m-%d %H:%M:%S}")
        if now < self.due:
            return None
        due, self.due = self.due, self._next(max(self.due, now))
        try:
            outcome = self._send(due, now)
        except Exception as exc:  # a bug must not stop serve: say so, try at the next due time
            LOG.exception("the digest raised an unexpected error (a bug in gt-throughput)")
            outcome = f"failed: internal error: {type(exc).__name__}"
        LOG.info("digest due %s UTC: %s; next at %s UTC", f"{due:%Y-%m-%d %H:%M:%S}",
                 outcome, f"{self.due:%Y-%m-%d %H:%M:%S}")  # fmt: skip
        return outcome

    def _send(self, due: dt.datetime, now: dt.datetime) -> str:
        from analytics.digest.send import send_digest
        from analytics.digest.state import last_due_handled, record_schedule

        with sync_lock(self.root, DIGEST_LOCK_NAME) as taken:
            if not taken:
                return "skipped: another process is sending it"
            last = last_due_handled(self.store.read_state())
            if last is not None and last >= due:
                return "skipped: already sent (another process, or before a restart)"
            error = ""
            try:
                report = send_digest(self.store, request_for(self.settings, due, self.aws), now=now)
                summary = report.summary_line()
                if report.failed:
                    error = summary
                    LOG.error("%s", escape_controls(summary))
            except GroundTruthError as exc:
                error = summary = f"not sent: {exc}"
                LOG.error("digest %s", escape_controls(summary))
            record_schedule(
                self.store,
                {
                    "last_due_at": due.isoformat(),
                    "last_run_at": now.isoformat(),
                    "last_error": error,
                    "host": socket.gethostname(),
                    "pid": os.getpid(),
                },
            )
            return escape_controls(summary)
