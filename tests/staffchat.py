"""The staff chat of the end-to-end tests, and the steps the person and the staff take
there; what a test can see of them (the messages the Bot API test server received).

Its members (Besa, Drita) are set by the ``staff_members`` fixture (conftest.py)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from botapi import BotApiServer, Call
from botapi.harness import RunningBot, make_config

from bot.config import Config, StaffConfig

STAFF_CHAT = -1005550001111
BESA, DRITA, OUTSIDER = 9001, 9002, 9100
UNANSWERABLE = "sa kushton nje bilete avioni per ne Londer muajin qe vjen?"
# Seconds to wait for what a step shows when other test runs load the machine.
LOADED = 30.0


def staff_config(api: BotApiServer, database: Path | str, **staff: Any) -> Config:
    base = make_config(api, database)
    settings: dict[str, Any] = {
        "chat_id": STAFF_CHAT, "remind_after": timedelta(hours=4), "max_tickets_per_hour": 3,
        "retry_interval": timedelta(seconds=0.2), "send_timeout": 1.0,
        "followup_batch": timedelta(seconds=0.5), **staff}
    return dataclasses.replace(base, staff=StaffConfig(**settings))


async def start(started: list[RunningBot], config: Config) -> RunningBot:
    running = await RunningBot(config).start()
    started.append(running)
    return running


def staff_chat(api: BotApiServer) -> dict[str, Any]:
    if STAFF_CHAT in api.forums:
        return api.forum_chat(STAFF_CHAT)
    return api.group_chat(STAFF_CHAT, "Stafi AMShC")


async def wait_until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll ``check`` until it returns something true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.05)


def cards(api: BotApiServer, since: int = 0) -> list[Call]:
    """The ticket posts in the staff chat."""
    return [c for c in api.sent_to(STAFF_CHAT, since)
            if c.method == "sendMessage" and c.text.startswith("🎫")]


async def ask_staff(api: BotApiServer, person: dict, question: str = UNANSWERABLE) -> int:
    """Ask a question the bot cannot answer and accept the offer; returns the ticket number."""
    since = api.mark()
    await api.send_text(person, question)
    [offer] = await api.replies(person["id"], since=since)
    label, data = offer.buttons[-1][0]
    assert label in ("Dërgoja stafit", "Send it to the staff"), offer.labels
    since = api.mark()
    await api.press(person, offer, data)
    confirmation = await api.wait_for("sendMessage", since=since,
                                      where=lambda c: c.chat_id == person["id"])
    assert "#" in confirmation.text, confirmation.text
    return int(confirmation.text.split("#")[1].split(".")[0].split()[0])


async def card_of(api: BotApiServer, number: int, timeout: float = 10.0) -> Call:
    return await api.wait_for("sendMessage", timeout=timeout, where=lambda c: (
        c.chat_id == STAFF_CHAT and c.result is not None
        and c.text.startswith(f"🎫 Bileta #{number} ")))


async def staff_says(api: BotApiServer, user_id: int, text: str, card: Call, **kwargs: Any
                     ) -> dict:
    staff = api.user(user_id, "Besa" if user_id == BESA else "Drita")
    return await api.send_text(staff, text, chat=staff_chat(api), reply_to=card.result, **kwargs)


def deliveries(api: BotApiServer, person_id: int, number: int) -> list[Call]:
    return [c for c in api.sent_to(person_id)
            if f"#{number})" in c.text or f"#{number})" in str(c.params.get("caption", ""))]


async def replies_to(api: BotApiServer, person: dict, text: str) -> list[Call]:
    """What the bot answers ``person`` writing ``text``."""
    since = api.mark()
    await api.send_text(person, text)
    return await api.replies(person["id"], since=since)


async def settled(api: BotApiServer, *chats: dict) -> list[Call]:
    """Everything the bot had queued to each of ``chats`` (people, or the staff chat as
    :func:`staff_chat`) has been sent: the answer to a /help written there now comes after
    it, as one chat's messages go in order. Asserting "nothing more" after this does not
    depend on how long a loaded machine takes, as a sleep would. The /help answers."""
    found = []
    for chat in chats:
        staff = chat["id"] == STAFF_CHAT
        since = api.mark()
        await api.send_text(api.user(BESA, "Besa") if staff else chat, "/help",
                            **({"chat": chat} if staff else {}))
        found += await api.replies(chat["id"], since=since, timeout=LOADED)
    return found


async def edited_follow_up(api: BotApiServer, person: dict, text: str, edited: str) -> str:
    """``person`` writes ``text`` to their open ticket, then edits it to ``edited``: what the
    staff chat's copy shows once the bot has edited it."""
    since = api.mark()
    follow = await api.send_text(person, text)
    copy = await api.wait_for("sendMessage", since=since, where=lambda c: c.result is not None
                              and c.chat_id == STAFF_CHAT)
    since = api.mark()
    await api.edit(follow, text=edited)
    await api.wait_for("editMessageText", since=since, where=lambda c: c.result is not None
                       and c.params["message_id"] == copy.result["message_id"])
    return api.message_text(STAFF_CHAT, copy.result["message_id"])
