"""``ngo-faq-bot run --workers N``: N bot processes on one PostgreSQL database.

The supervisor starts ``ngo-faq-bot run --worker I/N`` for each I, starts again
a worker that dies (what it held passes to the others meanwhile, see
:mod:`bot.inbox`), and passes SIGTERM and SIGINT on to all of them. A worker
that stops with exit code 1 or 2 (the token refused; the config, the FAQ or the
database) would stop so again: then the supervisor stops the others and exits
with that code.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType

from bot.backoff import backoff

RESTART_DELAY = 1.0  # seconds before a worker that died is started again...
MAX_RESTART_DELAY = 60.0  # ...doubling while it keeps dying, up to this (bot.backoff)
STOP_GRACE = 15.0    # seconds the workers get to stop before they are killed
FATAL = (1, 2)       # exit codes of a worker that cannot start (see handlers.app.serve)
STARTING = 60.0      # seconds after its first start within which such an exit is fatal


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


def _ending(code: int) -> str:
    """How a worker ended, from its return code."""
    if code >= 0:
        return f"exit code {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:  # a real-time signal has no name
        return f"killed by signal {-code}"


def supervise(count: int, config_path: str | None) -> int:
    """Run ``count`` workers until SIGTERM or SIGINT (0), or until one cannot start
    (its exit code); returns the exit code.

    Only a worker's first start can be fatal: 1 is also what Python exits with after an
    uncaught error, and 2 a database that did not answer, so a worker that ran, or that
    ends so when started again (say while PostgreSQL restarts), is started again."""
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process in workers.values():
            if process.poll() is None:
                process.send_signal(signum)

    def start(index: int) -> None:
        config = ["--config", config_path] if config_path else []
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", *config, "run",
                                    "--worker", f"{index}/{count}"])
        workers[index] = process
        started[index] = time.monotonic()
        if stopping:  # SIGTERM came as it started, after stop() had signalled the others
            process.terminate()
            return
        print(f"worker {index} started (pid {process.pid})", file=sys.stderr, flush=True)

    workers: dict[int, subprocess.Popen[bytes]] = {}
    first = set(range(count))  # the workers still in their first process
    started: dict[int, float] = {}
    due: dict[int, float] = {}  # a worker that died -> when it starts again
    delays = {index: backoff(RESTART_DELAY, MAX_RESTART_DELAY) for index in range(count)}
    code = 0
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for index in range(count):
        start(index)
    while not stopping:
        time.sleep(0.2)
        now = time.monotonic()
        for index, process in workers.items():
            ended = process.poll()
            if ended is None or index in due or stopping:
                continue
            if ended in FATAL and index in first and now - started[index] <= STARTING:
                print(f"worker {index} cannot start ({_ending(ended)}, see above); "
                      "stopping the others", file=sys.stderr, flush=True)
                code = ended
                stop(signal.SIGTERM, None)
                break
            first.discard(index)
            if now - started[index] > MAX_RESTART_DELAY:  # it had been running: not a loop
                delays[index] = backoff(RESTART_DELAY, MAX_RESTART_DELAY)
            delay = next(delays[index])
            due[index] = now + delay
            print(f"worker {index} ended ({_ending(ended)}); starting it again in "
                  f"{delay:.0f} s", file=sys.stderr, flush=True)
        for index, when in list(due.items()):
            if when <= now and not stopping:
                del due[index]
                start(index)
    deadline = time.monotonic() + STOP_GRACE
    for process in workers.values():
        try:
            process.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return code
