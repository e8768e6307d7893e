"""FAQ suggestions made from staff answers (the ``faq_suggestions`` table): the admins'
side - list the pending ones, accept one into the FAQ files, or reject it."""

from __future__ import annotations

from sqlalchemy import select

from bot.faq_admin import FaqAdmin, SuggestionError
from bot.storage import Database, FaqSuggestion, Ticket


def pending(db: Database, limit: int = 10) -> list[FaqSuggestion]:
    """The oldest pending suggestions first."""
    with db.session() as session:
        return list(session.scalars(select(FaqSuggestion)
                                    .where(FaqSuggestion.status == "pending")
                                    .order_by(FaqSuggestion.created_at, FaqSuggestion.id)
                                    .limit(limit)))


def askers(db: Database, suggestions: list[FaqSuggestion]) -> dict[int, int]:
    """Suggestion id -> the person whose ticket's question it quotes (a message showing it
    names them: their forget deletes it)."""
    numbers = [s.ticket_id for s in suggestions if s.ticket_id is not None]
    with db.session() as session:
        person = {number: user for number, user in session.execute(
            select(Ticket.id, Ticket.user_id).where(Ticket.id.in_(numbers)))}
    return {s.id: person[s.ticket_id] for s in suggestions
            if s.ticket_id is not None and s.ticket_id in person}


def _take(db: Database, suggestion_id: int) -> FaqSuggestion:
    with db.session() as session:
        suggestion = session.get(FaqSuggestion, suggestion_id)
    if suggestion is None or suggestion.status != "pending":
        raise SuggestionError(f"suggestion {suggestion_id} is not pending")
    return suggestion


def _settle(db: Database, suggestion_id: int, status: str) -> None:
    with db.session() as session:
        suggestion = session.get(FaqSuggestion, suggestion_id)
        if suggestion is not None:
            suggestion.status = status


def accept(db: Database, admin: FaqAdmin, suggestion_id: int, *,
           as_new: bool) -> tuple[str, bool]:
    """Write the suggestion into the FAQ (live at once).

    Returns the entry id it went to, and whether it became a phrasing of it.

    As a phrasing, the question is added to the suggested entry; as a new
    entry, question and staff answer become one (in the suggested entry's
    file and category when there is one).
    """
    suggestion = _take(db, suggestion_id)
    near = suggestion.entry_id if suggestion.entry_id and admin.faq.get(suggestion.entry_id) \
        else None
    if as_new or near is None:
        category = admin.faq.get(near).category if near else None  # type: ignore[union-attr]
        entry_id, _ = admin.add_entry(suggestion.language, suggestion.question,
                                      suggestion.answer, category=category, near=near)
    else:
        admin.add_phrasing(near, suggestion.language, suggestion.question,
                           suggestion.answer)
        entry_id = near
    _settle(db, suggestion_id, "accepted")
    return entry_id, not (as_new or near is None)


def reject(db: Database, suggestion_id: int) -> None:
    _take(db, suggestion_id)
    _settle(db, suggestion_id, "rejected")
