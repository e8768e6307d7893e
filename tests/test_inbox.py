"""The durable inbox: an update Telegram considers delivered is never lost, is handled
once, and one slow chat does not hold back the others.

The crash tests run ``ngo-faq-bot run`` as a real process against the Bot API test
server and kill it with SIGKILL, as an OOM or a reboot would.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import signal
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import make_url, text
from telegram import Bot, Update

import handlers.inbox
from bot import privacy
from bot.flood import FloodGate, Verdict
from bot.inbox import KEEP_SET_ASIDE, Inbox
from bot.storage import Database
from botapi import BotApiServer, Call
from botapi.harness import PROJECT_ROOT, RunningBot, free_port, make_config
from test_chat import CLI, environment
from pgserver import refuse_once
from staffchat import (BESA, LOADED, STAFF_CHAT, ask_staff, card_of, deliveries, replies_to,
                       settled, staff_chat, staff_config, staff_says)

AGENCY_EMAIL = "info@amshc.gov.al"
LEASE = timedelta(seconds=30)


@pytest.fixture
async def bot(api: BotApiServer, tmp_path: Path) -> AsyncIterator[RunningBot]:
    running = await RunningBot(make_config(api, tmp_path / "bot.db")).start()
    yield running
    await running.stop()


async def test_an_update_delivered_twice_is_answered_once(api: BotApiServer,
                                                          bot: RunningBot) -> None:
    ana = api.user(5001)
    since = api.mark()
    update = await api.send_text(ana, "/contact")
    [reply] = await api.replies(ana["id"], since=since)
    assert AGENCY_EMAIL in reply.text
    await api.deliver_again(update)
    await api.send_text(ana, "/help")
    await api.replies(ana["id"], since=api.calls.index(reply) + 1)
    texts = [c.text for c in api.calls_of("sendMessage", since) if c.chat_id == ana["id"]]
    assert sum(AGENCY_EMAIL in text for text in texts) == 1, texts


async def test_a_chat_whose_answer_hangs_does_not_hold_back_other_chats(
        api: BotApiServer, bot: RunningBot) -> None:
    slow, quick = api.user(5002), api.user(5003)
    api.fail("sendMessage", delay=6, chat_id=slow["id"])
    await api.send_text(slow, "/contact")
    while not any(c.chat_id == slow["id"] for c in api.failed):  # its answer now hangs
        await asyncio.sleep(0.02)
    since = api.mark()
    started = time.monotonic()
    await api.send_text(quick, "/contact")
    # Well before the other chat's call gives up (6 s), with room for a loaded machine.
    [reply] = await api.replies(quick["id"], since=since, timeout=4.5)
    assert AGENCY_EMAIL in reply.text
    assert time.monotonic() - started < 4.5


async def test_a_chat_held_up_does_not_hold_back_other_chats_when_few_are_handled_at_once(
        api: BotApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handlers.inbox, "MAX_CONCURRENT_UPDATES", 2)
    api.members[STAFF_CHAT] = {BESA: "member"}
    running = await RunningBot(staff_config(api, tmp_path / "bot.db")).start()
    assert running.brain is not None
    try:
        ana, ben = api.user(5013, "Ana"), api.user(5014, "Ben")
        number = await ask_staff(api, ana)
        card = await card_of(api, number)
        # The staff chat is held up (whether Besa is staff, Telegram cannot say for now)
        # with three of her answers: more than the two updates handled at once.
        api.fail("getChatMember", 1000, status=502)
        answers = [await staff_says(api, BESA, f"Përgjigja {n}", card) for n in range(3)]
        inbox = Inbox(running.brain.db)
        await _until(lambda: {a["update_id"] for a in answers} <=
                     {w.update_id for w in inbox.pending()}, "they are received")
        await _until(lambda: bool(api.failed), "the first waits for Telegram")
        since = api.mark()
        await api.send_text(ben, "/contact")
        [reply] = await api.replies(ben["id"], since=since, timeout=LOADED)
        assert AGENCY_EMAIL in reply.text
        api.failures.clear()
        await _until(lambda: len(deliveries(api, ana["id"], number)) == 3,
                     "the staff's answers reach Ana", LOADED)
        assert [c.text.rsplit("\n", 1)[-1] for c in deliveries(api, ana["id"], number)] == [
            f"Përgjigja {n}" for n in range(3)]
    finally:
        await running.stop()


async def test_updates_waiting_their_turn_when_their_sender_is_forgotten_are_not_handled(
        api: BotApiServer, tmp_path: Path) -> None:
    """A forget from the command line (another process) deletes the updates the bot holds
    in memory behind a held-up one: handled anyway, they would store the forgotten
    person's words again. Those that had not begun are dropped."""
    api.members[STAFF_CHAT] = {BESA: "member"}
    running = await RunningBot(staff_config(api, tmp_path / "bot.db")).start()
    assert running.brain is not None
    try:
        ana = api.user(5016, "Ana")
        number = await ask_staff(api, ana)
        card = await card_of(api, number)
        api.fail("getChatMember", 1000, status=502)  # Besa's first answer waits for it
        answers = [await staff_says(api, BESA, f"Përgjigja {n}", card) for n in range(3)]
        inbox = Inbox(running.brain.db)
        await _until(lambda: {a["update_id"] for a in answers} <=
                     {w.update_id for w in inbox.pending()}, "they are received")
        await _until(lambda: bool(api.failed), "the first waits for Telegram")
        await asyncio.to_thread(privacy.forget, running.brain.db, BESA)
        api.failures.clear()
        await _until(lambda: deliveries(api, ana["id"], number), "the first reaches Ana", LOADED)
        await settled(api, staff_chat(api), ana)
        assert [c.text.rsplit("\n", 1)[-1] for c in deliveries(api, ana["id"], number)] == [
            "Përgjigja 0"]
    finally:
        await running.stop()


