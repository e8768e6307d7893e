"""Updates stored before they are confirmed, and handled chat by chat.

:class:`DurableQueue` is the Application's update queue: the updater (long
polling or the webhook) puts every update there, and its ``put`` stores the
update in the inbox (:mod:`bot.inbox`) before it returns. Long polling
confirms a batch only with the next ``getUpdates`` call, which the updater
makes after putting the whole batch, and the webhook answers 200 only after
``put`` returned; so an update Telegram considers delivered is always in the
database. A duplicate (same ``update_id``) is dropped at the door, and one
chat's updates are stored and queued in the order they came, even from
concurrent webhook requests.

:class:`ChatOrderedProcessor` handles updates of different chats side by
side and the updates of one chat in the order they came, and marks each
update done in the inbox once its handlers have run. What must not be given
up is tried again while it fails: storing an update, marking it done, an
answer from Telegram a handler cannot go on without (:func:`pause`), and the
handling of an update that failed on the database (:func:`handled_again`). An update
in hand when the process dies, or still waiting when the bot stops (with the
later ones of its chat), is handed over again by :meth:`DurableQueue.replay`
at the next start. An update in hand when processes died is handled alone
(:class:`Turns`), then set aside (see :mod:`bot.inbox`): one update that kills the
process does not stop the bot for everyone at every start.

With several workers on one PostgreSQL database (``ngo-faq-bot run
--workers N``), the worker that receives updates only stores them, and every
worker's :class:`Drainer` claims its share from the inbox (see
:meth:`bot.inbox.Inbox.claim`), woken by PostgreSQL's notifications.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from telegram import Bot, Update
from telegram.ext import ApplicationHandlerStop, BaseUpdateProcessor

from bot.backoff import backoff
from bot.inbox import KEEP_SET_ASIDE, Inbox, Stored, Waiting, owner, start_handling
from bot.storage import Database, reason_of
from handlers.leases import renew_claims

log = logging.getLogger(__name__)

# Updates handled at once (of different chats; one chat's updates wait their turn, outside
# these). Read when the processor is made.
MAX_CONCURRENT_UPDATES = 1024
# Seconds between two tries of what must not be given up (storing an update, marking it
# done, a Bot API answer a handler needs): the first wait, doubled after each failure up
# to the last.
FIRST_WAIT = 0.5
LAST_WAIT = 30.0
# Tries of an update whose handlers failed on the database while it answered (a dropped
# connection, a statement cancelled, a lock): the first and this many more. While the
# database does not answer at all, the update waits for it however long that takes.
AGAIN_AT_MOST = 2
# With several workers: seconds between two looks of a worker at the updates of every
# chat (those of a worker busy or dead), not only its own.
ANY_CHAT_EVERY = 1.0
# Seconds an update in hand when a process died waits for the others to end, then is
# handled alone, before the others go on beside it: a crash in that time names it, and
# one held up (by Telegram) does not hold up the bot for long.
ALONE_AT_MOST = 5.0


def _chat_key(update: object) -> int | None:
    """The chat whose updates must keep their order (None: updates of no chat)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


