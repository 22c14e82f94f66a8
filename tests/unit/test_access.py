"""Access rules, sign-in settings, the scope a person gets, the loopback refusal, the ALB's
identity header and the audit log (``analytics/access.py``)."""

from __future__ import annotations

import base64
import dataclasses
import http.server
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from analytics import Store, load_team_data, worker_summary
from analytics.access import (
    EVERYTHING,
    AccessSettings,
    IdentityRefused,
    Person,
    Rule,
    Scope,
    SignIn,
    access_settings,
    check_exposure,
    grant_for,
    proxy_person,
    read_access_config,
    scope_team_data,
    serving_setup,
    verify_alb_identity,
)
from analytics.errors import UsageError

SECRET = "s" * 40
PSEUDONYM_KEY = "pseudonym-key-of-the-test"
ENVIRON = {
    "COOKIE": SECRET,
    "CLIENT": "client-secret",
    "SHORT": "short",
    "EMPTY": "",
    "GT_THROUGHPUT_PSEUDONYM_KEY": PSEUDONYM_KEY,
}

# --------------------------------------------------------------------------- rule matching
RULES = (
    Rule("admin", email="Boss@Example.com"),
    Rule("lead", email="lead@example.com", teams=("text-team",)),
    Rule("lead", group="image-leads", teams=("image-team",)),
    Rule("viewer", group="auditors", teams=("text-team", "image-team")),
    Rule("viewer", email="both@example.com", teams=("image-team",)),
    Rule("lead", email="both@example.com", teams=("text-team",)),
    Rule("lead", email="overlap@example.com", teams=("text-team",)),
    Rule("viewer", email="overlap@example.com", teams=("text-team",)),
)
#: id: (person, expected grant as (role, teams, names visible), or None)
MATCH_CASES: dict[str, tuple[Person, tuple[str, tuple[str, ...] | None, bool] | None]] = {
    "admin-email-any-case": (Person("s1", email="boss@EXAMPLE.com"), ("admin", None, True)),
    "lead-by-email": (Person("s2", email="lead@example.com"), ("lead", ("text-team",), True)),
    "lead-by-group": (
        Person("s3", email="x@example.com", groups=("image-leads",)),
        ("lead", ("image-team",), True),
    ),
    "viewer-by-group": (
        Person("s4", groups=("auditors",)),
        ("viewer", ("image-team", "text-team"), False),
    ),
    "lead-and-viewer-hides-names": (
        Person("s5", email="both@example.com"),
        ("lead", ("image-team", "text-team"), False),
    ),
    "lead-and-viewer-of-one-team-shows-names": (
        Person("s6", email="overlap@example.com"),
        ("lead", ("text-team",), True),
    ),
    "two-leads-union": (
        Person("s7", email="lead@example.com", groups=("image-leads",)),
        ("lead", ("image-team", "text-team"), True),
    ),
    "admin-wins-over-viewer": (
        Person("s8", email="boss@example.com", groups=("auditors",)),
        ("admin", None, True),
    ),
    "unverified-email-matches-nothing": (
        Person("s9", email="boss@example.com", email_verified=False),
        None,
    ),
    "unknown-person": (Person("s10", email="nobody@example.com", groups=("other",)), None),
    "no-email-no-group": (Person("s11"), None),
    "group-is-not-an-email": (Person("s12", groups=("lead@example.com",)), None),
    "similar-email-is-not-equal": (Person("s13", email="lead@example.com.evil"), None),
}


@pytest.mark.parametrize(("person", "expected"), MATCH_CASES.values(), ids=MATCH_CASES)
def test_rules_give_each_person_their_grant(
    person: Person, expected: tuple[str, tuple[str, ...] | None, bool] | None
) -> None:
    grant = grant_for(person, RULES)
    if expected is None:
        assert grant is None
    else:
        assert grant is not None
        assert (grant.role, grant.scope.teams, grant.scope.names_visible) == expected


CLAIM_CASES: dict[str, tuple[dict[str, Any], str, Person]] = {
    "plain": (
        {"sub": "a", "email": "a@x.com", "name": "A", "groups": ["g1", "g2"]},
        "groups",
        Person("a", "a@x.com", None, "A", ("g1", "g2")),
    ),
    "cognito-groups-claim": (
        {"sub": "b", "cognito:groups": ["leads"], "email_verified": True},
        "cognito:groups",
        Person("b", None, True, None, ("leads",)),
    ),
    "verified-as-text": (
        {"sub": "c", "email": "c@x.com", "email_verified": "false"},
        "groups",
        Person("c", "c@x.com", False, None, ()),
    ),
    "odd-values-ignored": (
        {"sub": "d", "email": 5, "groups": [1, "g"], "name": ["x"]},
        "groups",
        Person("d", None, None, None, ("g",)),
    ),
    "groups-as-text": (
        {"sub": "e", "groups": "g1, g2"},
        "groups",
        Person("e", groups=("g1", "g2")),
    ),
}


