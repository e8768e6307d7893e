"""``ngo-faq-bot report`` and ``forget`` on a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.storage import Database, Person, QuestionLog
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
