"""Renewing the claims a worker holds under a lease (the updates the inbox drains, the
calls the outbox sends), so that another worker takes one over only when this one has
stopped renewing: it is gone, or its database is."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from bot.storage import reason_of

log = logging.getLogger(__name__)

T = TypeVar("T")


async def renew_claims(lease: timedelta, held: Callable[[], T], renew: Callable[[T], object],
                       what: str) -> None:
    """Every third of ``lease``, ``renew(held())`` off the event loop, until cancelled.
    ``held`` runs on the loop, where the claims change; a renewal the database refuses
    is logged and tried again at the next turn (a lease outlasts two turns)."""
    while True:
        await asyncio.sleep(lease.total_seconds() / 3)
        claims = held()
        try:
            await asyncio.to_thread(renew, claims)
        except Exception as exc:
            log.warning("%s: cannot renew the claims (%s)", what, reason_of(exc))
