"""What the bot wants to happen in a chat: the outbox's intents, one typed payload each.

The core queues intents (:func:`bot.outbox.enqueue`); it knows nothing of how they are
carried out. The Telegram layer (``handlers/outbox.py``) turns each into Bot API calls.
Texts are in the bot's small HTML subset; buttons are rows of [label, choice as JSON]
(:func:`bot.choices.buttons_to_json`). The ticket's post and forum topic, which may
not exist yet when an intent is queued, are looked up when it is carried out.
"""

from __future__ import annotations

import base64
import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

JsonButtons = list[list[list[Any]]]


@dataclass(frozen=True)
class Say:
    """A message to the chat: an answer to a person, a short answer to a staff member
    (``reply_to`` quotes a message, ``thread`` is a forum topic)."""
    kind: ClassVar[str] = "say"
    text: str
    buttons: JsonButtons = field(default_factory=list)
    reply_to: int | None = None
    thread: int | None = None


@dataclass(frozen=True)
class PostTicket:
    """The ticket's post in the staff chat (in its topic, when it has one)."""
    kind: ClassVar[str] = "post_ticket"
    text: str
    buttons: JsonButtons = field(default_factory=list)


@dataclass(frozen=True)
class UpdateTicket:
    """The ticket's post shows the ticket's new state."""
    kind: ClassVar[str] = "update_ticket"
    text: str
    buttons: JsonButtons = field(default_factory=list)


@dataclass(frozen=True)
class OpenTopic:
    """The ticket's own forum topic."""
    kind: ClassVar[str] = "open_topic"
    name: str


@dataclass(frozen=True)
class RenameTopic:
    kind: ClassVar[str] = "rename_topic"
    thread: int
    name: str


@dataclass(frozen=True)
class NoteOnTicket:
    """A line about the ticket in the staff chat, under its post (or in its topic)."""
    kind: ClassVar[str] = "note"
    text: str


@dataclass(frozen=True)
class Relay:
    """The person's message itself (a photo, a document...) under the ticket's post."""
    kind: ClassVar[str] = "relay"
    from_chat: int
    message_id: int


@dataclass(frozen=True)
class Deliver:
    """A staff answer to the person: a text, or a copy of the staff's message (a photo...)
    with ``caption``."""
    kind: ClassVar[str] = "deliver"
    text: str | None = None
    from_chat: int | None = None
    message_id: int | None = None
    caption: str | None = None
    buttons: JsonButtons = field(default_factory=list)


@dataclass(frozen=True)
class Edit:
    """New text (and buttons) for one of the bot's messages: ``message_id``, or the message
    the outbox call ``copy_of`` created."""
    kind: ClassVar[str] = "edit"
    text: str
    buttons: JsonButtons = field(default_factory=list)
    message_id: int | None = None
    copy_of: int | None = None


@dataclass(frozen=True)
class EditCaption:
    """A new caption for the copy the outbox call ``copy_of`` made."""
    kind: ClassVar[str] = "edit_caption"
    caption: str
    copy_of: int


@dataclass(frozen=True)
class EditButtons:
    """New buttons (none: take them away) under one of the bot's messages."""
    kind: ClassVar[str] = "edit_buttons"
    message_id: int
    buttons: JsonButtons = field(default_factory=list)


@dataclass(frozen=True)
class Delete:
    kind: ClassVar[str] = "delete"
    message_id: int


@dataclass(frozen=True)
class Document:
    """A file for the chat to download (an admin's FAQ export).

    Its bytes are kept with the intent (base64 in the row), so that it survives a restart
    and any worker can send it, like any message; they are dropped once it is sent
    (:func:`without_bytes`). Measured (benchmarks/outbox_files.py), queued to sent: a
    50 KB file 6 ms on SQLite, 24 ms on PostgreSQL (5 and 8 ms kept in a file under
    data/ instead); Telegram's largest, 50 MB, 1.7 s and 3.7 s of database work off the
    event loop (0.1 s as a file). The bot's own files, FAQ exports and charts, are kilobytes."""
    kind: ClassVar[str] = "document"
    name: str
    content: bytes


@dataclass(frozen=True)
class Picture:
    """An image shown in the chat (the statistics' chart), kept with the intent too."""
    kind: ClassVar[str] = "picture"
    content: bytes


Intent = (Say | PostTicket | UpdateTicket | OpenTopic | RenameTopic | NoteOnTicket | Relay
          | Deliver | Edit | EditCaption | EditButtons | Delete | Document | Picture)
_BY_KIND: dict[str, type[Intent]] = {kind.kind: kind for kind in Intent.__args__}
# Fields holding bytes: stored in the row's JSON payload as base64.
_BYTES: dict[str, frozenset[str]] = {
    kind.kind: frozenset(f.name for f in dataclasses.fields(kind) if f.type == "bytes")
    for kind in Intent.__args__}


def to_row(intent: Intent) -> tuple[str, dict[str, Any]]:
    """The outbox row's kind and payload of ``intent``."""
    payload = dataclasses.asdict(intent)
    for name in _BYTES[intent.kind]:
        payload[name] = base64.b64encode(payload[name]).decode("ascii")
    return intent.kind, payload


# Fields holding words (texts, names, the buttons' labels).
_WORDS: dict[str, frozenset[str]] = {
    kind.kind: frozenset(f.name for f in dataclasses.fields(kind)
                         if f.name in ("text", "caption", "name", "buttons"))
    for kind in Intent.__args__}


def without_bytes(intent: Intent) -> Intent | None:
    """What the outbox keeps of ``intent`` once sent: its bytes emptied (None: it holds
    none)."""
    names = _BYTES[intent.kind]
    if not names:
        return None
    emptied: Intent = dataclasses.replace(cast(Any, intent), **dict.fromkeys(names, b""))
    return emptied


def without_words(intent: Intent) -> Intent:
    """What the outbox keeps of an answer once sent: its words and bytes emptied."""
    emptied = {name: [] if name == "buttons" else "" for name in _WORDS[intent.kind]}
    kept: Intent = dataclasses.replace(cast(Any, intent), **emptied,
                                       **dict.fromkeys(_BYTES[intent.kind], b""))
    return kept


def from_row(kind: str, payload: dict[str, Any]) -> Intent | None:
    """The intent an outbox row holds; None if it holds none this version knows."""
    found = _BY_KIND.get(kind)
    if found is None:
        return None
    try:
        for name in _BYTES[kind]:
            payload = {**payload, name: base64.b64decode(payload[name], validate=True)}
        return found(**payload)
    except (TypeError, KeyError, ValueError):
        return None
