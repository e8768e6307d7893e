"""Files of labelled cases: one JSON object a line, ``{"q": "...", "expect": ...}``.

The FAQ's cases expect an entry id and the registry's a NIPT; ``null`` (or an
empty string) means nothing should be found. ``eval``, ``learn`` and the
benchmarks read both kinds here.
"""

from __future__ import annotations

import json
import os
import re

from bot.files import NotUtf8, read_bytes, text_of

_KEYS = ("q", "expect")
# The bench's cases take some 160 bytes each (60 KB for 364 questions): 64 MB is some
# 400,000, far more than an agency's inbox of years replayed with ``learn``.
MAX_FILE_BYTES = 64 * 2**20


def read_cases(path: str | os.PathLike[str], expected: str,
               shape: re.Pattern[str] | None = None) -> list[tuple[str, str | None]]:
    """The ``(question, expect)`` pairs of a cases file; blank lines are skipped.

    ``expected`` names what ``expect`` holds (``"a FAQ id"``, ``"a NIPT"``), which
    must match ``shape`` when given, in the error: a ``ValueError`` naming the file
    and line of the first bad case (or the file, when it cannot be read or holds no
    case). A case without ``expect`` expects nothing, unless it has a key of another
    name, most likely ``expect`` mistyped."""
    try:
        data = read_bytes(path, MAX_FILE_BYTES)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    try:
        text = text_of(data)
    except NotUtf8 as exc:
        raise ValueError(f"{path}:{exc.line}: {exc.problem}") from None
    cases = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                cases.append(_case(line, expected, shape))
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: {exc}") from None
    if not cases:
        raise ValueError(f"{path}: no cases (one JSON object a line: "
                         f'{{"q": "...", "expect": {expected} or null}})')
    return cases


def _case(line: str, expected: str, shape: re.Pattern[str] | None) -> tuple[str, str | None]:
    try:
        raw = json.loads(line)
    except RecursionError:
        raise ValueError("not a case: its JSON is nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise ValueError(f'not a case: a JSON object {{"q": ..., "expect": ...}} is expected, '
                         f"not {type(raw).__name__}")
    other = [key for key in raw if key not in _KEYS]
    if "q" not in raw:
        raise ValueError('not a case: no "q" (the question)'
                         + (f"; is {other[0]!r} it?" if other else ""))
    if "expect" not in raw and other:
        raise ValueError(f'no "expect", and a key {other[0]!r}: "expect" mistyped? '
                         f"(null where nothing should be found)")
    question, expect = raw["q"], raw.get("expect")
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f'"q" must be a question, not {question!r}')
    if expect is not None and not isinstance(expect, str) or (
            shape is not None and expect and not shape.fullmatch(expect)):
        raise ValueError(f'"expect" must be {expected} or null, not {expect!r}')
    for text in (question, expect or ""):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # "\ud83d": half of a character written as a pair
            raise ValueError(f"{text!r} holds {exc.object[exc.start]!r}, half of a character "
                             "(an escape of a pair of which one is missing)") from None
        if "\x00" in text:
            raise ValueError(f"{text!r} holds a NUL character, which no database stores")
    return question, expect or None
