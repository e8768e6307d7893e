"""Keeping one person from flooding the bot: at most N messages a minute each.

A person over the limit gets one polite notice per minute, and what they send
beyond it is not handled; everyone else is served as usual. The count lives
in memory (a restart forgives everyone).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import Enum

WINDOW = 60.0  # seconds


class Verdict(Enum):
    HANDLE = "handle"
    NOTICE = "notice"  # over the limit: tell them once, do not handle
    DROP = "drop"      # over the limit, already told


class FloodGate:
    """Per person, the times of their messages in the last minute."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._told: dict[int, float] = {}

    def admit(self, user_id: int) -> Verdict:
        now = self.clock()
        times = self._seen.setdefault(user_id, deque())
        while times and now - times[0] >= WINDOW:
            times.popleft()
        if len(times) < self.per_minute:
            times.append(now)
            return Verdict.HANDLE
        if now - self._told.get(user_id, -WINDOW) >= WINDOW:
            self._told[user_id] = now
            return Verdict.NOTICE
        return Verdict.DROP

    def forget_quiet(self) -> None:
        """Drop the people who wrote nothing in the last minute (memory stays small)."""
        now = self.clock()
        for user_id, times in list(self._seen.items()):
            if not times or now - times[-1] >= WINDOW:
                del self._seen[user_id]
                self._told.pop(user_id, None)
