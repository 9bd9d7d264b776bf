"""Excuse pages: staff request, the unit head approves or rejects, the reports follow."""

from __future__ import annotations

import re

from factories import make_employee, make_user
from sqlalchemy import select
from web_helpers import csrf_token, login, use_english

from attendance.models import AuditEntry, Employee, Excuse, ExcuseDecision, Unit, User

DAY = "2026-11-23"  # today, 10:00 (conftest.NOW): who has not come in is "not_arrived"
EVIL = '<script>alert("x")</script>'


def signed_in(app, username: str):
    client = app.test_client()
    login(client, username)
    return client


def request_leave(client, **fields):
    data = {"csrf_token": csrf_token(client, "/excuses/new"), "kind": "leave",
            "start_date": DAY, "end_date": DAY, "part": "full", "note": "Con ốm"}
    data.update(fields)
    return client.post("/excuses/new", data=data)


def decide(client, excuse_id, decision, reason=""):
    token = csrf_token(client, "/excuses")
    return client.post(f"/excuses/{excuse_id}/decide",
                       data={"csrf_token": token, "decision": decision, "reason": reason})


def report(client, unit="SNV"):
    return client.get(f"/api/v1/reports/daily?date={DAY}&unit={unit}").get_json()


def unit_entry(data, code):
    return next(u for u in data["units"] if u["unit"] == code)


def only_excuse(session_factory) -> int:
    with session_factory() as session:
        return session.scalars(select(Excuse.id)).one()


def test_staff_requests_and_the_head_approves_then_the_report_changes(
        app, province, session_factory):
    staff = signed_in(app, "staff_snv")
    response = request_leave(staff, note="Đưa con đi khám bệnh")
    assert response.status_code == 302
    excuse_id = only_excuse(session_factory)
    mine = staff.get("/excuses").get_data(as_text=True)
    assert "Chờ duyệt" in mine and "Đơn của tôi" in mine
    assert "Đưa con đi khám bệnh" in staff.get(f"/excuses/{excuse_id}").get_data(as_text=True)

    head = signed_in(app, "head_snv")
    before = unit_entry(report(head), "SNV")
    assert "E-SNV" in before["not_arrived"] and "E-SNV" not in before["excused"]
    pending = head.get("/excuses").get_data(as_text=True)
    assert "Trần Thị Bình" in pending and f"/excuses/{excuse_id}" in pending
    detail = head.get(f"/excuses/{excuse_id}").get_data(as_text=True)
    assert 'value="approved"' in detail and 'value="rejected"' in detail
    assert re.search(r"<dd>Trần Thị Bình \(staff_snv\) · \d\d/11/2026", detail)

    assert decide(head, excuse_id, "approved", "Đồng ý").status_code == 302
    after = unit_entry(report(head), "SNV")
    assert "E-SNV" in after["excused"] and "E-SNV" not in after["not_arrived"]
    assert after["expected"] == before["expected"] - 1
    with session_factory() as session:
        excuse = session.get(Excuse, excuse_id)
        assert excuse.status == "approved"
        [decision] = excuse.decisions
        assert decision.decided_by == "head_snv" and decision.stream == "excuse:SNV"
    assert "Đã duyệt" in staff.get("/excuses").get_data(as_text=True)
    # Decided once: a second decision is refused and nothing is appended.
    decide(head, excuse_id, "rejected", "nhầm")
    with session_factory() as session:
        assert len(session.scalars(select(ExcuseDecision)).all()) == 1


def test_a_rejection_needs_a_reason_and_leaves_the_report_alone(app, province, session_factory):
    staff = signed_in(app, "staff_snv")
    request_leave(staff, kind="business_trip", part="morning")
    excuse_id = only_excuse(session_factory)
    head = signed_in(app, "head_snv")
    decide(head, excuse_id, "rejected", "")
    assert "cần ghi lý do từ chối" in head.get(f"/excuses/{excuse_id}").get_data(as_text=True)
    assert decide(head, excuse_id, "rejected", "Không có quyết định cử đi").status_code == 302
    with session_factory() as session:
        assert session.get(Excuse, excuse_id).status == "rejected"
    assert "E-SNV" in unit_entry(report(head), "SNV")["not_arrived"]
    page = staff.get(f"/excuses/{excuse_id}").get_data(as_text=True)
    assert "Từ chối" in page and "Không có quyết định cử đi" in page


