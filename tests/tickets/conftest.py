"""Fixtures for the ticket service: both databases, a fake clock, a service factory.

PostgreSQL: one database ``sharpeyes_test_<random>`` per test session on 127.0.0.1:5432 (user
postgres, override with $SHARPEYES_TEST_PG), dropped at the end; each test starts from an empty
schema. Unreachable PostgreSQL skips those cases unless $SHARPEYES_REQUIRE_PG=1.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sharpeyes.tickets.clock import FakeClock
from sharpeyes.tickets.service import TicketService
from sharpeyes.tickets.store import Store
from tests.tickets.tickets_testlib import T0, base_config

PG_ADMIN = os.environ.get("SHARPEYES_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


# --- PostgreSQL ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    try:
        import psycopg

        admin = psycopg.connect(PG_ADMIN.replace("postgresql+psycopg://", "postgresql://"),
                                autocommit=True, connect_timeout=3)
    except Exception as e:
        if os.environ.get("SHARPEYES_REQUIRE_PG") == "1":
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN}: {e.__class__.__name__}")
    name = f"sharpeyes_test_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _reset_pg(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as c:
        c.execute("DROP SCHEMA public CASCADE")
        c.execute("CREATE SCHEMA public")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tickets.sqlite3'}"
    url: str = request.getfixturevalue("pg_database")
    _reset_pg(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tickets.sqlite3'}"


# --- service ---------------------------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


MakeService = Callable[..., TicketService]


@pytest.fixture
def make_service(clock: FakeClock) -> Iterator[MakeService]:
    made: list[TicketService] = []

    def make(db: str, **overrides: Any) -> TicketService:
        store = Store(db)
        store.migrate()
        svc = TicketService(base_config(db, **overrides), store, clock=clock)
        made.append(svc)
        return svc

    yield make
    for svc in made:
        svc.close()
        svc.store.dispose()


@pytest.fixture
async def service(make_service: MakeService, db_url: str) -> AsyncIterator[TicketService]:
    yield make_service(db_url)