@pytest.mark.parametrize(("claims", "claim", "expected"), CLAIM_CASES.values(), ids=CLAIM_CASES)
def test_a_person_is_read_from_claims(claims: dict[str, Any], claim: str, expected: Person) -> None:
    assert Person.from_claims(claims, claim) == expected


# --------------------------------------------------------------------------- settings
OIDC = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "client_id": "dashboard",
    "server_metadata_url": "https://id.example.com/.well-known/openid-configuration",
    "client_secret_env": "CLIENT",
    "cookie_secret_env": "COOKIE",
}
ADMIN = {"rules": [{"email": "a@example.com", "role": "admin"}]}
#: id: (auth, access, what the error says)
SETTINGS_ERRORS: dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None, str]] = {
    "no-cookie-secret": (
        {k: v for k, v in OIDC.items() if k != "cookie_secret_env"},
        ADMIN,
        "no cookie secret, without which sign-in is refused",
    ),
    "cookie-secret-unset": ({**OIDC, "cookie_secret_env": "UNSET"}, ADMIN, "empty or unset"),
    "cookie-secret-empty": ({**OIDC, "cookie_secret_env": "EMPTY"}, ADMIN, "empty or unset"),
    "cookie-secret-short": ({**OIDC, "cookie_secret_env": "SHORT"}, ADMIN, "at least 32"),
    "cookie-secret-inline": (
        {**OIDC, "cookie_secret": SECRET},
        ADMIN,
        "cookie_secret must not be written in the config",
    ),
    "client-secret-inline": (
        {**OIDC, "client_secret": "x"},
        ADMIN,
        "client_secret must not be written in the config",
    ),
    "client-secret-twice": (
        {**OIDC, "client_secret_file": "/x"},
        ADMIN,
        "exactly one of client_secret_env",
    ),
    "secret-file-missing": (
        {
            **{k: v for k, v in OIDC.items() if k != "client_secret_env"},
            "client_secret_file": "/no/such",
        },
        ADMIN,
        "client_secret_file /no/such: cannot be read",
    ),
    "redirect-not-callback": (
        {**OIDC, "redirect_uri": "http://localhost:8501/"},
        ADMIN,
        "ending in /oauth2callback",
    ),
    "unknown-auth-key": ({**OIDC, "client": "x"}, ADMIN, "unknown keys client"),
    "bad-mode": ({"mode": "saml"}, ADMIN, 'mode must be "oidc" or "proxy"'),
    "sign-in-without-rules": (OIDC, {}, "no [[access.rules]]"),
    "bad-role": (None, {"rules": [{"email": "a@x", "role": "owner"}]}, "role must be"),
    "email-and-group": (
        None,
        {"rules": [{"email": "a@x", "group": "g", "role": "admin"}]},
        "exactly one of email or group",
    ),
    "lead-without-teams": (None, {"rules": [{"email": "a@x", "role": "lead"}]}, "needs teams"),
    "viewer-empty-teams": (
        None,
        {"rules": [{"group": "g", "role": "viewer", "teams": []}]},
        "needs teams",
    ),
    "admin-with-teams": (
        None,
        {"rules": [{"email": "a@x", "role": "admin", "teams": ["t"]}]},
        "an admin sees every team",
    ),
    "unknown-rule-key": (
        None,
        {"rules": [{"email": "a@x", "role": "lead", "team": ["t"]}]},
        "unknown keys team",
    ),
    "rules-not-a-list": (None, {"rules": {"email": "a@x"}}, "must be a list"),
    "proxy-without-addresses": (
        {"mode": "proxy", "alb_arn": "arn:aws:elasticloadbalancing:x", "region": "eu-west-1"},
        ADMIN,
        "proxy_addresses must list",
    ),
    "proxy-bad-address": (
        {
            "mode": "proxy",
            "proxy_addresses": ["10.0.0.0/33"],
            "alb_arn": "arn:aws:elasticloadbalancing:x",
            "region": "eu-west-1",
        },
        ADMIN,
        "not an address or network",
    ),
    "proxy-bad-arn": (
        {"mode": "proxy", "proxy_addresses": ["10.0.0.1"], "alb_arn": "x", "region": "r"},
        ADMIN,
        "alb_arn must be the load balancer's ARN",
    ),
}


