"""Benchmark: reports at scale — the daily report for 1k…1M employees and the monthly
report, with the cost per employee-day printed to show that growth is linear.

The province has units of 50; on each working day about 3% are absent, 2% excused, 8% late,
1% recorded by a guard without a badge, and everyone present scans twice. The daily sizes
get one day (Monday 23 November 2026); the monthly sizes every working day of November 2026
(21); ``--monthly-issue`` times what the scheduler does on the month's first working day,
every unit's monthly report (``attendance.issuing.monthly_contents``); ``--recheck`` times the
nightly job ``reports.recheck_history`` (``attendance.issuing.recheck_history``) on the night
after that Monday: 60 days of evidence, every daily and monthly report of the window issued
once, nothing changed since (its usual night: every report compiled again and compared,
none issued). Beside each compile,
in the same run on the same database: the raw read of the same rows (employees and the
range's scans, SQLAlchemy core), which no report can beat. The
peak resident memory of the process during the compile is printed too.

    python -m bench.reports_scale --daily 1000 10000 100000 --monthly 10000
    python -m bench.reports_scale --database postgresql --daily 1000 10000 100000 1000000 \\
        --monthly 100000
    python -m bench.reports_scale --daily --monthly --monthly-issue 10000
    python -m bench.reports_scale --database postgresql --daily --monthly --recheck 10000 100000

PostgreSQL: a scratch database (``--name``, default ``attendance_bench_reports``) is created
and dropped afterwards; rows go in with ``COPY``. SQLite: a file in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from attendance import evaluation, issuing, migrate
from attendance.config import Config, load_config
from attendance.db import make_engine, make_session_factory
from attendance.excuses import earliest_start
from attendance.models import Employee, Excuse, IssuedReport, NoBadgeRecord, Scan, Unit
from attendance.org import org_tree
from attendance.reports import compile_daily, compile_monthly, month_bounds
from bench.ingest import PG_DEFAULT, scratch_database

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MONTH = date(2026, 11, 1)
DAY = date(2026, 11, 23)
NIGHT = datetime(2026, 11, 24, 1, 40, tzinfo=TZ)  # reports.recheck_history's run after DAY
CHUNK = 50_000  # employees generated and written at a time

UNIT_COLUMNS = ("id", "code", "name", "parent_id")
EMPLOYEE_COLUMNS = ("id", "code", "full_name", "unit_id", "category")
SCAN_COLUMNS = ("source", "event_id", "employee_id", "status", "scanned_at", "station_time",
                "received_at", "flags", "stream", "seq", "prev_hash", "hash")
MARK_COLUMNS = ("employee_id", "recorded_at", "source", "void", "stream", "seq", "prev_hash",
                "hash")
EXCUSE_COLUMNS = ("employee_id", "start_date", "end_date", "part", "kind", "requested_at",
                  "status")
NO_HASH = "0" * 64


def reset(engine: sa.Engine) -> None:
    """An empty, migrated database. On PostgreSQL the schema is dropped whole (the
    migration's constraint names are not the models', so ``drop_all`` cannot undo it)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    else:
        from attendance.db import Base

        Base.metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    migrate.upgrade(engine)


def working_days(first: date, last: date) -> list[date]:
    """Monday to Friday (the bench's provinces have no holidays)."""
    return [day for day in evaluation.days(first, last) if day.weekday() < 5]


def _sqlite_value(value):
    """What SQLAlchemy would store on SQLite: UTC times without offset, to the microsecond."""
    if isinstance(value, datetime):
        return f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def write(conn: sa.Connection, table: sa.Table, columns: tuple[str, ...],
          rows: Iterable[tuple]) -> None:
    """Rows straight into ``table``: ``COPY`` on PostgreSQL, ``executemany`` on SQLite."""
    dbapi = conn.connection.dbapi_connection
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        with dbapi.cursor() as cursor, \
                cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" * len(columns))
        dbapi.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})",
                          (tuple(map(_sqlite_value, row)) for row in rows))


