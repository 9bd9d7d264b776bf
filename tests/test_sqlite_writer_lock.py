"""SQLite's writers queue on ``<database>-writer.lock`` (``attendance.db.lock_for_write``).

A writer that calls ``lock_for_write`` outside a transaction holds an exclusive ``flock``
on the file from then until it commits or rolls back, so the next one (another thread or
another process) is woken by the kernel the moment it ends; a writer already inside a
transaction never waits for the file (it may hold SQLite's lock that the file's holder is
waiting for).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import OperationalError

from attendance.db import SQLiteConnection, lock_for_write, make_engine, make_session_factory
from attendance.models.chain import ChainHead

pytestmark = pytest.mark.db


@pytest.fixture
def lock_file(database_url) -> str:
    if not database_url.startswith("sqlite"):
        pytest.skip("the writer lock is SQLite's")
    return database_url.removeprefix("sqlite:///") + "-writer.lock"


def file_is_locked(path: str) -> bool:
    """Whether someone holds the writer lock (tried from a descriptor of our own)."""
    handle = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(handle)  # also drops the lock, if it was taken here
    return False


def head(stream: str) -> dict:
    return {"stream": stream, "seq": 0, "hash": "0" * 64}


def test_the_writer_lock_is_held_until_commit_or_rollback(session_factory, lock_file):
    with session_factory() as session:
        lock_for_write(session)
        assert file_is_locked(lock_file)
        session.execute(insert(ChainHead), [head("a")])
        session.commit()
        assert not file_is_locked(lock_file)
        lock_for_write(session)
        assert file_is_locked(lock_file)
        session.rollback()
        assert not file_is_locked(lock_file)
        lock_for_write(session)
    assert not file_is_locked(lock_file)  # closing the session ends its transaction


WRITER = """
import sys
from sqlalchemy import insert
from attendance.db import lock_for_write, make_engine, make_session_factory
from attendance.models.chain import ChainHead
with make_session_factory(make_engine(sys.argv[1]))() as session:
    print("waiting", flush=True)
    lock_for_write(session)
    session.execute(insert(ChainHead), [{"stream": "child", "seq": 0, "hash": "0" * 64}])
    session.commit()
print("written", flush=True)
"""


def test_a_writer_in_another_process_waits_for_the_holder(session_factory, database_url,
                                                          lock_file):
    with session_factory() as session:
        lock_for_write(session)
        session.execute(insert(ChainHead), [head("parent")])
        child = subprocess.Popen([sys.executable, "-c", WRITER, database_url],
                                 stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline() == "waiting\n"
            time.sleep(0.5)
            assert child.poll() is None  # still waiting for the parent
            session.commit()
            output, _ = child.communicate(timeout=30)
        finally:
            child.kill()
            child.wait()
    assert output == "written\n" and child.returncode == 0
    with session_factory() as session:
        assert sorted(session.scalars(select(ChainHead.stream))) == ["child", "parent"]


def test_a_writer_inside_a_transaction_does_not_wait_for_the_file(session_factory, lock_file):
    """B holds SQLite's lock (it has written); A takes the file lock and waits for
    SQLite's. B then asks for the write lock: it must go on at once, not wait for A."""
    b = session_factory()
    b.execute(insert(ChainHead), [head("b")])
    a_done = threading.Event()

    def writer_a() -> None:
        with session_factory() as a:
            lock_for_write(a)  # the file at once, then SQLite's lock once B commits
            a.execute(insert(ChainHead), [head("a")])
            a.commit()
        a_done.set()

    thread = threading.Thread(target=writer_a)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not file_is_locked(lock_file) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert file_is_locked(lock_file) and not a_done.is_set()
        lock_for_write(b)  # would wait for A (and A for B) if it took the file
        b.commit()
    finally:
        b.close()
        thread.join(30)
    assert a_done.is_set()
    with session_factory() as session:
        assert sorted(session.scalars(select(ChainHead.stream))) == ["a", "b"]


