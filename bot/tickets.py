"""Questions handed to the staff: from the person's question to the staff's answer.

A ticket is opened when a person accepts the offer to ask the staff (or
sends ``/ask TEXT``); it is stored, with its post for the staff chat queued
in the outbox in the same transaction, before the person is told its
number. The staff answer by replying to the ticket's post (or in its forum
topic); each answer is queued for delivery to the person and the ticket
becomes ``answered`` (``open`` again should Telegram refuse it for good). The
person's further messages go to the same ticket until it is closed (by the
person's button or by the staff).

A photo, document or voice message opens a ticket too (copied to the staff
chat as it is, by Telegram's copy of it: nothing is downloaded), and an edit
of a message the staff have seen edits their copy. Staff may keep notes on a
ticket (never sent to the person), answer with a FAQ entry or a saved reply,
assign tickets, and see the person's earlier tickets. When a ticket closes
the person is asked once how it went.

Questions are routed by the FAQ category of the bot's best guess
(``staff.routes``), else to ``staff.chat_id``. A staff chat that moves (a
group upgraded to a supergroup) is followed: :meth:`Tickets.move_chat`.

Nothing here talks to Telegram: the staff chat and the person's chat are
reached only through :mod:`bot.outbox`, whose calls are Bot API calls
described as data. Who is staff is decided by the Telegram layer (members
of the staff chat) and :meth:`Tickets.is_admin` (the configured admins).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot import learning, phrases
from bot.choices import Button, Buttons, CloseTicket, Rate, TicketAction, buttons_to_json
from bot.config import Config
from bot.inbox import handling
from bot.intents import (
    Delete,
    Deliver,
    Edit,
    EditCaption,
    Intent,
    NoteOnTicket,
    OpenTopic,
    PostTicket,
    Relay,
    Say,
    UpdateTicket,
)
from bot.limits import MAX_CAPTION, MAX_TEXT, MAX_TOPIC_NAME, USER_IDS, shorten, split
from bot.outbox import (
    DELIVERY,
    FOLLOWUPS,
    FORGET,
    NOTICE,
    RATING_COMMENT,
    STAFF_NOTE,
    STAFF_REPLY,
    TICKET_EDIT,
    TICKET_POST,
    TICKET_TOPIC,
    as_utc,
    enqueue,
    forgotten_ticket,
    utcnow,
)
from bot.phrases import Html, escape, plain, say
from bot.storage import (
    Ban,
    Database,
    FaqSuggestion,
    OutboxItem,
    Person,
    SavedReply,
    StaffChatMove,
    StaffContact,
    Ticket,
    TicketDraft,
    TicketMessage,
    write_lock_first,
)
from bot.untrusted import clean, shown_name

if TYPE_CHECKING:
    from bot.privacy import Forgotten

OPEN, ANSWERED, CLOSED = "open", "answered", "closed"
ACTIVE = (OPEN, ANSWERED)
# What a person's relayed message (and its copy in the staff chat) is.
RELAY, RELAY_EDIT = "relay", "relay_edit"
# A person's photo, document, voice... opens a ticket (others only join an open one).
TICKET_MEDIA = frozenset({"photo", "document", "voice", "video", "audio"})
# After "add a comment", the person's next message within this time is the comment.
COMMENT_WINDOW = timedelta(minutes=30)
MAX_HISTORY = 10
SAVED_NAME = re.compile(r"^[\w-]{1,32}$")
_ASK = re.compile(r"^\s*/ask(?:@\w+)?\s*", re.IGNORECASE)
# How long an "ask the staff" button stays valid.
DRAFT_LIFETIME = timedelta(days=1)
# A 👎 refers to the question asked this recently (else to the FAQ entry's own question).
RECENT_QUESTION = timedelta(hours=1)
MAX_GUESSES = 3
MAX_CARD_QUESTION = 3000   # characters of the question shown on the ticket's post
HEADER_ROOM = 100          # characters of "Answer from the staff (ticket #N)" before a text
# A longer follow-up is copied to the staff chat by itself, not posted with others.
MAX_FOLLOWUP = 1000
EDITED_ROOM = 40  # characters of the "edited" mark and the break before a follow-up
# Media whose copy can carry a caption (the ticket number goes there).
CAPTIONED = frozenset({"photo", "document", "video", "audio", "voice", "animation"})


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean(self.name))


@dataclass(frozen=True)
class FollowedUp:
    """A person's message added to their open ticket: its number and language, and
    whether to tell them (once for messages written in a row, see :meth:`Tickets.follow_up`)."""

    number: int
    language: str
    tell: bool


@dataclass(frozen=True)
class StaffMessage:
    """A message in the staff chat, as far as tickets care."""

    chat_id: int
    message_id: int
    thread_id: int | None = None
    reply_to: int | None = None
    text: str | None = None   # the text, or the caption of a photo or document
    kind: str = "text"        # text, photo, document, video, ... or other
    file_id: str | None = None  # Telegram's id of the photo, document... (never downloaded)

    def __post_init__(self) -> None:
        if self.text is not None:
            object.__setattr__(self, "text", clean(self.text))


@dataclass(frozen=True)
class Opened:
    """A new ticket's number, or why none was opened: disabled, banned, too_many, expired.

    ``staff_from`` is the next opening of the staff's working hours when the ticket was
    opened outside them (None while they are at work)."""

    ticket_id: int | None = None
    refusal: str | None = None
    staff_from: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    """What a staff action did: ``ok`` and a line (HTML) to show the staff member."""

    ok: bool
    text: Html


@dataclass(frozen=True)
class Listing:
    """Tickets listed for the staff (/open, /mine) and the people the text names: the
    tickets' persons, and the staff members who claimed them (their forget deletes it)."""

    text: Html
    naming: frozenset[int] = frozenset()


def rating_buttons(lang: str, ticket_id: int) -> Buttons:
    """👍 / 👎 for a closed ticket, as the person sees them."""
    return ((Button("👍", Rate(lang, ticket_id, good=True)),
             Button("👎", Rate(lang, ticket_id, good=False))),)


def user_id_of(text: str) -> int | None:
    """The person's Telegram user id that ``text`` (a staff command's argument) gives; None
    when no person can have it (0, a group's negative id, a name, too large a number)."""
    if not (text.isascii() and text.isdecimal()):
        return None
    user_id = int(text)
    return user_id if user_id in USER_IDS else None


def guesses_of(matches: list[tuple[str, str, float]]) -> list[dict[str, Any]]:
    """The bot's best guesses (entry id, question, score) as stored on a ticket."""
    return [{"id": entry_id, "question": question, "score": round(score, 1)}
            for entry_id, question, score in matches[:MAX_GUESSES]]


