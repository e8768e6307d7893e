"""The inbox: every Telegram update is stored here before Telegram is told it arrived.

The Telegram layer writes an update with :meth:`Inbox.store` before it
confirms it (the next ``getUpdates`` offset, or the webhook's 200), and marks
it :meth:`Inbox.done` once it has been handled. Whatever happens in between -
a crash, a kill, a reboot - the update stays pending and is handed over again.
An update delivered twice (same ``update_id``) is stored once.

With several workers on one PostgreSQL database, each takes updates with
:meth:`Inbox.claim`: the oldest pending update of each chat (so one chat's
updates are handled one after the other, in order), rows locked with ``FOR
UPDATE SKIP LOCKED`` so that no two workers take the same one, for a lease
that the worker renews while it works. A worker that dies stops renewing;
when its lease runs out another worker takes the update. Storing an update
sends a PostgreSQL notification (:data:`CHANNEL`) that wakes the other workers.

A handled update keeps only its id (for spotting a late duplicate) and is
deleted after :data:`KEEP_HANDLED`; people's text does not linger here.

An update whose handling kills the process (a crash in native code, the memory
exhausted) would be handed over again at every start, and stop the bot for everyone
each time. So an update handed over again (:meth:`Inbox.pending` at a start, or
claimed from a worker that had gone) is counted when its handling begins
(:meth:`Inbox.begin`) and uncounted when it ends without being handled (the bot
stopped cleanly); the count left says how many processes died while it was in hand.
One counted once is handled alone, and counted again only while it is alone (the
Telegram layer's :class:`handlers.inbox.Turns`), so that a death then names it; one
counted :data:`SET_ASIDE_AFTER` times is set aside (:meth:`Inbox.set_aside`): kept,
not handled, its chat told, and deleted after :data:`KEEP_SET_ASIDE`. A clean stop
counts nothing, and the updates handled as they arrive pay no write for this.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, NamedTuple

from sqlalchemy import and_, delete, exists, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from bot.storage import Database, InboxUpdate, rows_changed

# How long the id of a handled update is kept to recognise a duplicate.
KEEP_HANDLED = timedelta(days=1)
# The PostgreSQL notification channel that says an update was stored.
CHANNEL = "ngo_faq_bot_inbox"
# Processes that died while an update handed over again was in hand, before it is set
# aside: the first death may be another update's (several are handled at once), the
# second happened while it was handled alone.
SET_ASIDE_AFTER = 2
# How long an update set aside is kept (for an admin to look at; a forget deletes it).
KEEP_SET_ASIDE = timedelta(days=7)


# The update being handled, and a counter of the replies queued for it (set by the
# Telegram layer around its handlers; it follows their work into worker threads). What
# handling an update creates in the core (a ticket, a reply) is keyed by it, so handling
# it again after a crash creates nothing twice.
_HANDLING: ContextVar[tuple[int, Iterator[int]] | None] = ContextVar(
    "handling_update", default=None)


def start_handling(update_id: int) -> None:
    """From now on in this context, update ``update_id`` is being handled."""
    _HANDLING.set((update_id, itertools.count()))


def handling() -> int | None:
    """The id of the update being handled, if any."""
    current = _HANDLING.get()
    return None if current is None else current[0]


def reply_key() -> tuple[int, int] | None:
    """(update id, number of this reply within the update) while handling an update.

    Handling an update again after a crash queues the same replies in the same
    order, so this key lets the outbox drop what it already holds."""
    current = _HANDLING.get()
    return None if current is None else (current[0], next(current[1]))


def _now() -> datetime:
    return datetime.now(UTC)


def owner(chat_id: int | None, count: int) -> int:
    """Which of ``count`` workers handles the updates of ``chat_id`` when it can (the
    others take them only when it has left them waiting: it is busy, or dead)."""
    return 0 if chat_id is None else chat_id % count


class Stored(Enum):
    """What :meth:`Inbox.store` did with an update."""

    DUPLICATE = "duplicate"  # it was there already
    STORED = "stored"        # kept for whichever worker claims it
    CLAIMED = "claimed"      # kept, and claimed for the worker that received it


class Waiting(NamedTuple):
    """An update to handle, as :meth:`Inbox.pending` and :meth:`Inbox.claim` give it."""

    update_id: int
    payload: dict[str, Any]
    again: bool
    """Handed over again: it was in hand (or waiting) when a process stopped."""
    unfinished: int
    """Processes that died while it was in hand (see the module's docstring)."""

    @property
    def suspect(self) -> bool:
        """A process died while it was in hand: it is handled alone."""
        return self.unfinished > 0

    @property
    def poisonous(self) -> bool:
        """Processes died :data:`SET_ASIDE_AFTER` times while it was in hand, the last time
        while it was handled alone: it is set aside, not handled."""
        return self.unfinished >= SET_ASIDE_AFTER


class Inbox:
    """Updates received and not yet handled, in the database."""

    def __init__(self, db: Database, *, notify: bool = True) -> None:
        """``notify``: other workers wait for news of stored updates (PostgreSQL); a bot
        that is its own only worker spares the notification."""
        self.db = db
        self.notify = notify and db.dialect == "postgresql"

    def store(self, update_id: int, payload: dict[str, Any], *, chat_id: int | None,
              user_id: int | None, claim_for: str | None = None,
              lease: timedelta | None = None) -> Stored:
        """Keep ``payload`` until it is handled.

        One INSERT, which the update's id refuses when it is there already (DUPLICATE):
        the usual update (a new one) costs one statement, and no ORM object is made for
        it. ``claim_for`` (the worker receiving for several, when the chat is its own):
        the update is claimed for it at once, for ``lease``, unless an earlier update
        of its chat still waits (CLAIMED); the other workers are notified only of what
        it leaves to them (STORED), with the chat's id."""
        now = _now()
        try:
            with self.db.session() as session:
                claim = claim_for is not None and lease is not None and (
                    chat_id is None or session.scalar(
                        select(InboxUpdate.update_id)
                        .where(InboxUpdate.chat_id == chat_id,
                               InboxUpdate.handled_at.is_(None),
                               InboxUpdate.set_aside_at.is_(None)).limit(1)) is None)
                session.execute(insert(InboxUpdate).values(
                    update_id=update_id, chat_id=chat_id, user_id=user_id, payload=payload,
                    received_at=now, claimed_by=claim_for if claim else None,
                    claimed_until=now + lease if claim and lease is not None else None))
                if claim:
                    return Stored.CLAIMED
                if self.notify:
                    session.execute(text("SELECT pg_notify(:channel, :chat)"),
                                    {"channel": CHANNEL, "chat": str(chat_id or "")})
        except IntegrityError:
            if self._known(update_id):  # delivered again, or stored by another worker
                return Stored.DUPLICATE
            raise  # refused for another reason (a constraint, a trigger): not stored
        return Stored.STORED

    def _known(self, update_id: int) -> bool:
        with self.db.session() as session:
            return session.scalar(select(InboxUpdate.update_id)
                                  .where(InboxUpdate.update_id == update_id)) is not None

    def begin(self, update_id: int) -> None:
        """The handling of an update handed over again begins: counted until it ends."""
        with self.db.session() as session:
            session.execute(update(InboxUpdate).where(InboxUpdate.update_id == update_id,
                                                      InboxUpdate.handled_at.is_(None))
                            .values(unfinished=InboxUpdate.unfinished + 1))

    def left(self, update_id: int) -> None:
        """The handling :meth:`begin` counted ended without the update being handled (the
        bot stops, the update waits for the next start): uncounted."""
        with self.db.session() as session:
            session.execute(update(InboxUpdate).where(InboxUpdate.update_id == update_id,
                                                      InboxUpdate.unfinished > 0)
                            .values(unfinished=InboxUpdate.unfinished - 1))

    def set_aside(self, update_id: int) -> bool:
        """Do not hand the update over again: it stopped the bot (see the module's
        docstring). Its content stays for :data:`KEEP_SET_ASIDE`, and its chat's later
        updates no longer wait for it. False if it is no longer waiting (handled, or
        deleted by a forget)."""
        with self.db.session() as session:
            return rows_changed(session.execute(
                update(InboxUpdate).where(InboxUpdate.update_id == update_id,
                                          InboxUpdate.handled_at.is_(None),
                                          InboxUpdate.set_aside_at.is_(None))
                .values(set_aside_at=_now(), claimed_by=None, claimed_until=None))) == 1

    def waiting(self, update_id: int) -> bool:
        """Whether the update is stored and not yet handled: False once a forget deleted it
        (``ngo-faq-bot forget`` in another process, or the person's /forget in another
        chat) while it waited here in memory."""
        with self.db.session() as session:
            return session.scalar(select(InboxUpdate.update_id).where(
                InboxUpdate.update_id == update_id, InboxUpdate.handled_at.is_(None),
                InboxUpdate.set_aside_at.is_(None))) is not None

    def pending(self) -> list[Waiting]:
        """The updates not yet handled (nor set aside), oldest first: all handed over again."""
        with self.db.session() as session:
            rows = session.execute(
                select(InboxUpdate.update_id, InboxUpdate.payload, InboxUpdate.unfinished)
                .where(InboxUpdate.handled_at.is_(None), InboxUpdate.set_aside_at.is_(None))
                .order_by(InboxUpdate.update_id)).all()
        return [Waiting(update_id, payload, True, unfinished)
                for update_id, payload, unfinished in rows if payload is not None]

    def claim(self, worker: str, lease: timedelta, limit: int = 50, *,
              share: tuple[int, int] | None = None) -> list[Waiting]:
        """Take for ``worker`` the oldest pending update of up to ``limit`` chats that no
        other worker holds; returns them oldest first, handed over again when another
        worker had claimed them (it stopped, or died). ``share`` (index, count): only
        chats that worker ``index`` of ``count`` owns (:func:`owner`)."""
        now = _now()
        earlier = aliased(InboxUpdate)
        free = or_(InboxUpdate.claimed_until.is_(None), InboxUpdate.claimed_until < now)
        first_of_chat = ~exists().where(and_(earlier.chat_id == InboxUpdate.chat_id,
                                              earlier.handled_at.is_(None),
                                              earlier.set_aside_at.is_(None),
                                              earlier.update_id < InboxUpdate.update_id))
        query = select(InboxUpdate.update_id, InboxUpdate.payload,
                       InboxUpdate.claimed_by.is_not(None), InboxUpdate.unfinished).where(
            InboxUpdate.handled_at.is_(None), InboxUpdate.set_aside_at.is_(None), free,
            first_of_chat)
        if share is not None:
            index, count = share
            # The SQL remainder of a negative id is negative: brought back to 0..count-1.
            mine = (InboxUpdate.chat_id % count + count) % count == index
            query = query.where(or_(mine, InboxUpdate.chat_id.is_(None)) if index == 0
                                else mine)
        with self.db.session() as session:
            rows = session.execute(
                query.order_by(InboxUpdate.update_id).limit(limit)
                .with_for_update(skip_locked=True, of=InboxUpdate)).all()
            if rows:
                session.execute(update(InboxUpdate)
                                .where(InboxUpdate.update_id.in_([r[0] for r in rows]))
                                .values(claimed_by=worker, claimed_until=now + lease))
        return [Waiting(update_id, payload, bool(again), unfinished)
                for update_id, payload, again, unfinished in rows if payload is not None]

    def renew(self, worker: str, update_ids: Collection[int], lease: timedelta) -> None:
        """``worker`` is still handling ``update_ids``: keep them for another ``lease``."""
        if not update_ids:
            return
        with self.db.session() as session:
            session.execute(update(InboxUpdate)
                            .where(InboxUpdate.update_id.in_(list(update_ids)),
                                   InboxUpdate.claimed_by == worker,
                                   InboxUpdate.handled_at.is_(None))
                            .values(claimed_until=_now() + lease))

    def done(self, update_id: int) -> None:
        """The update has been handled: forget its content. One set aside meanwhile (by
        another worker, after this one's lease ran out) keeps it."""
        with self.db.session() as session:
            session.execute(update(InboxUpdate).where(InboxUpdate.update_id == update_id,
                                                      InboxUpdate.set_aside_at.is_(None))
                            .values(handled_at=_now(), payload=None, claimed_by=None,
                                    claimed_until=None, unfinished=0))

    def prune(self, now: datetime | None = None, *,
              retention: timedelta | None = None) -> int:
        """Delete handled updates older than :data:`KEEP_HANDLED`, and updates set aside
        longer than :data:`KEEP_SET_ASIDE` (or ``retention``, people's words kept no
        longer, if shorter); returns how many."""
        now = now or _now()
        kept = min(KEEP_SET_ASIDE, retention) if retention is not None else KEEP_SET_ASIDE
        with self.db.session() as session:
            return rows_changed(session.execute(delete(InboxUpdate).where(or_(
                InboxUpdate.handled_at < now - KEEP_HANDLED,
                InboxUpdate.set_aside_at < now - kept))))

    def news(self, timeout: float) -> Iterator[int | None]:
        """Yield the chat of each update stored and left to the workers (PostgreSQL only),
        or None after ``timeout`` seconds without one; for a worker thread that waits
        for work."""
        import psycopg  # the PostgreSQL driver, there when the database is PostgreSQL

        url = self.db.engine.url.set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False),
                             autocommit=True) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            while True:
                chats = [note.payload for note in
                         connection.notifies(timeout=timeout, stop_after=1)]
                if not chats:
                    yield None
                for chat in chats:
                    yield int(chat) if chat.lstrip("-").isdigit() else None
