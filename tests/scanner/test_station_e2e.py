"""The station program end to end against the real server.

The server is ``web.create_app`` on a real database, served by werkzeug on 127.0.0.1 in a
thread (stopped and started again on the same port to play an outage); badges are issued
and signed by ``attendance.badges`` with a keyring in a temporary folder; the clip is
rendered by ``scanner.synth`` with those badges' payloads; the station is the real
``attendance-station`` in a subprocess (``python -m scanner.cli``), killed with SIGKILL in
one test. The count that matters is the server's ``Scan`` rows against the clip's truth.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from factories import make_employee, make_station, make_unit
from sqlalchemy import select
from werkzeug.serving import make_server

from attendance import badges
from attendance.models import Employee, NoBadgeRecord, Scan
from scanner.cli import ApiClient, Upkeep, guard_prompt
from scanner.outbox import Outbox, Sender
from scanner.synth import ClipSpec, write_clip
from scanner.verify import TrustStore
from web import create_app

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
NAMES = ["Nguyễn Thị Hạnh", "Trần Văn Bình", "Lê Thị Cúc", "Phạm Đức Dũng", "Hoàng Văn Em",
         "Vũ Thị Phương", "Đặng Quốc Giang", "Bùi Thị Hoa"]


@dataclass
class World:
    key: str
    payloads: dict[str, str]  # employee code -> badge payload
    station_id: int
    keyring: badges.Keyring


@pytest.fixture
def world(session_factory, tmp_path, monkeypatch) -> World:
    monkeypatch.setenv(badges.KEYS_DIR_ENV, str(tmp_path / "keys"))
    keyring = badges.Keyring()
    keyring.init()
    with session_factory() as session:
        unit = make_unit(session, "SNV", "Sở Nội vụ")
        people = [make_employee(session, unit, f"NV{i + 1:03d}", name)
                  for i, name in enumerate(NAMES)]
        issued = badges.issue_badges(session, people, keyring, now=NOW, actor="test")
        payloads = {b.employee.code: badges.badge_payload(b, keyring) for b in issued.issued}
        station, key = make_station(session, unit, "CONG-1")
        session.commit()
        return World(key, payloads, station.id, keyring)


class Server:
    """The real app behind a real HTTP server, which can go down and come back."""

    def __init__(self, app) -> None:
        self.app = app
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._server = None
        self._thread = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None


@pytest.fixture
def server(database_url, config, world, tmp_path):
    app = create_app({"DATABASE_URL": database_url, "DOMAIN_CONFIG": config,
                      "SECRET_KEY": "e2e", "KEYS_DIR": str(tmp_path / "keys")})
    srv = Server(app)
    srv.start()
    yield srv
    srv.stop()
    app.extensions["attendance"]["engine"].dispose()


def scans(session_factory) -> list[Scan]:
    with session_factory() as session:
        rows = list(session.scalars(select(Scan).where(Scan.station_id.is_not(None))
                                    .order_by(Scan.id)))
        for row in rows:
            row.employee  # load before the session closes
        return rows


def station_cmd(srv: Server, world: World, clip: Path, data_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "scanner.cli", "--server", srv.url, "--key", world.key,
            "--source", str(clip), "--headless", "--data-dir", str(data_dir), "--no-sound",
            "--max-backoff", "0.5", "--sync-seconds", "1", "--heartbeat-seconds", "1",
            "--drain-timeout", "60", *extra]


def start_station(cmd: list[str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def make_clip(tmp_path: Path, payloads: list[str], seed: int = 11) -> tuple[Path, object]:
    """A clip in which every passage's code is fully in view and sharp for some frames.

    Passers-by may hide a short passage entirely; the first seed from ``seed`` on where
    none is hidden is used, so the truth is "every passage is one scan".
    """
    clip = tmp_path / "clip.mp4"
    for attempt in range(seed, seed + 20):
        spec = ClipSpec(passages=len(payloads), seed=attempt, width=480, height=360,
                        payloads=tuple(payloads), noise_sigma=1.0, gap_frames=(5, 8),
                        enter_frames=(5, 8), hold_frames=(10, 14), leave_frames=(4, 7),
                        people_per_passage=0.6)
        truth = write_clip(spec, clip)
        if all(len(p.visible_frames) >= 3 for p in truth.passages):
            return clip, truth
    raise AssertionError("no seed gave a clip with every passage in view")


def accepted_codes(session_factory) -> list[str]:
    return sorted(s.employee.code for s in scans(session_factory) if s.status == "accepted")


def test_n_passages_upload_exactly_n_scans_across_a_server_outage(
        world, server, session_factory, tmp_path):
    codes = sorted(world.payloads)[:6]
    clip, truth = make_clip(tmp_path, [world.payloads[c] for c in codes])
    proc = start_station(station_cmd(server, world, clip, tmp_path / "station", "--realtime"))
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        wait_for(lambda: len(scans(session_factory)) >= 1, 30, "a first scan on the server")
        server.stop()  # the server goes away mid-clip
        wait_for(lambda: proc.poll() is not None or sum("Hợp lệ" in l for l in output) >= 6,
                 60, "the clip to end")
        time.sleep(3)  # "minutes" later, shortened: the station keeps retrying
        assert proc.poll() is None, "the station must wait for the server, not give up"
        assert len(scans(session_factory)) < 6
        server.start()
        assert proc.wait(60) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(5)
        proc.stdout.close()
        proc.stderr.close()
    assert accepted_codes(session_factory) == codes
    assert len(scans(session_factory)) == len(truth.passages)
    assert [line.split("  ", 1)[1].strip() for line in output] == [
        f"Hợp lệ — {NAMES[int(c[2:]) - 1]} ({c})" for c in codes]
    assert not (tmp_path / "station" / "outbox.sqlite3").exists() or \
        Outbox(tmp_path / "station" / "outbox.sqlite3").count() == 0


def test_sigkill_mid_run_and_restart_upload_exactly_n_scans(
        world, server, session_factory, tmp_path):
    codes = sorted(world.payloads)[:6]
    clip, truth = make_clip(tmp_path, [world.payloads[c] for c in codes], seed=12)
    data_dir = tmp_path / "station"
    proc = start_station(station_cmd(server, world, clip, data_dir, "--realtime"))
    try:
        wait_for(lambda: len(scans(session_factory)) >= 2, 90, "two scans on the server")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    seen_before = len(scans(session_factory))
    assert seen_before < len(codes)
    # The restart replays the file from the start: same event ids, so nothing twice.
    again = subprocess.run(station_cmd(server, world, clip, data_dir), check=False, cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert accepted_codes(session_factory) == codes
    assert len(scans(session_factory)) == len(truth.passages)


def forge(payload: str) -> str:
    head, signature = payload.rsplit("|", 1)
    flipped = ("B" if signature[10] == "A" else "A")
    return f"{head}|{signature[:10]}{flipped}{signature[11:]}"


def test_forged_revoked_and_random_codes_are_refused_and_recorded(
        world, server, session_factory, tmp_path):
    with session_factory() as session:
        employee = session.scalar(select(Employee).where(Employee.code == "NV002"))
        badges.revoke_badge(session, employee, "mất thẻ", now=NOW, actor="test")
        session.commit()
    shown = [world.payloads["NV001"], world.payloads["NV002"], forge(world.payloads["NV003"]),
             "Xin chào, đây không phải thẻ"]
    clip, _ = make_clip(tmp_path, shown, seed=13)
    run = subprocess.run(station_cmd(server, world, clip, tmp_path / "station"), check=False, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = [line.split("  ", 1)[1] for line in run.stdout.splitlines()]
    assert lines == [
        "Hợp lệ — Nguyễn Thị Hạnh (NV001)",
        "Không hợp lệ: thẻ đã thu hồi — Trần Văn Bình (NV002)",
        "Không hợp lệ: thẻ không hợp lệ (sai chữ ký)",
        "Không hợp lệ: không phải thẻ công chức (sai định dạng)",
    ]
    stored = scans(session_factory)
    assert [(s.status, s.reason) for s in stored] == [
        ("accepted", None), ("rejected", "revoked"), ("rejected", "bad_signature"),
        ("rejected", "unknown_format")]
    assert stored[3].payload == shown[3]
    # The accepted scan came with its photo.
    assert stored[0].evidence_path


def test_revocation_reaches_the_station_at_its_next_sync_and_works_offline(
        world, server, session_factory, tmp_path):
    client = ApiClient(server.url, world.key, timeout=5)
    trust = TrustStore(tmp_path / "station")
    outbox = Outbox(tmp_path / "station" / "outbox.sqlite3")
    upkeep = Upkeep(client, trust, outbox, sync_seconds=1, heartbeat_seconds=1,
                    stop=threading.Event())
    assert upkeep.sync_now()
    payload = world.payloads["NV004"]
    assert trust.check(payload).ok and trust.check(payload).full_name == "Phạm Đức Dũng"
    with session_factory() as session:
        employee = session.scalar(select(Employee).where(Employee.code == "NV004"))
        badges.revoke_badge(session, employee, "nghỉ việc", now=NOW, actor="test")
        session.commit()
    assert trust.check(payload).ok  # not yet: the station has not synced
    assert upkeep.sync_now()
    assert trust.check(payload).reason == "revoked"
    etag = trust.etag
    assert upkeep.sync_now() and trust.etag == etag  # unchanged: 304
    server.stop()
    assert not upkeep.sync_now()
    offline = TrustStore(tmp_path / "station")  # a restart while the server is down
    assert offline.check(payload).reason == "revoked"
    assert offline.check(world.payloads["NV005"]).ok


def test_guard_records_a_person_without_a_badge(world, server, session_factory, tmp_path):
    client = ApiClient(server.url, world.key, timeout=5)
    trust = TrustStore(tmp_path / "station")
    outbox = Outbox(tmp_path / "station" / "outbox.sqlite3")
    typed = io.StringIO("Hạnh\n1\n\n")
    screen = io.StringIO()
    guard_prompt(client, trust, outbox, stdin=typed, stdout=screen)
    assert "1. NV001  Nguyễn Thị Hạnh" in screen.getvalue()
    assert "Đã ghi nhận: Nguyễn Thị Hạnh (NV001) không đeo thẻ" in screen.getvalue()
    sender = Sender(outbox, client.post_scans, client.post_no_badge)
    sender.send_once()
    assert outbox.count() == 0
    with session_factory() as session:
        [record] = session.scalars(select(NoBadgeRecord)).all()
        assert record.employee.code == "NV001" and record.source == "guard"
    # Offline, the guard still finds people in the synced list (without diacritics too).
    Upkeep(client, trust, outbox, sync_seconds=1, heartbeat_seconds=1,
           stop=threading.Event()).sync_now()
    server.stop()
    screen = io.StringIO()
    guard_prompt(client, trust, outbox, stdin=io.StringIO("dang quoc\n1\n\n"), stdout=screen)
    assert "NV007  Đặng Quốc Giang" in screen.getvalue()
    assert outbox.count() == 1  # queued until the server is back


def test_decode_only_prints_frame_and_text(tmp_path):
    clip = ROOT / "tests" / "data" / "synth_2passages_480x360.mp4"
    run = subprocess.run([sys.executable, "-m", "scanner.cli", "--source", str(clip),
                          "--decode-only"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    rows = [line.split("\t") for line in run.stdout.splitlines()]
    assert rows and all(frame.isdigit() for frame, _ in rows)
    assert {text for _, text in rows} == {
        "CC1|E0001|5DNW|k1|rcE2fn45dqprgzutNIu1qT_EkA-KiYf1D4w7jvyMTOcz2n1Fl3WMXL3RMOFH2dgvfFtwEC1YuF9I196tJJJLHw",
        "CC1|E0002|5LHT|k1|hxg85TRrSeLCM0jfSr10TlyLvQS4XTTH820etc3CXsVZn04AbS-xCfp13IAPrcxVdGnJb5Trae67YAg0ErUphw"}


def test_demo_station_uses_real_badges_and_a_working_key(world, server, session_factory,
                                                         config, tmp_path):
    from scanner import demo

    prepared = demo.prepare(session_factory, config, folder=tmp_path / "demo", passages=2)
    assert set(prepared.payloads.values()) <= set(world.payloads.values())
    again = demo.prepare(session_factory, config, folder=tmp_path / "demo", passages=2)
    assert again.key != prepared.key  # a fresh key each start; the old one stops working
    client = ApiClient(server.url, again.key, timeout=5)
    trust = TrustStore(tmp_path / "station")
    assert Upkeep(client, trust, Outbox(tmp_path / "q.sqlite3"), sync_seconds=1,
                  heartbeat_seconds=1, stop=threading.Event()).sync_now()
    assert all(trust.check(p).ok for p in again.payloads.values())
    assert trust.station["code"] == demo.STATION_CODE
    clip = demo.render_clip(list(again.payloads.values()), tmp_path / "demo", size=(320, 240))
    run = subprocess.run(demo.station_command(again, clip, server.url), check=False, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    stored = [(s.employee.code if s.employee else None, s.status, s.reason, s.payload)
              for s in scans(session_factory)]
    assert sorted(stored, key=str) == sorted(((code, "accepted", None, payload)
                                              for code, payload in again.payloads.items()),
                                             key=str), run.stderr[-3000:]