class DurableQueue(asyncio.Queue[object]):
    """The update queue whose ``put`` stores an update in the inbox before queuing it.

    ``shared``: several workers handle the inbox, so ``put`` only stores, and the
    :class:`Drainer` of each worker queues what it claimed; except that an update
    of a chat this worker owns is kept here as it is stored, when :attr:`taker`
    allows (no other worker need be woken, nor the update claimed afresh)."""

    def __init__(self, inbox: Inbox, *, shared: bool = False) -> None:
        super().__init__()
        self.inbox = inbox
        self.shared = shared
        # With several workers: this worker's name and lease if it takes the updates of
        # this chat now, else None (set by its Drainer).
        self.taker: Callable[[int | None], tuple[str, timedelta] | None] = lambda chat: None
        self.taken: Callable[[int], None] = lambda update_id: None
        self._refused = False  # the database refused the last try to store an update
        # Per chat, the last update being put; done when it is stored and queued.
        self._putting: dict[int | None, asyncio.Future[None]] = {}
        # The updates queued that are handed over again (see bot.inbox): their id -> whether
        # a process died while they were in hand (they are then handled alone).
        self.again: dict[int, bool] = {}
        # Sets an update aside and tells its chat (set by the Application's builder).
        self.set_aside: Callable[[int, Update | None], Awaitable[None]] = self._set_aside

    async def _set_aside(self, update_id: int, update: Update | None) -> None:
        await asyncio.to_thread(self.inbox.set_aside, update_id)

    async def put(self, item: object) -> None:
        if not isinstance(item, Update):
            await super().put(item)
            return
        # One chat's updates are stored and queued one after the other, in the order they
        # came: the webhook puts the updates of concurrent requests side by side, and the
        # store of a later one may finish first (it would be handled, or with several
        # workers claimed, before the earlier one).
        key = _chat_key(item)
        before = self._putting.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._putting[key] = mine
        try:
            if before is not None:
                await asyncio.shield(before)  # cancelled here (a stop), it still ends there
            stored = await self._store(item)
            if stored is Stored.DUPLICATE:
                log.info("update %d arrived again; it is handled once", item.update_id)
                return
            if stored is Stored.CLAIMED:
                self.taken(item.update_id)
            elif self.shared:
                return
            await super().put(item)
        finally:
            mine.set_result(None)
            if self._putting.get(key) is mine:
                del self._putting[key]

    async def _store(self, update: Update) -> Stored:
        """Store ``update``, trying again until the database takes it.

        The updater calls ``put`` outside any error handling of its own (its retry loop
        catches only Telegram's errors): an exception here would end long polling for
        good, the process up but deaf. While the database refuses, Telegram is not told
        the update arrived (the offset does not move on, the webhook does not answer),
        so waiting loses nothing; one warning per outage, not one per try."""
        user = update.effective_user
        chat = _chat_key(update)
        waits = backoff(FIRST_WAIT, LAST_WAIT)
        while True:
            claim_for, lease = self.taker(chat) or (None, None)
            try:
                stored = await asyncio.to_thread(
                    self.inbox.store, update.update_id, update.to_dict(), chat_id=chat,
                    user_id=user.id if user is not None else None, claim_for=claim_for,
                    lease=lease)
            except Exception as exc:
                if not self._refused:
                    log.warning("inbox: the database refuses to store updates (%s); "
                                "trying again until it takes them", reason_of(exc))
                    self._refused = True
                await asyncio.sleep(next(waits))
                continue
            if self._refused:
                log.info("inbox: the database stores updates again")
                self._refused = False
            return stored

    async def hand_over(self, waiting: Waiting, bot: Bot) -> bool:
        """Queue a stored update for handling here; whether it is queued. One handed over
        again (:meth:`replay`, or claimed from a worker that had gone) is counted while
        it is handled, or set aside if processes died :data:`bot.inbox.SET_ASIDE_AFTER`
        times while it was in hand."""
        update = Update.de_json(waiting.payload, bot)
        if waiting.poisonous:
            log.error("update %d was in hand when the bot stopped without a clean exit "
                      "%d times, the last time handled alone: it is set aside, not "
                      "handled, and kept %d days in the inbox table (chat %s)",
                      waiting.update_id, waiting.unfinished, KEEP_SET_ASIDE.days,
                      _chat_key(update))
            try:
                await self.set_aside(waiting.update_id, update)
            except Exception as exc:  # the next start tries again
                log.warning("could not set update %d aside (%s); not handled now",
                            waiting.update_id, reason_of(exc))
            return False
        if update is None:
            return False
        if waiting.again:
            self.again[waiting.update_id] = waiting.suspect
        await super().put(update)
        return True

    async def replay(self, bot: Bot) -> int:
        """Queue the updates stored but not handled before the last stop, those in hand
        when a process died first; set aside those that stopped it (see :mod:`bot.inbox`).
        Returns how many are queued."""
        pending = await asyncio.to_thread(self.inbox.pending)
        queued = 0
        for waiting in sorted(pending, key=lambda w: not w.suspect):  # stable: in order
            if await self.hand_over(waiting, bot):
                queued += 1
        if queued:
            log.info("handling %d updates received before the last stop", queued)
        return queued


