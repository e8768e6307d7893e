"""Questions handed to the staff: from the person's question to the staff's answer.

A ticket is opened when a person accepts the offer to ask the staff (or
sends ``/ask TEXT``); it is stored, with its post for the staff chat queued
in the outbox in the same transaction, before the person is told its
number. The staff answer by replying to the ticket's post (or in its forum
topic); each answer is queued for delivery to the person and the ticket
becomes ``answered``. The person's further messages go to the same ticket
until it is closed (by the person's button or by the staff).

Nothing here talks to Telegram: the staff chat and the person's chat are
reached only through :mod:`bot.outbox`, whose calls are Bot API calls
described as data. Who is staff is decided by the Telegram layer (members
of the staff chat) and :meth:`Tickets.is_admin` (the configured admins).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot import phrases
from bot.config import Config
from bot.outbox import DELIVERY, FORGET, TICKET_POST, TICKET_TOPIC, as_utc, enqueue, utcnow
from bot.phrases import Html, escape, say
from bot.storage import (Ban, Database, FaqSuggestion, OutboxItem, Person, Ticket,
                         TicketDraft, TicketMessage)
from bot.untrusted import clean, shown_name

if TYPE_CHECKING:
    from bot.privacy import Forgotten

OPEN, ANSWERED, CLOSED = "open", "answered", "closed"
ACTIVE = (OPEN, ANSWERED)
# The staff chat speaks the agency's language.
STAFF_LANGUAGE = phrases.DEFAULT_LANGUAGE
# How long an "ask the staff" button stays valid, and processed update ids are kept.
DRAFT_LIFETIME = timedelta(days=1)
# A 👎 refers to the question asked this recently (else to the FAQ entry's own question).
RECENT_QUESTION = timedelta(hours=1)
MAX_GUESSES = 3
MAX_CARD_QUESTION = 3000   # characters of the question shown on the ticket's post
MAX_CAPTION = 1024
MAX_TEXT = 4096
HEADER_ROOM = 100          # characters of "Answer from the staff (ticket #N)" before a text
MAX_TOPIC_NAME = 128
# Media whose copy can carry a caption (the ticket number goes there).
CAPTIONED = frozenset({"photo", "document", "video", "audio", "voice", "animation"})


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean(self.name))


@dataclass(frozen=True)
class StaffMessage:
    """A message in the staff chat, as far as tickets care."""

    chat_id: int
    message_id: int
    thread_id: int | None = None
    reply_to: int | None = None
    text: str | None = None   # the text, or the caption of a photo or document
    kind: str = "text"        # text, photo, document, video, ... or other

    def __post_init__(self) -> None:
        if self.text is not None:
            object.__setattr__(self, "text", clean(self.text))


@dataclass(frozen=True)
class Opened:
    """A new ticket's number, or why none was opened: disabled, banned, too_many, expired."""

    ticket_id: int | None = None
    refusal: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What a staff action did: ``ok`` and a line (HTML) to show the staff member."""

    ok: bool
    text: Html


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
        self.admins = frozenset(config.admins)
        self.clock = clock
        # Set by the Telegram layer once it knows: one forum topic per ticket.
        self.forum = False

    @property
    def enabled(self) -> bool:
        return self.staff.chat_id is not None

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admins

    # --- the person's side ----------------------------------------------

    def save_draft(self, user_id: int, question: str, lang: str,
                   guesses: list[dict[str, Any]]) -> int:
        """Keep a question the person may hand to the staff later; returns its id."""
        now = self.clock()
        with self.db.session() as session:
            draft = TicketDraft(user_id=user_id, question=question, language=lang,
                                guesses=guesses, created_at=now)
            session.add(draft)
            session.flush()
            return draft.id

    def recent_draft(self, user_id: int) -> int | None:
        """The person's last question, if it was asked within the last hour."""
        since = self.clock() - RECENT_QUESTION
        with self.db.session() as session:
            return session.scalar(select(TicketDraft.id)
                                  .where(TicketDraft.user_id == user_id,
                                         TicketDraft.created_at >= since)
                                  .order_by(TicketDraft.id.desc()).limit(1))

    def open_from_draft(self, user_id: int, name: str, draft_id: int) -> Opened:
        """Hand the draft ``draft_id`` to the staff (only its author may; only once)."""
        with self.db.session() as session:
            draft = _get(session, TicketDraft, draft_id)
            if draft is None or draft.user_id != user_id:
                return Opened(refusal="expired")
            opened = self._open(session, user_id, name, draft.question, draft.language,
                                draft.guesses)
            if opened.ticket_id is not None:
                session.delete(draft)
            return opened

    def open(self, user_id: int, name: str, question: str, lang: str,
             guesses: list[dict[str, Any]], message_id: int | None = None) -> Opened:
        """Open a ticket for ``question`` (``/ask``) and queue its post in the staff chat."""
        with self.db.session() as session:
            return self._open(session, user_id, name, question, lang, guesses, message_id)

    def _open(self, session: Session, user_id: int, name: str, question: str, lang: str,
              guesses: list[dict[str, Any]], message_id: int | None = None) -> Opened:
        chat_id = self.staff.chat_id
        if chat_id is None:
            return Opened(refusal="disabled")
        if session.get(Ban, user_id) is not None:
            return Opened(refusal="banned")
        now = self.clock()
        recent = session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.user_id == user_id, Ticket.created_at >= now - timedelta(hours=1)))
        if recent >= self.staff.max_tickets_per_hour:
            return Opened(refusal="too_many")
        ticket = Ticket(user_id=user_id, chat_id=user_id, person_name=name or None,
                        language=lang, question=question, guesses=guesses, status=OPEN,
                        question_message_id=message_id, staff_chat_id=chat_id,
                        created_at=now, updated_at=now)
        session.add(ticket)
        session.flush()
        if self.forum:
            title = phrases.raw(STAFF_LANGUAGE, "ticket_topic").format(
                number=ticket.id, name=self._who(ticket))
            enqueue(session, chat_id=chat_id, method="createForumTopic",
                    params={"name": _shorten(title, MAX_TOPIC_NAME)}, purpose=TICKET_TOPIC,
                    ticket_id=ticket.id, now=now)
        text, buttons = self.card(ticket)
        enqueue(session, chat_id=chat_id, method="sendMessage",
                params={"text": text, "parse_mode": "HTML", "buttons": buttons,
                        "in_ticket_topic": True},
                purpose=TICKET_POST, ticket_id=ticket.id, now=now)
        return Opened(ticket_id=ticket.id)

    def current(self, user_id: int) -> int | None:
        """The person's ticket that is not closed (their newest), if any."""
        with self.db.session() as session:
            return session.scalar(select(Ticket.id)
                                  .where(Ticket.user_id == user_id, Ticket.status.in_(ACTIVE))
                                  .order_by(Ticket.id.desc()).limit(1))

    def follow_up(self, user_id: int, chat_id: int, message_id: int,
                  text: str | None) -> tuple[int, str] | None:
        """Copy the person's message to their open ticket in the staff chat.

        Returns the ticket's number and language, or None when they have no open ticket."""
        now = self.clock()
        with self.db.session() as session:
            ticket = session.scalar(select(Ticket)
                                    .where(Ticket.user_id == user_id, Ticket.status.in_(ACTIVE))
                                    .order_by(Ticket.id.desc()).limit(1))
            if ticket is None or ticket.staff_chat_id is None:
                return None
            if session.get(Ban, user_id) is not None:
                return None
            session.add(TicketMessage(ticket_id=ticket.id, direction="person", author_id=user_id,
                                      author_name=ticket.person_name, text=text,
                                      chat_id=chat_id, message_id=message_id, created_at=now))
            enqueue(session, chat_id=ticket.staff_chat_id, method="copyMessage",
                    params={"from_chat_id": chat_id, "message_id": message_id,
                            "reply_to_ticket": True, "in_ticket_topic": True},
                    purpose="follow_up", ticket_id=ticket.id, now=now)
            if ticket.status != OPEN:
                ticket.status = OPEN
                self._changed(session, ticket, now)
            ticket.updated_at = now
            return ticket.id, ticket.language

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
                self._post(session, ticket, say(STAFF_LANGUAGE, "staff_closed_by_person",
                                                number=ticket.id), now)
            return True

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
                OutboxItem.ticket_id.is_not(None)).limit(1))

    def ticket_at(self, chat_id: int, message_id: int) -> int | None:
        """The ticket whose post in the staff chat is ``message_id``."""
        with self.db.session() as session:
            return session.scalar(select(Ticket.id).where(Ticket.staff_chat_id == chat_id,
                                                          Ticket.staff_message_id == message_id))

    def answer(self, ticket_id: int, staff: StaffMember, message: StaffMessage) -> Outcome:
        """Queue the staff member's message for the person; the ticket becomes answered."""
        now = self.clock()
        with self.db.session() as session:
            ticket = _get(session, Ticket, ticket_id)
            if ticket is None:
                return self._unknown(ticket_id)
            if ticket.status == CLOSED:
                return Outcome(False, say(STAFF_LANGUAGE, "staff_is_closed", number=ticket.id))
            session.add(TicketMessage(ticket_id=ticket.id, direction="staff", author_id=staff.id,
                                      author_name=staff.name, text=message.text,
                                      chat_id=message.chat_id, message_id=message.message_id,
                                      created_at=now))
            self._deliver(session, ticket, message, now)
            ticket.status = ANSWERED
            ticket.answered_at = now
            if ticket.claimed_by is None:
                ticket.claimed_by, ticket.claimed_by_name = staff.id, staff.name
            self._changed(session, ticket, now)
            return Outcome(True, say(STAFF_LANGUAGE, "staff_sent", number=ticket.id))

    def _deliver(self, session: Session, ticket: Ticket, message: StaffMessage,
                 now: datetime) -> None:
        lang = ticket.language
        close = [[[phrases.raw(lang, "ticket_close_button"), f"c:{lang}:{ticket.id}"]]]
        if message.kind == "text":
            body = message.text or ""
            if len(body) + HEADER_ROOM <= MAX_TEXT:
                parts = [say(lang, "ticket_answer", number=ticket.id, text=body)]
            else:
                parts = [say(lang, "ticket_answer", number=ticket.id, text=""), escape(body)]
            for index, part in enumerate(parts):
                last = index == len(parts) - 1
                enqueue(session, chat_id=ticket.chat_id, method="sendMessage",
                        params={"text": part, "parse_mode": "HTML",
                                "buttons": close if last else []},
                        purpose=DELIVERY, ticket_id=ticket.id, now=now)
            return
        copy: dict[str, Any] = {"from_chat_id": message.chat_id, "message_id": message.message_id,
                                "buttons": close}
        if message.kind in CAPTIONED:
            caption = _shorten(message.text or "", MAX_CAPTION - HEADER_ROOM)
            copy.update(caption=say(lang, "ticket_answer", number=ticket.id, text=caption),
                        parse_mode="HTML")
        else:
            enqueue(session, chat_id=ticket.chat_id, method="sendMessage",
                    params={"text": say(lang, "ticket_answer", number=ticket.id, text=""),
                            "parse_mode": "HTML"},
                    purpose=DELIVERY, ticket_id=ticket.id, now=now)
        enqueue(session, chat_id=ticket.chat_id, method="copyMessage", params=copy,
                purpose=DELIVERY, ticket_id=ticket.id, now=now)

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
            return Outcome(True, say(STAFF_LANGUAGE, "staff_claimed", number=ticket.id,
                                     name=shown_name(staff.name)))

    def close(self, ticket_id: int, staff: StaffMember) -> Outcome:
        """The staff close the ticket; the person is told."""
        now = self.clock()
        with self.db.session() as session:
            ticket = _get(session, Ticket, ticket_id)
            if ticket is None:
                return self._unknown(ticket_id)
            if ticket.status == CLOSED:
                return Outcome(False, say(STAFF_LANGUAGE, "staff_is_closed", number=ticket.id))
            ticket.status = CLOSED
            ticket.closed_at = now
            self._changed(session, ticket, now)
            self._tell_person(session, ticket, "ticket_closed_by_staff", now)
            return Outcome(True, say(STAFF_LANGUAGE, "staff_closed", number=ticket.id,
                                     name=shown_name(staff.name)))

    def reopen(self, ticket_id: int, staff: StaffMember) -> Outcome:
        """Open a closed ticket again; the person's messages go to it again."""
        now = self.clock()
        with self.db.session() as session:
            ticket = _get(session, Ticket, ticket_id)
            if ticket is None:
                return self._unknown(ticket_id)
            if ticket.status != CLOSED:
                return Outcome(False, say(STAFF_LANGUAGE, "staff_not_closed", number=ticket.id))
            ticket.status = ANSWERED if ticket.answered_at else OPEN
            ticket.closed_at = None
            self._changed(session, ticket, now)
            self._tell_person(session, ticket, "ticket_reopened", now)
            return Outcome(True, say(STAFF_LANGUAGE, "staff_reopened", number=ticket.id))

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
                return Outcome(False, say(STAFF_LANGUAGE, "staff_no_answer_yet", number=ticket.id))
            if session.scalar(select(FaqSuggestion.id).where(FaqSuggestion.ticket_id == ticket.id)):
                return Outcome(False, say(STAFF_LANGUAGE, "staff_already_suggested",
                                          number=ticket.id))
            best = ticket.guesses[0]["id"] if ticket.guesses else None
            session.add(FaqSuggestion(ticket_id=ticket.id, question=ticket.question,
                                      language=ticket.language, answer=answer, entry_id=best,
                                      status="pending", suggested_by=staff.id, created_at=now))
            return Outcome(True, say(STAFF_LANGUAGE, "staff_suggested", number=ticket.id))

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
        return Outcome(True, say(STAFF_LANGUAGE, "staff_banned", who=who))

    def unban(self, user_id: int, staff: StaffMember) -> Outcome:
        with self.db.session() as session:
            who = self._person(session, user_id)
            ban = session.get(Ban, user_id)
            if ban is None:
                return Outcome(False, say(STAFF_LANGUAGE, "staff_not_banned", who=who))
            session.delete(ban)
        return Outcome(True, say(STAFF_LANGUAGE, "staff_unbanned", who=who))

    def listing(self) -> Html:
        """The open tickets, oldest first, with their age and who claimed them (for /open)."""
        now = self.clock()
        with self.db.session() as session:
            tickets = session.scalars(select(Ticket).where(Ticket.status.in_(ACTIVE))
                                      .order_by(Ticket.created_at, Ticket.id)).all()
        if not tickets:
            return say(STAFF_LANGUAGE, "staff_none_open")
        lines = [say(STAFF_LANGUAGE, "staff_open_header", count=len(tickets))]
        for ticket in tickets:
            lines.append(say(
                STAFF_LANGUAGE, "staff_open_line", number=ticket.id,
                age=_age(now - as_utc(ticket.created_at)),
                status=phrases.raw(STAFF_LANGUAGE, f"status_{ticket.status}"),
                claimed=_claimer(ticket),
                question=_shorten(ticket.question, 60)))
        return Html("\n".join(lines))

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
            calls: list[tuple[int, str, dict[str, Any]]] = [
                (chat_id, "deleteMessage", {"message_id": copy_id})
                for chat_id, copy_id in done.copies]
            for number, chat_id, post_id, topic_id in done.posts:
                if post_id is not None:
                    calls.append((chat_id, "editMessageText", {
                        "text": say(STAFF_LANGUAGE, "staff_card_forgotten", number=number),
                        "parse_mode": "HTML", "buttons": [], "message_id": post_id}))
                if topic_id is not None:
                    name = phrases.raw(STAFF_LANGUAGE, "ticket_topic").format(number=number,
                                                                              name="")
                    calls.append((chat_id, "editForumTopic",
                                  {"message_thread_id": topic_id, "name": name.strip()}))
            for chat_id, method, params in calls:
                enqueue(session, chat_id=chat_id, method=method, params=params,
                        purpose=FORGET, now=now)
        return queued + len(calls)

    # --- bookkeeping -----------------------------------------------------

    def remind(self) -> int:
        """Announce again each ticket still waiting for the staff after ``remind_after``
        (once per period); returns how many were announced."""
        now = self.clock()
        period = self.staff.remind_after
        count = 0
        with self.db.session() as session:
            for ticket in session.scalars(select(Ticket).where(Ticket.status == OPEN,
                                                               Ticket.staff_chat_id.is_not(None))
                                          .order_by(Ticket.id)):
                last = as_utc(ticket.reminded_at or ticket.created_at)
                if now - last < period:
                    continue
                ticket.reminded_at = now
                self._post(session, ticket, say(
                    STAFF_LANGUAGE, "staff_reminder", number=ticket.id,
                    age=_age(now - as_utc(ticket.created_at)), claimed=_claimer(ticket)), now)
                count += 1
        return count

    def forget_old(self) -> None:
        """Drop drafts nobody needs any more."""
        now = self.clock()
        with self.db.session() as session:
            session.execute(delete(TicketDraft)
                            .where(TicketDraft.created_at < now - DRAFT_LIFETIME))

    # --- the ticket's post ------------------------------------------------

    def card(self, ticket: Ticket) -> tuple[Html, list[list[list[str]]]]:
        """The ticket's post in the staff chat and its buttons (label, data)."""
        lang = STAFF_LANGUAGE
        guesses = "\n".join(say(lang, "staff_guess", question=_shorten(g["question"], 80),
                                score=g["score"]) for g in ticket.guesses) or \
            phrases.raw(lang, "staff_no_guesses")
        claimed = say(lang, "staff_card_claimed", name=_claimer(ticket)) \
            if ticket.claimed_by_name else ""
        text = say(lang, "staff_card", number=ticket.id,
                   status=phrases.raw(lang, f"status_{ticket.status}"), who=self._who(ticket),
                   language=phrases.LANGUAGE_NAMES.get(ticket.language, ticket.language),
                   question=_shorten(ticket.question, MAX_CARD_QUESTION),
                   guesses=Html(guesses), claimed=claimed)
        number = ticket.id
        buttons: list[list[list[str]]] = []
        if ticket.status != CLOSED:
            buttons.append([[phrases.raw(lang, "staff_claim_button"), f"tk:claim:{number}"],
                            [phrases.raw(lang, "staff_close_button"), f"tk:close:{number}"]])
        if ticket.status != CLOSED or ticket.answered_at is not None:
            buttons.append([[phrases.raw(lang, "staff_faq_button"), f"tk:faq:{number}"]])
        return text, buttons

    def _who(self, ticket: Ticket) -> str:
        """The person as the staff see them: name and id, or only an alias when anonymous."""
        if self.staff.anonymous:
            return phrases.raw(STAFF_LANGUAGE, "staff_alias").format(number=ticket.id)
        return _named(ticket.person_name, ticket.user_id)

    def _person(self, session: Session, user_id: int) -> str:
        """The person in a line to the staff: the name they last used and their id, never
        shown in anonymous mode."""
        if self.staff.anonymous:
            return phrases.raw(STAFF_LANGUAGE, "staff_the_person")
        name = session.scalar(select(Ticket.person_name)
                              .where(Ticket.user_id == user_id, Ticket.person_name.is_not(None))
                              .order_by(Ticket.id.desc()).limit(1))
        if name is None:
            name = session.scalar(select(Person.display_name)
                                  .where(Person.telegram_user_id == user_id))
        return _named(name, user_id)

    def _changed(self, session: Session, ticket: Ticket, now: datetime) -> None:
        """Queue the edit of the ticket's post to show its new state."""
        ticket.updated_at = now
        if ticket.staff_chat_id is None:
            return
        text, buttons = self.card(ticket)
        enqueue(session, chat_id=ticket.staff_chat_id, method="editMessageText",
                params={"text": text, "parse_mode": "HTML", "buttons": buttons,
                        "ticket_message": True},
                purpose="ticket_edit", ticket_id=ticket.id, now=now)

    @staticmethod
    def _post(session: Session, ticket: Ticket, text: Html, now: datetime) -> None:
        """Queue a line about ``ticket`` in the staff chat, under its post."""
        if ticket.staff_chat_id is None:
            return
        enqueue(session, chat_id=ticket.staff_chat_id, method="sendMessage",
                params={"text": text, "parse_mode": "HTML", "reply_to_ticket": True,
                        "in_ticket_topic": True},
                purpose="staff_note", ticket_id=ticket.id, now=now)

    @staticmethod
    def _tell_person(session: Session, ticket: Ticket, phrase: str, now: datetime) -> None:
        """Queue a notice about ``ticket`` to the person, in their language."""
        enqueue(session, chat_id=ticket.chat_id, method="sendMessage",
                params={"text": say(ticket.language, phrase, number=ticket.id),
                        "parse_mode": "HTML"},
                purpose="notice", ticket_id=ticket.id, now=now)

    @staticmethod
    def _unknown(ticket_id: int) -> Outcome:
        return Outcome(False, say(STAFF_LANGUAGE, "staff_no_such_ticket", number=ticket_id))


Row = TypeVar("Row", Ticket, TicketDraft)


def _get(session: Session, model: type[Row], key: int) -> Row | None:
    """The row with the integer id ``key``; None for ids no row can have (a forged button
    or command with a huge number must not reach the database as an error)."""
    if not 0 < key < 2**31:
        return None
    return session.get(model, key)


def _named(name: str | None, user_id: int) -> str:
    """``Ana (id 4001)``: a person as the staff see them."""
    return f"{shown_name(name)} (id {user_id})"


def _claimer(ticket: Ticket) -> str:
    """Who claimed ``ticket``, as the staff see it."""
    if ticket.claimed_by_name is None:
        return phrases.raw(STAFF_LANGUAGE, "staff_unclaimed")
    return shown_name(ticket.claimed_by_name)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split()) if len(text) > limit else text
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


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
