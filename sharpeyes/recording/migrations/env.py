"""Alembic environment of the recording store (its own version table: it may share a database with
the ticket store)."""

from __future__ import annotations

from alembic import context

from sharpeyes.recording.migrations.env_name import VERSION_TABLE
from sharpeyes.recording.models import Base

config = context.config


def run() -> None:
    connection = config.attributes["connection"]
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                      version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()


run()
