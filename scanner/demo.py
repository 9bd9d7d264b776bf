"""The demo station of ``attendance serve --demo-station`` (``make run``).

So that a new user sees arrivals come in on the dashboard within a minute, this:

1. picks employees of the demo province who have an active badge today;
2. renders (``scanner.synth``) a clip of them showing their REAL badges at an entrance
   camera — the payloads are ``attendance.badges.badge_payload``, so the station and the
   server verify them like any badge — cached under ``<instance>/demo-station/``;
3. registers the station ``DEMO-CONG`` (or gives it a fresh key: keys are stored hashed, so
   an old one cannot be recovered), with an audit entry;
4. once the web service answers ``/api/v1/health``, starts
   ``attendance-station --headless --realtime`` on the clip as a subprocess, which is
   stopped when the server process exits.
"""

from __future__ import annotations

import hashlib
import logging
import random
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from attendance import access, badges
from attendance.children import stop_at_exit
from attendance.db import instance_path
from attendance.models import Badge, Employee, Station, Unit

log = logging.getLogger(__name__)

STATION_CODE = "DEMO-CONG"
STATION_NAME = "Cổng chính (điểm quét mẫu)"
PASSAGES = 8
SIZE = (480, 360)  # renders at ~25 frames/s here: the first run's clip is ready in ~25 s


@dataclass(frozen=True)
class DemoStation:
    code: str
    key: str
    folder: Path
    payloads: dict[str, str]  # employee code -> badge payload

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"


def _now() -> datetime:
    return datetime.now(UTC)


def register_demo_station(session: Session, *, now: datetime) -> tuple[Station, str]:
    """The demo station with a fresh key (created on the root unit if missing). No commit."""
    key = access.new_station_key()
    station = session.scalar(select(Station).where(Station.code == STATION_CODE))
    if station is None:
        root = session.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id))
        if root is None:
            raise LookupError("chưa có đơn vị nào (hãy chạy `attendance demo` trước)")
        station = Station(code=STATION_CODE, name=STATION_NAME, unit_id=root.id,
                          key_hash=access.hash_station_key(key), created_at=now, active=True)
        session.add(station)
    else:
        station.key_hash = access.hash_station_key(key)
        station.active = True
    session.flush()
    access.log_action(session, actor="demo", action="station.demo_key", at=now,
                      target=f"station:{STATION_CODE}", details={})
    return station, key


def demo_payloads(session: Session, keyring: badges.Keyring, *, count: int = PASSAGES,
                  base_url: str | None = None, seed: int | None = None,
                  today=None) -> dict[str, str]:
    """Employee code → the QR text of their active badge, for ``count`` active employees."""
    today = today or _now().date()
    rows = session.execute(
        select(Badge, Employee).join(Employee, Badge.employee_id == Employee.id)
        .where(Badge.revoked_at.is_(None)).order_by(Employee.code)).all()
    retired = keyring.retired_key_ids()
    candidates = [(badge, employee) for badge, employee in rows
                  if employee.is_active_on(today) and badge.key_id not in retired]
    rng = random.Random(seed)
    chosen = rng.sample(candidates, min(count, len(candidates)))
    return {employee.code: badges.badge_payload(badge, keyring, base_url)
            for badge, employee in chosen}


def render_clip(payloads: list[str], folder: Path, *, size=SIZE, seed: int = 7) -> Path:
    """The clip of these badges (re-rendered only when the payloads change)."""
    from scanner.synth import ClipSpec, write_clip

    digest = hashlib.sha256("\n".join(payloads).encode()).hexdigest()[:12]
    clip = folder / f"demo-{digest}.mp4"
    if not clip.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("demo-*.*"):
            old.unlink()
        spec = ClipSpec(passages=len(payloads), seed=seed, width=size[0], height=size[1],
                        payloads=tuple(payloads), people_per_passage=0.6,
                        gap_frames=(15, 35), hold_frames=(15, 25))
        tmp = clip.with_suffix(".part.mp4")
        write_clip(spec, tmp, truth_path=clip.with_suffix(".json"))
        tmp.replace(clip)
    return clip


def prepare(session_factory, config, *, folder: Path | None = None,
            passages: int = PASSAGES) -> DemoStation:
    """Register the station and choose the badges; commits the registration."""
    folder = folder or instance_path() / "demo-station"
    keyring = badges.Keyring()
    with session_factory() as session:
        payloads = demo_payloads(session, keyring, count=passages,
                                 base_url=config.public_base_url, seed=1,
                                 today=_now().astimezone(config.tz).date())
        if not payloads:
            raise LookupError("không có cán bộ nào có thẻ (hãy chạy `attendance demo` trước)")
        _, key = register_demo_station(session, now=_now())
        session.commit()
    return DemoStation(STATION_CODE, key, folder, payloads)


def station_command(demo: DemoStation, clip: Path, server_url: str) -> list[str]:
    return [sys.executable, "-m", "scanner.cli", "--server", server_url, f"--key={demo.key}",
            "--source", str(clip), "--headless", "--realtime", "--fresh-event-ids",
            "--no-sound", "--data-dir", str(demo.data_dir)]


def _wait_until_up(server_url: str, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(server_url.rstrip("/") + "/api/v1/health", timeout=2):
                return True
        except Exception:  # not listening yet (or starting): try again shortly
            time.sleep(0.5)
    return False


def start(session_factory, config, server_url: str) -> threading.Thread:
    """Register the demo station now; render its clip and start it once the server
    answers, in a thread (the first render takes ~25 s; later runs reuse the clip)."""
    demo = prepare(session_factory, config)
    processes: list[subprocess.Popen] = []

    def launch() -> None:
        try:
            clip = render_clip(list(demo.payloads.values()), demo.folder)
        except Exception as exc:  # the demo must never take the web service down
            print(f"Điểm quét mẫu: không tạo được video ({exc}).", file=sys.stderr)
            return
        if not _wait_until_up(server_url):
            print("Điểm quét mẫu: máy chủ chưa trả lời, không khởi động điểm quét.",
                  file=sys.stderr)
            return
        print(f"Điểm quét mẫu {demo.code}: phát video {clip.name} "
              f"({len(demo.payloads)} lượt quét thẻ thật)", file=sys.stderr)
        processes.append(subprocess.Popen(station_command(demo, clip, server_url),
                                          stdin=subprocess.DEVNULL))

    stop_at_exit(processes)
    thread = threading.Thread(target=launch, name="demo-station", daemon=True)
    thread.start()
    return thread
