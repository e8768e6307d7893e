"""Forgetting a person, and keeping question logs no longer than the retention period.

:func:`forget` finds every table with a column that holds a Telegram user id
(``telegram_user_id``, ``user_id``) by reading the database's schema, so
tables added by later migrations are covered without a change here; rows of
other tables that point at a deleted row (a ticket's messages, its outbox
items and FAQ suggestions) are deleted first, and outbox rows addressed to
the person's private chat (whose id is their user id) go too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, MetaData, Table, delete, or_, select

from bot.report import db_time
from bot.storage import Database, QuestionLog

USER_COLUMNS = ("telegram_user_id", "user_id")
# Tables whose rows keyed by a private chat id belong to that person.
PRIVATE_CHAT_TABLES = ("outbox",)


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


def forget(db: Database, user_id: int, *, keep: tuple[str, ...] = ()) -> dict[str, int]:
    """Delete every row about ``user_id``; returns the number deleted per table.

    ``keep`` names tables to leave alone (e.g. ``bans`` when a person asks to
    be forgotten themself: a ban is a record of the staff's decision).
    """
    metadata = _schema(db)
    counts: dict[str, int] = {}
    with db.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            if table.name in keep or table.name == "alembic_version":
                continue
            conditions = [table.c[name] == user_id for name in USER_COLUMNS if name in table.c]
            if table.name in PRIVATE_CHAT_TABLES and "chat_id" in table.c:
                conditions.append(table.c.chat_id == user_id)
            if conditions:
                _delete_with_children(connection, metadata, table, or_(*conditions), counts)
    return counts


def purge_old_questions(db: Database, retention: timedelta | None,
                        now: datetime | None = None) -> int:
    """Delete question logs older than ``retention``; returns how many (None: keep all)."""
    if retention is None:
        return 0
    cutoff = db_time(db, (now or datetime.now(UTC)) - retention)
    with db.session() as session:
        result = session.execute(delete(QuestionLog).where(QuestionLog.created_at < cutoff))
        return int(result.rowcount or 0)
