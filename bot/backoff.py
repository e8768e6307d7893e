"""The growing waits between tries of what must not be given up: the bot's calls to
Telegram and to its database (see :mod:`handlers.retrying`), and a worker process
started again by the supervisor (:mod:`bot.cli.workers`)."""

from __future__ import annotations

from collections.abc import Iterator


def backoff(first: float, last: float) -> Iterator[float]:
    """The waits between tries: ``first`` seconds, doubled after each try up to ``last``."""
    wait = first
    while True:
        yield wait
        wait = min(wait * 2, last)
