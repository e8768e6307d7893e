"""Learned phrasings: the questions people taught the bot for FAQ entries.

When a person picks an entry among the bot's suggestions, their question is a
vote for a phrasing of that entry. Votes for the same entry on questions that
say the same thing (:func:`similarity`: they share most of their terms
after the normaliser) gather on one learned phrasing; it counts - the matcher
treats its questions as phrasings of the entry - once ``learning.min_votes``
different people voted for it, so one person alone cannot teach the bot
nonsense. A 👎 after the pick takes the person's vote back.

Two sources are trusted on their own: an admin linking a staff answer to an
entry (``staff``), and labelled cases replayed with ``ngo-faq-bot learn``
(``cases``, as if enough people had picked the expected entry).

Each vote keeps the voter's own question, and a phrasing has no words of its
own: forgetting a person (:mod:`bot.privacy` deletes their votes) takes their
words with them, and :func:`prune` then drops the phrasings nobody supports.

The other side is learned too: a question the staff handled without a FAQ entry
is an *out-of-scope question* (:func:`hand_on`). Its honest source is a ticket the
staff answered in their own words (not with a FAQ entry's answer); when an admin
later links that answer to an entry, the question becomes a learned phrasing
instead (:func:`link_suggestion`). Replayed cases without an entry count as such
questions too. The decision reads both as nearest-neighbour evidence
(:class:`bot.decision.Memory`). Each keeps the asker's id, so a forget deletes it.
"""

from __future__ import annotations

import io
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.text import Message, detect_language, fold, read, same_question, sameness
from bot.untrusted import visible

if TYPE_CHECKING:  # SQLAlchemy is imported where it is used: ``ask`` reads without it
    from sqlalchemy.orm import Session

    from bot.evaluate import Case
    from bot.storage import Database, LearnedVote

PICK, STAFF, CASES = "pick", "staff", "cases"
TRUSTED = (STAFF, CASES)
"""Sources whose one vote is enough."""
MAX_TEXT = 500
"""Characters of a question kept as a learned phrasing (a long story is cut)."""


@dataclass(frozen=True)
class Learned:
    """A learned phrasing as admins see it: its first question and all of them.

    ``source`` says why it counts (or would): ``staff`` or ``cases`` when such a
    vote supports it, else how it started (``pick``)."""

    id: int
    entry_id: str
    language: str
    source: str
    created_at: datetime
    texts: tuple[str, ...]
    voters: int
    active: bool

    def state(self, lang: str, min_votes: int, in_faq: bool) -> str:
        """What the listings (``/learned``, ``learned list``) say of it: why it counts,
        how many more people it waits for, or that the FAQ lacks its entry (``in_faq``
        False: renamed or deleted; the matcher ignores it until the entry is back)."""
        from bot.phrases import say

        if not in_faq:
            return say(lang, "adm_learned_no_entry", entry=self.entry_id)
        if self.active:
            return say(lang, f"adm_learned_active_{self.source}", voters=self.voters)
        return say(lang, "adm_learned_waiting", voters=self.voters, needed=min_votes)

    @property
    def text(self) -> str:
        return self.texts[0] if self.texts else ""


def similarity(a: Message, b: Message) -> float:
    """How much two questions say the same (0-1): the Dice overlap of their terms
    (:attr:`bot.text.Message.terms`), or 1 for the same folded text."""
    if a.words == b.words:
        return 1.0
    ta, tb = a.terms, b.terms
    if not ta or not tb:
        return 0.0
    return 2 * len(ta & tb) / (len(ta) + len(tb))


def _now() -> datetime:
    return datetime.now(UTC)


