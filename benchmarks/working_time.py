"""Cost of counting staff response times in working time, beside plain clock time.

The report (``/stats``, ``ngo-faq-bot report``) computes one response time per
ticket of the period. This times that for a year of tickets (default 20 000)
whose answers come from minutes to weeks later, with the agency's hours
(Mon-Fri 08:00-16:30, Europe/Tirane, a dozen holidays), against a plain
subtraction (and the ratio); and the reminder check (``is_open``, once per ticket).

    .venv/bin/python benchmarks/working_time.py [--tickets 20000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bot.workhours import parse_hours  # noqa: E402

HOLIDAYS = [date(2026, 1, 1), date(2026, 1, 2), date(2026, 3, 14), date(2026, 3, 22),
            date(2026, 4, 5), date(2026, 5, 1), date(2026, 10, 19), date(2026, 11, 28),
            date(2026, 11, 29), date(2026, 12, 8), date(2026, 12, 25)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    args = parser.parse_args()
    hours = parse_hours("Europe/Tirane", {"mon-fri": "08:00-16:30"}, HOLIDAYS)
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    pairs = []
    for _ in range(args.tickets):
        created = start + timedelta(minutes=rng.randrange(365 * 24 * 60))
        wait = timedelta(minutes=rng.choice((5, 30, 90, 600, 3000, 20000)) * rng.random())
        pairs.append((created, created + wait))

    began = time.perf_counter()
    plain = [(b - a).total_seconds() for a, b in pairs]
    plain_s = time.perf_counter() - began
    began = time.perf_counter()
    working = [hours.between(a, b).total_seconds() for a, b in pairs]
    working_s = time.perf_counter() - began
    print(f"{args.tickets} response times")
    print(f"  plain subtraction   {plain_s * 1e3:8.1f} ms  "
          f"({plain_s / len(pairs) * 1e6:6.2f} µs each)")
    print(f"  working time        {working_s * 1e3:8.1f} ms  "
          f"({working_s / len(pairs) * 1e6:6.2f} µs each, "
          f"{working_s / max(plain_s, 1e-9):.0f}x the subtraction)")
    print(f"  mean response: {sum(plain) / len(plain) / 3600:.1f} h of clock time, "
          f"{sum(working) / len(working) / 3600:.1f} h of working time")
    began = time.perf_counter()
    for a, _ in pairs:
        hours.is_open(a)
    open_s = time.perf_counter() - began
    print(f"  is_open (reminder)  {open_s * 1e3:8.1f} ms  "
          f"({open_s / len(pairs) * 1e6:6.2f} µs each)")


if __name__ == "__main__":
    main()
