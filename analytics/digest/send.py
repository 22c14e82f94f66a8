"""``send_digest``: read the window, compose, leave out what was sent, render, deliver, record.

What ``gt-throughput digest`` runs, and ``serve``'s digest schedule. Each channel named in the
``DigestRequest`` gets exactly one delivery (retried within a bound, ``analytics.digest.deliver``);
one failing does not stop the others; the report says which failed.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from analytics.digest.compose import Digest, compose_digest
from analytics.digest.deliver import (
    DEFAULT_ATTEMPTS,
    DEFAULT_TIMEOUT_SECONDS,
    AwsTarget,
    Delivery,
    SmtpServer,
    email_message,
    post_webhook,
    publish_sns,
    safe_url,
    send_ses,
    send_smtp,
)
from analytics.digest.render import render_html, render_slack, render_text, subject_line
from analytics.digest.state import record_sent, sent_alerts
from analytics.errors import UsageError
from analytics.store.store import Store
from analytics.text import escape_controls

#: An email address as far as we check it: one @, no spaces, quotes or control characters
#: (the address goes into a header: nothing there may start another header).
_ADDRESS = re.compile(r"^[^\s@<>\"',;\x00-\x1f\x7f]+@[^\s@<>\"',;\x00-\x1f\x7f]+$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")


def check_address(value: str, argument: str) -> str:
    """``value`` if it reads as an email address, else a ``UsageError`` naming ``argument``."""
    if not _ADDRESS.match(value):
        raise UsageError(
            f"{argument} {value!r} is not an email address: give one such as lead@example.com"
        )
    return value


def parse_deadline(text: str, argument: str) -> tuple[str, dt.date]:
    """``JOB=YYYY-MM-DD`` as (job, date): the job's backlog is to clear by the end of that
    local day (``staffing.staffing_plan``)."""
    job, equals, day = text.rpartition("=")
    try:
        if not (equals and job.strip()):
            raise ValueError(text)
        return job.strip(), dt.date.fromisoformat(day.strip())
    except ValueError:
        raise UsageError(
            f"{argument} takes JOB=DATE, a labeling job's name and a date such as "
            f"my-job=2026-12-04 (got {escape_controls(text)!r})"
        ) from None


def check_webhook_url(value: str, argument: str) -> str:
    """``value`` if it is an http(s) URL with a host; the message never shows its path."""
    import urllib3.util

    try:
        parts = urllib3.util.parse_url(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.host:
        raise UsageError(
            f"{argument} must be an http(s) URL such as https://hooks.slack.com/services/... "
            f"(got {safe_url(value)}...)"
        )
    return value


@dataclass(frozen=True)
class DigestRequest:
    """One digest: its window and selection, and where it goes.

    Channels: ``webhook_url``; ``email_to`` through ``smtp`` or SES (``ses_from``);
    ``sns_topic_arn``. ``aws`` reaches SES and SNS. ``timeout_seconds`` bounds each attempt,
    ``attempts`` the tries of each channel.
    """

    since: dt.datetime
    until: dt.datetime
    teams: tuple[str, ...] = ()
    timezone: str = "UTC"
    webhook_url: str | None = field(default=None, repr=False)
    email_to: tuple[str, ...] = ()
    email_from: str | None = None
    smtp: SmtpServer | None = None
    ses_from: str | None = None
    sns_topic_arn: str | None = None
    aws: AwsTarget = field(default_factory=AwsTarget)
    pseudonymize: bool = False
    only_new: bool = False
    dry_run: bool = False
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    attempts: int = DEFAULT_ATTEMPTS
    #: Staffing deadlines: (job name, local date by the end of which its backlog must clear).
    deadlines: tuple[tuple[str, dt.date], ...] = ()

    def __post_init__(self) -> None:
        if self.email_to and (self.smtp is None) == (self.ses_from is None):
            raise UsageError(
                "--email needs exactly one way to send: --smtp-host HOST (an SMTP server) or "
                "--ses-from ADDR (Amazon SES)"
            )
        if not self.email_to and (self.smtp is not None or self.ses_from is not None):
            which = "--smtp-host" if self.smtp is not None else "--ses-from"
            raise UsageError(f"{which} sends email: add --email TO (repeatable)")
        for recipient in self.email_to:
            check_address(recipient, "--email")
        for sender, argument in ((self.email_from, "--email-from"), (self.ses_from, "--ses-from")):
            if sender is not None:
                check_address(sender, argument)
        if self.webhook_url is not None:
            check_webhook_url(self.webhook_url, "--webhook-url")
        if self.sns_topic_arn is not None and not _TOPIC_ARN.match(self.sns_topic_arn):
            raise UsageError(
                f"--sns-topic-arn {self.sns_topic_arn!r} is not an SNS topic ARN: give one such "
                "as arn:aws:sns:us-east-1:123456789012:gt-digest"
            )
        if not self.channels() and not self.dry_run:
            raise UsageError(
                "no channel to send the digest to: give --webhook-url, --email (with "
                "--smtp-host or --ses-from) or --sns-topic-arn, or --dry-run to print it"
            )
        if not 0 < self.timeout_seconds <= 600:
            raise UsageError(
                f"--timeout must be from 0 to 600 seconds (got {self.timeout_seconds:g})"
            )

    def channels(self) -> list[str]:
        """The channels named, in the order they are delivered to."""
        found = []
        if self.webhook_url is not None:
            found.append("webhook")
        if self.email_to and self.smtp is not None:
            found.append("smtp")
        if self.email_to and self.ses_from is not None:
            found.append("ses")
        if self.sns_topic_arn is not None:
            found.append("sns")
        return found


@dataclass(frozen=True)
class DigestReport:
    """What ``send_digest`` did: the digest sent (after ``--only-new``), its text, each
    delivery; ``sent`` is False for a dry run and when nothing was new."""

    digest: Digest
    text: str
    deliveries: tuple[Delivery, ...] = ()
    sent: bool = False
    nothing_new: bool = False

    @property
    def failed(self) -> tuple[Delivery, ...]:
        return tuple(d for d in self.deliveries if not d.ok)

    def summary_line(self) -> str:
        """One line for the terminal or the log."""
        if self.nothing_new:
            return "nothing new since the last digest of this window: nothing sent"
        if not self.deliveries:
            return "dry run: nothing sent"
        count = self.digest.alert_count()
        done = [d.channel for d in self.deliveries if d.ok]
        parts = [d.line() for d in self.failed]
        if done:
            parts.append(f"delivered to {', '.join(done)}")
        return f"digest with {count} alert{'s' if count != 1 else ''}: " + "; ".join(parts)


def compose_for(store: Store, request: DigestRequest, now: dt.datetime) -> Digest:
    """The digest of ``request``'s window from ``store`` (pseudonymised when asked)."""
    from analytics.access import Scope, scope_team_data
    from analytics.dataset import Filters, data_as_of, load_team_data, previous_period
    from analytics.metrics.staffing import RATE_DAYS

    filters = Filters(since=request.since, until=request.until, workteams=request.teams)
    current = load_team_data(store, filters)
    previous = load_team_data(store, previous_period(filters, current.as_of))
    # The staffing rates are measured over the last RATE_DAYS to the window's end, however short
    # the digest's window (a 24-hour digest would otherwise measure one day's pace).
    rate_since = min(request.since, request.until - dt.timedelta(days=RATE_DAYS))
    recent = load_team_data(store, replace(filters, since=rate_since))
    if request.pseudonymize:
        hidden = Scope(names_visible=False)
        current, previous, recent = (
            scope_team_data(frame, hidden) for frame in (current, previous, recent)
        )
    # A deadline is a local date; noon of it in the digest's zone names it in any zone rule.
    zone = ZoneInfo(request.timezone)
    deadlines = {
        job: dt.datetime.combine(day, dt.time(12), tzinfo=zone) for job, day in request.deadlines
    }
    return compose_digest(
        current,
        previous,
        store.read_state(),
        now=now,
        timezone=request.timezone,
        recent=recent,
        deadlines=deadlines,
        latest_data=data_as_of(store),
    )


