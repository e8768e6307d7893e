"""What the bot wants to happen in a chat: the outbox's intents, one typed payload each.

The core queues intents (:func:`bot.outbox.enqueue`); it knows nothing of how they are
carried out. The Telegram layer (``handlers/outbox.py``) turns each into Bot API calls.
Texts are in the bot's small HTML subset; buttons are rows of [label, choice as JSON]
(:func:`bot.choices.buttons_to_json`). The ticket's post and forum topic, which may
not exist yet when an intent is queued, are looked up when it is carried out.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

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


Intent = (Say | PostTicket | UpdateTicket | OpenTopic | RenameTopic | NoteOnTicket | Relay
          | Deliver | Edit | EditCaption | EditButtons | Delete)
_BY_KIND: dict[str, type[Intent]] = {kind.kind: kind for kind in Intent.__args__}


def to_row(intent: Intent) -> tuple[str, dict[str, Any]]:
    """The outbox row's kind and payload of ``intent``."""
    return intent.kind, dataclasses.asdict(intent)


def from_row(kind: str, payload: dict[str, Any]) -> Intent | None:
    """The intent an outbox row holds; None if it holds none this version knows."""
    found = _BY_KIND.get(kind)
    try:
        return found(**payload) if found is not None else None
    except TypeError:
        return None
