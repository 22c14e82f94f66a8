"""One delivery of a rendered digest per channel, each bounded in time and retried within a bound.

- **webhook**: an HTTP POST of the Slack JSON through urllib3 (already installed with botocore)
  with its ``Retry``: a refused or dropped connection, no answer within the timeout, HTTP 429 or
  5xx is tried again, at most ``attempts`` times in all, with a short back-off (``Retry-After``
  is not obeyed: a receiver cannot make a cron job wait an hour). Any other 4xx is final at once
  (a wrong or revoked URL does not heal). Redirects are not followed.
- **SMTP**: a multipart/alternative email (text and HTML) through ``smtplib`` with a timeout on
  every socket operation, optional STARTTLS (the server's certificate checked against the
  system's trusted authorities, or ``SSL_CERT_FILE``'s, before any password is sent) and login;
  connection failures, timeouts and 4xx replies are tried again, 5xx replies and a certificate
  that is not trusted are final.
- **SES**: the same email as raw MIME through ``SendRawEmail``; **SNS**: the text through
  ``Publish``. Both through a client of ``analytics.aws`` (its timeouts, its retries).

A failure is a ``Delivery`` with ``ok=False`` and one line saying why; nothing here raises for a
receiver's fault. Where a channel is shown, a webhook URL is cut to ``scheme://host[:port]``:
its path is the secret.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from analytics.errors import GroundTruthError
from analytics.text import escape_controls

#: Tries of one delivery in all (the first and two more): a server restarting, a dropped
#: connection, a proxy's 502 are over within seconds; more would only delay the other channels.
DEFAULT_ATTEMPTS = 3
#: Seconds one attempt may wait to connect, and for each answer.
DEFAULT_TIMEOUT_SECONDS = 10.0
#: Back-off before retry n: 0.5 s, 1 s, ... at most ``_BACKOFF_MAX_SECONDS``.
_BACKOFF_SECONDS = 0.5
_BACKOFF_MAX_SECONDS = 4.0
#: HTTP answers worth another try: rate limited, or the server's (or its proxy's) fault.
RETRIED_STATUSES = (429, 500, 502, 503, 504)


@dataclass(frozen=True)
class Delivery:
    """How one channel's delivery ended: ``channel`` names it for people (never a secret)."""

    channel: str
    ok: bool
    attempts: int
    detail: str = ""

    def line(self) -> str:
        if self.ok:
            return f"delivered to {self.channel}"
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"not delivered to {self.channel}: {self.detail}{tries}"


def safe_url(url: str) -> str:
    """``url`` as ``scheme://host[:port]``: what may be shown of a webhook URL (its path and
    query are the secret)."""
    import urllib3.util

    try:
        parts = urllib3.util.parse_url(url)
    except ValueError:
        return "(an unreadable URL)"
    port = f":{parts.port}" if parts.port else ""
    return escape_controls(f"{parts.scheme or 'http'}://{parts.host or ''}{port}")


def _backoff(attempt: int) -> float:
    return float(min(_BACKOFF_SECONDS * 2 ** (attempt - 1), _BACKOFF_MAX_SECONDS))


# --------------------------------------------------------------------------- webhook
def post_webhook(
    url: str,
    body: dict[str, Any],
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    attempts: int = DEFAULT_ATTEMPTS,
) -> Delivery:
    """POST ``body`` as JSON to ``url``; see the module docstring for what is retried."""
    import urllib3
    from urllib3.exceptions import (
        ConnectTimeoutError,
        HTTPError,
        MaxRetryError,
        NewConnectionError,
        ReadTimeoutError,
    )

    channel = f"webhook {safe_url(url)}"
    retries = urllib3.Retry(
        total=attempts - 1,
        connect=attempts - 1,
        read=attempts - 1,
        status=attempts - 1,
        other=0,
        redirect=False,
        allowed_methods=None,  # POST too: a 5xx or a dropped connection delivered nothing
        status_forcelist=RETRIED_STATUSES,
        backoff_factor=_BACKOFF_SECONDS,
        backoff_max=_BACKOFF_MAX_SECONDS,
        respect_retry_after_header=False,
        raise_on_status=False,
        raise_on_redirect=False,
    )
    timeout = urllib3.Timeout(connect=timeout_seconds, read=timeout_seconds)
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    with urllib3.PoolManager(retries=retries, timeout=timeout) as pool:
        try:
            response = pool.request(
                "POST",
                url,
                body=payload,
                headers={"Content-Type": "application/json; charset=utf-8"},
                preload_content=True,
            )
        except MaxRetryError as exc:
            reason = exc.reason
            if isinstance(reason, NewConnectionError) and "refused" in str(reason).lower():
                why = "the connection was refused (nothing listens there)"
            elif isinstance(reason, ReadTimeoutError):
                why = f"no answer within {timeout_seconds:g} s"
            elif isinstance(reason, ConnectTimeoutError):
                why = f"no connection within {timeout_seconds:g} s"
            else:
                why = f"could not connect ({type(reason).__name__})"
            return Delivery(channel, False, attempts, why)
        except HTTPError as exc:
            return Delivery(channel, False, 1, f"the request failed ({type(exc).__name__})")
    tries = len(response.retries.history) + 1 if response.retries is not None else 1
    if 200 <= response.status < 300:
        return Delivery(channel, True, tries)
    return Delivery(channel, False, tries, f"HTTP {response.status}")


