"""The bot's one configuration object.

Everything comes from ``config.yaml`` (or the file given with ``--config``);
a few environment variables override it so that secrets and deployment
details never have to be written into the file:

* ``TELEGRAM_BOT_TOKEN`` - the bot token (never read from the file, never logged)
* ``DATABASE_URL``       - SQLAlchemy URL of the database
* ``FAQ_PATH``           - a FAQ YAML file or a folder of them

Relative paths in the file are resolved against the file's folder, so the
bot behaves the same whatever the working directory.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.workhours import WorkingHours, parse_hours

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config.yaml"


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or has a bad value."""


@dataclass(frozen=True)
class WebhookConfig:
    listen: str = "0.0.0.0"
    port: int = 8443
    url: str = ""
    secret_token: str = ""


@dataclass(frozen=True)
class TelegramConfig:
    token: str | None = field(default=None, repr=False)
    api_base_url: str = "https://api.telegram.org/bot"
    mode: str = "polling"
    webhook: WebhookConfig = WebhookConfig()


@dataclass(frozen=True)
class MatchingConfig:
    """FAQ decision thresholds on the matcher's 0-100 score (see config.yaml)."""

    answer: float = 54.0
    suggest: float = 42.4
    margin: float = 4.0
    max_suggestions: int = 3


@dataclass(frozen=True)
class RegistryConfig:
    sample_csv: Path | None = None
    found: float = 88.0
    candidates: float = 55.0
    margin: float = 8.0
    max_candidates: int = 5
    refresh_interval: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class AgencyConfig:
    name: dict[str, str] = field(default_factory=dict)
    address: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""


@dataclass(frozen=True)
class StaffConfig:
    chat_id: int | None = None
    anonymous: bool = False
    remind_after: timedelta = timedelta(hours=4)
    max_tickets_per_hour: int = 3
    # The outbox: how often it retries what could not be sent, and how long one call may take.
    retry_interval: timedelta = timedelta(seconds=5)
    send_timeout: float = 10.0
    # The language of the staff chat (sq or en).
    language: str = "sq"
    # Opening hours, time zone and holidays (default: always open).
    hours: WorkingHours = field(default_factory=WorkingHours)
    # FAQ category (the bot's best guess for a question) -> the staff chat that gets it.
    routes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FaqAdminConfig:
    """How admins change the FAQ: polling for edits on disk and uploads in Telegram."""

    reload_interval: timedelta = timedelta(seconds=5)
    history_dir: Path | None = None   # previous versions of replaced files (default data/faq-history)
    max_upload_bytes: int = 256 * 1024


@dataclass(frozen=True)
class PrivacyConfig:
    """How long question logs are kept (None: for ever)."""

    retention: timedelta | None = timedelta(days=365)


@dataclass(frozen=True)
class Config:
    telegram: TelegramConfig
    database_url: str
    faq_path: Path
    matching: MatchingConfig
    registry: RegistryConfig
    agency: AgencyConfig
    staff: StaffConfig
    admins: tuple[int, ...]
    source: Path | None = None
    faq_admin: FaqAdminConfig = FaqAdminConfig()
    privacy: PrivacyConfig = PrivacyConfig()


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(value: Any) -> timedelta:
    """Read ``90``, ``"30m"``, ``"4h"`` or ``"2d"`` (a bare number means seconds)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ConfigError(f"not a duration: {value!r} (use e.g. 30m, 4h, 2d)")
    return timedelta(**{_DURATION_UNITS[match.group(2)]: float(match.group(1))})


def _section(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"'{name}' must be a mapping")
    return value


def _hours(raw: dict[str, Any]) -> WorkingHours:
    """``staff.hours``: ``timezone``, ``open`` (days -> spans) and ``holidays``."""
    holidays = raw.get("holidays") or []
    if not isinstance(holidays, list):
        raise ConfigError("staff.hours.holidays must be a list of dates")
    try:
        return parse_hours(str(raw.get("timezone") or "Europe/Tirane"),
                           _section(raw, "open"), holidays)
    except ValueError as exc:
        raise ConfigError(f"staff.hours: {exc}") from None


def _check_ranges(matching: MatchingConfig, registry: RegistryConfig, staff: StaffConfig,
                  faq_admin: FaqAdminConfig) -> None:
    """Refuse values that parse but cannot work: a score outside 0-100, a count or an
    interval of zero or less."""
    scores = (("matching.answer", matching.answer), ("matching.suggest", matching.suggest),
              ("registry.found", registry.found), ("registry.candidates", registry.candidates))
    for name, score in scores:
        if not 0 <= score <= 100:
            raise ConfigError(f"{name} must be a score from 0 to 100, not {score:g}")
    positive: tuple[tuple[str, float | timedelta], ...] = (
        ("matching.max_suggestions", matching.max_suggestions),
        ("registry.max_candidates", registry.max_candidates),
        ("registry.refresh_interval", registry.refresh_interval),
        ("staff.remind_after", staff.remind_after),
        ("staff.retry_interval", staff.retry_interval),
        ("staff.send_timeout", staff.send_timeout),
        ("faq.reload_interval", faq_admin.reload_interval),
        ("faq.max_upload_kb", faq_admin.max_upload_bytes),
    )
    for name, value in positive:
        if not value > type(value)():
            raise ConfigError(f"{name} must be more than 0")


def _resolve(base: Path, value: str | os.PathLike[str]) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path)


def _resolve_sqlite(base: Path, url: str) -> str:
    """Make a relative ``sqlite:///file`` URL relative to the config folder."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        rest = url[len(prefix):]
        if rest and not rest.startswith(":"):
            return prefix + str(_resolve(base, rest))
    return url


