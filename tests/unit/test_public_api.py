"""The public surface of ``analytics``: small, complete, and every name resolves."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import analytics


@pytest.mark.parametrize("name", analytics.__all__)
def test_every_public_name_resolves_to_its_module(name: str) -> None:
    value = getattr(analytics, name)
    assert getattr(importlib.import_module(f"analytics.{analytics._WHERE[name]}"), name) is value
    if callable(value):  # a function or class (not a constant): defined under this name
        assert value.__module__.startswith("analytics.")
        assert value.__name__ == name


def test_public_names_are_sorted_unique_and_each_has_a_home() -> None:
    # As ruff's RUF022 sorts them: constants, then classes, then functions.
    assert analytics.__all__ == sorted(
        set(analytics.__all__), key=lambda name: (not name.isupper(), not name[0].isupper(), name)
    )
    assert set(analytics.__all__) == set(analytics._WHERE)


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
