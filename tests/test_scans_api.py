"""The station side of the HTTP API: scans, sync, heartbeat, the guard's search and record.

Real badges (signed by a keyring in a temporary folder), a real database (SQLite, or
PostgreSQL with ATTENDANCE_TEST_DATABASE_URL), and for concurrency a real HTTP server on
127.0.0.1 hit by several threads at once.
"""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import threading
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta, timezone

import pytest
from PIL import Image
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import func, select
from werkzeug.serving import make_server

from attendance import badges
from attendance import scans as service
from attendance.audit import verify_chains
from attendance.db import instance_path
from attendance.models import Badge, Employee, NoBadgeRecord, Scan, Station
from factories import make_employee, make_station, make_unit
from web import create_app

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # Monday 08:00 in Hà Nội


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def keyring(make_keyring):
    return make_keyring(NOW - timedelta(days=10))


@pytest.fixture
def world(session_factory, keyring):
    """Units SNV (with the station) and STC; three badge holders, one of them revoked."""
    with session_factory() as session:
        snv = make_unit(session, "SNV", "Sở Nội vụ")
        stc = make_unit(session, "STC", "Sở Tài chính")
        an = make_employee(session, snv, "NV001", "Nguyễn Văn An", card_number="QT-0001")
        binh = make_employee(session, snv, "NV002", "Trần Thị Bình")
        cuong = make_employee(session, stc, "NV003", "Lê Văn Cường")
        make_employee(session, snv, "NV004", "Phạm Thị Dung", end_date=date(2020, 1, 1))
        issued = badges.issue_badges(session, [an, binh, cuong], keyring, now=NOW, actor="test")
        payloads = {b.employee.code: badges.badge_payload(b, keyring) for b in issued.issued}
        badges.revoke_badge(session, cuong, "mất thẻ", now=NOW, actor="test")
        station, key = make_station(session, snv, "CONG-SNV")
        _, other_key = make_station(session, stc, "CONG-STC")
        session.commit()
        return {"payloads": payloads, "key": key, "other_key": other_key,
                "station_id": station.id}


@pytest.fixture
def app(database_url, config, clock, keyring, world):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": database_url,
                      "DOMAIN_CONFIG": config, "CLOCK": clock})
    yield app
    app.extensions["attendance"]["engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def scan(event_id: str, payload: str, at: datetime = NOW, **extra) -> dict:
    return {"event_id": event_id, "payload": payload, "scanned_at": at.isoformat(), **extra}


def post(client, key, scans, **body):
    return client.post("/api/v1/scans", json={"scans": scans, **body}, headers=auth(key))


def stored(session_factory) -> list[Scan]:
    with session_factory() as session:
        return list(session.scalars(select(Scan).order_by(Scan.id)))


def forge(payload: str) -> str:
    """Change one character of the serial: a plausible badge that was never signed."""
    fields = payload.split("|")
    fields[2] = fields[2][:3] + ("A" if fields[2][3] != "A" else "B") + fields[2][4:]
    return "|".join(fields)


def jpeg(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, "JPEG", quality=70)
    return buffer.getvalue()


# --- recording ---------------------------------------------------------------------------


def test_accepted_rejected_and_retried_batch(client, world, session_factory):
    genuine = world["payloads"]["NV001"]
    junk = "\x00\udcff\ufffd" + "é" * 3000
    batch = [
        scan("e1", genuine),
        scan("e2", forge(genuine)),
        scan("e3", world["payloads"]["NV003"]),  # revoked
        scan("e4", "xin chào, đây không phải thẻ"),
        scan("e5", junk),
        scan("e6", genuine.replace("TCC1|", "https://chamcong.example.gov.vn/b/TCC1.")
             .replace("|", ".")),  # the URL form of the same badge
    ]
    response = post(client, world["key"], batch)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["event_id"] for r in results] == ["e1", "e2", "e3", "e4", "e5", "e6"]
    assert [r["status"] for r in results] == [
        "accepted", "rejected", "rejected", "rejected", "rejected", "accepted"]
    assert results[0]["employee"] == {"code": "NV001", "full_name": "Nguyễn Văn An"}
    assert "reason" not in results[0]
    assert results[1]["reason"] == "bad_signature" and "employee" not in results[1]
    assert results[2]["reason"] == "revoked"
    assert results[2]["employee"] == {"code": "NV003", "full_name": "Lê Văn Cường"}
    assert results[3]["reason"] == results[4]["reason"] == "unknown_format"

    rows = stored(session_factory)
    assert [(r.event_id, r.status, r.reason) for r in rows] == [
        ("e1", "accepted", None), ("e2", "rejected", "bad_signature"),
        ("e3", "rejected", "revoked"), ("e4", "rejected", "unknown_format"),
        ("e5", "rejected", "unknown_format"), ("e6", "accepted", None)]
    assert all(r.source == "station:CONG-SNV" and r.stream == "scan:CONG-SNV" for r in rows)
    assert rows[3].payload == "xin chào, đây không phải thẻ"  # inspectors see what was shown
    assert len(rows[4].payload) == service.MAX_STORED_PAYLOAD and "\x00" not in rows[4].payload
    assert rows[0].badge_serial and rows[1].badge_serial is None

    # The station lost the answer and sends the same batch again: nothing new is stored.
    again = post(client, world["key"], batch).get_json()["results"]
    assert [r["status"] for r in again] == ["duplicate"] * 6
    assert [r.get("original_status") for r in again] == [
        "accepted", "rejected", "rejected", "rejected", "rejected", "accepted"]
    assert again[0]["employee"]["code"] == "NV001" and again[2]["reason"] == "revoked"
    assert len(stored(session_factory)) == 6
    with session_factory() as session:
        assert verify_chains(session)[1] is None


