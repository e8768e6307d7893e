"""FAQ subcommands: ``faq check``, ``ask`` and ``eval``.

* ``faq check [PATH]`` validates a FAQ file or folder and lists every problem.
* ``ask [QUESTION]`` shows what the bot would do with a question (or with each
  line of stdin), with scores; ``--json`` prints one JSON object a line.
* ``eval --cases FILE`` measures answer quality on JSON-lines cases and ends
  with the four figures of the bench README.

``ask`` and ``eval`` match with the phrasings and out-of-scope questions learned in
the configured database (:mod:`bot.learning`); ``--no-learned`` ignores them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli import lines

if TYPE_CHECKING:  # imported where they are used, so that --help starts at once
    from bot.evaluate import Outcome
    from bot.faq import Faq, Problem
    from bot.matcher import Decision, FaqMatcher
    from bot.text import Message


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``faq check``, ``ask`` and ``eval``."""
    faq = subparsers.add_parser("faq", help="manage the FAQ files",
                                description="Manage the FAQ files.")
    faq_commands = faq.add_subparsers(dest="faq_command", required=True, metavar="COMMAND")
    check = faq_commands.add_parser(
        "check", help="validate FAQ files and list every problem",
        description="Validate a FAQ file or folder (default: the faq path of the config). "
                    "Prints every problem with its file and line; exit status 1 if any.")
    check.add_argument("path", nargs="?", metavar="PATH", help="a FAQ YAML file or folder")
    check.set_defaults(handler=run_check)

    ask = subparsers.add_parser(
        "ask", help="show what the bot would answer",
        description="Show the bot's decision (answer, suggest or escalate) and scores for a "
                    "question, or for each line of a pipe or file on standard input when no "
                    "question is given.")
    ask.add_argument("question", nargs="?", metavar="QUESTION")
    ask.add_argument("--faq", metavar="PATH", help="FAQ file or folder (default: from config)")
    ask.add_argument("--json", action="store_true", help="print one JSON object a line")
    ask.add_argument("--no-learned", action="store_true",
                     help="ignore the phrasings learned in the configured database")
    ask.set_defaults(handler=run_ask)

    ev = subparsers.add_parser(
        "eval", help="measure answer quality on test cases",
        description="Decide every case of a JSON-lines file ({\"q\": ..., \"expect\": id or "
                    "null}) and print answered right, reached, wrong answers and "
                    "out-of-scope handed on.")
    ev.add_argument("--faq", metavar="PATH", help="FAQ file or folder (default: from config)")
    ev.add_argument("--cases", metavar="FILE", required=True, help="JSON-lines cases")
    ev.add_argument("--verbose", action="store_true", help="list the failing cases")
    ev.add_argument("--no-learned", action="store_true",
                    help="ignore the phrasings learned in the configured database")
    ev.set_defaults(handler=run_eval)


def _faq_path(args: argparse.Namespace, given: str | None) -> Path:
    from bot.config import load_config

    return Path(given) if given else load_config(args.config).faq_path


def _configured(args: argparse.Namespace, path: Path) -> bool:
    """Whether ``path`` is the FAQ the configuration names (a file the bot reads whatever
    its name)."""
    from bot.config import ConfigError, load_config

    try:
        return load_config(args.config).faq_path.resolve() == path.resolve()
    except (ConfigError, OSError):
        return False


def load_or_report(path: Path) -> Faq | None:
    """The FAQ, or None after printing its problems to stderr."""
    from bot.faq import FaqError, load_faq

    try:
        return load_faq(path)
    except FaqError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"error: the FAQ at {path} has {len(exc.problems)} problem(s); "
              "run `ngo-faq-bot faq check` for details", file=sys.stderr)
        return None


def run_check(args: argparse.Namespace) -> int:
    from bot.faq import FAQ_SUFFIXES, Problem, check_faq

    path = _faq_path(args, args.path)
    faq, problems = check_faq(path)
    if faq is not None and path.is_file():
        problems = _clashes(path, {entry.id for entry in faq.entries})
        if path.suffix.lower() not in FAQ_SUFFIXES and not _configured(args, path):
            # In a FAQ folder (the bot reads a file of another name only when configured).
            base = path.stem if Path(path.stem).suffix.lower() in FAQ_SUFFIXES else (
                f"{path.stem}.yaml")
            problems.append(Problem(str(path), 0, None, None, (
                "the bot reads only the files of a FAQ folder whose names end in .yaml or "
                f".yml: rename it {base}")))
        faq = None if problems else faq
    if path.is_dir():
        for unread in sorted(p.name for p in path.iterdir() if p.is_file() and (
                ".yaml" in p.name.lower() or ".yml" in p.name.lower())
                and p.suffix.lower() not in FAQ_SUFFIXES):
            print(f"note: {path / unread} is not read (the bot reads only files whose names "
                  "end in .yaml or .yml)")
    if faq is None:
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s) found; the FAQ was not loaded.", file=sys.stderr)
        return 1
    print(f"OK: {len(faq)} entries in {len(faq.sources)} file(s), languages "
          f"{', '.join(faq.languages)}, {faq.phrasing_count} phrasings.")
    return 0


