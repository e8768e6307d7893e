"""``ngo-faq-bot run --workers N``: N bot processes on one PostgreSQL database.

The supervisor starts ``ngo-faq-bot run --worker I/N`` for each I, starts again
a worker that dies (what it held passes to the others meanwhile, see
:mod:`bot.inbox`), and passes SIGTERM and SIGINT on to all of them.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType

RESTART_DELAY = 1.0  # seconds before a worker that died is started again
STOP_GRACE = 15.0    # seconds the workers get to stop before they are killed


def parse_worker(value: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N), with 0 <= I < N."""
    index, _, count = value.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        raise ValueError(f"--worker takes I/N, e.g. 0/3, not {value!r}") from None
    if not 0 <= i < n:
        raise ValueError(f"--worker {value}: I must be from 0 to N-1")
    return i, n


def supervise(count: int, config_path: str | None) -> int:
    """Run ``count`` workers until SIGTERM or SIGINT; returns the exit code."""
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process in workers.values():
            if process.poll() is None:
                process.send_signal(signum)

    def start(index: int) -> subprocess.Popen[bytes]:
        config = ["--config", config_path] if config_path else []
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", *config, "run",
                                    "--worker", f"{index}/{count}"])
        print(f"worker {index} started (pid {process.pid})", file=sys.stderr, flush=True)
        return process

    workers: dict[int, subprocess.Popen[bytes]] = {}
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for index in range(count):
        workers[index] = start(index)
    while not stopping:
        time.sleep(0.2)
        for index, process in list(workers.items()):
            code = process.poll()
            if code is not None and not stopping:
                print(f"worker {index} ended (exit code {code}); starting it again",
                      file=sys.stderr, flush=True)
                time.sleep(RESTART_DELAY)
                workers[index] = start(index)
    deadline = time.monotonic() + STOP_GRACE
    for process in workers.values():
        try:
            process.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return 0
