"""What the command line reads and how it writes to a terminal.

``ask`` and ``registry search`` read the argument, or one item a line of a pipe.
Standard input is read only when no argument is given and it is not a terminal,
so that nobody waits on a command that is silently waiting for them; its bytes that
are not UTF-8 (a file saved in Windows-1252) become U+FFFD, not an error.

What the commands print on a terminal goes through :class:`Shown`: people's questions
(``report``, ``learned list``), a FAQ's or a configuration's bad values in an error
can hold a terminal's escapes.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from bot.untrusted import for_terminal


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


class Shown:
    """A terminal's stream that prints control and invisible format characters as their
    escapes (:func:`bot.untrusted.for_terminal`). Only a terminal's: a pipe or a file
    gets the text as it is (``learned export > phrasings.yaml``)."""

    def __init__(self, stream: TextIO) -> None:
        self.unescaped = stream
        """The stream itself, for the command line's own control characters (the
        progress bar's carriage return)."""

    def write(self, text: str) -> int:
        self.unescaped.write(for_terminal(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def isatty(self) -> bool:
        """False, and no :meth:`fileno`: what writes colours for a terminal only (Python
        3.13's tracebacks, 3.14's help) would have them printed as escapes."""
        return False

    def fileno(self) -> int:
        raise io.UnsupportedOperation("the terminal's stream is wrapped (cli.lines.Shown)")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unescaped, name)


def shown_on_terminals() -> None:
    """Wrap standard output and error in :class:`Shown` where they are terminals (once:
    ``main`` may run again in one process)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, Shown) and stream.isatty():
            setattr(sys, name, Shown(stream))


def unescaped(stream: TextIO) -> TextIO:
    """``stream`` itself, not :class:`Shown`'s escaping wrapper of it."""
    return stream.unescaped if isinstance(stream, Shown) else stream