def test_a_retired_key_is_refused_at_once_although_its_badges_were_checked_before(
        client, world, keyring):
    """Workers remember signature checks per set of keys: retiring a key starts afresh."""
    genuine = world["payloads"]["NV001"]
    old_key = keyring.current_key_id
    assert post(client, world["key"], [scan("k1", genuine)]).get_json()["results"][0][
        "status"] == "accepted"
    keyring.rotate(NOW)
    assert post(client, world["key"], [scan("k2", genuine)]).get_json()["results"][0][
        "status"] == "accepted"  # an older key still counts after a rotation
    keyring.retire(old_key, NOW)
    [refused] = post(client, world["key"], [scan("k3", genuine)]).get_json()["results"]
    assert (refused["status"], refused["reason"]) == ("rejected", "retired_key")


def test_a_retried_single_scan_answers_as_it_was_answered(client, world, session_factory):
    """A single scan is inserted without a look-up first; its retry inserts nothing, takes
    no place in the chain, and answers with the stored outcome."""
    genuine, revoked = world["payloads"]["NV001"], world["payloads"]["NV003"]
    first = [post(client, world["key"], [scan(e, p)]).get_json()["results"][0]
             for e, p in (("one", genuine), ("two", revoked))]
    assert [r["status"] for r in first] == ["accepted", "rejected"]
    again = [post(client, world["key"], [{"event_id": 7}, scan(e, genuine)]).get_json()[
        "results"] for e in ("one", "two")]  # with a malformed item beside it
    assert [a[0]["reason"] for a in again] == ["malformed", "malformed"]
    assert [(a[1]["status"], a[1]["original_status"]) for a in again] == [
        ("duplicate", "accepted"), ("duplicate", "rejected")]
    assert again[1][1]["reason"] == "revoked" and again[1][1]["employee"]["code"] == "NV003"
    assert post(client, world["key"], [scan("three", genuine)]).get_json()["results"][0][
        "status"] == "accepted"
    rows = stored(session_factory)
    assert [(r.event_id, r.seq) for r in rows] == [("one", 1), ("two", 2), ("three", 3)]
    with session_factory() as session:
        assert verify_chains(session)[1] is None


def test_event_ids_are_per_station_and_repeat_within_a_batch(client, world, session_factory):
    genuine = world["payloads"]["NV001"]
    results = post(client, world["key"], [scan("x", genuine), scan("x", genuine)]).get_json()
    assert [r["status"] for r in results["results"]] == ["accepted", "duplicate"]
    other = post(client, world["other_key"], [scan("x", genuine)]).get_json()["results"]
    assert other[0]["status"] == "accepted"
    assert len(stored(session_factory)) == 2