def _votes_by_phrasing(session: Session, entry_id: str) -> dict[int, list[LearnedVote]]:
    from sqlalchemy import select

    from bot.storage import LearnedPhrasing, LearnedVote

    rows = session.scalars(select(LearnedVote).join(
        LearnedPhrasing, LearnedPhrasing.id == LearnedVote.phrasing_id).where(
        LearnedPhrasing.entry_id == entry_id).order_by(LearnedVote.id))
    found: dict[int, list[LearnedVote]] = defaultdict(list)
    for vote in rows:
        found[vote.phrasing_id].append(vote)
    return found


def vote(db: Database, *, entry_id: str, text: str, language: str, user_id: int | None,
         source: str, threshold: float) -> bool:
    """Record that ``user_id`` (None: no person, e.g. replayed cases) links the question
    ``text`` to ``entry_id``; True if a vote was added.

    The vote joins the learned phrasing of that entry whose questions are most like
    ``text`` (at least ``threshold``, see :func:`similarity`), else starts a new one.
    A person votes once per phrasing; a question already there from the same
    source without a person is not added twice.
    """
    from bot.storage import LearnedPhrasing, LearnedVote

    text = " ".join(text.split())[:MAX_TEXT]
    asked = read(text)
    if not asked.words:
        return False
    with db.session() as session:
        phrasings = {phrasing_id: [(v, read(v.text)) for v in votes]
                     for phrasing_id, votes in _votes_by_phrasing(session, entry_id).items()}
        best_id, best = None, 0.0
        for phrasing_id, read_votes in phrasings.items():
            score = max(similarity(asked, m) for _, m in read_votes)
            if score >= threshold and score > best:
                best_id, best = phrasing_id, score
        if best_id is not None:
            read_votes = phrasings[best_id]
            if user_id is not None and any(v.user_id == user_id for v, _ in read_votes):
                return False
            if user_id is None and any(v.user_id is None and v.source == source
                                       and m.words == asked.words for v, m in read_votes):
                return False
            phrasing_id = best_id
        else:
            phrasing = LearnedPhrasing(entry_id=entry_id, language=language, source=source,
                                       created_at=_now())
            session.add(phrasing)
            session.flush()
            phrasing_id = phrasing.id
        session.add(LearnedVote(phrasing_id=phrasing_id, user_id=user_id, text=text,
                                source=source, created_at=_now()))
        return True


def unvote(db: Database, user_id: int, entry_id: str) -> bool:
    """Take back the person's latest pick of ``entry_id`` (their 👎 after it); True if
    there was one. A phrasing left without votes is deleted."""
    from sqlalchemy import select

    from bot.storage import LearnedPhrasing, LearnedVote

    with db.session() as session:
        latest = session.scalars(select(LearnedVote).join(
            LearnedPhrasing, LearnedPhrasing.id == LearnedVote.phrasing_id).where(
            LearnedPhrasing.entry_id == entry_id, LearnedVote.user_id == user_id,
            LearnedVote.source == PICK).order_by(LearnedVote.id.desc()).limit(1)).first()
        if latest is None:
            return False
        session.delete(latest)
        session.flush()
        _prune(session)
        return True


def link_suggestion(db: Database, suggestion_id: int, threshold: float) -> str | None:
    """An admin links a staff answer (a pending FAQ suggestion) to its suggested entry:
    the ticket's question becomes a learned phrasing of it at once. Returns the entry
    id, or None when the suggestion is not pending or has no entry."""
    from bot.storage import FaqSuggestion, Ticket

    with db.session() as session:
        suggestion = session.get(FaqSuggestion, suggestion_id)
        if suggestion is None or suggestion.status != "pending" or not suggestion.entry_id:
            return None
        ticket = session.get(Ticket, suggestion.ticket_id) if suggestion.ticket_id else None
        asker = ticket.user_id if ticket is not None else None
        entry_id, question, language = (suggestion.entry_id, suggestion.question,
                                        suggestion.language)
        suggestion.status = "learned"
        if suggestion.ticket_id is not None:  # not out of scope after all
            not_handed_on_in(session, suggestion.ticket_id)
    # The vote belongs to the person who asked: forgetting them takes their words away.
    vote(db, entry_id=entry_id, text=question, language=language, user_id=asker,
         source=STAFF, threshold=threshold)
    return entry_id


