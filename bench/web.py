"""Benchmark: p50/p95 latency of the report pages and the violation log under 50 users.

``attendance serve --no-scheduler`` on 127.0.0.1 with the product's default workers (two
per core × 2 threads; ``--workers``, ``--threads`` to change); fifty inspectors, each with
their own signed-in session, request a page, a bounded number of times or for a bounded
time. Pages:

- ``daily-unit``: the daily report page of one unit (50 staff) for one day;
- ``log-unit``: the violation log of one unit for the month so far (first page);
- ``log-province``: the violation log of the whole province for the month so far;
- ``log-year``: the whole province over the last 366 days (the longest range allowed);
- ``log-filtered``: the whole province, month so far, absences without reason only;
- ``log-deep``: page 200 of the province's month (rows 9,951–10,000, the last page of the
  count) and ``log-deeper``: page 2,000 (rows 99,951–100,000);

and, as the baseline measured in the same run under the same users, ``health``:
``GET /api/v1/health`` (gunicorn, Flask, one query — the floor of the stack).

Two ways to load, each printed as its own table (both by default): ``--think 0`` is a
closed loop with no pause, fifty requests always in flight: it measures
queueing (p50 ≈ users ÷ workers × the service time). ``--think 1-3`` pauses each user a
uniformly random 1–3 s before each request (people reading a page), for ``--seconds`` per
page: the latency a user sees at that load.

The province: ``--staff`` employees (units of 50) with scans and excuses for the day of
the daily page (``bench.reports_scale.build``). The violation log reads the stored
findings (``attendance.findings``): on PostgreSQL, ``--violations`` of them (default 10
million) are written straight into ``daily_findings`` with one ``INSERT … SELECT`` over
``generate_series`` (about 20% of employee-days, over as many working days back as needed;
kinds, minutes, times and excuses drawn from a hash), not by running the rules for 10
million rows — that the stored findings equal the rules' evaluation is what
tests/test_findings.py proves. With ``--violations 0`` (and always on SQLite) the
province gets real evidence for every working day of the month so far and the
scheduler's own refresh stores its findings.

    python -m bench.web --database postgresql                # 100,000 staff, 10 million
    python -m bench.web --database postgresql --think 0 --pages health log-province
    python -m bench.web --database sqlite --staff 1000

The scratch database (``--db-name``) is dropped at the end, unless ``--keep``: then it is
kept, and a later run with ``--keep`` finds it built and serves it as it is (so that two
versions of the code can be compared on the same rows; drop it with ``--drop``).
``--service N`` first times N requests of each page in-process (Flask's test client, one
user, no gunicorn): the service time of one request, printed beside the load figures.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import statistics
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests
import sqlalchemy as sa

from attendance import access, badges, findings, migrate
from attendance.cli import serve
from attendance.config import load_config
from attendance.db import make_engine, make_session_factory
from attendance.models import DailyFinding, Employee, Excuse, FindingDay, User
from attendance.models.org import bump_org_version
from bench.ingest import PG_DEFAULT, Service, World, pg_url, scratch_database
from bench.reports_scale import build, working_days

USERS = 50
PASSWORD = "bench-mat-khau-123"
DAY = date(2026, 11, 20)
FIRST = date(2026, 11, 1)
FINDING_RATE = 0.2  # stored findings per employee-day


def fill_findings(engine: sa.Engine, staff: int, violations: int) -> tuple[date, int]:
    """About ``violations`` findings for ``staff`` employees over the working days before
    DAY, straight into ``daily_findings`` (indexes built after), and every calendar day of
    that span recorded as stored under the running config. Returns (first day, rows)."""
    config = load_config()
    count = math.ceil(violations / (staff * FINDING_RATE))
    days = [d for d in working_days(DAY - timedelta(days=2 * count), DAY)][-count:]
    units = max(1, staff // 50)
    with engine.begin() as conn:
        excuses = conn.scalar(sa.select(sa.func.max(Excuse.id))) or 0
        for index in DailyFinding.__table__.indexes:
            index.drop(conn)
        # h: a hash of (employee, day); its low digits choose whether there is a finding,
        # the next ones its kind (late 40%, early leave 12%, no check-out 10%, without
        # badge 8%, away from post 3%, absent 22%, missed session 5%), minutes and excuse.
        conn.execute(sa.text("""
            INSERT INTO daily_findings (day, unit_id, unit_code, employee_id, employee_code,
                                        session, kind, minutes, at, source, excuse_id)
            SELECT day, 2 + (e - 1) % :units, 'U' || lpad(((e - 1) % :units)::text, 5, '0'),
                   e, 'E' || lpad((e - 1)::text, 7, '0'),
                   CASE kind WHEN 5 THEN -1 WHEN 1 THEN 1 WHEN 2 THEN 1
                             WHEN 6 THEN (h / 7) % 2 ELSE 0 END,
                   kind,
                   CASE WHEN kind IN (0, 1) THEN 1 + (h / 100000) % 60 END,
                   CASE kind
                     WHEN 0 THEN (day + time '07:30') AT TIME ZONE :tz
                                 + (1 + (h / 100000) % 60) * interval '1 minute'
                     WHEN 1 THEN (day + time '16:30') AT TIME ZONE :tz
                                 - (1 + (h / 100000) % 60) * interval '1 minute'
                     WHEN 3 THEN (day + time '08:00') AT TIME ZONE :tz
                                 + ((h / 1000) % 240) * interval '1 minute'
                     WHEN 4 THEN (day + time '09:00') AT TIME ZONE :tz
                                 + ((h / 1000) % 300) * interval '1 minute'
                   END,
                   CASE kind WHEN 3 THEN 'guard' WHEN 4 THEN 'spot_check' ELSE 'scan' END,
                   CASE WHEN :excuses > 0 AND (h / 13) % 100 < 3
                        THEN 1 + (h / 17) % :excuses END
            FROM (
                SELECT day, e, h,
                       CASE WHEN b < 40 THEN 0 WHEN b < 52 THEN 1 WHEN b < 62 THEN 2
                            WHEN b < 70 THEN 3 WHEN b < 73 THEN 4 WHEN b < 95 THEN 5
                            ELSE 6 END AS kind
                FROM (
                    SELECT d.day, e, h, (h / 10000) % 100 AS b
                    FROM unnest(CAST(:days AS date[])) AS d(day)
                    CROSS JOIN generate_series(1, :staff) AS e
                    CROSS JOIN LATERAL (SELECT hashint8(e::bigint * 100000
                                                        + (d.day - date '2000-01-01'))
                                               & 2147483647 AS h) AS x
                ) AS drawn
                WHERE h % 10000 < :threshold
            ) AS chosen
        """), {"units": units, "tz": config.timezone, "excuses": excuses, "days": days,
               "staff": staff, "threshold": round(10000 * violations / (staff * len(days)))})
        for index in DailyFinding.__table__.indexes:
            index.create(conn)
        calendar = [days[0] + timedelta(days=i) for i in range((DAY - days[0]).days + 1)]
        conn.execute(sa.insert(FindingDay), [
            {"day": d, "fingerprint": findings.fingerprint(config, d),
             "computed_at": datetime.now(UTC)} for d in calendar])
        rows = conn.scalar(sa.select(sa.func.count()).select_from(DailyFinding))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE daily_findings"))
    return days[0], rows


def prepare(url: str, staff: int, violations: int) -> str:
    """The province, the users and the stored findings; returns what was stored."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    if violations:
        build(engine, staff, [DAY])
        first, rows = fill_findings(engine, staff, violations)
        stored = f"{staff:,} staff, {rows:,} findings stored directly, {first} to {DAY}"
    else:
        build(engine, staff, working_days(FIRST, DAY))
        run = findings.refresh(factory, load_config(), datetime.now(UTC), max_days=None)
        stored = (f"{staff:,} staff, {run.findings:,} findings stored by the refresh, "
                  f"{len(run.days)} days")
    with engine.begin() as conn:
        bump_org_version(conn)  # the units went in without the ORM
    with factory() as session:
        for i in range(USERS):
            access.create_user(session, username=f"thanhtra{i:02d}", role="inspector",
                               password=PASSWORD, now=datetime.now(UTC))
        session.commit()
    engine.dispose()
    return stored