def test_bad_requests_are_refused_with_vietnamese_messages(login_as, session_factory):
    client = login_as("staff_snv")
    response = request_leave(client, start_date="2026-11-25", end_date="2026-11-24")
    assert response.status_code == 400
    assert "ngày kết thúc trước ngày bắt đầu" in response.get_data(as_text=True)
    response = request_leave(client, start_date="25/11/2026")
    assert response.status_code == 400 and "Ngày không hợp lệ" in response.get_data(as_text=True)
    assert request_leave(client, note="").status_code == 400
    assert request_leave(client, kind="nghỉ mát").status_code == 400
    response = client.post("/excuses/new", data={"kind": "leave", "start_date": DAY,
                                                 "end_date": DAY, "part": "full", "note": "x"})
    assert response.status_code == 400  # no CSRF token
    with session_factory() as session:
        assert session.scalars(select(Excuse)).all() == []


def test_impossible_dates_are_refused_and_the_form_says_the_range(login_as, session_factory):
    client = login_as("staff_snv")
    form = client.get("/excuses/new").get_data(as_text=True)
    # The web tests' today is Monday 23/11/2026: 60 days back, 366 ahead.
    assert 'min="2026-09-24" max="2027-11-24"' in form
    assert "Đơn có thể xin cho các ngày từ 24/09/2026 đến 24/11/2027" in form
    for start, end, message in [
            ("9999-12-31", "9999-12-31", "chỉ xin trước được tối đa 366 ngày (đến ngày 24/11/2027)"),
            ("2026-11-29", "2026-11-29", "ngày 29/11/2026 không phải ngày làm việc (Chủ Nhật, "
                                         "ngày nghỉ hằng tuần); không cần xin nghỉ"),
            ("2026-11-28", "2026-11-29", "từ ngày 28/11/2026 đến ngày 29/11/2026 không có ngày "
                                         "làm việc nào")]:
        response = request_leave(client, start_date=start, end_date=end)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True), start
    with session_factory() as session:
        assert session.scalars(select(Excuse)).all() == []
    # Leave over a weekend is one request.
    assert request_leave(client, start_date="2026-11-27", end_date="2026-11-30").status_code == 302


def _excuse_of(session_factory, code: str, requested_by: str) -> int:
    from datetime import date, datetime, timezone

    with session_factory() as session:
        employee = session.scalar(select(Employee).where(Employee.code == code))
        excuse = Excuse(employee_id=employee.id, start_date=date(2026, 11, 23),
                        end_date=date(2026, 11, 23), part="full", kind="other", note="Việc riêng",
                        requested_by=requested_by,
                        requested_at=datetime(2026, 11, 22, tzinfo=timezone.utc), status="pending")
        session.add(excuse)
        session.commit()
        return excuse.id


def test_heads_see_and_decide_only_their_units(app, province, session_factory):
    other = _excuse_of(session_factory, "E-STC", "someone")
    sub_unit = _excuse_of(session_factory, "E-P1", "someone")
    head = signed_in(app, "head_snv")
    listing = head.get("/excuses").get_data(as_text=True)
    assert "Lê Văn Cường" in listing and "Phạm Minh Dũng" not in listing
    assert head.get(f"/excuses/{other}").status_code == 404
    assert decide(head, other, "approved").status_code == 404
    assert decide(head, sub_unit, "approved").status_code == 302
    # The inspector reads every unit's requests but decides none.
    inspector = signed_in(app, "inspector")
    assert inspector.get(f"/excuses/{other}").status_code == 200
    assert 'value="approved"' not in inspector.get(f"/excuses/{other}").get_data(as_text=True)
    assert decide(inspector, other, "approved").status_code == 403
    # Staff see their own requests only.
    staff = signed_in(app, "staff_snv")
    assert staff.get(f"/excuses/{sub_unit}").status_code == 404
    assert "Lê Văn Cường" not in staff.get("/excuses").get_data(as_text=True)
    with session_factory() as session:
        assert session.get(Excuse, other).status == "pending"


