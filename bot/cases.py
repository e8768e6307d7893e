"""Files of labelled cases: one JSON object a line, ``{"q": "...", "expect": ...}``.

The FAQ's cases expect an entry id and the registry's a NIPT; ``null`` (or an
empty string) means nothing should be found. ``eval``, ``learn`` and the
benchmarks read both kinds here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def read_cases(path: str | os.PathLike[str], expected: str) -> list[tuple[str, str | None]]:
    """The ``(question, expect)`` pairs of a cases file; blank lines are skipped.

    ``expected`` names what ``expect`` holds (``"a FAQ id"``, ``"a NIPT"``) in the
    error, a ``ValueError`` naming the file and line of the first bad case."""
    cases = []
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = data[:exc.start].count(b"\n") + 1
        raise ValueError(f"{path}:{where}: not UTF-8 text (save the file as UTF-8)") from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            expect = raw.get("expect") or None
            if expect is not None and not isinstance(expect, str):
                raise TypeError(f"expect must be {expected} or null, not {expect!r}")
            cases.append((str(raw["q"]), expect))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}:{number}: not a case ({exc})") from None
    return cases