def _prune(session: Session) -> None:
    from sqlalchemy import delete, select

    from bot.storage import LearnedPhrasing, LearnedVote

    session.execute(delete(LearnedPhrasing).where(
        LearnedPhrasing.id.not_in(select(LearnedVote.phrasing_id))))


def prune(db: Database) -> None:
    """Delete the phrasings no vote supports any more (after a person was forgotten)."""
    with db.session() as session:
        _prune(session)


def remove(db: Database, phrasing_id: int) -> bool:
    """An admin removes a learned phrasing with all its votes; True if it existed."""
    from sqlalchemy import delete

    from bot.storage import LearnedPhrasing, LearnedVote

    with db.session() as session:
        phrasing = session.get(LearnedPhrasing, phrasing_id)
        if phrasing is None:
            return False
        session.execute(delete(LearnedVote).where(LearnedVote.phrasing_id == phrasing_id))
        session.delete(phrasing)
        return True


_Vote = tuple[int | None, str, str]
"""A vote as the rules below see it: the voter (None: no person), the question, the source."""


def _texts(votes: Sequence[_Vote]) -> tuple[str, ...]:
    """The questions of a phrasing: those of its votes in the order they were cast, each
    once (the same folded)."""
    texts: dict[str, str] = {}
    for _, text, _ in votes:
        texts.setdefault(fold(text), text)
    return tuple(texts.values())


def _counts(votes: Sequence[_Vote], min_votes: int) -> bool:
    """Whether a phrasing with these votes counts: a trusted vote, or ``min_votes``
    different people."""
    if any(source in TRUSTED for _, _, source in votes):
        return True
    return bool(votes) and len({user for user, _, _ in votes if user is not None}) >= min_votes


def listing(db: Database, min_votes: int) -> list[Learned]:
    """Every learned phrasing, newest first, with its questions and whether it counts."""
    from sqlalchemy import select

    from bot.storage import LearnedPhrasing, LearnedVote

    with db.session() as session:
        phrasings = session.scalars(select(LearnedPhrasing).order_by(
            LearnedPhrasing.id.desc())).all()
        votes: dict[int, list[_Vote]] = defaultdict(list)
        for v in session.scalars(select(LearnedVote).order_by(LearnedVote.id)):
            votes[v.phrasing_id].append((v.user_id, v.text, v.source))
    found = []
    for p in phrasings:
        trusted = [source for _, _, source in votes[p.id] if source in TRUSTED]
        found.append(Learned(
            id=p.id, entry_id=p.entry_id, language=p.language,
            source=trusted[0] if trusted else p.source,
            created_at=p.created_at, texts=_texts(votes[p.id]),
            voters=len({user for user, _, _ in votes[p.id] if user is not None}),
            active=_counts(votes[p.id], min_votes)))
    return found


_ACTIVE_QUERIES = ("SELECT id, entry_id, language FROM learned_phrasings ORDER BY id",
                   "SELECT phrasing_id, user_id, text, source FROM learned_votes ORDER BY id")
"""What :func:`active` reads, through SQLAlchemy or the sqlite3 module alike."""


def _active(phrasings: Iterable[Sequence[Any]], votes: Iterable[Sequence[Any]],
            min_votes: int) -> list[tuple[str, str, str]]:
    """:func:`active` of the rows of :data:`_ACTIVE_QUERIES`."""
    by_phrasing: dict[int, list[_Vote]] = defaultdict(list)
    for phrasing_id, user, text, source in votes:
        by_phrasing[phrasing_id].append((user, text, source))
    return [(entry_id, language, text) for phrasing_id, entry_id, language in phrasings
            if _counts(by_phrasing[phrasing_id], min_votes)
            for text in _texts(by_phrasing[phrasing_id])]