class LeftPending(ApplicationHandlerStop):
    """Ends the handling of an update that waits (:func:`pause`) when the bot stops: no
    other handler runs, and the update is not marked done but handled at the next start."""


class _Attempt:
    """The handling of one update, as the handlers see it (:func:`pause`)."""

    def __init__(self, stopping: asyncio.Event, database: Database | None) -> None:
        self.stopping = stopping
        self.database = database  # None: the update cannot be handled again
        self.left = False  # left pending, for the next start
        self.again = False  # to be handled again (see handled_again)
        self.tries = 1
        self.counted = False  # counted in the inbox as begun (see bot.inbox.Inbox.begin)


_ATTEMPT: ContextVar[_Attempt] = ContextVar("inbox_attempt")


async def pause(seconds: float) -> None:
    """Wait ``seconds`` before the handling of the current update tries again what it
    cannot go on without (an answer Telegram failed to give). Should the bot stop
    meanwhile, the update is left pending (:class:`LeftPending`), to be handled at the
    next start as after a crash, and so are the later updates of its chat. Only while an
    update is being handled (by :class:`ChatOrderedProcessor`)."""
    attempt = _ATTEMPT.get()
    if await _rest(seconds, attempt.stopping):
        attempt.left = True
        raise LeftPending


async def until(done: asyncio.Future[Any]) -> None:
    """Wait until ``done`` (which other updates may wait for too: it is not cancelled).
    Should the bot stop meanwhile, the update is left pending for the next start, as with
    :func:`pause`. Only while an update is being handled."""
    attempt = _ATTEMPT.get()
    stopping = asyncio.ensure_future(attempt.stopping.wait())
    try:
        await asyncio.wait((done, stopping), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not done.done():
        attempt.left = True
        raise LeftPending


async def handled_again() -> bool:
    """A handler of the current update failed on the database: whether the update will be
    handled again (the person is then told nothing now, and answered when it goes
    through). So it is while the database does not answer (it is away: the update waits
    for it), and for :data:`AGAIN_AT_MOST` more tries while it answers (an error that
    may pass); after those, an error that stays (a broken table) is the handler's to
    report. What handling creates is keyed by the update (:func:`bot.inbox.reply_key`):
    a try that got halfway through creates nothing twice."""
    attempt = _ATTEMPT.get(None)
    if attempt is None or attempt.database is None:
        return False
    if attempt.tries > AGAIN_AT_MOST and await asyncio.to_thread(attempt.database.answers):
        return False
    attempt.again = True
    return True


async def _rest(seconds: float, stopping: asyncio.Event) -> bool:
    """Wait ``seconds``, or until ``stopping`` is set; whether it is."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stopping.wait()
    return stopping.is_set()


class Turns:
    """Who handles updates now: any number side by side, or one update alone.

    An update in hand when a process died (a suspect, :attr:`bot.inbox.Waiting.suspect`)
    is handled alone, so that should it kill the process again, it alone is counted
    (:meth:`bot.inbox.Inbox.begin`). Suspects take their turns one after the other, in
    the order they came, and the others wait behind them. A suspect waits at most
    :data:`ALONE_AT_MOST` for the updates being handled to end (else it is handled
    beside them, uncounted), and is alone, counted, for at most as long: then it steps
    aside, uncounted, and goes on beside the others, which the next suspect waits for
    as for any. So no update is counted while another runs; an update held up (by
    Telegram) holds up the bot for seconds, not for as long as Telegram takes; and one
    that kills the process only after more than that time alone is not named (the bot
    then restarts at each death, as it did before it counted)."""

    def __init__(self) -> None:
        self._running = 0  # updates being handled side by side
        self._waiting: collections.deque[object] = collections.deque()  # suspects, in order
        self._alone = False  # a suspect is being handled alone, or stepping aside
        self._changed = asyncio.Event()

    def _change(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _until(self, ready: Callable[[], bool]) -> None:
        while not ready():
            await self._changed.wait()

    @contextlib.asynccontextmanager
    async def side_by_side(self) -> AsyncIterator[None]:
        """Handle an update beside the others, once no suspect waits or is alone."""
        await self._until(lambda: not self._waiting and not self._alone)
        self._running += 1
        try:
            yield
        finally:
            self._running -= 1
            self._change()

    @contextlib.asynccontextmanager
    async def alone(self, count: Callable[[], Awaitable[None]],
                    uncount: Callable[[], Awaitable[None]]) -> AsyncIterator[None]:
        """A suspect's turn (see above): ``count`` runs once it is alone, before its time
        alone starts, and ``uncount`` when it steps aside (the next turn waits for it)."""
        me = object()
        self._waiting.append(me)
        alone = False
        try:
            await self._until(lambda: self._waiting[0] is me and not self._alone)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(ALONE_AT_MOST):
                    await self._until(lambda: self._running == 0)
            alone = self._alone = self._running == 0
            if alone:
                await count()
        except BaseException:  # cancelled while it waits or is counted (the bot stops)
            if alone:
                self._alone = False
            raise
        finally:
            self._waiting.remove(me)
            self._change()
        if not alone:
            self._running += 1
        stepping: asyncio.Task[None] | None = None

        async def stepping_aside() -> None:
            nonlocal alone
            try:
                await uncount()
            finally:
                self._running += 1
                self._alone = alone = False
                self._change()

        def step_aside() -> None:
            nonlocal stepping
            stepping = asyncio.create_task(stepping_aside())

        later = (asyncio.get_running_loop().call_later(ALONE_AT_MOST, step_aside)
                 if alone else None)
        try:
            yield
        finally:
            if later is not None:
                later.cancel()
            if stepping is not None:
                await asyncio.shield(stepping)  # it ended while it stepped aside
            if alone:
                self._alone = False
            else:
                self._running -= 1
            self._change()


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Different chats side by side, one chat in order; each update marked done when handled.

    At most :data:`MAX_CONCURRENT_UPDATES` are handled at once, counted here once an
    update's turn in its chat has come. python-telegram-bot's own count is taken before
    :meth:`do_process_update`, where an update waits for its chat's previous one: the
    updates queued behind one slow chat would each hold a place there until none is left
    for the other chats; so that count is left unlimited.

    An update handed over again (``again``, :attr:`DurableQueue.again`) is counted while
    it is handled (:meth:`bot.inbox.Inbox.begin`); a suspect only while it is handled
    alone (:class:`Turns`)."""

    def __init__(self, inbox: Inbox, again: dict[int, bool] | None = None) -> None:
        super().__init__(sys.maxsize)
        self.inbox = inbox
        self.again = again if again is not None else {}
        self._turns = Turns()
        self._slots = asyncio.BoundedSemaphore(MAX_CONCURRENT_UPDATES)
        # Per chat, the last update handed to do_process_update; it resolves to whether
        # that update was left pending for the next start.
        self._last: dict[int | None, asyncio.Future[bool]] = {}
        self.in_hand: set[int] = set()  # ids of the updates queued or being handled here
        self.on_done: Callable[[], None] | None = None
        # How an update is handled again (see handled_again): the Application's.
        self.handle_again: Callable[[Update], Awaitable[None]] | None = None
        self._stopping = asyncio.Event()
        self._refused = False  # the database refused the last try to mark an update done

    def stop(self) -> None:
        """The bot is stopping: an update whose handling waits (:func:`pause`) is left for
        the next start, and so are the later updates of its chat (their order kept)."""
        self._stopping.set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        before = self._last.get(key)
        mine: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._last[key] = mine
        attempt = _Attempt(self._stopping, self.inbox.db if self.handle_again else None)
        try:
            if before is not None and await before:
                attempt.left = True  # after an update left for the next start: this one too
                return
            _ATTEMPT.set(attempt)  # in this update's own task and context
            async with self._slots:
                if isinstance(update, Update) and self.again.get(update.update_id, False):
                    async with self._turns.alone(
                            lambda: self._begin(update.update_id, attempt),
                            lambda: self._uncount(update.update_id, attempt)):
                        await self._handle(update, coroutine, attempt, suspect=True)
                else:
                    async with self._turns.side_by_side():
                        await self._handle(update, coroutine, attempt)
        finally:
            if asyncio.iscoroutine(coroutine):
                coroutine.close()  # not awaited when the wait above was cancelled, or left
            if isinstance(update, Update):
                self.in_hand.discard(update.update_id)  # its claim is no longer renewed
                self.again.pop(update.update_id, None)
                if attempt.left:
                    log.info("update %d is left for the next start", update.update_id)
            mine.set_result(attempt.left)
            if self._last.get(key) is mine:
                del self._last[key]

    async def _handle(self, update: object, coroutine: Awaitable[Any], attempt: _Attempt,
                      *, suspect: bool = False) -> None:
        """Run the handlers of ``update`` (again while :func:`handled_again` says so) and
        mark it done. One handed over again is counted while it is handled (a suspect
        by its turn, :class:`Turns`) and uncounted if its handling ends without the
        process dying and without it being marked done."""
        if not isinstance(update, Update):
            await coroutine
            return
        update_id = update.update_id
        done = False
        try:
            if update_id in self.again and self._stopping.is_set():
                attempt.left = True  # its turn came as the bot stops: for the next start
                return
            # Forgotten (its row deleted) before its turn or before a try again, it is not
            # handled; marking it done then changes nothing.
            if not await self._forgotten(update_id):
                if update_id in self.again and not suspect:
                    await self._begin(update_id, attempt)
                start_handling(update_id)  # the core keys what it creates by it
                await coroutine
            waits = backoff(FIRST_WAIT, LAST_WAIT)
            while attempt.again and self.handle_again is not None and not attempt.left:
                attempt.again = False
                attempt.tries += 1
                if await _rest(next(waits), self._stopping):
                    attempt.left = True
                    break
                if await self._forgotten(update_id):
                    break
                start_handling(update_id)
                await self.handle_again(update)
            done = not attempt.left and await self._done(update_id)
            attempt.left = not done
        finally:
            if not done:  # left for the next start, or cancelled: no death to count
                await self._uncount(update_id, attempt)
        if done and self.on_done is not None:
            self.on_done()

    async def _begin(self, update_id: int, attempt: _Attempt) -> None:
        """Count an update handed over again as begun (``attempt.counted``). Should the
        database refuse, it is handled uncounted: if it stops the bot, it is handed over
        again as before."""
        try:
            await asyncio.to_thread(self.inbox.begin, update_id)
        except Exception as exc:
            log.warning("inbox: could not count update %d as begun (%s)", update_id,
                        reason_of(exc))
            return
        attempt.counted = True

    async def _uncount(self, update_id: int, attempt: _Attempt) -> None:
        """Uncount what :meth:`_begin` counted, if it did: a few tries (the bot may be
        stopping); should they all fail, the update counts as one a process died with."""
        if not attempt.counted:
            return
        attempt.counted = False
        for wait in (0.2, 0.5, 1.0, None):
            try:
                await asyncio.to_thread(self.inbox.left, update_id)
                return
            except Exception as exc:
                if wait is None:
                    log.warning("inbox: could not uncount update %d (%s)", update_id,
                                reason_of(exc))
                    return
                await asyncio.sleep(wait)

    async def _forgotten(self, update_id: int) -> bool:
        """Whether the stored update is gone (see :meth:`bot.inbox.Inbox.waiting`): handled,
        it would store the forgotten person's words again. When the database cannot say,
        it is handled: it was stored, and a forget is rare."""
        try:
            gone = not await asyncio.to_thread(self.inbox.waiting, update_id)
        except Exception:
            return False
        if gone:
            log.info("update %d was deleted by a forget before its turn; not handled",
                     update_id)
        return gone

    async def _done(self, update_id: int) -> bool:
        """Mark the update done, trying again while the database refuses; False when the
        bot stops first (the update stays pending).

        Bookkeeping, after the person was answered: a failure here is logged (once per
        outage), never reported to them. Given up on, the update is only handled again
        at the next start, which sends and creates nothing twice (what handling it
        creates is keyed by it, :func:`bot.inbox.reply_key`). Meanwhile its claim is
        renewed and its chat's later updates wait, in order."""
        waits = backoff(FIRST_WAIT, LAST_WAIT)
        while True:
            try:
                await asyncio.to_thread(self.inbox.done, update_id)
            except Exception as exc:
                if not self._refused:
                    log.warning("inbox: the database refuses to mark updates handled (%s); "
                                "trying again until it does", reason_of(exc))
                    self._refused = True
                if await _rest(next(waits), self._stopping):
                    return False
                continue
            if self._refused:
                log.info("inbox: the database marks updates handled again")
                self._refused = False
            return True

    async def initialize(self) -> None:
        """Nothing to prepare."""

    async def shutdown(self) -> None:
        """Nothing to release: unhandled updates stay pending in the inbox."""


class Drainer:
    """One worker's share of a shared inbox: claims updates, hands them to the queue,
    renews the claims while they are handled. At most ``room`` updates in hand.

    The chats are spread over the workers by their id (:func:`bot.inbox.owner`): a
    worker is woken only for its own chats (the one receiving keeps those as it
    stores them), so that one update wakes one worker, not all. Every worker also
    looks each second for updates of any chat left waiting (a worker busy or dead)."""

    def __init__(self, queue: DurableQueue, processor: ChatOrderedProcessor, worker: str,
                 lease: timedelta, room: int = 64, *, index: int = 0, count: int = 1) -> None:
        self.queue = queue
        self.processor = processor
        self.worker = worker
        self.lease = lease
        self.room = room
        self.index = index
        self.count = count
        self._news = asyncio.Event()
        self._stopping = threading.Event()
        self._tasks: list[asyncio.Task[None]] = []
        processor.on_done = self._news.set
        queue.taker = self._takes
        queue.taken = processor.in_hand.add

    def _takes(self, chat: int | None) -> tuple[str, timedelta] | None:
        """This worker's claim on an update of ``chat`` it receives: when the chat is its
        own and it has room."""
        if owner(chat, self.count) == self.index and not self._stopping.is_set() \
                and len(self.processor.in_hand) < self.room:
            return self.worker, self.lease
        return None

    def start(self, bot: Bot) -> None:
        loop = asyncio.get_running_loop()
        threading.Thread(target=self._listen, args=(loop,), name="inbox-news",
                         daemon=True).start()
        self._tasks = [asyncio.create_task(self._drain(bot), name="inbox-drain"),
                       asyncio.create_task(renew_claims(
                           self.lease, lambda: set(self.processor.in_hand),
                           lambda held: self.queue.inbox.renew(self.worker, held, self.lease),
                           "inbox"), name="inbox-renew")]

    async def stop(self) -> None:
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _listen(self, loop: asyncio.AbstractEventLoop) -> None:
        """In a thread: wake the drainer whenever an update of its chats is stored."""
        while not self._stopping.is_set():
            try:
                for chat in self.queue.inbox.news(timeout=1.0):
                    if self._stopping.is_set():
                        return
                    if chat is not None and owner(chat, self.count) == self.index:
                        loop.call_soon_threadsafe(self._news.set)
            except Exception as exc:  # the database is away: poll until it is back
                log.warning("inbox: not notified of new updates (%s); polling", exc)
                self._stopping.wait(1.0)
                with contextlib.suppress(RuntimeError):  # the loop is closed
                    loop.call_soon_threadsafe(self._news.set)

    async def _drain(self, bot: Bot) -> None:
        inbox = self.queue.inbox
        last_any = -ANY_CHAT_EVERY  # when this worker last looked at every chat
        while True:
            self._news.clear()
            room = self.room - len(self.processor.in_hand)
            claimed: list[Waiting] = []
            if room > 0:
                share: tuple[int, int] | None = (self.index, self.count)
                if time.monotonic() - last_any >= ANY_CHAT_EVERY:
                    share, last_any = None, time.monotonic()
                try:
                    claimed = await asyncio.to_thread(inbox.claim, self.worker, self.lease,
                                                      room, share=share)
                except Exception:
                    log.exception("inbox: cannot claim updates")
            for waiting in claimed:
                self.processor.in_hand.add(waiting.update_id)
                if not await self.queue.hand_over(waiting, bot):
                    self.processor.in_hand.discard(waiting.update_id)
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(ANY_CHAT_EVERY):
                        await self._news.wait()