def _clashes(path: Path, ids: set[str]) -> list[Problem]:
    """The ``ids`` of the file ``path`` that another FAQ file in its folder uses too: the
    bot loads the folder, and refuses it then."""
    from bot.faq import check_faq, faq_files

    beside = faq_files(path.parent)
    if path not in beside or len(beside) < 2:
        return []
    _, problems = check_faq(path.parent)
    return [p for p in problems if p.entry_id in ids and p.message.startswith("duplicate id")]


def _matcher(args: argparse.Namespace) -> FaqMatcher | None:
    """The matcher of the FAQ, with what the configured database has learned (unless
    ``--no-learned``); ``args.learned`` is set to how many learned phrasings it uses."""
    from bot import learning
    from bot.config import load_config
    from bot.matcher import FaqMatcher

    config = load_config(args.config)
    faq = load_or_report(Path(args.faq) if args.faq else config.faq_path)
    if faq is None:
        return None
    learned, out_of_scope = (([], []) if getattr(args, "no_learned", False) else
                             learning.learned_at(config.database_url,
                                                 config.learning.min_votes))
    args.learned = len(learned)
    args.out_of_scope = len(out_of_scope)
    return FaqMatcher.configured(faq, config.matching, learned, out_of_scope)


def decision_json(decision: Decision) -> dict[str, object]:
    """The ``ask --json`` object of one decision."""
    top = decision.top
    return {
        "question": decision.question,
        "lang": decision.lang,
        "decision": decision.decision,
        "id": top.entry.id if top else None,
        "score": top.score if top else 0,
        "suggestions": [m.entry.id for m in decision.suggestions],
    }


def _describe(decision: Decision, message: Message) -> str:
    """A few lines a person can read."""
    from bot.phrases import plain, say
    from bot.text import smalltalk

    lines = [f"? {decision.question}"]
    talk = smalltalk(message)
    if talk:
        lines.append(f"  small talk ({talk}): the bot replies "
                     f"\"{plain(say(decision.lang, talk))}\"")
        return "\n".join(lines)
    top = decision.top
    score = f"{top.score:.1f}" if top else "-"
    why = f"; {decision.why}" if decision.why else ""
    lines.append(f"  {decision.decision.upper()}  (lang {decision.lang}, top score {score}{why})")
    if decision.decision == "answer" and top:
        lines.append(f"  -> {top.entry.id}: {top.entry.question_in(decision.lang)}")
        answer = top.entry.answer_in(decision.lang)
        lines.append(f"     {answer[:160]}{'...' if len(answer) > 160 else ''}")
    elif decision.decision == "suggest":
        for match in decision.suggestions:
            lines.append(f"  {match.score:5.1f}  {match.entry.id}: "
                         f"{match.entry.question_in(decision.lang)}")
    else:
        if top:
            lines.append(f"  (closest: {top.entry.id} {top.score:.1f})")
        lines.append("  -> offered to staff")
    return "\n".join(lines)


def run_ask(args: argparse.Namespace) -> int:
    try:
        questions = lines.items(args.question, "question",
                                'ngo-faq-bot ask "Si regjistrohet një shoqatë?"')
    except lines.NothingToRead as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    matcher = _matcher(args)
    if matcher is None:
        return 1
    from bot.text import read

    for question in questions:
        message = read(question)
        decision = matcher.decide(message)
        if args.json:
            print(json.dumps(decision_json(decision), ensure_ascii=False), flush=True)
        else:
            print(_describe(decision, message), flush=True)
    return 0


def _failure(outcome: Outcome) -> str:
    d = outcome.decision
    got = ", ".join(f"{m.entry.id} {m.score:.0f}" for m in d.suggestions) or (
        f"closest {d.top.entry.id} {d.top.score:.0f}" if d.top else "no match")
    return (f"  expect {outcome.case.expect or '(staff)'}: {d.decision} [{got}]\n"
            f"      {outcome.case.question}")


def run_eval(args: argparse.Namespace) -> int:
    from bot.evaluate import evaluate, format_figures, load_cases

    matcher = _matcher(args)
    if matcher is None:
        return 1
    try:
        cases = load_cases(args.cases)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    unknown = sorted({c.expect for c in cases if c.expect and matcher.faq.get(c.expect) is None})
    if unknown:
        shown = ", ".join(unknown[:10]) + (f" and {len(unknown) - 10} more"
                                            if len(unknown) > 10 else "")
        print(f"error: {args.cases} expects {len(unknown)} id(s) that the FAQ does not have: "
              f"{shown}; is it the FAQ these cases were written for (--faq)?", file=sys.stderr)
        return 1
    report = evaluate(matcher, cases)
    learned = (f" and {args.learned} learned phrasings, {args.out_of_scope} out-of-scope "
               "questions (--no-learned ignores them)"
               if args.learned or args.out_of_scope else "")
    print(f"{len(cases)} cases ({report.in_scope} in scope, {report.out_of_scope} out of "
          f"scope) on {len(matcher.faq)} FAQ entries{learned}")
    if args.verbose:
        failures = [o for o in report.outcomes if o.failed]
        print(f"failing cases ({len(failures)}):")
        for outcome in failures:
            print(_failure(outcome))
    print("\n".join(format_figures(report)))
    return 0
