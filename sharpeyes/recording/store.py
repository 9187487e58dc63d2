"""The recording store: covered and asked intervals per camera, kept as seen, in SQLite (default) or
PostgreSQL, migrated by alembic.

Coverage is only ever added: a recorder that has overwritten last month's files does not take last
month's coverage away. ``asked`` records the windows a recorder answered for, so time it could not be
asked stays unknown instead of becoming a gap.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, event, insert, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.cli import db_url

from .collector import Target
from .intervals import Interval, normalize
from .model import RecorderResult
from .models import Asked, ChannelState, Covered, DiskState, RecorderState

MIGRATIONS = Path(__file__).parent / "migrations"


class StoreError(Exception):
    """The database cannot be opened or migrated; the message says which and why (no password)."""


def redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable>"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # the report reads while a collection writes
    cur.execute("PRAGMA synchronous=NORMAL")
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
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise StoreError(f"db: unsupported database {parsed.get_backend_name()!r} (sqlite or postgresql)")
    return create_engine(url, pool_pre_ping=True)


class RecordingStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self) -> str:
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext

        from .migrations.env_name import VERSION_TABLE

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
            with self.engine.connect() as conn:
                ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
                return ctx.get_current_revision() or ""
        except SQLAlchemyError as e:
            raise StoreError(f"db: migration failed on {redact(self.url)}: {e.__class__.__name__}") from None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions() as s, s.begin():
            yield s

    def dispose(self) -> None:
        self.engine.dispose()

    # --- writing ---------------------------------------------------------------------------------
    def record(self, results: Iterable[RecorderResult], targets: dict[str, Target], join: float = 2.0) -> None:
        """One collection round, in one transaction."""
        covered: dict[str, list[Interval]] = {}
        asked: dict[str, list[Interval]] = {}
        lo, hi = float("inf"), float("-inf")
        with self.transaction() as s:
            for r in results:
                lo, hi = min(lo, r.window[0]), max(hi, r.window[1])
                self._recorder(s, r)
                tg = targets[r.recorder]
                for ch, camera in tg.channels.items():
                    c = r.channels.get(ch)
                    error = r.error or (c.error if c is not None else "missing")
                    if not error and c is not None:
                        covered[camera] = c.covered
                        asked[camera] = [r.window]
                    self._channel(s, camera, tg, ch, c.oldest if c is not None and not error else None, error,
                                  r.window[1])
            if covered:
                self._merge(s, Covered, covered, lo, hi, join)
                self._merge(s, Asked, asked, lo, hi, join)

    def _recorder(self, s: Session, r: RecorderResult) -> None:
        row = s.get(RecorderState, r.recorder) or RecorderState(recorder=r.recorder)
        row.dialect, row.at, row.up, row.error = r.dialect, r.window[1], r.up, r.error
        row.message, row.duration = r.message[:500], r.duration
        if r.clock_offset is not None or not r.up:
            row.clock_offset = r.clock_offset
        s.merge(row)
        if r.up:
            s.execute(delete(DiskState).where(DiskState.recorder == r.recorder))
            for d in r.disks:
                s.add(DiskState(recorder=r.recorder, disk=d.id[:100], state=d.state, raw=d.raw,
                                capacity_bytes=d.capacity_bytes, free_bytes=d.free_bytes, at=r.window[1]))

    def _channel(self, s: Session, camera: str, tg: Target, ch: int, oldest: float | None, error: str,
                 at: float) -> None:
        row = s.get(ChannelState, camera)
        if row is None:
            row = ChannelState(camera=camera, oldest=None)
        row.recorder, row.channel, row.error, row.updated = tg.recorder, ch, error, at
        if not error:
            row.oldest = oldest  # None when the recorder holds nothing for the channel any more
        s.merge(row)

    @staticmethod
    def _merge(s: Session, table: type[Covered] | type[Asked], new: dict[str, list[Interval]], lo: float, hi: float,
               join: float) -> None:
        rows = s.execute(select(table.id, table.camera, table.start, table.end)
                         .where(table.end >= lo - join, table.start <= hi + join)).all()
        old: dict[str, list[Interval]] = {}
        ids: list[int] = []
        for rid, camera, start, end in rows:
            if camera in new:
                old.setdefault(camera, []).append((start, end))
                ids.append(rid)
        for i in range(0, len(ids), 500):
            s.execute(delete(table).where(table.id.in_(ids[i:i + 500])))
        values = [{"camera": camera, "start": a, "end": b}
                  for camera, ivs in new.items() for a, b in normalize([*old.get(camera, []), *ivs], join)[0]]
        if values:
            s.execute(insert(table), values)

    # --- reading ---------------------------------------------------------------------------------
    def intervals(self, table: type[Covered] | type[Asked], lo: float, hi: float) -> dict[str, list[Interval]]:
        with self._sessions() as s:
            rows = s.execute(select(table.camera, table.start, table.end)
                             .where(table.end > lo, table.start < hi).order_by(table.camera, table.start)).all()
        out: dict[str, list[Interval]] = {}
        for camera, start, end in rows:
            out.setdefault(camera, []).append((max(start, lo), min(end, hi)))
        return out

    def channels(self) -> list[ChannelState]:
        with self._sessions() as s:
            return list(s.scalars(select(ChannelState)))

    def recorders(self) -> list[RecorderState]:
        with self._sessions() as s:
            return list(s.scalars(select(RecorderState)))

    def disks(self) -> list[DiskState]:
        with self._sessions() as s:
            return list(s.scalars(select(DiskState)))
