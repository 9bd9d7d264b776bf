"""Soak with faults: a simulated morning peak through 20 stations while the service dies.

N staff arrive over a compressed window (a peak in the middle, as at a gate at 07:30)
and scan their badges at 20 stations. Each station is the station's own durable queue and
uploader — ``scanner.outbox.Outbox`` (SQLite, fsynced before anyone is told) with its
``Sender`` thread and ``scanner.cli.ApiClient`` — talking to the service under gunicorn
(``attendance serve --no-scheduler`` with its default workers, on 127.0.0.1). A few staff
tap twice, and about 1% of the codes are forged (rejected, but still recorded).

During the window the service's whole process group is killed with SIGKILL and started
again (twice); on PostgreSQL the service's database connections can be killed
(``--pg-terminate N``: ``pg_terminate_backend``, as in a database crash, touching no one
else's) and, when asked (``--pg-restart``), the server itself restarted with
``pg_ctlcluster``. Afterwards, once every outbox has drained, the event ids the stations
created (each one fsynced in an outbox before the scan was "shown") are compared with the
``Scan`` rows: every one must be stored exactly once — zero lost, zero duplicated, nothing
stored that no station created — and the hash chains must verify.

    python -m bench.soak                                   # SQLite, 3,000 staff, 30 s
    python -m bench.soak --database postgresql --staff 20000 --window 180 --pg-restart

``--pg-restart`` restarts the PostgreSQL server that colleagues' tests also use: it is
opt-in, waits (up to a minute) for a moment when no other client is connected, and is
skipped — and reported so — if none comes; the restart itself takes about a second. A scratch database ``attendance_soak`` is created and
dropped on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from attendance.audit import verify_chains
from attendance.db import make_engine, make_session_factory
from attendance.models import Scan
from bench.ingest import PG_DEFAULT, Service, World, build_world, scratch_database
from scanner.cli import ApiClient
from scanner.outbox import Backoff, Outbox, Sender

STATIONS = 20
log = logging.getLogger("bench.soak")


@dataclass
class Station:
    code: str
    outbox: Outbox
    sender: Sender
    client: ApiClient
    created: list[str] = field(default_factory=list)  # event ids, in the order enqueued
    answers: Counter = field(default_factory=Counter)  # status -> count, as the sender saw
    lock: threading.Lock = field(default_factory=threading.Lock)


def others_connected(url: str) -> list[str]:
    """Databases other clients of the server are connected to (this soak's excluded)."""
    own = sa.make_url(url).database
    engine = make_engine(url)
    with engine.connect() as conn:
        names = list(conn.scalars(sa.text(
            "SELECT datname FROM pg_stat_activity WHERE backend_type = 'client backend'"
            " AND pid <> pg_backend_pid() AND datname IS DISTINCT FROM :own"), {"own": own}))
    engine.dispose()
    return [str(name) for name in names]


def terminate_connections(url: str) -> str:
    """Kill every server process serving this soak's database (the service's pooled
    connections die as in a database crash), without touching anyone else's."""
    own = sa.make_url(url).database
    engine = make_engine(url)
    with engine.connect() as conn:
        killed = conn.scalar(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = :own AND pid <> pg_backend_pid()"), {"own": own})
    engine.dispose()
    return f"PostgreSQL: {killed} connection(s) of the service terminated"


def pg_restart(url: str, wait: float = 60.0, *, force: bool = False) -> str:
    """Restart the local PostgreSQL cluster when nobody else is using it.

    Colleagues' tests use the same server: the restart waits up to ``wait`` seconds for a
    moment with no other client connected, and is skipped (and said so) if none comes.
    ``force`` restarts at once (CI, whose server is the job's own).
    """
    deadline = time.monotonic() + wait
    while not force and (others := others_connected(url)):
        if time.monotonic() > deadline:
            return (f"PostgreSQL restart SKIPPED (other clients connected: "
                    f"{', '.join(sorted(set(others)))})")
        time.sleep(0.5)
    version = max(os.listdir("/etc/postgresql"), key=lambda v: float(v) if v[0].isdigit() else 0)
    started = time.monotonic()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                   check=True, capture_output=True, timeout=120)
    return f"PostgreSQL restarted ({time.monotonic() - started:.1f} s)"


def arrivals(staff: int, window: float, rng: random.Random) -> list[tuple[float, int, bool]]:
    """(second, employee index, forged) for each scan: a triangular peak over ``window``,
    with 3% of staff tapping twice a moment later."""
    out = []
    for i in range(staff):
        at = rng.triangular(0, window, window / 2)
        out.append((at, i, rng.random() < 0.01))
        if rng.random() < 0.03:
            out.append((min(window, at + rng.uniform(0.5, 3)), i, False))
    out.sort()
    return out


def forge(payload: str) -> str:
    fields = payload.split("|")
    fields[2] = fields[2][:3] + ("A" if fields[2][3] != "A" else "B") + fields[2][4:]
    return "|".join(fields)


def run_soak(url: str, folder: Path, *, staff: int, window: float, kills: int = 2,
             pg_restarts: int = 0, pg_force: bool = False, pg_terminations: int = 0,
             drain_timeout: float = 180.0,
             seed: int = 7,
             world: World | None = None, report=print) -> dict:
    """Run the peak with faults against ``url`` (a migrated, empty database)."""
    rng = random.Random(seed)
    world = world or build_world(url, folder, employees=staff, stations=STATIONS)
    service = Service(world, log=folder / "serve.log")
    service.start()
    server = f"http://127.0.0.1:{service.port}"
    stations: list[Station] = []
    for _, code, key in world.stations:
        client = ApiClient(server, key, timeout=10)
        outbox = Outbox(folder / "stations" / code / "outbox.sqlite3")
        station = Station(code, outbox, None, client)  # type: ignore[arg-type]

        def on_result(item, result, station=station):
            with station.lock:
                station.answers[result.get("status")] += 1

        station.sender = Sender(outbox, client.post_scans, client.post_no_badge,
                                backoff=Backoff(base=0.2, cap=3.0), on_result=on_result,
                                idle_wait=0.2)
        station.sender.start()
        stations.append(station)

    # Faults at fixed points of the window: kills, then the database's faults.
    kinds = ["kill"] * kills + ["terminate"] * pg_terminations + ["restart"] * pg_restarts
    faults = [(window * (i + 1) / (len(kinds) + 1), kind) for i, kind in enumerate(kinds)]
    timeline: list[str] = []

    def chaos(t0: float) -> None:
        for at, kind in faults:
            time.sleep(max(0.0, t0 + at - time.monotonic()))
            if kind == "kill":
                service.kill()
                timeline.append(f"{time.monotonic() - t0:6.1f} s  SIGKILL service")
                time.sleep(1.0)
                started = time.monotonic()
                service.start()
                timeline.append(f"{time.monotonic() - t0:6.1f} s  service back "
                                f"({time.monotonic() - started:.1f} s to start)")
            elif kind == "terminate":
                outcome = terminate_connections(url)
                timeline.append(f"{time.monotonic() - t0:6.1f} s  {outcome}")
            else:
                outcome = pg_restart(url, force=pg_force)
                timeline.append(f"{time.monotonic() - t0:6.1f} s  {outcome}")

    plan = arrivals(staff, window, rng)
    backlog_peak = 0
    t0 = time.monotonic()
    chaos_thread = threading.Thread(target=chaos, args=(t0,), daemon=True)
    chaos_thread.start()
    try:
        for n, (at, employee, forged) in enumerate(plan):
            delay = t0 + at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            station = stations[employee % STATIONS]
            payload = world.payloads[employee]
            event_id, new = station.outbox.enqueue({
                "payload": forge(payload) if forged else payload,
                "scanned_at": datetime.now().astimezone().isoformat(timespec="milliseconds"),
            })
            assert new
            station.created.append(event_id)  # on disk in the outbox: the scan was "shown"
            if n % 500 == 0:
                backlog_peak = max(backlog_peak, sum(s.outbox.count() for s in stations))
        peak_seconds = time.monotonic() - t0
        chaos_thread.join()
        drain_started = time.monotonic()
        drained = all(s.sender.drain(max(1.0, drain_timeout - (time.monotonic() - drain_started)))
                      for s in stations)
        drain_seconds = time.monotonic() - drain_started
    finally:
        for station in stations:
            station.sender.stop()
        for station in stations:
            station.sender.join(15)
        service.stop()

    created = {(f"station:{s.code}", e) for s in stations for e in s.created}
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Scan.source, Scan.event_id, Scan.status)).all()
    stored = Counter((source, event_id) for source, event_id, _ in rows)
    with make_session_factory(engine)() as session:
        checked, broken = verify_chains(session)
    engine.dispose()
    answers = Counter()
    for station in stations:
        answers.update(station.answers)
    result = {
        "staff": staff, "window_s": window, "peak_s": round(peak_seconds, 1),
        "scans_created": len(created),
        "stored_rows": len(rows),
        "accepted_rows": sum(1 for *_, status in rows if status == "accepted"),
        "rejected_rows": sum(1 for *_, status in rows if status == "rejected"),
        "lost": len(created - stored.keys()),
        "duplicated": sum(1 for n in stored.values() if n > 1),
        "unexpected": len(stored.keys() - created),
        "still_queued": sum(s.outbox.count() for s in stations),
        "dead_letters": sum(s.outbox.dead_count() for s in stations),
        "answers": dict(answers),
        "drained": drained, "drain_s": round(drain_seconds, 1),
        "backlog_peak": backlog_peak,
        "chain_records_checked": checked, "chain_broken": str(broken) if broken else None,
        "faults": timeline,
    }
    for station in stations:
        station.outbox.close()
        station.client.http.close()
    report(json.dumps(result, indent=2, ensure_ascii=False))
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--staff", type=int, default=3000)
    parser.add_argument("--window", type=float, default=30.0, help="seconds of the peak")
    parser.add_argument("--kills", type=int, default=2, help="SIGKILLs of the service")
    parser.add_argument("--pg-terminate", type=int, default=0,
                        help="times to kill the service's PostgreSQL connections (safe)")
    parser.add_argument("--pg-restart", action="store_true",
                        help="also restart the PostgreSQL server once (shared: opt-in)")
    parser.add_argument("--pg", default=os.environ.get("ATTENDANCE_BENCH_PG", PG_DEFAULT))
    args = parser.parse_args(argv)
    if (args.pg_restart or args.pg_terminate) and args.database != "postgresql":
        parser.error("--pg-restart and --pg-terminate need --database postgresql")
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp, \
            scratch_database(args.database, Path(tmp), args.pg, name="attendance_soak") as url:
        result = run_soak(url, Path(tmp), staff=args.staff, window=args.window,
                          kills=args.kills, pg_restarts=int(args.pg_restart),
                          pg_terminations=args.pg_terminate)
    ok = not (result["lost"] or result["duplicated"] or result["unexpected"]
              or result["chain_broken"] or not result["drained"])
    print("OK: zero lost, zero duplicated" if ok else "FAILED")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
