"""What FAQ admins do in Telegram: reload, upload and export the FAQ, accept suggestions,
see the statistics. Admins are the user ids under ``admins:`` in config.yaml; anyone
else's /reload, /stats... get the usual "unknown command", and their files are what
anyone's are (a ticket for the staff when there is a staff chat): no FAQ is written.

The work is done by the core (:mod:`bot.faq_admin`, :mod:`bot.suggestions`,
:mod:`bot.report`, :mod:`bot.privacy`); this module turns it into messages. Two
jobs run in the background: the FAQ files are polled for changes every
``faq.reload_interval``, and what is older than ``privacy.retention`` is taken away at
start and every day (:mod:`bot.retention`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta
from pathlib import Path

import httpx
from telegram import File, Message, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import learning, privacy, report, retention, suggestions
from bot.choices import Button, CancelUpload, ConfirmUpload, SettleSuggestion
from bot.conversation import Asker, Assistant, Reply
from bot.faq_admin import (
    FaqAdmin,
    Outcome,
    SuggestionError,
    UploadError,
    change_text,
    problems_text,
)
from bot.intents import Document, Picture
from bot.limits import MAX_DOCUMENT, label
from bot.phrases import Html, say
from handlers import buttons
from handlers.context import BotApplication, BotContext
from handlers.people import asker
from handlers.render import acknowledge, answer, send, without_buttons

log = logging.getLogger(__name__)

ADMIN_BUTTONS = (ConfirmUpload, CancelUpload, SettleSuggestion)
RETENTION_EVERY = timedelta(days=1)
RETENTION_FIRST = timedelta(seconds=1)  # soon after the start (0 would mean "after a day")


async def _lang(context: BotContext, update: Update) -> str:
    user = update.effective_user
    assistant = context.bot_data.assistant
    return await asyncio.to_thread(assistant.language, asker(user)) if user else "sq"


async def tell_admins(context: BotContext, outcome: Outcome) -> None:
    """Send every admin the result of a reload they did not ask for."""
    assistant = context.bot_data.assistant
    for admin_id in assistant.config.admins:
        lang = await asyncio.to_thread(assistant.language, Asker(id=admin_id))
        await send(context, admin_id, [Reply(outcome.text(lang))])


async def _reply(update: Update, context: BotContext, *replies: Reply) -> None:
    chat = update.effective_chat
    if chat is not None:
        await send(context, chat.id, replies)


# --- reload ---------------------------------------------------------------

async def on_reload(update: Update, context: BotContext) -> None:
    """/reload: read the FAQ files now."""
    outcome = await asyncio.to_thread(context.bot_data.faq_admin.reload)
    await _reply(update, context, Reply(outcome.text(await _lang(context, update))))


async def poll_faq(context: BotContext) -> None:
    """The job that reloads the FAQ when its files change on disk, telling the admins."""
    outcome = await asyncio.to_thread(context.bot_data.faq_admin.reload_if_changed)
    if outcome is not None:
        log.info("FAQ files changed: %s", "reloaded" if outcome.ok else
                 f"{len(outcome.problems)} problem(s), keeping the last good FAQ")
        await tell_admins(context, outcome)


# --- upload and export ------------------------------------------------------

async def download(file: File, limit: int) -> bytes | None:
    """The file's bytes, or None as soon as it proves larger than ``limit`` bytes.

    Telegram does not always declare a document's size; the download is streamed
    and stopped at the limit rather than read in full first.
    """
    if file.file_size is not None and file.file_size > limit:
        return None
    if not file.file_path:
        raise TelegramError("getFile gave no file path")
    content = bytearray()
    async with httpx.AsyncClient(timeout=30) as client, \
            client.stream("GET", file.file_path) as response:
        response.raise_for_status()
        async for chunk in response.aiter_bytes():
            content += chunk
            if len(content) > limit:
                return None
    return bytes(content)


async def on_document(update: Update, context: BotContext) -> None:
    """An admin's .yaml file: validate it and show the change, with a button to put it live."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    lang = await _lang(context, update)
    admin = context.bot_data.faq_admin
    document = message.document
    if (document.file_size or 0) > admin.max_upload_bytes:
        await _reply(update, context, Reply(say(lang, "adm_upload_too_big",
                                                limit=admin.max_upload_bytes // 1024)))
        return
    too_big = Reply(say(lang, "adm_upload_too_big", limit=admin.max_upload_bytes // 1024))
    try:
        content = await download(await document.get_file(), admin.max_upload_bytes)
    except (TelegramError, httpx.HTTPError) as exc:
        log.warning("could not download an uploaded FAQ file: %s", exc)
        await _reply(update, context, Reply(say(lang, "adm_upload_unreadable")))
        return
    if content is None:
        await _reply(update, context, too_big)
        return
    try:
        # Off the event loop: people's questions are answered while the file is checked.
        upload, outcome = await asyncio.to_thread(
            admin.check_upload, document.file_name or "", content)
    except UploadError as exc:
        await _reply(update, context, Reply(say(lang, "adm_upload_refused", reason=str(exc))))
        return
    if upload is None:
        await _reply(update, context, Reply(problems_text(lang, outcome.problems)))
        return
    action = say(lang, "adm_upload_replace" if upload.replaces else "adm_upload_new")
    text = say(lang, "adm_upload_summary", name=upload.name, action=action,
               change=change_text(lang, upload.change))
    rows = ((Button(say(lang, "adm_confirm"), ConfirmUpload(upload.token)),
             Button(say(lang, "adm_cancel"), CancelUpload(upload.token))),)
    await _reply(update, context, Reply(text, rows))


def exported(files: list[Path]) -> tuple[tuple[Document, ...], list[str]]:
    """The FAQ files as documents, and the names of those too large for Telegram."""
    too_big = [file for file in files if file.stat().st_size > MAX_DOCUMENT]
    return (tuple(Document(file.name, file.read_bytes()) for file in files
                  if file not in too_big), [file.name for file in too_big])


async def on_export(update: Update, context: BotContext) -> None:
    """/faq_export: the FAQ files in use, one document each (through the outbox, like any
    message: a file Telegram fails to take is sent again)."""
    chat = update.effective_chat
    if chat is None:
        return
    lang = await _lang(context, update)
    files = await asyncio.to_thread(context.bot_data.faq_admin.files)
    if not files:
        await _reply(update, context, Reply(say(lang, "adm_export_empty")))
        return
    documents, too_big = await asyncio.to_thread(exported, files)
    notes = [Reply(say(lang, "adm_export_too_big", name=name, limit=MAX_DOCUMENT // 1_000_000))
             for name in too_big]
    await send(context, chat.id, notes, then=documents)


# --- suggestions ------------------------------------------------------------

async def on_suggestions(update: Update, context: BotContext) -> None:
    """/suggestions: the pending suggestions, each with accept and reject buttons."""
    lang = await _lang(context, update)
    chat = update.effective_chat
    if chat is not None:
        await answer(context, chat.id, lambda: _suggestions(context, lang))


def _suggestions(context: BotContext, lang: str) -> list[Reply]:
    """The pending suggestions, each naming the person whose question it quotes, read in
    a transaction a forget waits for (:func:`bot.privacy.hold_for_naming`)."""
    db = context.bot_data.assistant.db
    with db.session() as session:
        privacy.hold_for_naming(session)
        waiting = suggestions.pending(db)
        askers = suggestions.askers(db, waiting)
    if not waiting:
        return [Reply(say(lang, "adm_no_suggestions"))]
    faq = context.bot_data.faq_admin.faq
    replies = []
    for item in waiting:
        entry = faq.get(item.entry_id) if item.entry_id else None
        rows: list[tuple[Button, ...]] = []
        if entry is not None:
            rows.append((Button(label(say(lang, "adm_as_phrasing", entry=entry.id)),
                                SettleSuggestion("phrasing", item.id)),))
            rows.append((Button(label(say(lang, "adm_as_learned", entry=entry.id)),
                                SettleSuggestion("learned", item.id)),))
        rows.append((Button(say(lang, "adm_as_new"), SettleSuggestion("new", item.id)),
                     Button(say(lang, "adm_reject"), SettleSuggestion("reject", item.id))))
        replies.append(Reply(say(lang, "adm_suggestion", id=item.id, language=item.language,
                                 question=item.question, answer=item.answer,
                                 entry=entry.id if entry else say(lang, "adm_stats_none")),
                             tuple(rows), naming=frozenset(
                                 {askers[item.id]} if item.id in askers else ())))
    return replies


def _settle_suggestion(context: BotContext, lang: str, choice: SettleSuggestion) -> Html:
    assistant = context.bot_data.assistant
    db = assistant.db
    number = choice.number
    if choice.action == "learned":
        entry_id = learning.link_suggestion(db, number, assistant.config.learning.similarity)
        if entry_id is None:
            return say(lang, "adm_suggestion_failed", id=number, reason="not pending")
        return say(lang, "adm_learned_link", id=number, entry=entry_id)
    try:
        if choice.action == "reject":
            suggestions.reject(db, number)
            return say(lang, "adm_rejected", id=number)
        entry_id, phrasing = suggestions.accept(db, context.bot_data.faq_admin, number,
                                                as_new=choice.action == "new")
    except SuggestionError as exc:
        return say(lang, "adm_suggestion_failed", id=number, reason=str(exc))
    return say(lang, "adm_accepted_phrasing" if phrasing else "adm_accepted_new",
               id=number, entry=entry_id)


# --- buttons ----------------------------------------------------------------

async def on_button(update: Update, context: BotContext) -> None:
    """Confirm or cancel an upload; accept or reject a suggestion (admins only)."""
    query = update.callback_query
    if query is None:
        return
    lang = await _lang(context, update)
    choice = buttons.unpack(query.data)
    if not isinstance(choice, ADMIN_BUTTONS) or \
            query.from_user.id not in context.bot_data.assistant.config.admins:
        await acknowledge(query, say(lang, "button_expired"))
        return
    admin = context.bot_data.faq_admin
    if isinstance(choice, ConfirmUpload):
        outcome = await asyncio.to_thread(admin.confirm, choice.token)
        text = say(lang, "adm_upload_expired") if outcome is None else outcome.text(lang)
    elif isinstance(choice, CancelUpload):
        admin.cancel(choice.token)
        text = say(lang, "adm_upload_cancelled")
    else:
        text = await asyncio.to_thread(_settle_suggestion, context, lang, choice)
        if choice.action == "learned":
            await asyncio.to_thread(context.bot_data.assistant.refresh_learned)
    message = query.message if isinstance(query.message, Message) else None
    await send(context, message.chat.id if message else query.from_user.id, [Reply(text)],
               edit=without_buttons(message))
    await acknowledge(query)


# --- statistics -------------------------------------------------------------

def parse_period(args: list[str]) -> report.Period:
    """``[]`` (30 days), ``["7"]`` (the last 7 days) or ``["2026-03-01", "2026-03-31"]``."""
    if not args:
        return report.Period.of_days(None, None)
    if len(args) == 1 and args[0].isdecimal() and 0 < int(args[0]) <= report.MAX_DAYS:
        return report.Period.of_days(None, None, default_days=int(args[0]))
    if len(args) == 2:  # a ValueError (PeriodError) for what cannot be reported
        return report.Period.checked(date.fromisoformat(args[0]), date.fromisoformat(args[1]))
    raise ValueError("bad period")


async def on_stats(update: Update, context: BotContext) -> None:
    """/stats [DAYS | FROM TO]: the figures, and a chart of the questions per day."""
    lang = await _lang(context, update)
    chat = update.effective_chat
    try:
        period = parse_period(list(context.args or ()))
    except ValueError:
        await _reply(update, context, Reply(say(lang, "adm_stats_usage")))
        return
    if chat is None:
        return
    assistant = context.bot_data.assistant
    built: list[report.Report] = []

    def figures() -> list[Reply]:
        """Read in a transaction a forget waits for: the figures quote people's words."""
        with assistant.db.session() as session:
            privacy.hold_for_naming(session)
            built.append(report.build(assistant.db, period, assistant.config.staff.hours))
        return [Reply(report.describe(built[0], lang), naming=built[0].naming)]

    await answer(context, chat.id, figures)
    png = await asyncio.to_thread(report.chart_png, built[0], lang)  # counts only
    await send(context, chat.id, [], then=(Picture(png),))


# --- retention --------------------------------------------------------------

async def purge_old(context: BotContext) -> None:
    """The daily job taking away what is older than ``privacy.retention``
    (:mod:`bot.retention`)."""
    assistant = context.bot_data.assistant
    purged = await asyncio.to_thread(retention.purge, assistant.db,
                                     assistant.config.privacy.retention,
                                     min_votes=assistant.config.learning.min_votes)
    if purged:
        log.info("older than the retention period: %d question log(s), %d outbox call(s) "
                 "and %d learned vote(s) deleted, the texts of %d closed ticket(s) and %d of "
                 "their message(s) emptied", purged.questions, purged.outbox, purged.votes,
                 purged.tickets, purged.ticket_messages)
    if purged.votes:
        await asyncio.to_thread(assistant.refresh_learned)


def register(application: BotApplication, assistant: Assistant) -> None:
    """Add the admins' handlers and jobs (before the people's, which catch all the rest)."""
    application.bot_data.faq_admin = FaqAdmin.for_assistant(assistant)
    admins = filters.User(user_id=list(assistant.config.admins))
    in_private = filters.ChatType.PRIVATE
    only_messages = filters.UpdateType.MESSAGE
    for name, callback in (("reload", on_reload), ("faq_export", on_export),
                           ("suggestions", on_suggestions), ("stats", on_stats)):
        application.add_handler(CommandHandler(name, callback,
                                               filters=only_messages & admins & in_private))
    # Blocking (the admin's chat waits while the file downloads and is checked; other chats
    # do not): the update is marked handled only once the upload is checked and answered.
    application.add_handler(MessageHandler(
        only_messages & admins & in_private & filters.Document.ALL, on_document))
    application.add_handler(CallbackQueryHandler(on_button, pattern=buttons.of(*ADMIN_BUTTONS)))
    jobs = application.job_queue
    if jobs is not None:
        jobs.run_repeating(poll_faq, interval=assistant.config.faq_admin.reload_interval,
                           first=assistant.config.faq_admin.reload_interval, name="faq-reload")
        jobs.run_repeating(purge_old, interval=RETENTION_EVERY, first=RETENTION_FIRST,
                           name="retention")

