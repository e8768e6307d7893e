"""What the outbox sends reaches its chat when Telegram is slow to answer or the database
falters after a send: at least once, and twice only when Telegram carried a call out
without saying so in time (the bot cannot tell, and sends it again rather than lose it):
the real Application and sender against the Bot API test server (faults injected there)
and a real database, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import timedelta

import pytest
from botapi import BotApiServer
from botapi.harness import RunningBot, make_config
from sqlalchemy import create_engine, text
from staffchat import (
    BESA,
    STAFF_CHAT,
    ask_staff,
    card_of,
    deliveries,
    settled,
    staff_chat,
    staff_config,
    staff_says,
    start,
    wait_until,
)
from test_inbox import AGENCY_EMAIL, delivered

from bot.config import Config
from handlers.app import Worker

pytestmark = pytest.mark.usefixtures("staff_members")


def quick(api: BotApiServer, database_url: str, send_timeout: float = 1.0) -> Config:
    """The bot with a short send timeout and retry interval: a call that times out is
    tried again within the test."""
    base = make_config(api, database_url)
    return dataclasses.replace(base, staff=dataclasses.replace(
        base.staff, retry_interval=timedelta(seconds=0.2), send_timeout=send_timeout))


async def test_an_answer_that_hung_past_the_timeout_is_sent_again_and_arrives_once(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    await start(started, quick(api, database_url))
    ana = api.user(7200)
    # Telegram holds the answer longer than the bot waits (1 s), then fails it (504): it
    # was not carried out. The bot's call timed out once sent; it is sent again.
    api.fail("sendMessage", delay=2.5, chat_id=ana["id"])
    since = api.mark()
    await api.send_text(ana, "/contact")
    await api.replies(ana["id"], since=since)
    await settled(api, ana)
    assert [c.chat_id for c in api.failed] == [ana["id"]]
    assert len(delivered(api, ana["id"], since, AGENCY_EMAIL)) == 1


async def test_an_answer_telegram_posted_but_answered_late_is_sent_again_and_arrives_twice(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    await start(started, quick(api, database_url))
    ana = api.user(7201)
    # Telegram posts the answer, then takes longer to say so than the bot waits (1 s). The
    # bot cannot tell this from an answer that hung without being posted: at least once, it
    # sends it again. The person sees it twice (never not at all, never three times).
    api.fail("sendMessage", delay=2.5, chat_id=ana["id"], carried_out=True)
    since = api.mark()
    await api.send_text(ana, "/contact")
    await api.replies(ana["id"], since=since)
    await settled(api, ana)  # an answer sent a third time would come before this /help
    assert len(delivered(api, ana["id"], since, AGENCY_EMAIL)) == 2


async def test_a_staff_answer_telegram_posted_but_answered_late_reaches_the_person(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    await start(started, staff_config(api, database_url))
    ana = api.user(7202, "Ana")
    number = await ask_staff(api, ana)
    card = await card_of(api, number)
    # As above: carried out, confirmed after the bot stopped waiting (1 s), sent again.
    api.fail("sendMessage", delay=2.5, chat_id=ana["id"], carried_out=True)
    since = api.mark()
    await staff_says(api, BESA, "Po, në gjykatë.", card)
    await wait_until(lambda: deliveries(api, ana["id"], number))  # posted, not yet confirmed
    await settled(api, ana, staff_chat(api))  # comes after the answer sent again
    both = deliveries(api, ana["id"], number)
    assert len(both) == 2
    assert all(d.text.endswith("Po, në gjykatë.") for d in both)
    # Nothing went wrong as far as the staff can see: no warning under the ticket.
    assert not [c for c in api.calls_of("sendMessage", since)
                if c.chat_id == STAFF_CHAT and "⚠️" in c.text]


async def test_an_answer_in_flight_when_the_bot_stops_reaches_the_person_once(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    config = quick(api, database_url, send_timeout=5.0)
    first = await start(started, config)
    ana = api.user(7203)
    # Telegram posts the answer and says so after 4 s, within the bot's timeout (5 s).
    api.fail("sendMessage", delay=4, chat_id=ana["id"], carried_out=True)
    since = api.mark()
    await api.send_text(ana, "/contact")
    await api.replies(ana["id"], since=since)
    stopping = time.monotonic()
    await first.stop()  # while Telegram's answer is on its way
    assert time.monotonic() - stopping < 10  # the grace: twice the send timeout
    await start(started, config)
    await settled(api, ana)
    assert len(delivered(api, ana["id"], since, AGENCY_EMAIL)) == 1


# The database refuses to mark a call sent (a trigger raising an error, as a full disk or a
# lost connection would make the write fail), until the trigger is dropped.
_REFUSE = {
    "sqlite": ["CREATE TRIGGER refuse_sent BEFORE UPDATE ON outbox WHEN NEW.status = 'sent' "
               "BEGIN SELECT RAISE(ABORT, 'the database refuses writes'); END"],
    "postgresql": [
        "CREATE FUNCTION refuse_sent() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the database refuses writes'; END $$",
        "CREATE TRIGGER refuse_sent BEFORE UPDATE ON outbox FOR EACH ROW "
        "WHEN (NEW.status = 'sent') EXECUTE FUNCTION refuse_sent()"],
}
_ACCEPT = {"sqlite": ["DROP TRIGGER refuse_sent"],
           "postgresql": ["DROP TRIGGER refuse_sent ON outbox", "DROP FUNCTION refuse_sent()"]}


def _execute(database_url: str, statements: dict[str, list[str]]) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            for statement in statements[engine.dialect.name]:
                connection.execute(text(statement))
    finally:
        engine.dispose()


async def test_an_answer_sent_while_the_database_refuses_to_record_it_reaches_the_person_once(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    base = quick(api, database_url, send_timeout=0.5)
    # Claims run out after 1.5 s (3 x the send timeout): a call left pending and claimed
    # would be taken and sent again within the test.
    config = dataclasses.replace(base, telegram=dataclasses.replace(
        base.telegram, worker_lease=timedelta(seconds=1)))
    await start(started, config)
    ana = api.user(7204)
    _execute(database_url, _REFUSE)
    since = api.mark()
    await api.send_text(ana, "/contact")
    await api.replies(ana["id"], since=since)
    await asyncio.sleep(2)  # longer than the claim: recording fails, again and again
    _execute(database_url, _ACCEPT)
    await settled(api, ana)
    assert len(delivered(api, ana["id"], since, AGENCY_EMAIL)) == 1


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # several workers
async def test_an_answer_slow_to_go_through_is_not_sent_by_another_worker_too(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    base = quick(api, database_url)
    # Claims run out after 3 s (3 x the send timeout) unless renewed.
    config = dataclasses.replace(base, telegram=dataclasses.replace(
        base.telegram, worker_lease=timedelta(seconds=1)))
    for index in range(2):
        started.append(await RunningBot(config, Worker(index, 2)).start())
    ana = api.user(7205)
    # Telegram posts the answer, and its answer comes over a slow link: 5 s, no piece of
    # it later than the bot waits for one (1 s), so the call takes longer than a claim.
    api.fail("sendMessage", delay=5, chat_id=ana["id"], carried_out=True, trickle=True)
    since = api.mark()
    await api.send_text(ana, "/contact")
    await api.replies(ana["id"], since=since)
    await settled(api, ana)
    assert len(delivered(api, ana["id"], since, AGENCY_EMAIL)) == 1