def active(db: Database, min_votes: int) -> list[tuple[str, str, str]]:
    """(entry id, language, question) of every question of the phrasings that count,
    oldest phrasing first: what :meth:`bot.matcher.FaqMatcher.set_learned` takes."""
    from sqlalchemy import text

    with db.session() as session:
        phrasings, votes = (session.execute(text(query)).all() for query in _ACTIVE_QUERIES)
    return _active(phrasings, votes, min_votes)


_OUT_OF_SCOPE_QUERY = "SELECT text FROM out_of_scope_questions ORDER BY id"
"""What :func:`out_of_scope` reads, through SQLAlchemy or the sqlite3 module alike."""


def learned_at(url: str, min_votes: int) -> tuple[list[tuple[str, str, str]], list[str]]:
    """:func:`active` and :func:`out_of_scope` of the database at ``url``, for a command
    that only reads it (``ask``, ``eval``).

    Before the bot made its SQLite file there is none to read, and none is created. A
    SQLite file is read with the sqlite3 module, without loading SQLAlchemy (a third of
    ``ask``'s time); any other database, or a file sqlite3 cannot read so (a schema older
    than these tables, not a database), is read through SQLAlchemy, and opened as every
    command opens it (upgraded) only when that fails: upgrading means loading Alembic and
    the migrations.
    """
    if url.startswith("sqlite"):  # sqlite:///FILE, sqlite:////ABSOLUTE, sqlite:// (memory)
        rest = url.partition("://")[2]
        file = rest[1:].partition("?")[0] if rest.startswith("/") else ""
        if file in ("", ":memory:") or not Path(file).is_file():
            return [], []
        if url.startswith(("sqlite:///", "sqlite+pysqlite:///")) and not set("?%") & set(rest):
            try:  # mode=rw never creates a file (a read-only one would leave its WAL files)
                where = f"{Path(file).resolve().as_uri()}?mode=rw"
                with closing(sqlite3.connect(where, uri=True)) as connection:
                    phrasings, votes = (connection.execute(query).fetchall()
                                        for query in _ACTIVE_QUERIES)
                    handed_on = connection.execute(_OUT_OF_SCOPE_QUERY).fetchall()
                return _active(phrasings, votes, min_votes), [t for (t,) in handed_on]
            except sqlite3.Error:
                pass  # read as below, which upgrades the schema or says what is wrong
    from sqlalchemy.exc import DBAPIError

    from bot.storage import Database

    with Database(url, migrate=False) as db:
        try:
            return active(db, min_votes), out_of_scope(db)
        except DBAPIError:
            pass
    with Database(url) as db:  # upgraded, or DatabaseUnavailable says why it cannot be
        return active(db, min_votes), out_of_scope(db)


def version(db: Database) -> tuple[int, ...]:
    """Changes whenever votes, phrasings or out-of-scope questions are added or removed
    (by any process)."""
    from sqlalchemy import func, select

    from bot.storage import LearnedPhrasing, LearnedVote, OutOfScopeQuestion

    with db.session() as session:
        votes, last = session.execute(select(func.count(), func.max(LearnedVote.id))).one()
        phrasings = session.scalar(select(func.count()).select_from(LearnedPhrasing))
        handed, last_handed = session.execute(
            select(func.count(), func.max(OutOfScopeQuestion.id))).one()
    return tuple(int(n or 0) for n in (votes, last, phrasings, handed, last_handed))


@dataclass(frozen=True)
class HandedOn:
    """An out-of-scope question as admins see it."""

    id: int
    text: str
    language: str
    source: str
    created_at: datetime


def hand_on(db: Database, *, text: str, language: str, user_id: int | None, source: str,
            ticket_id: int | None = None) -> bool:
    """Record ``text`` as a question the staff handled without a FAQ entry; True if
    added (see :func:`hand_on_in`)."""
    with db.session() as session:
        return hand_on_in(session, text=text, language=language, user_id=user_id,
                          source=source, ticket_id=ticket_id)


