"""Forgetting a person (what is kept no longer than ``privacy.retention``: :mod:`bot.retention`).

:func:`forget` finds every table with a column that holds a Telegram user id
(``telegram_user_id``, ``user_id``) by reading the database's schema, so
tables added by later migrations are covered without a change here; rows of
other tables that point at a deleted row (a ticket's messages, its outbox
items and FAQ suggestions) are deleted first, and outbox rows addressed to
the person's private chat (whose id is their user id) go too, as do the staff
chat's answers that name them (:class:`bot.storage.OutboxMention`), which are
deleted from the staff chat as the copies of their messages are.

A staff member's work is the agency's record, not their own data: the
tickets they claimed and answered, their answers, the FAQ suggestions they
made and the bans they decided stay, but their id and name on them are
replaced by a pseudonym (:data:`STAFF_COLUMNS`), the same on every row of one
``forget``, so that "answered by the same person" still holds. Their name
is replaced in the ticket posts kept in the outbox too.

Deleted text must not stay readable in the database's files: SQLite
overwrites deleted content (``secure_delete``, see :mod:`bot.storage`) and,
after a forget, its write-ahead log is checkpointed and emptied
(:meth:`Database.checkpoint`), even while the bot runs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from sqlalchemy import (
    Connection,
    MetaData,
    Table,
    delete,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from bot import phrases
from bot.intents import Relay
from bot.outbox import FOLLOWUPS, RATING_COMMENT, STAFF_REPLY
from bot.phrases import escape
from bot.storage import Database, write_lock_first

USER_COLUMNS = ("telegram_user_id", "user_id")
# Tables whose rows keyed by a private chat id belong to that person.
PRIVATE_CHAT_TABLES = ("outbox",)
# Where a staff member's id (and name) is kept: table, id column, name column.
STAFF_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("tickets", "claimed_by", "claimed_by_name"),
    ("ticket_messages", "author_id", "author_name"),
    ("faq_suggestions", "suggested_by", None),
    ("bans", "banned_by", None),
    ("saved_replies", "created_by", None),
)


@dataclass
class Forgotten:
    """What :func:`forget` did: rows deleted and rows pseudonymised, per table; the tickets
    whose post in the staff chat should show the pseudonym; and the posts of the person's
    own tickets, deleted, whose name and text should go from the staff chat too (ticket
    number, chat, message, forum topic), with the ``copies`` of their messages there
    (chat, message)."""

    deleted: dict[str, int] = field(default_factory=dict)
    pseudonymised: dict[str, int] = field(default_factory=dict)
    tickets: set[int] = field(default_factory=set)
    posts: list[tuple[int, int, int | None, int | None]] = field(default_factory=list)
    copies: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Pseudonym:
    """What replaces a forgotten staff member: a negative id (never a Telegram user's,
    which are positive) and a name in the staff's language that shows the same number."""

    id: int
    name: str

    @classmethod
    def new(cls) -> Pseudonym:
        number = 100_000 + secrets.randbelow(900_000)
        return cls(id=-number, name=phrases.raw(phrases.DEFAULT_LANGUAGE,
                                                 "staff_pseudonym").format(number=number))


def _schema(db: Database) -> MetaData:
    metadata = MetaData()
    metadata.reflect(db.engine)
    return metadata


def _delete_with_children(connection: Connection, metadata: MetaData, table: Table,
                          condition: ColumnElement[bool], counts: dict[str, int]) -> None:
    """Delete the rows of ``table`` matching ``condition``, and first the rows pointing at them."""
    for child in metadata.sorted_tables:
        for fk in child.foreign_keys:
            if fk.column.table is table:
                keys = select(fk.column).where(condition)
                _delete_with_children(connection, metadata, child,
                                      fk.parent.in_(keys), counts)
    deleted = connection.execute(delete(table).where(condition)).rowcount or 0
    if deleted:
        counts[table.name] = counts.get(table.name, 0) + deleted


# When people ask to be forgotten themselves, their bans stay: a ban is the staff's
# decision, not the person's data.
KEPT_WHEN_ASKED = ("bans",)