def test_malformed_items_are_answered_in_place(client, world, session_factory):
    genuine = world["payloads"]["NV002"]
    batch = [
        {"payload": genuine, "scanned_at": NOW.isoformat()},           # no event_id
        scan("bad-time", genuine) | {"scanned_at": "hôm qua"},
        scan("naive", genuine) | {"scanned_at": "2026-11-23T08:00:00"},  # no offset
        scan("bad-queue", genuine, queued_seconds=-1),
        scan("huge-queue", genuine, queued_seconds=1e16),
        scan("year-1", genuine) | {"scanned_at": "0001-01-01T00:00:00+14:00"},
        scan("bad-face", genuine, no_face="yes"),
        "not an object",
        scan("good", genuine, extra_field="ignored"),
    ]
    results = post(client, world["key"], batch).get_json()["results"]
    assert [(r["event_id"], r["status"], r.get("reason")) for r in results] == [
        (None, "rejected", "malformed"), ("bad-time", "rejected", "malformed"),
        ("naive", "rejected", "malformed"), ("bad-queue", "rejected", "malformed"),
        ("huge-queue", "rejected", "malformed"), ("year-1", "rejected", "malformed"),
        ("bad-face", "rejected", "malformed"), (None, "rejected", "malformed"),
        ("good", "accepted", None)]
    assert [r.event_id for r in stored(session_factory)] == ["good"]


@pytest.mark.parametrize("body", [
    b"{not json", b"[]", b'"scans"', b'{"scans": []}', b'{"scans": {}}', b'{}',
    (b'{"scans": [{"event_id": "a", "payload": "x", "scanned_at": "2026-11-23T08:00:00+07:00"}],'
     b' "sent_at": "yesterday"}'),
])
def test_malformed_bodies_are_400_json_and_store_nothing(client, world, session_factory, body):
    response = client.post("/api/v1/scans", data=body, content_type="application/json",
                           headers=auth(world["key"]))
    assert response.status_code == 400
    assert response.is_json and set(response.get_json()) == {"error"}
    assert stored(session_factory) == []


def test_batch_size_limit(client, world, session_factory):
    genuine = world["payloads"]["NV001"]
    too_many = [scan(f"e{i}", genuine) for i in range(501)]
    response = post(client, world["key"], too_many)
    assert response.status_code == 400 and "500" in response.get_json()["error"]
    assert stored(session_factory) == []
    results = post(client, world["key"], too_many[:500]).get_json()["results"]
    assert len(results) == 500 and {r["status"] for r in results} == {"accepted"}


@pytest.mark.parametrize("header", [None, "Bearer wrong-key", "Basic abc", "Bearer "])
def test_wrong_station_key_is_401_json(client, world, header):
    headers = {"Authorization": header} if header else {}
    for method, path in (("post", "/api/v1/scans"), ("get", "/api/v1/station/sync"),
                         ("post", "/api/v1/station/heartbeat"),
                         ("get", "/api/v1/station/employees?q=an"),
                         ("post", "/api/v1/station/no-badge")):
        response = getattr(client, method)(path, json={}, headers=headers)
        assert response.status_code == 401, path
        assert response.is_json and set(response.get_json()) == {"error"}


# --- time --------------------------------------------------------------------------------


def test_live_scan_with_a_wrong_clock_gets_the_server_time(client, world, session_factory,
                                                           config):
    genuine = world["payloads"]["NV001"]
    skew = config.clock_skew_seconds
    batch = [
        scan("fast", genuine, NOW + timedelta(minutes=10)),
        scan("slow", genuine, NOW - timedelta(seconds=skew + 1), queued_seconds=0.4),
        scan("ok", genuine, NOW - timedelta(seconds=skew - 5)),
        scan("queued-briefly", genuine, NOW - timedelta(seconds=25), queued_seconds=20),
    ]
    results = post(client, world["key"], batch).get_json()["results"]
    assert results[0]["flags"] == ["clock_skew"] and "flags" not in results[2]
    rows = {r.event_id: r for r in stored(session_factory)}
    assert rows["fast"].scanned_at == NOW and "clock_skew" in rows["fast"].flags
    assert rows["fast"].station_time == NOW + timedelta(minutes=10)  # kept for inspectors
    assert rows["fast"].received_at == NOW
    assert rows["slow"].scanned_at == NOW - timedelta(seconds=0.4)
    assert rows["ok"].scanned_at == NOW - timedelta(seconds=skew - 5) and rows["ok"].flags == ""
    assert rows["queued-briefly"].scanned_at == NOW - timedelta(seconds=25)


