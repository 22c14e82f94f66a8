"""The one rule for control characters in strings from data (``analytics.text``)."""

from __future__ import annotations

import pytest

from analytics.text import escape_controls, has_controls

CASES = [
    ("plain", "alice@example.com", "alice@example.com"),
    ("carriage return", "\r=1+1", "\\r=1+1"),
    ("line feed", "a\nb", "a\\nb"),
    ("tab", "\tx", "\\tx"),
    ("nul", "a\x00b", "a\\x00b"),
    ("escape", "\x1b[31mred", "\\x1b[31mred"),
    ("delete", "a\x7f", "a\\x7f"),
    ("c1 next line", "a\x85b", "a\\x85b"),
    ("right-to-left override", "abc\u202edcba", "abc\\u202edcba"),
    ("isolate", "\u2066x\u2069", "\\u2066x\\u2069"),
    ("line separator", "a\u2028b", "a\\u2028b"),
    ("backslash kept", "CORP\\alice", "CORP\\alice"),
    ("markup kept", "**x** [t](http://evil)", "**x** [t](http://evil)"),
    ("non-latin kept", "Zoë 山田 😀", "Zoë 山田 😀"),
]


@pytest.mark.parametrize(("text", "escaped"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_escape_controls(text: str, escaped: str) -> None:
    assert escape_controls(text) == escaped
    assert has_controls(text) == (text != escaped)
    assert not has_controls(escaped)