def test_a_second_connection_of_the_holding_thread_fails_instead_of_hanging(database_url,
                                                                           lock_file):
    """The thread that holds the file through one connection does not wait for it through
    another (it would wait for itself): that one waits in SQLite's busy handler and fails
    after the busy timeout, as it would without the file."""
    engine = make_engine(database_url, connect_args={"timeout": 0.2,
                                                     "factory": SQLiteConnection})
    factory = make_session_factory(engine)
    try:
        with factory() as first, factory() as second:
            lock_for_write(first)
            with pytest.raises(OperationalError, match="database is locked"):
                lock_for_write(second)
            second.rollback()
            first.execute(insert(ChainHead), [head("first")])
            first.commit()
            assert not file_is_locked(lock_file)
            lock_for_write(second)  # free again
            second.commit()
    finally:
        engine.dispose()


HOLDER = """
import sys, time
from attendance.db import lock_for_write, make_engine, make_session_factory
with make_session_factory(make_engine(sys.argv[1]))() as session:
    lock_for_write(session)
    print("holding", flush=True)
    time.sleep(3600)  # a writer stuck with the file
"""


def waits(count: int) -> int:
    return sum(t.name == "sqlite-writer-wait" for t in threading.enumerate()) - count


def test_a_stuck_writer_in_another_process_stops_others_for_the_busy_timeout_only(
        database_url, lock_file):
    """A writer in another process holds the file and never ends: a writer here waits as
    long as SQLite's busy timeout (0.5 s here, 30 s as configured) and then fails with the
    error of SQLite's own lock timeout; once the stuck one is gone, writing goes on. Waits
    given up leave one waiting thread per connection, not one per attempt."""
    engine = make_engine(database_url, connect_args={"timeout": 0.5,
                                                     "factory": SQLiteConnection})
    factory = make_session_factory(engine)
    before = waits(0)
    child = subprocess.Popen([sys.executable, "-c", HOLDER, database_url],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "holding\n"
        with factory() as session:
            for _ in range(3):
                started = time.monotonic()
                with pytest.raises(OperationalError, match="database is locked") as refused:
                    lock_for_write(session)
                assert 0.5 <= time.monotonic() - started < 5
                assert isinstance(refused.value.orig, sqlite3.OperationalError)
                session.rollback()
            assert waits(before) == 1
        child.kill()
        child.wait()
        with factory() as session:
            lock_for_write(session)  # free: the stuck writer's process is gone
            session.execute(insert(ChainHead), [head("after")])
            session.commit()
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
        engine.dispose()
    deadline = time.monotonic() + 10
    while waits(before) and time.monotonic() < deadline:  # the given-up wait let it go
        time.sleep(0.01)
    assert waits(before) == 0 and not file_is_locked(lock_file)


def test_a_waiter_gets_the_file_within_the_timeout_or_fails_as_sqlite_would(database_url,
                                                                           lock_file):
    """Two threads: the holder ends after 0.2 s, within the waiter's 2 s, which then
    writes; a holder that stays past the timeout makes the waiter fail, with the same error
    as SQLite's own busy timeout (the second connection of the holding thread, in
    ``test_a_second_connection_of_the_holding_thread_fails_instead_of_hanging``)."""
    engine = make_engine(database_url, connect_args={"timeout": 2,
                                                     "factory": SQLiteConnection})
    factory = make_session_factory(engine)
    outcome: list = []

    def waiter() -> None:
        with factory() as session:
            started = time.monotonic()
            try:
                lock_for_write(session)
                session.execute(insert(ChainHead), [head(f"waiter-{len(outcome)}")])
                session.commit()
                outcome.append(("written", time.monotonic() - started))
            except OperationalError as exc:
                outcome.append((str(exc.orig), time.monotonic() - started))

    try:
        for hold, expected in ((0.2, "written"), (3.0, "database is locked")):
            outcome.clear()
            with factory() as holder:
                lock_for_write(holder)
                thread = threading.Thread(target=waiter)
                thread.start()
                time.sleep(hold)
                holder.commit()
                thread.join(10)
            [(result, waited)] = outcome
            assert result == expected
            assert (hold <= waited < 1.5) if expected == "written" else (2 <= waited < 2.9)
        with factory() as session:
            assert session.scalars(select(ChainHead.stream)).all() == ["waiter-0"]
    finally:
        engine.dispose()
