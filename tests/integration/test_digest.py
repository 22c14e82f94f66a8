"""``gt-throughput digest`` delivering to real receivers on 127.0.0.1: a webhook server, an SMTP
server (aiosmtpd), SES and SNS on the moto server; ``--only-new``, ``--pseudonymize`` and hostile
names proven on the bodies received; ``serve`` sending it on its schedule."""

from __future__ import annotations

import datetime as dt
import html
import json
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pytest
import trustme

from analytics.store.store import Store
from analytics.text import escape_controls
from tests.aws_emulator.fixtures import TEST_ENVIRONMENT, use_test_credentials
from tests.aws_emulator.seed import SAMPLE_REGION
from tests.aws_emulator.server import Emulator
from tests.faults.support import assert_no_traceback, run_cli
from tests.support.receivers import (
    MARKUP_NAMES,
    SINCE,
    UNTIL,
    free_port,
    hostile_store,
    identities,
    running_smtp,
    running_webhook,
)
from tests.support.service import serving, wait_until, write_config

WINDOW = ("--since", SINCE, "--until", UNTIL)
SENDER = "digest@example.com"


@pytest.fixture(scope="module")
def hostile_root(sample_store_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample store with hostile usernames and emails, built once for the module."""
    root = tmp_path_factory.mktemp("hostile") / "store"
    hostile_store(sample_store_root, root)
    return root


@pytest.fixture
def data(hostile_root: Path, tmp_path: Path) -> Path:
    """A copy of the hostile store for one test (its own digest state)."""
    import shutil

    return Path(shutil.copytree(hostile_root, tmp_path / "store"))


def slack_body(raw: bytes) -> dict[str, Any]:
    body = json.loads(raw)
    assert isinstance(body, dict)
    return body


def parts(message: EmailMessage) -> dict[str, str]:
    """The text and HTML parts of a multipart/alternative message, by content type."""
    assert message.get_content_type() == "multipart/alternative"
    found = {}
    for part in message.iter_parts():
        assert isinstance(part, EmailMessage)
        found[part.get_content_type()] = str(part.get_content())
    assert set(found) == {"text/plain", "text/html"}
    return found


# --------------------------------------------------------------------------- webhook
def test_a_webhook_answering_500_then_200_gets_the_digest_once(data: Path) -> None:
    with running_webhook(500) as hook:
        completed = run_cli("digest", "--data", data, *WINDOW, "--webhook-url", hook.url,
                            "--timeout", "5")  # fmt: skip
    assert_no_traceback(completed)
    assert completed.returncode == 0, completed.stderr
    assert [answer for _, _, answer in hook.requests] == [500, 200]
    assert len(hook.delivered()) == 1
    body = slack_body(hook.delivered()[0])
    assert body["text"].strip()
    assert body["blocks"]
    assert "delivered to webhook http://127.0.0.1:" in completed.stdout
    assert "SECRETTOKEN" not in completed.stdout + completed.stderr


def test_hostile_names_reach_slack_and_email_as_literal_text(data: Path) -> None:
    with running_webhook() as hook, running_smtp() as (port, mailbox):
        completed = run_cli(
            "digest", "--data", data, *WINDOW, "--webhook-url", hook.url,
            "--email", "lead@example.com", "--smtp-host", "127.0.0.1", "--smtp-port", str(port),
            "--email-from", SENDER,
        )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    raw = hook.delivered()[0].decode("utf-8")
    assert len(hook.delivered()) == 1
    assert len(mailbox.messages) == 1
    shown = parts(mailbox.messages[0][1])
    names = [name for name in MARKUP_NAMES.values() if escape_controls(name) in shown["text/plain"]]
    assert names, "the digest names no hostile member: the test would prove nothing"
    for name in names:
        literal = escape_controls(name)
        # HTML: escaped once, so the mail client shows the name itself, never markup.
        assert html.escape(literal) in shown["text/html"]
        # Slack: &, < and > as entities; nothing Slack reads as a mention or a link.
        slack = literal.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert slack in raw
    for markup in ("<script>", "<b>", "<img", "<!channel>", "<!here>", "<@U0BOSS>", "<http://"):
        assert markup not in shown["text/html"]
        assert markup not in raw
    # Names go in plain_text blocks: Slack applies no *bold* or _italic_ to them.
    for block in slack_body(hook.delivered()[0])["blocks"]:
        text = block.get("text", {})
        if MARKUP_NAMES["markdown"].split()[0] in text.get("text", ""):
            assert text["type"] == "plain_text"


def test_only_new_sends_an_alert_once_per_window_and_a_new_one_when_it_appears(
    data: Path,
) -> None:
    with running_webhook() as hook:
        first = run_cli("digest", "--data", data, *WINDOW, "--webhook-url", hook.url, "--only-new")
        second = run_cli("digest", "--data", data, *WINDOW, "--webhook-url", hook.url, "--only-new")
        assert first.returncode == 0, first.stderr
        assert second.returncode == 0, second.stderr
        assert len(hook.requests) == 1
        assert "nothing new" in second.stdout
        # A new member who did nothing in the window: a new idle alert, and only it is sent.
        store = Store(data)
        members = store.read_table("memberships")
        row = {name: members.column(name)[0].as_py() for name in members.column_names}
        row.update(sub="new-member-sub-0001", username="newcomer.nadia", email="nadia@example.com")
        store.replace_table(
            "memberships", pa.concat_tables([members, pa.Table.from_pylist([row], members.schema)])
        )
        third = run_cli("digest", "--data", data, *WINDOW, "--webhook-url", hook.url, "--only-new")
    assert third.returncode == 0, third.stderr
    assert len(hook.requests) == 2
    first_text = slack_body(hook.requests[0][1])["text"]
    new_text = slack_body(hook.requests[1][1])["text"]
    assert "newcomer.nadia" in new_text
    assert "newcomer.nadia" not in first_text
    assert "Slow workers" in new_text
    assert "no worker is flagged slow" in new_text
    assert "modified z" in first_text  # the slow alerts were in the first message only


# --------------------------------------------------------------------------- SES and SNS
@pytest.fixture
def aws_channels(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A verified SES sender, an SNS topic and an SQS queue subscribed to it, on moto."""
    use_test_credentials(monkeypatch)
    emulator.reset()
    session = boto3.Session(region_name=SAMPLE_REGION)
    ses = session.client("ses", endpoint_url=emulator.endpoint_url)
    ses.verify_email_identity(EmailAddress=SENDER)
    sns = session.client("sns", endpoint_url=emulator.endpoint_url)
    sqs = session.client("sqs", endpoint_url=emulator.endpoint_url)
    topic = sns.create_topic(Name="gt-digest")["TopicArn"]
    queue = sqs.create_queue(QueueName="digest-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    return {"topic": topic, "queue": queue, "sqs": sqs, "endpoint": emulator.endpoint_url}


def sns_messages(channels: dict[str, Any]) -> list[dict[str, Any]]:
    answer = channels["sqs"].receive_message(
        QueueUrl=channels["queue"], MaxNumberOfMessages=10, WaitTimeSeconds=1
    )
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def ses_raw_messages(endpoint: str) -> list[str]:
    """What moto's SES received, from its model data (``/moto-api/data.json``)."""
    import urllib.request

    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=30) as answer:
        models = json.loads(answer.read())
    return [str(m["raw_data"]) for m in models.get("ses", {}).get("RawMessage", [])]


def test_pseudonymize_keeps_every_identity_out_of_every_channel(
    data: Path, aws_channels: dict[str, Any]
) -> None:
    with running_webhook() as hook, running_smtp() as (port, mailbox):
        completed = run_cli(
            "digest", "--data", data, *WINDOW, "--pseudonymize",
            "--webhook-url", hook.url, "--sns-topic-arn", aws_channels["topic"],
            "--email", "lead@example.com", "--smtp-host", "127.0.0.1", "--smtp-port", str(port),
            "--endpoint-url", aws_channels["endpoint"], "--region", SAMPLE_REGION,
            env=TEST_ENVIRONMENT,
        )  # fmt: skip
        with_ses = run_cli(
            "digest", "--data", data, *WINDOW, "--pseudonymize",
            "--email", "lead@example.com", "--ses-from", SENDER,
            "--endpoint-url", aws_channels["endpoint"], "--region", SAMPLE_REGION,
            env=TEST_ENVIRONMENT,
        )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert with_ses.returncode == 0, with_ses.stderr
    published = sns_messages(aws_channels)
    raw_ses = ses_raw_messages(aws_channels["endpoint"])
    assert len(hook.delivered()) == 1
    assert len(mailbox.messages) == 1
    assert len(published) == 1
    assert len(raw_ses) == 1
    shown = parts(mailbox.messages[0][1])
    bodies = {
        "webhook": html.unescape(hook.delivered()[0].decode("utf-8")),
        "webhook text": html.unescape(slack_body(hook.delivered()[0])["text"]),
        "email text": shown["text/plain"],
        "email html": html.unescape(shown["text/html"]),
        "email raw": mailbox.messages[0][1].as_string(),
        "sns": published[0]["Message"] + published[0].get("Subject", ""),
        "ses": raw_ses[0],
    }
    assert "p-" in bodies["sns"]
    assert "Slow workers" in bodies["ses"]
    for identity in identities(Store(data)):
        for where, body in bodies.items():
            assert identity not in body, (where, identity)
            assert escape_controls(identity) not in body, (where, identity)


def test_ses_and_sns_each_get_the_digest_once(data: Path, aws_channels: dict[str, Any]) -> None:
    completed = run_cli(
        "digest", "--data", data, *WINDOW, "--sns-topic-arn", aws_channels["topic"],
        "--email", "lead@example.com", "--email", "ops@example.com", "--ses-from", SENDER,
        "--endpoint-url", aws_channels["endpoint"], "--region", SAMPLE_REGION,
        env=TEST_ENVIRONMENT,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    published = sns_messages(aws_channels)
    assert len(published) == 1
    assert published[0]["Subject"].startswith("Ground Truth digest")
    assert len(published[0]["Subject"]) <= 100
    assert "Throughput" in published[0]["Message"]
    raw = ses_raw_messages(aws_channels["endpoint"])
    assert len(raw) == 1
    assert "multipart/alternative" in raw[0]
    assert "text/html" in raw[0]
    assert "lead@example.com, ops@example.com" in raw[0]


# --------------------------------------------------------------------------- serve
def test_serve_sends_the_digest_when_due_once_even_across_a_restart(
    data: Path, tmp_path: Path
) -> None:
    # Due soon after serve starts (its start-up takes seconds on a loaded machine); the
    # schedule then checks every second.
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=20)
    digest = (
        "[digest]\n"
        'days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
        f'time = "{due:%H:%M:%S}"\n'
        'timezone = "UTC"\n'
        'webhook_url_env = "GT_TEST_DIGEST_WEBHOOK"\n'
        "timeout_seconds = 5\n"
    )
    port = free_port()
    config = write_config(tmp_path / "gt.toml", store=data, port=port, extra=digest)
    text = config.read_text(encoding="utf-8").replace(
        "[schedule]\n", "[schedule]\nenabled = false\n"
    )
    config.write_text(text, encoding="utf-8")
    with running_webhook() as hook:
        environment = {"GT_TEST_DIGEST_WEBHOOK": hook.url}
        log = tmp_path / "serve.log"
        with serving(config, port, log, environment=environment, wait_for_dashboard=False) as one:
            wait_until(lambda: len(hook.requests) >= 1, 90, "the scheduled digest", one.output)
            time.sleep(3)  # a second send would come within the loop's second
        assert len(hook.requests) == 1, log.read_text()
        assert slack_body(hook.requests[0][1])["blocks"]
        # A restart after the due time: it was recorded as handled, so it is not sent again.
        again = tmp_path / "again.log"
        with serving(config, port, again, environment=environment, wait_for_dashboard=False) as two:
            wait_until(lambda: "digest scheduled" in two.output(), 60, "the schedule", two.output)
            time.sleep(3)
        assert len(hook.requests) == 1, again.read_text()
    assert "SECRETTOKEN" not in log.read_text() + again.read_text()


def test_two_schedulers_on_one_store_send_a_due_digest_once(data: Path) -> None:
    import threading

    from analytics.service.digest_schedule import DigestScheduler, DigestSettings

    due = dt.datetime.fromisoformat(UNTIL)
    with running_webhook() as hook:
        settings = DigestSettings(time=dt.time(0, 0), webhook_url=hook.url, timeout_seconds=5)
        schedulers = [DigestScheduler(data, settings) for _ in range(2)]
        for scheduler in schedulers:
            scheduler.due = due  # both find the same digest due now
        start = threading.Barrier(2)
        outcomes: list[str | None] = []

        def run(scheduler: DigestScheduler) -> None:
            start.wait(timeout=30)
            outcomes.append(scheduler.run_due(due + dt.timedelta(minutes=1)))

        threads = [threading.Thread(target=run, args=(s,)) for s in schedulers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert len(hook.requests) == 1, outcomes
    assert sum("skipped" in (outcome or "") for outcome in outcomes) == 1, outcomes
    assert all(s.due is not None and s.due > due for s in schedulers)


@pytest.mark.parametrize(
    ("channel", "needle"),
    [
        pytest.param("ses", "email by SES", id="unverified-ses-sender"),
        pytest.param("sns", "SNS", id="no-such-sns-topic"),
    ],
)
def test_an_aws_channel_refusing_is_reported_and_the_other_still_delivered(
    data: Path, aws_channels: dict[str, Any], channel: str, needle: str
) -> None:
    topic, sender = aws_channels["topic"], SENDER
    if channel == "ses":
        sender = "not-verified@example.com"  # SES refuses an unverified sender (MessageRejected)
    else:
        topic = topic.rsplit(":", 1)[0] + ":no-such-topic"
    completed = run_cli(
        "digest", "--data", data, *WINDOW, "--sns-topic-arn", topic,
        "--email", "lead@example.com", "--ses-from", sender,
        "--endpoint-url", aws_channels["endpoint"], "--region", SAMPLE_REGION,
        env=TEST_ENVIRONMENT,
    )  # fmt: skip
    assert completed.returncode == 1
    assert_no_traceback(completed)
    assert needle in completed.stderr, completed.stderr
    if channel == "ses":
        assert ses_raw_messages(aws_channels["endpoint"]) == []
        assert len(sns_messages(aws_channels)) == 1
    else:
        assert len(ses_raw_messages(aws_channels["endpoint"])) == 1
        assert sns_messages(aws_channels) == []


def test_email_goes_over_starttls_and_logs_in_once_the_certificate_is_trusted(
    data: Path, tmp_path: Path
) -> None:
    authority = trustme.CA()
    trusted = tmp_path / "trusted.pem"  # what SSL_CERT_FILE names: the system's trust, here
    authority.cert_pem.write_to_path(str(trusted))
    user, password = "digest-bot", "pass word: s3cret"
    with running_smtp(certificate=authority.issue_cert("127.0.0.1"), logins={user: password}) as (
        port,
        mailbox,
    ):
        completed = run_cli(
            "digest", "--data", data, *WINDOW, "--email", "lead@example.com",
            "--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--smtp-starttls",
            "--smtp-user", user, "--email-from", SENDER,
            env={"SSL_CERT_FILE": str(trusted), "GT_THROUGHPUT_SMTP_PASSWORD": password},
        )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert f"delivered to email by SMTP 127.0.0.1:{port}" in completed.stdout
    assert mailbox.logins == [(user, password, True)]
    assert mailbox.over_tls == [True]  # the server takes mail on TLS only, after a login
    assert [recipients for recipients, _ in mailbox.messages] == [["lead@example.com"]]
    assert mailbox.messages[0][1]["From"] == SENDER
    assert password not in completed.stdout + completed.stderr
