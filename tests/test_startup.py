"""What an admin sees when the bot starts and Telegram or the database is in the way:
a wait Telegram asks for is waited out; a database that fails is one line and exit
code 2, with what was started shut down."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from bot.conversation import Assistant
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