def _hold_their_calls(connection: Connection, metadata: MetaData, user_id: int) -> None:
    """Make the recording of the person's calls wait until the forget commits, before it
    reads what to undo in the staff chat: a ticket's post recorded between those reads and
    the deletes would be in neither, and stay. Once it waits, it finds its row gone and
    undoes what it made (:meth:`bot.outbox.Outbox.sent_then_next`). SQLite: the
    database's write lock, which its driver takes at the first write; PostgreSQL: their
    tickets' outbox rows, then the tickets, in the order the recording locks them."""
    tickets, outbox = metadata.tables["tickets"], metadata.tables["outbox"]
    theirs = select(tickets.c.id).where(tickets.c.user_id == user_id)
    if connection.dialect.name == "sqlite":
        write_lock_first(connection)
        return
    connection.execute(select(outbox.c.id).where(or_(outbox.c.ticket_id.in_(theirs),
                                                     outbox.c.id.in_(_naming(metadata, user_id))))
                       .order_by(outbox.c.id).with_for_update())  # in the sender's order
    connection.execute(theirs.with_for_update())


def _naming(metadata: MetaData, user_id: int) -> Select[tuple[int]]:
    """The outbox's calls that name ``user_id`` without being about one of their tickets
    (:class:`bot.storage.OutboxMention`)."""
    mentions = metadata.tables["outbox_mentions"]
    return select(mentions.c.outbox_id).where(mentions.c.user_id == user_id)


NAMING_LOCK = 0x6E616D65
"""The PostgreSQL advisory lock that a message naming people (:func:`hold_for_naming`)
shares and a forget takes alone."""


def hold_for_naming(session: Session) -> None:
    """Begin a transaction that reads people to name them in a message it queues (a staff
    listing, /ban by id, /stats): a forget then commits before it reads or after it is
    queued, never between, and so finds the message (:class:`bot.storage.OutboxMention`).
    SQLite: its write lock, taken first (a write that changes nothing); PostgreSQL: the
    advisory lock :data:`NAMING_LOCK`, shared with the other such transactions."""
    write_lock_first(session)
    if session.get_bind().dialect.name != "sqlite":
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"),
                        {"key": NAMING_LOCK})


def forget(db: Database, user_id: int, *, keep: tuple[str, ...] = ()) -> Forgotten:
    """Delete every row about ``user_id`` and pseudonymise them where they acted as staff.

    ``keep`` names tables whose rows about the person are not deleted (e.g.
    ``bans`` when a person asks to be forgotten themself: a ban is a record of
    the staff's decision).

    It runs in the caller's transaction if one is open (:meth:`Database.session`), so
    that what must follow a forget (the staff chat's changes, the confirmation) commits
    with it or not at all; SQLite's write-ahead log is emptied once it commits.
    """
    metadata = _schema(db)
    done = Forgotten()
    with db.session() as session:
        connection = session.connection()
        if connection.dialect.name != "sqlite":  # SQLite: the write lock, taken next
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": NAMING_LOCK})
        _hold_their_calls(connection, metadata, user_id)
        # The staff chat's answers naming them (/open, /mine, /ban by id): deleted there,
        # whoever they are (a person, or a staff member who claimed a listed ticket).
        outbox = metadata.tables["outbox"]
        naming = [(row_id, chat, message) for row_id, chat, message in connection.execute(
            select(outbox.c.id, outbox.c.chat_id, outbox.c.sent_message_id)
            .where(outbox.c.id.in_(_naming(metadata, user_id))).order_by(outbox.c.id))]
        done.copies = [(chat, message) for _, chat, message in naming if message is not None]
        if "tickets" not in keep:
            tickets = metadata.tables["tickets"]
            posts = connection.execute(
                select(tickets.c.id, tickets.c.staff_chat_id, tickets.c.staff_message_id,
                       tickets.c.staff_thread_id)
                .where(tickets.c.user_id == user_id, tickets.c.staff_chat_id.is_not(None))
                .order_by(tickets.c.id))
            done.posts = [(number, chat, message, topic)
                          for number, chat, message, topic in posts]
            # Copies of the person's messages in the staff chat (answers go the other way),
            # their rating's comment, and the bot's answers to the staff about them.
            copies = connection.execute(
                select(outbox.c.chat_id, outbox.c.sent_message_id)
                .join(tickets, tickets.c.id == outbox.c.ticket_id)
                .where(tickets.c.user_id == user_id,
                       or_(outbox.c.method == Relay.kind,
                           outbox.c.purpose.in_((FOLLOWUPS, RATING_COMMENT, STAFF_REPLY))),
                       outbox.c.chat_id == tickets.c.staff_chat_id,
                       outbox.c.sent_message_id.is_not(None))
                .order_by(outbox.c.id))
            done.copies += [(chat, message) for chat, message in copies]
        for table in reversed(metadata.sorted_tables):
            if table.name in keep or table.name == "alembic_version":
                continue
            conditions = [table.c[name] == user_id for name in USER_COLUMNS if name in table.c]
            if table.name in PRIVATE_CHAT_TABLES and "chat_id" in table.c:
                conditions.append(table.c.chat_id == user_id)
            if table is outbox and naming:
                conditions.append(table.c.id.in_([row_id for row_id, _, _ in naming]))
            if conditions:
                _delete_with_children(connection, metadata, table, or_(*conditions),
                                      done.deleted)
        done.tickets = _pseudonymise_staff(connection, metadata, user_id, done.pseudonymised)
        db.checkpoint_after_commit(session)
    return done


