"""The durable inbox: an update Telegram considers delivered is never lost, is handled
once, and one slow chat does not hold back the others.

The crash tests run ``ngo-faq-bot run`` as a real process against the Bot API test
server and kill it with SIGKILL, as an OOM or a reboot would.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from botapi import BotApiServer
from botapi.harness import PROJECT_ROOT, RunningBot, free_port, make_config
from test_chat import CLI, environment

AGENCY_EMAIL = "info@amshc.gov.al"


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
    api.fail("sendMessage", delay=4, chat_id=slow["id"])
    await api.send_text(slow, "/contact")
    while not any(c.chat_id == slow["id"] for c in api.failed):  # its answer now hangs
        await asyncio.sleep(0.02)
    since = api.mark()
    started = time.monotonic()
    await api.send_text(quick, "/contact")
    [reply] = await api.replies(quick["id"], since=since, timeout=3.5)
    assert AGENCY_EMAIL in reply.text
    assert time.monotonic() - started < 3.5


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


def _config_file(api_base_url: str, folder: Path) -> Path:
    config = yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text(encoding="utf-8"))
    config["telegram"]["api_base_url"] = api_base_url
    config["registry"]["sample_csv"] = str(PROJECT_ROOT / config["registry"]["sample_csv"])
    config["faq"]["path"] = str(PROJECT_ROOT / config["faq"]["path"])
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


async def _run(config: Path, tmp_path: Path, token: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        CLI, "--config", str(config), "run", env=environment(tmp_path, TELEGRAM_BOT_TOKEN=token),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)


def _stored(database: Path, update_id: int) -> bool:
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT 1 FROM inbox WHERE update_id = ?",
                                 (update_id,)).fetchone()
    return row is not None


async def test_an_update_stored_but_not_handled_when_the_bot_is_killed_is_answered_after_restart(
        api: BotApiServer, tmp_path: Path) -> None:
    config = _config_file(api.base_url, tmp_path)
    process = await _run(config, tmp_path, api.token)
    try:
        await api.wait_for("setMyCommands", timeout=30)
        ana = api.user(5005)
        api.fail("sendMessage", delay=30, chat_id=ana["id"])  # the answer hangs...
        since = api.mark()
        update = await api.send_text(ana, "/contact")
        for _ in range(200):  # ...while being sent
            if any(c.chat_id == ana["id"] for c in api.failed):
                break
            await asyncio.sleep(0.05)
        for _ in range(100):
            if _stored(tmp_path / "bot.db", update["update_id"]):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the update was never stored")
    finally:
        process.kill()  # SIGKILL: no clean-up of any kind
        await process.wait()
    assert not [c for c in api.calls_of("sendMessage", since) if c.result is not None]
    api.failures.clear()
    process = await _run(config, tmp_path, api.token)
    try:
        [reply] = await api.replies(ana["id"], since=since, timeout=30)
        assert AGENCY_EMAIL in reply.text
        await api.send_text(ana, "/help")  # the bot is up: anything pending was handled
        await api.replies(ana["id"], since=api.calls.index(reply) + 1, timeout=10)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), 30)
    answers = [c for c in api.calls_of("sendMessage", since)
               if c.chat_id == ana["id"] and c.result is not None and AGENCY_EMAIL in c.text]
    assert len(answers) == 1


async def test_sigterm_stops_the_bot_while_it_waits_for_an_unreachable_bot_api(
        tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/bot"
    process = await _run(_config_file(nowhere, tmp_path), tmp_path,
                         "123456789:TEST-token-for-the-test-server")
    assert process.stderr is not None
    seen = ""
    while "cannot reach the Bot API" not in seen:
        line = await asyncio.wait_for(process.stderr.readline(), 60)
        assert line, f"the bot exited early: {seen}"
        seen += line.decode()
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    _, rest = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 0, seen + rest.decode()
    assert time.monotonic() - started < 5
    assert "Traceback" not in seen + rest.decode()
