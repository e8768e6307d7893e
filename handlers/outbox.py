"""Making the Bot API calls the outbox holds (see :mod:`bot.outbox`).

:meth:`Sender.flush` runs from a repeating JobQueue job and right after any
update that may have queued something. One flush at a time; a failure that
may pass (network, 5xx, 429, a timeout) leaves the call queued for a later
try, a refusal that will not pass (400, 403) gives it up so the chat's queue
moves on. A staff chat that Telegram says has moved (a group upgraded to a
supergroup) is followed: ``on_moved`` is told, and the call goes to the new chat.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.outbox import Call, Outbox

log = logging.getLogger(__name__)


def _markup(rows: list[list[list[str]]] | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)
                                  for label, data in row] for row in rows])


def _retry_after(exc: RetryAfter) -> float:
    """How long Telegram asks to wait (an int or a timedelta, depending on PTB's setting)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Sender:
    """Sends what the outbox holds: in order within a chat, chats side by side."""

    def __init__(self, outbox: Outbox, timeout: float = 10.0) -> None:
        self.outbox = outbox
        self.timeout = timeout
        # Told (old chat id, new chat id) when Telegram says a chat has moved.
        self.on_moved: Callable[[int, int], Awaitable[bool]] | None = None
        self._lock = asyncio.Lock()
        self._again = False

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    async def idle(self) -> None:
        """Wait for the flush in hand (if any) to finish."""
        async with self._lock:
            pass

    async def flush(self, bot: Bot) -> int:
        """Send every due call; returns how many were sent. A flush asked for while one
        runs makes that one look again before it ends."""
        if self._lock.locked():
            self._again = True
            return 0
        sent = 0
        async with self._lock:
            self._again = True
            while self._again:
                self._again = False
                while calls := await asyncio.to_thread(self.outbox.due):
                    # One call per chat at a time: chats do not wait for each other.
                    progress = sum(await asyncio.gather(*(self._send(bot, c) for c in calls)))
                    sent += progress
                    if not progress:
                        break
        return sent

    async def _send(self, bot: Bot, call: Call) -> bool:
        """Make one call and report it to the outbox; True if it went through."""
        try:
            message_id, thread_id = await self._call(bot, call)
        except RetryAfter as exc:
            wait = _retry_after(exc)
            log.warning("outbox: %s to %s rate-limited, retrying in %.0f s",
                        call.method, call.chat_id, wait)
            await asyncio.to_thread(self.outbox.retry, call, str(exc), wait)
            return False
        except BadRequest as exc:
            if "not modified" in exc.message:
                await asyncio.to_thread(self.outbox.sent, call)
                return True
            await self._give_up(call, exc)
            return False
        except ChatMigrated as exc:
            if self.on_moved is not None and await self.on_moved(call.chat_id,
                                                                 exc.new_chat_id):
                log.warning("outbox: chat %s moved to %s; following it", call.chat_id,
                            exc.new_chat_id)
                return True  # the call is queued for the new chat now
            await self._give_up(call, exc)
            return False
        except Forbidden as exc:
            await self._give_up(call, exc)
            return False
        except TelegramError as exc:  # network errors, 5xx, timeouts: they pass
            when = await asyncio.to_thread(self.outbox.retry, call, str(exc))
            log.warning("outbox: %s to %s failed (%s), retrying at %s",
                        call.method, call.chat_id, exc, when.strftime("%H:%M:%S"))
            return False
        await asyncio.to_thread(self.outbox.sent, call, message_id, thread_id)
        return True

    async def _give_up(self, call: Call, exc: TelegramError) -> None:
        log.error("outbox: Telegram refused %s to %s for good: %s", call.method, call.chat_id, exc)
        await asyncio.to_thread(self.outbox.give_up, call, str(exc))

    async def _call(self, bot: Bot, call: Call) -> tuple[int | None, int | None]:
        """The Bot API call itself; the id of the message (or topic) it created."""
        p = call.params
        timeouts: dict[str, Any] = {"read_timeout": self.timeout, "write_timeout": self.timeout,
                                    "connect_timeout": self.timeout, "pool_timeout": self.timeout}
        reply = (ReplyParameters(p["reply_to_message_id"], allow_sending_without_reply=True)
                 if p.get("reply_to_message_id") else None)
        thread = p.get("message_thread_id")
        if call.method == "sendMessage":
            message = await bot.send_message(
                call.chat_id, p["text"], parse_mode=p.get("parse_mode"),
                reply_markup=_markup(p.get("buttons")), reply_parameters=reply,
                message_thread_id=thread, **timeouts)
            return message.message_id, None
        if call.method == "copyMessage":
            copied = await bot.copy_message(
                call.chat_id, p["from_chat_id"], p["message_id"], caption=p.get("caption"),
                parse_mode=p.get("parse_mode"), reply_markup=_markup(p.get("buttons")),
                reply_parameters=reply, message_thread_id=thread, **timeouts)
            return copied.message_id, None
        if call.method == "editMessageText":
            if p.get("message_id") is None:
                raise BadRequest("the message to edit was never sent")
            await bot.edit_message_text(
                p["text"], chat_id=call.chat_id, message_id=p["message_id"],
                parse_mode=p.get("parse_mode"), reply_markup=_markup(p.get("buttons")),
                **timeouts)
            return None, None
        if call.method == "editMessageCaption":
            if p.get("message_id") is None:
                raise BadRequest("the message to edit was never sent")
            await bot.edit_message_caption(
                chat_id=call.chat_id, message_id=p["message_id"], caption=p["caption"],
                parse_mode=p.get("parse_mode"), **timeouts)
            return None, None
        if call.method == "createForumTopic":
            topic = await bot.create_forum_topic(call.chat_id, p["name"], **timeouts)
            return None, topic.message_thread_id
        raise BadRequest(f"the outbox cannot make {call.method} calls")