def _evidence(rnd: random.Random, day: date, employees: range, now: datetime,
              seq: list[int]) -> tuple[list, list, list]:
    """One day's scans, no-badge records and excuses for ``employees`` (ids minus one)."""
    start = datetime(day.year, day.month, day.day, 7, 30, tzinfo=TZ).astimezone(UTC)
    end = datetime(day.year, day.month, day.day, 16, 30, tzinfo=TZ).astimezone(UTC)
    scans, marks, excuses = [], [], []
    for i in employees:
        roll = rnd.random()
        if roll < 0.03:
            continue
        if roll < 0.05:
            excuses.append((i + 1, day, day, "full", "leave", now, "approved"))
            continue
        late = rnd.random() < 0.08
        arrive = start + timedelta(seconds=rnd.randint(600, 3000) if late
                                   else -rnd.randint(0, 1800))
        leave = end + timedelta(seconds=rnd.randint(-600, 1800))
        for at in (arrive, leave):
            seq[0] += 1
            scans.append(("bench", str(seq[0]), i + 1, "accepted", at, at, now, "", "bench",
                          seq[0], NO_HASH, NO_HASH))
        if rnd.random() < 0.01:
            seq[1] += 1
            marks.append((i + 1, arrive, "guard", False, "bench", seq[1], NO_HASH, NO_HASH))
    return scans, marks, excuses


def build(engine: sa.Engine, n: int, days: list[date], seed: int = 1) -> None:
    """A province of ``n`` employees with evidence for ``days``, written day by day."""
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    units = max(1, n // 50)
    with engine.begin() as conn:
        write(conn, Unit.__table__, UNIT_COLUMNS, [
            (1, "ROOT", "UBND tỉnh", None),
            *((u + 2, f"U{u:05d}", f"Phòng {u}", 1) for u in range(units))])
        write(conn, Employee.__table__, EMPLOYEE_COLUMNS, (
            (i + 1, f"E{i:07d}", f"Nguyễn Văn {i}", 2 + i % units, "CC") for i in range(n)))
    seq = [0, 0]  # the last scan and no-badge record numbers
    for day in days:
        with engine.begin() as conn:
            for chunk in range(0, n, CHUNK):
                scans, marks, excuses = _evidence(rnd, day, range(chunk, min(n, chunk + CHUNK)),
                                                  now, seq)
                write(conn, Scan.__table__, SCAN_COLUMNS, scans)
                write(conn, NoBadgeRecord.__table__, MARK_COLUMNS, marks)
                write(conn, Excuse.__table__, EXCUSE_COLUMNS, excuses)
    # Statistics and visibility as an older table would have them.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE" if engine.dialect.name == "postgresql"
                             else "ANALYZE"))


def raw_read(engine: sa.Engine, first: date, last: date) -> float:
    low = datetime(first.year, first.month, first.day, tzinfo=TZ).astimezone(UTC)
    high = datetime(last.year, last.month, last.day, tzinfo=TZ).astimezone(UTC) \
        + timedelta(days=1)
    started = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(sa.select(Employee.id, Employee.code, Employee.unit_id)).all()
        conn.execute(sa.select(Scan.employee_id, Scan.scanned_at).where(
            Scan.scanned_at >= low, Scan.scanned_at < high)).all()
    return time.perf_counter() - started


def timed(engine: sa.Engine, work) -> float:
    factory = make_session_factory(engine)
    started = time.perf_counter()
    with factory() as session:
        work(session)
    return time.perf_counter() - started


