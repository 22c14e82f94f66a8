"""Who may see what: sign-in settings, access rules, the scope they give, and the audit log.

The configuration's ``[auth]`` and ``[access]`` tables (TOML, see ``gt-throughput.example.toml``)
arrive here as plain mappings (``access_settings``), from ``gt-throughput dashboard --config``
or ``serve --config``:

- ``[auth]`` absent: no sign-in. The dashboard then serves this machine only: any address but
  loopback is refused (``check_exposure``). ``mode = "oidc"``: sign-in through Streamlit's
  ``st.login`` with any OpenID Connect provider; the client and cookie secrets come from the
  environment (``*_env``) or a file (``*_file``), never from the config itself, and are handed
  to Streamlit in a private secrets file (``write_streamlit_secrets``). ``mode = "proxy"``: an
  authenticating load balancer (an ALB with Cognito) signs people in; the dashboard trusts its
  ``x-amzn-oidc-data`` header only from the proxy's addresses and only with a valid ALB
  signature (``verify_alb_identity``).
- ``[access]``: ``ask`` (whom a person without a rule should ask) and ``[[access.rules]]``,
  each with ``email`` or ``group``, a ``role`` and, except for admins, ``teams``.

Roles: ``admin`` sees every team with names; ``lead`` the listed teams with names; ``viewer`` the
listed teams with pseudonyms only. A person matching several rules gets the union of their
teams; names are visible only when every team they see comes from an admin or lead rule
(``grant_for``). ``scope_team_data`` applies a grant to the loaded ``TeamData`` once, before any
page sees it: everything shown, charted, downloaded or picked in a URL is cut from its result.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import fcntl
import ipaddress
import json
import os
import stat
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from analytics.errors import UsageError

if TYPE_CHECKING:
    from analytics.dataset import TeamData

Role = Literal["admin", "lead", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "lead", "viewer")
#: The environment variable carrying the checked settings (no secret in them) from the
#: ``dashboard``/``serve`` command to the Streamlit server it becomes.
SETTINGS_ENV_VAR = "GT_THROUGHPUT_ACCESS_SETTINGS"
#: The private folder of Streamlit's secrets file, which the server removes when it stops.
SECRETS_DIR_ENV_VAR = "GT_THROUGHPUT_SECRETS_DIR"
#: Streamlit's own settings for sign-in: its session cookie, the provider, the secrets.
STREAMLIT_SECRETS_FILE = "secrets.toml"
#: At least 32 characters (Streamlit warns below 112 bits of entropy).
MIN_COOKIE_SECRET_CHARS = 32
#: A viewer's pseudonyms are keyed by a secret of at least this many characters.
MIN_PSEUDONYM_KEY_CHARS = 16
#: The header an AWS Application Load Balancer sets once it has authenticated someone.
ALB_IDENTITY_HEADER = "x-amzn-oidc-data"
#: Where an ALB publishes the public key of a ``kid`` (PEM), per region.
ALB_KEY_URL = "https://public-keys.auth.elb.{region}.amazonaws.com/{kid}"
#: How long fetching an ALB key may take before the sign-in is refused, in seconds.
ALB_KEY_TIMEOUT_SECONDS = 5.0
GENERATE_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
HOW_TO_SIGN_IN = (
    "configure sign-in in an [auth] section of the file given to --config "
    "(see gt-throughput.example.toml and docs/deploy.md), or serve this machine only with "
    "--host 127.0.0.1"
)


# --------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class Rule:
    """One access rule: who (an ``email`` or a ``group`` of the groups claim) gets which role
    over which work teams (``teams``: ``None`` for an admin, every team)."""

    role: Role
    email: str | None = None
    group: str | None = None
    teams: tuple[str, ...] | None = None

    def matches(self, person: Person) -> bool:
        """Whether ``person`` is who this rule names (emails compared without case; an email
        the provider says is not verified matches nothing)."""
        if self.email is not None:
            return (
                person.email is not None
                and person.email_verified is not False
                and person.email.casefold() == self.email.casefold()
            )
        return self.group is not None and self.group in person.groups


@dataclass(frozen=True)
class SignIn:
    """The checked ``[auth]`` table. Secrets are kept out of ``repr`` (logs, tracebacks)."""

    mode: Literal["oidc", "proxy"]
    groups_claim: str = "groups"
    redirect_uri: str = ""
    client_id: str = ""
    server_metadata_url: str = ""
    client_secret: str = field(default="", repr=False)
    cookie_secret: str = field(default="", repr=False)
    proxy_networks: tuple[str, ...] = ()
    alb_arn: str = ""
    region: str = ""
    key_url: str = ALB_KEY_URL


@dataclass(frozen=True)
class AccessSettings:
    """Sign-in (``None``: none, this machine only), the rules and whom to ask for access."""

    sign_in: SignIn | None = None
    rules: tuple[Rule, ...] = ()
    ask: str = "the person who runs this dashboard"

    def to_environment(self) -> str:
        """These settings without their secrets, as JSON for ``SETTINGS_ENV_VAR``."""
        payload = dataclasses.asdict(self)
        if payload["sign_in"] is not None:
            payload["sign_in"]["client_secret"] = payload["sign_in"]["cookie_secret"] = ""
        return json.dumps(payload)

    @staticmethod
    def from_environment(environ: Mapping[str, str] = os.environ) -> AccessSettings:
        """What ``to_environment`` wrote; no variable: no sign-in (the loopback dashboard)."""
        text = environ.get(SETTINGS_ENV_VAR)
        if not text:
            return AccessSettings()
        payload = json.loads(text)
        sign_in = payload["sign_in"]
        return AccessSettings(
            sign_in=None
            if sign_in is None
            else SignIn(**{**sign_in, "proxy_networks": tuple(sign_in["proxy_networks"])}),
            rules=tuple(
                Rule(**{**rule, "teams": None if rule["teams"] is None else tuple(rule["teams"])})
                for rule in payload["rules"]
            ),
            ask=payload["ask"],
        )


def _text(table: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = table.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{where} {key} must be a non-empty string (got {value!r})")
    return value.strip()


def config_secret(
    table: Mapping[str, Any], name: str, where: str, environ: Mapping[str, str]
) -> str:
    """A secret named by ``<name>_env`` (a variable) or ``<name>_file`` (a file), never inline."""
    if name in table:
        raise UsageError(
            f"{where} {name} must not be written in the config: name an environment variable "
            f'({name}_env = "VARIABLE") or a file ({name}_file = "/run/secrets/...")'
        )
    variable, path = table.get(f"{name}_env"), table.get(f"{name}_file")
    if (variable is None) == (path is None):
        raise UsageError(
            f"{where} needs exactly one of {name}_env (an environment variable) or {name}_file "
            f"(a file) for the {name.replace('_', ' ')}"
        )
    if variable is not None:
        value = environ.get(str(variable), "")
        source = f"the environment variable {variable}"
    else:
        try:
            value = Path(str(path)).read_text(encoding="utf-8")
        except (OSError, UnicodeError) as exc:
            raise UsageError(
                f"{where} {name}_file {path}: cannot be read ({exc.__class__.__name__}): "
                "give a readable file holding the secret"
            ) from exc
        source = f"the file {path}"
    value = value.strip()
    if not value:
        raise UsageError(f"{where} {name}: {source} is empty or unset: put the secret there")
    return value


def _sign_in(auth: Mapping[str, Any], where: str, environ: Mapping[str, str]) -> SignIn:
    where = f"{where} [auth]"
    mode = auth.get("mode", "oidc")
    groups_claim = _text(auth, "groups_claim", where, required=False) or "groups"
    if mode == "oidc":
        known = {
            "mode", "groups_claim", "redirect_uri", "client_id", "server_metadata_url",
            "client_secret_env", "client_secret_file", "cookie_secret_env", "cookie_secret_file",
            "client_secret", "cookie_secret",
        }  # fmt: skip
        _no_unknown_keys(auth, known, where)
        if "cookie_secret" not in auth and not (
            "cookie_secret_env" in auth or "cookie_secret_file" in auth
        ):
            raise UsageError(
                f"{where} has no cookie secret, without which sign-in is refused: set "
                "cookie_secret_env to a variable holding a long random secret (make one with "
                f"{GENERATE_SECRET})"
            )
        cookie_secret = config_secret(auth, "cookie_secret", where, environ)
        if len(cookie_secret) < MIN_COOKIE_SECRET_CHARS:
            raise UsageError(
                f"{where} cookie secret is {len(cookie_secret)} characters: use at least "
                f"{MIN_COOKIE_SECRET_CHARS} random ones (make one with {GENERATE_SECRET})"
            )
        redirect_uri = _text(auth, "redirect_uri", where)
        if not redirect_uri.endswith("/oauth2callback"):
            raise UsageError(
                f"{where} redirect_uri must be the dashboard's address ending in /oauth2callback "
                f"(got {redirect_uri!r}), e.g. https://dashboard.example.com/oauth2callback"
            )
        return SignIn(
            mode="oidc",
            groups_claim=groups_claim,
            redirect_uri=redirect_uri,
            client_id=_text(auth, "client_id", where),
            server_metadata_url=_text(auth, "server_metadata_url", where),
            client_secret=config_secret(auth, "client_secret", where, environ),
            cookie_secret=cookie_secret,
        )
    if mode == "proxy":
        known = {"mode", "groups_claim", "proxy_addresses", "alb_arn", "region", "key_url"}
        _no_unknown_keys(auth, known, where)
        addresses = auth.get("proxy_addresses")
        if not isinstance(addresses, list) or not addresses:
            raise UsageError(
                f"{where} proxy_addresses must list the load balancer's addresses or networks "
                '(e.g. ["10.0.0.0/16"]): the identity header is refused from anyone else'
            )
        networks = []
        for address in addresses:
            try:
                networks.append(str(ipaddress.ip_network(str(address), strict=False)))
            except ValueError as exc:
                raise UsageError(
                    f"{where} proxy_addresses: {address!r} is not an address or network: "
                    'write one such as "10.0.0.0/16"'
                ) from exc
        alb_arn = _text(auth, "alb_arn", where)
        if not alb_arn.startswith("arn:aws:elasticloadbalancing:"):
            raise UsageError(
                f"{where} alb_arn must be the load balancer's ARN "
                f"(arn:aws:elasticloadbalancing:...; got {alb_arn!r})"
            )
        return SignIn(
            mode="proxy",
            groups_claim=groups_claim,
            proxy_networks=tuple(networks),
            alb_arn=alb_arn,
            region=_text(auth, "region", where),
            key_url=_text(auth, "key_url", where, required=False) or ALB_KEY_URL,
        )
    raise UsageError(f'{where} mode must be "oidc" or "proxy" (got {mode!r})')


def _no_unknown_keys(table: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise UsageError(
            f"{where} has unknown keys {', '.join(unknown)}: the known ones are "
            f"{', '.join(sorted(k for k in known if k not in ('client_secret', 'cookie_secret')))}"
        )


def _rule(entry: Any, where: str) -> Rule:
    if not isinstance(entry, Mapping):
        raise UsageError(f"{where} must be a table with email or group, role and teams")
    _no_unknown_keys(entry, {"email", "group", "role", "teams"}, where)
    role = entry.get("role")
    if role not in ROLES:
        raise UsageError(f'{where} role must be "admin", "lead" or "viewer" (got {role!r})')
    if ("email" in entry) == ("group" in entry):
        raise UsageError(f"{where} needs exactly one of email or group (whom the rule is for)")
    email = _text(entry, "email", where) if "email" in entry else None
    group = _text(entry, "group", where) if "group" in entry else None
    teams = entry.get("teams")
    if role == "admin":
        if teams is not None:
            raise UsageError(f"{where} an admin sees every team: remove teams, or make it a lead")
        return Rule(role, email, group, None)
    if not isinstance(teams, list) or not teams or not all(isinstance(t, str) and t for t in teams):
        raise UsageError(
            f'{where} a {role} needs teams, a list of work team names (e.g. teams = ["team-a"])'
        )
    return Rule(role, email, group, tuple(teams))


def access_settings(
    auth: Mapping[str, Any] | None,
    access: Mapping[str, Any] | None,
    *,
    where: str,
    environ: Mapping[str, str] = os.environ,
) -> AccessSettings:
    """Check the ``[auth]`` and ``[access]`` tables of the config named ``where``.

    Raises ``UsageError`` naming the key and the fix. Secrets are read now (from the
    environment or their files), so a missing one stops the command before anything serves.
    """
    sign_in = None if auth is None else _sign_in(auth, where, environ)
    access = access or {}
    _no_unknown_keys(access, {"ask", "rules"}, f"{where} [access]")
    entries = access.get("rules", [])
    if not isinstance(entries, list):
        raise UsageError(f"{where} [access] rules must be a list of [[access.rules]] tables")
    rules = tuple(
        _rule(entry, f"{where} [[access.rules]] number {number}")
        for number, entry in enumerate(entries, start=1)
    )
    if sign_in is not None and not rules:
        raise UsageError(
            f"{where} has sign-in but no [[access.rules]]: nobody could see anything; add at "
            'least one, e.g. email = "you@example.com" with role = "admin"'
        )
    if sign_in is not None and any(rule.role == "viewer" for rule in rules):
        from analytics.export.pseudonyms import PSEUDONYM_KEY_ENV_VAR

        # With the salt built into the tool, a viewer could compute a colleague's pseudonym
        # from their email and find them in the tables.
        if len(environ.get(PSEUDONYM_KEY_ENV_VAR, "").strip()) < MIN_PSEUDONYM_KEY_CHARS:
            raise UsageError(
                f"{where} has viewer rules but ${PSEUDONYM_KEY_ENV_VAR} is not set to a secret "
                f"of at least {MIN_PSEUDONYM_KEY_CHARS} characters: without it a viewer could "
                f"recompute anyone's pseudonym; set it (make one with {GENERATE_SECRET})"
            )
    ask = _text(access, "ask", f"{where} [access]", required=False)
    return AccessSettings(sign_in, rules, ask or AccessSettings.ask)


def read_access_config(path: Path, environ: Mapping[str, str] = os.environ) -> AccessSettings:
    """The ``[auth]`` and ``[access]`` tables of the TOML file ``path``, checked."""
    from analytics.service.config import read_toml

    config = read_toml(path)
    return access_settings(
        config.get("auth"), config.get("access"), where=f"--config {path}", environ=environ
    )


def _is_loopback_host(host: str) -> bool:
    # The names a dashboard can be bound to on this machine only; any other name or address,
    # including the wildcards 0.0.0.0 and ::, may be reached from the network.
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(settings: AccessSettings, host: str) -> None:
    """Refuse (``UsageError``) to serve on ``host`` when it is not loopback and nobody signs in."""
    if settings.sign_in is None and not _is_loopback_host(host):
        raise UsageError(
            f"--host {host} would show per-person numbers to the network without sign-in: "
            + HOW_TO_SIGN_IN
        )


def _toml_string(value: str) -> str:
    # JSON's string escapes are a subset of TOML's basic string escapes (non-ASCII kept as is,
    # so no surrogate pair escape, which TOML forbids).
    return json.dumps(value, ensure_ascii=False)


def write_streamlit_secrets(sign_in: SignIn, folder: Path) -> Path:
    """Write Streamlit's ``[auth]`` for ``st.login`` to ``folder/secrets.toml``, readable by this
    user only (the folder too); return its path for ``--secrets.files``."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    values = {
        "redirect_uri": sign_in.redirect_uri,
        "cookie_secret": sign_in.cookie_secret,
        "client_id": sign_in.client_id,
        "client_secret": sign_in.client_secret,
        "server_metadata_url": sign_in.server_metadata_url,
    }
    text = "[auth]\n" + "".join(f"{k} = {_toml_string(v)}\n" for k, v in values.items())
    path = folder / STREAMLIT_SECRETS_FILE
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), stat.S_IRUSR | stat.S_IWUSR)
        file.write(text)
    return path