# --------------------------------------------------------------------------- email
def email_message(
    subject: str, text: str, html: str, sender: str, recipients: Sequence[str]
) -> EmailMessage:
    """The digest as a multipart/alternative email: the text part, then the HTML part."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


@dataclass(frozen=True)
class SmtpServer:
    """Where SMTP mail goes; ``password`` comes from the environment or a file, never argv."""

    host: str
    port: int = 25
    starttls: bool = False
    user: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # the password never reaches a log or a traceback
        return f"SmtpServer({self.host}:{self.port}, starttls={self.starttls}, user={self.user})"


def send_smtp(
    message: EmailMessage,
    server: SmtpServer,
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    attempts: int = DEFAULT_ATTEMPTS,
) -> Delivery:
    """Send ``message`` through ``server``; see the module docstring for what is retried."""
    channel = f"email by SMTP {escape_controls(server.host)}:{server.port}"
    why = ""
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            time.sleep(_backoff(attempt - 1))
        try:
            with smtplib.SMTP(server.host, server.port, timeout=timeout_seconds) as smtp:
                if server.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if server.user is not None:
                    smtp.login(server.user, server.password or "")
                smtp.send_message(message)
            return Delivery(channel, True, attempt)
        except smtplib.SMTPRecipientsRefused as exc:
            refused = "; ".join(
                f"{address} ({_smtp_answer(code, text)})"
                for address, (code, text) in sorted(exc.recipients.items())
            )
            why = escape_controls(f"recipients refused: {refused}")
            return Delivery(channel, False, attempt, why)
        except smtplib.SMTPResponseException as exc:
            why = escape_controls(
                f"the server answered {_smtp_answer(exc.smtp_code, exc.smtp_error)}"
            )
            if not 400 <= exc.smtp_code < 500:
                return Delivery(channel, False, attempt, why)
        except smtplib.SMTPNotSupportedError as exc:
            return Delivery(channel, False, attempt, f"not supported by the server: {exc}")
        except ssl.SSLCertVerificationError as exc:
            return Delivery(channel, False, attempt, _untrusted_certificate(exc))
        except TimeoutError:
            why = f"no answer within {timeout_seconds:g} s"
        except ConnectionRefusedError:
            why = "the connection was refused (nothing listens there)"
        except (smtplib.SMTPException, OSError) as exc:
            why = escape_controls(f"{type(exc).__name__}: {exc}")
    return Delivery(channel, False, attempts, why)


#: OpenSSL's ``X509_V_ERR_HOSTNAME_MISMATCH``: a valid certificate for another name.
_HOSTNAME_MISMATCH = 62


def _untrusted_certificate(exc: ssl.SSLCertVerificationError) -> str:
    """Why STARTTLS stopped at the server's certificate, and what to change (no password or mail
    was sent)."""
    reason = exc.verify_message or str(exc.reason)
    if exc.verify_code == _HOSTNAME_MISMATCH:
        return escape_controls(
            f"its TLS certificate is for another name ({reason}); give the SMTP host by a name"
            " its certificate holds"
        )
    return escape_controls(
        f"its TLS certificate is not trusted ({reason}); trust its issuer (SSL_CERT_FILE names a"
        " file of trusted certificates) or fix the server's certificate"
    )


def _smtp_answer(code: int, text: bytes | str) -> str:
    """An SMTP server's reply as ``code text``."""
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {words}".strip()


# --------------------------------------------------------------------------- AWS
@dataclass(frozen=True)
class AwsTarget:
    """How the AWS channels are reached (boto3's chain for credentials)."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


def _aws_client(service: str, target: AwsTarget, attempts: int) -> Any:
    from analytics.aws import EndpointWatch, make_client, make_session

    watch = EndpointWatch(target.timeout_seconds, max_attempts=attempts)
    return make_client(
        service, make_session(target.profile, target.region), target.endpoint_url, watch
    )


def send_ses(
    message: EmailMessage,
    sender: str,
    recipients: Sequence[str],
    target: AwsTarget,
    *,
    attempts: int = DEFAULT_ATTEMPTS,
) -> Delivery:
    """Send ``message`` as raw MIME through SES's ``SendRawEmail``."""
    from analytics.aws import converting_errors

    channel = "email by SES"
    try:
        client = _aws_client("ses", target, attempts)
        with converting_errors(client, "sending the digest by SES", writing=True):
            client.send_raw_email(
                Source=sender,
                Destinations=list(recipients),
                RawMessage={"Data": message.as_bytes()},
            )
    except GroundTruthError as exc:
        return Delivery(channel, False, 1, escape_controls(str(exc)))
    return Delivery(channel, True, 1)


def publish_sns(
    topic_arn: str, subject: str, text: str, target: AwsTarget, *, attempts: int = DEFAULT_ATTEMPTS
) -> Delivery:
    """Publish ``text`` (cut to SNS's 256 KB) on ``topic_arn`` with ``subject`` (<= 100)."""
    from analytics.aws import converting_errors
    from analytics.digest.render import SNS_MAX_SUBJECT_CHARS, fit_sns_message

    channel = f"SNS {escape_controls(topic_arn)}"
    try:
        client = _aws_client("sns", target, attempts)
        with converting_errors(client, "publishing the digest on SNS", writing=True):
            client.publish(
                TopicArn=topic_arn,
                Subject=subject[:SNS_MAX_SUBJECT_CHARS],
                Message=fit_sns_message(text),
            )
    except GroundTruthError as exc:
        return Delivery(channel, False, 1, escape_controls(str(exc)))
    return Delivery(channel, True, 1)
