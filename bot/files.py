"""Reading a file an admin names (a FAQ file, the configuration, cases, a registry CSV)
up to a limit: a wrong name (``/dev/zero``, a log of gigabytes) is refused at the limit
instead of read until the memory runs out. Cheap to import: the configuration uses it
before anything else is loaded."""

from __future__ import annotations

import io
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


def read_text(path: str | os.PathLike[str], limit: int) -> str:
    """The file's UTF-8 text, read as :func:`read_bytes` reads it and decoded as
    ``Path.read_text`` does (universal newlines); UnicodeDecodeError if it is no UTF-8."""
    return io.TextIOWrapper(io.BytesIO(read_bytes(path, limit)), encoding="utf-8").read()