def hand_on_in(session: Session, *, text: str, language: str, user_id: int | None,
               source: str, ticket_id: int | None = None) -> bool:
    """:func:`hand_on` within ``session`` (a staff answer's own transaction). Once per
    ticket; a question given again by the same person (or, without a person, from the
    same source) is not added twice."""
    from sqlalchemy import select

    from bot.storage import OutOfScopeQuestion

    text = " ".join(text.split())[:MAX_TEXT]
    if not fold(text):
        return False
    same = select(OutOfScopeQuestion.id).where(OutOfScopeQuestion.source == source)
    if ticket_id is not None:
        same = same.where(OutOfScopeQuestion.ticket_id == ticket_id)
    else:
        same = same.where(OutOfScopeQuestion.user_id.is_(None)
                          if user_id is None else OutOfScopeQuestion.user_id == user_id,
                          OutOfScopeQuestion.text == text)
    if session.scalar(same.limit(1)) is not None:
        return False
    session.add(OutOfScopeQuestion(user_id=user_id, ticket_id=ticket_id, text=text,
                                   language=language, source=source, created_at=_now()))
    return True


def not_handed_on_in(session: Session, ticket_id: int) -> None:
    """The ticket was answered with a FAQ entry after all: its question is not out of scope."""
    from sqlalchemy import delete

    from bot.storage import OutOfScopeQuestion

    session.execute(delete(OutOfScopeQuestion).where(OutOfScopeQuestion.ticket_id == ticket_id))


def handed_on(db: Database) -> list[HandedOn]:
    """Every out-of-scope question, newest first."""
    from sqlalchemy import select

    from bot.storage import OutOfScopeQuestion

    with db.session() as session:
        return [HandedOn(q.id, q.text, q.language, q.source, q.created_at)
                for q in session.scalars(select(OutOfScopeQuestion).order_by(
                    OutOfScopeQuestion.id.desc()))]


def remove_handed_on(db: Database, question_id: int) -> bool:
    """An admin removes an out-of-scope question; True if it existed."""
    from bot.storage import OutOfScopeQuestion

    with db.session() as session:
        found = session.get(OutOfScopeQuestion, question_id)
        if found is None:
            return False
        session.delete(found)
        return True


def out_of_scope(db: Database) -> list[str]:
    """The texts of the out-of-scope questions, oldest first: what
    :meth:`bot.matcher.FaqMatcher.set_learned` takes as ``out_of_scope``."""
    from sqlalchemy import text

    with db.session() as session:
        return [t for (t,) in session.execute(text(_OUT_OF_SCOPE_QUERY))]


def learn_cases(db: Database, cases: Iterable[Case],
                threshold: float) -> tuple[int, int, int, list[Case]]:
    """Replay labelled cases (``ngo-faq-bot learn --cases``): a case with an entry as
    enough people picking it (a ``cases`` vote), one without as a question the staff
    handled. Returns how many of each were added, how many labels of earlier replays
    were taken back, and the cases left out.

    The file is the admin's word: a question an earlier replay labelled otherwise (the
    same question: :func:`bot.text.same_question`) loses that label, so that a corrected
    file corrects what was learned (people's picks stay). A case is left out when
    another case of the file asks the same question with another answer: which label is
    right is for a person to say, and learning both would teach the bot either at
    random."""
    cases = list(cases)
    labelled = _Labelled([(read(case.question), case.expect) for case in cases])
    left_out = [labelled.others(message, expect) for message, expect in labelled.items]
    taken_back = _take_back_replayed(db, labelled)
    learned = handed = 0
    for case, out in zip(cases, left_out, strict=True):
        if out:
            continue
        language = detect_language(case.question)
        if case.expect is not None:
            learned += vote(db, entry_id=case.expect, text=case.question, language=language,
                            user_id=None, source=CASES, threshold=threshold)
        else:
            handed += hand_on(db, text=case.question, language=language, user_id=None,
                              source=CASES)
    return learned, handed, taken_back, [c for c, out in zip(cases, left_out, strict=True) if out]


