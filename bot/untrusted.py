"""Text that people type, made safe to store (:func:`clean`), to show staff
(:func:`shown_name`) and to print on a terminal (:func:`for_terminal`), and the
characters that make it unsafe (:func:`first_hidden`).

Telegram lets a name or a message hold characters that hurt later: a NUL,
which no PostgreSQL text column accepts, and invisible format characters.
Among the latter, the bidirectional controls (a right-to-left override,
embeddings, isolates, marks) reorder what follows them on screen, so a name
such as ``"Eve\\u202e)999 di("`` makes the ticket card read "Eve (id 999)"
while the real id is another: staff who ``/ban`` the id they see would ban
someone else. Control characters are no safer (an escape starts a terminal's
commands), nor line breaks where one line is expected.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

# Invisible format characters that carry meaning without reordering anything:
# joiners (emoji sequences, Persian and Indic spelling) and the tag characters
# of subdivision flags.
_KEPT_FORMAT = frozenset({"\u200c", "\u200d"}) | {chr(c) for c in range(0xE0020, 0xE0080)}


def _hidden(char: str) -> Literal["format", "control"] | None:
    """What ``char`` is when it is no visible text: an invisible format character (not a
    joiner or a tag), or a control character or line break."""
    category = unicodedata.category(char)
    if category == "Cf" and char not in _KEPT_FORMAT:
        return "format"
    if category in ("Cc", "Zl", "Zp"):
        return "control"
    return None


def first_hidden(text: str, allowed: str = "") -> str | None:
    """The first character of ``text`` that :func:`shown_name` takes out or makes a space
    (bidirectional controls, zero-width spaces, escapes, line breaks...), unless it is in
    ``allowed``; None when there is none."""
    if text.isprintable():  # fast: no such character (nor a tab) in text
        return None
    return next((char for char in text if char not in allowed and _hidden(char)), None)


def named(char: str) -> str:
    """A character :func:`first_hidden` found, named so that an admin can find it:
    ``U+202E (RIGHT-TO-LEFT OVERRIDE)``."""
    return f"U+{ord(char):04X} ({unicodedata.name(char, 'a control character')})"


def clean(text: str) -> str:
    """People's text without NUL characters: the one check at the door, before storage."""
    return text.replace("\x00", "")


def visible(text: str) -> str:
    """``text`` without bidirectional and other invisible controls (format characters
    removed, control characters and line breaks made spaces), on one line."""
    kept = []
    for char in text:
        hidden = _hidden(char)
        if hidden == "format":
            continue
        kept.append(" " if hidden == "control" else char)
    return " ".join("".join(kept).split())


def shown_name(name: str | None) -> str:
    """A person's name as staff see it (:func:`visible`); ``?`` when nothing visible is
    left."""
    return visible(name or "") or "?"


def for_terminal(text: str) -> str:
    """``text`` as a terminal may print it: each control character but line breaks and
    tabs, and each invisible format character (:func:`first_hidden`'s), written as its
    escape (``\\x1b``, ``\\u202e``), so that it is seen and does nothing (an escape
    clears or recolours the screen, a bidirectional control reorders a line)."""
    if first_hidden(text, "\n\t") is None:
        return text
    return "".join(char.encode("unicode_escape").decode("ascii")
                   if char not in "\n\t" and _hidden(char) else char for char in text)
