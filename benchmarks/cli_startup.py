"""How long the command line takes to start: ``--help`` and ``ask``.

Targets: ``--help`` <= 0.15 s and ``ask`` <= 0.3 s. Each command runs as a new
process several times; the best wall time and the best CPU time (user + system,
less disturbed by other processes on a busy machine) are printed, beside the
alternatives: a bare Python, and importing what every command used to import
(SQLAlchemy, Alembic and matplotlib through the storage, report and privacy
modules). On a quiet machine the wall time is about the CPU time; on a busy one
(the load average is printed) the CPU time is the figure to compare with the
target. Then the slowest imports of ``ask`` as ``python -X importtime`` shows them.

    .venv/bin/python benchmarks/cli_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
QUESTION = "Si regjistrohet një shoqatë?"


def measure(command: list[str], runs: int) -> tuple[float, float]:
    """Best wall time and best CPU time of ``runs`` runs, in seconds."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL, cwd=ROOT, check=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def slowest_imports(command: list[str], count: int = 8) -> list[tuple[int, str]]:
    """The top-level imports of ``command`` that took longest (cumulative microseconds)."""
    result = subprocess.run([PYTHON, "-X", "importtime", *command], capture_output=True,
                            text=True, cwd=ROOT, stdin=subprocess.DEVNULL, check=True)
    rows = []
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if match and len(match.group(2)) <= 2:  # the modules imported by ours, not theirs
            rows.append((int(match.group(1)), match.group(3)))
    return sorted(rows, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    cli = [PYTHON, "-m", "bot.cli"]
    rows = [
        ("python -c pass (the floor)", [PYTHON, "-c", "pass"], None),
        ("ngo-faq-bot --help", [*cli, "--help"], 0.15),
        ("ngo-faq-bot ask QUESTION", [*cli, "ask", QUESTION], 0.30),
        ("alternative: importing storage, report, privacy as before",
         [PYTHON, "-c", "import bot.storage, bot.report, bot.privacy, bot.conversation"], None),
    ]
    print(f"best of {runs} runs, load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    print(f"{'command':<58} {'wall s':>7} {'cpu s':>7}  target")
    for label, command, target in rows:
        wall, cpu = measure(command, runs)
        verdict = "" if target is None else (
            f"<= {target:.2f}: wall {'ok' if wall <= target else 'over'}, "
            f"cpu {'ok' if cpu <= target else 'over'}")
        print(f"{label:<58} {wall:7.3f} {cpu:7.3f}  {verdict}")
    print("\nslowest imports of `ask` (python -X importtime, cumulative ms):")
    for micros, module in slowest_imports(["-m", "bot.cli", "ask", QUESTION]):
        print(f"  {micros / 1000:7.1f}  {module}")
    heavy = {"sqlalchemy", "alembic", "matplotlib", "telegram"}
    for name, command in (("--help", ["-m", "bot.cli", "--help"]),
                          ("ask", ["-m", "bot.cli", "ask", QUESTION])):
        result = subprocess.run([PYTHON, "-X", "importtime", *command], capture_output=True,
                                text=True, cwd=ROOT, stdin=subprocess.DEVNULL, check=True)
        loaded = sorted({m for m in heavy if re.search(rf"\| +{m}$", result.stderr, re.MULTILINE)})
        print(f"heavy packages imported by {name}: {', '.join(loaded) or 'none'}")


if __name__ == "__main__":
    main()