def serving_setup(settings: AccessSettings, host: str) -> tuple[list[str], dict[str, str]]:
    """What serving with ``settings`` on ``host`` adds to ``streamlit run``: its arguments and
    its environment. Refuses a non-loopback host without sign-in (``check_exposure``).

    With sign-in through ``st.login``, Streamlit's secrets file is written to a new private
    folder (``tempfile.mkdtemp``: this user only), which the server removes when it stops.
    """
    check_exposure(settings, host)
    environment = {SETTINGS_ENV_VAR: settings.to_environment()}
    arguments: list[str] = []
    if settings.sign_in is not None and settings.sign_in.mode == "oidc":
        private_folder = Path(tempfile.mkdtemp(prefix="gt-throughput-auth-"))
        secrets = write_streamlit_secrets(settings.sign_in, private_folder)
        arguments = ["--secrets.files", str(secrets)]
        environment[SECRETS_DIR_ENV_VAR] = str(private_folder)
    return arguments, environment


# --------------------------------------------------------------------------- people and scope
@dataclass(frozen=True)
class Person:
    """Who signed in, as the provider (or the proxy) says: the claims rules match on."""

    subject: str
    email: str | None = None
    email_verified: bool | None = None
    name: str | None = None
    groups: tuple[str, ...] = ()

    @staticmethod
    def from_claims(claims: Mapping[str, Any], groups_claim: str = "groups") -> Person:
        """A person from an ID token's (or ALB header's) claims; odd values are ignored."""
        email = claims.get("email")
        verified = claims.get("email_verified")
        if isinstance(verified, str):  # Cognito's userinfo sends "true"/"false"
            verified = {"true": True, "false": False}.get(verified.lower())
        groups = claims.get(groups_claim) or ()
        if isinstance(groups, str):
            groups = [part for part in groups.replace(",", " ").split() if part]
        name = claims.get("name")
        return Person(
            subject=str(claims.get("sub") or ""),
            email=email if isinstance(email, str) and email else None,
            email_verified=verified if isinstance(verified, bool) else None,
            name=name if isinstance(name, str) and name else None,
            groups=tuple(str(g) for g in groups if isinstance(g, str)) if groups else (),
        )

    def label(self) -> str:
        """How to name this person to themselves and in the audit log."""
        return self.email or self.subject


