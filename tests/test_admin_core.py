"""The admins' core on a real database (SQLite and PostgreSQL): the report's figures on a
known history, forgetting a person, and the retention of question logs."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import BigInteger, func, inspect, select, text

from bot import learning, privacy, question_log, report, retention, suggestions
from bot.config import load_config
from bot.workhours import parse_hours
from bot.intents import Say
from bot.outbox import enqueue
from bot.storage import (Ban, Database, FaqSuggestion, LearnedPhrasing, LearnedVote, OutboxItem,
                         OutboxMention, Person, QuestionLog, Ticket, TicketMessage)

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
PERIOD = report.Period.of_days(date(2026, 3, 2), date(2026, 3, 4))


def log(db: Database, when: datetime, text_: str, outcome: str, *, user: int = 7,
        entry: str | None = None, feedback: int | None = None) -> None:
    with db.session() as session:
        session.add(QuestionLog(user_id=user, chat_id=user, text=text_, language="sq",
                                decision=outcome, outcome=outcome, entry_id=entry,
                                feedback=feedback, score=50.0, created_at=when))


def ticket(db: Database, user: int, created: datetime, answered_after: timedelta | None,
           status: str) -> int:
    with db.session() as session:
        row = Ticket(user_id=user, chat_id=user, language="sq", question="?", guesses=[],
                     status=status, created_at=created, updated_at=created)
        session.add(row)
        session.flush()
        if answered_after is not None:
            for minutes in (0, 30):  # only the first staff answer counts
                session.add(TicketMessage(ticket_id=row.id, direction="staff", author_id=99,
                                          text="answer", chat_id=-100, message_id=row.id * 10,
                                          created_at=created + answered_after
                                          + timedelta(minutes=minutes)))
        return row.id


def known_history(db: Database) -> None:
    log(db, DAY, "Si regjistrohet nje OJF?", "answered", entry="registration", feedback=1)
    log(db, DAY, "Kur hapet thirrja per grante?", "answered", entry="grants", feedback=-1)
    log(db, DAY + timedelta(days=1), "Cilat dokumente duhen?", "picked", entry="documents",
        feedback=1)
    log(db, DAY + timedelta(days=1), "Sa kushton vula e organizates?", "staff")
    log(db, DAY + timedelta(days=1), "sa kushton vula e organizates", "staff")
    log(db, DAY + timedelta(days=2), "Sa kushton vula per organizaten?", "suggested")
    log(db, DAY + timedelta(days=2), "A ka parking ne zyre?", "staff")
    log(db, DAY + timedelta(days=2), "Emri Shoqata", "registry")
    log(db, DAY - timedelta(days=1), "before the period", "staff")
    log(db, DAY + timedelta(days=3), "after the period", "answered")
    # Staff answers after 10, 20, 30, 40 and 120 minutes; one unanswered, still open.
    for n, minutes in enumerate((10, 20, 30, 40, 120)):
        ticket(db, 100 + n, DAY + timedelta(hours=n), timedelta(minutes=minutes), "answered")
    ticket(db, 200, DAY + timedelta(days=1), None, "open")
    ticket(db, 201, DAY - timedelta(days=5), None, "open")  # opened earlier, still open


def test_report_figures_on_a_known_history(database: Database) -> None:
    known_history(database)
    figures = report.build(database, PERIOD)
    assert figures.asked == 8
    assert (figures.answered, figures.picked, figures.staff) == (2, 1, 3)
    assert figures.outcomes["suggested"] == 1 and figures.outcomes["registry"] == 1
    assert (figures.helpful, figures.not_helpful) == (2, 1)
    assert figures.answered_tickets == 5
    assert figures.response_median == timedelta(minutes=30)
    assert figures.response_p90 == timedelta(minutes=120)
    assert figures.open_tickets == 2
    top = figures.unanswered[0]
    assert top.count == 3 and "vula" in top.example.lower()
    assert [c.count for c in figures.unanswered] == [3, 1]
    assert figures.per_day[date(2026, 3, 3)]["staff"] == 2
    assert sum(sum(day.values()) for day in figures.per_day.values()) == 8
    png = report.chart_png(figures, "en")
    assert png.startswith(b"\x89PNG") and len(png) > 1000


def test_report_counts_working_time_and_satisfaction(database: Database) -> None:
    # 2026-03-02 is a Monday; 09:00 UTC is 10:00 in Tirana. Opening hours 08:00-16:00.
    hours = parse_hours("Europe/Tirane", {"mon-fri": "08:00-16:00"})
    ticket(database, 300, DAY + timedelta(hours=6), timedelta(hours=17), "answered")
    ticket(database, 301, DAY, timedelta(minutes=40), "answered")
    rated = [ticket(database, 302 + n, DAY, None, "closed") for n in range(4)]
    with database.session() as session:
        for number, vote, comment in zip(rated, (1, 1, -1, -1), (None, None, "vonë", None)):
            row = session.get(Ticket, number)
            row.question = f"Pyetja {number}"
            row.rating, row.rating_comment, row.rated_at = vote, comment, DAY + timedelta(hours=1)
    figures = report.build(database, PERIOD, hours)
    # 15:00 -> 08:00 next morning in Tirana: 1 working hour (not 17), and 40 minutes.
    assert sorted([figures.response_median, figures.response_p90]) == [
        timedelta(minutes=50), timedelta(hours=1)]
    assert report.build(database, PERIOD).response_p90 == timedelta(hours=17)
    assert (figures.rated, figures.satisfied, figures.satisfaction) == (4, 2, 0.5)
    assert [(w.ticket_id, w.comment) for w in figures.worst] == [(rated[2], "vonë"),
                                                                 (rated[3], None)]
    shown = report.describe(figures, "en")
    assert "Satisfaction with the staff: 50% 👍 (2 of 4 ratings)" in shown
    assert f"#{rated[2]} · 2026-03-02 · Pyetja {rated[2]} — «vonë»" in shown


def test_report_of_an_empty_period(database: Database) -> None:
    figures = report.build(database, PERIOD)
    assert figures.asked == 0 and figures.response_median is None
    assert figures.unanswered == ()


def test_question_log_follows_picks_staff_and_feedback(database: Database) -> None:
    question_log.record(database, user_id=5, chat_id=5, text="dokumente?", language="sq",
                        decision="suggested", entry_id=None, score=45.0)
    question_log.picked(database, 5, "documents")
    question_log.feedback(database, 5, "documents", helpful=False)
    question_log.record(database, user_id=5, chat_id=5, text="parking?", language="sq",
                        decision="suggested", entry_id=None, score=43.0)
    question_log.handed_to_staff(database, 5)
    with database.session() as session:
        rows = session.scalars(select(QuestionLog).order_by(QuestionLog.id)).all()
        assert [(r.outcome, r.entry_id, r.feedback) for r in rows] == [
            ("picked", "documents", -1), ("staff", None, None)]


def count_about(db: Database, user: int) -> dict[str, int]:
    with db.session() as session:
        return {
            "people": session.scalar(select(func.count()).select_from(Person)
                                     .where(Person.telegram_user_id == user)),
            "question_log": session.scalar(select(func.count()).select_from(QuestionLog)
                                           .where(QuestionLog.user_id == user)),
            "tickets": session.scalar(select(func.count()).select_from(Ticket)
                                      .where(Ticket.user_id == user)),
            "ticket_messages": session.scalar(
                select(func.count()).select_from(TicketMessage).join(Ticket)
                .where(Ticket.user_id == user)),
            "faq_suggestions": session.scalar(
                select(func.count()).select_from(FaqSuggestion).join(Ticket)
                .where(Ticket.user_id == user)),
            "outbox": session.scalar(select(func.count()).select_from(OutboxItem)
                                     .where(OutboxItem.chat_id == user)),
        }


def someone(db: Database, user: int) -> None:
    with db.session() as session:
        session.add(Person(telegram_user_id=user, language_code="en", display_name="Ana"))
    log(db, DAY, f"question of {user}", "staff", user=user)
    ticket_id = ticket(db, user, DAY, timedelta(minutes=5), "answered")
    now = datetime.now(timezone.utc)
    with db.session() as session:
        session.add(FaqSuggestion(ticket_id=ticket_id, question="q", language="sq", answer="a",
                                  status="pending", suggested_by=99))
        session.add(OutboxItem(chat_id=user, method="say", payload={"text": "hi"},
                               ticket_id=ticket_id, purpose="answer", status="sent",
                               attempts=1, next_attempt_at=now, created_at=now))
        session.add(Ban(user_id=user, banned_by=99, created_at=now))


def test_forget_removes_every_row_about_a_person_and_nothing_else(database: Database) -> None:
    someone(database, 41)
    someone(database, 42)
    before = count_about(database, 41)
    assert all(before.values()), before
    deleted = privacy.forget(database, 41).deleted
    assert count_about(database, 41) == dict.fromkeys(before, 0)
    assert deleted["question_log"] == 1 and deleted["tickets"] == 1 and deleted["bans"] == 1
    assert count_about(database, 42) == before  # the other person is untouched
    # every table with a user id column holds nothing about 41 any more
    for name in inspect(database.engine).get_table_names():
        columns = {c["name"] for c in inspect(database.engine).get_columns(name)}
        for column in {"user_id", "telegram_user_id"} & columns:
            with database.engine.connect() as connection:
                left = connection.execute(
                    text(f"SELECT count(*) FROM {name} WHERE {column} = 41")).scalar()
            assert left == 0, name


# Id columns that never hold a person's id: chats, messages, topics, updates. (A private
# chat's id is its person's id, but those rows are found by their user id.)
NOT_PEOPLE = {("outbox", "chat_id"), ("outbox", "sent_message_id"), ("outbox", "update_id"),
              ("inbox", "update_id"), ("inbox", "chat_id"), ("question_log", "chat_id"),
              ("ticket_messages", "chat_id"), ("ticket_messages", "message_id"),
              ("tickets", "chat_id"), ("tickets", "question_message_id"),
              ("tickets", "staff_chat_id"), ("tickets", "staff_message_id"),
              ("tickets", "staff_thread_id"), ("tickets", "update_id"),
              ("ticket_drafts", "message_id"),
              ("staff_chat_moves", "old_chat_id"), ("staff_chat_moves", "new_chat_id")}


def test_forget_knows_every_column_that_can_hold_a_person(database: Database) -> None:
    """A new column with a Telegram id must be deleted or pseudonymised by forget."""
    staff = {(table, column) for table, column, _ in privacy.STAFF_COLUMNS}
    unknown = []
    for name in inspect(database.engine).get_table_names():
        for column in inspect(database.engine).get_columns(name):
            key = (name, column["name"])
            if isinstance(column["type"], BigInteger) and key not in NOT_PEOPLE | staff \
                    and column["name"] not in privacy.USER_COLUMNS:
                unknown.append(".".join(key))
    assert not unknown, (f"forget does not know {unknown}: add them to privacy.USER_COLUMNS "
                         "or STAFF_COLUMNS, or to NOT_PEOPLE here")


def test_forget_can_keep_the_ban(database: Database) -> None:
    someone(database, 43)
    privacy.forget(database, 43, keep=("bans",))
    with database.session() as session:
        assert session.get(Ban, 43) is not None
    assert count_about(database, 43)["question_log"] == 0


def test_retention_deletes_only_old_question_logs(database: Database) -> None:
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    log(database, now - timedelta(days=400), "old", "staff")
    log(database, now - timedelta(days=366), "just too old", "staff")
    log(database, now - timedelta(days=364), "kept", "staff")
    log(database, now - timedelta(hours=1), "new", "answered")
    assert retention.purge(database, timedelta(days=365), min_votes=2, now=now).questions == 2
    assert not retention.purge(database, None, min_votes=2, now=now)
    with database.session() as session:
        assert sorted(session.scalars(select(QuestionLog.text))) == ["kept", "new"]


def test_retention_takes_the_words_of_old_closed_tickets_and_keeps_their_figures(
        database: Database) -> None:
    year = timedelta(days=365)
    now = DAY + year + timedelta(days=30)
    old = ticket(database, 100, DAY, timedelta(minutes=10), "closed")
    still_open = ticket(database, 101, DAY, timedelta(minutes=20), "answered")
    recent = ticket(database, 102, now - timedelta(days=3), timedelta(minutes=5), "closed")
    with database.session() as session:
        for number, closed in ((old, DAY + timedelta(days=1)), (recent, now - timedelta(days=2))):
            row = session.get(Ticket, number)
            row.question, row.person_name, row.closed_at = "Pyetja ime", "Ana", closed
            row.rating, row.rating_comment, row.rated_at = -1, "vonë", closed
        for number in (old, still_open, recent):
            created = session.get(Ticket, number).created_at
            session.add(TicketMessage(ticket_id=number, direction="person", author_id=100,
                                      author_name="Ana", text="edhe një foto", kind="photo",
                                      file_id="AgAC-photo", chat_id=100, message_id=7,
                                      created_at=created))
    before = report.build(database, PERIOD)
    purged = retention.purge(database, year, min_votes=2, now=now)
    assert (purged.tickets, purged.ticket_messages) == (1, 3)
    after = report.build(database, PERIOD)
    assert (after.response_median, after.rated, after.satisfied) == (
        before.response_median, before.rated, before.satisfied) == (
        timedelta(minutes=15), 1, 0)
    with database.session() as session:
        gone = session.get(Ticket, old)
        assert (gone.question, gone.person_name, gone.rating_comment, gone.rating) == (
            "", None, None, -1)
        texts = {number: [(m.text, m.author_name, m.file_id) for m in session.scalars(
            select(TicketMessage).where(TicketMessage.ticket_id == number))]
                 for number in (old, still_open, recent)}
    assert texts[old] == [(None, None, None)] * 3
    assert ("edhe një foto", "Ana", "AgAC-photo") in texts[still_open]
    assert ("edhe një foto", "Ana", "AgAC-photo") in texts[recent]
    assert session_count(database, Ticket) == 3  # the tickets themselves stay


def session_count(db: Database, model: type) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)))


def test_retention_deletes_old_sent_and_failed_outbox_calls(database: Database) -> None:
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    long_ago = now - timedelta(days=400)
    closed = ticket(database, 100, long_ago, None, "closed")
    answered = ticket(database, 101, long_ago, None, "answered")
    with database.session() as session:
        session.get(Ticket, closed).closed_at = long_ago
        for name, status, when, number in (
                ("old answer", "sent", long_ago, None), ("old refused", "failed", long_ago, None),
                ("old card, closed", "sent", long_ago, closed),
                ("old card, answered", "sent", long_ago, answered),
                ("old, still waiting", "pending", long_ago, None),
                ("new answer", "sent", now - timedelta(days=1), None)):
            item = enqueue(session, chat_id=100, intent=Say(name), purpose="reply",
                           ticket_id=number, now=when)
            item.status = status
            session.flush()
            session.add(OutboxMention(outbox_id=item.id, user_id=7))  # it names someone
    assert retention.purge(database, timedelta(days=365), min_votes=2, now=now).outbox == 3
    with database.session() as session:
        kept = sorted(item.payload["text"] for item in session.scalars(select(OutboxItem)))
        mentions = len(session.scalars(select(OutboxMention)).all())
    assert kept == ["new answer", "old card, answered", "old, still waiting"]
    assert mentions == 3  # those of the deleted calls went with them


def test_retention_deletes_old_votes_of_phrasings_that_do_not_count(database: Database) -> None:
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    long_ago, lately = now - timedelta(days=400), now - timedelta(days=2)
    with database.session() as session:
        phrasings = []
        for votes in (((1, long_ago),),                    # one person, long ago: goes
                      ((1, long_ago), (2, long_ago)),      # two people: it counts, stays
                      ((1, long_ago), (3, lately))):       # two, but one vote old: it counts
            phrasing = LearnedPhrasing(entry_id="grants", language="sq", source="pick",
                                       created_at=votes[0][1])
            session.add(phrasing)
            session.flush()
            phrasings.append(phrasing.id)
            for user, when in votes:
                session.add(LearnedVote(phrasing_id=phrasing.id, user_id=user, source="pick",
                                        text=f"pyetja {phrasing.id} e {user}", created_at=when))
    assert retention.purge(database, timedelta(days=365), min_votes=2, now=now).votes == 1
    assert [p.id for p in learning.listing(database, 2)] == phrasings[:0:-1]
    # With three people needed, the last two do not count: their old votes go.
    assert retention.purge(database, timedelta(days=365), min_votes=3, now=now).votes == 3
    [left] = learning.listing(database, 3)
    assert (left.id, left.texts) == (phrasings[2], (f"pyetja {phrasings[2]} e 3",))


def test_config_of_reloads_uploads_and_retention(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("faq:\n  path: faq\n  reload_interval: 10s\n  history: old-faq\n"
                    "  max_upload_kb: 64\nprivacy:\n  retention: 30d\n", encoding="utf-8")
    config = load_config(path, environ={})
    assert config.faq_admin.reload_interval == timedelta(seconds=10)
    assert config.faq_admin.history_dir == tmp_path / "old-faq"
    assert config.faq_admin.max_upload_bytes == 64 * 1024
    assert config.privacy.retention == timedelta(days=30)
    path.write_text("privacy:\n  retention: null\n", encoding="utf-8")
    assert load_config(path, environ={}).privacy.retention is None


def test_a_suggestion_shown_to_an_admin_names_the_person_whose_question_it_quotes(
        database: Database) -> None:
    number = ticket(database, 77, datetime(2026, 6, 1, tzinfo=timezone.utc), None, "answered")
    with database.session() as session:
        quoting = FaqSuggestion(ticket_id=number, question="?", language="sq", answer="!")
        written = FaqSuggestion(ticket_id=None, question="?", language="sq", answer="!")
        session.add_all([quoting, written])
    waiting = suggestions.pending(database)
    assert suggestions.askers(database, waiting) == {quoting.id: 77}