def test_late_upload_keeps_the_station_time(client, world, session_factory):
    genuine = world["payloads"]["NV001"]
    yesterday = NOW - timedelta(days=1, minutes=7)
    post(client, world["key"], [scan("late", genuine, yesterday, queued_seconds=86820.5)])
    # An older station that sends no queued_seconds but says when it sent the batch: its
    # clock is an hour behind, and the scan waited two hours.
    station_now = NOW - timedelta(hours=1)
    post(client, world["key"], [scan("late2", genuine, station_now - timedelta(hours=2))],
         sent_at=station_now.isoformat())
    rows = {r.event_id: r for r in stored(session_factory)}
    assert rows["late"].scanned_at == yesterday and rows["late"].flags == "late_upload"
    assert rows["late"].received_at == NOW
    assert rows["late2"].scanned_at == NOW - timedelta(hours=3)
    assert rows["late2"].flags == "late_upload"


def test_an_offline_scan_taken_before_its_badge_was_revoked_counts(client, world, clock,
                                                                    session_factory):
    """A station offline all morning uploads when the network returns; the badge it read at
    08:00 was revoked (reissued) at 10:00 meanwhile. INTERFACES.md rejects *later* scans."""
    genuine = world["payloads"]["NV001"]
    revoked_at = NOW + timedelta(hours=2)
    with session_factory() as session:
        an = session.scalar(select(Employee).where(Employee.code == "NV001"))
        badges.revoke_badge(session, an, "cấp lại thẻ", now=revoked_at, actor="test")
        session.commit()
    clock.now = NOW + timedelta(hours=3)
    results = post(client, world["key"], [
        scan("before", genuine, NOW, queued_seconds=3 * 3600),
        scan("after", genuine, revoked_at + timedelta(minutes=1), queued_seconds=3540),
    ]).get_json()["results"]
    assert [(r["status"], r.get("reason")) for r in results] == [
        ("accepted", None), ("rejected", "revoked")]
    assert results[0]["employee"]["code"] == "NV001"
    # a badge revoked before the station's clock says it was read is refused, queued or not
    assert post(client, world["key"], [scan("lost", world["payloads"]["NV003"],
                                            NOW + timedelta(minutes=5), queued_seconds=9900)]
                ).get_json()["results"][0]["reason"] == "revoked"


def test_resolve_time_refuses_a_late_upload_from_the_future():
    at, flags = service.resolve_time(NOW + timedelta(hours=2), NOW, 3600, 120)
    assert at == NOW - timedelta(hours=1) and flags == ("late_upload", "clock_skew")


# --- evidence ----------------------------------------------------------------------------


def test_evidence_is_stored_flagged_and_purged(client, world, session_factory, config):
    genuine = world["payloads"]["NV002"]
    photo = jpeg()
    batch = [
        scan("with-photo", genuine, evidence_jpeg=base64.b64encode(photo).decode(), no_face=True),
        scan("not-a-photo", genuine, evidence_jpeg=base64.b64encode(b"GIF89a" * 20).decode()),
        scan("not-base64", genuine, evidence_jpeg="***"),
        scan("too-big", genuine, evidence_jpeg=base64.b64encode(
            b"\xff\xd8" + bytes(service.MAX_EVIDENCE_BYTES)).decode()),
    ]
    results = post(client, world["key"], batch).get_json()["results"]
    assert [r["status"] for r in results] == ["accepted"] * 4
    assert results[0]["flags"] == ["no_face"]
    assert all(r["flags"] == ["evidence_invalid"] for r in results[1:])
    rows = {r.event_id: r for r in stored(session_factory)}
    kept = rows["with-photo"]
    assert kept.evidence_path == f"evidence/2026/11/23/{kept.id}.jpg"
    path = instance_path() / kept.evidence_path
    assert path.read_bytes() == photo
    assert all(rows[e].evidence_path is None for e in ("not-a-photo", "not-base64", "too-big"))

    # A file left by a rolled-back request in an old day folder goes too.
    orphan = instance_path() / "evidence/2026/11/22/999.jpg"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(photo)
    with session_factory() as session:
        days = config.evidence_retention_days
        assert service.purge_evidence(session, config, NOW + timedelta(days=days - 1)) == 0
        assert path.exists()
        assert service.purge_evidence(session, config, NOW + timedelta(days=days, hours=1)) == 2
        session.commit()
        assert session.get(Scan, kept.id).evidence_path is None
        assert verify_chains(session)[1] is None  # evidence_path is outside the chain
    assert not path.exists() and not orphan.exists()
    assert not orphan.parent.exists()


