"""What Telegram allows a bot: the one place that knows its limits.

Sizes: a message's text, a button's data and notice, a file the bot uploads.
Rates: Telegram answers a bot that sends too fast with 429 and a time to
wait; the outbox keeps under these rates itself, so that a burst of answers
is spread out instead of refused:
about one message a second in a chat (a short burst is tolerated), twenty a
minute in a group, thirty a second in all. A group's twenty a minute is a
sliding window, not a slow steady rate: staff who type a few commands get
their answers at once, and only a chat that already had twenty messages in
the last minute waits.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from telegram.constants import (
    CallbackQueryLimit,
    FileSizeLimit,
    InlineKeyboardButtonLimit,
    MessageLimit,
)

MAX_TEXT = MessageLimit.MAX_TEXT_LENGTH  # 4096 characters
MAX_BUTTON_DATA = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA  # 64 bytes
MAX_NOTICE = CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH  # 200, a button's notice
MAX_DOCUMENT = FileSizeLimit.FILESIZE_UPLOAD  # 50 MB a file the bot sends


def fits_button(data: str) -> bool:
    """Whether ``data`` fits in a button's callback data (Telegram counts bytes)."""
    return 1 <= len(data.encode()) <= MAX_BUTTON_DATA


MESSAGES_PER_SECOND = 30.0
PRIVATE_CHAT_RATE = 1.0           # messages a second in one private chat
GROUP_PER_MINUTE = 20             # messages in any minute in one group
BURST = 3                         # messages a chat may get at once (an answer in pieces)
# Buckets of chats that have been quiet this long are forgotten.
FORGET_AFTER = 600.0


@dataclass
class _Bucket:
    """A token bucket: ``capacity`` sends at once, refilled at ``rate`` a second."""

    capacity: float
    rate: float
    tokens: float
    stamp: float

    def wait(self, now: float) -> float:
        """Seconds until one send is allowed (0: now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass
class _Window:
    """At most ``limit`` sends in any ``span`` seconds."""

    limit: int
    span: float
    sent: deque[float]

    def wait(self, now: float) -> float:
        while self.sent and now - self.sent[0] >= self.span:
            self.sent.popleft()
        return 0.0 if len(self.sent) < self.limit else self.sent[0] + self.span - now


@dataclass
class _Chat:
    """A chat's pacing: its bucket, and for a group the window of its last minute."""

    bucket: _Bucket
    window: _Window | None


class RateLimits:
    """Telegram's sending rates, per chat and in all."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, *, share: int = 1) -> None:
        """``share``: how many workers send for the bot; each keeps to its share of the
        overall rate (a chat's calls are sent by one worker at a time)."""
        self.clock = clock
        now = clock()
        overall = MESSAGES_PER_SECOND / share
        self._all = _Bucket(overall, overall, overall, now)
        self._chats: dict[int, _Chat] = {}

    def reserve(self, chat_id: int) -> float:
        """Take a send to ``chat_id`` if allowed now and return 0; else the seconds to wait."""
        now = self.clock()
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat(
                _Bucket(BURST, PRIVATE_CHAT_RATE, BURST, now),
                _Window(GROUP_PER_MINUTE, 60.0, deque()) if chat_id < 0 else None)
            if len(self._chats) > 10_000:
                self._forget(now)
        group = chat.window
        wait = max(self._all.wait(now), chat.bucket.wait(now),
                   group.wait(now) if group else 0.0)
        if wait == 0:
            self._all.tokens -= 1
            chat.bucket.tokens -= 1
            if group is not None:
                group.sent.append(now)
        return wait

    def _forget(self, now: float) -> None:
        for chat_id, chat in list(self._chats.items()):
            if now - chat.bucket.stamp > FORGET_AFTER:
                del self._chats[chat_id]
