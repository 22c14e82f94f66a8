"""Layers that hold: the dashboard and the CLI (``analytics/cli/``) use ``analytics`` only through
the names ``analytics/__init__.py`` exports, every exported name is used or documented, and nothing
in ``analytics/`` imports the dashboard (the CLI only locates its file)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import analytics
from tests.conftest import REPO_ROOT

DASHBOARD_FILES = sorted((REPO_ROOT / "dashboard").rglob("*.py"))
ANALYTICS_FILES = sorted((REPO_ROOT / "analytics").rglob("*.py"))
#: The CLI: ``analytics/cli/``, ``main`` and one module per command.
CLI_FILES = [path for path in ANALYTICS_FILES if "cli" in path.relative_to(REPO_ROOT).parts[1:-1]]


def _relative(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


def _analytics_uses(path: Path) -> Iterator[tuple[str, str]]:
    """``(how, name)`` for every use of ``analytics`` in ``path``: a name imported from it or
    one of its modules, a module imported, or an attribute read from ``import analytics``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "analytics":
                yield from (("from analytics import", alias.name) for alias in node.names)
            elif node.module.startswith("analytics."):
                yield from ((f"from {node.module} import", alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("analytics."):
                    yield "import", alias.name
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "analytics"
        ):
            yield "analytics.", node.attr


def _private_uses(path: Path, *, own_package: str | None = None) -> list[str]:
    """The uses of ``analytics`` in ``path`` that are not its public names (nor, with
    ``own_package``, modules of that package of ``analytics``)."""
    public = set(analytics.__all__)
    own = f"analytics.{own_package}" if own_package else None
    return [
        f"{how} {name}"
        for how, name in _analytics_uses(path)
        if not (own and (how.startswith(f"from {own}") or name.startswith(own)))
        and (how not in ("from analytics import", "analytics.") or name not in public)
    ]


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=_relative)
def test_the_dashboard_uses_analytics_only_through_its_public_names(path: Path) -> None:
    assert _private_uses(path) == [], f"{_relative(path)}: import these through analytics.__all__"


@pytest.mark.parametrize("path", CLI_FILES, ids=_relative)
def test_the_cli_uses_the_rest_of_analytics_only_through_its_public_names(path: Path) -> None:
    wrong = _private_uses(path, own_package="cli")
    assert wrong == [], f"{_relative(path)}: import these through analytics.__all__"


def test_every_public_name_is_used_by_the_dashboard_or_the_cli_or_documented() -> None:
    used = {name for path in DASHBOARD_FILES for _, name in _analytics_uses(path)}
    used |= {name for path in CLI_FILES for how, name in _analytics_uses(path) if how != "import"}
    documented = set(re.findall(r"``(\w+)``", analytics.__doc__ or ""))
    assert CLI_FILES, "where has the CLI gone?"
    assert sorted(set(analytics.__all__) - used - documented) == []


def _imports_dashboard(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [
            f"line {node.lineno}: {name}" for name in names if name.split(".")[0] == "dashboard"
        ]
    return found


@pytest.mark.parametrize("path", ANALYTICS_FILES, ids=_relative)
def test_nothing_in_analytics_imports_the_dashboard(path: Path) -> None:
    assert _imports_dashboard(path) == []


def test_the_dashboard_command_is_built_without_importing_the_dashboard() -> None:
    code = (
        "import sys\n"
        "from analytics.serve import streamlit_command\n"
        "command = streamlit_command(host='127.0.0.1', port=8501)\n"
        "print(command[command.index('run') + 1])\n"
        "print(sorted(m for m in ('dashboard', 'streamlit', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    served, loaded = out.stdout.strip().splitlines()[-2:]
    assert Path(served) == REPO_ROOT / "dashboard" / "serve_app.py"
    assert loaded == "[]"