def reset_peak_memory() -> None:
    """Let the peak resident size start again from now (Linux; elsewhere it is the
    process's peak so far)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_memory_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def issue_window(engine: sa.Engine, config: Config) -> None:
    """Version 1 of every report ``recheck_history`` will compare, as the scheduler left
    them (written straight into the table: this is set-up, not what is timed)."""
    old_days, months = issuing.history_periods(config, NIGHT.date())
    old_days = [day for day in old_days if date.fromisoformat(day).weekday() < 5]
    issued_at = NIGHT - timedelta(days=1)
    with make_session_factory(engine)() as session:
        tree = org_tree(session)
        for kind, periods in ((issuing.DAILY, old_days), (issuing.MONTHLY, months)):
            for period in periods:
                contents = issuing.contents_for(session, config, kind,
                                                issuing._period_day(kind, period), tree,
                                                list(tree.units))
                rows = []
                for unit_id, content in contents.items():
                    text = issuing.dump(content)
                    rows.append({"kind": kind, "unit_id": unit_id, "period": period,
                                 "version": 1, "content": text,
                                 "content_hash": issuing.content_hash(text),
                                 "issued_at": issued_at, "issued_late": False})
                session.execute(sa.insert(IssuedReport), rows)
                session.commit()


def recheck(engine: sa.Engine, config: Config) -> None:
    issued = issuing.recheck_history(make_session_factory(engine), config, NIGHT)
    if issued:
        raise AssertionError(f"nothing changed, yet {len(issued)} reports were issued again")


def measure(engine: sa.Engine, kind: str, n: int, days: list[date], work, repeat: int,
            setup=None) -> None:
    reset(engine)
    started = time.perf_counter()
    build(engine, n, days)
    if setup is not None:
        setup()
    built = time.perf_counter() - started
    reset_peak_memory()
    compiled = min(timed(engine, work) for _ in range(repeat))
    peak = peak_memory_mb()
    raw = min(raw_read(engine, days[0], days[-1]) for _ in range(repeat))
    per_day = compiled / (n * len(days)) * 1e6
    print(f"{kind:<8} {n:>10,} {built:>8.1f} {compiled:>10.2f} {raw:>11.2f} {compiled / raw:>6.1f} "
          f"{per_day:>16.1f} {peak:>8,.0f} {os.getloadavg()[0]:>5.1f}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg", default=PG_DEFAULT, help="PostgreSQL server URL")
    parser.add_argument("--name", default="attendance_bench_reports",
                        help="the scratch database's name on PostgreSQL")
    parser.add_argument("--daily", type=int, nargs="*", default=[1000, 10_000, 100_000])
    parser.add_argument("--monthly", type=int, nargs="*", default=[10_000])
    parser.add_argument("--monthly-issue", type=int, nargs="*", default=[])
    parser.add_argument("--recheck", type=int, nargs="*", default=[])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    config = load_config()
    first, last = month_bounds(MONTH)
    with tempfile.TemporaryDirectory() as tmp, \
            scratch_database(args.database, Path(tmp), args.pg, name=args.name) as url:
        engine = make_engine(url)
        print(f"database: {engine.dialect.name}; {os.cpu_count()} cores")
        print(f"{'report':<8} {'employees':>10} {'build s':>8} {'compile s':>10} "
              f"{'raw read s':>11} {'ratio':>6} {'µs/employee-day':>16} {'peak MB':>8} "
              f"{'load':>5}")
        for n in args.daily:
            measure(engine, "daily", n, [DAY],
                    lambda s: compile_daily(s, config, DAY), args.repeat)
        for n in args.monthly:
            measure(engine, "monthly", n, working_days(first, last),
                    lambda s: compile_monthly(s, config, MONTH), args.repeat)
        for n in args.monthly_issue:
            measure(engine, "issue", n, working_days(first, last),
                    lambda s: issuing.monthly_contents(s, config, MONTH, org_tree(s),
                                                       list(org_tree(s).units)), args.repeat)
        for n in args.recheck:
            evidence = working_days(earliest_start(config, NIGHT.date()), DAY)
            measure(engine, "recheck", n, evidence, lambda _: recheck(engine, config),
                    args.repeat, setup=lambda: issue_window(engine, config))
        engine.dispose()


if __name__ == "__main__":
    main()
