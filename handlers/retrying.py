"""How long a 429 asks the bot to wait. Storing an update, marking it done, recording
what a call did, a Bot API answer a handler needs and the start-up's calls all try
again with :func:`bot.backoff.backoff`'s growing waits, each with its bounds, or after
the time Telegram asks for."""

from __future__ import annotations

import warnings
from datetime import timedelta

from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning


def retry_after_of(exc: RetryAfter) -> float:
    """How long Telegram asks to wait (an int or a timedelta, depending on PTB's setting)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
