"""What it costs to keep a file the bot sends (an FAQ export, the statistics' chart) in
the outbox, up to Telegram's 50 MB, against keeping it in a file under ``data/``.

For each size, on SQLite and on PostgreSQL (a database of its own, dropped after), it
times the three steps of one file through the outbox, median of ROUNDS:

* ``queue``: the handler queues it (:meth:`Outbox.queue_replies`);
* ``claim``: the sender claims it and has its bytes (:meth:`Outbox.look`);
* ``done``: the sender records it sent (:meth:`Outbox.sent_then_next`);

``in row``: what the bot does (the bytes in the intent, base64 in the row's JSON);
``in file``: the alternative (the bytes written to a file, the row names it; read back
when claimed, deleted once sent), as durable as the database's commit: synced to disk
for PostgreSQL, which syncs at commit, not for SQLite, whose commits the bot leaves
to the next checkpoint (``synchronous=NORMAL`` in WAL mode). ``kept``: what a sent
file leaves in the outbox's rows; ``x in row``: the total time against the bot's.

    nice .venv/bin/python benchmarks/outbox_files.py [--sizes 0.05 1 10 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(PROJECT_ROOT / "tests"))

from pgserver import Unreachable, scratch_database  # noqa: E402

from bot.intents import Document, Intent, Say  # noqa: E402
from bot.outbox import Outbox  # noqa: E402
from bot.storage import Database  # noqa: E402

ADMIN = 9001


@contextmanager
def postgres() -> Iterator[str | None]:
    """A database of its own on the local PostgreSQL server (None: none reachable)."""
    try:
        with scratch_database("ngo_faq_bot_files_") as url:
            yield url.render_as_string(hide_password=False)
    except Unreachable:
        yield None


def kept(db: Database) -> int:
    """Bytes the outbox's rows hold (their payloads as text)."""
    with db.engine.connect() as connection:
        return int(connection.execute(text(
            "SELECT coalesce(sum(length(CAST(payload AS TEXT))), 0) FROM outbox")).scalar_one())


def one_file(outbox: Outbox, content: bytes, folder: Path | None,
             sync: bool) -> tuple[float, float, float]:
    """Queue, claim and record one file; seconds of each step (``sync``: the file is
    synced to disk, as a commit of the database is)."""
    start = time.perf_counter()
    intent: Intent
    if folder is None:
        intent = Document("export.yaml", content)
    else:
        path = folder / f"{uuid.uuid4().hex}.yaml"
        with path.open("wb") as file:
            file.write(content)
            file.flush()
            if sync:
                os.fsync(file.fileno())
        intent = Say(str(path))  # the alternative's row: a small one naming the file
    outbox.queue_replies(ADMIN, [intent])
    queued = time.perf_counter()
    [call], _ = outbox.look()
    stored = None
    if folder is None:
        assert isinstance(call.intent, Document) and len(call.intent.content) == len(content)
    else:
        assert isinstance(call.intent, Say)
        stored = Path(call.intent.text)
        assert len(stored.read_bytes()) == len(content)
    claimed = time.perf_counter()
    assert outbox.sent_then_next(call, 1) == (True, None)
    if stored is not None:
        stored.unlink()
    return queued - start, claimed - queued, time.perf_counter() - claimed


def measure(url: str, sizes: list[float], rounds: int, folder: Path,
            say: Callable[[str], None]) -> None:
    with Database(url) as db:
        outbox = Outbox(db)
        for megabytes in sizes:
            content = os.urandom(int(megabytes * 1_000_000))
            ours = 0.0
            for way, where in (("in row", None), ("in file", folder)):
                before = kept(db)
                steps = [one_file(outbox, content, where, sync=not db.is_sqlite)
                         for _ in range(rounds)]
                grown = (kept(db) - before) / rounds / 1000
                queue, claim, done = (statistics.median(s[i] for s in steps) * 1000
                                      for i in range(3))
                total = queue + claim + done
                ours = ours or total
                say(f"{db.engine.dialect.name:<10} {megabytes:>7.2f} {way:<8} {queue:>9.0f} "
                    f"{claim:>9.0f} {done:>8.0f} {total:>9.0f} {grown:>10.1f}"
                    f"{total / max(ours, 1e-3):>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.05, 1, 10, 50],
                        help="file sizes in MB")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{'database':<10} {'MB':>7} {'bytes':<8} {'queue ms':>9} {'claim ms':>9} "
          f"{'done ms':>8} {'total ms':>9} {'kept KB':>10}{'x in row':>10}")
    with tempfile.TemporaryDirectory() as folder, postgres() as server:
        files = Path(folder) / "files"
        files.mkdir()
        measure(f"sqlite:///{folder}/bot.db", args.sizes, args.rounds, files, print)
        if server is None:
            print("postgresql: not reachable, skipped")
        else:
            measure(server, args.sizes, args.rounds, files, print)


if __name__ == "__main__":
    main()
