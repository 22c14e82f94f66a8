"""The image's Dockerfile, checked without a Docker daemon (none runs on our machines): its
instructions are read, and its ENTRYPOINT/CMD and HEALTHCHECK commands are run from the project's
own environment against a copy of the example configuration. The image build itself is not
exercised here (docs/deploy.md says so)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.support.served_dashboard import free_local_port
from tests.support.service import serving

DOCKERFILE = REPO_ROOT / "Dockerfile"
EXAMPLE_CONFIG = REPO_ROOT / "gt-throughput.example.toml"
#: Where the image expects its configuration (mounted by ECS, docker run or a VM's unit).
IMAGE_CONFIG = "/etc/gt-throughput/gt-throughput.toml"


def instructions(text: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` of a Dockerfile: comments dropped, continuations joined."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        found.append((keyword.upper(), arguments.strip()))
    return found


def exec_form(arguments: str) -> list[str]:
    """A JSON-array (exec form) argument list; the shell form is refused (signals, PID 1)."""
    value = json.loads(arguments)
    assert isinstance(value, list), arguments
    assert all(isinstance(item, str) for item in value), arguments
    return value


DOCKER = instructions(DOCKERFILE.read_text(encoding="utf-8"))


def only(keyword: str) -> str:
    values = [arguments for name, arguments in DOCKER if name == keyword]
    assert len(values) == 1, (keyword, values)
    return values[0]


def test_a_slim_python_base_run_by_a_user_without_root_rights() -> None:
    base = only("FROM")
    requires = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    minimum = re.search(r"(\d+\.\d+)", requires["requires-python"])
    assert minimum is not None
    assert re.fullmatch(rf"python:{re.escape(minimum[1])}[\d.]*-slim(-\w+)?", base), base
    user = only("USER")
    assert user not in ("root", "0", "0:0"), user


def test_the_store_is_a_volume_and_the_health_check_asks_the_dashboard() -> None:
    assert "/data" in exec_form(only("VOLUME"))
    assert "GT_THROUGHPUT_DATA=/data" in only("ENV")
    health = only("HEALTHCHECK")
    assert "CMD" in health
    assert "/_stcore/health" in health


def test_the_image_installs_as_ci_does() -> None:
    """The Makefile's install recipe (what ``make test`` on CI runs), without the dev extra."""
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^\$\(STAMP\):.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe is not None
    run = " ".join(arguments for name, arguments in DOCKER if name == "RUN")
    for step in recipe[1].splitlines():
        step = step.strip().replace("$(PYTHON)", "python3").replace("$(BIN)", ".venv/bin")
        step = step.replace("$(VENV)", ".venv").replace("'.[dev]'", ".")
        if step.startswith("touch"):
            continue
        assert step in run, (step, run)


def _command_here(arguments: list[str], config: Path) -> list[str]:
    """The image's command run from this environment: the console script it names, as
    pyproject.toml declares it (``module:function``), run by this Python; the config path a
    local one."""
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, function = scripts[arguments[0]].split(":")
    launcher = f"import sys; from {module} import {function}; sys.exit({function}())"
    rest = [str(config) if item == IMAGE_CONFIG else item for item in arguments[1:]]
    return [sys.executable, "-c", launcher, *rest]


def test_the_entrypoint_command_parses() -> None:
    command = exec_form(only("ENTRYPOINT")) + exec_form(only("CMD"))
    assert IMAGE_CONFIG in command
    completed = subprocess.run(
        [*_command_here(command, Path(IMAGE_CONFIG)), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO_ROOT,
    )
    assert completed.returncode == 0, completed.stderr
    assert "--config FILE" in completed.stdout


def test_the_entrypoint_serves_the_example_config_and_passes_the_health_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The image's command on the example configuration (store and port made local, the
    schedule off: no AWS here) serves, and the image's health check finds it healthy."""
    monkeypatch.setenv("GT_THROUGHPUT_LOOKAHEAD", "off")
    port = free_local_port()
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    text = text.replace('path = "/var/lib/gt-throughput"', f'path = "{tmp_path / "store"}"')
    text = text.replace("port = 8501", f"port = {port}")
    # The schedule's "enabled" (the [digest] table, commented out, has one too).
    head, tail = text.split("\n[dashboard]\n", 1)
    assert "# enabled = true" in head
    text = head.replace("# enabled = true", "enabled = false") + "\n[dashboard]\n" + tail
    config = tmp_path / "gt-throughput.toml"
    config.write_text(text, encoding="utf-8")
    command = _command_here(exec_form(only("ENTRYPOINT")) + exec_form(only("CMD")), config)
    health = exec_form(only("HEALTHCHECK").split("CMD", 1)[1].strip())
    assert health[0] == "python"
    health = [sys.executable, *(item.replace("8501", str(port)) for item in health[1:])]
    with serving(config, port, tmp_path / "serve.log", command=command) as served:
        checked = subprocess.run(health, capture_output=True, text=True, timeout=30, check=False)
        assert checked.returncode == 0, (checked.stderr, served.output())
    assert served.process.returncode == 0, served.output()
    assert "sync off" in served.output()