class Tickets:
    """Tickets, the staff's actions on them, and the bookkeeping around them."""

    def __init__(self, db: Database, config: Config,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.staff = config.staff
        self.lang = config.staff.language
        self.hours = config.staff.hours
        self.admins = frozenset(config.admins)
        self.clock = clock
        # Set by the Telegram layer once it knows: the staff chats that are forums
        # (one topic per ticket there).
        self.forums: set[int] = set()
        # The FAQ category of an entry id (set by the conversation, which has the FAQ).
        self.category_of: Callable[[str], str | None] = lambda entry_id: None
        self.moves: dict[int, int] = {}
        self.load_moves()

    def load_moves(self) -> set[int]:
        """Read where staff chats moved (another worker may have seen it); returns the staff
        chats as they are now."""
        with self.db.session() as session:
            self.moves = {old: new for old, new in session.execute(
                select(StaffChatMove.old_chat_id, StaffChatMove.new_chat_id))}
        return self.staff_chats

    @property
    def enabled(self) -> bool:
        return self.staff.chat_id is not None

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admins

    def chat(self, configured: int) -> int:
        """Where a configured staff chat is now (following the moves)."""
        seen = {configured}
        while configured in self.moves and self.moves[configured] not in seen:
            configured = self.moves[configured]
            seen.add(configured)
        return configured

    @property
    def default_chat(self) -> int | None:
        return None if self.staff.chat_id is None else self.chat(self.staff.chat_id)

    @property
    def staff_chats(self) -> set[int]:
        """Every staff chat: the default one and those of the routes."""
        if self.staff.chat_id is None:
            return set()
        return {self.chat(c) for c in (self.staff.chat_id, *self.staff.routes.values())}

    def route(self, guesses: list[dict[str, Any]]) -> int | None:
        """The staff chat for a question: by the category of the bot's best guess."""
        if self.staff.chat_id is None:
            return None
        category = self.category_of(guesses[0]["id"]) if guesses else None
        routed = self.staff.routes.get(category) if category else None
        return self.chat(routed if routed is not None else self.staff.chat_id)

    # --- the person's side ----------------------------------------------

    def save_draft(self, user_id: int, question: str, lang: str,
                   guesses: list[dict[str, Any]], message_id: int | None = None) -> int:
        """Keep a question the person may hand to the staff later; returns its id.

        ``message_id`` is the person's message in their private chat (an edit of it
        edits the ticket's question)."""
        now = self.clock()
        with self.db.session() as session:
            draft = TicketDraft(user_id=user_id, question=question, language=lang,
                                guesses=guesses, message_id=message_id, created_at=now)
            session.add(draft)
            session.flush()
            return draft.id

    def recent_draft(self, user_id: int, entry_id: str) -> int | None:
        """The person's last question asked within the last hour to which the bot
        answered or offered the entry ``entry_id``: the question behind a 👎 under that
        answer, which may not be the last one asked."""
        since = self.clock() - RECENT_QUESTION
        with self.db.session() as session:
            drafts = session.execute(select(TicketDraft.id, TicketDraft.guesses)
                                     .where(TicketDraft.user_id == user_id,
                                            TicketDraft.created_at >= since)
                                     .order_by(TicketDraft.id.desc())).all()
        return next((draft_id for draft_id, guesses in drafts
                     if any(isinstance(g, dict) and g.get("id") == entry_id
                            for g in guesses or ())), None)

    def open_from_draft(self, user_id: int, name: str, draft_id: int) -> Opened:
        """Hand the draft ``draft_id`` to the staff (only its author may; only once)."""
        with self.db.session() as session:
            again = self._opened_by_this_update(session, user_id)
            if again is not None:
                return again
            draft = _get(session, TicketDraft, draft_id)
            if draft is None or draft.user_id != user_id:
                return Opened(refusal="expired")
            opened = self._open(session, user_id, name, draft.question, draft.language,
                                draft.guesses, draft.message_id)
            if opened.ticket_id is not None:
                session.delete(draft)
            return opened

    def open(self, user_id: int, name: str, question: str, lang: str,
             guesses: list[dict[str, Any]], message_id: int | None = None,
             relay: str | None = None, file_id: str | None = None) -> Opened:
        """Open a ticket for ``question`` (``/ask``) and queue its post in the staff chat.

        With ``relay`` (the kind of the person's message ``message_id``, e.g. photo)
        the message itself is copied under the post."""
        with self.db.session() as session:
            again = self._opened_by_this_update(session, user_id)
            if again is not None:
                return again
            return self._open(session, user_id, name, question, lang, guesses, message_id,
                              relay, file_id)

    def _open(self, session: Session, user_id: int, name: str, question: str, lang: str,
              guesses: list[dict[str, Any]], message_id: int | None = None,
              relay: str | None = None, file_id: str | None = None) -> Opened:
        """Open the ticket (the caller made sure this update opened none yet)."""
        chat_id = self.route(guesses)
        if chat_id is None:
            return Opened(refusal="disabled")
        if session.get(Ban, user_id) is not None:
            return Opened(refusal="banned")
        now = self.clock()
        recent = session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.user_id == user_id, Ticket.created_at >= now - timedelta(hours=1))) or 0
        if recent >= self.staff.max_tickets_per_hour:
            return Opened(refusal="too_many")
        ticket = Ticket(user_id=user_id, chat_id=user_id, person_name=name or None,
                        language=lang, question=question, guesses=guesses, status=OPEN,
                        question_message_id=message_id, staff_chat_id=chat_id,
                        created_at=now, updated_at=now, update_id=handling())
        session.add(ticket)
        session.flush()
        self._post_card(session, ticket, now)
        if relay is not None and message_id is not None:
            self._relay(session, ticket, user_id, message_id, None, relay, now, file_id)
        return Opened(ticket_id=ticket.id, staff_from=self._staff_from(now))

    def _opened_by_this_update(self, session: Session, user_id: int) -> Opened | None:
        """The ticket the update being handled opened already (it is handled again after a
        crash), as it was opened; None when it opened none."""
        update_id = handling()
        ticket = session.scalar(select(Ticket).where(
            Ticket.update_id == update_id, Ticket.user_id == user_id)) \
            if update_id is not None else None
        if ticket is None:
            return None
        return Opened(ticket_id=ticket.id, staff_from=self._staff_from(as_utc(ticket.created_at)))

    def _staff_from(self, moment: datetime) -> datetime | None:
        """When the staff answer a ticket opened at ``moment``: None when they are in."""
        return None if self.hours.is_open(moment) else self.hours.next_open(moment)

    def _post_card(self, session: Session, ticket: Ticket, now: datetime) -> None:
        """Queue the ticket's post (in a topic of its own when the chat is a forum)."""
        assert ticket.staff_chat_id is not None
        if ticket.staff_chat_id in self.forums:
            title = phrases.raw(self.lang, "ticket_topic").format(
                number=ticket.id, name=self._who(ticket))
            enqueue(session, chat_id=ticket.staff_chat_id,
                    intent=OpenTopic(shorten(title, MAX_TOPIC_NAME)), purpose=TICKET_TOPIC,
                    ticket_id=ticket.id, now=now)
        text, buttons = self.card(ticket)
        enqueue(session, chat_id=ticket.staff_chat_id,
                intent=PostTicket(text, buttons_to_json(buttons)), purpose=TICKET_POST,
                ticket_id=ticket.id, now=now)

    @staticmethod
    def _relay(session: Session, ticket: Ticket, user_id: int, message_id: int,
               text: str | None, kind: str, now: datetime, file_id: str | None = None) -> None:
        """Copy the person's message under the ticket's post, and keep it with the ticket."""
        assert ticket.staff_chat_id is not None
        item = enqueue(session, chat_id=ticket.staff_chat_id,
                       intent=Relay(ticket.chat_id, message_id), purpose=RELAY,
                       ticket_id=ticket.id, now=now)
        session.flush()
        session.add(TicketMessage(ticket_id=ticket.id, direction="person", author_id=user_id,
                                  author_name=ticket.person_name, text=text, kind=kind,
                                  file_id=file_id, relay_id=item.id, chat_id=ticket.chat_id,
                                  message_id=message_id, created_at=now))

    def current(self, user_id: int) -> int | None:
        """The person's ticket that is not closed (their newest), if any."""
        with self.db.session() as session:
            return session.scalar(select(Ticket.id)
                                  .where(Ticket.user_id == user_id, Ticket.status.in_(ACTIVE))
                                  .order_by(Ticket.id.desc()).limit(1))

    def follow_up(self, user_id: int, chat_id: int, message_id: int,
                  text: str | None, kind: str = "text",
                  file_id: str | None = None) -> FollowedUp | None:
        """Add the person's message to their open ticket in the staff chat.

        A text waits (stored with the ticket) to be posted with the others the person
        writes within ``staff.followup_batch`` (:meth:`post_followups`); a photo, a
        document... (or a text too long to share a post) is copied at once, after the
        texts before it. A message seen before (its update handled again after a
        crash) is not added twice. The person is told once for messages written in a
        row, as the staff see them together (:meth:`_in_a_row`). None when they have no
        open ticket."""
        now = self.clock()
        with self.db.session() as session:
            ticket = session.scalar(select(Ticket)
                                    .where(Ticket.user_id == user_id, Ticket.status.in_(ACTIVE))
                                    .order_by(Ticket.id.desc()).limit(1))
            if ticket is None or ticket.staff_chat_id is None:
                return None
            if session.get(Ban, user_id) is not None:
                return None
            seen = session.scalar(select(TicketMessage).where(
                TicketMessage.chat_id == chat_id, TicketMessage.message_id == message_id,
                TicketMessage.direction == "person").limit(1))
            if seen is not None:
                return FollowedUp(ticket.id, ticket.language,
                                  not self._in_a_row(session, ticket, seen.created_at, seen.id))
            tell = not self._in_a_row(session, ticket, now)
            if kind == "text" and len(escape(text or "")) <= MAX_FOLLOWUP:
                session.add(TicketMessage(
                    ticket_id=ticket.id, direction="person", author_id=user_id,
                    author_name=ticket.person_name, text=text, kind=kind, chat_id=chat_id,
                    message_id=message_id, created_at=now))
            else:
                locked = _get(session, Ticket, ticket.id, lock=True)  # a look may be posting
                if locked is None:  # the person's data was deleted meanwhile
                    return None
                ticket = locked
                self._post_followups(session, ticket, now)
                self._relay(session, ticket, user_id, message_id, text, kind, now, file_id)
            if ticket.status != OPEN:
                ticket.status = OPEN
                self._changed(session, ticket, now)
            ticket.updated_at = now
            return FollowedUp(ticket.id, ticket.language, tell)

    def _in_a_row(self, session: Session, ticket: Ticket, at: datetime,
                  before: int | None = None) -> bool:
        """Whether a follow-up the person sends ``at`` (stored as ``before``, if it is)
        comes in a row with an earlier one: one still waiting to be posted, or added less
        than ``staff.followup_batch`` earlier. Five quick messages are posted together
        and get one "Added to ticket #N.", not five. The message that opened the ticket
        is not a follow-up: the first one after it is always acknowledged."""
        earlier = (select(TicketMessage.id)
                   .where(TicketMessage.ticket_id == ticket.id,
                          TicketMessage.direction == "person",
                          or_(TicketMessage.relay_id.is_(None),
                              TicketMessage.created_at > at - self.staff.followup_batch))
                   .limit(1))
        if ticket.question_message_id is not None:
            earlier = earlier.where(TicketMessage.message_id != ticket.question_message_id)
        if before is not None:
            earlier = earlier.where(TicketMessage.id < before)
        return session.scalar(earlier) is not None

    def post_followups(self, *, everything: bool = False) -> int:
        """Post the follow-ups that waited ``staff.followup_batch`` (with ``everything``:
        all that wait), each ticket's in one post; returns how many tickets had some.

        Posting is one transaction: the post is queued and its texts marked as posted
        together, so a crash neither loses nor doubles them."""
        now = self.clock()
        waiting = (select(TicketMessage.ticket_id)
                   .where(TicketMessage.relay_id.is_(None),
                          TicketMessage.direction == "person")
                   .group_by(TicketMessage.ticket_id))
        if not everything:
            waiting = waiting.having(func.min(TicketMessage.created_at)
                                     <= now - self.staff.followup_batch)
        posted = 0
        with self.db.session() as session:
            numbers = list(session.scalars(waiting))
        for number in numbers:
            with self.db.session() as session:
                ticket = _get(session, Ticket, number, lock=True)
                if ticket is not None and self._post_followups(session, ticket, now):
                    posted += 1
        return posted

    def followups_due_in(self) -> timedelta | None:
        """How long until the earliest follow-up still waiting (any ticket's, whichever
        worker stored it) is due to be posted by :meth:`post_followups` (zero or less:
        due now); None when none waits."""
        with self.db.session() as session:
            first = session.scalar(select(func.min(TicketMessage.created_at)).where(
                TicketMessage.relay_id.is_(None), TicketMessage.direction == "person"))
        return None if first is None else as_utc(first) + self.staff.followup_batch - self.clock()

    def _post_followups(self, session: Session, ticket: Ticket, now: datetime) -> bool:
        """Queue the post of the ticket's waiting follow-ups (in as few posts as fit a
        message); False if none wait."""
        waiting = list(session.scalars(
            select(TicketMessage)
            .where(TicketMessage.ticket_id == ticket.id, TicketMessage.relay_id.is_(None),
                   TicketMessage.direction == "person")
            .order_by(TicketMessage.id)))
        if not waiting or ticket.staff_chat_id is None:
            return False
        posts: list[list[TicketMessage]] = [[]]
        size = 0
        for message in waiting:
            length = len(escape(message.text or "")) + EDITED_ROOM
            if posts[-1] and size + length > MAX_TEXT - HEADER_ROOM:
                posts.append([])
                size = 0
            posts[-1].append(message)
            size += length
        for messages in posts:
            item = enqueue(session, chat_id=ticket.staff_chat_id,
                           intent=NoteOnTicket(self._followups_text(ticket, messages)),
                           purpose=FOLLOWUPS, ticket_id=ticket.id, now=now)
            session.flush()
            for message in messages:
                message.relay_id = item.id
        return True

    def _followups_text(self, ticket: Ticket, messages: list[TicketMessage]) -> Html:
        """The staff chat's post of a person's follow-ups, in the order written (each
        shortened as much as it takes to fit one message: edits can make them longer)."""
        edited = say(self.lang, "staff_edited_mark") + "\n"
        budget = MAX_TEXT

        def render() -> Html:
            texts = [(edited if message.edited_at else "") +
                     escape(shorten(message.text or "", budget)) for message in messages]
            return say(self.lang, "staff_followups", name=self._who(ticket),
                       number=ticket.id, messages=Html("\n\n".join(texts)))
        text = render()
        while len(text) > MAX_TEXT and budget > 1:
            budget = min(budget, MAX_TEXT // len(messages)) * 3 // 4
            text = render()
        return text

    def close_by_person(self, user_id: int, ticket_id: int) -> bool:
        """The person closes their ticket; False for someone else's or an unknown ticket."""
        now = self.clock()
        with self.db.session() as session:
            ticket = _get(session, Ticket, ticket_id)
            if ticket is None or ticket.user_id != user_id:
                return False
            if ticket.status != CLOSED:
                ticket.status = CLOSED
                ticket.closed_at = now
                self._changed(session, ticket, now)
                self._post(session, ticket, say(self.lang, "staff_closed_by_person",
                                                number=ticket.id), now)
            return True

    def ask_rating(self, user_id: int, ticket_id: int) -> bool:
        """Whether to ask the person now how their closed ticket ``ticket_id`` went (once
        per ticket: :meth:`_to_ask`)."""
        now = self.clock()
        with self.db.session() as session:
            ticket = _get(session, Ticket, ticket_id)
            return ticket is not None and ticket.user_id == user_id and \
                ticket.status == CLOSED and self._to_ask(ticket, now)

    @staticmethod
    def _to_ask(ticket: Ticket, now: datetime) -> bool:
        """Whether the person is to be asked how ``ticket`` went: not rated, and not asked
        before (it was closed, reopened and closed again); True counts them asked."""
        if ticket.rating is not None or ticket.rating_asked_at is not None:
            return False
        ticket.rating_asked_at = now
        return True

    def rate(self, user_id: int, ticket_id: int, good: bool) -> bool:
        """The person's 👍 / 👎 for their closed ticket, once; False otherwise."""
        now = self.clock()
        with self.db.session() as session:
            ticket = _get(session, Ticket, ticket_id)
            if ticket is None or ticket.user_id != user_id or ticket.status != CLOSED \
                    or ticket.rating is not None:
                return False
            ticket.rating, ticket.rated_at = (1 if good else -1), now
            self._post(session, ticket, say(self.lang, "staff_rated", number=ticket.id,
                                            vote="👍" if good else "👎"), now)
            self._changed(session, ticket, now)
            return True

    def want_comment(self, user_id: int, ticket_id: int) -> bool:
        """The person will write a comment on their rating next; False if they may not."""
        now = self.clock()
        with self.db.session() as session:
            ticket = _get(session, Ticket, ticket_id)
            if ticket is None or ticket.user_id != user_id or ticket.rating is None \
                    or ticket.rating_comment is not None:
                return False
            ticket.comment_wanted_at = now
            return True

    def take_comment(self, user_id: int, text: str) -> int | None:
        """Keep ``text`` as the comment the person said they would write; the ticket's
        number, or None when no comment is awaited."""
        now = self.clock()
        with self.db.session() as session:
            ticket = session.scalar(select(Ticket).where(
                Ticket.user_id == user_id, Ticket.comment_wanted_at.is_not(None),
                Ticket.rating_comment.is_(None)).order_by(Ticket.comment_wanted_at.desc())
                .limit(1))
            if ticket is None or ticket.comment_wanted_at is None or \
                    now - as_utc(ticket.comment_wanted_at) > COMMENT_WINDOW:
                return None
            ticket.rating_comment = text
            ticket.comment_wanted_at = None
            self._post(session, ticket, say(self.lang, "staff_rating_comment", number=ticket.id,
                                            text=shorten(text, MAX_CARD_QUESTION)), now,
                       RATING_COMMENT)
            return ticket.id

    def edited(self, user_id: int, chat_id: int, message_id: int, text: str | None) -> bool:
        """The person edited a message the staff have (a copy of): edit the copy, marked
        edited. False when the message is no ticket's, or its ticket is closed (its
        question stays the one the staff answered)."""
        text = clean(text) if text is not None else None
        now = self.clock()
        with self.db.session() as session:
            message = session.scalar(select(TicketMessage).where(
                TicketMessage.chat_id == chat_id, TicketMessage.message_id == message_id,
                TicketMessage.direction == "person", TicketMessage.author_id == user_id))
            ticket = _get(session, Ticket, message.ticket_id) if message else None
            if message is None:
                return self._question_edited(session, user_id, chat_id, message_id, text, now)
            # A closed ticket keeps the question its answer was for.
            if ticket is None or ticket.staff_chat_id is None or ticket.status == CLOSED:
                return False
            message.text, message.edited_at = text, now
            if message.relay_id is None:  # waiting to be posted: posted as it is now
                return True
            relay = session.get(OutboxItem, message.relay_id)
            if relay is not None and relay.purpose == FOLLOWUPS:
                together = list(session.scalars(
                    select(TicketMessage).where(TicketMessage.relay_id == relay.id)
                    .order_by(TicketMessage.id)))
                enqueue(session, chat_id=ticket.staff_chat_id,
                        intent=Edit(self._followups_text(ticket, together), copy_of=relay.id),
                        purpose=RELAY_EDIT, ticket_id=ticket.id, now=now)
                return True
            intent: Edit | EditCaption
            if message.kind in (None, "text"):
                intent = Edit(say(self.lang, "staff_edited",
                                  text=shorten(text or "", MAX_TEXT - HEADER_ROOM)),
                              copy_of=message.relay_id)
            else:
                intent = EditCaption(say(self.lang, "staff_edited",
                                         text=shorten(text or "", MAX_CAPTION - HEADER_ROOM)),
                                     copy_of=message.relay_id)
            if message.relay_id == self._first_relay(session, ticket):
                ticket.question = text or ticket.question
                ticket.question_edited_at = now
                self._changed(session, ticket, now)
            enqueue(session, chat_id=ticket.staff_chat_id, intent=intent, purpose=RELAY_EDIT,
                    ticket_id=ticket.id, now=now)
            return True

    def _question_edited(self, session: Session, user_id: int, chat_id: int, message_id: int,
                         text: str | None, now: datetime) -> bool:
        """The person edited the text that became their ticket's question: the post shows
        the new question, marked edited."""
        ticket = session.scalar(select(Ticket).where(
            Ticket.user_id == user_id, Ticket.chat_id == chat_id,
            Ticket.question_message_id == message_id))
        question = _ASK.sub("", text or "").strip()
        if (ticket is None or ticket.status == CLOSED or not question
                or question == ticket.question):
            return False
        ticket.question, ticket.question_edited_at = question, now
        self._changed(session, ticket, now)
        return True

    @staticmethod
    def _first_relay(session: Session, ticket: Ticket) -> int | None:
        """The copy of the message that opened the ticket (a photo with its caption...)."""
        return session.scalar(select(func.min(TicketMessage.relay_id)).where(
            TicketMessage.ticket_id == ticket.id, TicketMessage.direction == "person",
            TicketMessage.created_at <= ticket.created_at))

    # --- the staff's side ------------------------------------------------

    def ticket_of(self, message: StaffMessage) -> int | None:
        """The ticket a staff message belongs to: its forum topic, or the post it replies to."""
        with self.db.session() as session:
            if message.thread_id is not None:
                found = session.scalar(select(Ticket.id).where(
                    Ticket.staff_chat_id == message.chat_id,
                    Ticket.staff_thread_id == message.thread_id))
                if found is not None:
                    return found
            if message.reply_to is None:
                return None
            found = session.scalar(select(Ticket.id).where(
                Ticket.staff_chat_id == message.chat_id,
                Ticket.staff_message_id == message.reply_to))
            if found is not None:
                return found
            return session.scalar(select(OutboxItem.ticket_id).where(
                OutboxItem.chat_id == message.chat_id,
                OutboxItem.sent_message_id == message.reply_to,
                OutboxItem.ticket_id.is_not(None),
                OutboxItem.purpose != STAFF_REPLY).limit(1))  # /history's answer: no ticket

    def ticket_at(self, chat_id: int, message_id: int) -> int | None:
        """The ticket whose post in the staff chat is ``message_id``."""
        with self.db.session() as session:
            return session.scalar(select(Ticket.id).where(Ticket.staff_chat_id == chat_id,
                                                          Ticket.staff_message_id == message_id))

    def answer(self, ticket_id: int, staff: StaffMember, message: StaffMessage) -> Outcome:
        """Queue the staff member's message for the person; the ticket becomes answered.

        An answer in the staff's own words means no FAQ entry answered the question: it
        is kept as an out-of-scope question (:func:`bot.learning.hand_on`) until an
        admin links the answer to an entry."""
        def deliver(session: Session, ticket: Ticket, now: datetime) -> None:
            self._deliver(session, ticket, message, now)
            if ticket.entry_id is None:
                learning.hand_on_in(session, text=ticket.question, language=ticket.language,
                                    user_id=ticket.user_id, source=learning.STAFF,
                                    ticket_id=ticket.id)
        return self._answer(ticket_id, staff, message.text, message, deliver)

    def answer_with(self, ticket_id: int, staff: StaffMember, body: Callable[[str], Html],
                    entry_id: str | None = None, *, chosen_at: tuple[int, int]) -> Outcome:
        """Send ``body(language)`` (a FAQ entry's answer, a saved reply) to the person.

        ``chosen_at`` (chat id, message id) is the staff-chat message the answer was
        chosen from: an answer is sent once per such message, however often its
        buttons are pressed. With ``entry_id`` the ticket is linked to that FAQ entry,
        so that the person's question can become a phrasing of it (after an admin's
        approval)."""
        def deliver(session: Session, ticket: Ticket, now: datetime) -> None:
            self._deliver_text(session, ticket, body(ticket.language), now)
            if entry_id is not None:
                ticket.entry_id = entry_id
                learning.not_handed_on_in(session, ticket.id)
        return self._answer(ticket_id, staff, None, None, deliver, compose=body,
                            chosen_at=chosen_at)

    def _answer(self, ticket_id: int, staff: StaffMember, text: str | None,
                message: StaffMessage | None,
                deliver: Callable[[Session, Ticket, datetime], None],
                compose: Callable[[str], Html] | None = None,
                chosen_at: tuple[int, int] | None = None) -> Outcome:
        now = self.clock()
        with self.db.session() as session:
            ticket = _get(session, Ticket, ticket_id, lock=True)
            if ticket is None:
                return self._unknown(ticket_id)
            if ticket.status == CLOSED:
                return Outcome(False, say(self.lang, "staff_is_closed", number=ticket.id))
            source = (message.chat_id, message.message_id) if message else chosen_at
            if source is not None and session.scalar(select(TicketMessage.id).where(
                    TicketMessage.ticket_id == ticket.id, TicketMessage.direction == "staff",
                    TicketMessage.chat_id == source[0],
                    TicketMessage.message_id == source[1]).limit(1)) is not None:
                return Outcome(False, say(self.lang, "staff_already_sent", number=ticket.id))
            if compose is not None:
                text = plain(compose(ticket.language))
            session.add(TicketMessage(
                ticket_id=ticket.id, direction="staff", author_id=staff.id,
                author_name=staff.name, text=text, kind=message.kind if message else "text",
                file_id=message.file_id if message else None,
                chat_id=source[0] if source else ticket.staff_chat_id or 0,
                message_id=source[1] if source else 0, created_at=now))
            deliver(session, ticket, now)
            ticket.status = ANSWERED
            ticket.answered_at = now
            if ticket.claimed_by is None:
                ticket.claimed_by, ticket.claimed_by_name = staff.id, staff.name
            self._changed(session, ticket, now)
            return Outcome(True, say(self.lang, "staff_sent", number=ticket.id))

    def _close_button(self, ticket: Ticket) -> list[list[list[Any]]]:
        lang = ticket.language
        return buttons_to_json(((Button(phrases.raw(lang, "ticket_close_button"),
                                        CloseTicket(lang, ticket.id)),),))

    def _deliver_text(self, session: Session, ticket: Ticket, body: Html | str,
                      now: datetime) -> None:
        """Queue a text answer, the close button under it: one message, or when too long
        the header then the answer in as many pieces as it takes (a FAQ answer given with
        /faq can be longer than a message)."""
        lang = ticket.language
        parts: list[str]
        if len(body) + HEADER_ROOM <= MAX_TEXT:
            parts = [say(lang, "ticket_answer", number=ticket.id, text=body)]
        else:
            parts = [say(lang, "ticket_answer", number=ticket.id, text=""), *split(escape(body))]
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            enqueue(session, chat_id=ticket.chat_id,
                    intent=Deliver(text=part,
                                   buttons=self._close_button(ticket) if last else []),
                    purpose=DELIVERY, ticket_id=ticket.id, now=now)

    def _deliver(self, session: Session, ticket: Ticket, message: StaffMessage,
                 now: datetime) -> None:
        lang = ticket.language
        if message.kind == "text":
            self._deliver_text(session, ticket, message.text or "", now)
            return
        caption = None
        if message.kind in CAPTIONED:
            caption = say(lang, "ticket_answer", number=ticket.id,
                          text=shorten(message.text or "", MAX_CAPTION - HEADER_ROOM))
        else:
            enqueue(session, chat_id=ticket.chat_id,
                    intent=Deliver(text=say(lang, "ticket_answer", number=ticket.id, text="")),
                    purpose=DELIVERY, ticket_id=ticket.id, now=now)
        enqueue(session, chat_id=ticket.chat_id,
                intent=Deliver(from_chat=message.chat_id, message_id=message.message_id,
                               caption=caption, buttons=self._close_button(ticket)),
                purpose=DELIVERY, ticket_id=ticket.id, now=now)

    def undelivered(self, session: Session, ticket_id: int, error: str,
                    why: str | None) -> None:
        """An answer to the person of ``ticket_id`` that Telegram refused for good, in the
        transaction that gives it up (:meth:`bot.outbox.Outbox.give_up`): the staff are told
        why under the ticket (``why``: the person blocked the bot...; None: Telegram's
        ``error``), and an answered ticket is open again, no longer answered, unless another
        answer is still on its way to the person."""
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            return
        now = self.clock()
        reason = say(self.lang, f"staff_undelivered_{why}") if why is not None else \
            say(self.lang, "staff_undelivered_refused", error=error[:200])
        text = say(self.lang, "staff_undeliverable", number=ticket.id, why=reason)
        waiting = session.scalar(select(OutboxItem.id).where(
            OutboxItem.ticket_id == ticket.id, OutboxItem.purpose == DELIVERY,
            OutboxItem.status == "pending").limit(1))
        if ticket.status == ANSWERED and waiting is None:
            ticket.status = OPEN
            ticket.answered_at = None
            self._changed(session, ticket, now)
            text = Html(text + " " + say(self.lang, "staff_undelivered_open"))
        self._post(session, ticket, text, now)

    def claim(self, ticket_id: int, staff: StaffMember) -> Outcome:
        """The staff member takes the ticket; its post shows who."""
        now = self.clock()
        with self.db.session() as session:
            ticket = _get(session, Ticket, ticket_id)
            if ticket is None:
                return self._unknown(ticket_id)
            if ticket.claimed_by != staff.id:
                ticket.claimed_by, ticket.claimed_by_name = staff.id, staff.name
                self._changed(session, ticket, now)
            return Outcome(True, say(self.lang, "staff_claimed", number=ticket.id,
                                     name=shown_name(staff.name)))

    def close(self, ticket_id: int, staff: StaffMember) -> Outcome:
        """The staff close the ticket; the person is told."""
        now = self.clock()
        with self.db.session() as session:
            ticket = _get(session, Ticket, ticket_id)
            if ticket is None:
                return self._unknown(ticket_id)
            if ticket.status == CLOSED:
                return Outcome(False, say(self.lang, "staff_is_closed", number=ticket.id))
            ticket.status = CLOSED
            ticket.closed_at = now
            self._changed(session, ticket, now)
            self._tell_person(session, ticket, "ticket_closed_by_staff", now,
                              rating=self._to_ask(ticket, now))
            return Outcome(True, say(self.lang, "staff_closed", number=ticket.id,
                                     name=shown_name(staff.name)))

    def reopen(self, ticket_id: int, staff: StaffMember) -> Outcome:
        """Open a closed ticket again; the person's messages go to it again, unless they
        have a newer ticket open (their messages go to their newest). Not for a banned
        person (their messages go nowhere)."""
        now = self.clock()
        with self.db.session() as session:
            ticket = _get(session, Ticket, ticket_id)
            if ticket is None:
                return self._unknown(ticket_id)
            if ticket.status != CLOSED:
                return Outcome(False, say(self.lang, "staff_not_closed", number=ticket.id))
            if session.get(Ban, ticket.user_id) is not None:
                return Outcome(False, say(self.lang, "staff_reopen_banned", number=ticket.id))
            ticket.status = ANSWERED if ticket.answered_at else OPEN
            ticket.closed_at = None
            self._changed(session, ticket, now)
            newer = session.scalar(select(func.max(Ticket.id)).where(
                Ticket.user_id == ticket.user_id, Ticket.status.in_(ACTIVE),
                Ticket.id > ticket.id))
            if newer is not None:
                self._tell_person(session, ticket, "ticket_reopened_elsewhere", now,
                                  other=newer)
                return Outcome(True, say(self.lang, "staff_reopened_elsewhere",
                                         number=ticket.id, other=newer))
            self._tell_person(session, ticket, "ticket_reopened", now)
            return Outcome(True, say(self.lang, "staff_reopened", number=ticket.id))

    def suggest_faq(self, ticket_id: int, staff: StaffMember) -> Outcome:
        """Store the question with the staff's answer as a FAQ suggestion for the admins."""
        now = self.clock()
        with self.db.session() as session:
            ticket = _get(session, Ticket, ticket_id)
            if ticket is None:
                return self._unknown(ticket_id)
            answers = session.scalars(select(TicketMessage.text).where(
                TicketMessage.ticket_id == ticket.id, TicketMessage.direction == "staff",
                TicketMessage.text.is_not(None)).order_by(TicketMessage.id)).all()
            answer = "\n\n".join(a for a in answers if a and a.strip())
            if not answer:
                return Outcome(False, say(self.lang, "staff_no_answer_yet", number=ticket.id))
            if session.scalar(select(FaqSuggestion.id).where(FaqSuggestion.ticket_id == ticket.id)):
                return Outcome(False, say(self.lang, "staff_already_suggested",
                                          number=ticket.id))
            best = ticket.guesses[0]["id"] if ticket.guesses else None
            session.add(FaqSuggestion(ticket_id=ticket.id, question=ticket.question,
                                      language=ticket.language, answer=answer, entry_id=best,
                                      status="pending", suggested_by=staff.id, created_at=now))
            return Outcome(True, say(self.lang, "staff_suggested", number=ticket.id))

    def note(self, ticket_id: int, staff: StaffMember, message: StaffMessage,
             text: str) -> Outcome:
        """Keep ``text`` on the ticket as a private note: nothing goes to the person."""
        text = clean(text)
        now = self.clock()
        with self.db.session() as session:
            ticket = _get(session, Ticket, ticket_id)
            if ticket is None:
                return self._unknown(ticket_id)
            if not text.strip():
                return Outcome(False, say(self.lang, "staff_note_usage"))
            session.add(TicketMessage(ticket_id=ticket.id, direction="note", author_id=staff.id,
                                      author_name=staff.name, text=text, kind="note",
                                      chat_id=message.chat_id, message_id=message.message_id,
                                      created_at=now))
            return Outcome(True, say(self.lang, "staff_noted", number=ticket.id))

    def history(self, ticket_id: int) -> Html:
        """The person's other tickets, newest first: number, date, outcome, first line."""
        with self.db.session() as session:
            ticket = _get(session, Ticket, ticket_id)
            if ticket is None:
                return self._unknown(ticket_id).text
            others = session.scalars(select(Ticket).where(
                Ticket.user_id == ticket.user_id, Ticket.id != ticket.id)
                .order_by(Ticket.id.desc()).limit(MAX_HISTORY)).all()
            if not others:
                return say(self.lang, "staff_history_none", number=ticket.id)
            lines = [say(self.lang, "staff_history_header", number=ticket.id)]
            for other in others:
                vote = {1: " 👍", -1: " 👎"}.get(other.rating or 0, "")
                first = (other.question.strip().splitlines() or [""])[0]
                lines.append(say(
                    self.lang, "staff_history_line", number=other.id,
                    date=as_utc(other.created_at).strftime("%d.%m.%Y"),
                    status=Html(escape(phrases.raw(self.lang, f"status_{other.status}")) + vote),
                    question=shorten(first, 60)))
            return Html("\n".join(lines))

    # --- assignment -------------------------------------------------------

    def seen(self, staff: StaffMember, username: str | None) -> None:
        """Remember a staff member's @username (for ``/assign N @username``)."""
        now = self.clock()
        with self.db.session() as session:
            known = session.get(StaffContact, staff.id)
            name = username.lower() if username else None
            if known is None:
                session.add(StaffContact(user_id=staff.id, username=name, name=staff.name,
                                         seen_at=now))
            else:
                known.username, known.name, known.seen_at = name, staff.name, now

    def staff_named(self, username: str) -> StaffMember | None:
        """The staff member seen with ``@username``, if any."""
        with self.db.session() as session:
            known = session.scalar(select(StaffContact).where(
                StaffContact.username == username.lstrip("@").lower()))
            return StaffMember(known.user_id, known.name or username) if known else None

    def assign(self, ticket_id: int, to: StaffMember | None, by: StaffMember) -> Outcome:
        """Give the ticket to ``to`` (None: to nobody); its post shows who has it."""
        now = self.clock()
        with self.db.session() as session:
            ticket = _get(session, Ticket, ticket_id)
            if ticket is None:
                return self._unknown(ticket_id)
            ticket.claimed_by = to.id if to else None
            ticket.claimed_by_name = to.name if to else None
            self._changed(session, ticket, now)
            if to is None:
                return Outcome(True, say(self.lang, "staff_unassigned", number=ticket.id,
                                         by=shown_name(by.name)))
            return Outcome(True, say(self.lang, "staff_assigned", number=ticket.id,
                                     name=shown_name(to.name), by=shown_name(by.name)))

    def mine(self, staff: StaffMember) -> Listing:
        """The tickets that are ``staff``'s and not closed (for /mine)."""
        return self._listing(Ticket.claimed_by == staff.id, "staff_mine_none",
                             "staff_mine_header")

    # --- saved replies ----------------------------------------------------

    def save_reply(self, name: str, text: str | None, by: StaffMember) -> Outcome:
        """Keep ``text`` as the saved reply ``name`` (replacing one of that name)."""
        text = clean(text) if text is not None else None
        if not SAVED_NAME.match(name) or not (text or "").strip():
            return Outcome(False, say(self.lang, "staff_save_usage"))
        assert text is not None
        now = self.clock()
        with self.db.session() as session:
            saved = session.scalar(select(SavedReply).where(SavedReply.name == name.lower()))
            if saved is None:
                session.add(SavedReply(name=name.lower(), text=text, created_by=by.id,
                                       created_at=now))
            else:
                saved.text, saved.created_by, saved.created_at = text, by.id, now
        return Outcome(True, say(self.lang, "staff_saved", name=name.lower()))

    def saved_replies(self) -> list[tuple[int, str, str]]:
        """The saved replies: id, name, text (by name)."""
        with self.db.session() as session:
            return [(r.id, r.name, r.text) for r in
                    session.scalars(select(SavedReply).order_by(SavedReply.name))]

    def answer_saved(self, ticket_id: int, staff: StaffMember, saved_id: int, *,
                     chosen_at: tuple[int, int]) -> Outcome:
        """Send the saved reply ``saved_id`` to the ticket's person (once per ``chosen_at``,
        as :meth:`answer_with`)."""
        with self.db.session() as session:
            saved = session.get(SavedReply, saved_id) if 0 < saved_id < 2**31 else None
            text = saved.text if saved else None
        if text is None:
            return Outcome(False, say(self.lang, "staff_no_saved"))
        return self.answer_with(ticket_id, staff, lambda lang: escape(text),
                                chosen_at=chosen_at)

    # --- the staff chat moves ----------------------------------------------

    def move_chat(self, old: int, new: int) -> bool:
        """The staff chat ``old`` is now ``new`` (a group upgraded to a supergroup).

        Its tickets follow: those not closed are posted again in the new chat
        (the old posts cannot be replied to there), calls waiting for the old
        chat go to the new one, and the admins are told to update the config.
        Told again (Telegram refusing a call to the old id), what is still
        addressed to the old chat moves, without telling anyone. True the first
        time."""
        if old == new:
            return False
        now = self.clock()
        with self.db.session() as session:
            known = session.get(StaffChatMove, old)
            new = known.new_chat_id if known is not None else new
            # Posts and their edits are made again in the new chat; the rest go there.
            session.execute(update(OutboxItem).where(
                OutboxItem.chat_id == old, OutboxItem.status == "pending",
                OutboxItem.purpose.in_((TICKET_EDIT, TICKET_POST, TICKET_TOPIC)))
                .values(status="failed", last_error="the staff chat moved"))
            session.execute(update(OutboxItem).where(
                OutboxItem.chat_id == old, OutboxItem.status == "pending")
                .values(chat_id=new))
            if known is None:
                session.add(StaffChatMove(old_chat_id=old, new_chat_id=new, moved_at=now))
            # Tickets still there (another worker opened them before it knew) follow too.
            self._follow(session, old, new, now, tell=known is None)
        self.moves[old] = new
        return known is None

    def _follow(self, session: Session, old: int, new: int, now: datetime,
                tell: bool = True) -> None:
        """Post the tickets of the chat ``old`` again in ``new``; ``tell`` the admins."""
        if old in self.forums:
            self.forums.add(new)
        for ticket in session.scalars(select(Ticket).where(Ticket.staff_chat_id == old)
                                      .order_by(Ticket.id)):
            ticket.staff_chat_id = new
            ticket.staff_message_id = ticket.staff_thread_id = None
            if ticket.status != CLOSED:
                self._post_card(session, ticket, now)
        if not tell:
            return
        text = say(self.lang, "staff_chat_moved", old=old, new=new)
        for chat_id in (new, *sorted(self.admins)):
            enqueue(session, chat_id=chat_id, intent=Say(text), purpose=NOTICE, now=now)

    def person_of(self, ticket_id: int) -> int | None:
        with self.db.session() as session:
            ticket = _get(session, Ticket, ticket_id)
            return ticket.user_id if ticket else None

    def ban(self, user_id: int, staff: StaffMember) -> Outcome:
        """No more tickets from ``user_id``; their open tickets are closed. The answer names
        the person banned (name and id), so that staff see whom they banned."""
        now = self.clock()
        with self.db.session() as session:
            if session.get(Ban, user_id) is None:
                session.add(Ban(user_id=user_id, banned_by=staff.id, created_at=now))
            for ticket in session.scalars(select(Ticket).where(Ticket.user_id == user_id,
                                                               Ticket.status.in_(ACTIVE))):
                ticket.status = CLOSED
                ticket.closed_at = now
                self._changed(session, ticket, now)
            who = self._person(session, user_id)
        return Outcome(True, say(self.lang, "staff_banned", who=who))

    def unban(self, user_id: int, staff: StaffMember) -> Outcome:
        with self.db.session() as session:
            who = self._person(session, user_id)
            ban = session.get(Ban, user_id)
            if ban is None:
                return Outcome(False, say(self.lang, "staff_not_banned", who=who))
            session.delete(ban)
        return Outcome(True, say(self.lang, "staff_unbanned", who=who))

    def listing(self) -> Listing:
        """The open tickets, oldest first, with their age and who claimed them (for /open)."""
        return self._listing(None, "staff_none_open", "staff_open_header")

    def _listing(self, condition: Any, empty: str, header: str) -> Listing:
        now = self.clock()
        query = select(Ticket).where(Ticket.status.in_(ACTIVE))
        if condition is not None:
            query = query.where(condition)
        with self.db.session() as session:
            tickets = session.scalars(query.order_by(Ticket.created_at, Ticket.id)).all()
        if not tickets:
            return Listing(say(self.lang, empty))
        lines = [say(self.lang, header, count=len(tickets))]
        for ticket in tickets:
            lines.append(say(
                self.lang, "staff_open_line", number=ticket.id,
                age=_age(now - as_utc(ticket.created_at)),
                status=phrases.raw(self.lang, f"status_{ticket.status}"),
                claimed=_claimer(ticket, self.lang),
                question=shorten(ticket.question, 60)))
        return Listing(Html("\n".join(lines)), frozenset(
            {t.user_id for t in tickets} | {t.claimed_by for t in tickets if t.claimed_by}))

    def after_forget(self, done: Forgotten) -> int:
        """Queue the changes to the staff chat a forget calls for: the posts of the tickets
        a forgotten staff member handled show the pseudonym; the posts of a forgotten
        person's tickets, and their topics' names, keep only the ticket's number, and the
        copies of their messages are deleted (Telegram allows it for 48 hours). Returns
        how many calls were queued."""
        now = self.clock()
        queued = 0
        with self.db.session() as session:
            for ticket in session.scalars(select(Ticket).where(
                    Ticket.id.in_(sorted(done.tickets)), Ticket.staff_message_id.is_not(None))):
                self._changed(session, ticket, now)
                queued += 1
            calls: list[tuple[int, Intent]] = [(chat_id, Delete(copy_id))
                                               for chat_id, copy_id in done.copies]
            for number, chat_id, post_id, topic_id in done.posts:
                calls += [(chat_id, intent) for intent
                          in forgotten_ticket(self.lang, number, post_id, topic_id)]
            for chat_id, intent in calls:
                enqueue(session, chat_id=chat_id, intent=intent, purpose=FORGET, now=now)
        return queued + len(calls)

    # --- bookkeeping -----------------------------------------------------

    def remind(self) -> int:
        """Announce again each ticket still waiting for the staff after ``remind_after``
        of working time (once per period); returns how many were announced."""
        now = self.clock()
        period = self.staff.remind_after
        count = 0
        with self.db.session() as session:
            for ticket in session.scalars(select(Ticket).where(Ticket.status == OPEN,
                                                               Ticket.staff_chat_id.is_not(None))
                                          .order_by(Ticket.id)):
                last = as_utc(ticket.reminded_at or ticket.created_at)
                if self.hours.between(last, now) < period:
                    continue
                ticket.reminded_at = now
                self._post(session, ticket, say(
                    self.lang, "staff_reminder", number=ticket.id,
                    age=_age(now - as_utc(ticket.created_at)),
                    claimed=_claimer(ticket, self.lang)), now,
                    naming=[ticket.claimed_by] if ticket.claimed_by is not None else [])
                count += 1
        return count

    def forget_old(self) -> None:
        """Drop drafts nobody needs any more."""
        now = self.clock()
        with self.db.session() as session:
            session.execute(delete(TicketDraft)
                            .where(TicketDraft.created_at < now - DRAFT_LIFETIME))

    # --- the ticket's post ------------------------------------------------

    def card(self, ticket: Ticket) -> tuple[Html, Buttons]:
        """The ticket's post in the staff chat and its buttons."""
        lang = self.lang
        guesses = "\n".join(say(lang, "staff_guess", question=shorten(g["question"], 80),
                                score=g["score"]) for g in ticket.guesses) or \
            phrases.raw(lang, "staff_no_guesses")
        claimed = say(lang, "staff_card_claimed", name=_claimer(ticket, lang)) \
            if ticket.claimed_by_name else ""
        if ticket.entry_id:
            claimed = Html(claimed + say(lang, "staff_card_entry", entry=ticket.entry_id))
        if ticket.rating is not None:
            claimed = Html(claimed + say(lang, "staff_card_rating",
                                         vote="👍" if ticket.rating > 0 else "👎"))
        question = escape(shorten(ticket.question, MAX_CARD_QUESTION))
        if ticket.question_edited_at is not None:
            question = Html(say(lang, "staff_edited_mark") + " " + question)
        text = say(lang, "staff_card", number=ticket.id,
                   status=phrases.raw(lang, f"status_{ticket.status}"), who=self._who(ticket),
                   language=phrases.LANGUAGE_NAMES.get(ticket.language, ticket.language),
                   question=question, guesses=Html(guesses), claimed=claimed)
        number = ticket.id
        buttons: Buttons = ()
        if ticket.status != CLOSED:
            buttons += ((Button(phrases.raw(lang, "staff_claim_button"),
                                TicketAction("claim", number)),
                         Button(phrases.raw(lang, "staff_close_button"),
                                TicketAction("close", number))),)
        if ticket.status != CLOSED or ticket.answered_at is not None:
            buttons += ((Button(phrases.raw(lang, "staff_faq_button"),
                                TicketAction("faq", number)),),)
        return text, buttons

    def _who(self, ticket: Ticket) -> str:
        """The person as the staff see them: name and id, or only an alias when anonymous."""
        if self.staff.anonymous:
            return phrases.raw(self.lang, "staff_alias").format(number=ticket.id)
        return _named(ticket.person_name, ticket.user_id)

    def _person(self, session: Session, user_id: int) -> str:
        """The person in a line to the staff: the name they last used and their id, never
        shown in anonymous mode."""
        if self.staff.anonymous:
            return phrases.raw(self.lang, "staff_the_person")
        name = session.scalar(select(Ticket.person_name)
                              .where(Ticket.user_id == user_id, Ticket.person_name.is_not(None))
                              .order_by(Ticket.id.desc()).limit(1))
        if name is None:
            name = session.scalar(select(Person.display_name)
                                  .where(Person.telegram_user_id == user_id))
        return _named(name, user_id)

    def _changed(self, session: Session, ticket: Ticket, now: datetime) -> None:
        """Queue the edit of the ticket's post to show its new state (or a new post when
        it has none and none is on its way)."""
        ticket.updated_at = now
        if ticket.staff_chat_id is None:
            return
        if ticket.staff_message_id is None and session.scalar(select(OutboxItem.id).where(
                OutboxItem.ticket_id == ticket.id, OutboxItem.purpose == TICKET_POST,
                OutboxItem.chat_id == ticket.staff_chat_id,
                OutboxItem.status.in_(("pending", "sent"))).limit(1)) is None:
            # Its post is gone (the chat moved, or Telegram refused it): post it again.
            self._post_card(session, ticket, now)
            return
        text, buttons = self.card(ticket)
        enqueue(session, chat_id=ticket.staff_chat_id,
                intent=UpdateTicket(text, buttons_to_json(buttons)), purpose=TICKET_EDIT,
                ticket_id=ticket.id, now=now)

    @staticmethod
    def _post(session: Session, ticket: Ticket, text: Html, now: datetime,
              purpose: str = STAFF_NOTE, naming: Collection[int] = ()) -> None:
        """Queue a line about ``ticket`` in the staff chat, under its post (``naming``: the
        staff members it names, whose forget deletes it)."""
        if ticket.staff_chat_id is None:
            return
        enqueue(session, chat_id=ticket.staff_chat_id, intent=NoteOnTicket(text),
                purpose=purpose, ticket_id=ticket.id, now=now, naming=naming)

    @staticmethod
    def _tell_person(session: Session, ticket: Ticket, phrase: str, now: datetime,
                     rating: bool = False, **values: Any) -> None:
        """Queue a notice about ``ticket`` to the person, in their language (with ``rating``:
        asking how it went, with 👍 / 👎; ``values``: the phrase's other blanks)."""
        text = say(ticket.language, phrase, number=ticket.id, **values)
        notice = Say(text)
        if rating:
            notice = Say(text + "\n\n" + say(ticket.language, "rating_ask"),
                         buttons_to_json(rating_buttons(ticket.language, ticket.id)))
        enqueue(session, chat_id=ticket.chat_id, intent=notice, purpose=NOTICE,
                ticket_id=ticket.id, now=now)

    def _unknown(self, ticket_id: int) -> Outcome:
        return Outcome(False, say(self.lang, "staff_no_such_ticket", number=ticket_id))


Row = TypeVar("Row", Ticket, TicketDraft)


def _get(session: Session, model: type[Row], key: int, *, lock: bool = False) -> Row | None:
    """The row with the integer id ``key``; None for ids no row can have (a forged button
    or command with a huge number must not reach the database as an error). ``lock``:
    held until the session ends (the row on PostgreSQL, the whole database on SQLite),
    so that two workers or threads acting on one ticket take turns."""
    if not 0 < key < 2**31:
        return None
    if lock and session.get_bind().dialect.name == "sqlite":
        # Two looks at once would otherwise both post the same follow-ups.
        write_lock_first(session)
        return session.get(model, key, populate_existing=True)
    return session.get(model, key, with_for_update=lock)


def _named(name: str | None, user_id: int) -> str:
    """``Ana (id 4001)``: a person as the staff see them."""
    return f"{shown_name(name)} (id {user_id})"


def _claimer(ticket: Ticket, lang: str) -> str:
    """Who claimed ``ticket``, as the staff see it."""
    if ticket.claimed_by_name is None:
        return phrases.raw(lang, "staff_unclaimed")
    return shown_name(ticket.claimed_by_name)


def _age(delta: timedelta) -> str:
    """``3d 4h``, ``2h 05m`` or ``7m``."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"
