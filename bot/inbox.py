"""The inbox: every Telegram update is stored here before Telegram is told it arrived.

The Telegram layer writes an update with :meth:`Inbox.store` before it
confirms it (the next ``getUpdates`` offset, or the webhook's 200), and marks
it :meth:`Inbox.done` once it has been handled. Whatever happens in between -
a crash, a kill, a reboot - the update stays pending and :meth:`Inbox.pending`
hands it over again at the next start. An update delivered twice (same
``update_id``) is stored once.

A handled update keeps only its id (for spotting a late duplicate) and is
deleted after :data:`KEEP_HANDLED`; people's text does not linger here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from bot.storage import Database, InboxUpdate

# How long the id of a handled update is kept to recognise a duplicate.
KEEP_HANDLED = timedelta(days=1)


def _now() -> datetime:
    return datetime.now(UTC)


class Inbox:
    """Updates received and not yet handled, in the database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def store(self, update_id: int, payload: dict[str, Any], *, chat_id: int | None,
              user_id: int | None) -> bool:
        """Keep ``payload`` until it is handled; False when this update was already stored."""
        try:
            with self.db.session() as session:
                if session.get(InboxUpdate, update_id) is not None:
                    return False
                session.add(InboxUpdate(update_id=update_id, chat_id=chat_id, user_id=user_id,
                                        payload=payload, received_at=_now()))
        except IntegrityError:  # stored by someone else in the meantime
            return False
        return True

    def pending(self) -> list[tuple[int, dict[str, Any]]]:
        """The updates not yet handled, oldest first, as ``(update_id, payload)``."""
        with self.db.session() as session:
            rows = session.execute(select(InboxUpdate.update_id, InboxUpdate.payload)
                                   .where(InboxUpdate.handled_at.is_(None))
                                   .order_by(InboxUpdate.update_id)).all()
        return [(update_id, payload) for update_id, payload in rows if payload is not None]

    def done(self, update_id: int) -> None:
        """The update has been handled: forget its content."""
        with self.db.session() as session:
            session.execute(update(InboxUpdate).where(InboxUpdate.update_id == update_id)
                            .values(handled_at=_now(), payload=None))

    def prune(self, now: datetime | None = None) -> int:
        """Delete handled updates older than :data:`KEEP_HANDLED`; returns how many."""
        cutoff = (now or _now()) - KEEP_HANDLED
        with self.db.session() as session:
            result = session.execute(delete(InboxUpdate).where(InboxUpdate.handled_at < cutoff))
            return int(result.rowcount or 0)