async def test_one_chat_is_answered_in_the_order_it_wrote(api: BotApiServer,
                                                          bot: RunningBot) -> None:
    ana = api.user(5004)
    since = api.mark()
    commands = ["/contact", "/help", "/contact", "/help"]
    for command in commands:
        await api.send_text(ana, command)
    replies = await api.replies(ana["id"], since=since, count=len(commands))
    kinds = ["/contact" if AGENCY_EMAIL in r.text else "/help" for r in replies]
    assert kinds == commands


def _config_file(api_base_url: str, folder: Path, **sections: dict[str, object]) -> Path:
    config = yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text(encoding="utf-8"))
    config["registry"]["sample_csv"] = str(PROJECT_ROOT / config["registry"]["sample_csv"])
    for name, values in sections.items():
        config[name].update(values)
    config["telegram"]["api_base_url"] = api_base_url
    config["faq"]["path"] = str(PROJECT_ROOT / config["faq"]["path"])
    config["matching"]["embedding_cache"] = str(PROJECT_ROOT / "data" / "embeddings")
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


async def _run(config: Path, tmp_path: Path, token: str,
               log: Path | None = None) -> asyncio.subprocess.Process:
    """``ngo-faq-bot run``, its log in ``log`` (by default a new file in ``tmp_path``)."""
    log = log or tmp_path / f"bot-{time.monotonic_ns()}.log"
    with log.open("wb") as handle:
        return await asyncio.create_subprocess_exec(
            CLI, "--config", str(config), "run",
            env=environment(tmp_path, TELEGRAM_BOT_TOKEN=token),
            stdout=asyncio.subprocess.DEVNULL, stderr=handle)


def _stored(database: Path, update_id: int) -> bool:
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT 1 FROM inbox WHERE update_id = ?",
                                 (update_id,)).fetchone()
    return row is not None


def _queued_for(database: Path, chat_id: int) -> bool:
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT 1 FROM outbox WHERE chat_id = ?", (chat_id,)).fetchone()
    return row is not None


async def _until(check: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.05)


async def test_an_answer_queued_when_the_bot_is_killed_is_sent_once_after_restart(
        api: BotApiServer, tmp_path: Path) -> None:
    config = _config_file(api.base_url, tmp_path)
    process = await _run(config, tmp_path, api.token)
    ana = api.user(5005)
    try:
        await api.wait_for("setMyCommands", timeout=30)
        api.fail("sendMessage", delay=30, chat_id=ana["id"])  # the answer hangs...
        since = api.mark()
        await api.send_text(ana, "/contact")
        await _until(lambda: any(c.chat_id == ana["id"] for c in api.failed), "it is sent")
        assert _queued_for(tmp_path / "bot.db", ana["id"])  # ...handled, queued, in flight
    finally:
        process.kill()  # SIGKILL: no clean-up of any kind
        await process.wait()
    assert not delivered(api, ana["id"], since, AGENCY_EMAIL)
    api.failures.clear()
    process = await _run(config, tmp_path, api.token)
    try:
        [reply] = await api.replies(ana["id"], since=since, timeout=30)
        assert AGENCY_EMAIL in reply.text
        await api.send_text(ana, "/help")  # the bot is up: anything pending was handled
        await api.replies(ana["id"], since=api.calls.index(reply) + 1, timeout=10)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    assert len(delivered(api, ana["id"], since, AGENCY_EMAIL)) == 1


