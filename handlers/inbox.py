"""Updates stored before they are confirmed, and handled chat by chat.

:class:`DurableQueue` is the Application's update queue: the updater (long
polling or the webhook) puts every update there, and its ``put`` stores the
update in the inbox (:mod:`bot.inbox`) before it returns. Long polling
confirms a batch only with the next ``getUpdates`` call, which the updater
makes after putting the whole batch, and the webhook answers 200 only after
``put`` returned; so an update Telegram considers delivered is always in the
database. A duplicate (same ``update_id``) is dropped at the door.

:class:`ChatOrderedProcessor` handles updates of different chats side by
side and the updates of one chat in the order they came, and marks each
update done in the inbox once its handlers have run. An update in hand when
the process dies is handed over again by :meth:`DurableQueue.replay` at the
next start.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Iterator
from contextvars import ContextVar
from typing import Any

from telegram import Bot, Update
from telegram.ext import BaseUpdateProcessor

from bot.inbox import Inbox

log = logging.getLogger(__name__)

# Updates handled at once (of different chats; one chat's updates wait their turn).
MAX_CONCURRENT_UPDATES = 1024


# While an update is handled: its id and a counter of the replies queued for it.
_HANDLING: ContextVar[tuple[int, Iterator[int]] | None] = ContextVar("handling", default=None)


def reply_key() -> tuple[int, int] | None:
    """(update id, number of this reply within the update) while handling an update.

    Handling an update again after a crash queues the same replies in the same
    order, so this key lets the outbox drop what it already holds."""
    handling = _HANDLING.get()
    return None if handling is None else (handling[0], next(handling[1]))


def _chat_key(update: object) -> int | None:
    """The chat whose updates must keep their order (None: updates of no chat)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


class DurableQueue(asyncio.Queue[object]):
    """The update queue whose ``put`` stores an update in the inbox before queuing it."""

    def __init__(self, inbox: Inbox) -> None:
        super().__init__()
        self.inbox = inbox

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            user = item.effective_user
            stored = await asyncio.to_thread(
                self.inbox.store, item.update_id, item.to_dict(), chat_id=_chat_key(item),
                user_id=user.id if user is not None else None)
            if not stored:
                log.info("update %d arrived again; it is handled once", item.update_id)
                return
        await super().put(item)

    async def replay(self, bot: Bot) -> int:
        """Queue the updates stored but not handled before the last stop; returns how many."""
        pending = await asyncio.to_thread(self.inbox.pending)
        for _, payload in pending:
            update = Update.de_json(payload, bot)
            if update is not None:
                await super().put(update)
        if pending:
            log.info("handling %d updates received before the last stop", len(pending))
        return len(pending)


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Different chats side by side, one chat in order; each update marked done when handled."""

    def __init__(self, inbox: Inbox, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES
                 ) -> None:
        super().__init__(max_concurrent_updates)
        self.inbox = inbox
        self._last: dict[int | None, asyncio.Future[None]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        before = self._last.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._last[key] = mine
        try:
            if before is not None:
                await before
            if isinstance(update, Update):
                _HANDLING.set((update.update_id, itertools.count()))
            await coroutine
            if isinstance(update, Update):
                await asyncio.to_thread(self.inbox.done, update.update_id)
        finally:
            if asyncio.iscoroutine(coroutine):
                coroutine.close()  # not awaited when the wait above was cancelled
            mine.set_result(None)
            if self._last.get(key) is mine:
                del self._last[key]

    async def initialize(self) -> None:
        """Nothing to prepare."""

    async def shutdown(self) -> None:
        """Nothing to release: unhandled updates stay pending in the inbox."""
