"""Calls to the Bot API the bot cannot go on without (connecting at the start, setting the
webhook, asking whether someone is staff) are made again while Telegram fails for a
passing reason: :func:`until_answered`. Storing an update, marking it done and recording
what a call did are tried again too, with :func:`bot.backoff.backoff`'s growing waits
(:mod:`handlers.inbox`, :mod:`handlers.outbox`); the outbox's calls after the time
Telegram asks for (:func:`retry_after_of`)."""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import TypeVar

from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

T = TypeVar("T")


def retry_after_of(exc: RetryAfter) -> float:
    """How long Telegram asks to wait (an int or a timedelta, depending on PTB's setting)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def until_answered(call: Callable[[], Awaitable[T]], *, waits: Iterator[float],
                         rest: Callable[[float], Awaitable[object]],
                         failing: Callable[[TelegramError, float], object]) -> T:
    """Await ``call()``, and again while Telegram fails for a passing reason: after the
    wait a 429 asks for, or after the next of ``waits`` when the Bot API cannot be
    reached, fails (5xx) or does not answer in time. ``failing(error, wait)`` is told of
    each such failure before ``rest(wait)``. A refusal (400, 403, the token) is raised:
    it would be refused again."""
    while True:
        try:
            return await call()
        except RetryAfter as exc:
            error: TelegramError = exc
            wait = retry_after_of(exc)
        except BadRequest:  # a NetworkError in PTB's tree, but no passing one
            raise
        except NetworkError as exc:
            error, wait = exc, next(waits)
        failing(error, wait)
        await rest(wait)