class _Labelled:
    """Labelled questions (an entry id, or None: out of scope), found by
    :func:`bot.text.sameness` and compared by :func:`bot.text.same_question`."""

    def __init__(self, items: list[tuple[Message, str | None]]) -> None:
        self.items = items
        self._by_key: dict[object, list[tuple[Message, str | None]]] = defaultdict(list)
        for message, expect in items:
            self._by_key[sameness(message)].append((message, expect))

    def labels(self, message: Message) -> set[str | None]:
        """The labels given to the same question as ``message``."""
        return {expect for other, expect in self._by_key.get(sameness(message), ())
                if same_question(message, other)}

    def others(self, message: Message, expect: str | None) -> bool:
        """Whether the same question as ``message`` has another label than ``expect``."""
        return bool(self.labels(message) - {expect})


def _take_back_replayed(db: Database, labelled: _Labelled) -> int:
    """Delete what earlier replays taught for questions ``labelled`` labels otherwise
    now, and for which it gives one label only (an entry id, or None: out of scope); how
    many were deleted."""
    from sqlalchemy import delete, select

    from bot.storage import LearnedPhrasing, LearnedVote, OutOfScopeQuestion

    def stale(text: str, label: str | None) -> bool:
        now = labelled.labels(read(text))
        return len(now) == 1 and label not in now

    with db.session() as session:
        votes = session.execute(
            select(LearnedVote.id, LearnedVote.text, LearnedPhrasing.entry_id)
            .join(LearnedPhrasing, LearnedPhrasing.id == LearnedVote.phrasing_id)
            .where(LearnedVote.source == CASES, LearnedVote.user_id.is_(None))).all()
        stale_votes = [vote_id for vote_id, text, entry_id in votes if stale(text, entry_id)]
        handed = session.execute(select(OutOfScopeQuestion.id, OutOfScopeQuestion.text).where(
            OutOfScopeQuestion.source == CASES, OutOfScopeQuestion.user_id.is_(None))).all()
        stale_handed = [row_id for row_id, text in handed if stale(text, None)]
        if stale_votes:
            session.execute(delete(LearnedVote).where(LearnedVote.id.in_(stale_votes)))
            _prune(session)
        if stale_handed:
            session.execute(delete(OutOfScopeQuestion).where(
                OutOfScopeQuestion.id.in_(stale_handed)))
        return len(stale_votes) + len(stale_handed)


def export_yaml(learned: Iterable[Learned]) -> str:
    """The phrasings that count, as FAQ YAML an admin can paste into the files: one
    entry per id with only its new ``questions``, by language."""
    # Only here: the matcher's readers need no YAML writer.
    from bot.faq_admin import yaml_text, yaml_writer

    by_entry: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    ids: dict[str, list[int]] = defaultdict(list)
    for item in learned:
        if item.active:
            questions = by_entry[item.entry_id][item.language]
            texts = [visible(t) for t in item.texts]
            questions.extend(t for t in texts if t and t not in questions)
            ids[item.entry_id].append(item.id)
    entries = [{"id": entry_id, "questions": {lang: [yaml_text(t) for t in texts]
                                              for lang, texts in langs.items()}}
               for entry_id, langs in sorted(by_entry.items())]
    header = ("# Learned phrasings: add each entry's questions to the entry with the same id\n"
              "# in the FAQ files, then remove them with `ngo-faq-bot learned remove ID`:\n"
              + "".join(f"#   {entry_id}: {' '.join(map(str, sorted(numbers)))}\n"
                        for entry_id, numbers in sorted(ids.items())))
    out = io.StringIO()
    yaml_writer().dump({"version": 1, "entries": entries}, out)
    return header + out.getvalue()