@dataclass(frozen=True)
class Scope:
    """What a person may see: ``teams`` (``None``: every team) and whether names are shown."""

    teams: tuple[str, ...] | None = None
    names_visible: bool = True

    def __post_init__(self) -> None:
        if self.teams is not None and not self.teams:
            raise ValueError("a scope lists at least one team, or None for every team")

    @property
    def is_everything(self) -> bool:
        return self.teams is None and self.names_visible


#: An admin's scope, and the loopback dashboard's (whoever sits at this machine).
EVERYTHING = Scope()


@dataclass(frozen=True)
class Grant:
    """What the rules give a person: the best role, and the scope."""

    role: Role
    scope: Scope


def grant_for(person: Person, rules: Iterable[Rule]) -> Grant | None:
    """What ``rules`` give ``person``, or ``None`` when no rule names them.

    Any admin rule: every team, names visible. Otherwise the union of the teams of the matching
    rules; names are visible only if each of those teams comes from a lead rule (a team seen as
    a viewer only hides every name: one person, one way of showing people).
    """
    matched = [rule for rule in rules if rule.matches(person)]
    if not matched:
        return None
    if any(rule.role == "admin" for rule in matched):
        return Grant("admin", EVERYTHING)
    lead_teams = {t for r in matched if r.role == "lead" for t in r.teams or ()}
    all_teams = {t for r in matched for t in r.teams or ()}
    names_visible = all_teams <= lead_teams
    return Grant("lead" if lead_teams else "viewer", Scope(tuple(sorted(all_teams)), names_visible))


