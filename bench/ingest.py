"""Benchmark: accepted scans per second through ``POST /api/v1/scans`` under gunicorn.

The service runs as in production — ``attendance serve --no-scheduler`` (its default workers) on
127.0.0.1 — against a real database with issued badges (genuinely signed Ed25519 payloads)
and registered stations. Three load shapes, each with a bounded request count and time:

- ``batch``: 4 stations posting batches of 100 scans back to back;
- ``single``: 4 stations posting one scan per request;
- ``stations20``: 20 stations posting one scan per request at once (the morning peak).

Beside each, measured in the same run on the same database: the *raw-insert limit* — the
same rows (same columns, same sizes) inserted straight into the ``scans`` table with
SQLAlchemy core ``executemany`` on one connection, one commit per 100 rows (for ``batch``)
or one commit per row (for the single-scan shapes, which commit once per request). The
ratio HTTP / raw is what the service keeps of what the database can take.

Each simulated station keeps one HTTP connection open, as the station program's
``requests.Session`` does, and its request bodies are built before the clock starts; only
scans the service answered ``accepted`` are counted.

Each shape also prints the CPU it cost per request, read from ``/proc``: the gunicorn
workers (``svc ms``), the PostgreSQL server processes serving them (``db ms``; on SQLite the
database works inside the workers) and this load generator while it sends (``gen ms``). On
a shared machine these vary less than the rates do.

Before the shapes, every station sends a few requests (workers, pools and prepared
statements warm up) and then every badge once, in batches of 500, so that each worker has
checked each badge's signature before, as a worker that has run for a few working days
has (it remembers them: ``attendance.scans``); ``--cold`` leaves that out, so that nearly
every single scan is a badge the worker has not seen yet (~0.15–0.2 ms of Ed25519 more),
the cost in the first morning after a restart. On PostgreSQL the tables are then
``ANALYZE``d, as autovacuum does within a minute of a new table filling up: without
statistics the planner looks up a batch's event ids by reading all of the station's rows,
which no running server does.

    python -m bench.ingest                       # SQLite, then PostgreSQL if reachable
    python -m bench.ingest --databases sqlite --seconds 10
    python -m bench.ingest --databases postgresql --pg postgresql://postgres@127.0.0.1:5432

PostgreSQL: a scratch database (``--pg-name``, default ``attendance_bench``) is created and
dropped afterwards. The load generator runs on the same 2-core machine as the service and
the database, so every figure here includes its cost; it talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from attendance import access, badges, migrate
from attendance.cli import serve
from attendance.db import make_engine
from attendance.models import Badge, Employee, Scan, Station, Unit

ROOT = Path(__file__).resolve().parents[1]
ATTENDANCE = str(ROOT / ".venv" / "bin" / "attendance")
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432"
BENCH_DB = "attendance_bench"


# --- a world: units, employees with issued badges, stations -------------------------------


@dataclass
class World:
    url: str
    folder: Path  # instance folder (evidence) and keys
    payloads: list[str]  # one genuine badge payload per employee, index = employee id - 1
    serials: list[str]
    stations: list[tuple[int, str, str]]  # (id, code, key)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "ATTENDANCE_DATABASE_URL": self.url,
                "ATTENDANCE_INSTANCE": str(self.folder / "instance"),
                badges.KEYS_DIR_ENV: str(self.folder / "keys"),
                "ATTENDANCE_SECRET_KEY": "bench-secret"}


def pg_url(server: str, name: str) -> str:
    return f"postgresql+psycopg://{server.split('://', 1)[1].rstrip('/')}/{name}"


@contextmanager
def scratch_database(kind: str, folder: Path, pg_server: str = PG_DEFAULT, name: str = BENCH_DB):
    """A fresh, migrated database: a SQLite file in ``folder`` or ``name`` on the server
    (created here and dropped on the way out)."""
    if kind == "sqlite":
        url = f"sqlite:///{folder}/bench.sqlite3"
    else:
        admin = sa.create_engine(pg_url(pg_server, "postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        admin.dispose()  # no idle connection left open meanwhile (the soak looks for others)
        url = pg_url(pg_server, name)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        if kind != "sqlite":
            with admin.connect() as conn:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            admin.dispose()


def build_world(url: str, folder: Path, *, employees: int, stations: int,
                units: int = 20) -> World:
    """Units, employees, one issued badge each (signed by a keyring in ``folder/keys``), and
    registered stations. Rows go in with core inserts: the same rows ``issue_badges`` and
    ``register_station`` would leave, without their per-row audit entries."""
    keyring = badges.Keyring(folder / "keys")
    keyring.init(datetime.now(UTC) - timedelta(days=30))
    key_id = keyring.current_key_id
    private = keyring._private_key(key_id)  # one load, then thousands of signatures
    now = datetime.now(UTC)
    payloads, serials, badge_rows = [], [], []
    for i in range(employees):
        code, serial = f"NV{i + 1:06d}", f"B{i + 1:09d}"
        signature = private.sign(badges.signed_message(code, serial, key_id))
        payloads.append(badges.format_payload(code, serial, key_id, signature))
        serials.append(serial)
        badge_rows.append({"id": i + 1, "serial": serial, "employee_id": i + 1,
                           "key_id": key_id, "issued_at": now - timedelta(days=1)})
    station_list = []
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.insert(Unit), [{"id": u + 1, "code": f"U{u:03d}", "name": f"Sở {u}"}
                                       for u in range(units)])
        rows = [{"id": i + 1, "code": f"NV{i + 1:06d}", "full_name": f"Nguyễn Văn {i + 1}",
                 "unit_id": 1 + i % units, "category": "CC"} for i in range(employees)]
        for start in range(0, employees, 10_000):
            conn.execute(sa.insert(Employee), rows[start:start + 10_000])
            conn.execute(sa.insert(Badge), badge_rows[start:start + 10_000])
        for s in range(stations):
            key = access.new_station_key()
            code = f"CONG-{s + 1:02d}"
            conn.execute(sa.insert(Station).values(
                id=s + 1, code=code, unit_id=1 + s % units, key_hash=access.hash_station_key(key),
                created_at=now, active=True))
            station_list.append((s + 1, code, key))
        if engine.dialect.name == "postgresql":  # ids given explicitly: move the sequences on
            for table in ("units", "employees", "badges", "stations"):
                conn.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"))
    engine.dispose()
    return World(url, folder, payloads, serials, station_list)


# --- the service under gunicorn -----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Service:
    """``attendance serve --no-scheduler`` as a subprocess on 127.0.0.1 (by default with the
    workers and threads ``attendance serve`` itself defaults to)."""

    def __init__(self, world: World, *, workers: int = serve.DEFAULT_WORKERS,
                 threads: int = serve.DEFAULT_THREADS,
                 port: int | None = None, log: Path | None = None) -> None:
        self.world, self.workers, self.threads = world, workers, threads
        self.port = port or free_port()
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        out = self.log.open("ab") if self.log else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [ATTENDANCE, "serve", "--no-scheduler", "--workers", str(self.workers),
             "--threads", str(self.threads),
             "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.world.env, stdout=out, stderr=out, start_new_session=True)
        if self.log:
            out.close()  # the child holds its own copy
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"attendance serve exited with {self.process.returncode}")
            try:
                status, _ = request(self.port, "GET", "/api/v1/health", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("attendance serve did not answer in time")

    def worker_pids(self) -> list[int]:
        """The gunicorn workers (the arbiter's children)."""
        return children(self.process.pid) if self.process else []

    def kill(self) -> None:
        """SIGKILL the whole process group (arbiter and workers), as a crash would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None, timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by ``pids`` (those still running)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def database_pids(url: str) -> list[int]:
    """The PostgreSQL server processes serving ``url``'s database (none for SQLite)."""
    if not url.startswith("postgresql"):
        return []
    engine = make_engine(url)
    with engine.connect() as conn:
        pids = list(conn.scalars(sa.text(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")))
    engine.dispose()
    return pids


# --- load ---------------------------------------------------------------------------------


@dataclass
class Shape:
    name: str
    stations: int
    batch: int
    requests_per_station: int


def scan_body(world: World, tag: str, station: int, start: int, count: int) -> bytes:
    now = datetime.now(UTC).astimezone().isoformat(timespec="milliseconds")
    scans = []
    for i in range(start, start + count):
        employee = (station * 7919 + i) % len(world.payloads)
        scans.append({"event_id": f"{tag}-{station}-{i}", "payload": world.payloads[employee],
                      "scanned_at": now, "queued_seconds": 0.2})
    return json.dumps({"sent_at": now, "scans": scans}).encode()


class StationClient:
    """One simulated station's HTTP/1.1 client: a kept-alive connection, as the station
    program's ``requests.Session`` keeps one. The generator shares the two cores with the
    service, so it is kept lean: the request head is formatted once and the answer read
    with a minimal parser (status, ``Content-Length``, body) — 0.13–0.19 ms of CPU a
    request against http.client's 0.35–0.47, a tenth of a single scan's budget. A
    request that finds the connection closed (the server drops idle ones) is sent again on
    a new one: event ids make that safe, and a scan stored by the first attempt answers
    ``duplicate``, which is not counted."""

    def __init__(self, port: int, key: str):
        self.port = port
        self.head = (f"POST /api/v1/scans HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
                     "Content-Length: ").encode()
        self.sock: socket.socket | None = None
        self.pending = b""  # received beyond the last answer

    def post(self, body: bytes) -> tuple[int, bytes]:
        for attempt in range(2):
            try:
                if self.sock is None:
                    self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
                    self.pending = b""
                self.sock.sendall(b"%s%d\r\n\r\n%s" % (self.head, len(body), body))
                return self._answer()
            except OSError:
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _answer(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.pending:
            self._receive()
        head, _, _ = self.pending.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        fields = {name.strip().lower(): value.strip()
                  for name, _, value in (line.partition(b":") for line in lines[1:])}
        start = len(head) + 4
        end = start + int(fields[b"content-length"])
        while len(self.pending) < end:
            self._receive()
        body, self.pending = self.pending[start:end], self.pending[end:]
        if fields.get(b"connection", b"").lower() == b"close":
            self.close()
        return status, body

    def _receive(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionResetError("the server closed the connection")
        self.pending += data

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def shape_bodies(world: World, shape: Shape, tag: str) -> list[list[bytes]]:
    """Every request body of ``shape``, per station: genuinely signed payloads, distinct
    event ids. Built before the clock starts, so that the timed part is what a station's
    uploader does: send and read."""
    return [[scan_body(world, tag, index, r * shape.batch, shape.batch)
             for r in range(shape.requests_per_station)] for index in range(shape.stations)]


def run_shape(world: World, port: int, bodies: list[list[bytes]], seconds: float) -> dict:
    """Send each station's ``bodies`` until they are done or ``seconds`` pass; count the
    answers (``accepted`` only for a scan the service acknowledged as stored)."""
    counts = {"accepted": 0, "other": 0, "errors": 0, "requests": 0}
    lock = threading.Lock()

    def station_loop(index: int, deadline: float) -> None:
        client = StationClient(port, world.stations[index][2])
        accepted = other = errors = done = 0
        for body in bodies[index]:
            if time.monotonic() > deadline:
                break
            try:
                status, answer = client.post(body)
            except (ValueError, KeyError, OSError):  # no answer, or not HTTP
                errors += 1
                continue
            done += 1
            if status != 200:
                errors += 1
                continue
            for result in json.loads(answer)["results"]:
                if result["status"] == "accepted":
                    accepted += 1
                else:
                    other += 1
        client.close()
        with lock:
            counts["accepted"] += accepted
            counts["other"] += other
            counts["errors"] += errors
            counts["requests"] += done

    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=station_loop, args=(i, deadline))
               for i in range(len(bodies))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts["seconds"] = time.perf_counter() - started
    return counts


# --- the baseline: raw inserts of the same rows -------------------------------------------


def raw_rows(world: World, tag: str, count: int) -> list[dict]:
    now = datetime.now(UTC)
    prev = "0" * 64
    rows = []
    for i in range(count):
        employee = (7919 + i) % len(world.payloads)
        digest = hashlib.sha256(f"{prev}{tag}{i}".encode()).hexdigest()
        rows.append({"source": f"raw:{tag}", "station_id": 1, "event_id": f"{tag}-{i}",
                     "employee_id": employee + 1, "badge_serial": world.serials[employee],
                     "status": "accepted", "reason": None, "payload": world.payloads[employee],
                     "scanned_at": now, "station_time": now, "received_at": now, "flags": "",
                     "evidence_path": None, "supersedes_id": None, "stream": f"raw:{tag}",
                     "seq": i + 1, "prev_hash": prev, "hash": digest})
        prev = digest
    return rows


def raw_insert(url: str, rows: list[dict], per_commit: int) -> float:
    """Rows per second inserted with core executemany, one commit per ``per_commit`` rows."""
    engine = make_engine(url)
    table = Scan.__table__
    with engine.connect() as conn:  # connect first: the timing is inserts and commits only
        conn.execute(sa.text("SELECT 1"))
        conn.commit()
        started = time.perf_counter()
        for start in range(0, len(rows), per_commit):
            conn.execute(sa.insert(table), rows[start:start + per_commit])
            conn.commit()
        elapsed = time.perf_counter() - started
    engine.dispose()
    return len(rows) / elapsed


def stored_counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        scans = conn.scalar(sa.select(sa.func.count()).select_from(Scan))
        dupes = conn.scalar(sa.select(sa.func.count()).select_from(
            sa.select(Scan.source, Scan.event_id).group_by(Scan.source, Scan.event_id)
            .having(sa.func.count() > 1).subquery()))
    engine.dispose()
    return scans, dupes


def warm_up(world: World, port: int, *, badges_seen: bool = True) -> None:
    """A few requests from every station; then, with ``badges_seen``, every badge from every
    station (each worker serves some stations: so it checks every signature once); then
    statistics for the planner (PostgreSQL)."""
    warm = Shape("warm-up", len(world.stations), 10, 5)
    run_shape(world, port, shape_bodies(world, warm, "warm-up"), 30)
    if badges_seen:
        batch = 500
        every = Shape("badges", len(world.stations), batch, -(-len(world.payloads) // batch))
        run_shape(world, port, shape_bodies(world, every, "badges"), 600)
    if world.url.startswith("postgresql"):
        engine = make_engine(world.url)
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
        engine.dispose()


SHAPES = {
    "batch": Shape("batch", stations=4, batch=100, requests_per_station=150),
    "single": Shape("single", stations=4, batch=1, requests_per_station=3000),
    "stations20": Shape("stations20", stations=20, batch=1, requests_per_station=600),
}


def bench_database(kind: str, args) -> list[tuple]:
    lines = []
    with tempfile.TemporaryDirectory() as tmp, \
            scratch_database(kind, Path(tmp), args.pg, args.pg_name) as url:
        world = build_world(url, Path(tmp), employees=args.employees, stations=20)
        service = Service(world, workers=args.workers, threads=args.threads,
                          log=Path(tmp) / "serve.log")
        service.start()
        try:
            warm_up(world, service.port, badges_seen=not args.cold)
            for name in args.shapes:
                shape = SHAPES[name]
                bodies = shape_bodies(world, shape, name)
                processes = {"svc": service.worker_pids(), "db": database_pids(url)}
                before = {key: cpu_seconds(pids) for key, pids in processes.items()}
                generator = time.process_time()
                measured = run_shape(world, service.port, bodies, args.seconds)
                cpu = {key: cpu_seconds(pids) - before[key] for key, pids in processes.items()}
                cpu["gen"] = time.process_time() - generator
                rate = measured["accepted"] / measured["seconds"]
                per_request = measured["requests"] / measured["seconds"]
                per_ms = {key: 1000 * value / max(measured["requests"], 1)
                          for key, value in cpu.items()}
                rows = raw_rows(world, name, max(200, measured["accepted"]))
                raw = raw_insert(url, rows, 100 if shape.batch > 1 else 1)
                lines.append((kind, name, shape.stations, shape.batch, measured["accepted"],
                              measured["errors"] + measured["other"], rate, per_request, raw,
                              rate / raw, per_ms))
                print(f"{kind:<10} {name:<10} {shape.stations:>3} {shape.batch:>5} "
                      f"{measured['accepted']:>8} {measured['errors'] + measured['other']:>6} "
                      f"{rate:>9.0f} {per_request:>8.0f} {raw:>9.0f} {rate / raw:>6.2f} "
                      f"{per_ms['svc']:>7.2f} {per_ms['db']:>6.2f} {per_ms['gen']:>6.2f}",
                      flush=True)
        finally:
            service.stop()
        scans, dupes = stored_counts(url)
        print(f"{kind:<10} stored scan rows: {scans}, duplicated (source, event_id): {dupes}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--seconds", type=float, default=15.0,
                        help="time limit per shape (each also has a request limit)")
    parser.add_argument("--employees", type=int, default=5000)
    parser.add_argument("--cold", action="store_true",
                        help="workers have not seen the badges before (right after a restart)")
    parser.add_argument("--workers", type=int, default=serve.DEFAULT_WORKERS,
                        help="as attendance serve: two per core")
    parser.add_argument("--threads", type=int, default=serve.DEFAULT_THREADS,
                        help="per worker (gthread)")
    parser.add_argument("--pg", default=os.environ.get("ATTENDANCE_BENCH_PG", PG_DEFAULT))
    parser.add_argument("--pg-name", default=BENCH_DB,
                        help="the scratch database's name (created, then dropped)")
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores; gunicorn workers: {args.workers} "
          f"× {args.threads} threads; "
          f"employees with badges: {args.employees} "
          f"({'not seen by the workers yet' if args.cold else 'each seen before'}); "
          f"python {sys.version.split()[0]}")
    print(f"{'database':<10} {'shape':<10} {'st':>3} {'batch':>5} {'accepted':>8} {'other':>6} "
          f"{'scans/s':>9} {'req/s':>8} {'raw/s':>9} {'ratio':>6} {'svc ms':>7} {'db ms':>6} "
          f"{'gen ms':>6}")
    for kind in args.databases:
        bench_database(kind, args)


if __name__ == "__main__":
    main()
