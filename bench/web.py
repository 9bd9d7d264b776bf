"""Benchmark: p50/p95 latency of report pages under 50 signed-in users, under gunicorn.

A province of N staff (default 10,000 in units of 50) with evidence for the working days
of November 2026 up to the 20th (``bench.reports_scale.build``), served by
``attendance serve --no-scheduler --workers 2`` on 127.0.0.1. Fifty users (inspectors,
each with their own signed-in session) request pages at once, each a bounded number of
times. Pages:

- ``daily-unit``: the daily report page of one unit (50 staff) for one day;
- ``log-unit``: the violation log of one unit for the month so far (first page);
- ``log-province``: the violation log of the whole province for the month so far;

and, as the baseline measured in the same run under the same 50 users,
``health``: ``GET /api/v1/health`` (gunicorn, Flask, one query — the floor of the stack).

    python -m bench.web                                     # SQLite
    python -m bench.web --database postgresql --staff 10000

The violation log evaluates the rules over its date range on every request
(``attendance.reports.violations``), so its cost grows with staff × days in the range;
see docs/deploy.md / docs/benchmarks.md for the design that makes it an index lookup.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import requests

from attendance import access, badges
from attendance.db import make_engine, make_session_factory
from bench.ingest import PG_DEFAULT, Service, World, scratch_database
from bench.reports_scale import build, working_days

USERS = 50
PASSWORD = "bench-mat-khau-123"
DAY = date(2026, 11, 20)
FIRST = date(2026, 11, 1)


def prepare(url: str, folder: Path, staff: int) -> World:
    engine = make_engine(url)
    build(engine, staff, working_days(FIRST, DAY))
    with make_session_factory(engine)() as session:
        for i in range(USERS):
            access.create_user(session, username=f"thanhtra{i:02d}", role="inspector",
                               password=PASSWORD, now=datetime.now(UTC))
        session.commit()
    engine.dispose()
    keyring = badges.Keyring(folder / "keys")
    keyring.init()
    return World(url, folder, [], [], [])


def sign_in(base: str, username: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{base}/auth/login", timeout=60)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    answer = http.post(f"{base}/auth/login", data={"username": username, "password": PASSWORD,
                                              "csrf_token": token.group(1) if token else ""},
                       timeout=60, allow_redirects=False)
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in failed for {username}: HTTP {answer.status_code}")
    return http


def load(sessions: list[requests.Session], url: str, per_user: int,
         seconds: float) -> tuple[list[float], int]:
    """Every user requests ``url`` ``per_user`` times (or until ``seconds`` pass)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def user(http: requests.Session) -> None:
        nonlocal errors
        mine, bad = [], 0
        for _ in range(per_user):
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            try:
                answer = http.get(url, timeout=max(1.0, deadline - time.monotonic() + 60))
                ok = answer.status_code == 200
            except requests.RequestException:
                ok = False
            mine.append(time.perf_counter() - started)
            bad += not ok
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=user, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--staff", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=USERS, help="concurrent signed-in users")
    parser.add_argument("--per-user", type=int, default=4, help="requests per user per page")
    parser.add_argument("--seconds", type=float, default=120.0, help="time limit per page")
    parser.add_argument("--pages", nargs="+",
                        default=["health", "daily-unit", "log-unit", "log-province"])
    parser.add_argument("--pg", default=os.environ.get("ATTENDANCE_BENCH_PG", PG_DEFAULT))
    args = parser.parse_args(argv)
    days = len(working_days(FIRST, DAY))
    pages = {
        "health": "/api/v1/health",
        "daily-unit": f"/reports/daily?date={DAY}&unit=U00001",
        "log-unit": f"/violations?from={FIRST}&to={DAY}&unit=U00001",
        "log-province": f"/violations?from={FIRST}&to={DAY}",
    }
    with tempfile.TemporaryDirectory() as tmp, \
            scratch_database(args.database, Path(tmp), args.pg, name="attendance_bench_web") as url:
        started = time.perf_counter()
        world = prepare(url, Path(tmp), args.staff)
        print(f"database: {args.database}; {os.cpu_count()} cores; {args.staff} staff, "
              f"{days} working days ({args.staff * days:,} employee-days); "
              f"built in {time.perf_counter() - started:.0f} s; {args.users} signed-in users")
        service = Service(world, workers=2, log=Path(tmp) / "serve.log")
        service.start()
        base = f"http://127.0.0.1:{service.port}"
        try:
            sessions = [sign_in(base, f"thanhtra{i:02d}") for i in range(args.users)]
            print(f"{'page':<13} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} "
                  f"{'max ms':>8} {'p95/health':>10}")
            health_p95 = None
            for name in args.pages:
                sessions[0].get(base + pages[name], timeout=600)  # warm caches once
                latencies, errors = load(sessions, base + pages[name], args.per_user,
                                         args.seconds)
                p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
                if name == "health":
                    health_p95 = p95
                ratio = f"{p95 / health_p95:>10.1f}" if health_p95 else f"{'—':>10}"
                print(f"{name:<13} {len(latencies):>8} {errors:>6} {p50 * 1000:>8.0f} "
                      f"{p95 * 1000:>8.0f} {max(latencies) * 1000:>8.0f} {ratio}", flush=True)
            for http in sessions:
                http.close()
        finally:
            service.stop()


if __name__ == "__main__":
    main()
