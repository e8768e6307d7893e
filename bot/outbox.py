"""The outbox: every staff-chat post and every delivery to a person waits here until sent.

A state change and the messages it causes are written in one transaction
(:func:`enqueue` takes the caller's session), so a crash can lose neither.
A sender (``handlers/outbox.py``) takes the due calls (:meth:`Outbox.look`),
makes them and reports back: :meth:`Outbox.sent_then_next` records the Telegram
message id and marks the call done in one atomic update that only succeeds once;
:meth:`Outbox.retry` keeps it queued for later (network errors, timeouts, 5xx,
429 with its ``retry_after``); :meth:`Outbox.give_up` ends a call Telegram will
never accept (the person blocked the bot, a bad request).

Calls to one chat go out in the order they were queued: only the oldest
pending call of each chat is ever due, so a failed call holds back the ones
behind it until it succeeds or is given up.

A call holds an intent (:mod:`bot.intents`): what the bot wants to happen,
never how Telegram does it. What an intent refers to that may not exist yet
when it is queued is looked up when it is due: the ticket's post and forum
topic, and the message another call created (``copy_of``: the staff chat's
copy of a person's message that the person edited).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    delete,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from bot import phrases
from bot.intents import (
    Delete,
    Edit,
    Intent,
    RenameTopic,
    from_row,
    to_row,
    without_bytes,
    without_words,
)
from bot.phrases import say
from bot.storage import Database, OutboxItem, OutboxMention, Ticket, rows_changed

# Longest wait between two attempts of a call that keeps failing.
RETRY_AT_MOST = timedelta(minutes=5)

# What a sent call tells its ticket: the ticket's post, its forum topic.
TICKET_POST = "ticket_post"
TICKET_TOPIC = "ticket_topic"
# A staff answer on its way to the person.
DELIVERY = "delivery"
# The bot's answer to what a person (or an admin) wrote or pressed.
REPLY = "reply"
# A person's text messages to their open ticket, posted together in the staff chat.
FOLLOWUPS = "followups"
# A change to the ticket's post (its status, who has it).
TICKET_EDIT = "ticket_edit"
# A line about a ticket under its post in the staff chat (claimed, a private note...).
STAFF_NOTE = "staff_note"
# The comment a person added to their rating, posted under the ticket: their own words,
# which a forget deletes from the staff chat as it does the copies of their messages.
RATING_COMMENT = "rating_comment"
# A notice to the person about their ticket, or to the staff chat.
NOTICE = "notice"
# A call made after a forget (the confirmation to the person, the staff chat's changes):
# its row is deleted once made, so that nothing with the person's id stays behind.
FORGET = "forget"
# The bot's answer to a staff command in the staff chat: it may name people and quote their
# questions (/open, /history, /ban). Once made its row keeps no words, as an answer's; one
# about a ticket's person (/history, /ban #N) keeps the ticket, and one naming people
# otherwise (/open, /mine, /ban by id) keeps who it names (OutboxMention), so that a
# forget of any of them deletes it from the staff chat as it does the copies of their
# messages. Until it is made, its row is deleted only by such a forget.
STAFF_REPLY = "staff_reply"
GONE_ONCE_MADE = frozenset({FORGET})
"""Purposes whose rows are deleted once their call is made (or given up)."""
# Why Telegram refuses for good to deliver to a person, as far as the staff need to know
# (read from its refusal by handlers/outbox.py): they blocked the bot, their account was
# deleted, Telegram knows no chat with them.
BLOCKED, DEACTIVATED, NO_CHAT = "blocked", "deactivated", "no_chat"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; everything stored is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def forgotten_ticket(lang: str, number: int, post: int | None, topic: int | None
                     ) -> list[Intent]:
    """What a forgotten person's ticket post and forum topic become in the staff chat: the
    ticket's number, and nothing of them."""
    calls: list[Intent] = []
    if post is not None:
        calls.append(Edit(say(lang, "staff_card_forgotten", number=number), message_id=post))
    if topic is not None:
        name = phrases.raw(lang, "ticket_topic").format(number=number, name="")
        calls.append(RenameTopic(topic, name.strip()))
    return calls


