"""Shared fixtures.

Every test that asks for ``database_url`` (or anything built on it) gets a fresh, migrated
database of its own: SQLite by default, PostgreSQL when ``ATTENDANCE_TEST_DATABASE_URL``
names a server (``make test`` runs the database tests on both). Tests that use a database
are marked ``db`` automatically.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from attendance import badges, migrate
from attendance.config import load_config
from attendance.db import make_engine, make_session_factory

PG_SERVER = os.environ.get("ATTENDANCE_TEST_DATABASE_URL")
TEMPLATE = f"attendance_test_template_{os.getpid()}"
_counter = itertools.count()

DB_FIXTURES = {"database_url", "session_database_url", "engine", "db_session",
               "session_factory", "cli"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def _admin_engine() -> sa.Engine:
    return sa.create_engine(
        f"postgresql+psycopg://{PG_SERVER.split('://', 1)[1].rstrip('/')}/postgres",
        isolation_level="AUTOCOMMIT",
    )


def _pg_url(name: str) -> str:
    return f"postgresql+psycopg://{PG_SERVER.split('://', 1)[1].rstrip('/')}/{name}"


@pytest.fixture(scope="session")
def _template(tmp_path_factory) -> str:
    """A migrated empty database that each test's database is copied from."""
    if PG_SERVER:
        admin = _admin_engine()
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"))
            conn.execute(sa.text(f"CREATE DATABASE {TEMPLATE}"))
        engine = make_engine(_pg_url(TEMPLATE))
        migrate.upgrade(engine)
        engine.dispose()
        yield TEMPLATE
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"))
        admin.dispose()
        return
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    yield str(path)


@contextmanager
def _copied_database(template: str, folder: Path) -> Iterator[str]:
    """The URL of a fresh copy of ``template``: a database on the PostgreSQL server (dropped
    afterwards) when one is named, else an SQLite file in ``folder``."""
    if not PG_SERVER:
        path = folder / "attendance.sqlite3"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    name = f"attendance_test_{os.getpid()}_{next(_counter)}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def database_url(_template, tmp_path, monkeypatch) -> Iterator[str]:
    with _copied_database(_template, tmp_path) as url:
        monkeypatch.setenv("ATTENDANCE_DATABASE_URL", url)
        monkeypatch.setenv("ATTENDANCE_INSTANCE", str(tmp_path / "instance"))
        yield url


@pytest.fixture(scope="session")
def session_database_url(_template, tmp_path_factory) -> Iterator[str]:
    """One fresh database for a whole test session's server (the end-to-end tests)."""
    with _copied_database(_template, tmp_path_factory.mktemp("session-db")) as url:
        yield url


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine):
    return make_session_factory(engine)


@pytest.fixture
def db_session(session_factory):
    session = session_factory()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def config():
    return load_config(Path(__file__).parent.parent / "config" / "default.toml")


@pytest.fixture
def make_keyring(tmp_path, monkeypatch):
    """``make_keyring(created)``: a badge keyring in ``tmp_path/keys`` whose first key is
    dated ``created``; the app under test finds it there too (``ATTENDANCE_KEYS_DIR``)."""
    def make(created):
        monkeypatch.setenv(badges.KEYS_DIR_ENV, str(tmp_path / "keys"))
        ring = badges.Keyring(tmp_path / "keys")
        ring.init(created)
        return ring

    return make


@pytest.fixture
def cli(database_url):
    """Run ``attendance`` in-process against the test database: ``cli("report", ...)``."""
    from attendance.cli import cli as group

    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(group, list(args), input=input, catch_exceptions=False)

    return run
