"""Admin subcommands: ``report`` and ``forget``.

* ``report [--since DATE] [--until DATE] [--chart FILE]`` prints the figures of
  a period (default: the last 30 days): questions and outcomes, 👍/👎, staff
  response times, open tickets, top unanswered questions; ``--chart`` also
  writes the questions-per-day chart as a PNG.
* ``forget USER_ID`` deletes everything stored about a Telegram user, and replaces
  them by a pseudonym where they acted as staff.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bot.phrases import plain

if TYPE_CHECKING:  # imported where they are used, so that --help starts at once
    from bot import report



def user_id(value: str) -> int:
    """A Telegram user id as argparse reads it: a whole number that fits the database,
    in ASCII digits only (Python's int() also reads "+7", "1_000" and "٣": a slip
    when the id names whose data to delete)."""
    if not re.fullmatch(r"-?[0-9]+", value):
        raise argparse.ArgumentTypeError(f"not a Telegram user id: {value!r}")
    number = int(value)
    if not -2**63 <= number < 2**63:
        raise argparse.ArgumentTypeError(f"not a Telegram user id (too large): {value}")
    return number


def png_name(value: str) -> str:
    """The chart's file as argparse reads it: not empty (``--chart ""`` wrote nothing and
    said nothing), ending in .png (``--chart faq/grants.yaml`` overwrote a FAQ file)."""
    if not value.strip():
        raise argparse.ArgumentTypeError("give the file to write, e.g. --chart chart.png")
    if not value.lower().endswith(".png"):
        raise argparse.ArgumentTypeError(f"the chart is a PNG picture: give a file name "
                                         f"ending in .png, not {value!r}")
    return value


def day(value: str) -> date:
    """A date as argparse reads it, with a message a person can act on."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date: {value!r} (use YYYY-MM-DD, e.g. 2026-03-01)") from None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``report`` and ``forget``."""
    rep = subparsers.add_parser(
        "report", help="what people asked and what became of it",
        description="Questions asked, answered directly or after a suggestion, handed to "
                    "staff, feedback, staff response times, open tickets and the top "
                    "unanswered questions for a period (default: the last 30 days).")
    rep.add_argument("--since", type=day, metavar="DATE",
                     help="first day (YYYY-MM-DD)")
    rep.add_argument("--until", type=day, metavar="DATE",
                     help="last day, included (YYYY-MM-DD)")
    rep.add_argument("--lang", choices=("sq", "en"), default="en")
    rep.add_argument("--chart", type=png_name, metavar="FILE.png",
                     help="also write the chart as a PNG")
    rep.set_defaults(handler=run_report)

    forget = subparsers.add_parser(
        "forget", help="delete everything stored about a person",
        description="Delete every row about a Telegram user id: their settings, question "
                    "logs, tickets with their messages, outbox items and suggestions, bans. "
                    "Where they acted as staff (tickets claimed, answers, suggestions, "
                    "bans) their id and name are replaced by a pseudonym.")
    forget.add_argument("user_id", type=user_id, metavar="USER_ID")
    forget.set_defaults(handler=run_forget)


def _period(args: argparse.Namespace) -> report.Period | None:
    """The period of --since and --until, or None after saying why it cannot be reported."""
    from bot import report

    try:
        return report.Period.checked(args.since, args.until)
    except report.PeriodError as exc:
        error = ("--since is after --until" if args.since and args.until
                 and args.since > args.until else str(exc))
    print(f"error: {error}", file=sys.stderr)
    return None


def run_report(args: argparse.Namespace) -> int:
    from bot import report
    from bot.config import load_config
    from bot.storage import Database

    period = _period(args)
    if period is None:
        return 2
    config = load_config(args.config)
    with Database(config.database_url, create=False) as db:
        figures = report.build(db, period, config.staff.hours)
    print(plain(report.describe(figures, args.lang)))
    if args.chart:
        try:
            Path(args.chart).write_bytes(report.chart_png(figures, args.lang))
        except OSError as exc:
            print(f"error: cannot write the chart to {args.chart}: {exc.strerror}",
                  file=sys.stderr)
            return 1
        print(f"chart written to {args.chart}")
    return 0


def run_forget(args: argparse.Namespace) -> int:
    from bot import learning, privacy
    from bot.config import load_config
    from bot.storage import Database
    from bot.tickets import Tickets

    config = load_config(args.config)
    with Database(config.database_url, create=False) as db, db.session():  # all or nothing
        done = privacy.forget(db, args.user_id)
        learning.prune(db)  # the learned phrasings only this person supported
        # The running bot makes these changes to the staff chat.
        changes = Tickets(db, config).after_forget(done)
    print(f"deleted {sum(done.deleted.values())} row(s) about {args.user_id}"
          + _details(done.deleted))
    if done.pseudonymised:
        print(f"pseudonymised {sum(done.pseudonymised.values())} row(s) where "
              f"{args.user_id} acted as staff" + _details(done.pseudonymised))
    if changes:
        print(f"queued {changes} change(s) to the staff chat (the running bot makes them)")
    return 0


def _details(counts: dict[str, int]) -> str:
    """``: people 1, tickets 2`` (nothing when there are none)."""
    details = ", ".join(f"{table} {count}" for table, count in sorted(counts.items()))
    return f": {details}" if details else ""
