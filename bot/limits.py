"""What Telegram allows a bot: the one place that knows its limits.

The core keeps to them as it makes what the outbox sends (a ticket's post, a staff
answer cut in pieces, a button's label), the Telegram layer as it renders replies;
``tests/test_limits.py`` checks the sizes against python-telegram-bot's constants.

Sizes: a message's text and a caption, a forum topic's name, a button's data and the
notice a button press gets, a file the bot uploads.
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

import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.untrusted import visible

MAX_TEXT = 4096           # characters of a message
USER_IDS = range(1, 2**52)  # a person's ids: positive, 52 significant bits (a group's < 0)
MAX_CAPTION = 1024        # characters of a photo's or a document's caption
MAX_TOPIC_NAME = 128      # characters of a forum topic's name
MAX_BUTTON_DATA = 64      # bytes of a button's callback data
MAX_NOTICE = 200          # characters of the notice a button press gets
MAX_DOCUMENT = 50_000_000  # bytes of a file the bot uploads
WEBHOOK_PORTS = (443, 80, 88, 8443)  # the only ports Telegram posts a webhook's updates to
MAX_LABEL = 60
"""Characters of a button's label: ours, not Telegram's (it takes more), so that a label
reads whole on a phone."""


def fits_button(data: str) -> bool:
    """Whether ``data`` fits in a button's callback data (Telegram counts bytes)."""
    return 1 <= len(data.encode()) <= MAX_BUTTON_DATA


def shorten(text: str, limit: int) -> str:
    """``text`` as it is if it fits in ``limit`` characters, else on one line and cut to
    them, ending in "…"."""
    text = " ".join(text.split()) if len(text) > limit else text
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def label(text: str, limit: int = MAX_LABEL) -> str:
    """``text`` on one line, at most ``limit`` characters (a button's label, a quote),
    without the invisible controls a person may have typed (a right-to-left override
    left open would reverse the rest of the bot's sentence around the quote)."""
    return shorten(visible(text), limit)


# Never cut inside an HTML tag or an entity such as &amp;.
_UNSAFE_CUT = re.compile(r"<[^>]*$|&[#a-zA-Z0-9]*$")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>")


def split(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut ``text`` (HTML) into pieces of at most ``limit`` characters.

    Cuts at a paragraph break, else a line break, else a space, and never
    inside a tag or an HTML entity. Telegram refuses a piece with a tag left
    open: the tags open at a cut are closed at the end of the piece and opened
    again, as written (``<a href="...">``), at the start of the next, within
    ``limit`` (beyond it only when those tags alone take it all).
    """
    pieces: list[str] = []
    carried: list[tuple[str, str]] = []  # (name, tag as written) open where ``text`` starts
    reopened = ""
    while text and len(reopened) + len(text) > limit:  # text: a tag left open gains nothing
        room = limit - len(reopened)
        cut, still_open = _cut(text, room, carried)
        pieces.append(reopened + text[:cut].rstrip()
                      + "".join(f"</{name}>" for name, _ in reversed(still_open)))
        text = text[cut:].lstrip()
        # The text's own closing tags right after the cut are those just written.
        while still_open and text.startswith(f"</{still_open[-1][0]}>"):
            text = text[len(still_open.pop()[0]) + 3:].lstrip()
        carried = still_open
        reopened = "".join(tag for _, tag in carried)
    if text or not pieces:
        pieces.append(reopened + text)
    return pieces


def _cut(text: str, room: int, carried: list[tuple[str, str]]
         ) -> tuple[int, list[tuple[str, str]]]:
    """Where to cut ``text`` so that what comes before, with the tags still open there
    closed, takes at most ``room`` characters; and those tags."""
    window = room
    while True:
        cut = _cut_within(text, window)
        still_open = _open_tags(text[:cut], carried)
        over = (len(text[:cut].rstrip()) + sum(len(name) + 3 for name, _ in still_open)
                - room)
        if over <= 0 or window == 1:  # at 1, the tags open at the cut leave no room
            return cut, still_open
        window = max(1, window - over)


def _cut_within(text: str, window: int) -> int:
    """A cut in the first ``window`` characters of ``text``, at the last break that is
    not in the first half of them, never inside a tag or an entity (after one that
    begins the text and is longer than ``window``)."""
    head = text[:window]
    for separator in ("\n\n", "\n", " "):
        cut = head.rfind(separator)
        if cut > window // 2:
            break
    else:
        cut = window
    unsafe = _UNSAFE_CUT.search(text[:cut])
    if unsafe:
        cut = unsafe.start() or text.find(">" if text[0] == "<" else ";") + 1 or len(text)
    return cut


def _open_tags(html: str, carried: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The tags open at the end of ``html`` (name, tag as written), outermost first, when
    ``carried`` are open at its start."""
    tags = list(carried)
    for tag in _TAG.finditer(html):
        if not tag.group(1):
            tags.append((tag.group(2), tag.group(0)))
        elif tags and tags[-1][0] == tag.group(2):
            tags.pop()
    return tags


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
        self._chats: OrderedDict[int, _Chat] = OrderedDict()  # the longest quiet first

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
        else:
            self._chats.move_to_end(chat_id)
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
        """Forget the chats quiet for more than FORGET_AFTER. They are the first ones (a
        chat moves to the end at each :meth:`reserve`, which stamps its bucket): this looks
        at those it forgets and one more, not at every chat for each new one; the new
        chat, last, ends the loop."""
        while now - next(iter(self._chats.values())).bucket.stamp > FORGET_AFTER:
            self._chats.popitem(last=False)
