"""``ngo-faq-bot report`` and ``forget`` (of a person, of a staff member) on a real database."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.intents import UpdateTicket
from bot.outbox import enqueue
from bot.storage import (Ban, Database, FaqSuggestion, OutboxItem, Person, QuestionLog, Ticket,
                         TicketMessage)
from test_admin_core import PERIOD, known_history


@pytest.fixture
def config_file(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"database:\n  url: \"{database_url}\"\nfaq:\n  path: faq\n",
                    encoding="utf-8")
    return path


def test_report_prints_the_figures_of_the_period(config_file: Path, database_url: str,
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with Database(database_url) as db:
        known_history(db)
        with db.session() as session:  # the person of the slowest ticket was not pleased
            slow = session.scalars(select(Ticket).order_by(Ticket.id)).all()[4]
            slow.status, slow.question = "closed", "Sa kushton vula?"
            slow.rating, slow.rating_comment, slow.rated_at = -1, "shumë vonë", slow.created_at
    chart = tmp_path / "chart.png"
    assert main(["--config", str(config_file), "report", "--since",
                 PERIOD.since.date().isoformat(), "--until", "2026-03-04",
                 "--chart", str(chart)]) == 0
    out = capsys.readouterr().out
    assert "Statistics 2026-03-02 – 2026-03-04" in out
    assert "Questions: 8\n" in out and "Answered directly: 2\n" in out
    assert "Answered after a suggestion: 1\n" in out and "Handed to staff: 3\n" in out
    assert "👍 2 / 👎 1" in out
    assert "median 30 min, 90% within 2 h 00 min (5 tickets)" in out
    assert "Open tickets: 2" in out
    assert "1. Sa kushton vula e organizates? ×3" in out
    assert "Satisfaction with the staff: 0% 👍 (0 of 1 ratings)" in out
    assert f"#{slow.id} · 2026-03-02 · Sa kushton vula? — «shumë vonë»" in out
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_forget_deletes_a_person(config_file: Path, database_url: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    with Database(database_url) as db, db.session() as session:
        session.add(Person(telegram_user_id=77, language_code="en"))
        session.add(QuestionLog(user_id=77, chat_id=77, text="q", language="en",
                                decision="staff", outcome="staff"))
    assert main(["--config", str(config_file), "forget", "77"]) == 0
    assert "deleted 2 row(s) about 77" in capsys.readouterr().out
    with Database(database_url) as db, db.session() as session:
        assert session.scalar(select(func.count()).select_from(QuestionLog)) == 0
        assert session.get(Person, 77) is None


def test_forget_puts_a_pseudonym_where_a_staff_member_acted(
        config_file: Path, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(timezone.utc)
    with Database(database_url) as db, db.session() as session:
        ticket = Ticket(user_id=41, chat_id=41, person_name="Ana", language="sq", question="?",
                        guesses=[], status="answered", claimed_by=9001,
                        claimed_by_name="Besa <Hoxha>", staff_chat_id=-100, staff_message_id=77,
                        created_at=now, updated_at=now)
        session.add(ticket)
        session.flush()
        session.add(TicketMessage(ticket_id=ticket.id, direction="staff", author_id=9001,
                                  author_name="Besa <Hoxha>", text="Po.", chat_id=-100,
                                  message_id=5, created_at=now))
        session.add(FaqSuggestion(ticket_id=ticket.id, question="?", language="sq",
                                  answer="Po.", suggested_by=9001))
        session.add(Ban(user_id=42, banned_by=9001, created_at=now))
        enqueue(session, chat_id=-100, purpose="ticket_edit",
                intent=UpdateTicket("🎫 #1\n\n👤 E mori: <b>Besa &lt;Hoxha&gt;</b>"),
                ticket_id=ticket.id, now=now)
    assert main(["--config", str(config_file), "forget", "9001"]) == 0
    out = capsys.readouterr().out
    assert "deleted 0 row(s) about 9001\n" in out
    assert ("pseudonymised 5 row(s) where 9001 acted as staff: bans 1, faq_suggestions 1, "
            "outbox 1, ticket_messages 1, tickets 1") in out
    assert "queued 1 change(s) to the staff chat (the running bot makes them)" in out
    with Database(database_url) as db, db.session() as session:
        ticket = session.scalars(select(Ticket)).one()
        message = session.scalars(select(TicketMessage)).one()
        suggestion = session.scalars(select(FaqSuggestion)).one()
        ban = session.scalars(select(Ban)).one()
        post, edit = session.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
    assert ticket.claimed_by == message.author_id == suggestion.suggested_by == \
        ban.banned_by < 0
    assert ticket.claimed_by_name == message.author_name
    assert ticket.claimed_by_name == f"Ish-punonjës {-ticket.claimed_by}"
    assert post.payload["text"] == f"🎫 #1\n\n👤 E mori: <b>{ticket.claimed_by_name}</b>"
    assert edit.method == UpdateTicket.kind
    assert f"E mori: <b>{ticket.claimed_by_name}</b>" in edit.payload["text"]
    assert (ticket.person_name, message.text, ban.user_id) == ("Ana", "Po.", 42)


def test_an_unreachable_database_is_an_error_message_not_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nouser@127.0.0.1:1/x")
    config = tmp_path / "config.yaml"
    config.write_text("faq:\n  path: faq\n", encoding="utf-8")
    assert main(["--config", str(config), "report"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot open the database "
                          "postgresql+psycopg://nouser@127.0.0.1:1/x")
    assert "Traceback" not in err


def test_a_chart_path_that_cannot_be_written_is_an_error_message(
        config_file: Path, database_url: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    Database(database_url).close()  # the bot has started once: an empty database
    missing_folder = tmp_path / "no" / "such" / "chart.png"
    assert main(["--config", str(config_file), "report", "--chart", str(missing_folder)]) == 1
    captured = capsys.readouterr()
    assert "Questions: 0" in captured.out
    assert captured.err == (f"error: cannot write the chart to {missing_folder}: "
                            "No such file or directory\n")


@pytest.mark.parametrize("command", [["report"], ["forget", "77"], ["learned", "list"],
                                     ["learned", "export"], ["learned", "remove", "1"],
                                     ["registry", "stats"], ["registry", "search", "Partners"],
                                     ["registry", "remove", "K12345678A"]])
def test_a_command_that_reads_refuses_a_missing_sqlite_file_and_creates_none(
        tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    mistyped = tmp_path / "dat" / "bot.db"  # the bot stores its data in data/bot.db
    config = tmp_path / "config.yaml"
    config.write_text(f"database:\n  url: sqlite:///{mistyped}\nfaq:\n  path: faq\n",
                      encoding="utf-8")
    assert main(["--config", str(config), *command]) == 2
    assert capsys.readouterr().err == (
        f"error: there is no database at {mistyped}: nothing has been stored there yet "
        "(is DATABASE_URL, or database.url in the config, right?)\n")
    assert not mistyped.parent.exists()


@pytest.mark.parametrize("argument", ["abc", "99999999999999999999999", "+7", "1_000", "٣"])
def test_forget_refuses_what_is_not_a_user_id(config_file: Path, argument: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config_file), "forget", argument])
    assert exited.value.code == 2
    assert "argument USER_ID: not a Telegram user id" in capsys.readouterr().err


def test_report_refuses_a_chart_without_a_file_name(
        config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config_file), "report", "--chart", ""])
    assert exited.value.code == 2
    assert "argument --chart: give the file to write" in capsys.readouterr().err


def test_report_writes_its_chart_only_to_a_png_file(
        config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    faq_file = tmp_path / "agency.yaml"
    faq_file.write_text("version: 1\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config_file), "report", "--chart", str(faq_file)])
    assert exited.value.code == 2
    assert "give a file name ending in .png" in capsys.readouterr().err
    assert faq_file.read_text(encoding="utf-8") == "version: 1\n"


@pytest.mark.parametrize("dates, message", [
    (["--since", "2026-03-04", "--until", "2026-03-02"], "--since is after --until"),
    (["--since", "2099-01-01"], "the first day is after today"),
    (["--until", "2099-06-30"], "the period starts after today"),
    (["--since", "2099-01-01", "--until", "2099-01-31"], "the period starts after today"),
    (["--since", "0202-01-01", "--until", "2026-03-04"], "longer than 3660 days"),
    (["--until", "9999-12-31"], "out of range"),
    (["--until", "0001-01-05"], "out of range"),
])
def test_report_refuses_a_period_it_cannot_show(config_file: Path, dates: list[str],
                                                message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config_file), "report", *dates]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err
