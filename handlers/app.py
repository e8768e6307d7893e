"""Building the Telegram Application and running it (long polling or a webhook).

Nothing here may stop the bot for good once it has started: network errors,
Telegram outages (429s included) and a database that refuses to store an update
for a while (:class:`handlers.inbox.DurableQueue`) are logged and retried, and
non-essential calls (the command list) are logged when they fail; should receiving
updates end all the same, stopping still finishes. What keeps it from starting
(the token, a webhook address Telegram refuses or a port taken, the database)
is one line in the log and an exit code, never a traceback. The token is never
logged: the HTTP client's request log (which shows URLs) is silenced and every
log record is scrubbed of the token. A database error is logged without the
values of its statement (people's names and questions).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import signal
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlparse

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from telegram import BotCommand, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from bot import phrases
from bot.backoff import backoff
from bot.config import Config
from bot.conversation import COMMANDS, Assistant, Reply
from bot.inbox import Inbox
from bot.outbox import NOTICE
from bot.storage import reason_of
from handlers import admins, flood, learned, outbox, people, privacy, staff
from handlers.context import BotApplication, BotContext, BotData
from handlers.inbox import ChatOrderedProcessor, Drainer, DurableQueue, handled_again
from handlers.redaction import redact
from handlers.render import answer, send
from handlers.retrying import until_answered

log = logging.getLogger(__name__)

POLL_TIMEOUT = 30  # seconds a getUpdates call waits for news
START_WAIT_AT_MOST = 60.0  # seconds between two tries to reach the Bot API at the start
INBOX_PRUNE_EVERY = 3600  # seconds between two clean-ups of handled updates


class RedactToken(logging.Filter):
    """Replace the bot token in every log record (messages, arguments, tracebacks)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.token:
            return True
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        if record.stack_info:
            message += "\n" + record.stack_info
            record.stack_info = None
        record.msg = redact(message, self.token)
        record.args = None
        return True


def configure_logging(token: str | None, level: int = logging.INFO) -> None:
    """Log to stderr without ever showing the token."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The job queue's scheduler logs every job it adds and every run of it (the FAQ
    # poll runs every few seconds): only its warnings are worth a line.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactToken(token or ""))


def file_base_url(api_base_url: str) -> str:
    """``https://host/bot`` -> ``https://host/file/bot`` (where a Bot API server serves files)."""
    head, _, _ = api_base_url.rstrip("/").rpartition("/")
    return f"{head}/file/bot"


@dataclass(frozen=True)
class Worker:
    """This process among the ``count`` workers of one bot (``run --workers N``).

    Worker 0 receives the updates; with several workers it only stores them, and
    every worker takes its share from the database."""

    index: int = 0
    count: int = 1

    @property
    def name(self) -> str:
        return f"worker-{self.index}" if self.shared else "main"

    @property
    def shared(self) -> bool:
        return self.count > 1

    @property
    def receives(self) -> bool:
        return self.index == 0


def build_application(config: Config, brain: Assistant, worker: Worker = Worker()
                      ) -> BotApplication:
    """The Application with the people's handlers and the error handler."""
    if not config.telegram.token:
        raise ValueError("no bot token: set TELEGRAM_BOT_TOKEN")
    inbox = Inbox(brain.db, notify=worker.shared)
    queue = DurableQueue(inbox, shared=worker.shared)
    processor = ChatOrderedProcessor(inbox, queue.again)
    application = (
        Application.builder()
        .token(config.telegram.token)
        .base_url(config.telegram.api_base_url)
        .base_file_url(file_base_url(config.telegram.api_base_url))
        .update_queue(queue)
        .concurrent_updates(processor)
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .build()
    )
    processor.handle_again = application.process_update
    queue.set_aside = functools.partial(set_aside, application, inbox)
    application.bot_data.assistant = brain
    application.bot_data.worker = worker
    if worker.shared:
        application.bot_data.drainer = Drainer(queue, processor, worker.name,
                                               config.telegram.worker_lease,
                                               index=worker.index, count=worker.count)
    outbox.register(application, brain, worker=worker.name, workers=worker.count)
    flood.register(application, brain)
    staff.register(application, brain)  # first: replies in the staff chat are not questions
    admins.register(application, brain)  # first: the people's handlers catch the rest
    learned.register(application, brain)
    privacy.register(application)
    people.register(application, brain)
    staff.register_last(application, brain)  # the staff chat's commands no handler knows
    application.add_error_handler(on_error)
    if application.job_queue is not None:
        application.job_queue.run_repeating(prune_inbox, interval=INBOX_PRUNE_EVERY,
                                            first=INBOX_PRUNE_EVERY, name="inbox-prune")
    return application


async def prune_inbox(context: BotContext) -> None:
    """Delete the ids of updates handled long ago, and the updates set aside long ago."""
    queue = context.application.update_queue
    if isinstance(queue, DurableQueue):
        await asyncio.to_thread(queue.inbox.prune,
                                retention=context.bot_data.assistant.config.privacy.retention)


