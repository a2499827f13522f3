"""Engine, sessions and migrations of the app store.

:func:`open_store` is the only way in: it builds the engine for a URL, brings
the schema to the latest Alembic revision (creating a fresh database or
migrating an old one) and returns an :class:`AppStore`. Migrations run in code,
with no ``alembic.ini``: :func:`alembic_config` points Alembic at the
``migrations`` folder shipped inside this package.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from helix.config import redact_url
from helix.errors import ConfigError

__all__ = [
    "AppStore",
    "open_store",
    "alembic_config",
    "engine_url",
    "MIGRATIONS_DIR",
    "VERSION_TABLE",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""The Alembic script directory shipped inside the package."""

VERSION_TABLE = "helix_store_version"
"""Alembic's version table; named for Helix so it never clashes with other schemas."""

_MIGRATION_LOCK_KEY = 0x48454C49  # "HELI": serialises concurrent migrations on PostgreSQL
_SQLITE_BUSY_TIMEOUT_MS = 5000
_ALEMBIC_LOCK = threading.Lock()  # Alembic keeps its running context in module globals


def engine_url(database_url: str) -> str:
    """The SQLAlchemy URL for ``database_url``: PostgreSQL URLs get the psycopg 3 driver."""
    for scheme in ("postgres://", "postgresql://"):
        if database_url.startswith(scheme):
            return "postgresql+psycopg://" + database_url[len(scheme) :]
    return database_url


def _json_default(obj: Any) -> Any:
    """Make the values Helix puts in reports and audit details JSON-serialisable."""
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=str)
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    raise TypeError(f"cannot store a {type(obj).__name__} as JSON")


def _json_dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Per-connection SQLite settings: enforce foreign keys, WAL journal, wait on locks."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")  # first: the next may wait
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")  # in-memory databases answer 'memory'
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, much faster commits
    finally:
        cursor.close()


def _create_engine(database_url: str) -> Engine:
    try:
        url = make_url(engine_url(database_url))
    except ArgumentError as exc:
        raise ConfigError(
            f"not a database URL: {redact_url(database_url)}",
            hint="use sqlite:////absolute/path/app.db or postgresql://user@host:5432/db",
        ) from exc
    kwargs: dict[str, Any] = {"json_serializer": _json_dumps}
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            # one shared in-memory database for every thread (handy in tests)
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (NoSuchModuleError, ArgumentError) as exc:
        raise ConfigError(
            f"unsupported database URL: {redact_url(database_url)} ({exc})",
            hint="the app store runs on SQLite (sqlite:///...) or PostgreSQL (postgresql://...)",
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
    return engine


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the packaged migrations, with no ``alembic.ini``.

    When ``connection`` (a SQLAlchemy ``Connection``) is given, the migrations run
    on it, inside the caller's transaction.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


class AppStore:
    """The app store: an engine plus a transactional session factory.

    Each use case owns its transaction::

        with store.session() as session:
            users.create_user(session, email=..., name=..., role="csm", actor="cli")

    The block commits when it ends normally and rolls back when it raises.
    Objects stay readable after the block (``expire_on_commit=False``).
    """

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        """The SQLAlchemy dialect name: ``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in its own transaction: committed on success, rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    def migrate(self) -> None:
        """Upgrade the schema to the latest revision (a no-op when it is current)."""
        _run_migrations(self.engine, self.url)

    def revision(self) -> str | None:
        """The schema revision the database is at (``None`` before any migration)."""
        with self.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            return ctx.get_current_revision()

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> AppStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"AppStore({self.backend}, {redact_url(self.url)})"


def _upgrade_sqlite(engine: Engine) -> None:
    """Upgrade SQLite in one ``BEGIN IMMEDIATE`` transaction.

    The Python driver would otherwise commit each DDL statement on its own: this
    makes a failed migration leave nothing behind, and makes a second process
    opening the same fresh file wait for the first instead of racing it.
    """
    with engine.connect() as raw:
        conn = raw.execution_options(isolation_level="AUTOCOMMIT")  # we issue BEGIN ourselves
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            command.upgrade(alembic_config(conn), "head")
        except BaseException:
            conn.exec_driver_sql("ROLLBACK")
            raise
        conn.exec_driver_sql("COMMIT")


def _run_migrations(engine: Engine, url: str) -> None:
    with _ALEMBIC_LOCK:
        _run_migrations_locked(engine, url)


def _run_migrations_locked(engine: Engine, url: str) -> None:
    try:
        if engine.dialect.name == "sqlite":
            _upgrade_sqlite(engine)
            return
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # two processes opening a fresh database must not both create the tables
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
            command.upgrade(alembic_config(conn), "head")
    except OperationalError as exc:
        raise ConfigError(
            f"cannot open the app store at {redact_url(url)}: {exc.orig}",
            hint="check HELIX_DATABASE_URL, that the server is running, "
            "and that the data directory is writable",
        ) from exc


def open_store(database_url: str) -> AppStore:
    """Open the app store at ``database_url``, creating or migrating its schema.

    ``postgresql://`` and ``postgres://`` URLs use the psycopg 3 driver. Safe to
    call on an up-to-date database (the upgrade is then a no-op).
    """
    engine = _create_engine(database_url)
    store = AppStore(engine, database_url)
    try:
        store.migrate()
    except BaseException:
        engine.dispose()
        raise
    return store
