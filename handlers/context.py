"""What the handlers share, typed: ``context.bot_data`` is a :class:`BotData`, not a dict
of string keys (python-telegram-bot's ``ContextTypes``, set in :mod:`handlers.app`)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.conversation import Assistant
from bot.faq_admin import FaqAdmin
from bot.flood import FloodGate
from handlers.inbox import Drainer

if TYPE_CHECKING:  # these modules import this one
    from handlers.app import Worker
    from handlers.outbox import Sender
    from handlers.staff import StaffDesk


class BotData:
    """The application's ``bot_data``. The Application makes it without arguments; its
    attributes are set while the Application is built, before any handler or job runs:
    by :func:`handlers.app.build_application`, and by the ``register`` of the module
    named beside the others."""

    assistant: Assistant
    matcher_settled: asyncio.Task[None] | None = None
    """Done once questions no longer wait for the model's matcher after the start
    (:func:`handlers.people.settled`)."""
    worker: Worker
    drainer: Drainer | None = None
    """Takes this worker's share of the stored updates; only with several workers."""
    sender: Sender  # handlers.outbox
    flood_gate: FloodGate  # handlers.flood
    staff_desk: StaffDesk  # handlers.staff
    faq_admin: FaqAdmin  # handlers.admins


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The ``context`` of every handler and job, with its ``bot_data`` a :class:`BotData`.
    The bot keeps no user or chat data: those stay python-telegram-bot's default dicts."""


BotApplication = Application[ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], BotData,
                             Any]
"""The Application of :func:`handlers.app.build_application`. Its last parameter, the job
queue's type, is Any as in ``CallbackContext.application``: the builder keeps the default
one when the context types change, and ``Application.job_queue`` is typed by the context
type whatever it is."""
