"""``gt-throughput digest`` against misbehaving receivers and wrong arguments: every failure is
retried within a bound, then one error line naming the channel (never a webhook's secret path),
a non-zero exit, and the other channels still tried."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import trustme

from tests.faults.support import assert_clean_error, assert_no_traceback, run_cli
from tests.support.receivers import SINCE, UNTIL, refused_url, running_smtp, running_webhook

WINDOW = ("--since", SINCE, "--until", UNTIL)


@pytest.fixture
def data(sample_store_root: Path) -> Path:
    return sample_store_root  # these runs fail before any state is written, or write none


@pytest.mark.parametrize(
    ("script", "answers", "needle"),
    [
        ((404,), [404], "HTTP 404"),
        ((403,), [403], "HTTP 403"),
        ((500, 502, 503), [500, 502, 503], "HTTP 503 after 3 attempts"),
        ((429, 429, 429), [429, 429, 429], "HTTP 429 after 3 attempts"),
    ],
    ids=["not-found-is-final", "forbidden-is-final", "5xx-retried-then-reported", "rate-limited"],
)
def test_a_webhook_answering_an_error_is_reported_naming_the_channel_not_its_secret(
    data: Path, script: tuple[int, ...], answers: list[int], needle: str
) -> None:
    with running_webhook(*script) as hook:
        completed = run_cli("digest", "--data", data, *WINDOW, "--webhook-url", hook.url)
    assert completed.returncode == 1
    line = assert_clean_error(completed, "not delivered to webhook http://127.0.0.1:", needle)
    assert [answer for _, _, answer in hook.requests] == answers
    assert "SECRETTOKEN" not in completed.stdout + completed.stderr, line


def test_a_refused_webhook_is_reported_at_once(data: Path) -> None:
    started = time.monotonic()
    completed = run_cli("digest", "--data", data, *WINDOW, "--webhook-url", refused_url())
    assert completed.returncode == 1
    assert_clean_error(completed, "webhook http://127.0.0.1:", "refused")
    assert "SECRETTOKEN" not in completed.stderr
    assert time.monotonic() - started < 60


def test_a_silent_webhook_is_given_up_within_the_bound(data: Path) -> None:
    with running_webhook("hang", "hang", "hang", hang_seconds=30) as hook:
        started = time.monotonic()
        completed = run_cli(
            "digest", "--data", data, *WINDOW, "--webhook-url", hook.url, "--timeout", "1"
        )
        took = time.monotonic() - started
    assert completed.returncode == 1
    assert_clean_error(completed, "webhook", "no answer within 1 s")
    assert len(hook.requests) == 3  # tried three times, never more
    # Three 1-second attempts and their back-off, plus reading the store: far below the hang.
    assert took < 25, took


def test_one_channel_failing_still_delivers_the_others_and_says_which_failed(data: Path) -> None:
    with running_smtp() as (port, mailbox):
        completed = run_cli(
            "digest", "--data", data, *WINDOW, "--webhook-url", refused_url(),
            "--email", "lead@example.com", "--smtp-host", "127.0.0.1", "--smtp-port", str(port),
        )  # fmt: skip
    assert completed.returncode == 1
    line = assert_clean_error(completed, "not delivered to webhook", "delivered to email by SMTP")
    assert len(mailbox.messages) == 1, line


def test_a_refused_smtp_server_is_reported_after_its_retries(data: Path) -> None:
    port = refused_url().split(":")[2].split("/")[0]
    completed = run_cli(
        "digest", "--data", data, *WINDOW, "--email", "lead@example.com",
        "--smtp-host", "127.0.0.1", "--smtp-port", port, "--timeout", "2",
    )  # fmt: skip
    assert completed.returncode == 1
    assert_clean_error(completed, f"email by SMTP 127.0.0.1:{port}", "refused", "3 attempts")


@pytest.mark.parametrize(
    ("arguments", "needles"),
    [
        ((), ("no channel", "--webhook-url", "--dry-run")),
        (("--email", "a@example.com"), ("--email needs", "--smtp-host", "--ses-from")),
        (("--smtp-host", "localhost"), ("--smtp-host sends email", "--email")),
        (("--email", "not an address", "--smtp-host", "h"), ("--email", "not an email address")),
        (
            ("--email", "a@example.com\r\nBcc: x@evil.example", "--smtp-host", "h"),
            ("--email", "not an email address"),
        ),
        (("--webhook-url", "ftp://host/SECRETTOKEN"), ("--webhook-url", "http(s) URL")),
        (("--sns-topic-arn", "my-topic"), ("--sns-topic-arn", "arn:aws:sns:")),
        (("--dry-run", "--since", "2026-11-09", "--until", "2026-11-01"), ("--since", "before")),
        (("--dry-run", "--timezone", "Mars/Base"), ("--timezone",)),
        (
            ("--email", "a@example.com", "--smtp-host", "h", "--smtp-user", "me"),
            ("--smtp-user", "GT_THROUGHPUT_SMTP_PASSWORD"),
        ),
    ],
    ids=[
        "no-channel",
        "email-without-a-way",
        "smtp-without-email",
        "bad-address",
        "header-injection",
        "not-http",
        "not-an-arn",
        "since-after-until",
        "bad-timezone",
        "smtp-user-without-password",
    ],
)
def test_wrong_arguments_give_one_line_naming_the_fix(
    data: Path, arguments: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    environment = {"GT_THROUGHPUT_SMTP_PASSWORD": ""}
    completed = run_cli("digest", "--data", data, *arguments, env=environment)
    assert completed.returncode == 2
    line = assert_clean_error(completed, *needles)
    assert "SECRETTOKEN" not in line


def test_an_empty_store_is_an_error_not_an_empty_digest(tmp_path: Path) -> None:
    completed = run_cli("digest", "--data", tmp_path / "none", "--dry-run")
    assert completed.returncode == 2
    assert_clean_error(completed, "empty", "ingest or sync")


def test_dry_run_prints_and_sends_nothing(data: Path) -> None:
    with running_webhook() as hook:
        completed = run_cli(
            "digest", "--data", data, *WINDOW, "--webhook-url", hook.url, "--dry-run"
        )
    assert_no_traceback(completed)
    assert completed.returncode == 0
    assert completed.stdout.startswith("Ground Truth digest: 2026-11-01 00:00 to 2026-11-08 00:00")
    assert hook.requests == []


def test_an_smtp_server_refusing_the_recipient_is_reported_with_its_answer(data: Path) -> None:
    with running_smtp(reject="550 5.1.1 no such mailbox here") as (port, mailbox):
        completed = run_cli(
            "digest", "--data", data, *WINDOW, "--email", "lead@example.com",
            "--smtp-host", "127.0.0.1", "--smtp-port", str(port),
        )  # fmt: skip
    assert completed.returncode == 1
    assert_clean_error(completed, f"email by SMTP 127.0.0.1:{port}", "550")
    assert mailbox.messages == []


# --------------------------------------------------------------------------- SMTP over TLS
USER, PASSWORD = "digest-bot", "pass word: s3cret"


def smtp_args(port: int, *more: str, host: str = "127.0.0.1") -> tuple[str, ...]:
    """The digest's arguments for mail to lead@example.com through ``host:port``."""
    return ("--email", "lead@example.com", "--smtp-host", host, "--smtp-port", str(port),
            *more)  # fmt: skip


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


