"""Benchmark: compile one day's report for N employees (default 10,000 and 100,000).

Builds a province of N employees in 1 root + N/50 units, a working day with two scans per
present employee (about 8% late, 3% absent, 1% without badge, 2% excused), then times
``compile_daily`` for the whole province. The baseline printed beside it is the raw time to
read the same day's rows (scans, employees) from the database, which the compile cannot
beat; the ratio shows how much the rules themselves cost.

    python -m bench.daily_report                  # SQLite file in a temp folder
    python -m bench.daily_report --sizes 1000 10000 100000
    ATTENDANCE_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench python -m bench.daily_report
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from attendance import migrate
from attendance.config import load_config
from attendance.db import make_engine, make_session_factory
from attendance.models import Employee, Excuse, NoBadgeRecord, Scan, Unit
from attendance.reports import compile_daily

DAY = date(2026, 11, 23)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _reset(engine: sa.Engine) -> None:
    from attendance.db import Base

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        else:
            Base.metadata.drop_all(conn)
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    migrate.upgrade(engine)


def build(engine: sa.Engine, n: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    now = datetime.now(timezone.utc)
    start = datetime(DAY.year, DAY.month, DAY.day, 7, 30, tzinfo=TZ).astimezone(timezone.utc)
    end = datetime(DAY.year, DAY.month, DAY.day, 16, 30, tzinfo=TZ).astimezone(timezone.utc)
    with engine.begin() as conn:
        conn.execute(sa.insert(Unit), [{"id": 1, "code": "ROOT", "name": "UBND tỉnh"}])
        units = max(1, n // 50)
        conn.execute(sa.insert(Unit), [
            {"id": u + 2, "code": f"U{u:05d}", "name": f"Phòng {u}", "parent_id": 1}
            for u in range(units)])
        conn.execute(sa.insert(Employee), [
            {"id": i + 1, "code": f"E{i:07d}", "full_name": f"Nguyễn Văn {i}",
             "unit_id": 2 + i % units, "category": "CC"} for i in range(n)])
        scans, marks, excuses = [], [], []
        for i in range(n):
            roll = rnd.random()
            if roll < 0.03:
                continue  # absent
            if roll < 0.05:
                excuses.append({"employee_id": i + 1, "start_date": DAY, "end_date": DAY,
                                "part": "full", "kind": "leave", "requested_at": now,
                                "status": "approved"})
                continue
            late = rnd.random() < 0.08
            arrive = start + timedelta(seconds=rnd.randint(600, 3000) if late
                                       else -rnd.randint(0, 1800))
            leave = end + timedelta(seconds=rnd.randint(-600, 1800))
            for at in (arrive, leave):
                scans.append({"source": "bench", "event_id": f"{i}-{len(scans)}",
                              "employee_id": i + 1, "status": "accepted", "scanned_at": at,
                              "station_time": at, "received_at": now, "flags": "",
                              "stream": "bench", "seq": len(scans) + 1,
                              "prev_hash": "0" * 64, "hash": "0" * 64})
            if rnd.random() < 0.01:
                marks.append({"employee_id": i + 1, "recorded_at": arrive, "source": "guard",
                              "void": False, "stream": "bench", "seq": len(marks) + 1,
                              "prev_hash": "0" * 64, "hash": "0" * 64})
        for table, rows in ((Scan, scans), (NoBadgeRecord, marks), (Excuse, excuses)):
            for chunk in range(0, len(rows), 20000):
                conn.execute(sa.insert(table), rows[chunk:chunk + 20000])


def raw_read(engine: sa.Engine) -> float:
    started = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(sa.select(Employee.id, Employee.code, Employee.unit_id)).all()
        conn.execute(sa.select(Scan.employee_id, Scan.scanned_at)).all()
    return time.perf_counter() - started


def compile_once(engine: sa.Engine, config) -> tuple[float, int]:
    factory = make_session_factory(engine)
    started = time.perf_counter()
    with factory() as session:
        report = compile_daily(session, config, DAY)
    return time.perf_counter() - started, sum(len(u.employees) for u in report.units)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    config = load_config()
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("ATTENDANCE_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        engine = make_engine(url)
        print(f"database: {engine.dialect.name}")
        print(f"{'employees':>10} {'build s':>8} {'compile s':>10} {'raw read s':>11} "
              f"{'ratio':>6} {'µs/employee':>12}")
        for n in args.sizes:
            _reset(engine)
            t0 = time.perf_counter()
            build(engine, n)
            built = time.perf_counter() - t0
            compiled = min(compile_once(engine, config)[0] for _ in range(args.repeat))
            raw = min(raw_read(engine) for _ in range(args.repeat))
            print(f"{n:>10} {built:>8.1f} {compiled:>10.2f} {raw:>11.2f} "
                  f"{compiled / raw:>6.1f} {compiled / n * 1e6:>12.1f}", flush=True)
        engine.dispose()


if __name__ == "__main__":
    main()
