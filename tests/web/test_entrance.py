"""The entrance page (the guard's no-badge record on the web) and scan photos."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from attendance import audit
from attendance import scans as service
from attendance.db import instance_path
from attendance.models import AuditEntry, Employee, NoBadgeRecord, Scan, Station
from attendance.models.chain import append
from factories import make_employee, make_user
from web_helpers import csrf_token, login, use_english

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


def test_the_recorder_is_shown_by_name_with_the_username(app, session_factory, province):
    with session_factory() as session:
        snv = session.get(Employee, province["e_snv"]).unit
        head = make_employee(session, snv, "E-VINH", full_name="Nguyễn Bá Vinh")
        make_user(session, "thutruong", "unit_head", unit=snv, employee=head)
        session.commit()
    client = app.test_client()
    login(client, "thutruong")
    assert _record(client, "E-SNV", "evt-named").status_code == 303
    html = client.get("/entrance/no-badge").get_data(as_text=True)
    assert re.search(r'data-label="Người ghi">Nguyễn Bá Vinh \(thutruong\)</td>', html)


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


# --- withdrawing a record made in error ------------------------------------------------------


def _withdraw(client, record_id: int, reason: str, page: str = "/entrance/no-badge", **extra):
    return client.post(f"/entrance/no-badge/{record_id}/withdraw", data={
        "csrf_token": csrf_token(client, page), "reason": reason, **extra})


def _history(client, page: str) -> str:
    """The text of the employee page's history (its findings, one line each)."""
    section = client.get(page).get_data(as_text=True).split('id="history"', 1)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section.split("</section>", 1)[0]))


def _records(session_factory) -> list[NoBadgeRecord]:
    with session_factory() as session:
        return list(session.scalars(select(NoBadgeRecord).order_by(NoBadgeRecord.id)))


def test_the_guard_withdraws_their_own_record_and_the_day_no_longer_counts_it(
        login_as, session_factory, province, clock):
    client = login_as("head_snv")
    _record(client, "E-SNV", "evt-w1")
    employee_page = f"/employees/{province['e_snv']}"
    assert "Không đeo thẻ · buổi sáng · lúc 10:00 · Bảo vệ ghi nhận" in _history(
        client, employee_page)
    [record] = _records(session_factory)

    assert _withdraw(client, record.id, "  ").status_code == 303  # no reason: nothing done
    assert "Cần ghi lý do hủy" in client.get("/entrance/no-badge").get_data(as_text=True)
    assert len(_records(session_factory)) == 1

    clock.now += timedelta(minutes=5)
    answer = _withdraw(client, record.id, "Chọn nhầm người <b>Bình</b>")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/entrance/no-badge")
    html = client.get("/entrance/no-badge").get_data(as_text=True)
    assert "Đã hủy ghi nhận không đeo thẻ của Trần Thị Bình lúc 23/11/2026 10:00." in html
    assert "Đã hủy" in html and "&lt;b&gt;Bình&lt;/b&gt;" in html and "<b>Bình" not in html
    assert "Không đeo thẻ" not in _history(client, employee_page)

    # The original stays on record, superseded by a void record in the same chain.
    original, withdrawal = _records(session_factory)
    assert (withdrawal.void, withdrawal.supersedes_id, withdrawal.stream) == (
        True, original.id, original.stream)
    assert (withdrawal.recorded_by, withdrawal.recorded_at) == ("head_snv", clock.now)
    with session_factory() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "no_badge.withdrawn"))
        assert entry.actor == "head_snv" and "Chọn nhầm người" in entry.details
        assert audit.verify_chains(session)[1] is None

    # Twice is refused, and the withdrawal itself cannot be withdrawn.
    assert _withdraw(client, record.id, "lần nữa").status_code == 303
    assert "bản ghi này đã được hủy" in client.get("/entrance/no-badge").get_data(as_text=True)
    use_english(client)
    _withdraw(client, record.id, "lần nữa")
    assert ("Could not withdraw: this record has already been withdrawn"
            in client.get("/entrance/no-badge").get_data(as_text=True))
    assert _withdraw(client, withdrawal.id, "hủy bản hủy").status_code == 404
    assert len(_records(session_factory)) == 2


def test_who_may_withdraw(app, login_as, session_factory, province):
    """Inspectors and admins any record; the one who recorded it their own; a unit head not
    another's record of their own staff; staff and other units never."""
    client = login_as("inspector")
    _record(client, "E-SNV", "evt-by-inspector")
    _record(client, "E-STC", "evt-stc")
    by_inspector, stc = _records(session_factory)
    head = app.test_client()
    login(head, "head_snv")
    html = head.get("/entrance/no-badge").get_data(as_text=True)
    assert "Trần Thị Bình" in html and f"/no-badge/{by_inspector.id}/withdraw" not in html
    assert _withdraw(head, by_inspector.id, "không đúng").status_code == 403
    assert _withdraw(head, stc.id, "không đúng").status_code == 404
    staff = app.test_client()
    login(staff, "staff_snv")
    assert _withdraw(staff, by_inspector.id, "không phải tôi",
                     page=f"/employees/{province['e_snv']}").status_code == 403
    assert len(_records(session_factory)) == 2
    admin = app.test_client()
    login(admin, "admin")
    assert f"/no-badge/{stc.id}/withdraw" in admin.get("/entrance/no-badge").get_data(as_text=True)
    assert _withdraw(admin, stc.id, "Thẻ đeo trong áo khoác").status_code == 303
    assert len(_records(session_factory)) == 3