def test_photos_are_written_before_the_stream_lock_and_named_before_the_commit(
        app, client, world, monkeypatch):
    """A batch's photos are written and fsynced before the stream's head is locked (on
    SQLite, the database's write lock), so the lock is held for one fsync of the day's
    folder, not one per photo; the folder's fsync makes the renamed files durable before
    the commit that stores their paths. A duplicate's photo is not kept."""
    genuine = world["payloads"]["NV001"]
    photo = base64.b64encode(jpeg()).decode()
    assert post(client, world["key"], [scan("p0", genuine)]).status_code == 200
    events: list[str] = []
    real_fsync = os.fsync

    def fsync(handle: int) -> None:
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(handle).st_mode) else "fsync photo")
        real_fsync(handle)

    def statement(_conn, _cursor, text, *_args) -> None:
        events.append(" ".join(text.split()[:3]))

    engine = app.extensions["attendance"]["engine"]
    monkeypatch.setattr(os, "fsync", fsync)
    sqlalchemy_event.listen(engine, "before_cursor_execute", statement)
    sqlalchemy_event.listen(engine, "commit", lambda _conn: events.append("commit"))
    batch = [scan(f"p{i}", genuine, evidence_jpeg=photo) for i in range(4)]  # p0: a retry
    results = post(client, world["key"], batch).get_json()["results"]
    assert [r["status"] for r in results] == ["duplicate"] + ["accepted"] * 3
    lock = events.index("INSERT INTO chain_heads")
    assert events[:lock].count("fsync photo") == 4 and "fsync photo" not in events[lock:]
    assert [e for e in events[lock:] if e in ("fsync folder", "commit")] == [
        "fsync folder", "commit"]
    assert events.index("INSERT INTO scans") < events.index("fsync folder")
    folder = instance_path() / "evidence/2026/11/23"
    with app.extensions["attendance"]["session_factory"]() as session:
        kept = {s.event_id: s.evidence_path for s in session.scalars(select(Scan))}
    assert kept["p0"] is None
    assert sorted(os.listdir(folder)) == sorted(
        path.rsplit("/", 1)[1] for event_id, path in kept.items() if path)
    assert len(os.listdir(folder)) == 3


def test_a_failed_batch_leaves_no_photo_behind(app, client, world, monkeypatch):
    def fail(*_args, **_kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(service.findings, "mark_stale", fail)  # after the insert
    photo = base64.b64encode(jpeg()).decode()
    response = post(client, world["key"], [scan("f1", world["payloads"]["NV001"],
                                                evidence_jpeg=photo)])
    assert response.status_code == 500
    assert sorted((instance_path() / "evidence").rglob("*")) == [
        instance_path() / "evidence/2026", instance_path() / "evidence/2026/11",
        instance_path() / "evidence/2026/11/23"]


def test_valid_jpeg_refuses_other_images_and_bombs():
    assert service.valid_jpeg(jpeg())
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    assert not service.valid_jpeg(png.getvalue())
    assert not service.valid_jpeg(jpeg()[:200])  # truncated
    assert not service.valid_jpeg(jpeg(5000, 4000))  # too many pixels for a station frame


# --- concurrency -------------------------------------------------------------------------


@pytest.fixture
def server(app):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join()


def _http_post(url: str, key: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **auth(key)})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _race(count: int, call) -> list:
    barrier = threading.Barrier(count)
    answers: list = [None] * count

    def worker(index: int) -> None:
        barrier.wait()
        answers[index] = call()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_concurrent_retries_store_each_scan_once(server, world, session_factory):
    payloads = world["payloads"]
    batch = {"scans": [scan(f"race-{i}", payloads["NV001" if i % 2 else "NV002"])
                       for i in range(25)] + [scan("race-junk", "không phải thẻ")]}
    answers = _race(6, lambda: _http_post(f"{server}/api/v1/scans", world["key"], batch))
    assert [status for status, _ in answers] == [200] * 6
    for index, item in enumerate(batch["scans"]):
        statuses = [body["results"][index]["status"] for _, body in answers]
        first = "rejected" if item["event_id"] == "race-junk" else "accepted"
        assert sorted(statuses) == sorted([first] + ["duplicate"] * 5), item["event_id"]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Scan)) == 26
        assert verify_chains(session)[1] is None


def test_concurrent_retries_of_a_single_scan_store_it_once(server, world, session_factory):
    body = {"scans": [scan("alone", world["payloads"]["NV002"])]}
    answers = _race(6, lambda: _http_post(f"{server}/api/v1/scans", world["key"], body))
    assert [status for status, _ in answers] == [200] * 6
    assert sorted(b["results"][0]["status"] for _, b in answers) == [
        "accepted"] + ["duplicate"] * 5
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Scan)) == 1
        assert verify_chains(session)[1] is None