@pytest.mark.parametrize(
    ("auth", "access", "message"), SETTINGS_ERRORS.values(), ids=SETTINGS_ERRORS
)
def test_bad_settings_are_refused_with_the_fix(
    auth: dict[str, Any] | None, access: dict[str, Any] | None, message: str
) -> None:
    with pytest.raises(UsageError, match=r"^cfg\.toml") as raised:
        access_settings(auth, access, where="cfg.toml", environ=ENVIRON)
    assert message in str(raised.value)
    assert SECRET not in str(raised.value)


@pytest.mark.parametrize("key", ["", "short-key"], ids=["unset", "short"])
def test_viewers_need_a_secret_pseudonym_key(key: str) -> None:
    viewer = {"rules": [{"group": "g", "role": "viewer", "teams": ["t"]}]}
    environ = {**ENVIRON, "GT_THROUGHPUT_PSEUDONYM_KEY": key}
    with pytest.raises(UsageError, match=r"viewer rules but \$GT_THROUGHPUT_PSEUDONYM_KEY"):
        access_settings(OIDC, viewer, where="cfg.toml", environ=environ)
    assert access_settings(OIDC, viewer, where="cfg.toml", environ=ENVIRON).rules


def test_good_settings_travel_to_the_server_without_their_secrets() -> None:
    settings = access_settings(
        OIDC,
        {
            "ask": "Ana",
            "rules": [*ADMIN["rules"], {"group": "g", "role": "viewer", "teams": ["t"]}],
        },
        where="cfg.toml",
        environ=ENVIRON,
    )
    assert settings.sign_in is not None
    assert settings.sign_in.cookie_secret == SECRET
    assert settings.sign_in.client_secret == "client-secret"
    assert SECRET not in repr(settings)
    text = settings.to_environment()
    assert SECRET not in text
    assert "client-secret" not in text
    back = AccessSettings.from_environment({"GT_THROUGHPUT_ACCESS_SETTINGS": text})
    assert back.rules == settings.rules
    assert back.ask == "Ana"
    assert back.sign_in == SignIn(
        **{**vars(settings.sign_in), "client_secret": "", "cookie_secret": ""}
    )


def test_streamlit_gets_its_secrets_in_a_file_only_this_user_reads() -> None:
    settings = access_settings(OIDC, ADMIN, where="cfg.toml", environ=ENVIRON)
    arguments, environment = serving_setup(settings, "0.0.0.0")
    assert arguments[0] == "--secrets.files"
    secrets = Path(arguments[1])
    try:
        assert secrets.stat().st_mode & 0o777 == 0o600
        assert secrets.parent.stat().st_mode & 0o777 == 0o700
        import tomllib

        assert tomllib.loads(secrets.read_text())["auth"] == {
            "redirect_uri": OIDC["redirect_uri"],
            "cookie_secret": SECRET,
            "client_id": "dashboard",
            "client_secret": "client-secret",
            "server_metadata_url": OIDC["server_metadata_url"],
        }
        assert all(SECRET not in value for value in environment.values())
    finally:
        secrets.unlink()
        secrets.parent.rmdir()


EXPOSURE_CASES = {
    "loopback-v4": ("127.0.0.1", False, True),
    "loopback-other": ("127.0.0.5", False, True),
    "localhost": ("localhost", False, True),
    "loopback-v6": ("::1", False, True),
    "all-v4": ("0.0.0.0", False, False),
    "all-v6": ("::", False, False),
    "lan-address": ("192.168.1.10", False, False),
    "a-name": ("dashboard.example.com", False, False),
    "all-v4-signed-in": ("0.0.0.0", True, True),
}


@pytest.mark.parametrize(
    ("host", "signed_in", "allowed"), EXPOSURE_CASES.values(), ids=EXPOSURE_CASES
)
def test_without_sign_in_only_loopback_is_served(host: str, signed_in: bool, allowed: bool) -> None:
    settings = (
        access_settings(OIDC, ADMIN, where="c", environ=ENVIRON) if signed_in else AccessSettings()
    )
    if allowed:
        check_exposure(settings, host)
    else:
        with pytest.raises(UsageError, match=f"--host {host} .*configure sign-in in an \\[auth\\]"):
            check_exposure(settings, host)


def test_a_config_file_is_read_and_its_faults_named(tmp_path: Path) -> None:
    config = tmp_path / "gt.toml"
    config.write_text('[access]\nask = "Ana"\n[[access.rules]]\nemail = "a@x"\nrole = "admin"\n')
    assert read_access_config(config).ask == "Ana"
    config.write_text("[auth\n")
    with pytest.raises(UsageError, match=f"{config}: not valid TOML"):
        read_access_config(config)
    with pytest.raises(UsageError, match="no such file"):
        read_access_config(tmp_path / "missing.toml")


