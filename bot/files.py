"""Reading a file an admin names (a FAQ file, the configuration, cases, a registry CSV)
up to a limit: a wrong name (``/dev/zero``, a log of gigabytes) is refused at the limit
instead of read until the memory runs out. Cheap to import: the configuration uses it
before anything else is loaded."""

from __future__ import annotations

import os


def _size(limit: int) -> str:
    """``limit`` bytes as a person reads them: ``64 MB``, ``256 KB``."""
    if limit % 2**20 == 0:
        return f"{limit // 2**20} MB"
    return f"{limit // 2**10} KB" if limit % 2**10 == 0 else f"{limit} bytes"


def read_bytes(path: str | os.PathLike[str], limit: int) -> bytes:
    """The file's bytes; OSError when it cannot be read, ValueError ("the file is larger
    than ...") when it holds more than ``limit`` bytes. A file that says it is larger is
    not read; one that says nothing of its size, as a device (``/dev/zero``), is read up
    to the limit."""
    with open(path, "rb") as file:
        fits = os.fstat(file.fileno()).st_size <= limit
        content = file.read(limit + 1) if fits else b""
    if not fits or len(content) > limit:
        raise ValueError(f"the file is larger than {_size(limit)}")
    return content


class NotUtf8(ValueError):
    """A file that is not UTF-8 text: the ``line`` of its first byte that is not, and
    the ``problem`` with how to save it so."""

    def __init__(self, line: int, advice: str) -> None:
        self.line, self.problem = line, f"not UTF-8 text ({advice})"
        super().__init__(f"line {line}: {self.problem}")


SAVE_AS_UTF8 = "save it as UTF-8: in Notepad, Save As and Encoding UTF-8"


def text_of(content: bytes, advice: str = SAVE_AS_UTF8) -> str:
    """``content`` as UTF-8 text, as ``Path.read_text`` reads it (universal newlines), a
    byte order mark at the start dropped; :class:`NotUtf8` naming the line of the first
    byte that is not UTF-8 (a file saved as Windows-1252 writes "ë" as one such byte),
    and ``advice``."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotUtf8(content[:exc.start].count(b"\n") + 1, advice) from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: str | os.PathLike[str], limit: int) -> str:
    """The file's text, read as :func:`read_bytes` reads it and decoded by :func:`text_of`."""
    return text_of(read_bytes(path, limit))