def test_concurrent_guard_records_are_one(server, world, session_factory):
    body = {"event_id": "guard-1", "employee": "NV002", "recorded_at": NOW.isoformat()}
    answers = _race(5, lambda: _http_post(f"{server}/api/v1/station/no-badge", world["key"], body))
    assert [status for status, _ in answers] == [200] * 5
    assert sorted(b["status"] for _, b in answers) == ["accepted"] + ["duplicate"] * 4
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(NoBadgeRecord)) == 1


def test_a_retry_racing_the_first_request_waits_for_it_and_answers_duplicate(
        world, session_factory, keyring, config):
    """The stream's lock is what keeps a racing retry from storing a scan twice (there is
    no savepoint to fall back on): the second request waits at the head until the first
    commits, then finds the scan."""
    item = service.item_from_json(scan("same", world["payloads"]["NV001"]))
    first = session_factory()
    [result] = service.record_scans(first, first.get(Station, world["station_id"]), [item],
                                    keyring=keyring, config=config, now=NOW)
    assert result.status == "accepted"
    answers: list = []

    def retry() -> None:
        with session_factory() as second:
            answers.extend(service.record_scans(
                second, second.get(Station, world["station_id"]), [item], keyring=keyring,
                config=config, now=NOW + timedelta(seconds=5)))
            second.commit()

    thread = threading.Thread(target=retry)
    thread.start()
    thread.join(1.0)
    assert thread.is_alive() and not answers  # waiting for the first request's lock
    first.commit()
    first.close()
    thread.join(30)
    assert [(a.status, a.original_status, a.employee_code) for a in answers] == [
        ("duplicate", "accepted", "NV001")]
    assert len(stored(session_factory)) == 1


# --- sync, heartbeat ----------------------------------------------------------------------


def test_heartbeat_updates_last_seen(client, world, clock, session_factory):
    clock.now = NOW + timedelta(minutes=3)
    response = client.post("/api/v1/station/heartbeat", json={"queue": 4, "version": "1.0"},
                           headers=auth(world["key"]))
    assert response.status_code == 200
    assert datetime.fromisoformat(response.get_json()["server_time"]) == clock.now
    with session_factory() as session:
        assert session.get(Station, world["station_id"]).last_seen_at == clock.now
    # A station that sends something wrong is still alive.
    clock.now = NOW + timedelta(minutes=5)
    bad = client.post("/api/v1/station/heartbeat", json={"queue": "many"},
                      headers=auth(world["key"]))
    assert bad.status_code == 400 and set(bad.get_json()) == {"error"}
    clock.now = NOW + timedelta(minutes=6)
    assert post(client, world["key"], []).status_code == 400
    with session_factory() as session:
        assert session.get(Station, world["station_id"]).last_seen_at == clock.now


def test_last_seen_is_written_at_most_once_a_minute(client, world, clock, session_factory):
    def last_seen():
        with session_factory() as session:
            return session.get(Station, world["station_id"]).last_seen_at

    genuine = world["payloads"]["NV001"]
    assert post(client, world["key"], [scan("m1", genuine)]).status_code == 200
    assert last_seen() == NOW
    clock.now = NOW + timedelta(seconds=59)
    assert post(client, world["key"], [scan("m2", genuine, clock.now)]).status_code == 200
    assert post(client, world["key"], []).status_code == 400
    assert last_seen() == NOW  # seen within the minute: the row is not rewritten
    clock.now = NOW + timedelta(seconds=61)
    assert post(client, world["key"], [scan("m3", genuine, clock.now)]).status_code == 200
    assert last_seen() == clock.now


def test_a_deactivated_station_is_refused_at_its_next_request(client, world, session_factory):
    """The station behind a key is read on every request: no cache to outlive a change."""
    genuine = world["payloads"]["NV001"]
    assert post(client, world["key"], [scan("d1", genuine)]).status_code == 200
    with session_factory() as session:
        session.get(Station, world["station_id"]).active = False
        session.commit()
    response = post(client, world["key"], [scan("d2", genuine)])
    assert response.status_code == 401
    assert [r.event_id for r in stored(session_factory)] == ["d1"]