UNTRUSTED = "its TLS certificate is not trusted (unable to get local issuer certificate); trust"


@pytest.mark.parametrize(
    ("trust", "host", "needle"),
    [
        ("nothing", "127.0.0.1", UNTRUSTED),
        ("another", "127.0.0.1", UNTRUSTED),
        (
            "its-issuer",
            "localhost",
            "its TLS certificate is for another name (Hostname mismatch, certificate is not valid"
            " for 'localhost'.); give the SMTP host by a name its certificate holds",
        ),
    ],
    ids=["no-authority-trusted", "another-authority-trusted", "a-name-it-is-not-for"],
)
def test_a_certificate_not_trusted_stops_the_mail_before_the_password_is_sent(
    data: Path, authority: trustme.CA, tmp_path: Path, trust: str, host: str, needle: str
) -> None:
    trusted = tmp_path / "trusted.pem"
    trusted.write_bytes(b"")
    if trust == "another":
        trustme.CA().cert_pem.write_to_path(str(trusted))
    if trust == "its-issuer":
        authority.cert_pem.write_to_path(str(trusted))
    server = running_smtp(certificate=authority.issue_cert("127.0.0.1"), logins={USER: PASSWORD})
    with server as (port, mailbox):
        completed = run_cli(
            "digest", "--data", data, *WINDOW,
            *smtp_args(port, "--smtp-starttls", "--smtp-user", USER, host=host),
            env={"SSL_CERT_FILE": str(trusted), "GT_THROUGHPUT_SMTP_PASSWORD": PASSWORD},
        )  # fmt: skip
    assert completed.returncode == 1
    line = assert_clean_error(completed, f"email by SMTP {host}:{port}", needle)
    assert "attempts" not in line, line  # a certificate that is not trusted is final
    assert mailbox.logins == []  # the password never went over a connection it could not trust
    assert mailbox.messages == []
    assert PASSWORD not in completed.stdout + completed.stderr


@pytest.mark.parametrize(
    ("more", "password", "needle", "logins"),
    [
        ((), PASSWORD, "530", []),
        # smtplib tries PLAIN, then LOGIN, in its one session: no second session.
        (("--smtp-starttls", "--smtp-user", USER), "wrong", "535", [(USER, "wrong", False)] * 2),
    ],
    ids=["mail-without-the-starttls-the-server-requires", "a-wrong-password"],
)
def test_an_smtp_server_refusing_the_session_is_reported_with_its_answer_once(
    data: Path,
    authority: trustme.CA,
    tmp_path: Path,
    more: tuple[str, ...],
    password: str,
    needle: str,
    logins: list[tuple[str, str, bool]],
) -> None:
    trusted = tmp_path / "trusted.pem"
    authority.cert_pem.write_to_path(str(trusted))
    server = running_smtp(certificate=authority.issue_cert("127.0.0.1"), logins={USER: PASSWORD})
    with server as (port, mailbox):
        completed = run_cli(
            "digest", "--data", data, *WINDOW, *smtp_args(port, *more),
            env={"SSL_CERT_FILE": str(trusted), "GT_THROUGHPUT_SMTP_PASSWORD": password},
        )  # fmt: skip
    assert completed.returncode == 1
    assert_clean_error(
        completed, f"email by SMTP 127.0.0.1:{port}", f"the server answered {needle}"
    )
    assert mailbox.logins == logins  # a 5xx answer is final: no second try
    assert mailbox.messages == []


def test_starttls_asked_of_a_server_that_offers_none_is_reported(data: Path) -> None:
    with running_smtp() as (port, mailbox):
        completed = run_cli("digest", "--data", data, *WINDOW, *smtp_args(port, "--smtp-starttls"))
    assert completed.returncode == 1
    assert_clean_error(completed, f"email by SMTP 127.0.0.1:{port}", "STARTTLS")
    assert mailbox.messages == []