def test_a_heads_own_request_goes_to_the_unit_above_or_an_admin(app, province, session_factory):
    with session_factory() as session:
        snv = session.get(Unit, province["SNV"])
        own = make_employee(session, snv, "E-HEAD", "Nguyễn Văn Thủ")
        session.scalar(select(User).where(User.username == "head_snv")).employee_id = own.id
        make_user(session, "head_prov", "unit_head", unit=session.get(Unit, province["PROV"]))
        session.commit()
    head = signed_in(app, "head_snv")
    assert request_leave(head).status_code == 302
    excuse_id = only_excuse(session_factory)
    page = head.get(f"/excuses/{excuse_id}").get_data(as_text=True)
    assert 'value="approved"' not in page and "cấp trên" in page
    assert decide(head, excuse_id, "approved", "tự duyệt").status_code == 403
    with session_factory() as session:
        assert session.get(Excuse, excuse_id).status == "pending"
    above = signed_in(app, "head_prov")
    assert decide(above, excuse_id, "approved", "Đồng ý").status_code == 302
    with session_factory() as session:
        assert session.get(Excuse, excuse_id).status == "approved"


def test_accounts_without_an_employee_record_cannot_request(login_as):
    client = login_as("admin")
    response = client.get("/excuses/new")
    assert response.status_code == 302
    assert "không thể gửi đơn" in client.get("/excuses").get_data(as_text=True)


def test_names_and_notes_are_escaped(app, province, session_factory):
    with session_factory() as session:
        session.get(Employee, province["e_p1"]).full_name = EVIL
        session.commit()
    excuse_id = _excuse_of(session_factory, "E-P1", EVIL)
    with session_factory() as session:
        session.get(Excuse, excuse_id).note = EVIL
        session.commit()
    head = signed_in(app, "head_snv")
    for path in ("/excuses", f"/excuses/{excuse_id}"):
        html = head.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "&lt;script&gt;alert(" in html, path
    decide(head, excuse_id, "approved", EVIL)
    html = head.get(f"/excuses/{excuse_id}").get_data(as_text=True)
    assert "<script>alert" not in html
    flashes = re.findall(r'class="flash[^"]*"', html)
    assert flashes  # the approval's message, with the escaped name


def post(client, excuse_id, action, **fields):
    data = {"csrf_token": csrf_token(client, "/excuses"), **fields}
    return client.post(f"/excuses/{excuse_id}/{action}", data=data)


def status_of(session_factory, excuse_id) -> str:
    with session_factory() as session:
        return session.get(Excuse, excuse_id).status


def test_staff_withdraw_their_own_pending_request_only(app, province, session_factory):
    with session_factory() as session:
        make_user(session, "staff_p1", "staff", employee=session.get(Employee, province["e_p1"]))
        session.commit()
    staff = signed_in(app, "staff_snv")
    request_leave(staff, note="Đi khám bệnh")
    excuse_id = only_excuse(session_factory)
    action = f'action="/excuses/{excuse_id}/withdraw"'
    assert action in staff.get(f"/excuses/{excuse_id}").get_data(as_text=True)

    head = signed_in(app, "head_snv")
    assert action not in head.get(f"/excuses/{excuse_id}").get_data(as_text=True)
    assert post(head, excuse_id, "withdraw").status_code == 403  # the head decides instead
    other = signed_in(app, "staff_p1")
    assert post(other, excuse_id, "withdraw").status_code == 404  # not theirs to see
    assert status_of(session_factory, excuse_id) == "pending"

    response = post(staff, excuse_id, "withdraw")
    assert response.status_code == 303
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã rút đơn." in page and "Đã rút" in page and action not in page
    assert status_of(session_factory, excuse_id) == "withdrawn"
    assert "Đi khám bệnh" not in head.get("/excuses").get_data(as_text=True)  # off the queue
    assert "Đi khám bệnh" in head.get("/excuses?status=withdrawn").get_data(as_text=True)
    assert 'value="approved"' not in head.get(f"/excuses/{excuse_id}").get_data(as_text=True)
    # Once decided, a request is no longer the author's to withdraw.
    request_leave(staff, start_date="2026-11-24", end_date="2026-11-25", note="Nghỉ phép")
    with session_factory() as session:
        approved = session.scalar(select(Excuse.id).where(Excuse.note == "Nghỉ phép"))
    decide(head, approved, "approved", "Đồng ý")
    post(staff, approved, "withdraw")
    assert "chỉ rút được đơn đang chờ duyệt" in staff.get(f"/excuses/{approved}").get_data(
        as_text=True)
    assert status_of(session_factory, approved) == "approved"