def test_a_station_request_costs_a_few_statements_and_no_user_session(app, client, world,
                                                                       clock, session_factory):
    """Whatever the batch size: the station, the badges, the stream's head, the event ids
    already stored (not for a single scan: its insert does nothing when it is stored), the
    insert, the head again (and once a minute the station's last_seen_at); on SQLite also
    the BEGIN IMMEDIATE that takes the write lock before the head. No user is loaded and no
    cookie is set."""
    engine = app.extensions["attendance"]["engine"]
    begin = ["BEGIN IMMEDIATE"] if engine.dialect.name == "sqlite" else []
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def statements_of(body: list[dict]) -> tuple:
        start = len(statements)
        return post(client, world["key"], body), statements[start:]

    genuine, other = world["payloads"]["NV001"], world["payloads"]["NV002"]
    sqlalchemy_event.listen(engine, "before_cursor_execute", count)
    try:
        first, done = statements_of([scan("s1", genuine)])
        assert len(done) == 6 + len(begin) and done[-1].startswith("UPDATE stations")
        assert [s for s in done if s.startswith("BEGIN")] == begin
        assert done[2 + len(begin)].startswith("INSERT INTO chain_heads")
        clock.now = NOW + timedelta(seconds=10)
        single, done = statements_of([scan("s2", genuine, clock.now)])
        assert len(done) == 5 + len(begin)
        retried, done = statements_of([scan("s2", genuine, clock.now)])
        assert len(done) == 5 + len(begin)  # the insert that did nothing, then the original
        assert not any(s.startswith("UPDATE chain_heads") for s in done)
        batch, done = statements_of([scan(f"b{i}", genuine if i % 2 else other, clock.now)
                                     for i in range(50)])
        assert len(done) == 6 + len(begin)
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", count)
    assert not any("users" in statement for statement in statements)
    assert retried.get_json()["results"][0]["status"] == "duplicate"
    for response in (first, single, retried, batch):
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
    with session_factory() as session:  # the retry did not move the head
        assert verify_chains(session)[1] is None


