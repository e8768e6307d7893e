"""What a button means: one typed value per kind of button.

The core builds buttons as a label and a :data:`Choice`, and acts on the
choice pressed. How a choice travels is the front end's business: Telegram
packs it into a button's callback data (``handlers/buttons.py``, the one
codec every handler uses); the terminal chat keeps the value itself. In the
outbox, where buttons wait with their message, a choice is stored as JSON
(:func:`buttons_to_json`, :func:`choice_from_json`).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any, Literal

# --- a person's buttons (lang: the language the buttons were shown in, so what
# follows stays in it) ---------------------------------------------------------


@dataclass(frozen=True)
class Pick:
    """One of the suggested FAQ entries."""
    lang: str
    entry: str


@dataclass(frozen=True)
class Helpful:
    """👍 under an answer."""
    lang: str
    entry: str


@dataclass(frozen=True)
class Unhelpful:
    """👎 under an answer."""
    lang: str
    entry: str


@dataclass(frozen=True)
class NoneOfThese:
    """None of the suggestions: the kept question ``draft`` may go to the staff."""
    lang: str
    draft: int | None = None


@dataclass(frozen=True)
class AskStaff:
    """Send the kept question ``draft`` to the staff."""
    lang: str
    draft: int


@dataclass(frozen=True)
class CloseTicket:
    """The person closes their ticket."""
    lang: str
    ticket: int


@dataclass(frozen=True)
class Rate:
    """👍/👎 for how the staff handled a closed ticket."""
    lang: str
    ticket: int
    good: bool


@dataclass(frozen=True)
class Comment:
    """The person wants to add a comment to their rating."""
    lang: str
    ticket: int


@dataclass(frozen=True)
class Topic:
    """A FAQ topic, by its position in the FAQ's list of categories, and a short key of
    its name (:func:`topic_key`): a FAQ reloaded since with its categories changed makes
    the button stale, not a way to another topic. Buttons sent before keys were kept
    have none."""
    lang: str
    index: int
    key: str | None = None


def topic_key(category: str) -> str:
    """Four hex digits of a category's name, for :class:`Topic`."""
    return hashlib.sha1(category.encode()).hexdigest()[:4]


@dataclass(frozen=True)
class Topics:
    """Back to the list of topics."""
    lang: str


@dataclass(frozen=True)
class ShowOrganisation:
    """An organisation's card, by its NIPT."""
    lang: str
    nipt: str


@dataclass(frozen=True)
class SetLanguage:
    lang: str


@dataclass(frozen=True)
class Forget:
    """/forget confirmed (``confirm``) or called off."""
    lang: str
    confirm: bool


# --- admins' buttons -------------------------------------------------------------

@dataclass(frozen=True)
class ConfirmUpload:
    """Put an uploaded FAQ file live."""
    token: str


@dataclass(frozen=True)
class CancelUpload:
    token: str


SuggestionAction = Literal["phrasing", "new", "reject", "learned"]


@dataclass(frozen=True)
class SettleSuggestion:
    """Accept a FAQ suggestion as a phrasing, a new entry or a learned phrasing; or reject it."""
    action: SuggestionAction
    number: int


@dataclass(frozen=True)
class RemoveLearned:
    number: int


@dataclass(frozen=True)
class RemoveOutOfScope:
    """Remove an out-of-scope question (see :func:`bot.learning.hand_on`)."""
    number: int


# --- the staff's buttons -----------------------------------------------------------

TicketVerb = Literal["claim", "close", "faq"]


@dataclass(frozen=True)
class TicketAction:
    """Claim, Close, Add to FAQ under a ticket's post."""
    action: TicketVerb
    ticket: int


@dataclass(frozen=True)
class AnswerWithFaq:
    """A FAQ entry chosen after /faq, by a short key of its id (ids may be long)."""
    ticket: int
    entry_key: str


@dataclass(frozen=True)
class AnswerWithSaved:
    """A saved reply chosen after /saved."""
    ticket: int
    saved: int


Choice = (Pick | Helpful | Unhelpful | NoneOfThese | AskStaff | CloseTicket | Rate | Comment
          | Topic | Topics | ShowOrganisation | SetLanguage | Forget | ConfirmUpload
          | CancelUpload | SettleSuggestion | RemoveLearned | RemoveOutOfScope | TicketAction
          | AnswerWithFaq | AnswerWithSaved)
KINDS: tuple[type[Choice], ...] = Choice.__args__
_BY_NAME: dict[str, type[Choice]] = {kind.__name__: kind for kind in KINDS}


@dataclass(frozen=True)
class Button:
    label: str  # plain text
    choice: Choice


Buttons = tuple[tuple[Button, ...], ...]


def choice_to_json(choice: Choice) -> dict[str, Any]:
    return {"kind": type(choice).__name__, **dataclasses.asdict(choice)}


def choice_from_json(value: object) -> Choice | None:
    """The choice stored by :func:`choice_to_json`; None if it is not one."""
    if not isinstance(value, dict):
        return None
    fields = dict(value)
    kind = _BY_NAME.get(str(fields.pop("kind", "")))
    try:
        return kind(**fields) if kind is not None else None
    except TypeError:
        return None


def buttons_to_json(rows: Buttons) -> list[list[list[Any]]]:
    """Buttons as the outbox keeps them: rows of [label, choice as JSON]."""
    return [[[button.label, choice_to_json(button.choice)] for button in row] for row in rows]

