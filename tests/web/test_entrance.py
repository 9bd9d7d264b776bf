"""The entrance page (the guard's no-badge record on the web) and scan photos."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from attendance import scans as service
from attendance.db import instance_path
from attendance.models import Employee, NoBadgeRecord, Scan, Station
from attendance.models.chain import append
from factories import make_employee
from web_helpers import csrf_token, login

EVENT_RE = re.compile(r'name="event_id" value="([^"]+)"')


def _record(client, employee_code: str, event_id: str, note: str = ""):
    token = csrf_token(client, "/entrance/no-badge")
    return client.post("/entrance/no-badge", data={
        "csrf_token": token, "employee": employee_code, "event_id": event_id, "note": note})


def test_unit_head_finds_and_records_someone_without_a_badge(login_as, session_factory, clock):
    client = login_as("head_snv")
    page = client.get("/entrance/no-badge", query_string={"q": "tran thi binh"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Trần Thị Bình" in html
    event_id = EVENT_RE.search(html).group(1)

    response = _record(client, "E-SNV", event_id, note="Quên thẻ ở nhà")
    assert response.status_code == 303
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã ghi nhận Trần Thị Bình (E-SNV) không đeo thẻ." in follow
    assert "Quên thẻ ở nhà" in follow and "10:00" in follow  # today's list, local time

    # The same form sent twice (a double click, a reload) records once.
    assert _record(client, "E-SNV", event_id).status_code == 303
    assert "đã được lưu trước đó" in client.get("/entrance/no-badge").get_data(as_text=True)
    with session_factory() as session:
        [record] = session.scalars(select(NoBadgeRecord)).all()
        assert record.employee.code == "E-SNV" and record.recorded_at == clock.now
        assert (record.source, record.recorded_by, record.stream) == ("guard", "head_snv",
                                                                      "nobadge:SNV")
        assert record.note == "Quên thẻ ở nhà"


def test_unit_head_cannot_record_outside_their_units(login_as, session_factory):
    client = login_as("head_snv")
    html = client.get("/entrance/no-badge", query_string={"q": "Phạm"}).get_data(as_text=True)
    assert "Phạm Minh Dũng" not in html and "Không tìm thấy ai." in html
    assert _record(client, "E-STC", "evt-1").status_code == 404
    assert _record(client, "NOPE", "evt-2").status_code == 404
    assert _record(client, "", "evt-3").status_code == 400
    with session_factory() as session:
        assert session.scalars(select(NoBadgeRecord)).all() == []


def test_inspector_records_anyone(login_as, session_factory):
    client = login_as("inspector")
    assert "Phạm Minh Dũng" in client.get(
        "/entrance/no-badge", query_string={"q": "pham minh"}).get_data(as_text=True)
    assert _record(client, "E-STC", "evt-9").status_code == 303
    with session_factory() as session:
        assert session.scalar(select(NoBadgeRecord)).stream == "nobadge:STC"


def test_names_are_escaped(login_as, session_factory, province):
    with session_factory() as session:
        snv = session.scalar(select(Employee).where(Employee.code == "E-SNV")).unit
        make_employee(session, snv, "E-XSS", '<script>alert("x")</script> Nguyễn Văn Hải')
        session.commit()
    client = login_as("admin")
    html = client.get("/entrance/no-badge", query_string={"q": "nguyen van hai"}).get_data(
        as_text=True)
    assert "&lt;script&gt;alert(" in html and "<script>alert(" not in html
    _record(client, "E-XSS", "evt-x", note="<b>đậm</b>")
    html = client.get("/entrance/no-badge").get_data(as_text=True)
    assert "<script>alert(" not in html and "<b>đậm</b>" not in html
    assert "&lt;b&gt;đậm&lt;/b&gt;" in html


def test_staff_may_not_record(login_as):
    client = login_as("staff_snv")
    assert client.get("/entrance/no-badge").status_code == 403


# --- photos --------------------------------------------------------------------------------


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 200, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def _scan_with_photo(session, province, employee_key: str | None, event_id: str) -> int:
    station = session.get(Station, province["station"])
    scan = Scan(source="station:CONG-SNV", station_id=station.id, event_id=event_id,
                employee_id=province[employee_key] if employee_key else None,
                badge_serial=None, status="accepted" if employee_key else "rejected",
                reason=None if employee_key else "bad_signature", payload="x",
                scanned_at=station.created_at + timedelta(days=1),
                station_time=station.created_at, received_at=station.created_at, flags="",
                supersedes_id=None)
    append(session, scan, "scan:CONG-SNV")
    session.flush()
    day = scan.scanned_at.date()
    scan.evidence_path = service.save_evidence(_jpeg(), scan.id, day)
    session.flush()
    return scan.id


def test_scan_photo_follows_the_scope(app, province, session_factory, login_as, client):
    with session_factory() as session:
        own = _scan_with_photo(session, province, "e_snv", "p1")
        other_unit = _scan_with_photo(session, province, "e_stc", "p2")
        refused = _scan_with_photo(session, province, None, "p3")
        session.commit()
    expected = {
        "admin": {own: 200, other_unit: 200, refused: 200},
        "inspector": {own: 200, other_unit: 200, refused: 200},
        "head_snv": {own: 200, other_unit: 404, refused: 404},
        "staff_snv": {own: 200, other_unit: 404, refused: 404},
    }
    for username, answers in expected.items():
        signed_in = app.test_client()
        assert login(signed_in, username).status_code == 302
        for scan_id, status in answers.items():
            response = signed_in.get(f"/scans/{scan_id}/photo")
            assert response.status_code == status, (username, scan_id)
            if status == 200:
                assert response.mimetype == "image/jpeg"
                assert response.get_data() == _jpeg()
                assert "no-store" in response.headers["Cache-Control"]
    assert client.get(f"/scans/{own}/photo").status_code == 302  # signed out: sign in first
    # A purged photo is gone for everyone.
    for path in (instance_path() / "evidence").rglob("*.jpg"):
        path.unlink()
    admin = app.test_client()
    login(admin, "admin")
    assert admin.get(f"/scans/{own}/photo").status_code == 404