def test_sync_bundle_and_etag(client, world, keyring, session_factory, clock):
    response = client.get("/api/v1/station/sync", headers=auth(world["key"]))
    assert response.status_code == 200 and response.headers["ETag"]
    bundle = response.get_json()
    assert bundle["station"] == {"code": "CONG-SNV", "name": None, "unit": "SNV"}
    assert bundle["public_keys"] == keyring.public_keys()
    assert bundle["retired_key_ids"] == []
    assert bundle["employees"] == {"NV001": "Nguyễn Văn An", "NV002": "Trần Thị Bình",
                                   "NV003": "Lê Văn Cường"}  # NV004 left in 2020
    with session_factory() as session:
        revoked = session.scalar(select(Badge.serial).where(Badge.revoked_at.is_not(None)))
    assert bundle["revoked_serials"] == [revoked]
    # What the station holds is enough to check a badge offline.
    check = badges.verify(world["payloads"]["NV001"], bundle["public_keys"],
                          bundle["revoked_serials"], employees=bundle["employees"])
    assert check.ok and check.employee_code == "NV001"

    etag = response.headers["ETag"]
    clock.now = NOW + timedelta(minutes=1)
    same = client.get("/api/v1/station/sync",
                      headers={**auth(world["key"]), "If-None-Match": etag})
    assert same.status_code == 304 and same.get_data() == b""
    assert same.headers["ETag"] == etag

    with session_factory() as session:
        employee = session.scalar(select(Employee).where(Employee.code == "NV002"))
        badges.revoke_badge(session, employee, "mất thẻ", now=NOW, actor="test")
        session.commit()
    changed = client.get("/api/v1/station/sync",
                         headers={**auth(world["key"]), "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert len(changed.get_json()["revoked_serials"]) == 2


# --- the guard ---------------------------------------------------------------------------


def test_guard_search_by_name_code_or_card(client, world, session_factory):
    with session_factory() as session:
        snv = session.scalar(select(Employee).where(Employee.code == "NV001")).unit
        for i in range(30):
            make_employee(session, snv, f"NV1{i:02d}", f"Nguyễn Văn Anh {i}")
        session.commit()

    def search(q):
        response = client.get("/api/v1/station/employees", query_string={"q": q},
                              headers=auth(world["key"]))
        assert response.status_code == 200
        return response.get_json()

    found = search("nguyen van an")
    assert found[0] == {"code": "NV001", "full_name": "Nguyễn Văn An", "unit": "SNV",
                        "unit_name": "Sở Nội vụ"}
    assert len(found) == 20
    assert [e["code"] for e in search("NV002")] == ["NV002"]
    assert [e["code"] for e in search("qt-0001")] == ["NV001"]
    assert [e["code"] for e in search("cuong")] == ["NV003"]
    assert search("Dung") == []  # no longer employed
    assert search("không có ai") == []
    response = client.get("/api/v1/station/employees", headers=auth(world["key"]))
    assert response.status_code == 400


def test_guard_no_badge_record_is_idempotent(client, world, session_factory, clock):
    body = {"event_id": "g-1", "employee": "NV002",
            "recorded_at": (NOW + timedelta(seconds=5)).isoformat()}
    first = client.post("/api/v1/station/no-badge", json=body, headers=auth(world["key"]))
    assert first.status_code == 200
    assert first.get_json()["status"] == "accepted"
    assert first.get_json()["employee"] == {"code": "NV002", "full_name": "Trần Thị Bình"}
    again = client.post("/api/v1/station/no-badge", json=body, headers=auth(world["key"]))
    assert again.get_json()["status"] == "duplicate"
    with session_factory() as session:
        records = session.scalars(select(NoBadgeRecord)).all()
        assert len(records) == 1
        record = records[0]
        assert (record.source, record.place, record.stream) == ("guard", "CONG-SNV", "nobadge:SNV")
        assert record.recorded_at == NOW + timedelta(seconds=5)
        assert record.recorded_by == "station:CONG-SNV"

    other = client.post("/api/v1/station/no-badge", json=body | {"employee": "NV001"},
                        headers=auth(world["key"]))
    assert other.status_code == 409
    unknown = client.post("/api/v1/station/no-badge", json=body | {"event_id": "g-2",
                                                                   "employee": "NV999"},
                          headers=auth(world["key"]))
    assert unknown.status_code == 404 and set(unknown.get_json()) == {"error"}
    # A guard's station clock that is far off: the server's time is used, and said so.
    skewed = client.post("/api/v1/station/no-badge", headers=auth(world["key"]), json={
        "event_id": "g-3", "employee": "NV001", "recorded_at": (NOW - timedelta(hours=2)).isoformat()})
    assert datetime.fromisoformat(skewed.get_json()["recorded_at"]) == NOW
    for bad in ({}, {"event_id": "g-4", "employee": "NV001"},
                {"event_id": "g 4", "employee": "NV001", "recorded_at": NOW.isoformat()}):
        response = client.post("/api/v1/station/no-badge", json=bad, headers=auth(world["key"]))
        assert response.status_code == 400


def test_a_station_key_alone_is_not_stored(world, session_factory):
    with session_factory() as session:
        assert world["key"] not in {s.key_hash for s in session.scalars(select(Station))}



def test_a_withdrawn_scan_stays_in_its_stations_chain_and_answers_its_retry_as_before(
        client, world, session_factory, clock):
    """An inspector's withdrawal is the station chain's next link; the station's next scan
    follows it, and a retry of the withdrawn scan still answers as it was answered."""
    genuine = world["payloads"]["NV001"]
    assert post(client, world["key"], [scan("one", genuine)]).get_json()["results"][0][
        "status"] == "accepted"
    with session_factory() as session:
        original = session.scalar(select(Scan).where(Scan.event_id == "one"))
        service.withdraw_scan(session, original, reason="Người khác cầm thẻ", by="thanhtra",
                              now=clock.now + timedelta(hours=1))
        session.commit()
    retry = post(client, world["key"], [scan("one", genuine)]).get_json()["results"][0]
    assert (retry["status"], retry["original_status"]) == ("duplicate", "accepted")
    assert post(client, world["key"], [scan("two", genuine)]).get_json()["results"][0][
        "status"] == "accepted"
    rows = stored(session_factory)
    assert [(r.source, r.event_id, r.status, r.reason, r.seq) for r in rows] == [
        ("station:CONG-SNV", "one", "accepted", None, 1),
        ("withdrawal:thanhtra", str(rows[0].id), "rejected", "withdrawn", 2),
        ("station:CONG-SNV", "two", "accepted", None, 3)]
    assert {r.stream for r in rows} == {"scan:CONG-SNV"}
    with session_factory() as session:
        assert verify_chains(session)[1] is None
        counted = session.scalars(select(Scan.event_id).where(Scan.counted())).all()
        assert counted == ["two"]
