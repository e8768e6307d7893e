"""Keeping the bot token out of everything the bot writes down: logs, the outbox's
errors and the notes it posts in the staff chat."""

from __future__ import annotations

import re
from urllib.parse import quote

MASK = "<token>"


def redact(text: str, token: str) -> str:
    """``text`` with the token replaced by ``<token>``: also as it appears in a URL, and in
    any case (python-telegram-bot lowercases an error's description after its first letter).
    """
    if not token:
        return text
    forms = "|".join(re.escape(form) for form in sorted({token, quote(token, safe="")}))
    return re.sub(forms, MASK, text, flags=re.IGNORECASE)
