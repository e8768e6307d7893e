"""Alembic environment: run on the connection :class:`bot.storage.Database` hands over."""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the migrations through bot.storage.Database.migrate()")

context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
