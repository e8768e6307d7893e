"""A database of its own on the local PostgreSQL server, for the tests and the benchmarks.

The server is the one on 127.0.0.1:5432 with trust authentication (database
``test``); ``TEST_POSTGRES_URL`` points elsewhere. Each user of it (a test session,
a benchmark run) gets a fresh database, dropped afterwards, so runs never see each
other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

SERVERS = [os.environ["TEST_POSTGRES_URL"]] if os.environ.get("TEST_POSTGRES_URL") else [
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
]


class Unreachable(Exception):
    """No PostgreSQL server answered; the message says what each one said."""


@contextmanager
def scratch_database(prefix: str) -> Iterator[URL]:
    """A new database named ``prefix`` + a random suffix, dropped on leaving.

    Raises :class:`Unreachable` when no server in :data:`SERVERS` answers."""
    errors = []
    for candidate in SERVERS:
        admin = create_engine(candidate, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text("SELECT 1"))
            break
        except OperationalError as exc:
            errors.append(str(exc).splitlines()[0])
            admin.dispose()
    else:
        raise Unreachable("; ".join(errors))
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(candidate).set(database=name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def refuse_once(url: str, name: str, event: str, *, when: str = "true",
                error: str = "query_canceled") -> None:
    """PostgreSQL refuses the first ``event`` (``"INSERT ON inbox"``) for which ``when``
    holds (a condition on NEW and OLD) with the error code ``error`` (by default a
    statement cancelled, as at ``statement_timeout``); the next ones pass. A sequence
    counts the refusals, as its count survives the rollback. ``name`` names the trigger."""
    statements = [
        f"CREATE SEQUENCE {name}_count",
        f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF ({when}) AND nextval('{name}_count') = 1 THEN
                RAISE EXCEPTION 'refused once' USING ERRCODE = '{error}';
              END IF;
              RETURN NEW;
            END $$""",
        f"CREATE TRIGGER {name} BEFORE {event} FOR EACH ROW EXECUTE FUNCTION {name}()",
    ]
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()
