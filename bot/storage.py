"""Everything the bot stores, and the one way to open a session on it.

One database URL decides where: a SQLite file by default, PostgreSQL with
``DATABASE_URL=postgresql+psycopg://...``. The schema belongs to the Alembic
migrations in ``bot/migrations``; :class:`Database` applies them when it is
opened, so upgrading the bot upgrades the schema without losing data.
"""

from __future__ import annotations

import logging
import select
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    create_engine,
    event,
    false,
    func,
    text,
)
from sqlalchemy.engine import Connection, CursorResult, Engine, Result, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    DisconnectionError,
    NoSuchModuleError,
    SQLAlchemyError,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

if TYPE_CHECKING:  # Alembic is imported where the schema is upgraded: reading needs none of it
    from alembic.config import Config as AlembicConfig

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The PostgreSQL advisory lock held while the schema is upgraded.
MIGRATION_LOCK = 0x6E676F66
# Attempts to empty SQLite's write-ahead log while other connections read.
CHECKPOINT_TRIES = 5

log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    """A registered civil society organisation, keyed by its tax id (NIPT)."""

    __tablename__ = "organisations"

    nipt: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    acronym: Mapped[str | None] = mapped_column(Text)
    legal_form: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    activity: Mapped[str | None] = mapped_column(Text)
    registered_on: Mapped[date | None] = mapped_column(Date)
    court_decision: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # A row of the bundled demo registry (invented); the first real import removes them.
    sample: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Taken out by ``registry import --replace`` or ``registry remove``: kept, never found.
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RegistryChange(Base):
    """An organisation an import or a removal touched: the running bot re-reads only these."""

    __tablename__ = "registry_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    nipt: Mapped[str] = mapped_column(String(10))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SavedRegistryIndex(Base):
    """The registry search index as last saved, with the last change it includes."""

    __tablename__ = "registry_index"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    change_id: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Person(Base):
    """Someone who talks to the bot on Telegram, and what they chose (e.g. /lang)."""

    __tablename__ = "people"

    telegram_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language_code: Mapped[str | None] = mapped_column(String(16))
    display_name: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


class QuestionLog(Base):
    """A question the bot decided: what it did, what became of it, and the person's vote.

    ``decision`` is the bot's first move (answered, suggested, registry, staff);
    ``outcome`` starts equal to it and changes when the person picks a
    suggestion (picked) or asks for staff (staff). ``feedback`` is +1 / -1.
    """

    __tablename__ = "question_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(16))
    feedback: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TicketDraft(Base):
    """A question the bot could not answer for sure, kept so that an "ask the staff"
    button pressed later can turn it into a ticket (pruned after a day)."""

    __tablename__ = "ticket_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    question: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    guesses: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    message_id: Mapped[int | None] = mapped_column(BigInteger)  # in the private chat


class Ticket(Base):
    """A question handed to the staff; ``status`` is open, answered or closed.

    ``guesses`` are the bot's best FAQ entries (``id``, ``question``, ``score``).
    ``staff_message_id`` / ``staff_thread_id`` (the ticket's post and forum
    topic in the staff chat) are filled in by the outbox once they exist.
    """

    __tablename__ = "tickets"
    # Numbers never reused (SQLite reuses the last one once deleted, as a forget does):
    # the staff chat keeps a forgotten ticket's number (migration 0018).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    person_name: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(Text)
    guesses: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open")
    claimed_by: Mapped[int | None] = mapped_column(BigInteger)
    claimed_by_name: Mapped[str | None] = mapped_column(Text)
    question_message_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_message_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_thread_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The FAQ entry a staff member answered with (/faq): the question may become its phrasing.
    entry_id: Mapped[str | None] = mapped_column(String(64))
    question_edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The person's satisfaction once closed: +1 / -1, an optional comment; asked once.
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment_wanted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rating_asked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The update that opened the ticket: handled again after a crash, it finds the ticket.
    update_id: Mapped[int | None] = mapped_column(BigInteger)