async def test_a_staff_answer_received_but_not_handled_when_the_bot_is_killed_reaches_the_person(
        api: BotApiServer, tmp_path: Path) -> None:
    api.members[STAFF_CHAT] = {BESA: "member"}
    config = _config_file(api.base_url, tmp_path, staff={
        "chat_id": STAFF_CHAT, "retry_interval": "1s", "send_timeout": 5})
    process = await _run(config, tmp_path, api.token)
    ana = api.user(5009, "Ana")
    try:
        await api.wait_for("setMyCommands", timeout=30)
        number = await ask_staff(api, ana)
        card = await card_of(api, number)
        # Handling the staff answer hangs: the check of Besa hangs past the client's
        # timeout, and so does every try again...
        api.fail("getChatMember", 1000, delay=30)
        answer = await staff_says(api, BESA, "Po, dokumentet i dorëzoni në gjykatë.", card)
        await _until(lambda: _stored(tmp_path / "bot.db", answer["update_id"]), "it is stored")
        await _until(lambda: bool(api.failed), "it is being handled")
    finally:
        process.kill()
        await process.wait()
    assert not deliveries(api, ana["id"], number)
    api.failures.clear()
    process = await _run(config, tmp_path, api.token)
    try:
        await _until(lambda: deliveries(api, ana["id"], number), "the answer reaches Ana", 30)
        await asyncio.sleep(1)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    [delivery] = deliveries(api, ana["id"], number)
    assert "dokumentet i dorëzoni" in delivery.text


def _tickets(database: Path) -> list[tuple[int, int]]:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT id, user_id FROM tickets").fetchall()


def _cards_sent(database: Path) -> bool:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT count(*) FROM outbox WHERE method = 'post_ticket'"
                                  " AND status = 'sent'").fetchone()[0] == 1


async def test_a_ticket_opened_by_an_update_killed_before_it_was_marked_done_is_not_doubled(
        api: BotApiServer, tmp_path: Path) -> None:
    api.members[STAFF_CHAT] = {BESA: "member"}
    config = _config_file(api.base_url, tmp_path, staff={
        "chat_id": STAFF_CHAT, "retry_interval": "1s", "send_timeout": 5})
    process = await _run(config, tmp_path, api.token)
    ana = api.user(5010, "Ana")
    try:
        await api.wait_for("setMyCommands", timeout=30)
        since = api.mark()
        await api.send_text(ana, "Si e regjistroj nje anije peshkimi ne port?")
        [offer] = await api.replies(ana["id"], since=since)
        label, data = offer.buttons[-1][0]
        assert label == "Dërgoja stafit"
        # The ticket is opened, then acknowledging the press hangs: the update is handled
        # but not marked done when the bot is killed.
        api.fail("answerCallbackQuery", delay=30)
        since = api.mark()
        await api.press(ana, offer, data)
        await _until(lambda: _tickets(tmp_path / "bot.db"), "the ticket is stored")
        await _until(lambda: bool(api.failed), "the press is being acknowledged")
        # The card is recorded as sent first: a kill between Telegram's answer and the
        # record would send it again (at least once), which is not what this test is about.
        await _until(lambda: _cards_sent(tmp_path / "bot.db"), "the card is sent", 30)
    finally:
        process.kill()
        await process.wait()
    api.failures.clear()
    process = await _run(config, tmp_path, api.token)
    try:
        [(number, _)] = _tickets(tmp_path / "bot.db")
        confirmation = await api.wait_for("sendMessage", since=since, timeout=30,
                                          where=lambda c: c.chat_id == ana["id"])
        assert confirmation.text.startswith(
            f"Pyetja juaj iu dërgua stafit. Numri i biletës: #{number}.")
        await card_of(api, number, timeout=30)
        await asyncio.sleep(1.5)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    assert _tickets(tmp_path / "bot.db") == [(number, ana["id"])]
    posts = [c for c in api.sent_to(STAFF_CHAT) if c.text.startswith("🎫") and c.result]
    assert len(posts) == 1
    assert not [c for c in api.calls_of("answerCallbackQuery", since)
                if "nuk është më i vlefshëm" in str(c.params.get("text"))]