def test_an_inspector_withdraws_a_scan_made_with_someone_elses_badge(
        app, login_as, session_factory, province, clock):
    """A colleague showed E-SNV's badge at 07:25 on Friday; she came at 07:48. Withdrawn, the
    07:25 scan no longer makes her check-in, nor appears among today's arrivals."""
    from datetime import date

    from report_factories import local, scan

    with session_factory() as session:
        employee = session.get(Employee, province["e_snv"])
        for at in (local(date(2026, 11, 20), "07:25"), local(date(2026, 11, 20), "07:48"),
                   local(date(2026, 11, 20), "16:40"), local(date(2026, 11, 23), "07:25")):
            scan(session, employee, at)
        session.commit()
        friday, _, _, today = session.scalars(select(Scan).order_by(Scan.id)).all()
    page = f"/employees/{province['e_snv']}"
    inspector = login_as("inspector")
    assert "07:25" in [row for row in _history(inspector, page).split("Thứ") if "20/11" in row][0]
    assert _arrivals(inspector) == ["07:25:00"]

    # Unit heads and staff see the scans and may not withdraw them.
    for username in ("head_snv", "staff_snv"):
        other = app.test_client()
        login(other, username)
        html = other.get(page).get_data(as_text=True)
        assert "20/11/2026 07:25:00" in html and f"/scans/{friday.id}/withdraw" not in html
        assert _withdraw_scan(other, friday.id, "không phải tôi", page).status_code == 403

    for scan_id in (friday.id, today.id):
        answer = _withdraw_scan(inspector, scan_id, "Ảnh chụp người khác cầm thẻ", page)
        assert answer.status_code == 303 and answer.headers["Location"].endswith("#scans")
    html = inspector.get(page).get_data(as_text=True)
    assert "Đã hủy lượt quét thẻ của Trần Thị Bình lúc 23/11/2026 07:25." in html
    assert html.count("inspector: Ảnh chụp người khác cầm thẻ") == 2
    friday_row = [row for row in _history(inspector, page).split("Thứ") if "20/11" in row][0]
    assert "07:25" not in friday_row and "07:48" in friday_row and "Đi muộn 18 phút" in friday_row
    assert _arrivals(inspector) == []

    # Once only; a withdrawal is not a scan to withdraw.
    _withdraw_scan(inspector, friday.id, "lần nữa", page)
    assert "lượt quét này đã được hủy" in inspector.get(page).get_data(as_text=True)
    with session_factory() as session:
        withdrawals = session.scalars(select(Scan).where(Scan.reason == "withdrawn")).all()
        assert [(w.supersedes_id, w.status, w.source, w.stream) for w in withdrawals] == [
            (friday.id, "rejected", "withdrawal:inspector", friday.stream),
            (today.id, "rejected", "withdrawal:inspector", today.stream)]
        assert session.scalar(select(AuditEntry).where(
            AuditEntry.action == "scan.withdrawn")).actor == "inspector"
        assert audit.verify_chains(session)[1] is None
    _withdraw_scan(inspector, withdrawals[0].id, "hủy bản hủy", page)
    assert "chỉ hủy được lượt quét đã được chấp nhận" in inspector.get(page).get_data(
        as_text=True)
    outsider = app.test_client()
    login(outsider, "head_snv")
    with session_factory() as session:
        stc = session.get(Employee, province["e_stc"])
        scan(session, stc, local(date(2026, 11, 20), "07:30"))
        session.commit()
        stc_scan = session.scalar(select(Scan).where(Scan.employee_id == stc.id))
    assert _withdraw_scan(outsider, stc_scan.id, "x", "/").status_code == 404


def test_scan_ids_past_two_to_the_31(login_as, session_factory, province):
    """A country's scans pass 2**31 within two years: such ids are stored (64-bit on
    PostgreSQL, its sequence too), withdrawn and looked up by their pages like any other."""
    from datetime import date

    from sqlalchemy import text

    from report_factories import local, scan

    big = 2**31 + 5
    with session_factory() as session:
        employee = session.get(Employee, province["e_snv"])
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT setval('scans_id_seq', :n)"), {"n": big})
        else:  # the next rowid follows the largest
            scan(session, employee, local(date(2026, 11, 20), "06:00"))
            session.flush()
            session.execute(text("UPDATE scans SET id = :n"), {"n": big})
        scan(session, employee, local(date(2026, 11, 20), "07:25"))
        session.commit()
        made = session.scalars(select(Scan).order_by(Scan.id.desc())).first()
    assert made.id == big + 1
    inspector = login_as("inspector")
    page = f"/employees/{province['e_snv']}"
    assert f"/scans/{made.id}/withdraw" in inspector.get(page).get_data(as_text=True)
    assert inspector.get(f"/scans/{made.id}/photo").status_code == 404  # none stored
    answer = _withdraw_scan(inspector, made.id, "Người khác cầm thẻ", page)
    assert answer.status_code == 303
    with session_factory() as session:
        withdrawal = session.scalar(select(Scan).where(Scan.reason == "withdrawn"))
        assert withdrawal.supersedes_id == made.id and withdrawal.id == big + 2
    assert inspector.get(f"/scans/{2**63}/photo").status_code == 404


def _withdraw_scan(client, scan_id: int, reason: str, page: str):
    return client.post(f"/scans/{scan_id}/withdraw", data={
        "csrf_token": csrf_token(client, page), "reason": reason})


def _arrivals(client) -> list[str]:
    return [a["time"] for a in client.get("/today/live.json").get_json()["arrivals"]]
