"""What an admin sees when the bot starts and Telegram or the database is in the way:
a wait Telegram asks for is waited out; a database that fails is one line and exit
code 2, with what was started shut down."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import shutil
import sqlite3
from pathlib import Path

import pytest

from bot import conversation, learning
from bot.config import Config
from bot.conversation import Assistant
from bot.faq import load_faq
from bot.matcher import FaqMatcher
from bot.storage import Database
from botapi import BotApiServer
from botapi.harness import RunningBot, make_config
from handlers.app import serve
from test_telegram_people import ask


async def test_a_429_on_getme_is_waited_out_and_the_bot_answers(
        api: BotApiServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    api.fail("getMe", retry_after=2)
    running = RunningBot(make_config(api, tmp_path / "bot.db"))
    await asyncio.wait_for(running.start(), 30)
    try:
        [refused, accepted] = api.calls_of("getMe")
        assert refused.result is None and accepted.result is not None
        assert accepted.at - refused.at >= 2  # as long as Telegram asked
        assert "Telegram asks the bot to wait 2 s" in caplog.text
        [reply] = await ask(api, api.user(1070), "/help")
        assert "/search" in reply.text
    finally:
        await running.stop()


async def test_a_database_failing_at_start_is_one_line_and_exit_code_2(
        api: BotApiServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = make_config(api, tmp_path / "bot.db")
    brain = Assistant.open(config)
    try:
        with sqlite3.connect(tmp_path / "bot.db") as database:  # the inbox is gone under it
            database.execute("DROP TABLE inbox")
        assert await asyncio.wait_for(serve(config, brain), 30) == 2
    finally:
        brain.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == ["the bot cannot start: database error: no such table: inbox"]
    assert "Traceback" not in caplog.text
    assert not api.calls_of("setMyCommands")  # it stopped there, before taking any update


QUESTION = "what documents do i need for the grant call"


async def restarted(api: BotApiServer, tmp_path: Path,
                    monkeypatch: pytest.MonkeyPatch) -> tuple[Config, str]:
    """A bot stopped, then its FAQ edited (one address changed): its config for the restart,
    and the first sentence of the answer the model's matcher gives :data:`QUESTION`, which
    the lexical stand-in hands on to the staff."""
    config = make_config(api, tmp_path / "bot.db")
    faq = load_faq(config.faq_path)
    # As the earlier start did: the FAQ's vectors kept in data/embeddings.
    semantic = await asyncio.to_thread(FaqMatcher.configured, faq, config.matching)
    assert semantic.semantic
    decided = semantic.decide(QUESTION)
    assert decided.decision == "answer" and decided.top is not None
    assert FaqMatcher(faq, config.matching).decide(QUESTION).decision == "escalate"
    edited = shutil.copytree(config.faq_path, tmp_path / "faq")
    agency = edited / "agency.yaml"
    agency.write_text(agency.read_text(encoding="utf-8").replace("Nr. 58", "Nr. 60"),
                      encoding="utf-8")
    # What the bot learned is embedded again at each start (it is kept in memory only):
    # here 300 questions the staff handled without an entry slow the build down.
    with Database(config.database_url) as db:
        for k in range(300):
            learning.hand_on(db, text=f"Can you lend our club {k} euro for the trip no. {k}?",
                             language="en", user_id=5000 + k, source=learning.STAFF)
    # The wait, not its bound: under load this build takes up to 8 s here.
    monkeypatch.setattr(conversation, "MATCHER_WAIT", 60.0)
    return (dataclasses.replace(config, faq_path=edited),
            decided.top.entry.answers["en"].split(".")[0])


async def test_questions_sent_while_the_bot_was_down_wait_for_the_models_answer(
        api: BotApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A restart: the questions people sent while the bot was down are handled at once,
    while the model's matcher is still being built (the edited entry's texts embedded, what
    the bot learned embedded again). They wait for it: the person gets the answer the model
    finds, not the lexical stand-in's "I could not find a reliable answer"."""
    config, answer = await restarted(api, tmp_path, monkeypatch)
    person = api.user(1071, language_code="en")
    since = api.mark()
    await api.send_text(person, QUESTION)  # kept by Telegram until the bot asks
    assert answer in await reply_after_start(api, config, 1071, since)


async def reply_after_start(api: BotApiServer, config: Config, chat: int, since: int) -> str:
    """Start the bot: its first message to ``chat`` after ``since``; then stop it."""
    running = RunningBot(config)
    await running.start()
    try:
        [reply] = await api.replies(chat, since=since, timeout=90)
        return reply.text
    finally:
        await running.stop()


async def test_a_bot_stopped_while_a_question_waits_answers_it_at_the_next_start(
        api: BotApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped (SIGTERM) while a question waits for the model's matcher: the bot stops at
    once, and the question is answered at the next start, by the model's matcher."""
    config, answer = await restarted(api, tmp_path, monkeypatch)
    person = api.user(1072, language_code="en")
    since = api.mark()
    await api.send_text(person, QUESTION)
    running = RunningBot(config)
    await running.start()
    try:
        assert running.application is not None
        shared = running.application.bot_data
        async with asyncio.timeout(10):
            while shared.matcher_settled is None:  # the question waits
                await asyncio.sleep(0.01)
        assert running.brain is not None and not running.brain.semantic_ready.is_set()
    finally:
        await asyncio.wait_for(running.stop(), 2)
    assert not api.calls_of("sendMessage")
    assert answer in await reply_after_start(api, config, 1072, since)
