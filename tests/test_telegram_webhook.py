"""The bot in webhook mode: the Bot API test server posts updates to the bot's own
HTTP endpoint with the secret token, as Telegram does. The people's flows are the
same ones tests/test_telegram_people.py runs over long polling.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import test_telegram_people as flows
from botapi import BotApiServer
from botapi.harness import RunningBot, free_port, make_config
from sqlalchemy import Engine, create_engine, text
from test_chat import CLI, environment
from test_inbox import _config_file

SECRET = "s3cret-Token_for-the-webhook"


@pytest.fixture
async def bot(api: BotApiServer, tmp_path: Path) -> AsyncIterator[RunningBot]:
    running = await RunningBot(make_config(api, tmp_path / "bot.db", webhook_secret=SECRET)).start()
    yield running
    await running.stop()


SAME_FLOWS = [
    flows.test_start_greets_in_albanian_with_topic_buttons,
    flows.test_albanian_question_without_diacritics_gets_the_albanian_answer,
    flows.test_english_question_gets_the_english_answer,
    flows.test_suggestion_button_answers_the_chosen_question,
    flows.test_thumbs_down_apologises_and_offers_the_contact,
    flows.test_browse_the_faq_by_topic,
    flows.test_search_finds_an_organisation_and_shows_its_card,
    flows.test_search_with_several_candidates_offers_buttons,
    flows.test_search_for_an_unknown_organisation_says_so,
    flows.test_sticker_and_photo_get_please_write,
    flows.test_html_in_the_text_is_escaped_in_the_reply,
    flows.test_forged_or_unknown_buttons_change_nothing,
    flows.test_in_a_group_only_mentions_replies_and_commands_get_answers,
    flows.test_lang_is_remembered_after_a_restart,
]


@pytest.mark.parametrize("flow", SAME_FLOWS, ids=lambda f: f.__name__.removeprefix("test_"))
async def test_same_flow_over_the_webhook(api: BotApiServer, bot: RunningBot, flow) -> None:
    await flow(api, bot)


async def test_the_bot_sets_its_webhook_with_the_secret_token(api: BotApiServer,
                                                             bot: RunningBot) -> None:
    assert api.webhook == {"url": bot.config.telegram.webhook.url, "secret_token": SECRET}
    assert bot.config.telegram.webhook.url.startswith("https://")
    assert not api.calls_of("getUpdates")


async def test_a_request_with_a_wrong_or_missing_secret_is_rejected(api: BotApiServer,
                                                                   bot: RunningBot) -> None:
    ana = api.user(2001)
    since = api.mark()
    forged = {"update_id": 999001, "message": api.message(ana, "/contact")}
    assert await api.post_webhook(forged, "not-the-secret") == 403
    assert await api.post_webhook({**forged, "update_id": 999002}, None) == 403
    assert await api.post_webhook({**forged, "update_id": 999003}, SECRET) == 200
    [reply] = await api.replies(ana["id"], since=since)
    assert flows.AGENCY_PHONE in reply.text
    assert len(api.calls_of("sendMessage", since)) == 1


async def test_without_a_configured_secret_a_random_one_is_used(api: BotApiServer,
                                                               tmp_path: Path) -> None:
    running = await RunningBot(make_config(api, tmp_path / "bot.db", webhook_secret="")).start()
    try:
        [secret] = {call.params["secret_token"] for call in api.calls_of("setWebhook")}
        assert len(secret) >= 32 and api.webhook is not None
        assert api.webhook["secret_token"] == secret
        assert await api.post_webhook({"update_id": 1, "message": api.message(
            api.user(2002), "/help")}, None) == 403
        [reply] = await flows.ask(api, api.user(2002), "/help")
        assert "/search" in reply.text
    finally:
        await running.stop()


# --- what an admin sees when the webhook cannot start ----------------------------------

def _webhook_config(api: BotApiServer, tmp_path: Path, url: str, port: int) -> Path:
    """A config.yaml for webhook mode, the bot listening on 127.0.0.1:``port``."""
    return _config_file(api.base_url, tmp_path, telegram={"mode": "webhook", "webhook": {
        "listen": "127.0.0.1", "port": port, "url": url, "secret_token": SECRET}})


async def _run(config: Path, tmp_path: Path, token: str) -> tuple[int | None, str]:
    """``ngo-faq-bot run`` until it ends by itself: its exit code and its log."""
    process = await asyncio.create_subprocess_exec(
        CLI, "--config", str(config), "run", env=environment(tmp_path, TELEGRAM_BOT_TOKEN=token),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return process.returncode, stderr.decode()


def _line(config: Path, key: str) -> int:
    """The line (from 1) of the config file that sets ``key``."""
    return next(number for number, line in enumerate(config.read_text().splitlines(), 1)
                if line.strip().startswith(key))


def _errors(log: str) -> list[str]:
    return [line.split(" ERROR ", 1)[1] for line in log.splitlines() if " ERROR " in line]


async def test_a_webhook_address_telegram_refuses_stops_the_bot_with_one_line(
        api: BotApiServer, tmp_path: Path) -> None:
    url = "https://nowhere.example.org/telegram/hook"  # a host no name server knows
    config = _webhook_config(api, tmp_path, url, free_port())
    code, log = await _run(config, tmp_path, api.token)
    assert code == 2, log
    assert _errors(log) == [
        "handlers.app: the bot cannot start: Telegram refused the webhook address "
        "https://nowhere.example.org/… "
        f"(telegram.webhook.url in {config}:{_line(config, 'url: https:')}): Bad webhook: failed to resolve host: name or "
        "service not known"]
    assert len(api.calls_of("setWebhook")) == 1  # refused once, not tried again for ever
    assert "Traceback" not in log
    assert api.token.split(":")[1] not in log and SECRET not in log


async def test_a_webhook_port_in_use_stops_the_bot_with_one_line(api: BotApiServer,
                                                                 tmp_path: Path) -> None:
    with socket.socket() as taken:  # another program listens on the bot's port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        api.proxied["bot.example.org"] = port
        config = _webhook_config(api, tmp_path, "https://bot.example.org/telegram/hook", port)
        code, log = await _run(config, tmp_path, api.token)
    assert code == 2, log
    assert _errors(log) == [
        f"handlers.app: the bot cannot start: cannot listen for the webhook's updates on "
        f"127.0.0.1:{port} (telegram.webhook.listen and .port in "
        f"{config}:{_line(config, 'listen:')}): "
        "Address already in use"]
    assert "Traceback" not in log
    assert api.token.split(":")[1] not in log and SECRET not in log


# The store of a /contact waits for an advisory lock the test holds (another transaction
# in its way, as on a busy database); the store of anything else does not.
_HOLD_CONTACT = [
    """CREATE FUNCTION hold_contact() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.payload::jsonb #>> '{message,text}' = '/contact' THEN
           PERFORM pg_advisory_xact_lock(4242);
         END IF;
         RETURN NEW;
       END $$""",
    "CREATE TRIGGER hold_contact BEFORE INSERT ON inbox "
    "FOR EACH ROW EXECUTE FUNCTION hold_contact()",
]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_one_chat_is_answered_in_order_when_its_messages_come_on_concurrent_requests(
        api: BotApiServer, database_url: str) -> None:
    running = await RunningBot(make_config(api, database_url, webhook_secret=SECRET)).start()
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in _HOLD_CONTACT:
                connection.execute(text(statement))
        ana = api.user(2003)
        since = api.mark()
        with engine.connect() as holder:
            holder.execute(text("SELECT pg_advisory_lock(4242)"))
            first = asyncio.create_task(api.send_text(ana, "/contact"))
            await _until(lambda: _waiting_for_the_lock(engine), "/contact is being stored")
            second = asyncio.create_task(api.send_text(ana, "/help"))
            # The /help request comes in meanwhile; stored at once, it would go first.
            await asyncio.wait([second], timeout=1)
            holder.execute(text("SELECT pg_advisory_unlock(4242)"))
            await asyncio.gather(first, second)
        replies = await api.replies(ana["id"], since=since, count=2)
        assert flows.AGENCY_PHONE in replies[0].text
        assert "/search" in replies[1].text
    finally:
        engine.dispose()
        await running.stop()


def _waiting_for_the_lock(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(connection.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )).scalar())


async def _until(check: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + 20
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.05)
