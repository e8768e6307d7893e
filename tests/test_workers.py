"""Several workers on one PostgreSQL database: every update handled once, every message
sent once, and a worker killed in the middle of its work loses nothing.

The workers are real ``ngo-faq-bot run --worker I/N`` processes, started separately,
long polling the Bot API test server; one of them is killed with SIGKILL. The
supervisor (``ngo-faq-bot run --workers 2``) is run as an admin runs it: it starts a
killed worker again, later each time, and stops everything when one cannot start.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from botapi import BotApiServer
from botapi.harness import make_config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from pgserver import refuse_once
from staffchat import BESA, LOADED, STAFF_CHAT, ask_staff, card_of, deliveries, staff_says
from test_chat import CLI, environment
from test_inbox import AGENCY_EMAIL, _config_file, _until, delivered

from bot.conversation import Assistant
from bot.storage import Database
from handlers.app import Worker, build_application, start, stop


@pytest.fixture
def postgres_url(postgres_server_url: URL) -> Iterator[str]:
    """A migrated schema of its own on the PostgreSQL server."""
    schema = f"w{os.getpid()}_{time.monotonic_ns()}"
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = postgres_server_url.update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    Database(rendered).close()
    try:
        yield rendered
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


async def _worker(config: Path, tmp_path: Path, token: str, url: str, worker: str
                  ) -> asyncio.subprocess.Process:
    log = tmp_path / f"worker-{worker.replace('/', '-')}-{time.monotonic_ns()}.log"
    with log.open("wb") as handle:
        return await asyncio.create_subprocess_exec(
            CLI, "--config", str(config), "run", "--worker", worker,
            env={**environment(tmp_path, TELEGRAM_BOT_TOKEN=token), "DATABASE_URL": url},
            stdout=asyncio.subprocess.DEVNULL, stderr=handle)


def _claimed_by(url: str, update_id: int) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT claimed_by FROM inbox WHERE update_id = :u"),
                                      {"u": update_id}).scalar()
    finally:
        engine.dispose()


async def test_two_workers_answer_everyone_once_and_a_killed_one_loses_nothing(
        api: BotApiServer, tmp_path: Path, postgres_url: str) -> None:
    api.members[STAFF_CHAT] = {BESA: "member"}
    config = _config_file(api.base_url, tmp_path, staff={
        "chat_id": STAFF_CHAT, "retry_interval": "1s", "send_timeout": 3},
        telegram={"worker_lease": "2s"}, registry={"sample_csv": ""})
    workers = {name: await _worker(config, tmp_path, api.token, postgres_url, name)
               for name in ("0/2", "1/2")}
    try:
        await api.wait_for("setMyCommands", timeout=60)
        people = [api.user(6000 + n) for n in range(12)]
        since = api.mark()
        for person in people:
            await api.send_text(person, "/contact")
        for person in people:
            await api.replies(person["id"], since=since, timeout=60)
        ana = api.user(6100, "Ana")
        number = await ask_staff(api, ana)
        card = await card_of(api, number)
        # The worker that takes the answer hangs: the check of Besa hangs past the client's
        # timeout, and so does every try again...
        api.fail("getChatMember", 1000, delay=30)
        answer = await staff_says(api, BESA, "Po, dokumentet i dorëzoni në gjykatë.", card)
        await _until(lambda: _claimed_by(postgres_url, answer["update_id"]), "it is taken", 60)
        await _until(lambda: bool(api.failed), "it is being handled", 60)
        holder = _claimed_by(postgres_url, answer["update_id"])
        assert holder in ("worker-0", "worker-1")
        killed = workers["0/2" if holder == "worker-0" else "1/2"]
        killed.kill()  # ...and is killed
        await killed.wait()
        api.failures.clear()
        await _until(lambda: deliveries(api, ana["id"], number), "another worker takes over", 90)
        await asyncio.sleep(2)
    finally:
        for process in workers.values():
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in workers.values():
            await asyncio.wait_for(process.wait(), 30)
    for person in people:
        assert len(delivered(api, person["id"], since, AGENCY_EMAIL)) == 1
    [delivery] = deliveries(api, ana["id"], number)
    assert "dokumentet i dorëzoni" in delivery.text
    logs = "".join(p.read_text() for p in tmp_path.glob("worker-*.log"))
    assert "worker 1 of 2" in logs and "worker 2 of 2" in logs
    assert "Traceback" not in logs, logs


@pytest.mark.parametrize("count", [1, 2], ids=["one worker", "two workers"])
async def test_an_answered_message_the_database_once_refused_to_mark_handled_holds_up_nothing(
        api: BotApiServer, postgres_url: str, count: int) -> None:
    base = make_config(api, postgres_url)
    config = dataclasses.replace(base, telegram=dataclasses.replace(
        base.telegram, worker_lease=timedelta(seconds=2)))
    brain = Assistant.open(config)
    application = build_application(config, brain, Worker(0, count))  # its chats: even ids
    await start(application, config, poll_timeout=1)
    try:
        # The first try to mark an update handled is refused.
        refuse_once(postgres_url, "refuse_one_done", "UPDATE ON inbox",
                    when="NEW.handled_at IS NOT NULL AND OLD.handled_at IS NULL")
        ana = api.user(6200)
        since = api.mark()
        await api.send_text(ana, "/contact")
        [reply] = await api.replies(ana["id"], since=since, timeout=LOADED)
        assert AGENCY_EMAIL in reply.text
        # Beyond a few leases: a chat frozen by the claim kept on the first never answers.
        later = api.mark()
        await api.send_text(ana, "/help")
        await api.wait_for("sendMessage", since=later, timeout=LOADED, where=lambda c: (
            c.chat_id == ana["id"] and c.result is not None and "/contact" in c.text))
        texts = [c.text for c in api.sent_to(ana["id"], since) if c.result is not None]
        assert len(texts) == 2, texts  # one answer each, and no "something went wrong"
    finally:
        await stop(application)
        brain.close()


def test_several_workers_need_postgresql(tmp_path: Path) -> None:
    import subprocess

    result = subprocess.run([CLI, "run", "--workers", "3"], capture_output=True, text=True,
                            timeout=60, env=environment(tmp_path, TELEGRAM_BOT_TOKEN="1:abc"))
    assert result.returncode == 2
    assert "several workers need a PostgreSQL database" in result.stderr
    assert "Traceback" not in result.stderr


# --- the supervisor: `ngo-faq-bot run --workers N` ----------------------------------------

class Supervisor:
    """``ngo-faq-bot run --workers 2``; its stderr, where its workers log too, read a line
    at a time."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    @classmethod
    async def start(cls, config: Path, tmp_path: Path, token: str, url: str) -> Supervisor:
        return cls(await asyncio.create_subprocess_exec(
            CLI, "--config", str(config), "run", "--workers", "2",
            env={**environment(tmp_path, TELEGRAM_BOT_TOKEN=token), "DATABASE_URL": url},
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE))

    async def line(self, containing: str, timeout: float = 60) -> str:
        """The next line that contains ``containing``."""
        async def found() -> str:
            assert self.process.stderr is not None
            while line := (await self.process.stderr.readline()).decode():
                self.lines.append(line)
                if containing in line:
                    return line
            raise AssertionError(f"no {containing!r} in:\n{self.log}")
        return await asyncio.wait_for(found(), timeout)

    async def end(self, timeout: float) -> int:
        """Its exit code, and the rest of its stderr read, within ``timeout`` seconds."""
        assert self.process.stderr is not None
        rest = await asyncio.wait_for(self.process.stderr.read(), timeout)
        self.lines += rest.decode().splitlines(keepends=True)
        code = await asyncio.wait_for(self.process.wait(), timeout)
        return code

    def kill(self) -> None:
        """After a failed test: it and the workers it left, killed."""
        if self.process.returncode is None:
            self.process.kill()
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def pids(self) -> list[int]:
        """The workers it started."""
        return [int(line.rsplit("pid ", 1)[1].rstrip(")\n")) for line in self.lines
                if " started (pid " in line]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_a_worker_that_cannot_start_stops_the_others_and_the_supervisor_exits_2(
        api: BotApiServer, tmp_path: Path, postgres_url: str) -> None:
    with socket.socket() as taken:  # another program listens on the webhook's port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        api.proxied["bot.example.org"] = port
        config = _config_file(api.base_url, tmp_path, registry={"sample_csv": ""}, telegram={
            "mode": "webhook", "webhook": {"listen": "127.0.0.1", "port": port,
                                           "url": "https://bot.example.org/hook"}})
        supervisor = await Supervisor.start(config, tmp_path, api.token, postgres_url)
        try:
            code = await supervisor.end(90)
        finally:
            supervisor.kill()
    log = supervisor.log
    assert code == 2, log
    assert log.count("cannot listen for the webhook's updates") == 1, log  # worker 0's error
    assert log.count("worker 0 started") == 1, log  # not started again
    assert "worker 0 cannot start (exit code 2, see above); stopping the others\n" in log
    assert "Traceback" not in log
    assert all(_gone(pid) for pid in supervisor.pids())  # worker 1 stopped too


