"""The service's configuration file: TOML, read with ``tomllib``.

Sections (``gt-throughput.example.toml`` shows and explains every key)::

    [store]      path
    [aws]        region, profile, endpoint_url, log_group, timeout_seconds
    [schedule]   interval_minutes, max_backoff_minutes, enabled
    [dashboard]  host, port, allow_hosts, refresh_seconds
    [digest]     the digest's schedule and channels (``analytics.service.digest_schedule``)
    [auth]       sign-in    } read by ``analytics.access``; kept here as raw mappings,
    [access]     rules      } never printed (they may name secret files)

Every mistake is one ``UsageError`` line naming the file, the key and the fix. Secrets never
live in this file's values: AWS credentials come from boto3's chain (environment, profile, task
role), and sign-in secrets from the environment or a file the config names (``*_file``).
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analytics.errors import UsageError

if TYPE_CHECKING:
    from analytics.service.digest_schedule import DigestSettings

#: The default sync interval: fresh enough for a morning look, 96 runs a day.
DEFAULT_INTERVAL_MINUTES = 15.0
#: The default longest wait after failures: four intervals, so a long outage is retried
#: hourly, not every 15 minutes, and a recovered AWS is seen within the hour.
DEFAULT_MAX_BACKOFF_MINUTES = 60.0
#: The shortest interval accepted: below, a sync would hardly end before the next one is due.
MIN_INTERVAL_MINUTES = 1 / 60
#: How often an open dashboard checks whether the store changed (seconds).
DEFAULT_REFRESH_SECONDS = 30.0
DEFAULT_LOG_GROUP = "/aws/sagemaker/groundtruth/WorkerActivity"
DEFAULT_TIMEOUT_SECONDS = 30.0

#: Sections whose content belongs to sign-in and access rules (``analytics.access``).
RAW_SECTIONS = ("auth", "access")
#: The keys of each section this module reads (the example file shows every one).
SECTION_KEYS = {
    "store": ("path",),
    "aws": ("region", "profile", "endpoint_url", "log_group", "timeout_seconds"),
    "schedule": ("interval_minutes", "max_backoff_minutes", "enabled"),
    "dashboard": ("host", "port", "allow_hosts", "refresh_seconds"),
}


@dataclass(frozen=True)
class AwsSettings:
    """Where sync reads from; None means boto3's default (environment, profile, role)."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    log_group: str = DEFAULT_LOG_GROUP
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


@dataclass(frozen=True)
class ScheduleSettings:
    """When sync runs: every ``interval_minutes``, waiting longer after failures (at most
    ``max_backoff_minutes``); ``enabled = false`` serves the dashboard without syncing."""

    interval_minutes: float = DEFAULT_INTERVAL_MINUTES
    max_backoff_minutes: float = DEFAULT_MAX_BACKOFF_MINUTES
    enabled: bool = True

    @property
    def interval_seconds(self) -> float:
        return self.interval_minutes * 60

    @property
    def max_backoff_seconds(self) -> float:
        return self.max_backoff_minutes * 60


@dataclass(frozen=True)
class DashboardSettings:
    """Where the dashboard listens, and how often an open page checks for new data."""

    host: str = "127.0.0.1"
    port: int = 8501
    allow_hosts: tuple[str, ...] = ()
    refresh_seconds: float = DEFAULT_REFRESH_SECONDS


@dataclass(frozen=True)
class ServiceConfig:
    """The whole configuration. ``auth`` and ``access`` are the raw ``[auth]`` and ``[access]``
    tables, for ``analytics.access`` to read (None when the file has no such table: no
    sign-in); they are left out of ``repr``."""

    path: Path
    store: Path
    aws: AwsSettings = AwsSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    dashboard: DashboardSettings = DashboardSettings()
    digest: DigestSettings | None = None
    auth: Mapping[str, Any] | None = field(default=None, repr=False)
    access: Mapping[str, Any] | None = field(default=None, repr=False)


class _Section:
    """One table of the file, read key by key; each mistake names ``[section] key``."""

    def __init__(self, path: Path, name: str, table: object, keys: tuple[str, ...]) -> None:
        self.path, self.name, self.keys = path, name, keys
        if not isinstance(table, dict):
            raise self.error(f"[{name}] must be a table (a [{name}] header), not a value")
        self.table: dict[str, Any] = table
        for key in table:
            if key not in keys:
                close = difflib.get_close_matches(key, keys, n=1)
                hint = f"did you mean {close[0]}?" if close else f"known keys: {', '.join(keys)}"
                raise self.error(f"[{name}] has an unknown key {key!r}: {hint}")

    def error(self, text: str) -> UsageError:
        return UsageError(f"{self.path}: {text}")

    def text(self, key: str, default: str | None, example: str) -> str | None:
        value = self.table.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(
                f"[{self.name}] {key} must be a non-empty string in quotes, e.g. {key} = "
                f'"{example}" (or leave the key out)'
            )
        return value.strip()

    def number(self, key: str, default: float, low: float, high: float, example: str) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"[{self.name}] {key} must be a number, e.g. {key} = {example}")
        if not (math.isfinite(value) and low <= value <= high):
            raise self.error(
                f"[{self.name}] {key} = {value} is out of range: give a number from {low:g} to "
                f"{high:g}, e.g. {key} = {example}"
            )
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"[{self.name}] {key} must be true or false (no quotes)")
        return value

    def names(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(
                f'[{self.name}] {key} must be a list of names, e.g. {key} = ["gt.example.com"]'
            )
        return tuple(value)


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML document at ``path`` (the ``--config`` file of ``serve`` and ``dashboard``).

    Raises
    ------
    UsageError
        The file is missing, a folder, unreadable, not UTF-8 or not TOML: one line naming the
        file and the fix.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise UsageError(
            f"--config {path}: no such file: give the service's TOML file (start from "
            "gt-throughput.example.toml)"
        ) from exc
    except IsADirectoryError as exc:
        raise UsageError(
            f"--config {path} is a folder: name the TOML file inside it, e.g. "
            f"{path / 'gt-throughput.toml'}"
        ) from exc
    except OSError as exc:
        raise UsageError(f"--config {path}: cannot be read ({exc.strerror})") from exc
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start}): save it as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML ({exc}): fix that line") from exc


