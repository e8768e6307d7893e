"""The question log: one row per question the bot decided (behind /stats and the report).

The conversation writes it; :mod:`bot.report` reads it; :mod:`bot.privacy`
deletes from it. Outcomes: ``answered`` (a sure FAQ answer), ``suggested``
(choices offered, none picked yet), ``picked`` (the person picked one of the
choices), ``registry`` (an organisation look-up), ``staff`` (handed to staff).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage import Database, QuestionLog

OUTCOMES = ("answered", "picked", "suggested", "registry", "staff")
MAX_LOGGED_TEXT = 1000


def record(db: Database, *, user_id: int, chat_id: int | None, text: str, language: str,
           decision: str, entry_id: str | None, score: float | None) -> int:
    """Log a decided question; returns its id."""
    with db.session() as session:
        row = QuestionLog(user_id=user_id, chat_id=chat_id, text=text[:MAX_LOGGED_TEXT],
                          language=language, decision=decision, entry_id=entry_id,
                          score=round(score, 2) if score is not None else None,
                          outcome=decision)
        session.add(row)
        session.flush()
        return row.id


def _latest(session: Session, user_id: int, *,
            entry_id: str | None = None) -> QuestionLog | None:
    """The person's latest logged question (about ``entry_id`` if given)."""
    query = select(QuestionLog).where(QuestionLog.user_id == user_id)
    if entry_id is not None:
        query = query.where(QuestionLog.entry_id == entry_id)
    return session.scalars(query.order_by(QuestionLog.id.desc()).limit(1)).first()


def picked(db: Database, user_id: int, entry_id: str) -> tuple[str, str] | None:
    """The person picked ``entry_id`` among the choices of their last suggested question;
    returns that question and its language (None if their last question had no choices)."""
    with db.session() as session:
        row = _latest(session, user_id)
        if row is not None and row.outcome == "suggested":
            row.outcome, row.entry_id = "picked", entry_id
            return row.text, row.language
        return None


def handed_to_staff(db: Database, user_id: int) -> None:
    """The person asked for staff after the bot's last answer or choices."""
    with db.session() as session:
        row = _latest(session, user_id)
        if row is not None and row.outcome in ("suggested", "answered", "picked", "registry"):
            row.outcome = "staff"


def feedback(db: Database, user_id: int, entry_id: str, helpful: bool) -> None:
    """👍 / 👎 on the answer ``entry_id`` the person last got."""
    with db.session() as session:
        row = _latest(session, user_id, entry_id=entry_id)
        if row is not None:
            row.feedback = 1 if helpful else -1
