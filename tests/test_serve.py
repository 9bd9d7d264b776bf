"""``attendance serve`` as ``make run`` starts it: gunicorn over the demo province on SQLite,
with the scheduler beside it as a process of its own.

The scheduler used to be a thread of gunicorn's arbiter: a worker forked while one of its
jobs held SQLite's write lock believed that lock taken for ever, and every station request
it served failed with "database is locked" — the demo station's arrivals never appeared.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

ATTENDANCE = str(Path(sys.executable).with_name("attendance"))


def _run(env: dict, *args: str) -> str:
    done = subprocess.run([ATTENDANCE, *args], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> dict[int, str]:
    """The child processes of ``pid`` and their command lines."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                found[int(child)] = Path(f"/proc/{child}/cmdline").read_bytes().replace(
                    b"\0", b" ").decode()
            except FileNotFoundError:
                pass
    return found


def _post(url: str, key: str, payload: str) -> tuple[int, dict]:
    body = json.dumps({"scans": [{
        "event_id": uuid.uuid4().hex, "payload": payload,
        "scanned_at": datetime.now(timezone.utc).isoformat()}]}).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, {}


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_scans_are_accepted_from_the_start_with_the_scheduler_beside(tmp_path, monkeypatch):
    env = {k: v for k, v in os.environ.items()
           if k not in ("ATTENDANCE_DATABASE_URL", "ATTENDANCE_CONFIG")}
    env["ATTENDANCE_INSTANCE"] = str(tmp_path / "instance")
    _run(env, "init-db")
    _run(env, "demo")  # four weeks of data: the scheduler's first jobs have work to do
    key = _run(env, "station", "add", "TEST-GATE", "--unit", "SNV").split()[-1]
    monkeypatch.setenv("ATTENDANCE_INSTANCE", env["ATTENDANCE_INSTANCE"])
    monkeypatch.delenv("ATTENDANCE_DATABASE_URL", raising=False)
    from attendance import badges
    from attendance.db import make_engine, make_session_factory
    from scanner.demo import demo_payloads

    engine = make_engine()
    with make_session_factory(engine)() as session:
        payloads = list(demo_payloads(session, badges.Keyring(), count=40, seed=1).values())
    engine.dispose()

    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    serve = subprocess.Popen([ATTENDANCE, "serve", "--port", str(port), "--workers", "2"],
                             env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/api/v1/health", timeout=2).close()
                break
            except OSError:
                time.sleep(0.1)
        schedulers = [pid for pid, cmd in _children(serve.pid).items()
                      if cmd.endswith("attendance.cli scheduler ")]
        assert len(schedulers) == 1, _children(serve.pid)

        # The first seconds, while the scheduler's first jobs write: every scan is stored.
        answers = [_post(f"{base}/api/v1/scans", key, payload) for payload in payloads]
        assert [status for status, _ in answers] == [200] * len(payloads), \
            (tmp_path / "serve.log").read_text()[-3000:]
        assert {a["results"][0]["status"] for _, a in answers} == {"accepted"}
    finally:
        serve.terminate()
        try:
            serve.wait(30)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()
        log.close()
    assert _gone(schedulers[0], 15), "the scheduler must stop with serve"
    assert "database is locked" not in (tmp_path / "serve.log").read_text()


def test_with_a_database_server_serve_leaves_the_scheduler_to_its_own_process(
        monkeypatch, capsys):
    from attendance.cli import serve
    from attendance.cli.context import AppContext

    monkeypatch.setenv("ATTENDANCE_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: pytest.fail("nothing to start"))
    serve._spawn_scheduler(AppContext())
    assert "hãy chạy `attendance scheduler`" in capsys.readouterr().err


def test_a_port_in_use_is_one_line_before_anything_starts(tmp_path):
    """gunicorn printed the address as if serving, then seconds of English errors."""
    env = {**os.environ, "ATTENDANCE_INSTANCE": str(tmp_path)}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([ATTENDANCE, "serve", "--no-scheduler", "--port", str(port)],
                              env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (
        1, f"Lỗi: cổng {port} đang được dùng (một dịch vụ khác, hoặc attendance serve đã "
           "chạy); hãy chọn --port khác\n")
