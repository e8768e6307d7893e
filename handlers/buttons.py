"""The one codec of button data: a typed choice (:mod:`bot.choices`) <-> callback data.

Each kind of choice has a prefix and its fields in order, separated by ``:``
(``q:en:ngo-register``, ``tk:claim:12``): :func:`pack` makes the string,
:func:`unpack` reads it back or gives None for anything this bot did not make
(forged, unknown, from an older version, too long). The formats are those the
bot has always sent, so buttons already in people's chats keep working.
Telegram's size limit is checked in :mod:`bot.limits`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot import choices as c
from bot import phrases
from bot.limits import fits_button
from bot.registry import NIPT_FORM


@dataclass(frozen=True)
class _Field:
    name: str
    pattern: str  # of the packed value (no ":" but in the last field)
    read: Callable[[str], Any] = str
    write: Callable[[Any], str] = str
    optional: bool = False  # the last field only: left out when None


def _number(name: str, *, optional: bool = False) -> _Field:
    return _Field(name, r"\d{1,9}", int, str, optional)


def _hex(name: str, digits: int) -> _Field:
    """A row id in hex; of 16 digits, one a database's 64-bit integer holds (below 2**63:
    a forged "ffffffffffffffff" overflowed SQLite's look-up)."""
    pattern = (f"[0-9a-f]{{1,{digits}}}" if digits < 16
               else f"[0-7][0-9a-f]{{{digits - 1}}}|[0-9a-f]{{1,{digits - 1}}}")
    return _Field(name, pattern, lambda text: int(text, 16), lambda value: f"{value:x}")


def _flag(name: str, yes: str, no: str) -> _Field:
    return _Field(name, f"{yes}|{no}", lambda text: text == yes, lambda value: yes if value else no)


def _words(name: str, mapping: dict[str, str]) -> _Field:
    """A field with a few values, each packed as a short word."""
    back = {packed: value for value, packed in mapping.items()}
    return _Field(name, "|".join(back), back.__getitem__, mapping.__getitem__)


_LANG = _Field("lang", "|".join(phrases.LANGUAGES))
_ENTRY = _Field("entry", r"[a-z0-9-]{1,58}")  # FAQ ids (bot.faq.MAX_ID_LENGTH)
_TICKET = _number("ticket")

_KINDS: dict[type[c.Choice], tuple[str, tuple[_Field, ...]]] = {
    c.Pick: ("q", (_LANG, _ENTRY)),
    c.Helpful: ("y", (_LANG, _ENTRY)),
    c.Unhelpful: ("n", (_LANG, _ENTRY)),
    c.NoneOfThese: ("x", (_LANG, _number("draft", optional=True))),
    c.AskStaff: ("a", (_LANG, _number("draft"))),
    c.CloseTicket: ("c", (_LANG, _TICKET)),
    c.Rate: ("r", (_LANG, _TICKET, _flag("good", "1", "0"))),
    c.Comment: ("k", (_LANG, _TICKET)),
    c.Topic: ("t", (_LANG, _number("index"), _Field("key", "[0-9a-f]{4}", optional=True))),
    c.Topics: ("m", (_LANG,)),
    c.ShowOrganisation: ("o", (_LANG, _Field("nipt", NIPT_FORM))),
    c.SetLanguage: ("l", (_LANG,)),
    c.Forget: ("pv", (_LANG, _flag("confirm", "yes", "no"))),
    c.ConfirmUpload: ("adm:up", (_Field("token", r"[0-9a-f]{1,16}"),)),
    c.CancelUpload: ("adm:no", (_Field("token", r"[0-9a-f]{1,16}"),)),
    c.SettleSuggestion: ("adm", (_words("action", {"phrasing": "sp", "new": "sn",
                                                   "reject": "sr", "learned": "sl"}),
                                 _hex("number", 16))),
    c.RemoveLearned: ("lrn:rm", (_hex("number", 8),)),
    c.RemoveOutOfScope: ("lrn:rx", (_hex("number", 8),)),
    c.TicketAction: ("tk", (_words("action", {"claim": "claim", "close": "close",
                                              "faq": "faq"}), _TICKET)),
    c.AnswerWithFaq: ("tk:fa", (_TICKET, _Field("entry_key", r"[0-9a-f]{8}"))),
    c.AnswerWithSaved: ("tk:sv", (_TICKET, _number("saved"))),
}


def _grammar(prefix: str, fields: tuple[_Field, ...]) -> re.Pattern[str]:
    parts = [re.escape(prefix)]
    for field in fields:
        part = f":(?P<{field.name}>{field.pattern})"
        parts.append(f"(?:{part})?" if field.optional else part)
    return re.compile("".join(parts))


if set(_KINDS) != set(c.KINDS) or any(
        [field.name for field in fields] != [field.name for field in dataclasses.fields(kind)]
        for kind, (_, fields) in _KINDS.items()):
    raise TypeError("handlers.buttons must pack every field of every kind of bot.choices")

_GRAMMARS = [(kind, fields, _grammar(prefix, fields))
             for kind, (prefix, fields) in _KINDS.items()]


class ButtonDataTooLong(ValueError):
    """A choice that does not fit in Telegram's callback data."""


def pack(choice: c.Choice) -> str:
    """The callback data of ``choice``; ButtonDataTooLong if Telegram would refuse it."""
    prefix, fields = _KINDS[type(choice)]
    values = [(field, getattr(choice, field.name)) for field in fields]
    data = ":".join([prefix] + [field.write(value) for field, value in values
                                if not (field.optional and value is None)])
    if not fits_button(data):
        raise ButtonDataTooLong(f"{type(choice).__name__} packs into {len(data.encode())} bytes")
    return data


def unpack(data: object) -> c.Choice | None:
    """The choice ``data`` packs, or None (forged, unknown, stale or too long)."""
    if not isinstance(data, str) or not fits_button(data):
        return None
    for kind, fields, grammar in _GRAMMARS:
        found = grammar.fullmatch(data)
        if found is not None:
            values: dict[str, Any] = {
                field.name: None if found[field.name] is None else field.read(found[field.name])
                for field in fields}
            return kind(**values)
    return None


def of(*kinds: type[c.Choice]) -> Callable[[object], bool]:
    """A CallbackQueryHandler pattern: the data packs one of ``kinds``."""
    return lambda data: isinstance(unpack(data), kinds)


def stored(data: object) -> str | None:
    """The callback data of a button as the outbox keeps it (a choice as JSON; rows queued
    before the typed choices hold the string itself); None if it cannot be sent."""
    if isinstance(data, str):
        return data if fits_button(data) else None
    choice = c.choice_from_json(data)
    if choice is None:
        return None
    try:
        return pack(choice)
    except ButtonDataTooLong:
        return None
