"""The ticket store: engine set-up (SQLite WAL or PostgreSQL), sessions and alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.cli import db_url

MIGRATIONS = Path(__file__).parent / "migrations"
# Serialises ticket writers across processes sharing one PostgreSQL database (grouping must see
# every ticket another replica just opened). Any constant works; this one spells "SETK".
PG_WRITE_LOCK = 0x5345544B


class StoreError(Exception):
    """The database cannot be opened or migrated; the message says which and why."""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL: readers never block the writer. synchronous=NORMAL keeps every committed transaction
    # across a process crash (kill -9); only a power loss may drop the last few.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str) -> Engine:
    url = db_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"db: cannot parse database URL {redact(url)!r}") from None
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database or ""
        if db and db != ":memory:" and not db.startswith("file:"):
            try:
                Path(db).parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StoreError(f"db: cannot create directory for {db}: {e.strerror}") from None
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise StoreError(f"db: unsupported database {parsed.get_backend_name()!r} (sqlite or postgresql)")
    return create_engine(url, pool_pre_ping=True)


def redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable>"


class Store:
    def __init__(self, url: str) -> None:
        self.url = db_url(url)
        self.engine = make_engine(self.url)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read-only session (rolled back at the end)."""
        with self._sessions() as s:
            try:
                yield s
            finally:
                s.rollback()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A writing transaction: committed on success, rolled back on any exception."""
        with self._sessions() as s, s.begin():
            if self.is_postgres:
                s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_WRITE_LOCK})
            yield s

    def migrate(self) -> str:
        """Upgrade the schema to the newest revision; returns it."""
        from alembic import command
        from alembic.config import Config as AlembicConfig
        from alembic.runtime.migration import MigrationContext

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
            with self.engine.connect() as conn:
                return MigrationContext.configure(conn).get_current_revision() or ""
        except SQLAlchemyError as e:
            raise StoreError(f"db: migration failed on {redact(self.url)}: {e.__class__.__name__}: "
                             f"{str(e.orig if hasattr(e, 'orig') else e).splitlines()[0]}") from None

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
