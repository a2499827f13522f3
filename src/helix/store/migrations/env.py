"""Alembic environment of the app store.

Run in code by :func:`helix.store.db.open_store`, which hands over an open
connection in ``config.attributes["connection"]``. For authoring a new revision
from a shell, point ``HELIX_DATABASE_URL`` at a database that is at head, and::

    python -c "from helix.store.db import alembic_config; from alembic import command; \\
        command.revision(alembic_config(), 'what changed', autogenerate=True)"

(``alembic_config()`` without a connection makes this file connect to that URL.)
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine

from helix.store.db import VERSION_TABLE, engine_url
from helix.store.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        compare_type=True,
        # SQLite cannot ALTER most things: let autogenerate write batch operations
        render_as_batch=connection.dialect.name == "sqlite",
    )


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("HELIX_DATABASE_URL")
    if not url:
        raise RuntimeError("no database: set HELIX_DATABASE_URL or pass a connection")
    return engine_url(url)


def run_migrations_offline() -> None:
    """Write the SQL to stdout instead of running it (``alembic upgrade --sql``)."""
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the connection given by the caller, or on a new one."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url())
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