class TicketMessage(Base):
    """A message of a ticket's conversation: from the ``person``, from the ``staff``, or a
    staff ``note`` the person never sees. Media are kept by Telegram's ``file_id``.
    ``relay_id`` is the outbox call that copied a person's message to the staff chat (an
    edit of the message edits that copy)."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    direction: Mapped[str] = mapped_column(String(8))
    author_id: Mapped[int] = mapped_column(BigInteger)
    author_name: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str | None] = mapped_column(String(16))
    file_id: Mapped[str | None] = mapped_column(String(256))
    # None for a person's text waiting to be posted with others (Tickets.post_followups).
    relay_id: Mapped[int | None] = mapped_column(Integer)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxItem(Base):
    """An intent waiting to be carried out (see :mod:`bot.outbox`): ``method`` is its kind
    and ``payload`` its fields (:mod:`bot.intents`)."""

    __tablename__ = "outbox"
    # Ids never reused (SQLite reuses the last one once deleted): a call in flight whose
    # row a forget deleted must not be recorded on a new call (migration 0018).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JSON)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    purpose: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The update whose handling queued the call, and its place there (unique together).
    update_id: Mapped[int | None] = mapped_column(BigInteger)
    update_seq: Mapped[int | None] = mapped_column(Integer)
    # The worker sending it, until when (then another may take it).
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxMention(Base):
    """Someone a call of the staff chat names that is not about one ticket of theirs (the
    people and staff members of /open and /mine, the person of /ban by id): their forget
    deletes the message (see :func:`bot.privacy.forget`)."""

    __tablename__ = "outbox_mentions"

    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"),
                                           primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class InboxUpdate(Base):
    """A Telegram update as received, kept until handled (see :mod:`bot.inbox`).

    ``payload`` is the update's JSON, emptied once ``handled_at`` is set; an update set
    aside keeps it (``set_aside_at``) until :meth:`bot.inbox.Inbox.prune` deletes it.
    """

    __tablename__ = "inbox"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict | None] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # With several workers: who is handling it, until when (then another may take it).
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Handlings begun after a restart (see bot.inbox.Inbox.begin) that never ended: each a
    # process that died while the update was in hand.
    unfinished: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When it was set aside, not to be handled: it stopped the bot (see bot.inbox).
    set_aside_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Ban(Base):
    """Someone the staff banned: they can open no tickets."""

    __tablename__ = "bans"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    banned_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FaqSuggestion(Base):
    """A staff answer proposed for the FAQ; ``entry_id`` is the bot's best guess (None: a
    new entry). ``status`` is pending, accepted or rejected."""

    __tablename__ = "faq_suggestions"
    __table_args__ = {"sqlite_autoincrement": True}  # ids in buttons: never reused (0018)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    question: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    answer: Mapped[str] = mapped_column(Text)
    entry_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    suggested_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LearnedPhrasing(Base):
    """A question people taught the bot for a FAQ entry (see :mod:`bot.learning`).

    Its words are in its votes (each person's own question), so that
    forgetting a person takes their words with them.
    """

    __tablename__ = "learned_phrasings"
    __table_args__ = {"sqlite_autoincrement": True}  # ids in buttons: never reused (0018)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LearnedVote(Base):
    """One person's support for a learned phrasing: the question they asked and how
    (``pick``: they picked the entry among suggestions; ``staff``: an admin linked a
    staff answer to it; ``cases``: replayed labelled cases, no person)."""

    __tablename__ = "learned_votes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phrasing_id: Mapped[int] = mapped_column(ForeignKey("learned_phrasings.id",
                                                        ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutOfScopeQuestion(Base):
    """A question the staff handled without a FAQ entry: evidence that questions like
    it are the staff's to answer (see :mod:`bot.learning`). ``source`` is ``staff``
    (a ticket answered in the staff's own words, ``ticket_id`` set) or ``cases``
    (replayed labelled cases, no person)."""

    __tablename__ = "out_of_scope_questions"
    __table_args__ = {"sqlite_autoincrement": True}  # ids in buttons: never reused (0018)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SavedReply(Base):
    """A staff answer kept under a name (``/save NAME``), offered by ``/saved``."""

    __tablename__ = "saved_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StaffContact(Base):
    """Someone seen writing in a staff chat, so that ``/assign N @username`` finds them."""

    __tablename__ = "staff_members"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    name: Mapped[str | None] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StaffChatMove(Base):
    """A staff chat that became another (a group upgraded to a supergroup)."""

    __tablename__ = "staff_chat_moves"

    old_chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    new_chat_id: Mapped[int] = mapped_column(BigInteger)
    moved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _alembic_config() -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # Deleted content is overwritten with zeros, not left in free pages (see bot.privacy).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _still_open(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Before a pooled PostgreSQL connection is used: is the server still there?

    An idle connection has nothing to read; a server that restarted or dropped it
    has left an end of file or a farewell on its socket. Looking costs no round
    trip (a ``SELECT 1`` before every transaction cost a fifth of the time of an
    update); a connection found closed is replaced (``DisconnectionError``). One
    the server drops in the very instant it is taken fails that transaction, as
    one dropped right after a ping would."""
    try:
        if dbapi_connection.closed:
            raise DisconnectionError("the connection is closed")
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError) as exc:
        raise DisconnectionError(str(exc)) from None
    if readable:
        raise DisconnectionError("the server closed the connection")


class DatabaseUnavailable(Exception):
    """The database URL cannot be used: malformed, an unknown driver, a server that does
    not answer, a file that is not a database, or no file where one is read."""


def _safe_url(url: str) -> str:
    """The URL to show in a message: without its password, or not at all when unreadable."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def _driver_hint(url: str, exc: Exception) -> str:
    """How to write a PostgreSQL URL whose driver could not be loaded ("postgres://", as
    hosting services give it; "postgresql://" means psycopg2, which may be missing)."""
    if url.partition("://")[0].lower().startswith("postgres") and isinstance(
            exc, (NoSuchModuleError, ImportError)):
        return (" (write the URL as postgresql+psycopg://..., the driver the bot installs "
                "with pip install -e '.[postgres]')")
    return ""


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed."""
    return int(cast(CursorResult[Any], result).rowcount or 0)


def write_lock_first(session: Session | Connection) -> None:
    """On SQLite, begin ``session``'s transaction with the database's write lock (a write
    that changes nothing), so that what it reads next stays as read until it commits.

    SQLite has no row locks, and its driver reads outside a transaction until the first
    write: two transactions that read a row and then write what they read would both read
    before either writes. Taken first, the second one waits here and then reads what the
    first one wrote. Nothing on PostgreSQL, where the rows read are locked instead
    (``SELECT ... FOR UPDATE``) or an advisory lock is taken."""
    bind = session.get_bind() if isinstance(session, Session) else session
    if bind.dialect.name == "sqlite":
        session.execute(text("UPDATE outbox SET id = id WHERE id = 0"))


def reason_of(exc: Exception) -> str:
    """The first line of what the driver said, without SQLAlchemy's background links (nor
    the lines after it, where PostgreSQL quotes the failing row: names, questions)."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


class Database:
    """The bot's database: one engine, one session scope, migrated on opening.

    ``Database(url)`` creates the folder of a SQLite file if needed and brings
    the schema up to the latest migration (pass ``migrate=False`` to leave it
    as it is, e.g. to test an upgrade). ``create=False`` refuses a SQLite file that
    does not exist: a command that only reads or deletes must not make a new, empty
    database at a mistyped ``DATABASE_URL`` and report that it holds nothing.
    """

    def __init__(self, url: str, *, migrate: bool = True, create: bool = True) -> None:
        try:
            self._open(url, migrate, create)
        except (ArgumentError, DBAPIError, ImportError, OSError) as exc:
            raise DatabaseUnavailable(f"cannot open the database {_safe_url(url)}: "
                                      f"{reason_of(exc)}{_driver_hint(url, exc)}") from None

    def _open(self, url: str, migrate: bool, create: bool) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            if not create and not Path(parsed.database).is_file():
                raise DatabaseUnavailable(
                    f"there is no database at {parsed.database}: nothing has been stored "
                    "there yet (is DATABASE_URL, or database.url in the config, right?)")
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: a database error in the log shows the SQL, never the values
        # (people's names and questions).
        # psycopg's connections are checked without a round trip (_still_open); another
        # server driver's with a ping before each transaction.
        psycopg = not self.is_sqlite and parsed.get_driver_name() == "psycopg"
        self.engine: Engine = create_engine(
            url, hide_parameters=True, pool_pre_ping=not self.is_sqlite and not psycopg)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        if psycopg:
            event.listen(self.engine, "checkout", _still_open)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._open_session: ContextVar[Session | None] = ContextVar("session", default=None)
        if migrate:
            self.migrate()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema to ``revision`` (default: the latest).

        On PostgreSQL, workers starting together take turns (an advisory lock), so
        that one upgrades and the others find the schema up to date."""
        from alembic import command

        config = _alembic_config()
        with self.engine.connect() as connection:
            if self.is_sqlite:
                # Off around the migrations, as Alembic asks: rebuilding a table that others
                # reference (its copy, the old one dropped, the copy renamed) would
                # otherwise delete their rows. Only outside a transaction does it take.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            try:
                with connection.begin():
                    if self.dialect == "postgresql":
                        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                           {"key": MIGRATION_LOCK})
                    config.attributes["connection"] = connection
                    command.upgrade(config, revision)
            finally:
                if self.is_sqlite:
                    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                    connection.commit()

    def revision(self) -> str | None:
        """The schema revision the database is at (None before the first migration)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    @staticmethod
    def head_revision() -> str | None:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(_alembic_config()).get_current_head()

    def checkpoint(self) -> bool:
        """Copy SQLite's write-ahead log into the database file and empty it, so that rows
        just deleted are nowhere in the files any more; False if readers kept it from
        finishing (after a few tries). Nothing to do on PostgreSQL."""
        if not self.is_sqlite:
            return True
        for attempt in range(CHECKPOINT_TRIES):
            with self.engine.connect() as connection:
                busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").scalar()
            if not busy:
                return True
            time.sleep(0.05 * (attempt + 1))
        log.warning("the database's write-ahead log could not be emptied (busy readers); "
                    "deleted rows stay in it until the next checkpoint")
        return False

    def checkpoint_after_commit(self, session: Session) -> None:
        """:meth:`checkpoint` once ``session``'s transaction commits (rows deleted in it are
        in the log until then)."""
        if self.is_sqlite:
            event.listen(session, "after_commit", lambda _: self.checkpoint(), once=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block succeeds and rolls back on error.

        Inside another ``session()`` block (in the same thread or task) this is that
        block's session: everything commits together at its end, in one transaction,
        and an error anywhere rolls it all back. Handling a question opens one
        around its reads and writes (each transaction costs round trips to the
        database); code inside must let database errors through, not carry on."""
        outer = self._open_session.get()
        if outer is not None:
            yield outer
            return
        session = self._sessions()
        token = self._open_session.set(session)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            self._open_session.reset(token)
            session.close()

    def answers(self) -> bool:
        """Whether the database answers now (a query that reads nothing)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError):  # refused, unreachable, no connection free...
            return False
        return True

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
