"""The database: migrations applied on opening, upgrades keep data, one session scope."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, delete, inspect, select, text
from sqlalchemy.exc import IntegrityError

from bot.storage import Database, DatabaseUnavailable, Organisation, Person


def test_opening_creates_the_latest_schema(database: Database) -> None:
    assert database.revision() == Database.head_revision() is not None
    tables = set(inspect(database.engine).get_table_names())
    assert {"organisations", "people", "alembic_version", "tickets", "outbox"} <= tables


def test_sqlite_file_folder_is_created_and_wal_and_foreign_keys_are_on(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "folder" / "bot.db"
    db = Database(f"sqlite:///{path}")
    try:
        assert path.is_file()
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        db.close()


def test_upgrade_from_the_first_migration_keeps_the_data(database_url: str) -> None:
    old = Database(database_url, migrate=False)
    old.migrate("0001")
    assert old.revision() == "0001"
    assert "people" not in inspect(old.engine).get_table_names()
    with old.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO organisations (nipt, name, city, registered_on, status) "
            "VALUES ('K12345678A', 'Shoqata e Bletarëve', 'Korçë', '2005-04-01', 'aktive')"))
    old.close()

    db = Database(database_url)  # opening applies the missing migrations
    try:
        assert db.revision() == Database.head_revision()
        with db.session() as session:
            org = session.get(Organisation, "K12345678A")
            assert org is not None
            assert (org.name, org.city, org.registered_on) == ("Shoqata e Bletarëve", "Korçë",
                                                              date(2005, 4, 1))
            session.add(Person(telegram_user_id=2**40 + 7, language_code="sq",
                               display_name="Arta"))
        with db.session() as session:
            person = session.get(Person, 2**40 + 7)
            assert person is not None and person.language_code == "sq"
            assert person.created_at is not None
    finally:
        db.close()


def test_reopening_an_up_to_date_database_changes_nothing(database_url: str) -> None:
    first = Database(database_url)
    with first.session() as session:
        session.add(Person(telegram_user_id=42, language_code="en"))
    first.close()
    again = Database(database_url)
    try:
        with again.session() as session:
            assert session.scalars(select(Person.language_code)).all() == ["en"]
    finally:
        again.close()


def test_session_commits_on_success_and_rolls_back_on_error(database: Database) -> None:
    with database.session() as session:
        session.add(Person(telegram_user_id=1, language_code="sq"))
    with pytest.raises(RuntimeError):
        with database.session() as session:
            session.add(Person(telegram_user_id=2, language_code="en"))
            session.flush()
            raise RuntimeError("boom")
    with database.session() as session:
        assert session.scalars(select(Person.telegram_user_id)).all() == [1]


@pytest.mark.parametrize("url, message", [
    ("nonsense://x", "Can't load plugin"),
    ("not a url", "not a database URL"),
    ("postgresql+psycopg://nobody:secret@127.0.0.1:1/x", "port 1 failed"),
    # As hosting services write it: SQLAlchemy has no "postgres" dialect.
    ("postgres://nobody:secret@127.0.0.1/x", "Can't load plugin: sqlalchemy.dialects:postgres "
     "(write the URL as postgresql+psycopg://..., the driver the bot installs with "
     "pip install -e '.[postgres]')"),
])
def test_an_unusable_url_is_a_clear_error_without_the_password(url: str, message: str) -> None:
    with pytest.raises(DatabaseUnavailable, match="cannot open the database") as raised:
        Database(url)
    assert message in str(raised.value)
    assert "secret" not in str(raised.value)


def test_a_file_that_is_not_a_database_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    path.write_bytes(b"nipt,name\nK12345678A,Org\n")
    with pytest.raises(DatabaseUnavailable, match="file is not a database"):
        Database(f"sqlite:///{path}")
    assert path.read_bytes() == b"nipt,name\nK12345678A,Org\n"


@contextmanager
def downgraded(db: Database, revision: str) -> Iterator[Connection]:
    """A transaction on ``db`` brought down to ``revision`` first."""
    from alembic import command

    from bot.storage import _alembic_config

    config = _alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
        yield connection


def test_out_of_scope_questions_migrate_up_and_down(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert "out_of_scope_questions" in inspect(db.engine).get_table_names()
        with downgraded(db, "0014"):
            pass
        assert db.revision() == "0014"
        assert "out_of_scope_questions" not in inspect(db.engine).get_table_names()
        db.migrate()
        assert db.revision() == Database.head_revision() == "0019"
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO out_of_scope_questions (user_id, text, language, source, "
                "created_at) VALUES (7, 'are you hiring?', 'en', 'staff', CURRENT_TIMESTAMP)"))
            assert connection.execute(text(
                "SELECT text FROM out_of_scope_questions WHERE user_id = 7")).scalar() == (
                "are you hiring?")
    finally:
        db.close()


def test_answers_sent_before_the_upgrade_lose_their_words(database_url: str) -> None:
    """A group greeted by a person's name, sent before answers were emptied once made: the
    upgrade empties it; a call still to make, or a ticket's post, keeps its text."""
    db = Database(database_url)
    try:
        with downgraded(db, "0015") as connection:
            for purpose, status in (("reply", "sent"), ("reply", "failed"),
                                    ("reply", "pending"), ("ticket_post", "sent")):
                connection.execute(text(
                    "INSERT INTO outbox (chat_id, method, payload, purpose, status, attempts, "
                    "next_attempt_at, created_at) VALUES (-100, 'say', :payload, :purpose, "
                    ":status, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                    {"payload": '{"text": "Përshëndetje, Xhevdet!", "buttons": [[["Po", "x"]]],'
                                ' "reply_to": 7, "thread": null}',
                     "purpose": purpose, "status": status})
        db.migrate()
        assert db.revision() == Database.head_revision()
        with db.engine.begin() as connection:
            rows = connection.execute(text(
                "SELECT purpose, status, payload FROM outbox ORDER BY id")).all()
        payloads = [p if isinstance(p, dict) else json.loads(p) for _, _, p in rows]
        assert payloads[0] == payloads[1] == {"text": "", "buttons": [], "reply_to": 7,
                                              "thread": None}
        assert payloads[2]["text"] == payloads[3]["text"] == "Përshëndetje, Xhevdet!"
    finally:
        db.close()


