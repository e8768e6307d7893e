"""The outbox's own pacing keeps to Telegram's documented rates (bot/limits.py)."""

from __future__ import annotations

from bot.limits import RateLimits


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def sends_within(limits: RateLimits, clock: Clock, chat_id: int, seconds: float) -> list[float]:
    """Send to ``chat_id`` as fast as allowed for ``seconds``; the times of the sends."""
    times = []
    while clock.now < seconds:
        wait = limits.reserve(chat_id)
        if wait == 0:
            times.append(clock.now)
        else:
            clock.now += wait
    return times


def test_a_group_gets_twenty_messages_in_any_minute_without_waiting_for_the_first_ones() -> None:
    clock = Clock()
    limits = RateLimits(clock)
    times = sends_within(limits, clock, -100, 180.0)
    # A few commands of the staff are answered at once: the first messages go out about
    # a second apart, not one every three seconds.
    assert times[5] <= 4.0
    # ... and never more than twenty in any minute.
    for i, start in enumerate(times):
        assert len([t for t in times[i:] if t < start + 60.0]) <= 20
    assert 55 <= len(times) <= 60


def test_a_private_chat_gets_about_one_message_a_second_after_a_short_burst() -> None:
    clock = Clock()
    limits = RateLimits(clock)
    times = sends_within(limits, clock, 42, 10.0)
    assert times[:3] == [0.0, 0.0, 0.0]
    assert 11 <= len(times) <= 13


def test_the_sizes_are_telegrams() -> None:
    # bot/limits.py keeps them as numbers (the core knows nothing of python-telegram-bot).
    from telegram.constants import (
        CallbackQueryLimit,
        FileSizeLimit,
        ForumTopicLimit,
        InlineKeyboardButtonLimit,
        MessageLimit,
    )

    from bot import limits
    assert limits.MAX_TEXT == MessageLimit.MAX_TEXT_LENGTH
    assert limits.MAX_CAPTION == MessageLimit.CAPTION_LENGTH
    assert limits.MAX_TOPIC_NAME == ForumTopicLimit.MAX_NAME_LENGTH
    assert limits.MAX_BUTTON_DATA == InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
    assert limits.MAX_NOTICE == CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH
    assert limits.MAX_DOCUMENT == FileSizeLimit.FILESIZE_UPLOAD