#: The identity columns of each ``TeamData`` frame replaced by pseudonyms for a viewer. The
#: same function of the same value everywhere, so joins (events to users by sub) still hold.
PSEUDONYMIZED_COLUMNS = {
    "events": ("worker_key", "worker_id", "cognito_sub_id"),
    "users": ("sub", "username", "email", "name"),
    "memberships": ("sub", "username", "email"),
    "metrics": ("worker",),
    # Worker responses (issue 11): the same pseudonym as the log's sub, so the two still join.
    "responses": ("worker_id", "sub"),
}


def _pseudonymized(frame: Any, columns: Iterable[str], key: bytes | None) -> Any:
    import pandas as pd

    from analytics.export.pseudonyms import pseudonym

    result = frame.copy()
    for name in columns:
        if name not in result:
            continue
        column = result[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            categories = [pseudonym(str(value), key) for value in column.cat.categories]
            result[name] = column.cat.rename_categories(categories)
        else:
            result[name] = column.map(
                lambda value: value if pd.isna(value) else pseudonym(str(value), key)
            )
    return result


def scope_team_data(
    data: TeamData,
    scope: Scope,
    *,
    last_log_sync: dt.datetime | None = None,
    key: bytes | None = None,
) -> TeamData:
    """``data`` (loaded with no filter) as ``scope`` may see it; ``data`` itself for everything.

    Cut to the scope's teams with ``dataset.restrict`` (events, teams, memberships, jobs, metrics,
    backlog); users cut to the members and workers left; rejected lines dropped (they belong to
    no team). Without names, every identity value (worker key and id, sub, username, email,
    name) becomes its pseudonym (``export.pseudonym`` with ``key``), so no page, chart, table,
    download or URL can show one.
    """
    if scope.is_everything:
        return data
    from analytics.dataset import Filters, restrict

    cut = data
    if scope.teams is not None:
        cut = restrict(data, Filters(workteams=scope.teams), last_log_sync=last_log_sync)
        subs = set(cut.memberships["sub"].dropna().astype("str"))
        subs |= set(cut.events["cognito_sub_id"].dropna().astype("str").unique())
        users = cut.users[cut.users["sub"].astype("str").isin(subs)].reset_index(drop=True)
        cut = dataclasses.replace(cut, users=users, rejected=cut.rejected.iloc[0:0].copy())
    if scope.names_visible:
        return cut
    frames = {
        name: _pseudonymized(getattr(cut, name), columns, key)
        for name, columns in PSEUDONYMIZED_COLUMNS.items()
    }
    return dataclasses.replace(cut, **frames)


# --------------------------------------------------------------------------- the ALB's header
class IdentityRefused(Exception):
    """The proxy's identity header cannot be trusted; the message says why (for the log)."""


def _b64decode(part: str) -> bytes:
    # The ALB pads its base64url segments with "=", which strict JWT decoders refuse.
    return base64.urlsafe_b64decode(part.rstrip("=") + "=" * (-len(part.rstrip("=")) % 4))


_alb_keys: dict[str, bytes] = {}
_alb_keys_lock = threading.Lock()


def _fetch_alb_key(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=ALB_KEY_TIMEOUT_SECONDS) as response:
        data: bytes = response.read(64 * 1024)
        return data


def verify_alb_identity(
    token: str,
    sign_in: SignIn,
    *,
    now: float | None = None,
    fetch_key: Callable[[str], bytes] = _fetch_alb_key,
) -> dict[str, Any]:
    """The claims of an ALB's ``x-amzn-oidc-data`` header, after checking it, or
    ``IdentityRefused``.

    Checked: three segments; ``alg`` ES256; ``signer`` is the configured ALB's ARN (another
    load balancer of the account cannot vouch); the ES256 signature, with the public key the
    ALB publishes for the token's ``kid`` in its region (``key_url``, fetched once per key,
    bounded by ``ALB_KEY_TIMEOUT_SECONDS``); ``exp`` not passed.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    parts = token.strip().split(".")
    if len(parts) != 3:
        raise IdentityRefused("the identity header is not a signed token (three parts)")
    try:
        header = json.loads(_b64decode(parts[0]))
        claims = json.loads(_b64decode(parts[1]))
        signature = _b64decode(parts[2])
    except (ValueError, UnicodeError) as exc:
        raise IdentityRefused("the identity header is not a readable token") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise IdentityRefused("the identity header is not a readable token")
    if header.get("alg") != "ES256":
        raise IdentityRefused(
            f"the identity header's algorithm is {header.get('alg')!r}, not ES256"
        )
    if header.get("signer") != sign_in.alb_arn:
        raise IdentityRefused("the identity header was not signed by the configured load balancer")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid or "/" in kid or ".." in kid:
        raise IdentityRefused("the identity header names no usable key")
    url = sign_in.key_url.format(region=sign_in.region, kid=kid)
    with _alb_keys_lock:
        pem = _alb_keys.get(url)
    if pem is None:
        try:
            pem = fetch_key(url)
        except (OSError, urllib.error.URLError) as exc:
            raise IdentityRefused(f"the load balancer's key {url} could not be fetched") from exc
        with _alb_keys_lock:
            _alb_keys[url] = pem
    try:
        public_key = serialization.load_pem_public_key(pem)
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or len(signature) != 64:
            raise IdentityRefused("the identity header's key or signature has the wrong form")
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        public_key.verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise IdentityRefused("the identity header's signature is not valid") from exc
    except ValueError as exc:
        raise IdentityRefused("the load balancer's key is not a PEM public key") from exc
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or expires <= (time.time() if now is None else now):
        raise IdentityRefused("the identity header has expired")
    return claims


def is_proxy_address(address: str | None, sign_in: SignIn) -> bool:
    """Whether ``address`` (the connection's peer) is one of the configured proxy's."""
    if not address:
        return False
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(peer in ipaddress.ip_network(network) for network in sign_in.proxy_networks)


def proxy_person(header: str | None, peer: str | None, sign_in: SignIn) -> Person:
    """The person the proxy vouches for, or ``IdentityRefused``: the header must be there, come
    from one of the proxy's addresses (``is_proxy_address``: anyone else could write it) and
    pass ``verify_alb_identity``."""
    if not header:
        raise IdentityRefused("no identity header: the request did not come through the proxy")
    if not is_proxy_address(peer, sign_in):
        raise IdentityRefused(f"an identity header from {peer}, which is not the proxy")
    return Person.from_claims(verify_alb_identity(header, sign_in), sign_in.groups_claim)


# --------------------------------------------------------------------------- audit log
#: The audit log, in the store's folder: one JSON object per line.
AUDIT_LOG_FILE = "audit.jsonl"
#: Past this size the log is rotated (``audit.jsonl.1`` ... ``.5``), in bytes.
AUDIT_LOG_MAX_BYTES = 10 * 1024 * 1024
AUDIT_LOG_KEEP = 5


def append_audit(
    store_root: Path,
    record: Mapping[str, Any],
    *,
    max_bytes: int = AUDIT_LOG_MAX_BYTES,
    keep: int = AUDIT_LOG_KEEP,
) -> None:
    """Append ``record`` (plus ``at``, UTC) as one JSON line to ``store_root/audit.jsonl``.

    Safe between processes: under an exclusive ``flock`` on ``audit.jsonl.lock``, the log is
    rotated when it has reached ``max_bytes`` (``keep`` old files), then the line is written
    with one ``write`` to a file opened for appending, so lines never interleave.
    """
    line = {"at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"), **record}
    payload = (json.dumps(line, ensure_ascii=True, default=str) + "\n").encode("ascii")
    path = store_root / AUDIT_LOG_FILE
    with open(path.with_name(AUDIT_LOG_FILE + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_size + len(payload) > max_bytes:
                    for number in range(keep - 1, 0, -1):
                        older = path.with_name(f"{AUDIT_LOG_FILE}.{number}")
                        if older.exists():
                            older.replace(path.with_name(f"{AUDIT_LOG_FILE}.{number + 1}"))
                    path.replace(path.with_name(f"{AUDIT_LOG_FILE}.1"))
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, payload)
            finally:
                os.close(descriptor)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
