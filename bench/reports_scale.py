"""Benchmark: reports at scale — the daily report for 1k…100k (1M) employees and the
monthly report, with the cost per employee printed to show that growth is linear.

The data are ``bench.daily_report``'s (units of 50, two scans per present employee, about
8% late, 3% absent, 2% excused, 1% without badge), here for every working day of a month
(November 2026, 21 working days) when ``--month-sizes`` asks for the monthly report.
Beside each compile, in the same run: the raw read of the same rows (employees and the
range's scans, SQLAlchemy core), which no report can beat.

    python -m bench.reports_scale --daily 1000 10000 100000 --monthly 10000
    ATTENDANCE_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/attendance_bench_reports \\
        python -m bench.reports_scale --daily 1000 10000 100000 --monthly 100000

The database named by ATTENDANCE_DATABASE_URL is wiped (tables dropped and migrated again);
without it a SQLite file in a temporary folder is used.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from attendance import migrate
from attendance.config import load_config
from attendance.db import make_engine, make_session_factory
from attendance.models import Employee, Excuse, NoBadgeRecord, Scan, Unit
from attendance.reports import compile_daily, compile_monthly, month_bounds

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MONTH = date(2026, 11, 1)
DAY = date(2026, 11, 23)


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
    out, day = [], first
    while day <= last:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


def build(engine: sa.Engine, n: int, days: list[date], seed: int = 1) -> None:
    """A province of ``n`` employees with evidence for ``days``, inserted day by day."""
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    units = max(1, n // 50)
    with engine.begin() as conn:
        conn.execute(sa.insert(Unit), [{"id": 1, "code": "ROOT", "name": "UBND tỉnh"}])
        conn.execute(sa.insert(Unit), [
            {"id": u + 2, "code": f"U{u:05d}", "name": f"Phòng {u}", "parent_id": 1}
            for u in range(units)])
        for start in range(0, n, 20_000):
            conn.execute(sa.insert(Employee), [
                {"id": i + 1, "code": f"E{i:07d}", "full_name": f"Nguyễn Văn {i}",
                 "unit_id": 2 + i % units, "category": "CC"}
                for i in range(start, min(n, start + 20_000))])
    scan_seq = mark_seq = 0
    for day in days:
        start = datetime(day.year, day.month, day.day, 7, 30, tzinfo=TZ).astimezone(UTC)
        end = datetime(day.year, day.month, day.day, 16, 30, tzinfo=TZ).astimezone(UTC)
        scans, marks, excuses = [], [], []
        for i in range(n):
            roll = rnd.random()
            if roll < 0.03:
                continue
            if roll < 0.05:
                excuses.append({"employee_id": i + 1, "start_date": day, "end_date": day,
                                "part": "full", "kind": "leave", "requested_at": now,
                                "status": "approved"})
                continue
            late = rnd.random() < 0.08
            arrive = start + timedelta(seconds=rnd.randint(600, 3000) if late
                                       else -rnd.randint(0, 1800))
            leave = end + timedelta(seconds=rnd.randint(-600, 1800))
            for at in (arrive, leave):
                scan_seq += 1
                scans.append({"source": "bench", "event_id": f"{scan_seq}",
                              "employee_id": i + 1, "status": "accepted", "scanned_at": at,
                              "station_time": at, "received_at": now, "flags": "",
                              "stream": "bench", "seq": scan_seq,
                              "prev_hash": "0" * 64, "hash": "0" * 64})
            if rnd.random() < 0.01:
                mark_seq += 1
                marks.append({"employee_id": i + 1, "recorded_at": arrive, "source": "guard",
                              "void": False, "stream": "bench", "seq": mark_seq,
                              "prev_hash": "0" * 64, "hash": "0" * 64})
        with engine.begin() as conn:
            for table, rows in ((Scan, scans), (NoBadgeRecord, marks), (Excuse, excuses)):
                for chunk in range(0, len(rows), 20_000):
                    conn.execute(sa.insert(table), rows[chunk:chunk + 20_000])
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(sa.text("COMMIT"))
            conn.execute(sa.text("ANALYZE"))


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--daily", type=int, nargs="*", default=[1000, 10_000, 100_000])
    parser.add_argument("--monthly", type=int, nargs="*", default=[10_000])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    config = load_config()
    first, last = month_bounds(MONTH)
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("ATTENDANCE_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        engine = make_engine(url)
        print(f"database: {engine.dialect.name}; {os.cpu_count()} cores")
        print(f"{'report':<8} {'employees':>10} {'build s':>8} {'compile s':>10} "
              f"{'raw read s':>11} {'ratio':>6} {'µs/employee-day':>16}")
        for n in args.daily:
            reset(engine)
            t0 = time.perf_counter()
            build(engine, n, [DAY])
            built = time.perf_counter() - t0
            compiled = min(timed(engine, lambda s: compile_daily(s, config, DAY))
                           for _ in range(args.repeat))
            raw = min(raw_read(engine, DAY, DAY) for _ in range(args.repeat))
            print(f"{'daily':<8} {n:>10} {built:>8.1f} {compiled:>10.2f} {raw:>11.2f} "
                  f"{compiled / raw:>6.1f} {compiled / n * 1e6:>16.1f}", flush=True)
        for n in args.monthly:
            days = working_days(first, last)
            reset(engine)
            t0 = time.perf_counter()
            build(engine, n, days)
            built = time.perf_counter() - t0
            compiled = timed(engine, lambda s: compile_monthly(s, config, MONTH))
            raw = raw_read(engine, first, last)
            print(f"{'monthly':<8} {n:>10} {built:>8.1f} {compiled:>10.2f} {raw:>11.2f} "
                  f"{compiled / raw:>6.1f} {compiled / (n * len(days)) * 1e6:>16.1f}",
                  flush=True)
        engine.dispose()


if __name__ == "__main__":
    main()
