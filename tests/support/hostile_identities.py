"""Identities a careless or hostile directory may hold, and the Cognito users that carry them.

One table for the export tests (in process, ``tests/unit/test_export.py``) and the export fault
tests (through the command line, ``tests/faults/test_export_faults.py``): a new trick is a new
row here and reaches both.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

import pyarrow as pa

from analytics.sources.cognito import users_from_pages
from tests.conftest import POOL

#: Text a spreadsheet or a terminal would misread, by what it tries.
HOSTILE_TEXTS: Mapping[str, str] = {
    "carriage-return": "\r=1+1",
    "line-feed": "a\n=1+1",
    "crlf": "x\r\n=cmd|' /C calc'!A0",
    "nul": "a\x00b",
    "other-controls": "\x1b[31mred\x7f\x85",
    "equals": '=HYPERLINK("http://x","y")',
    "plus": "+1",
    "minus": "-1",
    "negative-number": "-3.2",
    "at": "@SUM(A1)",
    "tab": "\t=1+1",
    "leading-space": " =1+1",
    "full-width-equals": "\uff1d1+1",
    "quote-characters": 'say "hi", ""twice""',
    "commas": "a,b,,c",
    "bidi-override": "\u202eevil\u202c",
    "very-long": "x" * 100_000 + "\r=1+1",
    "empty": "",
}

#: What a spreadsheet runs as a formula at the start of a cell (OWASP's list).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_start(cell: str) -> bool:
    """Whether a spreadsheet may run ``cell``: OWASP's starts, also after whitespace, in NFKC form
    (the test's own oracle, written apart from ``analytics.export``)."""
    return cell.startswith(_FORMULA_STARTS) or unicodedata.normalize(
        "NFKC", cell.lstrip()
    ).startswith(_FORMULA_STARTS)


def cognito_users(identities: Mapping[str, str]) -> pa.Table:
    """The users table of one confirmed Cognito user per ``sub -> text`` of ``identities``, whose
    username and email are that text, as a sync stores it."""
    return users_from_pages(
        POOL,
        [
            {
                "Users": [
                    {
                        "Username": text,
                        "Attributes": [
                            {"Name": "sub", "Value": sub},
                            {"Name": "email", "Value": text},
                        ],
                        "Enabled": True,
                        "UserStatus": "CONFIRMED",
                    }
                    for sub, text in identities.items()
                ]
            }
        ],
    )
