"""The station's outbox: durable before feedback, removed only on acknowledgement.

The durability tests kill a real writer process with SIGKILL and reopen the file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from scanner.outbox import NO_BADGE, Backoff, Outbox, Refused, Sender, TransportError

ROOT = Path(__file__).resolve().parents[2]


def scan(event_id: str, payload: str = "TCC1|x") -> dict:
    return {"event_id": event_id, "payload": payload, "scanned_at": "2026-11-23T07:30:00+07:00"}


def test_enqueue_is_idempotent_and_ack_removes(tmp_path):
    box = Outbox(tmp_path / "q.sqlite3")
    assert box.enqueue(scan("a")) == ("a", True)
    assert box.enqueue(scan("a")) == ("a", False)
    box.enqueue(scan("b"))
    assert [i.event_id for i in box.pending()] == ["a", "b"]
    assert box.ack([("a", "accepted"), ("zzz", "duplicate")]) == 1
    assert [i.event_id for i in box.pending()] == ["b"]
    assert box.acked_status("a") == "accepted"
    box.close()
    reopened = Outbox(tmp_path / "q.sqlite3")
    assert reopened.count() == 1


def test_settings_are_wal_and_full_sync(tmp_path):
    box = Outbox(tmp_path / "q.sqlite3")
    assert box._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert box._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_unready_rows_wait_for_evidence_and_survive_a_crash(tmp_path):
    box = Outbox(tmp_path / "q.sqlite3")
    box.enqueue(scan("photo"), ready=False)
    assert box.pending() == [] and box.count() == 1
    box.complete("photo", {"evidence_jpeg": "AAAA", "no_face": True})
    [item] = box.pending()
    assert item.body["no_face"] is True and item.body["evidence_jpeg"] == "AAAA"
    box.enqueue(scan("crash"), ready=False)
    box.close()
    again = Outbox(tmp_path / "q.sqlite3")
    assert again.recover() == 1
    assert [i.event_id for i in again.pending()] == ["photo", "crash"]


def test_queued_seconds_use_the_monotonic_clock_not_the_wall_clock(tmp_path):
    wall, mono = [1_000_000.0], [50.0]
    box = Outbox(tmp_path / "q.sqlite3", wall=lambda: wall[0], monotonic=lambda: mono[0])
    box.enqueue(scan("a"))
    mono[0] += 42.5
    wall[0] -= 3600  # someone set the clock back an hour
    [item] = box.pending()
    assert box.queued_seconds(item) == 42.5


def test_queued_seconds_after_a_reboot_fall_back_to_the_wall_clock(tmp_path):
    wall, mono = [1_000_000.0], [50.0]
    box = Outbox(tmp_path / "q.sqlite3", wall=lambda: wall[0], monotonic=lambda: mono[0])
    box.enqueue(scan("a"))
    box._db.execute("UPDATE outbox SET boot_id = 'an-earlier-boot'")
    wall[0] += 7200
    mono[0] = 3.0  # the monotonic clock restarted with the machine
    [item] = box.pending()
    assert box.queued_seconds(item) == 7200


def test_batches_respect_count_and_size(tmp_path):
    box = Outbox(tmp_path / "q.sqlite3")
    for i in range(30):
        box.enqueue({**scan(f"e{i:02d}"), "evidence_jpeg": "x" * 1000})
    assert len(box.pending(10)) == 10
    assert len(box.pending(500, max_bytes=5_000)) == 4  # the one that crosses is left out
    assert len(box.pending(500, max_bytes=10)) == 1  # never an empty batch


def test_backoff_grows_with_jitter_up_to_the_cap():
    backoff = Backoff(base=0.5, cap=8)
    delays = [backoff.next_delay() for _ in range(10)]
    assert all(0 < d <= 8 for d in delays)
    assert delays[0] <= 1.0 and max(delays[5:]) > 2
    backoff.reset()
    assert backoff.next_delay() <= 1.0


class FlakyServer:
    """A stand-in for the network: fails the first calls, then answers like the API."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[list[str]] = []
        self.stored: dict[str, dict] = {}

    def post_scans(self, scans: list[dict]) -> list[dict]:
        self.calls.append([s["event_id"] for s in scans])
        if self.failures > 0:
            self.failures -= 1
            if self.failures % 2:
                raise TransportError("ConnectionError")
            # The server stored them but the answer was lost on the way back.
            for s in scans:
                self.stored.setdefault(s["event_id"], s)
            raise TransportError("ReadTimeout")
        results = []
        for s in scans:
            status = "duplicate" if s["event_id"] in self.stored else "accepted"
            self.stored.setdefault(s["event_id"], s)
            if "bad" in s["payload"]:
                status = "rejected"
            results.append({"event_id": s["event_id"], "status": status})
        return results