def send_digest(
    store: Store, request: DigestRequest, *, now: dt.datetime | None = None
) -> DigestReport:
    """Compose the digest of ``request`` from ``store`` and deliver it once to each channel.

    With ``only_new`` the alerts already sent for an overlapping window are left out, and
    nothing is sent when no alert is left. After every channel delivered, the alerts sent are
    recorded in the store state (``analytics.digest.state``).

    Raises
    ------
    UsageError
        The store is empty (nothing trustworthy to report).
    """
    from analytics.dataset import store_is_empty

    now = now or dt.datetime.now(dt.UTC)
    if store_is_empty(store):
        raise UsageError(
            f"the store in {store.root} is empty: run gt-throughput ingest or sync first"
        )
    digest = compose_for(store, request, now)
    if request.only_new:
        digest = digest.without_alerts(
            sent_alerts(store.read_state(), request.since, request.until)
        )
        if not digest.alert_ids():
            return DigestReport(digest, render_text(digest), nothing_new=True)
    text = render_text(digest)
    if request.dry_run:
        return DigestReport(digest, text)
    deliveries = tuple(_deliver(request, digest, text))
    if all(d.ok for d in deliveries):
        record_sent(store, digest.alert_ids(), request.since, request.until, now)
    return DigestReport(digest, text, deliveries, sent=any(d.ok for d in deliveries))


def _deliver(request: DigestRequest, digest: Digest, text: str) -> list[Delivery]:
    subject = subject_line(digest)
    bounds = {"attempts": request.attempts}
    aws = request.aws
    deliveries = []
    for channel in request.channels():
        if channel == "webhook":
            assert request.webhook_url is not None
            deliveries.append(
                post_webhook(
                    request.webhook_url,
                    render_slack(digest),
                    timeout_seconds=request.timeout_seconds,
                    **bounds,
                )
            )
        elif channel in ("smtp", "ses"):
            sender = request.ses_from if channel == "ses" else request.email_from
            sender = sender or f"gt-throughput@{socket.getfqdn()}"
            message = email_message(subject, text, render_html(digest), sender, request.email_to)
            if channel == "smtp":
                assert request.smtp is not None
                deliveries.append(
                    send_smtp(
                        message, request.smtp, timeout_seconds=request.timeout_seconds, **bounds
                    )
                )
            else:
                deliveries.append(send_ses(message, sender, request.email_to, aws, **bounds))
        else:
            assert request.sns_topic_arn is not None
            deliveries.append(publish_sns(request.sns_topic_arn, subject, text, aws, **bounds))
    return deliveries
