"""``gt-throughput dashboard`` asked to serve the network without sign-in, or with sign-in
half configured: refused at once, one line naming what to configure, exit 2, no server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.support import assert_clean_error, run_cli

#: Refusals come before any server starts (one would run until this timeout).
TIMEOUT_SECONDS = 60
OIDC = """
[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
client_id = "dashboard"
client_secret_env = "GT_TEST_CLIENT_SECRET"
server_metadata_url = "https://id.example.com/.well-known/openid-configuration"
{cookie}
[[access.rules]]
email = "a@example.com"
role = "admin"
"""
#: id: (config text or None, --host, environment, words of the one-line error)
REFUSED = {
    "all-addresses-no-config": (None, "0.0.0.0", {}, ("--host 0.0.0.0", "configure sign-in")),
    "all-v6-no-config": (None, "::", {}, ("--host ::", "configure sign-in")),
    "config-without-auth": (
        '[access]\nask = "Ana"\n',
        "0.0.0.0",
        {},
        ("--host 0.0.0.0", "[auth] section", "--host 127.0.0.1"),
    ),
    "no-cookie-secret": (
        OIDC.format(cookie=""),
        "127.0.0.1",
        {"GT_TEST_CLIENT_SECRET": "x"},
        ("no cookie secret", "sign-in is refused", "cookie_secret_env"),
    ),
    "cookie-secret-unset": (
        OIDC.format(cookie='cookie_secret_env = "GT_TEST_UNSET"'),
        "0.0.0.0",
        {"GT_TEST_CLIENT_SECRET": "x"},
        ("cookie_secret", "GT_TEST_UNSET is empty or unset"),
    ),
    "cookie-secret-in-the-config": (
        OIDC.format(cookie='cookie_secret = "' + "s" * 40 + '"'),
        "0.0.0.0",
        {"GT_TEST_CLIENT_SECRET": "x"},
        ("cookie_secret must not be written in the config", "cookie_secret_env"),
    ),
}


@pytest.mark.parametrize(("config", "host", "env", "needles"), REFUSED.values(), ids=REFUSED)
def test_serving_without_working_sign_in_is_refused_at_once(
    tmp_path: Path, config: str | None, host: str, env: dict[str, str], needles: tuple[str, ...]
) -> None:
    arguments: list[str | Path] = ["dashboard", "--data", tmp_path, "--host", host]
    if config is not None:
        (tmp_path / "gt.toml").write_text(config, encoding="utf-8")
        arguments += ["--config", tmp_path / "gt.toml"]
    completed = run_cli(*arguments, "--port", "8599", timeout=TIMEOUT_SECONDS, env=env)
    line = assert_clean_error(completed, *needles)
    assert completed.returncode == 2
    assert "serving the dashboard" not in completed.stdout
    assert "s" * 40 not in line
