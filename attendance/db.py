"""Declarative base, engine and session factory.

The database URL comes from ``ATTENDANCE_DATABASE_URL``; without it an SQLite file in the
instance folder is used. Times are stored as UTC and always come back timezone-aware.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from attendance.config import ConfigError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime stored as UTC on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def instance_path() -> Path:
    """Where local state lives: the SQLite file, keys, evidence photos."""
    path = Path(os.environ.get("ATTENDANCE_INSTANCE", "instance")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    url = os.environ.get("ATTENDANCE_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{instance_path() / 'attendance.sqlite3'}"


def make_engine(url: str | None = None, **kwargs) -> Engine:
    url = url or database_url()
    for scheme in ("postgresql://", "postgres://"):  # the latter as Heroku and libpq write it
        if url.startswith(scheme):
            url = "postgresql+psycopg://" + url.removeprefix(scheme)
    _check_url(url)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30, "factory": SQLiteConnection})
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine)
    return engine


def _check_url(url: str) -> None:
    """Refuse, in one sentence, an address that is not a SQLite or PostgreSQL database
    (SQLAlchemy would answer with its own error, or a missing driver's)."""
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        raise ConfigError("ATTENDANCE_DATABASE_URL: không đọc được địa chỉ cơ sở dữ liệu "
                          "(cần sqlite:///tệp hoặc postgresql://…)") from None
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"ATTENDANCE_DATABASE_URL: chỉ dùng được SQLite hoặc PostgreSQL "
                          f"(sqlite:///tệp hoặc postgresql://…), không phải {backend!r}")


PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Test a pooled connection before use if it lay idle for a second or more.

    After a database restart every pooled connection is dead; ``pool_pre_ping`` finds out
    by a round trip before every use, a sixth of a single scan's. A connection back in the
    pool less than a second ago is used without it: under load that is nearly every one,
    and a server restart keeps them idle for longer than that. A connection cut within
    the second (``pg_terminate_backend``) fails its request once; SQLAlchemy then
    replaces the whole pool, and a station sends the scans again.
    """

    @event.listens_for(engine.pool, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _checked_out(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return  # new, or just used
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool drops this connection and checks out another (PoolEvents.checkout).
            raise DisconnectionError(f"a pooled connection is dead: {exc}") from exc


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    wal = cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    path = _file_of(dbapi_connection)
    if wal and path and isinstance(dbapi_connection, SQLiteConnection):
        # Commits write the log without waiting for the disk; SQLiteConnection.commit then
        # waits for one fsync of the log shared by the commits made meanwhile.
        cursor.execute("PRAGMA synchronous=NORMAL")
        dbapi_connection.wal_sync = WalSync.of(f"{path}-wal")
    else:  # in memory, or no write-ahead log: SQLite fsyncs every commit itself
        cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _file_of(dbapi_connection: sqlite3.Connection) -> str:
    """The main database's file ('' in memory)."""
    return next((row[2] for row in dbapi_connection.execute("PRAGMA database_list")
                 if row[1] == "main"), "")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def lock_for_write(session: Session) -> None:
    """On SQLite, take the database's write lock now, for the rest of the transaction.

    SQLite has no row locks: two transactions that read, decide and then write (a chain's
    head, a rate limit's count) could both decide on the same reading. Taking the write
    lock first makes later writers wait; outside a transaction they queue for it on the
    writer file (:class:`SQLiteConnection`), then ``BEGIN IMMEDIATE``. PostgreSQL callers
    lock rows (``FOR UPDATE``) or advisory keys instead.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection.in_transaction:
        # Already writing, or inside a savepoint that has not written yet: a write
        # statement takes the lock (or waits in the busy handler for it).
        connection.exec_driver_sql("UPDATE chain_heads SET seq = seq WHERE 0")
        return
    try:
        dbapi_connection.queue_for_writing()
    except sqlite3.OperationalError as exc:
        # The error SQLite's own busy timeout gives the BEGIN below, so the same handling
        # applies.
        raise OperationalError("BEGIN IMMEDIATE", (), exc) from exc
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        dbapi_connection.done_writing()
        raise


class SQLiteConnection(sqlite3.Connection):
    """A pysqlite connection whose writers queue in the kernel (:meth:`queue_for_writing`).

    SQLite lets one transaction write at a time; a writer that finds the lock taken sleeps
    in SQLite's busy handler, in steps of 1 to 100 ms, and retries, so the lock stands
    free while waiters sleep (some 40% of the time under four stations sending single
    scans). A writer that calls :func:`lock_for_write` outside a transaction waits instead
    for an exclusive ``flock`` on ``<database>-writer.lock``, which the kernel hands to the
    next waiter, in whatever thread or process, as soon as the holder lets it go; then
    ``BEGIN IMMEDIATE`` takes SQLite's own lock, which stays what guarantees one writer (a
    writer that does not queue waits in the busy handler, as before).

    The holder lets the file go just before its COMMIT (or at its rollback): the next
    writer then waits in the busy handler for that COMMIT only, which writes the log but
    does not fsync it (:class:`WalSync` does that after the lock is free). Letting it go
    after the COMMIT would wait first for the committing thread to get Python's GIL back
    from the worker's other threads, which cost more than the busy handler's first sleep.

    No writer waits for the file while it holds SQLite's lock or the file itself: the file
    is only taken outside a transaction, and not by a thread that holds it through another
    connection (that one waits in the busy handler and fails after the busy timeout, as it
    would without the file). So the file's holder waits at most for a writer that does not
    queue, which the busy timeout bounds. A waiter waits for the file as long as SQLite's
    busy timeout at most (a writer stuck with the file would otherwise stop every other for
    ever), then fails as SQLite does after it: ``database is locked``. A free file is taken
    at once; a taken one is waited for by a thread of its own (:class:`_WriterWait`), which
    a timed wait can leave behind.
    """

    _writer_file: int | None = None
    _writer_path = ""
    _busy_timeout = 5.0  # seconds, SQLite's (read with the file's path)
    wal_sync: WalSync | None = None  # set by make_engine's pragmas on a file in WAL mode
    _holding: set[str] | None = None  # while holding the file: its thread's set of files
    _held_by: int | None = None  # the descriptor holding it: the file's, or a wait's
    _wait: _WriterWait | None = None  # a wait given up, which a later one takes up again
    _held = threading.local()  # the lock files each thread holds, through any connection

    def queue_for_writing(self) -> None:
        """Wait for the writer file (not in a transaction), SQLite's busy timeout at most,
        else raise ``sqlite3.OperationalError``; :meth:`done_writing`, commit, rollback and
        close let it go."""
        if self._writer_file is None:
            self._writer_file = self._open_writer_file()
        held = self._held.__dict__.setdefault("files", set())
        if self._writer_file >= 0 and self._writer_path not in held:
            self._held_by = self._take_writer_file()
            held.add(self._writer_path)
            self._holding = held

    def _take_writer_file(self) -> int:
        try:
            fcntl.flock(self._writer_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return self._writer_file
        except BlockingIOError:
            pass
        if self._wait is None or not self._wait.resume():
            self._wait = _WriterWait(self._writer_path)
        if not self._wait.take(self._busy_timeout):
            raise sqlite3.OperationalError("database is locked")
        descriptor, self._wait = self._wait.descriptor, None
        return descriptor

    def _open_writer_file(self) -> int:
        """The lock file's descriptor, or -1 for a database without a file (in memory)."""
        path = _file_of(self)
        if not path:
            return -1
        self._writer_path = f"{path}-writer.lock"
        self._busy_timeout = self.execute("PRAGMA busy_timeout").fetchone()[0] / 1000
        return os.open(self._writer_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def done_writing(self) -> None:
        if self._holding is not None:
            self._holding.discard(self._writer_path)
            self._holding = None
            fcntl.flock(self._held_by, fcntl.LOCK_UN)
            if self._held_by != self._writer_file:
                os.close(self._held_by)
            self._held_by = None

    def commit(self) -> None:
        wrote = self.in_transaction and self.wal_sync is not None
        self.done_writing()  # before the COMMIT: see the class's docstring
        super().commit()
        if wrote:
            self.wal_sync.wait_durable()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.done_writing()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.done_writing()
            if self._writer_file is not None and self._writer_file >= 0:
                os.close(self._writer_file)
            self._writer_file = None


class _WriterWait:
    """A wait for the writer file in a thread of its own, which its connection may give up
    after a timeout and take up again later (its place in the kernel's queue kept).

    The thread blocks in ``flock`` on a descriptor of its own (a new open file description),
    so that the file it gets after the wait was given up is its own to let go at once,
    never the connection's. A connection keeps one given-up wait at most: a writer stuck
    with the file leaves no more waiting threads than there are connections.
    """

    def __init__(self, path: str):
        self.descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._decided = threading.Lock()
        self._got = threading.Event()
        self._wanted = True
        self._over = False  # got the file while given up, and let it go
        threading.Thread(target=self._run, name="sqlite-writer-wait", daemon=True).start()

    def _run(self) -> None:
        fcntl.flock(self.descriptor, fcntl.LOCK_EX)
        with self._decided:
            if self._wanted:
                self._got.set()
                return
            self._over = True
        fcntl.flock(self.descriptor, fcntl.LOCK_UN)
        os.close(self.descriptor)

    def resume(self) -> bool:
        """Want the file again after :meth:`take` gave up; False when this wait is over."""
        with self._decided:
            self._wanted = not self._over
            return self._wanted

    def take(self, timeout: float) -> bool:
        """True once ``descriptor`` holds the file; False after ``timeout`` seconds (given
        up: the thread lets the file go when it gets it, unless :meth:`resume` comes first)."""
        if self._got.wait(timeout):
            return True
        with self._decided:
            self._wanted = self._got.is_set()
            return self._wanted


class WalSync:
    """Group commit for SQLite: one fsync of the write-ahead log makes every transaction
    committed before it durable, so concurrent committers share it.

    With ``synchronous=FULL`` SQLite fsyncs the log inside every COMMIT, while it still
    holds the database's write lock: writers queue behind one another's fsyncs. Engines
    made here use ``synchronous=NORMAL`` instead (COMMIT only writes the log) and
    :meth:`SQLiteConnection.commit` calls :meth:`wait_durable` after it: the first
    committer to get here fsyncs the log, with the lock already free for the next writer;
    those who commit meanwhile wait for the next fsync, which one of them makes for all.
    A commit therefore still returns only once it is on disk, as with FULL; only visibility
    comes before durability (a reader may see a row an instant before it is fsynced; a
    request that answers a station commits a write first, so it too waits for the fsync).
    Flushing the log is how SQLite's developers advise making WAL-mode commits durable
    with NORMAL (https://sqlite.org/forum/forumpost/d1a6bc7c4cd2baca); checkpoints and the
    log's reuse are synced by SQLite itself under NORMAL.

    One instance per log file and process (fsyncs are shared by the threads of a process).
    """

    _instances: dict[tuple[int, str], WalSync] = {}

    def __init__(self, path: str) -> None:
        self.path = path
        self._changed = threading.Condition()
        self._committed = 0  # commits counted so far (after their COMMIT returned)
        self._synced = 0  # commits known to be on disk
        self._syncing = False
        self._inode: int | None = None  # of the log last fsynced, to sync its folder once

    @classmethod
    def of(cls, path: str) -> WalSync:
        # A forked worker makes its own. No lock: one taken by another thread at the fork
        # would stay taken in the child; setdefault is atomic.
        key = (os.getpid(), path)
        return cls._instances.get(key) or cls._instances.setdefault(key, cls(path))

    def wait_durable(self) -> None:
        """Return once the log is fsynced after this thread's COMMIT."""
        with self._changed:
            self._committed += 1
            ticket = self._committed
            while self._synced < ticket:
                if self._syncing:
                    self._changed.wait()
                    continue
                self._syncing, target, done = True, self._committed, False
                self._changed.release()
                try:
                    self._fsync()
                    done = True
                finally:
                    self._changed.acquire()
                    self._syncing = False
                    if done:
                        self._synced = max(self._synced, target)
                    self._changed.notify_all()

    def _fsync(self) -> None:
        try:
            descriptor = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:  # checkpointed and removed: the database file holds all
            return
        try:
            os.fdatasync(descriptor)
            inode = os.fstat(descriptor).st_ino
        finally:
            os.close(descriptor)
        if inode != self._inode:  # a new log file: make its name durable too
            folder = os.open(os.path.dirname(self.path) or ".", os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
            self._inode = inode


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit at the end, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