def test_updates_waiting_at_the_upgrade_are_handed_over_uncounted(database_url: str) -> None:
    """An update stored by the version before, not yet handled, is handed over at the next
    start as any other: no process is counted as having died with it."""
    from bot.inbox import Inbox

    db = Database(database_url)
    try:
        with downgraded(db, "0016") as connection:
            connection.execute(text(
                "INSERT INTO inbox (update_id, chat_id, user_id, payload, received_at) "
                "VALUES (41, 7, 7, :payload, CURRENT_TIMESTAMP)"),
                {"payload": '{"update_id": 41, "message": {"text": "Tungjatjeta"}}'})
        db.migrate()
        [waiting] = Inbox(db).pending()
        assert (waiting.update_id, waiting.again, waiting.suspect) == (41, True, False)
        assert waiting.payload["message"]["text"] == "Tungjatjeta"
    finally:
        db.close()


def test_ticket_numbers_and_outbox_ids_are_never_reused(database_url: str) -> None:
    """A forget deletes the person's tickets and calls; the next ticket must not take the
    number of a deleted one (the staff chat keeps it), nor a new call the id of one still
    on its way. The upgrade keeps the tickets and what refers to them; foreign keys are
    enforced again after it."""
    from bot.storage import OutboxItem, Ticket, TicketMessage

    db = Database(database_url)
    try:
        with downgraded(db, "0017") as connection:
            connection.execute(text(
                "INSERT INTO tickets (id, user_id, chat_id, language, question, guesses, "
                "status, created_at, updated_at) VALUES (7, 1, 1, 'sq', '?', '[]', 'open', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            connection.execute(text(
                "INSERT INTO ticket_messages (ticket_id, direction, author_id, text, chat_id, "
                "message_id, created_at) VALUES (7, 'person', 1, 'Tungjatjeta', 1, 1, "
                "CURRENT_TIMESTAMP)"))
            connection.execute(text(
                "INSERT INTO learned_phrasings (id, entry_id, language, source, created_at) "
                "VALUES (3, 'ngo-registration', 'sq', 'pick', CURRENT_TIMESTAMP)"))
            connection.execute(text(
                "INSERT INTO learned_votes (phrasing_id, user_id, text, source, created_at) "
                "VALUES (3, 1, 'si regjistrohet', 'pick', CURRENT_TIMESTAMP)"))
        db.migrate()
        with db.engine.connect() as connection:  # rebuilt tables kept what refers to them
            assert connection.execute(text(
                "SELECT phrasing_id, text FROM learned_votes")).all() == [(3, "si regjistrohet")]
        now = datetime.now(UTC)

        def ticket() -> int:
            with db.session() as session:
                row = Ticket(user_id=2, chat_id=2, language="sq", question="?", guesses=[],
                             status="open", created_at=now, updated_at=now)
                session.add(row)
                session.flush()
                return row.id

        def call() -> int:
            with db.session() as session:
                row = OutboxItem(chat_id=2, method="say", payload={"text": "x"},
                                 purpose="reply", status="pending", attempts=0,
                                 next_attempt_at=now, created_at=now)
                session.add(row)
                session.flush()
                return row.id

        with db.session() as session:
            [message] = session.scalars(select(TicketMessage)).all()
            assert (message.ticket_id, message.text) == (7, "Tungjatjeta")
        newest, last_call = ticket(), call()
        with db.session() as session:
            session.execute(delete(TicketMessage))
            session.execute(delete(Ticket).where(Ticket.id.in_([7, newest])))
            session.execute(delete(OutboxItem).where(OutboxItem.id == last_call))
        assert ticket() > newest and call() > last_call
        with db.engine.begin() as connection, pytest.raises(IntegrityError):
            connection.execute(text(  # foreign keys are on again (SQLite: every connection)
                "INSERT INTO ticket_messages (ticket_id, direction, author_id, text, chat_id, "
                "message_id, created_at) VALUES (999, 'person', 1, '?', 1, 1, "
                "CURRENT_TIMESTAMP)"))
    finally:
        db.close()
