"""Carrying out the intents the outbox holds (see :mod:`bot.outbox`, :mod:`bot.intents`)
as Bot API calls: the one place that knows how the bot's wishes look in Telegram.

:class:`Sender` runs in the background: chats side by side, one call at a time in
each (see its docstring). A failure that may pass (network, 5xx, 429, a timeout)
leaves the call queued for a later try, a refusal that will not pass (400, 403)
gives it up so the chat's queue moves on. A timeout is retried also when the request
had left and Telegram may have carried it out: sending is at least once (a person may
see a message twice, never not at all; see README.md, "What is guaranteed"). Errors
are stored (and shown to the staff) without the bot token. A staff chat that Telegram
says has moved (a group upgraded to a supergroup) is followed: ``on_moved`` is told,
and the call goes to the new chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import TypeHandler

from bot.backoff import backoff
from bot.conversation import Assistant
from bot.intents import (
    Delete,
    Deliver,
    Document,
    Edit,
    EditButtons,
    EditCaption,
    NoteOnTicket,
    OpenTopic,
    Picture,
    PostTicket,
    Relay,
    RenameTopic,
    Say,
    UpdateTicket,
)
from bot.limits import RateLimits
from bot.outbox import BLOCKED, DEACTIVATED, NO_CHAT, Call, Outbox, utcnow
from bot.storage import reason_of
from handlers import buttons
from handlers.context import BotApplication, BotContext
from handlers.leases import renew_claims
from handlers.redaction import redact
from handlers.retrying import retry_after_of

log = logging.getLogger(__name__)
_T = TypeVar("_T")

# After an update whose handling may have queued calls no one handed to the sender (a
# ticket's post), the sender looks at the queue within this many seconds.
LOOK_SOON = 0.2
# A claimed call that Telegram's rates hold back longer than this (a group's twenty
# messages a minute) is given back to the queue until its time, not kept claimed.
HOLD_AT_MOST = 5.0
# Telegram's refusals that say why a person cannot get the bot's messages, and what that
# is for the staff.
_GONE = (("bot was blocked by the user", BLOCKED), ("user is deactivated", DEACTIVATED),
         ("chat not found", NO_CHAT))
# The pauses between tries to record what a call did while the database refuses it.
RECORD_PAUSE = 0.2
RECORD_PAUSE_AT_MOST = 10.0


def _markup(rows: list[list[list[Any]]] | None) -> InlineKeyboardMarkup | None:
    """The stored buttons as an inline keyboard (a button that cannot be packed is left
    out, logged: the message matters more)."""
    keyboard: list[list[InlineKeyboardButton]] = []
    for row in rows or ():
        keys = []
        for label, stored in row:
            data = buttons.stored(stored)
            if data is None:
                log.error("outbox: a button that cannot be sent is left out: %r", stored)
            else:
                keys.append(InlineKeyboardButton(label, callback_data=data))
        if keys:
            keyboard.append(keys)
    return InlineKeyboardMarkup(keyboard) if keyboard else None


class Sender:
    """Sends what the outbox holds: one call at a time in a chat, in the order queued;
    chats side by side, so a call that hangs holds back only its own chat; within
    Telegram's rates (:mod:`bot.limits`).

    :meth:`start` runs it in the background until :meth:`stop`. An answer claimed
    as it was queued is given to :meth:`hand` and goes at once, and when a call
    went through the chat's next one follows it (:meth:`Outbox.sent_then_next`);
    :meth:`wake` tells it to look at the queue (something was queued behind other
    calls), :meth:`wake_soon` that it might have been. It also looks by itself every
    ``poll_interval`` seconds and when a call waiting for a retry falls due.

    The claims on the calls it holds (in flight, held back by Telegram's rates) are
    renewed every third of the outbox's lease, so that no other worker takes a call that
    is slow to go through (a large file, answers trickling in, a database that refuses
    to record it for a while) and makes it too.
    """

    def __init__(self, outbox: Outbox, timeout: float = 10.0, *, poll_interval: float = 5.0,
                 limits: RateLimits | None = None) -> None:
        self.outbox = outbox
        self.timeout = timeout
        # Told (old chat id, new chat id) when Telegram says a chat has moved.
        self.on_moved: Callable[[int, int], Awaitable[bool]] | None = None
        self.poll_interval = poll_interval
        self.limits = limits or RateLimits()
        self._wake = asyncio.Event()
        # The call in flight to each chat, and the task making it.
        self._in_flight: dict[int, tuple[Call, asyncio.Task[None]]] = {}
        self._runner: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._bot: Bot | None = None
        self._stopping = False
        # Calls claimed and held back by Telegram's rates, by chat, with when they may go
        # (time.monotonic()); chats a look left out because a call to them was in flight.
        self._held: dict[int, tuple[float, Call]] = {}
        self._passed_over: set[int] = set()
        self._looked = False
        self._releasing: set[asyncio.Task[None]] = set()
        self._soon: asyncio.TimerHandle | None = None

    @property
    def busy(self) -> bool:
        return bool(self._in_flight)

    async def idle(self) -> None:
        """Wait for the calls in flight now to end."""
        if self._in_flight:
            await asyncio.wait([task for _, task in self._in_flight.values()])

    def wake(self) -> None:
        """Something was queued: look at the queue now."""
        self._wake.set()

    def wake_soon(self) -> None:
        """Something may have been queued: look at the queue within :data:`LOOK_SOON`
        seconds (one look for all that asked meanwhile, not one each)."""
        if self._soon is None:
            self._soon = asyncio.get_running_loop().call_later(LOOK_SOON, self._wake_now)

    def _wake_now(self) -> None:
        self._soon = None
        self._wake.set()

    def start(self, bot: Bot) -> None:
        if self._runner is None:
            self._bot = bot
            self._runner = asyncio.create_task(self._run(bot), name="outbox-sender")
            self._renewer = asyncio.create_task(renew_claims(
                self.outbox.lease, self._held_claims, self.outbox.renew, "outbox"),
                name="outbox-renew")

    async def stop(self) -> None:
        """Stop sending; calls in flight get twice the send timeout to end and be
        recorded: time for a request to finish leaving (the write timeout) and for its
        answer (the read timeout). A call that had reached Telegram by the stop has
        mostly ended by then; what is still in flight is cut off and stays queued for
        the next start, which makes it again (at least once: a large file still leaving,
        or a call made whose record the database still refuses, may then arrive twice)."""
        self._stopping = True
        if self._soon is not None:
            self._soon.cancel()
            self._soon = None
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None
        tasks = [task for _, task in self._in_flight.values()]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=2 * self.timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._renewer is not None:  # only now: the calls in flight kept their claims
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None

    def _held_claims(self) -> list[int]:
        """The calls this sender has claimed and not yet ended: in flight, or held until
        Telegram's rates let them go (their claims are renewed while so)."""
        return [*(call.id for call, _ in self._in_flight.values()),
                *(call.id for _, call in self._held.values())]

    async def _run(self, bot: Bot) -> None:
        # The flag as well as the cancellation: asyncio.wait_for in Python 3.11 can swallow
        # a cancellation that comes as the wake-up does.
        while not self._stopping:
            self._wake.clear()
            try:
                pause = await self._dispatch(bot)
            except Exception:  # the database is away: look again later
                log.exception("outbox: cannot read the queue")
                pause = self.poll_interval
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(pause):
                    await self._wake.wait()

    async def _dispatch(self, bot: Bot) -> float:
        """Start the calls that may go now; returns the seconds until the next look.

        A call this worker claimed is its own until it is sent, retried or given up:
        a call that Telegram's rates hold is kept here until its time (a look would
        not find it again), and a look leaves out chats with a call in flight (their
        next call is taken when that one ends). Only the first look after the start
        takes this worker's own claims again (left by a stop or a crash)."""
        for chat, (until, call) in list(self._held.items()):
            if until <= time.monotonic() and chat not in self._in_flight:
                del self._held[chat]
                self._start(bot, call)
        busy = set(self._in_flight)
        self._passed_over |= busy
        calls, later = await asyncio.to_thread(
            self.outbox.look, busy=busy | set(self._held), own=not self._looked)
        self._looked = True
        pause = self.poll_interval
        for call in calls:
            if call.chat_id in self._in_flight or call.chat_id in self._held:
                continue  # handed over meanwhile; a claim is never made twice
            self._start(bot, call)
        if self._held:
            pause = min(pause, min(until for until, _ in self._held.values())
                        - time.monotonic())
        if later is not None:
            pause = min(pause, (later - utcnow()).total_seconds())
        return max(pause, 0.01)

    def hand(self, calls: list[Call]) -> None:
        """Make now ``calls`` that were claimed for this worker as they were queued or as
        the chat's previous call ended (or as soon as Telegram's rates allow)."""
        bot = self._bot
        for call in calls:
            if bot is None or self._stopping or call.chat_id in self._in_flight:
                self._held[call.chat_id] = (time.monotonic(), call)
                self.wake()
            elif self._start(bot, call) > 0:
                self.wake()

    def _start(self, bot: Bot, call: Call) -> float:
        """Start ``call`` if Telegram's rates allow it now (0), else keep it until they do
        and return the seconds to wait."""
        wait = self.limits.reserve(call.chat_id)
        if wait == 0:
            self._in_flight[call.chat_id] = (call, asyncio.create_task(
                self._send_then_next(bot, call), name=f"outbox-{call.chat_id}"))
        elif wait <= HOLD_AT_MOST:
            self._held[call.chat_id] = (time.monotonic() + wait, call)
        else:
            task = asyncio.create_task(self._release(call, wait))
            self._releasing.add(task)
            task.add_done_callback(self._releasing.discard)
        return wait

    async def _release(self, call: Call, wait: float) -> None:
        try:
            await asyncio.to_thread(self.outbox.release, call, wait)
        except Exception:  # the database is away: the claim runs out by itself
            log.exception("outbox: could not give back %s to %s", call.kind, call.chat_id)
        self.wake()

    async def _send_then_next(self, bot: Bot, call: Call) -> None:
        """Make ``call``, then the chat's next one if it is due (no look needed); look
        again when the call did not go through (a retry to schedule, a chat whose queue
        moves on) or when a look passed the chat over while the call was in flight."""
        went, following = False, None
        try:
            went, following = await self._send(bot, call)
        except Exception:  # not made (a chat's move not followed...): the call stays queued
            log.exception("outbox: %s to %s failed", call.kind, call.chat_id)
        finally:
            self._in_flight.pop(call.chat_id, None)
            passed_over = call.chat_id in self._passed_over
            self._passed_over.discard(call.chat_id)
        if following is not None:
            self.hand([following])
        elif not went or passed_over:
            self.wake()

    async def _send(self, bot: Bot, call: Call) -> tuple[bool, Call | None]:
        """Make one call and record what it did (see :meth:`_recorded`); whether it went
        through, and the chat's next call if it was claimed to go now."""
        try:
            message_id, thread_id = await self._call(bot, call)
        except RetryAfter as exc:
            wait = retry_after_of(exc)
            log.warning("outbox: %s to %s rate-limited, retrying in %.0f s",
                        call.kind, call.chat_id, wait)
            await self._recorded(call, functools.partial(
                self.outbox.retry, call, redact(str(exc), bot.token), wait))
            return False, None
        except BadRequest as exc:
            if "not modified" in exc.message:
                return await self._recorded(call, functools.partial(
                    self.outbox.sent_then_next, call))
            await self._give_up(bot, call, exc)
            return False, None
        except ChatMigrated as exc:
            if self.on_moved is not None and await self.on_moved(call.chat_id,
                                                                 exc.new_chat_id):
                log.warning("outbox: chat %s moved to %s; following it", call.chat_id,
                            exc.new_chat_id)
                return False, None  # the call is queued for the new chat now: a look finds it
            await self._give_up(bot, call, exc)
            return False, None
        except Forbidden as exc:
            await self._give_up(bot, call, exc)
            return False, None
        except TelegramError as exc:  # network errors, 5xx, timeouts (sent or not): they pass
            when = await self._recorded(call, functools.partial(
                self.outbox.retry, call, redact(str(exc), bot.token)))
            log.warning("outbox: %s to %s failed (%s), retrying at %s",
                        call.kind, call.chat_id, exc, when.strftime("%H:%M:%S"))
            return False, None
        return await self._recorded(call, functools.partial(
            self.outbox.sent_then_next, call, message_id, thread_id))

    async def _give_up(self, bot: Bot, call: Call, exc: TelegramError) -> None:
        log.error("outbox: Telegram refused %s to %s for good: %s", call.kind, call.chat_id, exc)
        await self._recorded(call, functools.partial(
            self.outbox.give_up, call, redact(str(exc), bot.token), _why(exc)))

    @staticmethod
    async def _recorded(call: Call, record: Callable[[], _T]) -> _T:
        """``record``: what ``call`` did, written to the outbox; tried again, with growing
        pauses, until the database takes it. What Telegram did (above all, that it carried
        the call out) is known only here: a call left pending would be made again once its
        claim ran out, and the person would get it twice. The call stays in flight
        meanwhile: its chat waits, and its claim is renewed (no worker takes it again)."""
        pauses = backoff(RECORD_PAUSE, RECORD_PAUSE_AT_MOST)
        while True:
            try:
                return await asyncio.to_thread(record)
            except Exception as exc:  # the database is away or refuses: try again
                pause = next(pauses)
                log.warning("outbox: could not record %s to %s (%s); trying again in %.1f s",
                            call.kind, call.chat_id, reason_of(exc), pause)
                await asyncio.sleep(pause)

    async def _call(self, bot: Bot, call: Call) -> tuple[int | None, int | None]:
        """The intent carried out as Bot API calls; the id of the message (or topic) it
        created."""
        timeouts: dict[str, Any] = {"read_timeout": self.timeout, "write_timeout": self.timeout,
                                    "connect_timeout": self.timeout, "pool_timeout": self.timeout}
        html = ParseMode.HTML
        chat = call.chat_id
        # In the staff chat: under the ticket's post, or in its topic when it has one.
        under = None if call.ticket_topic else call.ticket_post
        match call.intent:
            case Say(text, rows, reply_to, thread):
                return await self._message(bot, chat, text, rows, reply_to, thread, timeouts), None
            case PostTicket(text, rows):
                return await self._message(bot, chat, text, rows, None, call.ticket_topic,
                                        timeouts), None
            case NoteOnTicket(text):
                return await self._message(bot, chat, text, [], under, call.ticket_topic,
                                        timeouts), None
            case Deliver(text, None, None, _, rows) if text is not None:
                return await self._message(bot, chat, text, rows, None, None, timeouts), None
            case Deliver(_, int() as source, int() as message_id, caption, rows):
                copied = await bot.copy_message(
                    chat, source, message_id, caption=caption,
                    parse_mode=html if caption is not None else None,
                    reply_markup=_markup(rows), **timeouts)
                return copied.message_id, None
            case Relay(source, message_id):
                copied = await bot.copy_message(
                    chat, source, message_id, reply_parameters=_reply(under),
                    message_thread_id=call.ticket_topic, **timeouts)
                return copied.message_id, None
            case UpdateTicket(text, rows):
                await bot.edit_message_text(text, chat_id=chat,
                                            message_id=_sent(call.ticket_post), parse_mode=html,
                                            reply_markup=_markup(rows), **timeouts)
            case Edit(text, rows, message_id, copy_of):
                target = message_id if copy_of is None else call.copied
                await bot.edit_message_text(text, chat_id=chat, message_id=_sent(target),
                                            parse_mode=html, reply_markup=_markup(rows),
                                            **timeouts)
            case EditCaption(caption, _):
                await bot.edit_message_caption(chat_id=chat, message_id=_sent(call.copied),
                                               caption=caption, parse_mode=html, **timeouts)
            case EditButtons(message_id, rows):
                await bot.edit_message_reply_markup(chat_id=chat, message_id=message_id,
                                                    reply_markup=_markup(rows), **timeouts)
            case Delete(message_id):
                await bot.delete_message(chat, message_id, **timeouts)
            case RenameTopic(thread, name):
                await bot.edit_forum_topic(chat, thread, name=name, **timeouts)
            case OpenTopic(name):
                topic = await bot.create_forum_topic(chat, name, **timeouts)
                return None, topic.message_thread_id
            case Document(name, content):
                sent = await bot.send_document(chat, content, filename=name, **timeouts)
                return sent.message_id, None
            case Picture(content):
                sent = await bot.send_photo(chat, content, **timeouts)
                return sent.message_id, None
            case _:
                raise BadRequest(f"the outbox cannot carry out {call.kind!r}")
        return None, None

    @staticmethod
    async def _message(bot: Bot, chat: int, text: str, rows: list[list[list[Any]]],
                    reply_to: int | None, thread: int | None, timeouts: dict[str, Any]) -> int:
        message = await bot.send_message(chat, text, parse_mode=ParseMode.HTML,
                                         reply_markup=_markup(rows),
                                         reply_parameters=_reply(reply_to),
                                         message_thread_id=thread, **timeouts)
        return message.message_id


def _why(refusal: TelegramError) -> str | None:
    """Why a person cannot get the bot's messages, when Telegram's refusal says it (its
    description is all that tells): :data:`bot.outbox.BLOCKED`..."""
    said = refusal.message.lower()
    return next((why for words, why in _GONE if words in said), None)


def _reply(message_id: int | None) -> ReplyParameters | None:
    """Quote ``message_id`` if it is still there (else the message goes all the same)."""
    return (ReplyParameters(message_id, allow_sending_without_reply=True)
            if message_id else None)


def _sent(message_id: int | None) -> int:
    """The message an edit is for; a message that was never sent cannot be edited."""
    if message_id is None:
        raise BadRequest("the message to edit was never sent")
    return message_id


# Handlers of this group run after all others: what an update queued is sent at once.
AFTER_ALL = 100


async def _look(update: Update, context: BotContext) -> None:
    """After every update: the handlers may have queued something (a ticket's post). The
    answers they queued are on their way already (see :meth:`Sender.hand`)."""
    context.bot_data.sender.wake_soon()


def register(application: BotApplication, brain: Assistant, *, worker: str = "main",
             workers: int = 1) -> None:
    """The application's sender, ``bot_data.sender``; started by handlers.app.

    ``worker`` names this process among ``workers`` sending from one database."""
    config = brain.config.staff
    # Renewed while a call is held or in flight (renew_claims): the lease only says how
    # soon another worker takes over the calls of one that stopped renewing them (it died,
    # or its event loop is stuck); a few send timeouts at least.
    lease = max(brain.config.telegram.worker_lease, 3 * timedelta(seconds=config.send_timeout))
    outbox = Outbox(brain.db, config.retry_interval, worker=worker, lease=lease,
                    language=config.language, undelivered=brain.tickets.undelivered)
    application.bot_data.sender = Sender(
        outbox, config.send_timeout, poll_interval=config.retry_interval.total_seconds(),
        limits=RateLimits(share=workers))
    application.add_handler(TypeHandler(Update, _look), group=AFTER_ALL)
