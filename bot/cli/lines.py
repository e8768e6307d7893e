"""What ``ask`` and ``registry search`` read: the argument, or one item a line of a pipe.

Standard input is read only when no argument is given and it is not a terminal,
so that nobody waits on a command that is silently waiting for them; its bytes that
are not UTF-8 (a file saved in Windows-1252) become U+FFFD, not an error.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable


def readable(line: str) -> str:
    """A line of standard input as text: bytes that were not UTF-8 (kept by Python as
    surrogates, which no database or terminal accepts) become U+FFFD."""
    return line.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class NothingToRead(ValueError):
    """An empty argument, or no argument with a terminal on standard input."""


def items(given: str | None, what: str, example: str) -> Iterable[str]:
    """``given`` alone, or the non-empty lines of standard input when it is a pipe or a file."""
    if given is not None:
        if not given.strip():
            raise NothingToRead(f"the {what} is empty; write it in quotes, e.g. {example}")
        return [given]
    if sys.stdin is None or sys.stdin.isatty():
        raise NothingToRead(f"no {what}: give one, e.g. {example}, or pipe a file with one "
                            f"{what} a line")
    return (readable(line).strip() for line in sys.stdin if line.strip())