async def set_aside(application: BotApplication, inbox: Inbox, update_id: int,
                    update: Update | None) -> None:
    """Set aside an update that stopped the bot (:mod:`bot.inbox`) and tell its chat why,
    in the same transaction, under the message (nothing is said of what it holds): a
    person in their language, with /contact; the staff chat in the staff's; another
    group in the sender's. Nothing is said of an update no longer waiting (a forget
    deleted it meanwhile)."""
    chat = update.effective_chat if update is not None else None
    if update is None or chat is None:
        await asyncio.to_thread(inbox.set_aside, update_id)
        return
    user = update.effective_user
    tickets = application.bot_data.staff_desk.tickets
    lang: str
    if chat.id in tickets.staff_chats:
        lang = tickets.lang
    elif user is not None:
        lang = await asyncio.to_thread(application.bot_data.assistant.language,
                                       people.asker(user))
    else:
        lang = phrases.DEFAULT_LANGUAGE
    key = "set_aside" if chat.type == ChatType.PRIVATE else "set_aside_group"

    def work() -> list[Reply]:
        return [Reply(phrases.say(lang, key))] if inbox.set_aside(update_id) else []

    await answer(BotContext.from_update(update, application), chat.id, work,
                 reply_to=update.message.message_id if update.message is not None else None,
                 purpose=NOTICE)


async def on_error(update: object, context: BotContext) -> None:
    """Log the error; tell the person something went wrong when there is one."""
    error = context.error
    if isinstance(error, NetworkError):
        log.warning("network error, carrying on: %s", error)
        return
    if isinstance(error, SQLAlchemyError) and isinstance(update, Update) \
            and await handled_again():
        log.warning("database error while handling an update; it is handled again: %s",
                    reason_of(error))
        return  # the person is answered when it goes through
    if isinstance(error, DBAPIError):
        # Not the exception itself: the driver's message may quote the failing row.
        log.error("database error while handling an update: %s\n[SQL: %s]\n%s",
                  reason_of(error), error.statement,
                  "".join(traceback.format_tb(error.__traceback__)).rstrip())
    else:
        log.error("error while handling an update", exc_info=error)
    if isinstance(update, Update) and update.effective_chat and update.effective_user:
        brain = context.bot_data.assistant
        try:
            lang = await asyncio.to_thread(brain.language, people.asker(update.effective_user))
            await send(context, update.effective_chat.id, [Reply(phrases.say(lang, "error"))])
        except Exception as exc:  # the database is away too: the log has it
            log.warning("could not tell the person about the error: %s", exc)


def _polling_error(error: TelegramError) -> None:
    """A failed getUpdates: one line in the log; the updater waits and tries again."""
    log.warning("polling for updates failed, retrying: %s", error)


async def register_commands(application: BotApplication) -> None:
    """Publish the command list in each language (/ask only with a staff chat to ask); a
    failure is logged, never fatal."""
    staffed = application.bot_data.assistant.tickets.enabled
    for lang in (None, *phrases.LANGUAGES):
        commands = [BotCommand(name, phrases.raw(lang or phrases.DEFAULT_LANGUAGE, f"cmd_{name}"))
                    for name in COMMANDS if name != "ask" or staffed]
        try:
            await application.bot.set_my_commands(commands, language_code=lang)
        except TelegramError as exc:
            log.warning("could not register the command list (%s): %s", lang or "default", exc)


class CannotStart(Exception):
    """The bot cannot start until an admin changes something; the text says what."""


async def _retrying(call: Callable[[], Awaitable[object]]) -> None:
    """Await ``call()``, calling it again while the Bot API cannot be reached (after 1 s,
    doubling up to a minute) or after the time it asks to wait (429). A request Telegram
    refuses (400, or the token) goes out: it would be refused again."""
    def failing(error: TelegramError, wait: float) -> None:
        if isinstance(error, RetryAfter):
            log.warning("Telegram asks the bot to wait %.0f s (too many requests); "
                        "trying again then", wait)
        else:
            log.warning("cannot reach the Bot API (%s); retrying in %.0f s", error, wait)

    await until_answered(call, waits=backoff(1.0, START_WAIT_AT_MOST), rest=asyncio.sleep,
                         failing=failing)


async def _initialize(application: BotApplication) -> None:
    """Connect to the Bot API (getMe), waiting and retrying while it is unreachable."""
    await _retrying(application.initialize)


async def start(application: BotApplication, config: Config, *,
                poll_timeout: int = POLL_TIMEOUT) -> None:
    """Connect, publish the commands and start receiving updates (polling or webhook)."""
    await _initialize(application)
    worker, drainer = application.bot_data.worker, application.bot_data.drainer
    if drainer is None and isinstance(application.update_queue, DurableQueue):
        await application.update_queue.replay(application.bot)
    await staff.prepare(application)
    if worker.receives:
        await register_commands(application)
        await _receive(application, config, poll_timeout)
    await application.start()
    if drainer is not None:
        drainer.start(application.bot)
    application.bot_data.sender.start(application.bot)
    log.info("the bot @%s is running%s", application.bot.username,
             f" (worker {worker.index + 1} of {worker.count})" if worker.shared else "")


