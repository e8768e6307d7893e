"""The outbox's own pacing keeps to Telegram's documented rates (bot/limits.py)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from bot.limits import RateLimits, split


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


class Telegram(HTMLParser):
    """Reads a message as Telegram's HTML mode does: its visible text, and what it
    refuses (a tag closed that is not the last one opened, a tag left open)."""

    def __init__(self, piece: str) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []
        self.feed(piece)
        self.close()
        assert not self.open, f"unclosed {self.open} in {piece!r}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes nothing open"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def visible(html: str) -> str:
    return "".join(Telegram(html).text)


@pytest.mark.parametrize("limit", [4096, 300, 160])
def test_a_long_html_message_is_cut_into_pieces_each_of_its_tags_closed(limit: int) -> None:
    link = '<a href="https://amshc.gov.al/en/grants?call=2026&amp;lang=en">the call</a>'
    text = "\n".join(
        f"<b>Step {n}</b>: read <i>{'all of it, ' * (n % 40)}<b>carefully</b></i> and "
        f"{link} <code>{'x' * (n % 7)}</code>\n<pre><code class=\"language-yaml\">"
        f"{'key: value ' * (n % 30)}</code></pre>" for n in range(150))
    text = f"<blockquote><b>{text}</b></blockquote>"
    pieces = split(text, limit)
    assert len(pieces) > 1
    for piece in pieces:
        assert len(piece) <= limit
        assert visible(piece).strip()
    # Nothing seen is lost, nor added (the spaces and line breaks at a cut are).
    seen = "".join(visible(piece) for piece in pieces)
    assert re.sub(r"\s", "", seen) == re.sub(r"\s", "", visible(text))
    # A piece cut inside a link opens the same link again.
    assert any(piece.startswith('<blockquote><b><a href="https://amshc.gov.al/en/grants?'
                                'call=2026&amp;lang=en">') for piece in split(text, 300))


def test_a_text_that_leaves_a_tag_open_is_cut_to_its_end() -> None:
    """A tag the text never closes (and a tag longer than the limit) still ends the
    cutting: it had gone on for ever once the text was used up."""
    pieces = split("<b>" + "word " * 100, 60)
    assert 9 <= len(pieces) <= 12 and all(len(p) <= 60 for p in pieces)
    assert "".join(pieces).count("word") == 100
    pieces = split('<a href="https://example.org/' + "x" * 40 + '">' + "y " * 30, 20)
    assert "".join(pieces).count("y") == 30


def test_chats_quiet_for_ten_minutes_are_forgotten_and_then_get_a_whole_burst() -> None:
    clock = Clock()
    limits = RateLimits(clock)
    assert limits.reserve(-100) == 0                 # a group, known first
    assert [limits.reserve(42) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limits.reserve(42) > 0                    # its burst is spent
    clock.now = 1.0
    for chat_id in range(1000, 11_000):              # over 10,000 chats: a new one forgets
        limits.reserve(chat_id)
    clock.now = 650.0                                # ten minutes and more after them
    while limits.reserve(-100) == 0:                 # the group sends again: not quiet
        pass
    limits.reserve(7)                                # a new chat: the quiet ones are forgotten
    assert len(limits._chats) == 2                   # the group and the new chat
    assert limits.reserve(-100) > 0                  # the group's pacing is kept
    assert [limits.reserve(42) for _ in range(3)] == [0.0, 0.0, 0.0]  # back: a whole burst
    assert limits.reserve(42) > 0