def built(url: str) -> str | None:
    """What a kept database holds, or None if it was not built to the end."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if conn.scalar(sa.select(User.id).where(User.username == f"thanhtra{USERS - 1:02d}")
                           ) is None:
                return None
            staff = conn.scalar(sa.select(sa.func.count()).select_from(Employee))
            rows = conn.scalar(sa.select(sa.func.count()).select_from(DailyFinding))
    except sa.exc.DBAPIError:
        return None
    finally:
        engine.dispose()
    return f"kept database: {staff:,} staff, {rows:,} findings stored"


@contextmanager
def kept_database(server: str, name: str):
    """``name`` on the server, created (and migrated) if missing; never dropped here."""
    admin = sa.create_engine(pg_url(server, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                           {"name": name}):
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = pg_url(server, name)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url


def drop(server: str, name: str) -> None:
    admin = sa.create_engine(pg_url(server, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


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


def load(sessions: list[requests.Session], url: str, per_user: int, seconds: float,
         think: tuple[float, float] | None = None) -> tuple[list[float], Counter]:
    """Every user requests ``url`` ``per_user`` times, or until ``seconds`` pass; with
    ``think`` (low, high seconds) each pauses a random while first and between requests.
    Returns the latencies and the failures by kind (an HTTP status or an exception)."""
    latencies: list[float] = []
    errors: Counter = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def user(http: requests.Session, rng: random.Random) -> None:
        mine, bad = [], Counter()
        for _ in range(per_user):
            if think:
                time.sleep(rng.uniform(*think))
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            try:
                answer = http.get(url, timeout=max(1.0, deadline - time.monotonic() + 60))
                failure = None if answer.status_code == 200 else f"HTTP {answer.status_code}"
            except requests.RequestException as exc:
                failure = f"{type(exc).__name__}: {exc}"[:120]
            mine.append(time.perf_counter() - started)
            if failure:
                bad[failure] += 1
        with lock:
            latencies.extend(mine)
            errors.update(bad)

    threads = [threading.Thread(target=user, args=(s, random.Random(i)))
               for i, s in enumerate(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def pages() -> dict[str, str]:
    month = f"from={FIRST}&to={DAY}"
    return {
        "health": "/api/v1/health",
        "daily-unit": f"/reports/daily?date={DAY}&unit=U00001",
        "log-unit": f"/violations?{month}&unit=U00001",
        "log-province": f"/violations?{month}",
        "log-year": f"/violations?from={DAY - timedelta(days=365)}&to={DAY}",
        "log-filtered": f"/violations?{month}&type=absent&status=open",
        "log-deep": f"/violations?{month}&page=200",
        "log-deeper": f"/violations?{month}&page=2000",
    }


def service_times(url: str, folder: Path, names: list[str], count: int) -> None:
    """``count`` requests of each page in-process, one after the other, after one to warm."""
    os.environ.update(World(url, folder, [], [], []).env)
    from web import create_app

    app = create_app({"DATABASE_URL": url})
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    client.post("/auth/login", data={"username": "thanhtra00", "password": PASSWORD,
                                     "csrf_token": token.group(1) if token else ""})
    print(f"\nservice time in-process, one user: {count} requests per page "
          f"(load {_load()})")
    print(f"{'page':<13} {'min ms':>8} {'median ms':>9} {'max ms':>8} {'KB':>6}")
    for name in names:
        size = len(client.get(pages()[name]).data)
        times = []
        for _ in range(count):
            started = time.perf_counter()
            answer = client.get(pages()[name])
            times.append(time.perf_counter() - started)
            if answer.status_code != 200:
                raise RuntimeError(f"{name}: HTTP {answer.status_code}")
        print(f"{name:<13} {min(times) * 1000:>8.1f} {statistics.median(times) * 1000:>9.1f} "
              f"{max(times) * 1000:>8.1f} {size / 1024:>6.0f}", flush=True)
    app.extensions["attendance"]["engine"].dispose()


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run_pages(base: str, sessions: list[requests.Session], args, think) -> None:
    if think is None:
        print(f"\nno pause: {args.per_user} requests per user per page")
    else:
        print(f"\npauses of {think[0]:g}–{think[1]:g} s: {args.seconds:g} s per page")
    print(f"load average before: {_load()}")
    print(f"{'page':<13} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'max ms':>8} {'p95/health':>10}")
    per_user = args.per_user if think is None else 10**6  # with pauses: until --seconds
    health_p95 = None
    for name in args.pages:
        url = base + pages()[name]
        sessions[0].get(url, timeout=600)  # warm caches once
        latencies, errors = load(sessions, url, per_user, args.seconds, think)
        p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
        if name == "health":
            health_p95 = p95
        ratio = f"{p95 / health_p95:>10.1f}" if health_p95 else f"{'—':>10}"
        print(f"{name:<13} {len(latencies):>8} {errors.total():>6} {p50 * 1000:>8.0f} "
              f"{p95 * 1000:>8.0f} {max(latencies) * 1000:>8.0f} {ratio}  "
              f"load {_load()}", flush=True)
        if errors:
            print(f"{'':<13} failures: "
                  + ", ".join(f"{kind} × {n}" for kind, n in errors.most_common()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--staff", type=int, default=None,
                        help="employees (default: 100,000 on PostgreSQL, 1,000 on SQLite)")
    parser.add_argument("--violations", type=int, default=None,
                        help="findings stored directly (PostgreSQL; default 10,000,000); 0: "
                             "evidence for the month, stored by the scheduler's refresh")
    parser.add_argument("--users", type=int, default=USERS, help="concurrent signed-in users")
    parser.add_argument("--per-user", type=int, default=4, help="requests per user per page")
    parser.add_argument("--seconds", type=float, default=60.0, help="time limit per page")
    parser.add_argument("--think", nargs="+", default=["0", "1-3"],
                        help="seconds each user pauses before each request: 0, or LOW-HIGH; "
                             "several: one table each")
    parser.add_argument("--workers", type=int, default=serve.DEFAULT_WORKERS)
    parser.add_argument("--threads", type=int, default=serve.DEFAULT_THREADS,
                        help="per worker (gthread)")
    parser.add_argument("--pages", nargs="+", default=list(pages()), choices=list(pages()))
    parser.add_argument("--pg", default=os.environ.get("ATTENDANCE_BENCH_PG", PG_DEFAULT))
    parser.add_argument("--db-name", default="attendance_bench_web")
    parser.add_argument("--keep", action="store_true",
                        help="keep the database (PostgreSQL) and serve it as it is if a "
                             "previous --keep run built it")
    parser.add_argument("--drop", action="store_true", help="drop a kept database and stop")
    parser.add_argument("--service", type=int, default=0, metavar="N",
                        help="first time N requests of each page in-process (one user)")
    args = parser.parse_args(argv)
    if args.drop:
        drop(args.pg, args.db_name)
        return
    postgres = args.database == "postgresql"
    staff = args.staff or (100_000 if postgres else 1_000)
    violations = args.violations if args.violations is not None else (
        10_000_000 if postgres else 0)
    if violations and not postgres:
        parser.error("--violations needs --database postgresql (use 0 on SQLite)")
    if args.keep and not postgres:
        parser.error("--keep needs --database postgresql")
    models = [None if text == "0" else tuple(float(x) for x in text.split("-"))
              for text in args.think]
    with tempfile.TemporaryDirectory() as tmp, (
            kept_database(args.pg, args.db_name) if args.keep else
            scratch_database(args.database, Path(tmp), args.pg, name=args.db_name)) as url:
        started = time.perf_counter()
        stored = built(url) if args.keep else None
        if stored is None:
            if args.keep:  # a run stopped half-way: start again
                drop(args.pg, args.db_name)
                with kept_database(args.pg, args.db_name):
                    pass
            stored = prepare(url, staff, violations)
        badges.Keyring(Path(tmp) / "keys").init()
        print(f"database: {args.database}; {os.cpu_count()} cores; {stored}; "
              f"ready in {time.perf_counter() - started:.0f} s; {args.users} signed-in users; "
              f"{args.workers} workers × {args.threads} threads")
        if args.service:
            service_times(url, Path(tmp), args.pages, args.service)
        service = Service(World(url, Path(tmp), [], [], []), workers=args.workers,
                          threads=args.threads, log=Path(tmp) / "serve.log")
        service.start()
        base = f"http://127.0.0.1:{service.port}"
        try:
            sessions = [sign_in(base, f"thanhtra{i:02d}") for i in range(args.users)]
            for think in models:
                run_pages(base, sessions, args, think)
            for http in sessions:
                http.close()
        finally:
            service.stop()


if __name__ == "__main__":
    main()
