"""Keeping people's words no longer than ``privacy.retention``.

What :func:`purge` takes away once it is older than the retention period:

* question logs (behind /stats and the report), deleted;
* the outbox's sent and failed calls (answers, ticket posts, copies of people's
  messages), deleted, except those about a ticket not yet closed, which still find
  the ticket a staff reply belongs to;
* the texts of tickets closed that long ago: the question, the person's name, their
  comment on the rating, and every message's text, name and file; what the report
  counts stays (when the ticket was opened, answered, closed and rated, and when the
  staff first answered), so response times and ratings of old periods still add up;
* the votes for learned phrasings that do not count (fewer than
  ``learning.min_votes`` people, no admin), and the phrasings left with none.

What the bot learned and uses stays: phrasings that count and the questions the staff
handled without a FAQ entry (:mod:`bot.learning`; a forget takes a person's). FAQ
suggestions stay until an admin settles them; drafts of tickets go after a day
and handled updates lose their content at once, whatever the retention
(:mod:`bot.tickets`, :mod:`bot.inbox`). ``ngo-faq-bot forget`` removes a person
at once. Deleted text does not stay in SQLite's files: ``secure_delete`` and a
checkpoint afterwards, as for a forget (:mod:`bot.privacy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, or_, select, update

from bot import learning
from bot.report import db_time
from bot.storage import (
    Database,
    LearnedVote,
    OutboxItem,
    QuestionLog,
    Ticket,
    TicketMessage,
    rows_changed,
)
from bot.tickets import CLOSED


@dataclass(frozen=True)
class Purged:
    """How many rows :func:`purge` deleted, or emptied of their texts, of each kind."""

    questions: int = 0
    outbox: int = 0
    tickets: int = 0
    ticket_messages: int = 0
    votes: int = 0

    def __bool__(self) -> bool:
        return any((self.questions, self.outbox, self.tickets, self.ticket_messages,
                    self.votes))


def purge(db: Database, retention: timedelta | None, *, min_votes: int,
          now: datetime | None = None) -> Purged:
    """Take away what is older than ``retention`` (None: keep everything); see above."""
    if retention is None:
        return Purged()
    cutoff = db_time(db, (now or datetime.now(UTC)) - retention)
    closed = select(Ticket.id).where(  # closed_at: older tickets may lack it
        Ticket.status == CLOSED, func.coalesce(Ticket.closed_at, Ticket.updated_at) < cutoff)
    with db.session() as session:
        questions = rows_changed(session.execute(
            delete(QuestionLog).where(QuestionLog.created_at < cutoff)))
        still_open = select(Ticket.id).where(Ticket.status != CLOSED)
        outbox = rows_changed(session.execute(
            delete(OutboxItem).where(
                OutboxItem.status.in_(("sent", "failed")), OutboxItem.created_at < cutoff,
                or_(OutboxItem.ticket_id.is_(None), OutboxItem.ticket_id.not_in(still_open)))
            .execution_options(synchronize_session=False)))
        tickets = rows_changed(session.execute(
            update(Ticket).where(Ticket.id.in_(closed),
                                 or_(Ticket.question != "", Ticket.person_name.is_not(None),
                                     Ticket.rating_comment.is_not(None)))
            .values(question="", person_name=None, rating_comment=None)
            .execution_options(synchronize_session=False)))
        messages = rows_changed(session.execute(
            update(TicketMessage).where(
                TicketMessage.ticket_id.in_(closed),
                or_(TicketMessage.text.is_not(None), TicketMessage.author_name.is_not(None),
                    TicketMessage.file_id.is_not(None)))
            .values(text=None, author_name=None, file_id=None)
            .execution_options(synchronize_session=False)))
    not_counting = [found.id for found in learning.listing(db, min_votes) if not found.active]
    votes = 0
    if not_counting:
        with db.session() as session:
            votes = rows_changed(session.execute(
                delete(LearnedVote).where(LearnedVote.phrasing_id.in_(not_counting),
                                          LearnedVote.created_at < cutoff)))
        learning.prune(db)
    done = Purged(questions, outbox, tickets, messages, votes)
    if done:
        db.checkpoint()
    return done
