"""What making a forget final costs on SQLite: ``secure_delete`` and the WAL checkpoint.

A database with PEOPLE people, each with QUESTIONS logged questions and one
ticket with two messages, is built once per variant; then FORGETS of them are
forgotten one after another while the bot's other connection stays open. It
prints the median time of one forget and of writing one question, and whether
a forgotten person's text can still be found in the database file or its
write-ahead log, for:

* ``neither``: plain deletes (text stays in the log, and in free pages where
  SQLite is built without SECURE_DELETE);
* ``secure_delete``: deleted content overwritten;
* ``checkpoint``: the log emptied after each forget, without ``secure_delete``;
* ``both``: what the bot does (``secure_delete`` and a TRUNCATE checkpoint
  after each forget).

    .venv/bin/python benchmarks/forget.py [--people 2000] [--questions 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event, insert

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bot import privacy  # noqa: E402
from bot.storage import Database, QuestionLog, Ticket, TicketMessage  # noqa: E402

FORGETS = 20


def build(db: Database, people: int, questions: int) -> None:
    now = datetime.now(UTC)
    with db.engine.begin() as connection:
        connection.execute(insert(QuestionLog), [
            {"user_id": person, "chat_id": person, "text": f"secret-{person}-{n} " * 8,
             "language": "sq", "decision": "staff", "outcome": "staff", "created_at": now}
            for person in range(1, people + 1) for n in range(questions)])
        connection.execute(insert(Ticket), [
            {"id": person, "user_id": person, "chat_id": person, "person_name": f"name-{person}",
             "language": "sq", "question": f"secret-{person}-ticket " * 8, "guesses": [],
             "status": "open", "created_at": now, "updated_at": now}
            for person in range(1, people + 1)])
        connection.execute(insert(TicketMessage), [
            {"ticket_id": person, "direction": "person", "author_id": person,
             "text": f"secret-{person}-message-{n}", "chat_id": person, "message_id": n,
             "created_at": now} for person in range(1, people + 1) for n in range(2)])
    with db.engine.connect() as connection:  # as after a while of running: log in the file
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def run(variant: str, people: int, questions: int) -> tuple[float, float, int]:
    """Median ms per forget and per question written, and how many forgotten people's
    text is still in the files."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bot.db"
        db = Database(f"sqlite:///{path}")
        if variant in ("neither", "checkpoint"):
            event.listen(db.engine, "connect",
                         lambda c, _r: c.execute("PRAGMA secure_delete=OFF"))
            db.engine.dispose()
        if variant in ("neither", "secure_delete"):
            db.checkpoint = lambda: True  # type: ignore[method-assign]
        build(db, people, questions)
        reader = db.engine.connect()  # the bot's other connection, idle between updates
        forget_ms = []
        for person in range(1, FORGETS + 1):
            start = time.perf_counter()
            privacy.forget(db, person)
            forget_ms.append((time.perf_counter() - start) * 1000)
        write_ms = []
        for n in range(200):
            start = time.perf_counter()
            with db.session() as session:
                session.add(QuestionLog(user_id=people + 1, chat_id=1, text=f"new {n}",
                                        language="sq", decision="answered", outcome="answered"))
            write_ms.append((time.perf_counter() - start) * 1000)
        files = b"".join(p.read_bytes() for p in Path(folder).glob("bot.db*"))
        left = sum(f"secret-{person}-".encode() in files for person in range(1, FORGETS + 1))
        reader.close()
        db.close()
    return statistics.median(forget_ms), statistics.median(write_ms), left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--questions", type=int, default=10)
    args = parser.parse_args()
    print(f"{args.people} people x {args.questions} questions + a ticket each; "
          f"{FORGETS} forgotten")
    print(f"{'variant':<15}{'forget ms':>11}{'write ms':>10}{'text left':>11}")
    for variant in ("neither", "secure_delete", "checkpoint", "both"):
        forget_ms, write_ms, left = run(variant, args.people, args.questions)
        print(f"{variant:<15}{forget_ms:>11.1f}{write_ms:>10.2f}{left:>8}/{FORGETS}")


if __name__ == "__main__":
    main()
