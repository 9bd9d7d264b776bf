"""PostgreSQL connections are tested before use only after lying idle in the pool
(``attendance.db._ping_when_idle``): a dead one is replaced without the caller noticing; one
just used is not tested, so a request under load saves the round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from attendance import db

pytestmark = pytest.mark.db


@pytest.fixture
def pg_engine(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server connection to lose")
    return engine


@pytest.fixture
def pings(pg_engine, monkeypatch) -> list[object]:
    seen: list[object] = []
    real = pg_engine.dialect.do_ping
    monkeypatch.setattr(pg_engine.dialect, "do_ping",
                        lambda connection: seen.append(connection) or real(connection))
    return seen


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))


def terminate(engine, pid: int) -> None:
    """End a backend from outside the pool, as a server restart or an admin would."""
    other = create_engine(engine.url, poolclass=NullPool)
    with other.connect() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()


def test_a_connection_just_used_is_not_pinged(pg_engine, pings):
    for _ in range(5):
        backend_pid(pg_engine)
    assert pings == []


def test_a_dead_idle_connection_is_replaced_before_use(pg_engine, pings, monkeypatch):
    pid = backend_pid(pg_engine)
    terminate(pg_engine, pid)  # as a server restart would
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has lain idle long enough
    assert backend_pid(pg_engine) != pid  # no error: tested, dropped, replaced
    assert pings


def test_a_connection_cut_within_the_second_fails_once_then_the_pool_recovers(pg_engine,
                                                                              pings):
    pid = backend_pid(pg_engine)
    terminate(pg_engine, pid)
    with pytest.raises(OperationalError):  # used without a test: this request fails
        backend_pid(pg_engine)
    assert backend_pid(pg_engine) != pid  # the next one gets a live connection
    assert pings == []