# --------------------------------------------------------------------------- scope
@pytest.fixture(scope="module")
def whole(sample_store_root: Path) -> Any:
    return load_team_data(Store(sample_store_root))


def _strings(data: Any) -> set[str]:
    """Every string in every frame ``data`` holds (each table TeamData has, new ones included)."""
    found: set[str] = set()
    for field in dataclasses.fields(data):
        frame = getattr(data, field.name)
        if not isinstance(frame, pd.DataFrame):
            continue
        for column in frame.columns:
            values = frame[column].dropna()
            found |= {v for v in values.astype("object").unique() if isinstance(v, str)}
    return found


def test_a_lead_gets_their_teams_only_with_names(whole: Any) -> None:
    scoped = scope_team_data(whole, Scope(("text-team",), True))
    assert set(scoped.events["workteam_name"].astype("str")) == {"text-team"}
    assert set(scoped.memberships["workteam_name"]) == {"text-team"}
    assert set(scoped.workteams["workteam_name"]) == {"text-team"}
    assert list(scoped.jobs["labeling_job_name"]) == ["support-tickets-intent-stream"]
    assert scoped.rejected.empty
    assert not whole.rejected.empty
    others = set(whole.memberships[whole.memberships["workteam_name"] == "image-team"]["email"])
    others -= set(scoped.memberships["email"])
    assert others
    assert not others & _strings(scoped)
    emails = worker_summary(scoped)["email"].dropna().astype("str")
    assert emails.str.endswith("@example.com").sum() >= 10  # names shown as they are


def test_a_viewer_sees_no_name_email_id_or_sub(whole: Any) -> None:
    scoped = scope_team_data(whole, Scope(("text-team", "image-team"), False))
    identities = set()
    for frame, columns in (
        (whole.users, ("sub", "username", "email", "name")),
        (whole.events, ("worker_key", "worker_id", "cognito_sub_id")),
        (whole.responses, ("worker_id", "sub")),
    ):
        for column in columns:
            identities |= set(frame[column].dropna().astype("str"))
    assert len(identities) > 100
    shown = _strings(scoped)
    assert identities & shown == set()
    summary = worker_summary(scoped)
    assert len(summary) == len(worker_summary(whole))  # same people, pseudonymous
    assert summary["worker_key"].str.fullmatch(r"p-[0-9a-f]{16}").all()
    assert summary["username"].dropna().str.fullmatch(r"p-[0-9a-f]{16}").all()
    assert summary["username"].notna().sum() == worker_summary(whole)["username"].notna().sum()
    # Responses join their workers through the same pseudonyms: the same response numbers.
    assert summary["responses"].sum() == worker_summary(whole)["responses"].sum() > 0


def test_everything_is_the_data_itself(whole: Any) -> None:
    assert scope_team_data(whole, EVERYTHING) is whole
    with pytest.raises(ValueError, match="at least one team"):
        Scope((), True)


# --------------------------------------------------------------------------- the ALB header
ALB_ARN = (
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/dash/50dc6c495c0c9188"
)


def _segment(value: dict[str, Any]) -> str:
    # As the ALB writes them: base64url with its "=" padding.
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def alb_token(key: ec.EllipticCurvePrivateKey, claims: dict[str, Any], **header: Any) -> str:
    head = _segment({"alg": "ES256", "kid": "key-1", "signer": ALB_ARN, **header})
    body = _segment(claims)
    r, s = decode_dss_signature(key.sign(f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256())))
    return (
        f"{head}.{body}."
        + base64.urlsafe_b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
    )


@pytest.fixture(scope="module")
def alb_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def key_server(alb_key: ec.EllipticCurvePrivateKey) -> Iterator[str]:
    """The ALB's public-key endpoint, played by a local HTTP server: PEM at ``/<kid>``."""
    pem = alb_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    class Keys(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path.split("?", 1)[0] == "/key-1"
            self.send_response(200 if found else 404)
            self.end_headers()
            if found:
                self.wfile.write(pem)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Keys) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/{{kid}}?region={{region}}"
        finally:
            server.shutdown()
            thread.join(timeout=10)


def _proxy(key_url: str) -> SignIn:
    return SignIn(
        mode="proxy",
        proxy_networks=("10.0.0.0/16",),
        alb_arn=ALB_ARN,
        region="eu-west-1",
        key_url=key_url,
        groups_claim="cognito:groups",
    )