def _lighter(call: Call) -> dict[str, Any]:
    """The row's new payload once ``call`` is done: bytes (a file, a picture) are not
    kept, nor an answer's words (:data:`REPLY`). Nothing needs them once made, and they
    may be a person's (a question quoted to an admin, a name greeted in a group), where a
    forget, which deletes the rows of the person's own chat, does not look."""
    if call.intent is None:
        return {}
    emptied = (without_words(call.intent) if call.purpose in (REPLY, STAFF_REPLY)
               else without_bytes(call.intent))
    return {"payload": to_row(emptied)[1]} if emptied is not None else {}


@dataclass(frozen=True)
class Call:
    """A due intent with what it refers to looked up.

    ``intent`` is None for a row this version cannot read (it is given up).
    ``ticket_post`` and ``ticket_topic`` are the ticket's post and forum topic in the
    staff chat, if they exist yet; ``copied`` is the message the call ``copy_of``
    created."""

    id: int
    chat_id: int
    kind: str
    intent: Intent | None
    purpose: str
    ticket_id: int | None
    attempts: int
    ticket_post: int | None = None
    ticket_topic: int | None = None
    copied: int | None = None
    named: bool = False
    """It names people (:class:`OutboxMention`): made after a forget of one of them
    deleted its row, it is deleted from its chat."""


def enqueue(session: Session, *, chat_id: int, intent: Intent, purpose: str,
            ticket_id: int | None = None, now: datetime | None = None,
            update_key: tuple[int, int] | None = None,
            naming: Collection[int] = ()) -> OutboxItem:
    """Queue a call in ``session`` (it is sent only if the session commits).

    ``update_key`` (update id, number of the reply within its handling) marks
    a call made while handling an update, so that handling it again after a
    crash queues nothing twice (see :meth:`Outbox.queue_replies`). ``naming``: the
    people (user ids) it names, whose forget deletes it (:class:`OutboxMention`)."""
    now = now or utcnow()
    update_id, sequence = update_key if update_key is not None else (None, None)
    kind, payload = to_row(intent)
    item = OutboxItem(chat_id=chat_id, method=kind, payload=payload, ticket_id=ticket_id,
                      purpose=purpose, status="pending", attempts=0, next_attempt_at=now,
                      created_at=now, update_id=update_id, update_seq=sequence)
    session.add(item)
    if naming:
        session.flush()  # the row's id
        session.add_all(OutboxMention(outbox_id=item.id, user_id=user_id)
                        for user_id in set(naming))
    return item


