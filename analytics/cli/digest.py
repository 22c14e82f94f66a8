"""``gt-throughput digest``: send one message for a window (default: the last 24 hours)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from typing import Any

from analytics.cli.arguments import add_aws_arguments, add_data_argument, data_dir
from analytics.cli.time_arguments import SINCE_HELP

HELP = "send a digest of the window to a webhook, email or SNS (or print it)"
#: The SMTP password's variable: never an argument (argv is visible to every user's ps).
SMTP_PASSWORD_ENV_VAR = "GT_THROUGHPUT_SMTP_PASSWORD"
#: The exit code when a channel could not be delivered to (the others were tried).
EXIT_NOT_DELIVERED = 1


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``digest`` and its arguments to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser("digest", help=HELP, description=HELP)
    add_data_argument(parser)
    parser.add_argument(
        "--since", metavar="WHEN", help=f"window start (default: 24 hours ago): {SINCE_HELP}"
    )
    parser.add_argument(
        "--until", metavar="WHEN", help="window end (exclusive; default: now), same forms"
    )
    parser.add_argument(
        "--team", action="append", default=[], metavar="NAME", help="work team name (repeatable)"
    )
    parser.add_argument(
        "--timezone", default="UTC", help="IANA time zone of the times written (default UTC)"
    )
    parser.add_argument(
        "--deadline",
        action="append",
        default=[],
        metavar="JOB=DATE",
        help="a staffing deadline (repeatable): the digest then says how many workers clear the"
        " job's backlog by the end of that local day, e.g. --deadline my-job=2026-12-04",
    )
    channels = parser.add_argument_group("channels (at least one, or --dry-run)")
    channels.add_argument(
        "--webhook-url",
        metavar="URL",
        help="POST Slack-compatible JSON here (Slack, Mattermost, Teams workflows); messages show"
        " its scheme and host only",
    )
    channels.add_argument(
        "--email", action="append", default=[], metavar="TO", help="email recipient (repeatable)"
    )
    channels.add_argument("--smtp-host", metavar="HOST", help="send --email through this server")
    channels.add_argument("--smtp-port", type=int, default=25, metavar="N", help="default 25")
    channels.add_argument(
        "--smtp-starttls", action="store_true", help="upgrade the SMTP connection with STARTTLS"
    )
    channels.add_argument(
        "--smtp-user",
        metavar="USER",
        help=f"log in to the SMTP server as USER; the password is ${SMTP_PASSWORD_ENV_VAR}",
    )
    channels.add_argument(
        "--email-from", metavar="ADDR", help="the SMTP sender (default gt-throughput@this host)"
    )
    channels.add_argument(
        "--ses-from", metavar="ADDR", help="send --email through Amazon SES from ADDR (verified)"
    )
    channels.add_argument("--sns-topic-arn", metavar="ARN", help="publish the text on this topic")
    add_aws_arguments(parser)
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="webhook and SMTP: how long one attempt waits (default %(default)g; 3 attempts)",
    )
    parser.add_argument(
        "--pseudonymize",
        action="store_true",
        help="no name, email, Cognito sub or worker id in any part: stable pseudonyms instead"
        " (key: $GT_THROUGHPUT_PSEUDONYM_KEY, else a fixed salt)",
    )
    parser.add_argument(
        "--only-new",
        action="store_true",
        help="leave out alerts already sent for this (or an overlapping) window; send nothing"
        " when none is new",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the digest; send nothing")
    parser.epilog = (
        "Exit status: 0 when every channel got the digest (or nothing was new, or --dry-run); 1"
        " when a channel did not (after retries; the others were still tried); 2 for a wrong"
        " argument. See docs/digest.md."
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``digest`` with the parsed ``args``; returns the exit code."""
    from analytics import (
        AwsTarget,
        DigestRequest,
        SmtpServer,
        Store,
        UsageError,
        check_timezone,
        escape_controls,
        parse_deadline,
        send_digest,
    )
    from analytics.cli.time_arguments import parse_when

    timezone = check_timezone(args.timezone)
    now = dt.datetime.now(dt.UTC)
    since = parse_when(args.since, now, "--since", timezone) if args.since else None
    until = parse_when(args.until, now, "--until", timezone) if args.until else now
    since = since if since is not None else until - dt.timedelta(hours=24)
    if since > until:
        raise UsageError(
            f"--since must be before --until (got {since.isoformat()} > {until.isoformat()})"
        )
    smtp = None
    if args.smtp_host is not None:
        if not 0 < args.smtp_port < 65536:
            raise UsageError(f"--smtp-port must be from 1 to 65535 (got {args.smtp_port})")
        password = None
        if args.smtp_user is not None:
            password = os.environ.get(SMTP_PASSWORD_ENV_VAR, "")
            if not password:
                raise UsageError(
                    f"--smtp-user {args.smtp_user} needs the password in ${SMTP_PASSWORD_ENV_VAR}"
                    " (never on the command line): set it, or leave --smtp-user out"
                )
        smtp = SmtpServer(args.smtp_host, args.smtp_port, args.smtp_starttls, args.smtp_user,
                          password)  # fmt: skip
    request = DigestRequest(
        since=since,
        until=until,
        teams=tuple(args.team),
        timezone=timezone,
        webhook_url=args.webhook_url,
        email_to=tuple(args.email),
        email_from=args.email_from,
        smtp=smtp,
        ses_from=args.ses_from,
        sns_topic_arn=args.sns_topic_arn,
        aws=AwsTarget(args.region, args.profile, args.endpoint_url, args.aws_timeout),
        pseudonymize=args.pseudonymize,
        only_new=args.only_new,
        dry_run=args.dry_run,
        timeout_seconds=args.timeout,
        deadlines=tuple(parse_deadline(text, "--deadline") for text in args.deadline),
    )
    report = send_digest(Store(data_dir(args.data)), request, now=now)
    if args.dry_run and not report.nothing_new:
        sys.stdout.write(report.text)
        sys.stdout.flush()
    if report.failed:
        print(f"error: {escape_controls(report.summary_line())}", file=sys.stderr)
        return EXIT_NOT_DELIVERED
    print(report.summary_line(), file=sys.stderr if args.dry_run else sys.stdout)
    return 0