def test_sender_retries_until_acknowledged_and_removes_only_then(tmp_path):
    box = Outbox(tmp_path / "q.sqlite3")
    for i in range(7):
        box.enqueue(scan(f"e{i}", "bad" if i == 3 else "TCC1|ok"))
    server = FlakyServer(failures=4)
    sender = Sender(box, server.post_scans, backoff=Backoff(base=0.01, cap=0.05),
                    batch_size=3)
    sender.start()
    try:
        assert sender.drain(10)
    finally:
        sender.stop()
        sender.join(5)
    assert set(server.stored) == {f"e{i}" for i in range(7)}
    assert len(server.calls) >= 5
    # Every item was acknowledged exactly once, and the rejected one counts as an answer.
    assert box.acked_status("e3") == "rejected"
    assert box.count() == 0 and box.pending() == []


def test_sender_isolates_an_item_the_server_refuses_as_malformed(tmp_path):
    box = Outbox(tmp_path / "q.sqlite3")
    for name in ("a", "poison", "b"):
        box.enqueue(scan(name))

    def post(scans):
        if any(s["event_id"] == "poison" for s in scans):
            raise Refused(400, "scans: malformed")
        return [{"event_id": s["event_id"], "status": "accepted"} for s in scans]

    sender = Sender(box, post, backoff=Backoff(base=0.01, cap=0.02))
    for _ in range(10):
        sender.send_once()
    assert box.count() == 0
    assert box.dead_count() == 1  # kept aside, not deleted
    assert box.acked_status("a") == box.acked_status("b") == "accepted"


def test_sender_sends_guard_records(tmp_path):
    box = Outbox(tmp_path / "q.sqlite3")
    box.enqueue({"employee": "E1", "recorded_at": "2026-11-23T07:30:00+07:00"},
                kind=NO_BADGE, event_id="g1")
    got = []
    sender = Sender(box, lambda scans: [], lambda body: got.append(body) or {"status": "accepted"})
    sender.send_once()
    assert got == [{"employee": "E1", "recorded_at": "2026-11-23T07:30:00+07:00",
                    "event_id": "g1"}]
    assert box.count() == 0


WRITER = textwrap.dedent("""
    import sys
    from scanner.outbox import Outbox
    box = Outbox(sys.argv[1])
    i = int(sys.argv[2])
    while True:
        event_id = f"w{i:06d}"
        box.enqueue({"event_id": event_id, "payload": "x" * 200,
                     "scanned_at": "2026-11-23T07:30:00+07:00"})
        print("queued", event_id, flush=True)  # told only after the commit, like feedback
        if i % 5 == 0:
            print("acking", f"w{i - 5:06d}", flush=True)
            box.ack([(f"w{i - 5:06d}", "accepted")])
            print("acked", f"w{i - 5:06d}", flush=True)
        i += 1
""")


def _run_writer_and_kill(path: Path, start: int, lines_before_kill: int) -> list[tuple[str, str]]:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(start)],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    told = []
    try:
        while len(told) < lines_before_kill:
            line = proc.stdout.readline()
            assert line, "writer died"
            what, event_id = line.split()
            told.append((what, event_id))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    # What the writer printed before the kill landed is still in the pipe: an "acking" there
    # may have been committed. A line cut by the kill has no newline and was never told.
    with proc.stdout:
        told += [tuple(line.split()) for line in proc.stdout if line.endswith("\n")]
    return told


@pytest.mark.slow
def test_sigkill_mid_write_loses_nothing_that_was_announced(tmp_path):
    path = tmp_path / "q.sqlite3"
    told = _run_writer_and_kill(path, 1, 400)
    told += _run_writer_and_kill(path, 100_000, 317)  # a restart writes on top
    box = Outbox(path)
    queued = {i.event_id for i in box.pending(10_000)}
    announced = {e for what, e in told if what == "queued"}
    acking = {e for what, e in told if what == "acking"}
    acked = {e for what, e in told if what == "acked"}
    assert len(announced) > 500
    # Announced and not acknowledged: still there. Acknowledged: gone. Killed mid-ack: either.
    assert announced - acking <= queued
    assert not acked & queued
    assert box._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_two_threads_enqueue_and_ack_without_losing_rows(tmp_path):
    box = Outbox(tmp_path / "q.sqlite3")

    def write(prefix):
        for i in range(100):
            box.enqueue(scan(f"{prefix}{i}"))

    threads = [threading.Thread(target=write, args=(p,)) for p in "xy"]
    for t in threads:
        t.start()
    acked = 0
    deadline = time.monotonic() + 20
    while (any(t.is_alive() for t in threads) or box.count()) and time.monotonic() < deadline:
        items = box.pending(17)
        acked += box.ack([(i.event_id, "accepted") for i in items])
    for t in threads:
        t.join()
    assert acked == 200
    assert json.loads(json.dumps(box.count())) == 0