def load_config(path: str | os.PathLike[str] | None = None,
                environ: dict[str, str] | None = None) -> Config:
    """Load the configuration file and apply the environment overrides."""
    env = os.environ if environ is None else environ
    source = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {source}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: the file is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {source}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping")
    base = source.resolve().parent

    try:
        tg = _section(raw, "telegram")
        hook = _section(tg, "webhook")
        telegram = TelegramConfig(
            token=env.get("TELEGRAM_BOT_TOKEN") or None,
            api_base_url=str(tg.get("api_base_url") or TelegramConfig.api_base_url),
            mode=str(tg.get("mode") or "polling"),
            webhook=WebhookConfig(
                listen=str(hook.get("listen") or WebhookConfig.listen),
                port=int(hook.get("port") or WebhookConfig.port),
                url=str(hook.get("url") or ""),
                secret_token=str(hook.get("secret_token") or ""),
            ),
        )
        if telegram.mode not in ("polling", "webhook"):
            raise ConfigError("telegram.mode must be 'polling' or 'webhook'")

        db_url = env.get("DATABASE_URL") or str(_section(raw, "database").get("url")
                                                 or "sqlite:///data/bot.db")
        faq_raw = env.get("FAQ_PATH") or _section(raw, "faq").get("path") or "faq"

        m = _section(raw, "matching")
        matching = MatchingConfig(
            answer=float(m.get("answer", MatchingConfig.answer)),
            suggest=float(m.get("suggest", MatchingConfig.suggest)),
            margin=float(m.get("margin", MatchingConfig.margin)),
            max_suggestions=int(m.get("max_suggestions", MatchingConfig.max_suggestions)),
        )

        r = _section(raw, "registry")
        registry = RegistryConfig(
            sample_csv=_resolve(base, r["sample_csv"]) if r.get("sample_csv") else None,
            found=float(r.get("found", RegistryConfig.found)),
            candidates=float(r.get("candidates", RegistryConfig.candidates)),
            margin=float(r.get("margin", RegistryConfig.margin)),
            max_candidates=int(r.get("max_candidates", RegistryConfig.max_candidates)),
            refresh_interval=parse_duration(r.get("refresh_interval", "1m")),
        )

        a = _section(raw, "agency")
        agency = AgencyConfig(
            name={str(k): str(v) for k, v in _section(a, "name").items()},
            address=str(a.get("address") or ""),
            phone=str(a.get("phone") or ""),
            email=str(a.get("email") or ""),
            website=str(a.get("website") or ""),
        )

        s = _section(raw, "staff")
        staff = StaffConfig(
            chat_id=int(s["chat_id"]) if s.get("chat_id") not in (None, "") else None,
            anonymous=bool(s.get("anonymous", False)),
            remind_after=parse_duration(s.get("remind_after", "4h")),
            max_tickets_per_hour=int(s.get("max_tickets_per_hour", 3)),
            retry_interval=parse_duration(s.get("retry_interval", "5s")),
            send_timeout=float(s.get("send_timeout", 10)),
            language=str(s.get("language") or "sq"),
            hours=_hours(_section(s, "hours")),
            routes={str(k): int(v) for k, v in _section(s, "routes").items()},
        )
        if staff.language not in ("sq", "en"):
            raise ConfigError(f"staff.language must be 'sq' or 'en', not {staff.language!r}")
        admins = tuple(int(x) for x in (raw.get("admins") or []))

        f = _section(raw, "faq")
        faq_admin = FaqAdminConfig(
            reload_interval=parse_duration(f.get("reload_interval", "5s")),
            history_dir=_resolve(base, f.get("history") or "data/faq-history"),
            max_upload_bytes=int(f.get("max_upload_kb", 256)) * 1024,
        )
        p = _section(raw, "privacy")
        retention = p.get("retention", "365d")
        privacy = PrivacyConfig(
            retention=None if retention in (None, "", 0, "0") else parse_duration(retention))
        _check_ranges(matching, registry, staff, faq_admin)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise ConfigError(f"{source}: {exc}") from None
        raise ConfigError(f"{source}: bad value: {exc}") from None

    return Config(
        telegram=telegram,
        database_url=_resolve_sqlite(base, db_url),
        faq_path=_resolve(base, faq_raw),
        matching=matching,
        registry=registry,
        agency=agency,
        staff=staff,
        admins=admins,
        source=source,
        faq_admin=faq_admin,
        privacy=privacy,
    )
