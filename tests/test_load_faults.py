"""Issue 10's load-and-fault run, short: ``ngo-faq-bot run`` as a real process, a few
hundred people asking at 20/s and staff answering tickets in the staff chat, while the
Bot API test server fails 10% of sendMessage with 500, answers a 429 burst, hangs every
call for a moment and Telegram's flood limits apply, and the bot is killed (SIGKILL) and
restarted midway. Every message is audited once the queue has drained.

One run per database (SQLite and PostgreSQL) serves both tests. The full run with
3,000 updates, latency and throughput is ``benchmarks/load.py``.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))

from load import Audit, AuditPlan, run_audit

# The FAQ questions are asked word for word (answered without ranking or embedding
# them), as when issue 10's audit was met: this run audits delivery under Telegram's
# faults, beside the rest of the suite; benchmarks/load.py asks retyped questions.
PLAN = AuditPlan(updates=240, rate=20, tickets=6, fail_share=0.10, bursts=1, burst_seconds=1.0,
                 retry_after=1, hang_seconds=2.0, kill=True, limits=True, quiet=4.0,
                 max_drain=90.0, retry_interval="1s", retyped=False)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def audited(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Audit]:
    """The audit of one short run on the database of the parameter."""
    folder = tmp_path_factory.mktemp(f"load-{request.param}")
    if request.param == "sqlite":
        yield _run(f"sqlite:///{folder / 'bot.db'}", folder)
        return
    server: URL = request.getfixturevalue("postgres_server_url")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('CREATE SCHEMA "load_faults"'))
    try:
        url = server.update_query_dict({"options": "-csearch_path=load_faults"})
        yield _run(url.render_as_string(hide_password=False), folder)
    finally:
        with admin.connect() as connection:
            connection.execute(text('DROP SCHEMA IF EXISTS "load_faults" CASCADE'))
        admin.dispose()


def _run(database_url: str, folder: Path) -> Audit:
    run = asyncio.run(run_audit(PLAN, database_url, folder))
    assert run.audit is not None, run.skipped
    # The run did what it claims: the faults happened, the bot was killed and came back.
    assert run.figures["killed"] == "the bot"
    assert run.figures["faults"]["500"] > 0 and run.figures["faults"]["hung"] > 0
    assert run.figures["queued"] == 0, "the queue never drained"
    assert run.audit.tickets_asked >= 4 and run.audit.staff_answers >= 4, run.audit
    return run.audit


def test_no_ticket_or_staff_answer_is_lost_or_doubled(audited: Audit) -> None:
    assert (audited.tickets_missing, audited.tickets_doubled, audited.tickets_unasked) == (
        0, 0, 0), audited
    assert (audited.answers_lost, audited.answers_doubled) == (0, 0), audited
    # At least once, as for replies below: a ticket's post Telegram accepted just before
    # the SIGKILL, which the outbox could not record, is posted again after the restart
    # (one run in seven beside a busy core did so). Never a second ticket.
    assert audited.cards_again <= 1, audited


def test_every_question_gets_a_reply_and_at_most_a_kill_sends_one_twice(audited: Audit) -> None:
    assert audited.questions > 200
    assert audited.no_reply == 0, audited
    # At least once: a reply Telegram accepted just before the SIGKILL, which the outbox
    # could not record, is sent again after the restart. One kill, a few chats in flight.
    assert audited.extra_replies <= 3, audited