def _claims() -> dict[str, Any]:
    """A lead's claims, valid for ten minutes from now (made per test: a long run ages them)."""
    return {"sub": "u1", "email": "lead@example.com", "exp": int(time.time()) + 600}


#: id: (how the token is made from (key, other key), peer, reason refused or None)
HEADER_CASES: dict[str, tuple[str, str, str | None]] = {
    "valid": ("valid", "10.0.3.4", None),
    "from-a-non-proxy-peer": ("valid", "192.0.2.7", "not the proxy"),
    "from-loopback": ("valid", "127.0.0.1", "not the proxy"),
    "other-signer": ("other-signer", "10.0.3.4", "not signed by the configured load balancer"),
    "other-key": ("other-key", "10.0.3.4", "signature is not valid"),
    "tampered-claims": ("tampered", "10.0.3.4", "signature is not valid"),
    "expired": ("expired", "10.0.3.4", "expired"),
    "alg-none": ("alg-none", "10.0.3.4", "not ES256"),
    "unknown-kid": ("unknown-kid", "10.0.3.4", "could not be fetched"),
    "garbage": ("garbage", "10.0.3.4", "not a signed token"),
    "missing": ("missing", "10.0.3.4", "no identity header"),
}


@pytest.mark.parametrize(("how", "peer", "refused"), HEADER_CASES.values(), ids=HEADER_CASES)
def test_the_proxy_header_is_trusted_only_from_the_proxy_and_signed(
    alb_key: ec.EllipticCurvePrivateKey, key_server: str, how: str, peer: str, refused: str | None
) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    claims = _claims()
    tokens = {
        "valid": lambda: alb_token(alb_key, claims),
        "other-signer": lambda: alb_token(alb_key, claims, signer=ALB_ARN + "x"),
        "other-key": lambda: alb_token(other, claims),
        "tampered": lambda: (
            lambda parts: ".".join(
                [parts[0], _segment({**claims, "email": "boss@example.com"}), parts[2]]
            )
        )(alb_token(alb_key, claims).split(".")),
        "expired": lambda: alb_token(alb_key, {**claims, "exp": int(time.time()) - 1}),
        "alg-none": lambda: alb_token(alb_key, claims, alg="none"),
        "unknown-kid": lambda: alb_token(alb_key, claims, kid="key-404"),
        "garbage": lambda: "not-a-token",
        "missing": lambda: "",
    }
    sign_in = _proxy(key_server)
    if refused is None:
        person = proxy_person(tokens[how](), peer, sign_in)
        assert person == Person("u1", "lead@example.com")
    else:
        with pytest.raises(IdentityRefused, match=refused):
            proxy_person(tokens[how](), peer, sign_in)


def test_the_alb_key_fetch_is_bounded(alb_key: ec.EllipticCurvePrivateKey) -> None:
    # A key address that accepts the connection and never answers.
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/{{kid}}?r={{region}}&n=bounded"
        started = time.monotonic()
        with pytest.raises(IdentityRefused, match="could not be fetched"):
            verify_alb_identity(alb_token(alb_key, _claims()), _proxy(url))
        assert time.monotonic() - started < 30


# --------------------------------------------------------------------------- audit log
#: One writer of the audit log, as its own Python process (a subprocess, not multiprocessing:
#: a spawned child re-runs ``__main__``, which is the dashboard's app after an AppTest).
_WRITER = """
import sys
from pathlib import Path
from analytics.access import append_audit
root, writer, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for number in range(count):
    append_audit(root, {"who": f"w{writer}", "n": number, "pad": "x" * 200}, max_bytes=40_000)
"""


def test_the_audit_log_takes_concurrent_writers_whole_lines_and_stays_bounded(
    tmp_path: Path,
) -> None:
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), str(w), "150"])
        for w in range(4)
    ]
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    files = sorted(tmp_path.glob("audit.jsonl*"))
    logs = [f for f in files if not f.name.endswith(".lock")]
    assert {f.name for f in logs} <= {"audit.jsonl", *(f"audit.jsonl.{n}" for n in range(1, 6))}
    assert all(f.stat().st_size <= 40_000 for f in logs)
    lines = [line for f in logs for line in f.read_text().splitlines()]
    records = [json.loads(line) for line in lines]  # every line whole
    assert all(set(r) == {"at", "who", "n", "pad"} for r in records)
    # Rotation keeps the newest: each writer's last record is there.
    assert {(r["who"], r["n"]) for r in records} >= {(f"w{w}", 149) for w in range(4)}
    assert (tmp_path / "audit.jsonl").stat().st_mode & 0o777 == 0o600
