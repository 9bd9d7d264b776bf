"""SQLite group commit (``attendance.db.WalSync``): a commit returns once the write-ahead
log has been fsynced after it, and commits made at the same moment share one fsync.

The fsyncs are watched by wrapping ``os.fdatasync``: the wrapper looks, from a connection
of its own, at what is committed when the fsync starts, so a test can tell whether each
commit was covered by an fsync that began after it and ended before it returned.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

import pytest
from sqlalchemy import insert, select, text

from attendance.db import make_engine, make_session_factory
from attendance.models.chain import ChainHead

pytestmark = pytest.mark.db

FDATASYNC = os.fdatasync


@pytest.fixture
def database_file(database_url) -> str:
    if not database_url.startswith("sqlite"):
        pytest.skip("group commit through the write-ahead log is SQLite's")
    return database_url.removeprefix("sqlite:///")


class Fsyncs:
    """``os.fdatasync`` watched: the file and the streams committed when each call began."""

    def __init__(self, database_file: str, delay: float = 0.0, fail: bool = False):
        self.database_file, self.delay, self.fail = database_file, delay, fail
        self.started: list[tuple[str, set[str]]] = []
        self.finished: list[set[str]] = []
        self.lock = threading.Lock()

    def __call__(self, descriptor: int) -> None:
        path = os.readlink(f"/proc/self/fd/{descriptor}")
        with sqlite3.connect(self.database_file) as reader:
            committed = {row[0] for row in reader.execute("SELECT stream FROM chain_heads")}
        with self.lock:
            self.started.append((path, committed))
        time.sleep(self.delay)
        if self.fail:
            raise OSError(5, "Input/output error")
        FDATASYNC(descriptor)
        with self.lock:
            self.finished.append(committed)


def head(stream: str) -> dict:
    return {"stream": stream, "seq": 0, "hash": "0" * 64}


def test_a_file_database_commits_through_the_shared_fsync(session_factory, database_file):
    with session_factory() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    memory = make_session_factory(make_engine("sqlite://"))
    with memory() as session:  # no log to fsync: SQLite syncs every commit itself
        assert session.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_a_commit_returns_after_the_log_is_fsynced(session_factory, database_file,
                                                   monkeypatch):
    fsyncs = Fsyncs(database_file)
    monkeypatch.setattr(os, "fdatasync", fsyncs)
    with session_factory() as session:
        session.execute(insert(ChainHead), [head("a")])
        session.commit()
        assert fsyncs.started == [(os.path.realpath(database_file + "-wal"), {"a"})]
        assert fsyncs.finished == [{"a"}]
        session.execute(select(ChainHead.stream)).all()
        session.commit()  # nothing written: nothing to wait for
        assert len(fsyncs.started) == 1


def test_commits_at_the_same_moment_share_fsyncs(session_factory, database_file, monkeypatch):
    fsyncs = Fsyncs(database_file, delay=0.05)  # a slow disk
    monkeypatch.setattr(os, "fdatasync", fsyncs)
    writers = 8
    start = threading.Barrier(writers)
    covered: dict[str, bool] = {}
    errors: list[BaseException] = []

    def write(stream: str) -> None:
        try:
            with session_factory() as session:
                start.wait()
                session.execute(insert(ChainHead), [head(stream)])
                session.commit()
                with fsyncs.lock:  # on disk when commit() returned
                    covered[stream] = any(stream in done for done in fsyncs.finished)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f"s{i}",)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert covered == {f"s{i}": True for i in range(writers)}
    assert len(fsyncs.started) < writers  # shared: one fsync covered several commits


def test_a_failed_fsync_fails_the_commit_and_the_next_commit_syncs_again(
        session_factory, database_file, monkeypatch):
    failing = Fsyncs(database_file, fail=True)
    monkeypatch.setattr(os, "fdatasync", failing)
    with session_factory() as session:
        session.execute(insert(ChainHead), [head("a")])
        with pytest.raises(OSError):
            session.commit()  # committed, but not known to be on disk: the caller must not
        # promise it (the scan API answers 500; the station's retry finds it stored)
    working = Fsyncs(database_file)
    monkeypatch.setattr(os, "fdatasync", working)
    with session_factory() as session:
        session.execute(insert(ChainHead), [head("b")])
        session.commit()
    assert working.finished == [{"a", "b"}]