class Outbox:
    """The queue of calls in the database."""

    def __init__(self, db: Database, retry_interval: timedelta = timedelta(seconds=5),
                 clock: Callable[[], datetime] = utcnow, *, worker: str = "main",
                 lease: timedelta = timedelta(seconds=60),
                 language: str = phrases.DEFAULT_LANGUAGE,
                 undelivered: Callable[[Session, int, str, str | None], None] | None = None
                 ) -> None:
        self.db = db
        self.retry_interval = retry_interval
        self.clock = clock
        # Several workers may send from one database: a due call is claimed by one of
        # them for ``lease``, renewed (:meth:`renew`) while the worker holds it back or
        # makes it, however long that takes; a worker that dies leaves its claims to run
        # out, then another takes them.
        self.worker = worker
        self.lease = lease
        self.language = language  # of the staff chat
        # Told (session, ticket, error, why) of an answer Telegram refused for good: the
        # tickets' bookkeeping (:meth:`bot.tickets.Tickets.undelivered`).
        self.undelivered = undelivered

    def queue_replies(self, chat_id: int, calls: list[Intent], *,
                      update_key: tuple[int, int] | None = None, purpose: str = REPLY,
                      ticket_id: int | None = None, naming: Sequence[Collection[int]] = ()
                      ) -> list[Call] | None:
        """Queue ``calls`` to ``chat_id`` as one reply, in one transaction (the caller's,
        if a session is open); None if this reply of this update was queued before (the
        update is being handled again after a crash). ``naming[i]``: the people (user ids)
        ``calls[i]`` names, whose forget deletes it (:class:`bot.storage.OutboxMention`).

        When nothing else waits for the chat, the first call is claimed for this worker
        at once and returned, ready to make: the sender need not look for it (a round of
        :meth:`look`), so an answer leaves as soon as it is stored. Otherwise []: the
        calls wait their turn behind the chat's earlier ones."""
        now = self.clock()
        with self.db.session() as session:
            # A reply's calls are keyed (update, reply x 1000 + position): its first
            # call's key says whether it was queued before.
            if update_key is not None and session.scalar(
                    select(OutboxItem.id).where(OutboxItem.update_id == update_key[0],
                                                OutboxItem.update_seq == update_key[1] * 1000)
                    .limit(1)) is not None:
                return None
            waiting = session.scalar(select(OutboxItem.id).where(
                OutboxItem.status == "pending", OutboxItem.chat_id == chat_id).limit(1))
            items = []
            for position, intent in enumerate(calls):
                key = (update_key[0], update_key[1] * 1000 + position) if update_key else None
                items.append(enqueue(session, chat_id=chat_id, intent=intent, purpose=purpose,
                                     ticket_id=ticket_id, now=now, update_key=key,
                                     naming=naming[position] if position < len(naming) else ()))
            if waiting is not None or not items:
                return []
            head = items[0]
            head.claimed_by = self.worker
            head.claimed_until = now + self.lease
            session.flush()
            return [self._resolve(session, head, self._naming(session, [head]))]

    def _free(self, now: datetime, *, own: bool = True) -> ColumnElement[bool]:
        """A row no other worker holds: never claimed, its claim expired, or (``own``)
        claimed by this worker."""
        return or_(OutboxItem.claimed_until.is_(None), OutboxItem.claimed_until < now,
                   OutboxItem.claimed_by == self.worker if own else false())

    def look(self, limit: int = 100, *, busy: Collection[int] = (), own: bool = True
             ) -> tuple[list[Call], datetime | None]:
        """Claim the oldest pending call of each chat not in ``busy`` (chats with a call
        in flight) and not held by another worker, if its time has come, oldest first;
        and say when the next call now waiting for a retry may be tried (None: none
        waits); in one transaction. ``own=False``: leave out the calls this worker holds
        too (a sender that keeps what it claimed until it is done with it)."""
        now = self.clock()
        heads = (select(func.min(OutboxItem.id)).where(OutboxItem.status == "pending")
                 .group_by(OutboxItem.chat_id))
        query = select(OutboxItem).where(OutboxItem.id.in_(heads), self._free(now, own=own),
                                         OutboxItem.next_attempt_at <= now)
        if busy:
            query = query.where(OutboxItem.chat_id.not_in(list(busy)))
        with self.db.session() as session:
            items = session.scalars(query.order_by(OutboxItem.id).limit(limit)
                                    .with_for_update(skip_locked=True)).all()
            for item in items:
                item.claimed_by = self.worker
                item.claimed_until = now + self.lease
            naming = self._naming(session, items)
            calls = [self._resolve(session, item, naming) for item in items]
            later = session.scalar(select(func.min(OutboxItem.next_attempt_at))
                                   .where(OutboxItem.status == "pending",
                                          OutboxItem.next_attempt_at > now))
        return calls, as_utc(later) if later is not None else None

    @staticmethod
    def _naming(session: Session, items: Collection[OutboxItem]) -> set[int]:
        """Which of ``items`` name a person in a chat not theirs (one query for all)."""
        return set(session.scalars(select(OutboxMention.outbox_id).distinct().where(
            OutboxMention.outbox_id.in_([item.id for item in items]))))

    @staticmethod
    def _resolve(session: Session, item: OutboxItem, naming: set[int]) -> Call:
        """The call of a claimed row; ``naming``: the rows that name someone (:meth:`_naming`)."""
        intent = from_row(item.method, dict(item.payload or {}))
        ticket = session.get(Ticket, item.ticket_id) if item.ticket_id is not None else None
        copy_of = getattr(intent, "copy_of", None)
        source = session.get(OutboxItem, copy_of) if copy_of is not None else None
        return Call(id=item.id, chat_id=item.chat_id, kind=item.method, intent=intent,
                    purpose=item.purpose, ticket_id=item.ticket_id, attempts=item.attempts,
                    ticket_post=ticket.staff_message_id if ticket else None,
                    ticket_topic=ticket.staff_thread_id if ticket else None,
                    copied=source.sent_message_id if source else None,
                    named=item.id in naming)

    def sent_then_next(self, call: Call, message_id: int | None = None,
                       thread_id: int | None = None) -> tuple[bool, Call | None]:
        """Mark ``call`` sent and record what it created (False: it already was); and in
        the same transaction claim the chat's next call if it may go now (the rest of a
        reply in pieces, a chat's next answer): the sender makes it without a
        :meth:`look`."""
        now = self.clock()
        with self.db.session() as session:
            if call.purpose in GONE_ONCE_MADE:
                item = session.get(OutboxItem, call.id)
                if item is None or item.status != "pending":
                    return False, None
                session.delete(item)
                return True, self._claim_head(session, call.chat_id, now)
            done = rows_changed(session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == call.id, OutboxItem.status == "pending")
                .values(status="sent", sent_message_id=message_id, sent_at=now,
                        attempts=OutboxItem.attempts + 1, last_error=None, claimed_by=None,
                        claimed_until=None, **_lighter(call))))
            if done != 1:
                if session.get(OutboxItem, call.id) is None:
                    self._forgotten_meanwhile(session, call, message_id, thread_id, now)
                return False, None
            ticket = session.get(Ticket, call.ticket_id) if call.ticket_id is not None else None
            if ticket is not None and call.purpose == TICKET_POST and message_id is not None:
                ticket.staff_message_id = ticket.staff_message_id or message_id
                ticket.staff_chat_id = call.chat_id
            if ticket is not None and call.purpose == TICKET_TOPIC and thread_id is not None:
                ticket.staff_thread_id = thread_id
                ticket.staff_chat_id = call.chat_id
            session.flush()
            return True, self._claim_head(session, call.chat_id, now)

    def _forgotten_meanwhile(self, session: Session, call: Call, message_id: int | None,
                             thread_id: int | None, now: datetime) -> None:
        """Undo in a staff chat what ``call`` made after a forget deleted its row (it was in
        flight, or held back by Telegram's rates): a ticket's post, a copy of the person's
        message, a note or an answer naming the person is deleted, a topic keeps only the
        ticket's number, a post edited again shows the forget once more. A person's
        private chat is theirs: left as it is; an admin's gets a message naming a
        forgotten person deleted, as any chat does."""
        if call.named:
            if message_id is not None:
                enqueue(session, chat_id=call.chat_id, intent=Delete(message_id),
                        purpose=FORGET, now=now)
            return
        if call.ticket_id is None or call.chat_id > 0:
            return
        undo: list[Intent] = [Delete(message_id)] if message_id is not None else []
        undo += forgotten_ticket(self.language, call.ticket_id,
                                 call.ticket_post if call.purpose == TICKET_EDIT else None,
                                 thread_id)
        for intent in undo:
            enqueue(session, chat_id=call.chat_id, intent=intent, purpose=FORGET, now=now)

    def _claim_head(self, session: Session, chat_id: int, now: datetime) -> Call | None:
        """Claim for this worker the oldest pending call of ``chat_id`` if it is due and no
        other worker holds it (one conditional UPDATE: two workers cannot both win)."""
        head = session.scalar(select(func.min(OutboxItem.id)).where(
            OutboxItem.status == "pending", OutboxItem.chat_id == chat_id))
        if head is None:
            return None
        taken = rows_changed(session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == head, OutboxItem.status == "pending",
                   OutboxItem.next_attempt_at <= now, self._free(now))
            .values(claimed_by=self.worker, claimed_until=now + self.lease)))
        item = session.get(OutboxItem, head) if taken == 1 else None
        return self._resolve(session, item, self._naming(session, [item])) if item else None

    def renew(self, ids: Collection[int]) -> None:
        """This worker still holds the calls ``ids`` (making them, or waiting for Telegram's
        rates): keep them its own for another lease."""
        if not ids:
            return
        with self.db.session() as session:
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_(list(ids)), OutboxItem.status == "pending",
                       OutboxItem.claimed_by == self.worker)
                .values(claimed_until=self.clock() + self.lease))

    def retry(self, call: Call, error: str, after: float | None = None) -> datetime:
        """Keep ``call`` queued; try again after ``after`` seconds (else a growing backoff)."""
        if after is None:
            wait = min(self.retry_interval * (2 ** min(call.attempts, 10)), RETRY_AT_MOST)
        else:
            wait = timedelta(seconds=after)
        when = self.clock() + wait
        with self.db.session() as session:
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == call.id, OutboxItem.status == "pending")
                .values(attempts=OutboxItem.attempts + 1, next_attempt_at=when,
                        last_error=error[:500], claimed_by=None, claimed_until=None))
        return when

    def release(self, call: Call, after: float) -> None:
        """Give back the claim on ``call``, not to be made for ``after`` seconds (Telegram's
        rates hold it longer than a claim is kept: other work of this sender or another
        worker may go on meanwhile)."""
        with self.db.session() as session:
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == call.id, OutboxItem.status == "pending",
                       OutboxItem.claimed_by == self.worker)
                .values(next_attempt_at=self.clock() + timedelta(seconds=after),
                        claimed_by=None, claimed_until=None))

    def give_up(self, call: Call, error: str, why: str | None = None) -> None:
        """Telegram will never accept ``call``: mark it failed so the chat's queue moves on.

        An answer that cannot reach the person is handed to :attr:`undelivered` in the same
        transaction (``why``: :data:`BLOCKED`, :data:`DEACTIVATED`, :data:`NO_CHAT`, or None
        when Telegram's ``error`` says no such thing), so that the staff know; a forgotten
        person's message Telegram no longer deletes is emptied instead."""
        with self.db.session() as session:
            if call.purpose in GONE_ONCE_MADE:
                gone = rows_changed(session.execute(
                    delete(OutboxItem).where(OutboxItem.id == call.id)))
                if gone and call.purpose == FORGET and isinstance(call.intent, Delete):
                    # Telegram deletes a message for 48 hours only; the bot's own text (a
                    # copy of the person's text, their follow-ups, their comment) it edits
                    # at any age. A picture's copy refuses that too, and stays.
                    enqueue(session, chat_id=call.chat_id, purpose=FORGET, now=self.clock(),
                            intent=Edit(say(self.language, "staff_copy_forgotten"),
                                        message_id=call.intent.message_id))
                return
            done = rows_changed(session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == call.id, OutboxItem.status == "pending")
                .values(status="failed", attempts=OutboxItem.attempts + 1,
                        last_error=error[:500], claimed_by=None, claimed_until=None,
                        **_lighter(call))))
            if done == 1 and call.purpose == DELIVERY and call.ticket_id is not None \
                    and self.undelivered is not None:
                self.undelivered(session, call.ticket_id, error, why)

    def counts(self) -> dict[str, int]:
        """How many calls are pending, sent and failed."""
        with self.db.session() as session:
            rows = session.execute(select(OutboxItem.status, func.count())
                                   .group_by(OutboxItem.status)).all()
        return {status: count for status, count in rows}