def load_config(path: Path) -> ServiceConfig:
    """Read and check the configuration file at ``path``.

    A relative ``[store] path`` is taken from the configuration file's folder, so the service
    finds the same store whatever its working folder.

    Raises
    ------
    UsageError
        The file is missing, is not TOML, or a key is unknown, missing or wrong: one line
        naming the file, the key and the fix.
    """
    document = read_toml(path)
    known = (*SECTION_KEYS, "digest", *RAW_SECTIONS)
    for key in document:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean [{close[0]}]?" if close else f"sections: {', '.join(known)}"
            raise UsageError(f"{path}: unknown section or key {key!r} at the top: {hint}")
    if "store" not in document:
        raise UsageError(
            f'{path}: [store] path is missing: add [store] with path = "/var/lib/gt-throughput"'
        )
    store_section = _Section(path, "store", document["store"], SECTION_KEYS["store"])
    store_text = store_section.text("path", None, "/var/lib/gt-throughput")
    if store_text is None:
        raise store_section.error(
            '[store] path is missing: add path = "/var/lib/gt-throughput" (the store folder)'
        )
    store = Path(store_text).expanduser()
    if not store.is_absolute():
        store = path.resolve().parent / store
    return ServiceConfig(
        path=path,
        store=store,
        aws=_aws(path, document.get("aws", {})),
        schedule=_schedule(path, document.get("schedule", {})),
        dashboard=_dashboard(path, document.get("dashboard", {})),
        digest=_digest(path, document.get("digest")),
        auth=_raw(path, document, "auth"),
        access=_raw(path, document, "access"),
    )


def _aws(path: Path, table: object) -> AwsSettings:
    section = _Section(path, "aws", table, SECTION_KEYS["aws"])
    endpoint = section.text("endpoint_url", None, "http://127.0.0.1:5000")
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        raise section.error(
            f"[aws] endpoint_url {endpoint!r} is not a URL: give http(s)://HOST:PORT, or leave "
            "the key out to reach AWS itself"
        )
    return AwsSettings(
        region=section.text("region", None, "us-east-1"),
        profile=section.text("profile", None, "groundtruth-readonly"),
        endpoint_url=endpoint,
        log_group=section.text("log_group", DEFAULT_LOG_GROUP, DEFAULT_LOG_GROUP)
        or DEFAULT_LOG_GROUP,
        timeout_seconds=section.number("timeout_seconds", DEFAULT_TIMEOUT_SECONDS, 0.1, 600, "30"),
    )


def _schedule(path: Path, table: object) -> ScheduleSettings:
    section = _Section(path, "schedule", table, SECTION_KEYS["schedule"])
    interval = section.number(
        "interval_minutes", DEFAULT_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES, 7 * 24 * 60, "15"
    )
    backoff = section.number(
        "max_backoff_minutes", max(DEFAULT_MAX_BACKOFF_MINUTES, interval), interval,
        7 * 24 * 60, f"{max(DEFAULT_MAX_BACKOFF_MINUTES, interval):g}",
    )  # fmt: skip
    return ScheduleSettings(interval, backoff, section.flag("enabled", True))


def _dashboard(path: Path, table: object) -> DashboardSettings:
    section = _Section(path, "dashboard", table, SECTION_KEYS["dashboard"])
    port = section.table.get("port", 8501)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise section.error(f"[dashboard] port = {port!r}: give a whole number from 1 to 65535")
    return DashboardSettings(
        host=section.text("host", "127.0.0.1", "127.0.0.1") or "127.0.0.1",
        port=port,
        allow_hosts=section.names("allow_hosts"),
        refresh_seconds=section.number("refresh_seconds", DEFAULT_REFRESH_SECONDS, 1, 3600, "30"),
    )


def _digest(path: Path, table: object) -> DigestSettings | None:
    if table is None:
        return None  # no digest sent by serve
    from analytics.service.digest_schedule import read_digest_settings

    return read_digest_settings(path, table)


def _raw(path: Path, document: dict[str, Any], name: str) -> Mapping[str, Any] | None:
    table = document.get(name)
    if table is not None and not isinstance(table, dict):
        raise UsageError(f"{path}: [{name}] must be a table (a [{name}] header), not a value")
    return table
