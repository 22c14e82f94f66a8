"""A ``Digest`` as plain text, HTML and Slack-compatible JSON; every data string shown literally.

Each item's text goes through ``analytics.text.escape_controls`` first (a CR, LF or bidi
override in a name cannot forge a line or reorder one), then through the format's own escape:

- HTML: ``html.escape`` (a name such as ``<script>`` is text, never markup);
- Slack: ``&``, ``<`` and ``>`` as ``&amp;``, ``&lt;``, ``&gt;``, so ``<!channel>`` or
  ``<http://x|click>`` in a name is neither a mention nor a link; items go in ``plain_text``
  blocks, so ``*bold*`` or ``_x_`` in a name is not formatting either (the top-level ``text``,
  the notification's fallback, escapes the same three characters);
- plain text (the terminal, the email's text part, SNS): the control-character escape only.

Limits of the receivers are kept here: a Slack message of at most ``SLACK_MAX_BLOCKS`` blocks
of at most ``SLACK_MAX_SECTION_CHARS`` characters; SNS's subject of at most 100 ASCII characters
and message of at most 256 KB.
"""

from __future__ import annotations

import html
from typing import Any

from analytics.digest.compose import Digest, Section
from analytics.text import escape_controls

#: Slack's limits (https://api.slack.com/reference/block-kit/blocks): 50 blocks a message,
#: 3000 characters a section's text; the top-level text is cut well below its 40,000.
SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION_CHARS = 3000
SLACK_MAX_TEXT_CHARS = 35_000
#: SNS's limits (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html): a subject of at
#: most 100 ASCII characters without line breaks, a message of at most 256 KB of UTF-8.
SNS_MAX_SUBJECT_CHARS = 100
SNS_MAX_MESSAGE_BYTES = 262_144

TITLE = "Ground Truth digest"


def subject_line(digest: Digest) -> str:
    """The email and SNS subject: ASCII, one line, at most 100 characters, no data string."""
    count = digest.alert_count()
    alerts = f"{count} alert{'s' if count != 1 else ''}"
    text = f"{TITLE} {digest.until:%Y-%m-%d %H:%M} UTC: {alerts}"
    return text.encode("ascii", "replace").decode("ascii")[:SNS_MAX_SUBJECT_CHARS]


def _shown(text: str) -> str:
    return escape_controls(text)


def _lines(section: Section) -> list[str]:
    return [_shown(item.text) for item in section.items] or [section.empty]


def render_text(digest: Digest) -> str:
    """The digest as plain text (the email's text part, SNS, ``--dry-run``)."""
    out = [f"{TITLE}: {digest.window}", ""]
    for section in digest.sections:
        out.append(section.title)
        out.extend(f"  - {line}" for line in _lines(section))
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def render_html(digest: Digest) -> str:
    """The digest as an HTML document; every data string escaped with ``html.escape``."""
    out = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8"></head><body>',
        f"<h2>{html.escape(TITLE)}</h2>",
        f"<p>{html.escape(digest.window)}</p>",
    ]
    for section in digest.sections:
        out.append(f"<h3>{html.escape(section.title)}</h3>")
        out.append("<ul>")
        out.extend(f"<li>{html.escape(line)}</li>" for line in _lines(section))
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def slack_escape(text: str) -> str:
    """``text`` for a Slack message: ``&``, ``<`` and ``>`` as entities (Slack's own rule)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _chunks(lines: list[str], limit: int) -> list[str]:
    """``lines`` joined by newlines into pieces of at most ``limit`` characters."""
    pieces: list[str] = []
    current = ""
    for line in lines:
        line = line if len(line) <= limit else line[: limit - 1] + "…"
        if current and len(current) + 1 + len(line) > limit:
            pieces.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        pieces.append(current)
    return pieces


def render_slack(digest: Digest) -> dict[str, Any]:
    """The webhook body: Slack-compatible JSON with a non-empty ``text`` and ``blocks``
    (Mattermost and others read ``text``)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": TITLE, "emoji": False}},
        {"type": "context", "elements": [{"type": "plain_text", "text": digest.window}]},
    ]
    text_lines = [f"{TITLE}: {slack_escape(digest.window)}"]
    left_out = 0
    for section in digest.sections:
        lines = [slack_escape(line) for line in _lines(section)]
        text_lines.append(f"{section.title}:")
        text_lines.extend(f"• {line}" for line in lines)
        pieces = _chunks([f"• {line}" for line in lines], SLACK_MAX_SECTION_CHARS)
        wanted = [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{section.title}*"}},
            *(
                {"type": "section", "text": {"type": "plain_text", "text": p, "emoji": False}}
                for p in pieces
            ),
        ]
        room = SLACK_MAX_BLOCKS - 1 - len(blocks)  # one kept for the note of what was left out
        blocks.extend(wanted[: max(room, 0)])
        left_out += max(len(wanted) - max(room, 0), 0)
    if left_out:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "plain_text",
                        "text": f"{left_out} more blocks left out (Slack's limit): see the email"
                        " or the dashboard",
                    }
                ],
            }
        )
    text = "\n".join(text_lines)
    if len(text) > SLACK_MAX_TEXT_CHARS:
        text = text[: SLACK_MAX_TEXT_CHARS - 40] + "\n… (cut: see the email or the dashboard)"
    return {"text": text, "blocks": blocks}


def fit_sns_message(text: str) -> str:
    """``text`` cut to SNS's 256 KB (whole lines, then a note), unchanged when it fits."""
    if len(text.encode("utf-8")) <= SNS_MAX_MESSAGE_BYTES:
        return text
    note = "… (cut at SNS's 256 KB: see the email or the dashboard)\n"
    budget = SNS_MAX_MESSAGE_BYTES - len(note.encode("utf-8"))
    kept: list[str] = []
    used = 0
    for line in text.splitlines(keepends=True):
        size = len(line.encode("utf-8"))
        if used + size > budget:
            break
        kept.append(line)
        used += size
    return "".join(kept) + note