def test_a_head_revokes_an_approval_with_a_reason_and_the_report_follows(
        app, province, session_factory):
    with session_factory() as session:
        make_user(session, "head_stc", "unit_head", unit=session.get(Unit, province["STC"]))
        session.commit()
    staff = signed_in(app, "staff_snv")
    request_leave(staff, note="Đưa con đi khám bệnh")
    excuse_id = only_excuse(session_factory)
    head = signed_in(app, "head_snv")
    decide(head, excuse_id, "approved", "Đồng ý")
    assert "E-SNV" in unit_entry(report(head), "SNV")["excused"]
    action = f'action="/excuses/{excuse_id}/revoke"'
    assert action in head.get(f"/excuses/{excuse_id}").get_data(as_text=True)
    assert action not in staff.get(f"/excuses/{excuse_id}").get_data(as_text=True)

    # Who may not: the staff member, an inspector, the head of another unit.
    assert post(staff, excuse_id, "revoke", reason="x").status_code == 403
    inspector = signed_in(app, "inspector")
    assert post(inspector, excuse_id, "revoke", reason="x").status_code == 403
    elsewhere = signed_in(app, "head_stc")
    assert post(elsewhere, excuse_id, "revoke", reason="x").status_code == 404
    # A reason is required.
    post(head, excuse_id, "revoke", reason="  ")
    assert "cần ghi lý do hủy duyệt" in head.get(f"/excuses/{excuse_id}").get_data(as_text=True)
    assert status_of(session_factory, excuse_id) == "approved"

    response = post(head, excuse_id, "revoke", reason="Không có giấy khám bệnh")
    assert response.status_code == 303
    assert "Đã hủy duyệt đơn của Trần Thị Bình" in head.get(response.headers["Location"]).get_data(
        as_text=True)
    assert status_of(session_factory, excuse_id) == "revoked"
    after = unit_entry(report(head), "SNV")
    assert "E-SNV" in after["not_arrived"] and "E-SNV" not in after["excused"]
    page = staff.get(f"/excuses/{excuse_id}").get_data(as_text=True)
    assert "Đã hủy duyệt" in page and "Không có giấy khám bệnh" in page
    with session_factory() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "excuse.revoked"))
        assert entry.actor == "head_snv" and entry.target == "employee:E-SNV"
    # Revoked once: a second revocation is refused.
    post(head, excuse_id, "revoke", reason="lần nữa")
    with session_factory() as session:
        assert [d.decision for d in session.scalars(select(ExcuseDecision))] == [
            "approved", "revoked"]


def test_refusals_are_in_english_when_the_user_chose_it(app, province, session_factory):
    """The domain's sentences, holiday names and states within them, reach an English page
    in English."""
    staff = signed_in(app, "staff_snv")
    use_english(staff)
    for start, end, message in [
            ("2027-01-01", "2027-01-01", "Cannot send the request: 01/01/2027 is not a working "
                                         "day (public holiday: New Year&#39;s Day); no request "
                                         "is needed"),
            ("2026-11-29", "2026-11-29", "29/11/2026 is not a working day (Sunday, a weekly "
                                         "rest day)"),
            ("2026-11-25", "2026-11-24", "the end date is before the start date"),
            ("9999-12-31", "9999-12-31", "a request reaches at most 366 days ahead (until "
                                         "24/11/2027)")]:
        response = request_leave(staff, start_date=start, end_date=end)
        assert message in response.get_data(as_text=True), start
    request_leave(staff)
    excuse_id = only_excuse(session_factory)
    page = request_leave(staff, end_date="2026-11-24").get_data(as_text=True)
    assert (f"Cannot send the request: it overlaps request no. {excuse_id} (pending): full day, "
            "23/11/2026") in page

    head = signed_in(app, "head_snv")
    use_english(head)
    decide(head, excuse_id, "approved", "")
    decide(head, excuse_id, "rejected", "Nhầm")
    assert ("Cannot decide the request: the request has already been decided (approved)"
            in head.get(f"/excuses/{excuse_id}").get_data(as_text=True))
    post(staff, excuse_id, "withdraw")
    assert ("Could not withdraw the request: only a pending request can be withdrawn (this one "
            "is approved)") in staff.get(f"/excuses/{excuse_id}").get_data(as_text=True)