def _pseudonymise_staff(connection: Connection, metadata: MetaData, user_id: int,
                        counts: dict[str, int]) -> set[int]:
    """Replace the staff member ``user_id`` by a pseudonym wherever they acted; returns the
    tickets they claimed or answered."""
    tickets = metadata.tables["tickets"]
    messages = metadata.tables["ticket_messages"]
    names = {name for column, table, id_column in (
        ("claimed_by_name", tickets, "claimed_by"), ("author_name", messages, "author_id"))
        for name in connection.scalars(select(table.c[column]).distinct()
                                       .where(table.c[id_column] == user_id)) if name}
    touched = select(tickets.c.id).where(tickets.c.claimed_by == user_id).union(
        select(messages.c.ticket_id).where(messages.c.author_id == user_id))
    ticket_ids = set(connection.scalars(touched))
    pseudonym = Pseudonym.new()
    for table_name, id_column, name_column in STAFF_COLUMNS:
        table = metadata.tables[table_name]
        values: dict[str, object] = {id_column: pseudonym.id}
        if name_column is not None:
            values[name_column] = pseudonym.name
        changed = connection.execute(update(table).where(table.c[id_column] == user_id)
                                     .values(values)).rowcount or 0
        if changed:
            counts[table_name] = counts.get(table_name, 0) + changed
    if names and ticket_ids:
        _rename_in_posts(connection, metadata.tables["outbox"], ticket_ids, names,
                         pseudonym.name, counts)
    return ticket_ids


def _rename_in_posts(connection: Connection, outbox: Table, ticket_ids: set[int],
                     names: set[str], pseudonym: str, counts: dict[str, int]) -> None:
    """Replace ``names`` by ``pseudonym`` in the texts of the outbox's calls about
    ``ticket_ids`` (ticket posts and their edits show who claimed a ticket)."""
    # Longest first: "Besa Hoxha" before "Besa".
    order = sorted(names | {escape(name) for name in names}, key=len, reverse=True)
    for item_id, payload in connection.execute(
            select(outbox.c.id, outbox.c.payload).where(outbox.c.ticket_id.in_(ticket_ids))):
        text = payload.get("text") if isinstance(payload, dict) else None
        if not isinstance(text, str):
            continue
        renamed = text
        for name in order:
            renamed = renamed.replace(name, pseudonym)
        if renamed != text:
            connection.execute(update(outbox).where(outbox.c.id == item_id)
                               .values(payload={**payload, "text": renamed}))
            counts["outbox"] = counts.get("outbox", 0) + 1
