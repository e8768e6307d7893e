"""Fixtures shared by every test module."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from botapi import BotApiServer
from botapi.harness import RunningBot
from pgserver import Unreachable, scratch_database
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from staffchat import BESA, DRITA, STAFF_CHAT

from bot.storage import Database

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# BENCH_DIR in the environment points elsewhere (e.g. from a git worktree).
BENCH_DIR = Path(os.environ.get("BENCH_DIR") or PROJECT_ROOT.parent / "shared" / "bench")


@pytest.fixture
async def api() -> AsyncIterator[BotApiServer]:
    """The Bot API test server on 127.0.0.1, for a bot under test to talk to."""
    async with BotApiServer() as server:
        yield server


@pytest.fixture
def staff_members(api: BotApiServer) -> None:
    """The staff chat (tests/staffchat.py) with its members on ``api``: Besa a member,
    Drita an administrator; anyone else has left it. For a module's tests:
    ``pytestmark = pytest.mark.usefixtures("staff_members")``."""
    api.members[STAFF_CHAT] = {BESA: "member", DRITA: "administrator"}


@pytest.fixture
async def started() -> AsyncIterator[list[RunningBot]]:
    """The bots a test starts (staffchat.start); stopped at its end."""
    bots: list[RunningBot] = []
    yield bots
    for running in bots:
        await running.stop()


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def bench_dir() -> Path:
    """The shared benchmark data, read where it is (never copied into the project)."""
    if not BENCH_DIR.is_dir():
        pytest.skip("../shared/bench is not beside the project")
    return BENCH_DIR


def _unreachable(reason: str) -> None:
    """Skip when PostgreSQL is not there, but fail in CI, where it must be."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL unreachable: {reason}")


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[URL]:
    """A database of its own for this test session on the PostgreSQL server; dropped after."""
    try:
        with scratch_database("ngo_faq_bot_test_") as url:
            yield url
    except Unreachable as exc:
        _unreachable(str(exc))


_schemas = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a fresh schema on PostgreSQL.

    Every test using it (or ``database``) runs once on each.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'bot.db'}"
        return
    server: URL = request.getfixturevalue("postgres_server_url")
    schema = f"t{next(_schemas)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield server.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """The bot's database, migrated to the latest revision, on SQLite and on PostgreSQL."""
    db = Database(database_url)
    try:
        yield db
    finally:
        db.close()
