"""The ``ngo-faq-bot`` command line: one sub-module per group of subcommands.

Each sub-module has ``register(subparsers)``, which adds its subcommands and
sets ``handler`` (a function taking the parsed arguments and returning the
exit code) on each of them.
"""

from __future__ import annotations

import argparse
import sys

from bot.cli import admin, chat, faq, learning, registry
from bot.config import ConfigError
from bot.storage import DatabaseUnavailable


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
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (ConfigError, DatabaseUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