async def _receive(application: BotApplication, config: Config, poll_timeout: int) -> None:
    """Start receiving updates: long polling, or the webhook."""
    hook = config.telegram.webhook
    updater = application.updater
    assert updater is not None
    allowed = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
    if config.telegram.mode == "webhook":
        secret = hook.secret_token
        if not secret:
            secret = secrets.token_urlsafe(32)
            log.warning("telegram.webhook.secret_token is not set; using a random one for this run")
        # The updater's own setWebhook tries an address Telegram refuses again for ever,
        # saying so only at DEBUG: it is set here first, where a refusal stops the start
        # (the updater then sets it again, as accepted).
        try:
            await _retrying(lambda: application.bot.set_webhook(
                hook.url, allowed_updates=allowed, secret_token=secret))
        except BadRequest as exc:
            raise CannotStart(f"Telegram refused the webhook address {_shown(hook.url)} "
                              f"(telegram.webhook.url{_in(config, 'url')}): {exc.message}"
                              ) from None
        try:
            await updater.start_webhook(
                listen=hook.listen, port=hook.port, url_path=urlparse(hook.url).path.strip("/"),
                webhook_url=hook.url, secret_token=secret, allowed_updates=allowed,
                bootstrap_retries=-1,
            )
        except OSError as exc:  # the port is taken, or the address is not this machine's
            raise CannotStart(f"cannot listen for the webhook's updates on {hook.listen}:"
                              f"{hook.port} (telegram.webhook.listen and "
                              f".port{_in(config, 'listen')}): {exc.strerror or exc}") from None
        log.info("receiving updates on a webhook at %s", _shown(hook.url))
    else:
        await updater.start_polling(timeout=poll_timeout, allowed_updates=allowed,
                                    bootstrap_retries=-1, error_callback=_polling_error)
        log.info("receiving updates by long polling")


def _shown(url: str) -> str:
    """A webhook address as logged: its scheme and host (its path may be secret)."""
    parts = urlparse(url)
    return f"{parts.scheme}://{parts.netloc}/…"


def _in(config: Config, setting: str) -> str:
    """`` in FILE:LINE`` for a message naming the webhook's ``setting``, when the
    configuration has a file."""
    where = config.where("telegram", "webhook", setting)
    return f" in {where}" if where else ""


async def stop(application: BotApplication) -> None:
    """Stop receiving updates, finish the ones in hand and close the connections."""
    if application.updater is not None and application.updater.running:
        try:
            await application.updater.stop()
        except Exception as exc:  # receiving had ended with it (a revoked token): stop the rest
            log.error("receiving updates had ended with an error: %s", reason_of(exc))
    if isinstance(application.update_processor, ChatOrderedProcessor):
        application.update_processor.stop()  # what waits for Telegram: left for the next start
    drainer = application.bot_data.drainer
    if drainer is not None:
        await drainer.stop()
    await application.bot_data.sender.stop()
    if application.running:
        await application.stop()
    await application.shutdown()


async def serve(config: Config, brain: Assistant, worker: Worker = Worker()) -> int:
    """Run the bot until SIGINT or SIGTERM, which also end the start-up retries."""
    application = build_application(config, brain, worker)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    starting = asyncio.create_task(start(application, config))
    signalled = asyncio.create_task(stopping.wait())
    await asyncio.wait({starting, signalled}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        log.info("stopping before the bot could start")
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        await stop(application)
        return 0
    try:
        starting.result()
    except Exception as exc:  # whatever it is, one line: the admin has something to fix
        signalled.cancel()
        code, reason = _not_started(exc)
        log.error("%s", reason)
        await stop(application)
        return code
    try:
        await signalled
    finally:
        log.info("stopping")
        await stop(application)
    return 0


def _not_started(exc: Exception) -> tuple[int, str]:
    """What stopped the start, for the admin: the exit code (1: the token; 2: the rest,
    as for a bad config or FAQ) and one line (a database error without its statement)."""
    if isinstance(exc, InvalidToken):
        return 1, ("Telegram refused the bot token; check TELEGRAM_BOT_TOKEN "
                   "(get one from @BotFather)")
    if isinstance(exc, CannotStart):
        reason = str(exc)
    elif isinstance(exc, DBAPIError):
        reason = f"database error: {reason_of(exc)}"
    else:
        reason = f"{type(exc).__name__}: {exc}"
    return 2, f"the bot cannot start: {reason}"


def run(config: Config, brain: Assistant, worker: Worker = Worker()) -> int:
    """Start the bot (blocking) and return the exit code."""
    configure_logging(config.telegram.token)
    return asyncio.run(serve(config, brain, worker))

