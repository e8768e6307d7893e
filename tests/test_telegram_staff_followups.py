"""A person's follow-ups to an open ticket reach the staff chat together: one post per
ticket every ``staff.followup_batch``, every text in the order written, none lost or
doubled when the bot is killed while they wait."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

from botapi import BotApiServer, Call
from staffchat import BESA, STAFF_CHAT, ask_staff, card_of, staff_config, start, wait_until
from test_inbox import _config_file, _run

TEXTS = [f"Mesazhi {n}: edhe një hollësi për kërkesën" for n in range(1, 11)]


async def a_ticket(api: BotApiServer, tmp_path: Path, started: list, batch: float,
                   user_id: int) -> tuple[dict, int, Call]:
    """The bot started with follow-ups batched every ``batch`` seconds, and Ana (``user_id``)
    with a ticket posted to the staff chat: Ana, the ticket's number and its card."""
    api.members[STAFF_CHAT] = {BESA: "member"}
    await start(started, staff_config(api, tmp_path / "bot.db",
                                      followup_batch=timedelta(seconds=batch)))
    ana = api.user(user_id, "Ana")
    number = await ask_staff(api, ana)
    return ana, number, await card_of(api, number)


def follow_up_posts(api: BotApiServer, number: int, since: int = 0) -> list[Call]:
    """The staff chat's posts of a person's messages to ticket ``number``."""
    return [c for c in api.sent_to(STAFF_CHAT, since)
            if c.result is not None and f"shkroi te bileta #{number}:" in c.text]


def waiting(database: Path) -> int:
    """Follow-ups stored in the bot's SQLite database, waiting to be posted."""
    with sqlite3.connect(database) as connection:
        return int(connection.execute("SELECT count(*) FROM ticket_messages WHERE "
                                      "direction = 'person' AND relay_id IS NULL").fetchone()[0])


def texts_in(posts: list[Call]) -> list[str]:
    return [line for post in posts for line in post.text.split("\n\n")[1:]]


async def test_ten_quick_follow_ups_reach_the_staff_in_one_or_two_posts(
        api: BotApiServer, tmp_path: Path, started: list) -> None:
    ana, number, card = await a_ticket(api, tmp_path, started, 2, 4101)
    since = api.mark()
    for text in TEXTS:
        await api.send_text(ana, text)
    posts = await wait_until(lambda: (found := follow_up_posts(api, number, since))
                             and len(texts_in(found)) >= len(TEXTS) and found, timeout=20)
    await asyncio.sleep(2.5)  # nothing more comes
    posts = follow_up_posts(api, number, since)
    assert 1 <= len(posts) <= 2
    assert texts_in(posts) == TEXTS
    assert all(p.params["reply_parameters"]["message_id"] == card.result["message_id"]
               for p in posts)
    assert not api.calls_of("copyMessage", since)
    # Ana is told once, not ten times; after a pause, once again.
    assert [c.text for c in acks(api, ana, since)] == [f"U shtua te bileta #{number}."]
    since = api.mark()
    await api.send_text(ana, "Edhe diçka pas një pushimi")
    await api.send_photo(ana, caption="Formulari")
    await api.send_text(ana, "Dhe kjo")
    await api.wait_for("copyMessage", since=since, where=lambda c: c.result is not None)
    await wait_until(lambda: len(texts_in(follow_up_posts(api, number, since))) == 2, timeout=20)
    settle = api.mark()  # Ana's chat settled: a second notice would come before this answer
    await api.send_text(ana, "/lang sq")
    [last] = await api.replies(ana["id"], since=settle)
    assert [c.text for c in acks(api, ana, since) if c is not last] == [
        f"U shtua te bileta #{number}."]


async def test_follow_ups_due_while_the_bot_is_held_up_are_posted_when_it_is_free(
        api: BotApiServer, tmp_path: Path, started: list) -> None:
    ana, number, _ = await a_ticket(api, tmp_path, started, 1, 4104)
    await asyncio.sleep(1.5)  # the look planned when Ana asked is over
    since = api.mark()
    await api.send_text(ana, TEXTS[0])
    await api.replies(ana["id"], since=since, count=1)  # "Added to": its look is planned
    # The bot (its event loop) is held up past the moment the text is due.
    time.sleep(3)  # noqa: ASYNC251
    # Posted once the bot is free again, not by the look once a minute.
    [post] = await wait_until(lambda: follow_up_posts(api, number, since), timeout=10)
    assert texts_in([post]) == [TEXTS[0]]
    # The next follow-ups are posted when due too.
    since = api.mark()
    await api.send_text(ana, TEXTS[1])
    [post] = await wait_until(lambda: follow_up_posts(api, number, since), timeout=10)
    assert texts_in([post]) == [TEXTS[1]]


def acks(api: BotApiServer, person: dict, since: int) -> list[Call]:
    """What the bot said to ``person`` since ``since``."""
    return [c for c in api.sent_to(person["id"], since) if c.result is not None]


async def test_a_photo_follows_the_texts_written_before_it(
        api: BotApiServer, tmp_path: Path, started: list) -> None:
    ana, number, _ = await a_ticket(api, tmp_path, started, 30, 4102)
    since = api.mark()
    await api.send_text(ana, TEXTS[0])
    await api.send_photo(ana, caption="Formulari")
    copy = await api.wait_for("copyMessage", since=since, where=lambda c: c.result is not None
                              and c.chat_id == STAFF_CHAT)
    [post] = follow_up_posts(api, number, since)  # at once, not 30 s later
    assert texts_in([post]) == [TEXTS[0]]
    assert api.calls.index(post) < api.calls.index(copy)


async def test_follow_ups_waiting_when_the_bot_is_killed_are_posted_once_after_restart(
        api: BotApiServer, tmp_path: Path) -> None:
    api.members[STAFF_CHAT] = {BESA: "member"}
    config = _config_file(api.base_url, tmp_path, staff={
        "chat_id": STAFF_CHAT, "retry_interval": "1s", "send_timeout": 5,
        "followup_batch": "10s"})
    process = await _run(config, tmp_path, api.token)
    ana = api.user(4103, "Ana")
    try:
        await api.wait_for("setMyCommands", timeout=30)
        number = await ask_staff(api, ana)
        await card_of(api, number)
        since = api.mark()
        for text in TEXTS[:3]:
            await api.send_text(ana, text)
        await api.replies(ana["id"], since=since, count=1, timeout=20)  # one "Added to"
        await wait_until(lambda: waiting(tmp_path / "bot.db") == 3)  # all stored, waiting
    finally:
        process.kill()  # SIGKILL, before the batch is due
        await process.wait()
    assert not follow_up_posts(api, number, since)
    process = await _run(config, tmp_path, api.token)
    try:
        await wait_until(lambda: follow_up_posts(api, number, since), timeout=40)
        await asyncio.sleep(1.5)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    [post] = follow_up_posts(api, number, since)
    assert texts_in([post]) == TEXTS[:3]