async def test_sigterm_stops_the_bot_while_it_waits_for_an_unreachable_bot_api(
        tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/bot"
    log = tmp_path / "bot.log"
    process = await _run(_config_file(nowhere, tmp_path), tmp_path,
                         "123456789:TEST-token-for-the-test-server", log)
    try:
        await _until(lambda: "cannot reach the Bot API" in log.read_text(), "it retries", 60)
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
    # Not after its retries (they go on for ever); room for a loaded machine's exit.
    assert time.monotonic() - started < 15
    assert process.returncode == 0, log.read_text()
    assert "Traceback" not in log.read_text()


# --- the database away a moment -------------------------------------------------

@contextlib.asynccontextmanager
async def _one_store_refused(url: str, caplog: pytest.LogCaptureFixture,
                             error: str = "query_canceled") -> AsyncIterator[None]:
    """The database refuses the bot's next try to store an update: PostgreSQL with
    ``error`` (default: it cancels the statement, as at a statement timeout); SQLite is
    locked by another writer for longer than the driver waits (5 s), which leaving the
    block lets go of once the bot was refused (or after 15 s)."""
    database = make_url(url)
    if database.get_backend_name() != "sqlite":
        refuse_once(url, "refuse_one_store", "INSERT ON inbox", error=error)
        yield
        return
    caplog.set_level(logging.WARNING, logger="handlers.inbox")
    writer = sqlite3.connect(str(database.database), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        yield
        with contextlib.suppress(AssertionError):
            await _until(lambda: "refuses to store" in caplog.text, "it is refused", 15)
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@pytest.mark.parametrize("error", ["query_canceled", "check_violation"])
async def test_a_message_the_database_once_refused_to_store_is_answered_and_so_is_the_next(
        api: BotApiServer, database_url: str, caplog: pytest.LogCaptureFixture,
        error: str) -> None:
    """A refusal is not a duplicate, even one PostgreSQL calls a constraint's."""
    if error != "query_canceled" and make_url(database_url).get_backend_name() == "sqlite":
        pytest.skip("a constraint's refusal is staged with a PostgreSQL trigger")
    running = await RunningBot(make_config(api, database_url)).start()
    try:
        ana = api.user(5012)
        since = api.mark()
        async with _one_store_refused(database_url, caplog, error):
            await api.send_text(ana, "/contact")
        [reply] = await api.replies(ana["id"], since=since, timeout=20)
        assert AGENCY_EMAIL in reply.text
        since = api.mark()
        await api.send_text(ana, "/help")
        [reply] = await api.replies(ana["id"], since=since)
        assert "/contact" in reply.text
    finally:
        await running.stop()


async def test_a_question_whose_handling_the_database_once_refused_is_answered_once(
        api: BotApiServer, database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    if make_url(database_url).get_backend_name() == "sqlite":
        pytest.skip("a statement refused once is staged with a PostgreSQL trigger")
    running = await RunningBot(make_config(api, database_url)).start()
    try:
        # PostgreSQL cancels the first statement that logs a question (as its connection
        # dropped, or a statement timeout, would).
        refuse_once(database_url, "refuse_one_question", "INSERT ON question_log")
        ana = api.user(5013)
        since = api.mark()
        with caplog.at_level(logging.WARNING):
            # A phrasing of the FAQ itself, answered with or without the model (a first
            # start answers lexically while it embeds the FAQ).
            await api.send_text(ana, "Si të regjistroj një organizatë jofitimprurëse në "
                                     "Shqipëri?")
            [answer] = await api.replies(ana["id"], since=since, timeout=20)
        assert "it is handled again" in caplog.text  # the first try was refused
        assert "diçka shkoi keq" not in answer.text
        assert "regjistr" in answer.text.lower()
        settle = api.mark()  # the chat settled: a second answer would come before this one
        await api.send_text(ana, "/help")
        await api.replies(ana["id"], since=settle)
        assert len([c for c in api.calls_of("sendMessage", since)
                    if c.chat_id == ana["id"] and c.result is not None]) == 2
    finally:
        await running.stop()


async def test_the_bot_stops_cleanly_after_receiving_ended_with_an_error(
        api: BotApiServer, tmp_path: Path) -> None:
    running = await RunningBot(make_config(api, tmp_path / "bot.db")).start()
    api.token = "123456789:REVOKED-token"  # the bot's token revoked: polling ends for good
    await _until(lambda: api.calls_of("getUpdates") and
                 api.calls_of("getUpdates")[-1].result is None, "polling is refused")
    assert running.application is not None
    application = running.application
    await running.stop()  # no exception: the rest was stopped too
    assert not application.running


# --- every answer goes through the outbox ----------------------------------------

@pytest.fixture
async def quick_retry_bot(api: BotApiServer, tmp_path: Path) -> AsyncIterator[RunningBot]:
    """The bot with a short retry interval, so a retried answer comes within the test."""
    base = make_config(api, tmp_path / "bot.db")
    config = dataclasses.replace(base, staff=dataclasses.replace(
        base.staff, retry_interval=timedelta(seconds=0.2), send_timeout=1.0))
    running = await RunningBot(config).start()
    yield running
    await running.stop()


def delivered(api: BotApiServer, chat_id: int, since: int, needle: str) -> list[Call]:
    return [c for c in api.calls_of("sendMessage", since)
            if c.chat_id == chat_id and c.result is not None and needle in c.text]


async def test_an_answer_refused_with_a_500_is_sent_again_and_arrives_once(
        api: BotApiServer, quick_retry_bot: RunningBot) -> None:
    ana = api.user(5006)
    api.fail("sendMessage", count=2, status=500, chat_id=ana["id"])
    since = api.mark()
    await api.send_text(ana, "/contact")
    await api.wait_for("sendMessage", since=since, timeout=10, where=lambda c: (
        c.chat_id == ana["id"] and c.result is not None))
    assert len([c for c in api.failed if c.chat_id == ana["id"]]) == 2
    settle = api.mark()  # the chat settled: a second copy would come before this answer
    await api.send_text(ana, "/help")
    await api.replies(ana["id"], since=settle)
    assert len(delivered(api, ana["id"], since, AGENCY_EMAIL)) == 1


async def test_an_answer_refused_with_429_waits_the_time_telegram_asks(
        api: BotApiServer, quick_retry_bot: RunningBot) -> None:
    ana = api.user(5007)
    api.fail("sendMessage", retry_after=2, chat_id=ana["id"])
    since = api.mark()
    started = time.monotonic()
    await api.send_text(ana, "/contact")
    await api.wait_for("sendMessage", since=since, timeout=10, where=lambda c: (
        c.chat_id == ana["id"] and c.result is not None))
    assert time.monotonic() - started >= 2
    assert len(delivered(api, ana["id"], since, AGENCY_EMAIL)) == 1


async def test_a_person_who_blocked_the_bot_does_not_hold_up_their_later_answers(
        api: BotApiServer, quick_retry_bot: RunningBot) -> None:
    ana = api.user(5008)
    api.fail("sendMessage", status=403, chat_id=ana["id"])
    since = api.mark()
    await api.send_text(ana, "/contact")
    await api.send_text(ana, "/help")
    await api.wait_for("sendMessage", since=since, timeout=10, where=lambda c: (
        c.chat_id == ana["id"] and c.result is not None))
    # The chat settled (one chat's messages go in order): the refused answer was not tried
    # again before this one, nor can it be after.
    settle = api.mark()
    await api.send_text(ana, "/lang sq")
    [last] = await api.replies(ana["id"], since=settle)
    tries = [c for c in api.calls_of("sendMessage", since) if c.chat_id == ana["id"]
             and c is not last]
    assert len(tries) == 2, [c.text[:40] for c in tries]
    assert "/search" in tries[1].text


# --- one person flooding ---------------------------------------------------------

def test_the_flood_gate_counts_a_minute_per_person_and_notices_once() -> None:
    now = [0.0]
    gate = FloodGate(3, clock=lambda: now[0])
    assert [gate.admit(1) for _ in range(3)] == [Verdict.HANDLE] * 3
    assert gate.admit(1) is Verdict.NOTICE
    assert gate.admit(1) is Verdict.DROP
    assert gate.admit(2) is Verdict.HANDLE  # someone else is not affected
    now[0] = 61.0
    assert gate.admit(1) is Verdict.HANDLE
    gate.forget_quiet()
    now[0] = 200.0
    gate.forget_quiet()
    assert gate.admit(1) is Verdict.HANDLE


@pytest.fixture
async def five_a_minute(api: BotApiServer, tmp_path: Path) -> AsyncIterator[RunningBot]:
    """The bot handling at most five messages a minute from one person."""
    base = make_config(api, tmp_path / "bot.db")
    running = await RunningBot(dataclasses.replace(base, telegram=dataclasses.replace(
        base.telegram, max_messages_per_minute=5))).start()
    yield running
    await running.stop()


async def test_in_a_group_only_what_the_bot_answers_counts_towards_the_flood_limit(
        api: BotApiServer, five_a_minute: RunningBot) -> None:
    flooder, other = api.user(5012, language_code="en"), api.user(5013)
    group = api.group_chat()
    for _ in range(4):  # the members' own talk, and other bots': not counted
        await api.send_text(flooder, "see you at the meeting", chat=group)
        await api.send_text(flooder, "/roll@DiceBot", chat=group)
    since = api.mark()
    for _ in range(12):
        await api.send_text(flooder, "/contact@ascs_test_bot", chat=group)
    replies = await api.replies(group["id"], since=since, count=6, timeout=20)
    assert sum(AGENCY_EMAIL in c.text for c in replies) == 5
    assert "faster than I can read" in replies[-1].text
    since = api.mark()
    await api.send_text(other, "/contact@ascs_test_bot", chat=group)
    [answer] = await api.replies(group["id"], since=since)
    assert AGENCY_EMAIL in answer.text
    texts = [c.text for c in api.calls_of("sendMessage") if c.chat_id == group["id"]]
    assert len(texts) == 7, texts


async def test_a_person_flooding_gets_one_notice_and_others_are_served(
        api: BotApiServer, five_a_minute: RunningBot) -> None:
    flooder, other = api.user(5010, language_code="en"), api.user(5011)
    since = api.mark()
    for _ in range(12):
        await api.send_text(flooder, "/contact")
    await api.send_text(other, "/contact")
    [answer] = await api.replies(other["id"], since=since, timeout=10)
    assert AGENCY_EMAIL in answer.text
    replies = await api.replies(flooder["id"], since=since, count=6, timeout=20)
    await asyncio.sleep(1)
    texts = [c.text for c in api.calls_of("sendMessage", since) if c.chat_id == flooder["id"]]
    assert len(texts) == 6, texts
    assert sum(AGENCY_EMAIL in text for text in texts) == 5
    assert "faster than I can read" in replies[-1].text


def _message(update_id: int, chat: int) -> dict[str, object]:
    return {"update_id": update_id, "message": {"message_id": update_id, "date": 0,
                                                 "chat": {"id": chat, "type": "private"},
                                                 "text": "Përshëndetje"}}


def test_an_update_in_hand_when_processes_died_is_set_aside_and_its_chat_goes_on(
        database: Database) -> None:
    """The inbox's count: each handling begun after a restart that never ended. An update
    left for the next start by a clean stop is uncounted; one counted twice is set
    aside, keeps its content for a week (a forget deletes it sooner), and the later
    updates of its chat are handled without it."""
    inbox = Inbox(database)
    for update_id, chat in ((1, 5101), (2, 5101), (3, 5102)):
        inbox.store(update_id, _message(update_id, chat), chat_id=chat, user_id=chat)
    assert [(w.update_id, w.again, w.unfinished) for w in inbox.pending()] == [
        (1, True, 0), (2, True, 0), (3, True, 0)]
    inbox.begin(1)  # handed over at a start; the process dies
    inbox.begin(3)
    inbox.left(3)   # the bot stops cleanly while update 3 waits for Telegram
    [first, _, third] = inbox.pending()
    assert first.suspect and not first.poisonous and not third.suspect
    inbox.begin(1)  # handled alone at the next start; the process dies again
    assert inbox.pending()[0].poisonous
    assert inbox.set_aside(1)
    assert not inbox.set_aside(1)  # once
    assert [w.update_id for w in inbox.pending()] == [2, 3]
    assert not inbox.waiting(1)
    inbox.done(1)  # a worker whose lease ran out meanwhile: the content stays
    # With several workers, the chat's next update is no longer held behind it.
    assert [w.update_id for w in inbox.claim("w1", LEASE)] == [2, 3]
    inbox.done(2)
    inbox.done(3)
    assert inbox.prune(datetime.now(UTC) + timedelta(days=2)) == 2  # handled, a day on
    with database.engine.begin() as connection:
        [(payload,)] = connection.execute(
            text("SELECT payload FROM inbox WHERE update_id = 1")).all()
    stored = payload if isinstance(payload, dict) else json.loads(payload)
    assert stored["message"]["text"] == "Përshëndetje"  # kept for an admin to look at
    assert inbox.prune(datetime.now(UTC) + timedelta(days=2)) == 0
    assert not inbox.set_aside(2)  # handled: nothing to set aside
    assert inbox.prune(datetime.now(UTC) + KEEP_SET_ASIDE + timedelta(hours=1)) == 1


def test_an_update_set_aside_is_kept_no_longer_than_peoples_words(database: Database) -> None:
    inbox = Inbox(database)
    inbox.store(1, _message(1, 5105), chat_id=5105, user_id=5105)
    inbox.set_aside(1)
    assert inbox.prune(datetime.now(UTC) + timedelta(days=2), retention=timedelta(days=3)) == 0
    assert inbox.prune(datetime.now(UTC) + timedelta(days=2), retention=timedelta(days=1)) == 1


def test_an_update_set_aside_goes_with_its_sender_when_they_are_forgotten(
        database: Database) -> None:
    inbox = Inbox(database)
    inbox.store(1, _message(1, 5103), chat_id=5103, user_id=5103)
    inbox.set_aside(1)
    privacy.forget(database, 5103)
    with database.engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM inbox")).scalar() == 0


def test_an_update_claimed_from_a_worker_that_went_is_handed_over_again(
        database: Database) -> None:
    inbox = Inbox(database)
    inbox.store(1, _message(1, 5104), chat_id=5104, user_id=5104)
    [fresh] = inbox.claim("w1", timedelta(seconds=-1))  # its lease runs out at once
    [again] = inbox.claim("w2", LEASE)
    assert (fresh.again, again.again) == (False, True)


async def _killed_while(api: BotApiServer, config: Path, tmp_path: Path,
                        handled: Callable[[], bool], what: str) -> None:
    """Start the bot, wait until ``handled`` says the update is in hand, SIGKILL it."""
    process = await _run(config, tmp_path, api.token)
    try:
        await _until(handled, what, 30)
    finally:
        process.kill()
        await process.wait()


async def _killed_with_an_answer_in_hand(api: BotApiServer, tmp_path: Path, ana: dict,
                                        **failure: Any) -> tuple[Path, int, dict]:
    """Ana's ticket answered by Besa, whose membership check fails (``failure``, for
    ever) while the bot is killed: its config, the ticket's number and Besa's update."""
    api.members[STAFF_CHAT] = {BESA: "member"}
    config = _config_file(api.base_url, tmp_path, staff={
        "chat_id": STAFF_CHAT, "retry_interval": "1s", "send_timeout": 5})
    process = await _run(config, tmp_path, api.token)
    try:
        await api.wait_for("setMyCommands", timeout=30)
        number = await ask_staff(api, ana)
        card = await card_of(api, number)
        api.fail("getChatMember", 1000, **failure)
        answer = await staff_says(api, BESA, "Po, dokumentet i dorëzoni në gjykatë.", card)
        await _until(lambda: bool(api.failed), "it is in hand")
    finally:
        process.kill()
        await process.wait()
    return config, number, answer


async def test_an_update_in_hand_at_three_deaths_of_the_bot_is_set_aside_and_the_bot_goes_on(
        api: BotApiServer, tmp_path: Path) -> None:
    """An update that kills the process would be handed over again at each start, and stop
    the bot for everyone each time. Here Besa's answer is in hand (her membership check
    hangs) each time the bot is killed: at the first start after that it is handled beside
    the others, at the second alone (Ben, writing meanwhile, waits), and at the third it
    is set aside: the staff chat is told, Ana gets nothing of it, and Ben is answered."""
    ana, ben = api.user(5011, "Ana"), api.user(5012, "Ben")
    config, number, answer = await _killed_with_an_answer_in_hand(api, tmp_path, ana,
                                                                  delay=30)
    tries = len(api.failed)
    await _killed_while(api, config, tmp_path, lambda: len(api.failed) > tries,
                        "it is handed over again")
    tries = len(api.failed)
    process = await _run(config, tmp_path, api.token)
    try:
        await _until(lambda: len(api.failed) > tries, "it is handled alone", 30)
        since = api.mark()
        await api.send_text(ben, "/contact")
        # Killed within the turn alone (handlers.inbox.ALONE_AT_MOST, 5 s): Ben waits.
        with pytest.raises(AssertionError, match="no sendMessage"):
            await api.replies(ben["id"], since=since, timeout=1.5)
    finally:
        process.kill()
        await process.wait()
    assert not deliveries(api, ana["id"], number)
    api.failures.clear()  # Telegram answers again: only the set-aside keeps it from Ana
    log = tmp_path / "last.log"
    process = await _run(config, tmp_path, api.token, log)
    try:
        notice = await api.wait_for("sendMessage", since=since, timeout=30,
                                    where=lambda c: c.chat_id == STAFF_CHAT)
        assert notice.text.startswith("Më vjen keq: ky mesazh e ndaloi robotin")
        assert "/contact" not in notice.text  # the staff chat is no person's
        assert notice.params["reply_parameters"]["message_id"] == (
            answer["message"]["message_id"])
        [reply] = await api.replies(ben["id"], since=since, timeout=30)  # nothing lost
        assert AGENCY_EMAIL in reply.text
        await settled(api, ana, ben, staff_chat(api))
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    assert not deliveries(api, ana["id"], number)
    told = log.read_text(encoding="utf-8")
    assert f"update {answer['update_id']} was in hand when the bot stopped" in told
    assert "set aside" in told and "Traceback" not in told


async def test_clean_restarts_while_an_update_waits_for_telegram_do_not_set_it_aside(
        api: BotApiServer, tmp_path: Path) -> None:
    """Killed once while Besa's answer is in hand, then stopped cleanly twice while it
    waits for Telegram: each clean stop uncounts it, so when Telegram answers again the
    answer reaches Ana."""
    ana = api.user(5015, "Ana")
    config, number, _ = await _killed_with_an_answer_in_hand(api, tmp_path, ana, status=502)
    for _ in range(2):
        tries = len(api.failed)
        process = await _run(config, tmp_path, api.token)
        try:
            await _until(lambda: len(api.failed) > tries,  # noqa: B023 (awaited here)
                         "it is handed over again", 30)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
        assert process.returncode == 0
    api.failures.clear()
    process = await _run(config, tmp_path, api.token)
    try:
        await _until(lambda: deliveries(api, ana["id"], number), "the answer reaches Ana", 30)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    [delivery] = deliveries(api, ana["id"], number)
    assert "dokumentet i dorëzoni" in delivery.text


async def _replayed(database: Database, counted: tuple[int, ...]) -> tuple[
        Inbox, handlers.inbox.DurableQueue, handlers.inbox.ChatOrderedProcessor]:
    """Updates 1, 2 and 3 of three chats stored, those ``counted`` in hand at a death, and
    all handed over again as at a start."""
    inbox = Inbox(database)
    for update_id, chat in ((1, 5106), (2, 5107), (3, 5108)):
        inbox.store(update_id, _message(update_id, chat), chat_id=chat, user_id=chat)
    for update_id in counted:
        inbox.begin(update_id)
    queue = handlers.inbox.DurableQueue(inbox)
    processor = handlers.inbox.ChatOrderedProcessor(inbox, queue.again)
    assert await queue.replay(Bot("1:test")) == 3
    return inbox, queue, processor


def _handle_all(queue: handlers.inbox.DurableQueue,
                processor: handlers.inbox.ChatOrderedProcessor,
                handlers_of: dict[int, Callable[[], Any]]) -> list[asyncio.Task[None]]:
    tasks = []
    while not queue.empty():
        update = queue.get_nowait()
        assert isinstance(update, Update)
        tasks.append(asyncio.create_task(processor.do_process_update(
            update, handlers_of[update.update_id]())))
    return tasks


async def test_a_suspect_is_counted_while_it_is_alone_and_the_others_wait(
        database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """P was in hand when a process died: at the next start it is handled alone and
    counted, so that it is set aside should it kill the process again; N, handed over
    with it, waits (uncounted), then goes on once P's time alone is over."""
    monkeypatch.setattr(handlers.inbox, "ALONE_AT_MOST", 1.0)
    inbox, queue, processor = await _replayed(database, counted=(2,))
    counts: dict[int, int] = {}
    handled: list[int] = []
    dies = asyncio.Event()

    async def kills() -> None:
        handled.append(2)
        counts.update({w.update_id: w.unfinished for w in inbox.pending()})
        await dies.wait()  # the process dies here

    async def other(update_id: int) -> None:
        handled.append(update_id)

    tasks = _handle_all(queue, processor, {1: lambda: other(1), 2: kills, 3: lambda: other(3)})
    try:
        await _until(lambda: counts, "P is handled", 10)
        assert handled == [2] and counts[2] == 2  # alone, counted: set aside at a death
        assert counts[1] == counts[3] == 0
        await _until(lambda: len(handled) == 3, "the others go on", 10)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_suspect_held_up_steps_aside_uncounted_and_no_other_is_counted_beside_it(
        database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """S and P were both in hand when a process died. At the next start S, held up (by
    Telegram), has its turn alone, then steps aside uncounted and goes on; P waits for it,
    then is handled beside it, uncounted too: whichever kills the process then, neither
    is counted a second time, and no innocent update can be set aside for another's
    death. Once S is done, P is counted alone at the next start."""
    monkeypatch.setattr(handlers.inbox, "ALONE_AT_MOST", 1.0)
    inbox, queue, processor = await _replayed(database, counted=(1, 2))
    counts: dict[int, int] = {}
    handled: list[int] = []
    telegram_answers = asyncio.Event()

    async def held_up() -> None:
        handled.append(1)
        await telegram_answers.wait()

    async def kills() -> None:
        handled.append(2)
        counts.update({w.update_id: w.unfinished for w in inbox.pending()})
        await asyncio.sleep(60)  # the process dies here

    async def replayed() -> None:
        handled.append(3)

    tasks = _handle_all(queue, processor, {1: held_up, 2: kills, 3: replayed})
    try:
        await _until(lambda: counts, "P is handled", 10)
        assert handled[:2] == [1, 2]
        assert (counts[1], counts[2]) == (1, 1)  # N goes on beside P (counted once or done)
        await _until(lambda: 3 in handled, "N is handled", 10)
        telegram_answers.set()
        await _until(lambda: [w.update_id for w in inbox.pending()] == [2], "S is done", 10)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
