"""The ``ngo-faq-bot`` command line: one sub-module per group of subcommands.

Each sub-module has ``register(subparsers)``, which adds its subcommands and
sets ``handler`` (a function taking the parsed arguments and returning the
exit code) on each of them.
"""

from __future__ import annotations

import argparse
import io
import os
import sys

# numpy's OpenBLAS starts a thread per core when numpy is imported, and the threads
# spin waiting for work: a tenth of a second of CPU for every command that matches a
# question, for products of a few hundred rows that one thread does in microseconds.
# Set before anything imports numpy; a value from the environment wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bot.cli import admin, chat, faq, learning, registry  # noqa: E402
from bot.cli.lines import shown_on_terminals  # noqa: E402

# Errors a person can fix, printed as one line. Each lives in a module that only
# some commands import (the database's costs a third of a second), so they are
# looked up among the modules loaded rather than imported for every command.
_PERSON_ERRORS = (("bot.config", "ConfigError"), ("bot.storage", "DatabaseUnavailable"))


def _for_a_person(exc: Exception) -> bool:
    kinds = tuple(getattr(sys.modules[module], name) for module, name in _PERSON_ERRORS
                  if module in sys.modules)
    return isinstance(exc, kinds)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ngo-faq-bot",
        description="FAQ and registry bot for the Agency for the Support of Civil Society (ASCS).",
    )
    parser.add_argument("--config", metavar="PATH", default=None,
                        help="configuration file (default: config.yaml of the project)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (faq, registry, chat, admin, learning):
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    shown_on_terminals()
    args = build_parser().parse_args(argv)
    if isinstance(sys.stdin, io.TextIOWrapper):  # what is not UTF-8: see cli.lines.readable
        sys.stdin.reconfigure(errors="surrogateescape")
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if not _for_a_person(exc):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
