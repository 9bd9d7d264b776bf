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
import tempfile
import time

import sqlalchemy as sa

from attendance.config import load_config
from attendance.db import make_engine, make_session_factory
from attendance.models import Employee, Scan
from attendance.reports import compile_daily
from bench.reports_scale import DAY, build, reset



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
            reset(engine)
            t0 = time.perf_counter()
            build(engine, n, [DAY])
            built = time.perf_counter() - t0
            compiled = min(compile_once(engine, config)[0] for _ in range(args.repeat))
            raw = min(raw_read(engine) for _ in range(args.repeat))
            print(f"{n:>10} {built:>8.1f} {compiled:>10.2f} {raw:>11.2f} "
                  f"{compiled / raw:>6.1f} {compiled / n * 1e6:>12.1f}", flush=True)
        engine.dispose()


if __name__ == "__main__":
    main()
