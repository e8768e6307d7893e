"""The one text normaliser, shared by FAQ matching and registry search.

People type without diacritics (``e`` for ``ë``, ``c`` for ``ç``), in any case,
with punctuation, emoji, links and mentions. Everything that compares text
goes through :func:`fold` first so that both sides look alike.
"""

from __future__ import annotations

import re
import unicodedata

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@\w+")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def strip_diacritics(text: str) -> str:
    """``ë`` -> ``e``, ``ç`` -> ``c`` and likewise for every combining mark."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower-case, drop diacritics, links, mentions, emoji and punctuation.

    The result is ASCII words separated by single spaces.
    """
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = strip_diacritics(text.casefold())
    return _NON_WORD.sub(" ", text).strip()


def words(text: str) -> list[str]:
    """The folded words of ``text``."""
    folded = fold(text)
    return folded.split() if folded else []
