"""Running the real bot (Application + Assistant) against the Bot API test server."""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path

from telegram.ext import Application

from bot.config import Config, MatchingConfig, Thresholds, WebhookConfig, load_config
from bot.conversation import Assistant
from botapi.server import BotApiServer
from handlers.app import Worker, build_application, start, stop

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_config(server: BotApiServer, database: Path | str, *,
                webhook_secret: str | None = None) -> Config:
    """The project's config.yaml, on a test database, talking to ``server``.

    ``database`` is a SQLite file or a database URL. With ``webhook_secret``
    the bot runs in webhook mode on a free local port, at a public https address
    that ``server``'s reverse proxy passes on to that port.
    """
    url = database if isinstance(database, str) else f"sqlite:///{database}"
    config = load_config(PROJECT_ROOT / "config.yaml", environ={
        "TELEGRAM_BOT_TOKEN": server.token, "DATABASE_URL": url,
    })
    telegram = dataclasses.replace(config.telegram, api_base_url=server.base_url)
    if webhook_secret is not None:
        port = free_port()
        server.proxied[f"bot-{port}.example.org"] = port
        telegram = dataclasses.replace(telegram, mode="webhook", webhook=WebhookConfig(
            listen="127.0.0.1", port=port, url=f"https://bot-{port}.example.org/telegram/hook",
            secret_token=webhook_secret))
    return dataclasses.replace(config, telegram=telegram)


def offering(matching: MatchingConfig) -> MatchingConfig:
    """``matching`` without the model, set (as an admin can in config.yaml) to offer the
    first entries for any question it finds some (answering only what it is sure of, or
    has the very terms of a phrasing of): for tests of what people's picks do, whose
    questions must stay choices whatever the calibration (bot/data/calibration.json)."""
    return dataclasses.replace(matching, embedding="none",
                               without_model=Thresholds(answer=99, suggest=1))


class RunningBot:
    """The Assistant and the Application, started the way ``ngo-faq-bot run`` starts them
    (as ``worker`` of several sharing one database, with ``--worker``)."""

    def __init__(self, config: Config, worker: Worker = Worker()) -> None:
        self.config = config
        self.worker = worker
        self.brain: Assistant | None = None
        self.application: Application | None = None

    async def start(self) -> RunningBot:
        self.brain = Assistant.open(self.config)
        self.application = build_application(self.config, self.brain, self.worker)
        await start(self.application, self.config, poll_timeout=1)
        return self

    async def stop(self) -> None:
        if self.application is not None:
            await stop(self.application)
        if self.brain is not None:
            self.brain.close()
        self.application = None
        self.brain = None
