"""The public surface of ``analytics``: small, complete, and every name resolves."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import analytics


@pytest.mark.parametrize("name", analytics.__all__)
def test_every_public_name_resolves_to_its_module(name: str) -> None:
    value = getattr(analytics, name)
    assert getattr(importlib.import_module(f"analytics.{analytics._WHERE[name]}"), name) is value
    if callable(value):  # a function or class (not a constant): defined under this name
        assert value.__module__.startswith("analytics.")
        assert value.__name__ == name


def _listed_names() -> list[str]:
    """Every name imported in ``analytics/__init__.py``'s ``TYPE_CHECKING`` block, in order."""
    tree = ast.parse(Path(analytics.__file__).read_text(encoding="utf-8"))
    blocks = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    assert len(blocks) == 1, "the public names are listed in one TYPE_CHECKING block"
    return [
        alias.asname or alias.name
        for node in ast.walk(blocks[0])
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    ]


def test_the_public_names_are_listed_once_and_are_all_of_them() -> None:
    listed = _listed_names()
    assert sorted(name for name in set(listed) if listed.count(name) > 1) == []
    assert analytics.__all__ == sorted(listed)
    assert set(analytics._WHERE) == set(listed)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = analytics.nope


def test_the_cli_help_does_not_load_pandas_or_boto3() -> None:
    code = (
        "import sys, analytics.cli.main as c\n"
        "try:\n    c.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('pandas', 'boto3', 'streamlit') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_docs_architecture_lists_exactly_the_public_names() -> None:
    doc = (Path(analytics.__file__).parents[1] / "docs" / "architecture.md").read_text("utf-8")
    section = doc[doc.index("## The public API") : doc.index("## Tests, by tier")]
    named = set(re.findall(r"`(\w+)`", section)) - {"TYPE_CHECKING"}
    assert sorted(set(analytics.__all__) - named) == [], "add them to docs/architecture.md"
    assert sorted(named - set(analytics.__all__)) == [], "not public: drop them from the docs"
