"""Strings from data, made safe to show: the one rule for control characters.

A worker id, a Cognito username or email, a job or team name and a rejected line's raw text all
come from outside. Shown raw, a carriage return or line feed splits a CSV row or a table cell, a
NUL truncates the text in some readers, and a bidirectional override (U+202E) makes text read
differently from what it is ("Trojan Source", CVE-2021-42574). :func:`escape_controls` writes
each such character as a visible escape, so the value is shown as what it is:

- ``\\r``, ``\\n`` and ``\\t`` as those two-character escapes;
- every other C0 control (U+0000-U+001F), DEL (U+007F) and C1 control (U+0080-U+009F) as
  ``\\xNN``;
- the Unicode bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and
  the line and paragraph separators (U+2028, U+2029) as ``\\uNNNN``.

Backslashes are left alone: Windows-style names (``DOMAIN\\user``) stay readable, at the cost
that a literal ``\\n`` in a name looks like an escaped line feed. Everything else, markup
included, is left as it is: showing it as literal text is the job of whoever draws it.
"""

from __future__ import annotations

import re

_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}
_CONTROLS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def _escape(match: re.Match[str]) -> str:
    character = match.group()
    named = _NAMED.get(character)
    if named is not None:
        return named
    code = ord(character)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """``text`` with every control character written as a visible escape (module docstring).

    >>> escape_controls("a\\r=1+1\\x00")
    'a\\\\r=1+1\\\\x00'
    """
    return _CONTROLS.sub(_escape, text)


def has_controls(text: str) -> bool:
    """Whether ``text`` holds a character that :func:`escape_controls` would escape."""
    return _CONTROLS.search(text) is not None
