"""Learned phrasings on the command line: ``learned list|remove ID|export`` and ``learn``.

* ``learned list`` shows every learned phrasing: id, entry, language, whether it
  counts (and with how many people), its questions; then the out-of-scope
  questions (handled by the staff without an entry), numbered ``x1``, ``x2``...
* ``learned remove ID`` deletes a phrasing with its votes, or ``xID`` an
  out-of-scope question (the running bot notices within
  ``learning.refresh_interval``).
* ``learned export`` prints the ones that count as FAQ YAML to paste into the files.
* ``learn --cases FILE.jsonl`` replays labelled cases as if enough people had
  picked the expected entry for each question, and a case without an entry as a
  question the staff handled (to bootstrap from an old inbox, or to measure with
  ``eval``).

The database, config and FAQ libraries are imported where they are used, so that
``--help`` starts at once.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.faq import load_or_report
from bot.phrases import plain

if TYPE_CHECKING:
    from bot.faq import Faq

OUT_OF_SCOPE = "x"
"""What marks the id of an out-of-scope question (``x12``) beside learned phrasings'."""
CONTRADICTIONS_SHOWN = 5
"""Cases ``learn`` lists of those it left out as contradicting another."""


def phrasing_id(value: str) -> tuple[bool, int]:
    """A learned phrasing id (``12``) or an out-of-scope question's (``x12``) as argparse
    reads it, with the ``#`` ``learned list`` shows or without: (out of scope?, number)."""
    given = value.removeprefix("#")
    out_of_scope = given.lower().startswith(OUT_OF_SCOPE)
    number = given[1:] if out_of_scope else given
    if not (number.isascii() and number.isdigit()) or int(number) >= 2**31:
        raise argparse.ArgumentTypeError(f"not a learned phrasing id: {value!r}")
    return out_of_scope, int(number)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``learned`` (list, remove, export) and ``learn``."""
    learned = subparsers.add_parser(
        "learned", help="phrasings the bot learned from people's picks",
        description="List, remove or export the phrasings the bot learned from people's "
                    "picks and from staff answers linked to FAQ entries.")
    commands = learned.add_subparsers(dest="learned_command", required=True, metavar="COMMAND")
    listing = commands.add_parser("list", help="list the learned phrasings, newest first",
                                  description="List the learned phrasings, newest first.")
    listing.set_defaults(handler=run_list)
    remove = commands.add_parser(
        "remove", help="delete a learned phrasing or out-of-scope question",
        description="Delete a learned phrasing and its votes (ID), or an out-of-scope "
                    "question (xID).")
    remove.add_argument("id", type=phrasing_id, metavar="ID")
    remove.set_defaults(handler=run_remove)
    export = commands.add_parser(
        "export", help="print the phrasings that count as FAQ YAML",
        description="Print the learned phrasings that count as FAQ YAML: paste each "
                    "entry's questions into the entry with the same id in the FAQ files.")
    export.set_defaults(handler=run_export)

    learn = subparsers.add_parser(
        "learn", help="learn phrasings from labelled cases",
        description="Replay labelled cases ({\"q\": ..., \"expect\": id or null}) as if "
                    "enough people had picked the expected entry for each question; a case "
                    "without an entry is learned as a question the staff handled.")
    learn.add_argument("--cases", metavar="FILE", required=True, help="JSON-lines cases")
    learn.add_argument("--faq", metavar="PATH",
                       help="FAQ file or folder the ids must exist in (default: from config)")
    learn.set_defaults(handler=run_learn)


def run_list(args: argparse.Namespace) -> int:
    from bot import learning
    from bot.config import load_config
    from bot.storage import Database

    config = load_config(args.config)
    with Database(config.database_url, create=False) as db:
        items = learning.listing(db, config.learning.min_votes)
        handed_on = learning.handed_on(db)
    faq = _faq_quietly(config.faq_path) if items else None
    if not items:
        print("no learned phrasings")
    for item in items:
        in_faq = faq is None or faq.get(item.entry_id) is not None
        state = plain(item.state("en", config.learning.min_votes, in_faq))
        print(f"#{item.id}  {item.entry_id}  {item.language}  {state}  "
              f"{item.created_at:%Y-%m-%d}")
        for text in item.texts:
            print(f"    {text}")
    if handed_on:
        print(f"out of scope (handled by the staff without an entry): {len(handed_on)}")
    for question in handed_on:
        print(f"#{OUT_OF_SCOPE}{question.id}  {question.language}  {question.source}  "
              f"{question.created_at:%Y-%m-%d}")
        print(f"    {question.text}")
    return 0


def _faq_quietly(path: Path) -> Faq | None:
    """The FAQ to tell learned phrasings of entries it lacks, or None if it does not load
    (``faq check`` is the command that reports why)."""
    from bot.faq import FaqError, load_faq

    try:
        return load_faq(path)
    except (FaqError, OSError):
        return None


def run_remove(args: argparse.Namespace) -> int:
    from bot import learning
    from bot.config import load_config
    from bot.storage import Database

    out_of_scope, number = args.id
    what, shown = (("out-of-scope question", f"#{OUT_OF_SCOPE}{number}") if out_of_scope
                   else ("learned phrasing", f"#{number}"))
    with Database(load_config(args.config).database_url, create=False) as db:
        removed = (learning.remove_handed_on(db, number) if out_of_scope
                   else learning.remove(db, number))
    if not removed:
        print(f"error: there is no {what} {shown} "
              "(see `ngo-faq-bot learned list`)", file=sys.stderr)
        return 1
    print(f"removed {what} {shown}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from bot import learning
    from bot.config import load_config
    from bot.storage import Database

    config = load_config(args.config)
    with Database(config.database_url, create=False) as db:
        print(learning.export_yaml(learning.listing(db, config.learning.min_votes)), end="")
    return 0


def run_learn(args: argparse.Namespace) -> int:
    from bot import learning
    from bot.config import load_config
    from bot.evaluate import load_cases
    from bot.storage import Database

    config = load_config(args.config)
    faq = load_or_report(Path(args.faq) if args.faq else config.faq_path)
    if faq is None:
        return 1
    try:
        cases = load_cases(args.cases)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    unknown = sorted({c.expect for c in cases if c.expect and faq.get(c.expect) is None})
    if unknown:
        ids = [entry.id for entry in faq.entries]
        named = ", ".join(f"{u} (did you mean {close[0]}?)" if (
            close := difflib.get_close_matches(u, ids, 1, 0.8)) else u for u in unknown)
        print(f"error: {args.cases}: no FAQ entry {named} in {len(faq)} entries of the FAQ; "
              "correct the ids, or pass the FAQ the cases were written for with --faq",
              file=sys.stderr)
        return 1
    with Database(config.database_url) as db:
        learned, handed_on, taken_back, contradicting = learning.learn_cases(
            db, cases, config.learning.similarity)
    in_scope = sum(c.expect is not None for c in cases)
    print(f"learned {learned} question(s) of {in_scope} with an entry and "
          f"{handed_on} of {len(cases) - in_scope} without one (out of scope)")
    if taken_back:
        print(f"took back {taken_back} label(s) an earlier learn gave the same questions")
    if contradicting:
        print(f"left out {len(contradicting)} case(s) asking the same question as another "
              "with another answer; correct the file and run learn again:", file=sys.stderr)
        for case in contradicting[:CONTRADICTIONS_SHOWN]:
            print(f"  {case.expect or '(out of scope)'}: {case.question[:100]}",
                  file=sys.stderr)
        if len(contradicting) > CONTRADICTIONS_SHOWN:
            print(f"  ... and {len(contradicting) - CONTRADICTIONS_SHOWN} more", file=sys.stderr)
    return 0