async def test_sigterm_while_a_dead_worker_waits_to_start_again_starts_nothing(
        api: BotApiServer, tmp_path: Path, postgres_url: str) -> None:
    config = _config_file(api.base_url, tmp_path, registry={"sample_csv": ""})
    supervisor = await Supervisor.start(config, tmp_path, api.token, postgres_url)
    try:
        for delay in (1, 2):  # killed again as soon as it starts: it waits twice as long
            started = await supervisor.line("worker 1 started")
            os.kill(int(started.rsplit("pid ", 1)[1].rstrip(")\n")), signal.SIGKILL)
            await supervisor.line(f"worker 1 ended (killed by SIGKILL); starting it again in "
                                  f"{delay} s")
        supervisor.process.send_signal(signal.SIGTERM)  # within those 2 s
        code = await supervisor.end(30)
    finally:
        supervisor.kill()
    log = supervisor.log
    assert code == 0, log
    assert log.count("worker 1 started") == 2, log  # not a third time, after the stop
    assert "Traceback" not in log
    assert all(_gone(pid) for pid in supervisor.pids())


async def test_a_worker_that_fails_to_start_again_is_started_again(
        api: BotApiServer, tmp_path: Path, postgres_url: str) -> None:
    """Only a worker's first start can stop them all: one that ran, and fails when it is
    started again (here an admin's half-edited config.yaml), is started again until it
    runs (a database restarting gives the same exit code)."""
    config = _config_file(api.base_url, tmp_path, registry={"sample_csv": ""})
    good = config.read_text(encoding="utf-8")
    supervisor = await Supervisor.start(config, tmp_path, api.token, postgres_url)
    try:
        started = await supervisor.line("worker 1 started")
        async with asyncio.timeout(60):  # both have read the config and asked Telegram
            while len(api.calls_of("getMe")) < 2:
                await asyncio.sleep(0.1)
        config.write_text(good + "remind_afer: 1h\n", encoding="utf-8")  # a typo
        os.kill(int(started.rsplit("pid ", 1)[1].rstrip(")\n")), signal.SIGKILL)
        await supervisor.line("worker 1 ended (exit code 2); starting it again in 2 s")
        config.write_text(good, encoding="utf-8")  # mended
        await supervisor.line("worker 1 started", timeout=30)  # its third start
        supervisor.process.send_signal(signal.SIGTERM)
        code = await supervisor.end(30)
    finally:
        supervisor.kill()
    log = supervisor.log
    assert code == 0, log
    assert log.count("worker 1 started") == 3, log
    assert "remind_afer" in log and "worker 1 cannot start" not in log, log
    assert all(_gone(pid) for pid in supervisor.pids())
