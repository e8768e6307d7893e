"""``ngo-faq-bot run`` (the Telegram bot) and ``ngo-faq-bot chat`` (the same bot in a terminal).

The terminal chat reads standard input line by line, so it works in a pipe
as well as by hand: a line is a question, ``/command args`` is a command and
a number presses one of the buttons of the last answer.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import TYPE_CHECKING, TextIO

from bot import phrases
from bot.cli import workers
from bot.cli.lines import readable
from bot.phrases import plain

if TYPE_CHECKING:  # imported where they are used, so that --help starts at once
    from bot.choices import Button
    from bot.config import Config
    from bot.conversation import Asker, Assistant, Reply

TERMINAL_USER_ID = 0  # the person at the terminal, as stored for /lang

NO_TOKEN_HELP = """\
No Telegram bot token: starting the terminal chat instead.

To connect the bot to Telegram:
  1. open https://t.me/BotFather in Telegram and send /newbot;
  2. choose a name and a username; BotFather answers with a token like 123456:ABC-DEF...;
  3. start the bot with the token in the environment (never in config.yaml):
       TELEGRAM_BOT_TOKEN=123456:ABC-DEF... ngo-faq-bot run
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``run`` and ``chat``."""
    run_parser = subparsers.add_parser(
        "run", help="start the Telegram bot (the terminal chat when there is no token)",
        description="Start the Telegram bot: long polling, or a webhook when telegram.mode is "
                    "'webhook' in the configuration. The token comes from TELEGRAM_BOT_TOKEN; "
                    "without it the terminal chat starts instead.")
    run_parser.add_argument(
        "--workers", type=int, default=1, metavar="N",
        help="run N bot processes on one PostgreSQL database (default 1)")
    run_parser.add_argument("--worker", default=None, metavar="I/N",
                            help="run as worker I of N started separately (0 receives updates)")
    run_parser.set_defaults(handler=run)
    chat_parser = subparsers.add_parser(
        "chat", help="talk to the bot in the terminal, with the same answers as in Telegram",
        description="Talk to the bot in the terminal. Type a question, a /command, or the "
                    "number of a button. Reads standard input line by line (Ctrl-D to quit).")
    chat_parser.add_argument("--lang", choices=phrases.LANGUAGES, default=None,
                             help="the language to start in (default: from $LANG, else sq)")
    chat_parser.set_defaults(handler=chat)


def run(args: argparse.Namespace) -> int:
    from bot.config import load_config

    config = load_config(args.config)
    try:  # checked with a token or without: a typo is named, not ignored
        index, count = workers.parse_worker(args.worker) if args.worker else (0, args.workers)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if count < 1:
        print("error: --workers must be 1 or more", file=sys.stderr)
        return 2
    if not config.telegram.token:
        if count > 1 or args.worker is not None:  # not a terminal chat that ignores them
            print("error: workers serve Telegram and need its token (TELEGRAM_BOT_TOKEN); "
                  "without one, run starts the terminal chat, alone", file=sys.stderr)
            return 2
        print(NO_TOKEN_HELP, file=sys.stderr)
        return _chat(config, None)
    if count > 1 and not config.database_url.startswith("postgresql"):
        print("error: several workers need a PostgreSQL database "
              "(DATABASE_URL=postgresql+psycopg://...); SQLite allows one", file=sys.stderr)
        return 2
    if count > 1 and args.worker is None:
        return workers.supervise(count, args.config)
    from handlers.app import Worker  # the Telegram layer, only when it is needed
    from handlers.app import run as run_telegram

    brain = _open(config)
    if brain is None:
        return 2
    try:
        return run_telegram(config, brain, Worker(index, count))
    finally:
        brain.close()


def chat(args: argparse.Namespace) -> int:
    from bot.config import load_config

    return _chat(load_config(args.config), args.lang)


def _open(config: Config) -> Assistant | None:
    """The Assistant, or None after explaining why the FAQ or the registry cannot be read."""
    from bot.conversation import Assistant
    from bot.faq import FaqError
    from bot.registry.importer import RegistryImportError

    try:
        return Assistant.open(config)
    except FaqError as exc:
        print(f"error: the FAQ in {config.faq_path} has problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
    except RegistryImportError as exc:
        print(f"error: cannot import the sample registry: {exc}", file=sys.stderr)
    return None


def _chat(config: Config, lang: str | None) -> int:
    from bot.conversation import Asker

    # Staff answer in Telegram, which the terminal is not: no tickets from here.
    config = dataclasses.replace(config, staff=dataclasses.replace(config.staff, chat_id=None))
    brain = _open(config)
    if brain is None:
        return 2
    try:
        asker = Asker(TERMINAL_USER_ID, lang or (os.environ.get("LANG") or "").split(".")[0])
        if lang:  # chosen as with /lang: a language chosen before would win over the app's
            brain.set_language(asker, lang)
        Terminal(brain, asker, sys.stdout).converse(sys.stdin)
    finally:
        brain.close()
    return 0


class Terminal:
    """One conversation in a terminal: prints replies, numbers their buttons.

    It does what the Telegram bot does, with the commands that only the Telegram
    layer has (``/forget``) done here, and says plainly what needs Telegram (``/ask``
    hands a question to the staff, who answer in Telegram).
    """

    def __init__(self, brain: Assistant, asker: Asker, out: TextIO) -> None:
        from bot.faq_admin import FaqAdmin

        self.brain = brain
        self.asker = asker
        self.out = out
        self.rows: list[tuple[Button, ...]] = []
        """The buttons under the last replies shown, numbered in order from 1."""
        self.faq_admin = FaqAdmin.for_assistant(brain)
        """The FAQ files, read again when they change (an admin trying an edit out here),
        as the Telegram bot reads them."""

    def converse(self, lines: TextIO) -> None:
        interactive = lines.isatty()
        self.show(self.brain.start(self.asker))
        while True:
            if interactive:
                self.out.write("> ")
                self.out.flush()
            line = lines.readline()
            if not line:
                return
            self.handle(readable(line).strip())

    def handle(self, line: str) -> None:
        if not line:
            return
        outcome = self.faq_admin.reload_if_changed()
        if outcome is not None:  # what the Telegram bot tells its admins
            self.say(plain(outcome.text(self.lang())) + "\n")
        if line.isascii() and line.isdigit() and self.choices:  # not "²", "٣"
            self.press(int(line))
        elif line.startswith("/"):
            name, _, argument = line[1:].partition(" ")
            name = name.lower()
            if name == "forget":
                self.offer_to_forget()
            elif name == "ask":
                self.say(phrases.raw(self.lang(), "terminal_ask") + "\n")
            else:
                self.show(self.brain.command(self.asker, name, argument))
        else:
            self.brain.settle()
            self.show(self.brain.reply(self.asker, line))

    def lang(self) -> str:
        return self.brain.language(self.asker)

    def offer_to_forget(self) -> None:
        """/forget as in Telegram: a confirmation with two buttons."""
        from bot.choices import Button, Forget
        from bot.conversation import Reply

        lang = self.lang()
        self.show([Reply(phrases.say(lang, "forget_confirm"),
                         ((Button(phrases.raw(lang, "forget_yes"), Forget(lang, confirm=True)),
                           Button(phrases.raw(lang, "forget_no"), Forget(lang, confirm=False))),
                          ))])

    def forget(self, confirm: bool) -> None:
        lang = self.lang()
        if confirm:
            self.brain.forget(self.asker.id)
            self.brain.refresh_learned()  # drops what only this person taught the bot
        self.rows = []
        self.say(phrases.raw(lang, "forget_done" if confirm else "forget_kept") + "\n")

    def press(self, number: int) -> None:
        if not 1 <= number <= len(self.choices):
            self.say(f"({number}? {self.describe_choices()})")
            return
        from bot.choices import Forget

        choice = self.choices[number - 1].choice
        row = self._row_of(number - 1)
        if isinstance(choice, Forget):
            self.forget(choice.confirm)
            return
        pressed = self.brain.press(self.asker, choice)
        if pressed.notice:
            self.say(f"({pressed.notice})")
        if not pressed.valid:
            return
        # As in Telegram, closing takes the pressed row away; the message's other buttons
        # stay ("You also asked"), listed after any new ones.
        kept = [r for i, r in enumerate(self.rows) if i != row] if pressed.close else []
        shown = ([pressed.edit] if pressed.edit is not None else []) + list(pressed.replies)
        if shown:
            self.show(shown)
        elif pressed.close:
            self.rows = []
        if kept:
            start = len(self.choices)
            self.rows.extend(kept)
            self.list_buttons(start)
            self.say("")

    @property
    def choices(self) -> list[Button]:
        return [button for row in self.rows for button in row]

    def describe_choices(self) -> str:
        return f"1-{len(self.choices)}" if self.choices else "-"

    def _row_of(self, index: int) -> int:
        """The row of the ``index``-th button shown (from 0)."""
        for row, buttons in enumerate(self.rows):
            if index < len(buttons):
                return row
            index -= len(buttons)
        raise IndexError(index)

    def show(self, replies: list[Reply]) -> None:
        self.rows = []
        for reply in replies:
            self.say(plain(reply.text))
            shown = len(self.choices)
            self.rows.extend(tuple(row) for row in reply.buttons)
            self.list_buttons(shown)
            self.say("")

    def list_buttons(self, start: int = 0) -> None:
        """Number the buttons shown, from the ``start``-th (from 0)."""
        for number, button in enumerate(self.choices[start:], start=start + 1):
            self.say(f"  [{number}] {button.label}")

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()
