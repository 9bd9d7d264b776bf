"""Excuses in the domain: requests, decisions on the chained stream, who decides, the rules."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from factories import NOW, make_employee, make_unit, make_user
from sqlalchemy import select

from attendance import excuses
from attendance.audit import verify_chains
from attendance.config import load_config
from attendance.evaluation import evaluate_range
from attendance.models import AuditEntry, ExcuseDecision, StaleFinding
from attendance.models.chain import AppendOnlyError

MONDAY = date(2026, 11, 23)
CONFIG = load_config()


@pytest.fixture
def org(db_session):
    prov = make_unit(db_session, "PROV", "UBND tỉnh")
    snv = make_unit(db_session, "SNV", "Sở Nội vụ", parent=prov)
    p1 = make_unit(db_session, "SNV-P1", "Phòng Công chức", parent=snv)
    stc = make_unit(db_session, "STC", "Sở Tài chính", parent=prov)
    people = {
        "head_snv": make_employee(db_session, snv, "E-HEAD", "Nguyễn Văn Thủ"),
        "p1": make_employee(db_session, p1, "E-P1", "Lê Văn Cường"),
        "stc": make_employee(db_session, stc, "E-STC", "Phạm Minh Dũng"),
    }
    users = {
        "admin": make_user(db_session, "admin", "admin"),
        "inspector": make_user(db_session, "inspector", "inspector"),
        "head_snv": make_user(db_session, "head_snv", "unit_head", unit=snv,
                              employee=people["head_snv"]),
        "head_prov": make_user(db_session, "head_prov", "unit_head", unit=prov),
        "staff_p1": make_user(db_session, "staff_p1", "staff", employee=people["p1"]),
    }
    return people, users


def ask(session, employee, config=CONFIG, **overrides):
    values = dict(start_date=MONDAY, end_date=MONDAY, part="full", kind="leave",
                  note="Việc gia đình", requested_by="staff_p1", now=NOW, today=MONDAY)
    values.update(overrides)
    return excuses.request_excuse(session, config, employee, **values)


@pytest.mark.parametrize("overrides, message", [
    (dict(end_date=MONDAY - timedelta(days=1)), "ngày kết thúc trước ngày bắt đầu"),
    (dict(part="morning", end_date=MONDAY + timedelta(days=1)), "chỉ áp dụng cho một ngày"),
    (dict(note="  "), "cần ghi lý do"),
    (dict(kind="holiday"), "loại đơn không hợp lệ"),
    (dict(part="evening"), "không hợp lệ"),
    (dict(end_date=MONDAY + timedelta(days=400)), "không quá 366 ngày"),
    (dict(start_date=MONDAY - timedelta(days=90)), "quá 60 ngày"),
])
def test_bad_requests_are_refused_in_vietnamese(db_session, org, overrides, message):
    people, _ = org
    with pytest.raises(excuses.ExcuseError, match=message):
        ask(db_session, people["p1"], **overrides)


SUNDAY = date(2026, 11, 29)


@pytest.mark.parametrize("start, end, part, message", [
    (date(9999, 12, 31), date(9999, 12, 31), "full",
     "chỉ xin trước được tối đa 366 ngày (đến ngày 24/11/2027)"),
    (date(2027, 11, 25), date(2027, 11, 25), "full", "tối đa 366 ngày"),
    (SUNDAY, SUNDAY, "full",
     "ngày 29/11/2026 không phải ngày làm việc (Chủ Nhật, ngày nghỉ hằng tuần); "
     "không cần xin nghỉ"),
    (SUNDAY - timedelta(days=1), SUNDAY - timedelta(days=1), "morning",
     "ngày 28/11/2026 không phải ngày làm việc (Thứ Bảy, ngày nghỉ hằng tuần)"),
    (date(2026, 11, 24), date(2026, 11, 24), "afternoon",
     "ngày 24/11/2026 không phải ngày làm việc (ngày nghỉ lễ: Ngày Văn hóa Việt Nam)"),
    (SUNDAY - timedelta(days=1), SUNDAY, "full",
     "từ ngày 28/11/2026 đến ngày 29/11/2026 không có ngày làm việc nào"),
])
def test_impossible_dates_are_refused(db_session, org, start, end, part, message):
    people, _ = org
    with pytest.raises(excuses.ExcuseError) as refused:
        ask(db_session, people["p1"], start_date=start, end_date=end, part=part)
    assert message in str(refused.value)


def test_a_range_over_a_weekend_and_a_swapped_saturday_are_fine(db_session, org):
    people, _ = org
    friday, monday = SUNDAY - timedelta(days=2), SUNDAY + timedelta(days=1)
    assert ask(db_session, people["p1"], start_date=friday, end_date=monday).status == "pending"
    # A Saturday worked in exchange (ngày làm bù, 22/08/2026) is a working day.
    swapped = date(2026, 8, 22)
    assert ask(db_session, people["p1"], start_date=swapped, end_date=swapped,
               today=swapped).status == "pending"
    # The last day of the horizon (a Wednesday, but a holiday: the range has working days).
    assert ask(db_session, people["p1"], start_date=date(2027, 11, 22),
               end_date=date(2027, 11, 24)).status == "pending"


def test_the_horizon_is_the_deployments_and_the_employees_dates_count(db_session, org):
    people, _ = org
    month = CONFIG.model_copy(update={"excuses": CONFIG.excuses.model_copy(
        update={"max_future_days": 30})})
    with pytest.raises(excuses.ExcuseError, match=r"tối đa 30 ngày \(đến ngày 23/12/2026\)"):
        ask(db_session, people["p1"], config=month, start_date=date(2026, 12, 24),
            end_date=date(2026, 12, 24))
    people["p1"].end_date = date(2026, 11, 30)  # retires at the end of the month
    with pytest.raises(excuses.ExcuseError, match="ngoài thời gian công tác"):
        ask(db_session, people["p1"], start_date=date(2026, 12, 1), end_date=date(2026, 12, 1))
    with pytest.raises(excuses.ExcuseError, match="không có ngày làm việc nào"):
        ask(db_session, people["p1"], start_date=date(2026, 12, 1), end_date=date(2026, 12, 4))
    assert ask(db_session, people["p1"], start_date=date(2026, 11, 30),
               end_date=date(2026, 12, 4)).status == "pending"


def test_a_request_is_pending_and_audited(db_session, org):
    people, _ = org
    excuse = ask(db_session, people["p1"], kind="business_trip",
                 end_date=MONDAY + timedelta(days=2))
    assert excuse.status == "pending" and excuse.decisions == []
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "excuse.requested"))
    assert entry.target == "employee:E-P1" and entry.actor == "staff_p1"


def test_approval_appends_a_chained_decision_and_sets_the_status(db_session, org):
    people, _ = org
    excuse = ask(db_session, people["p1"])
    decision = excuses.decide_excuse(db_session, excuse, "approved", "Nguyễn Văn Thủ", "Đồng ý",
                                     NOW + timedelta(hours=1))
    db_session.flush()
    assert excuse.status == "approved"
    # The employee's own unit names the stream, not the unit of whoever decided.
    assert decision.stream == "excuse:SNV-P1" and decision.seq == 1
    with pytest.raises(excuses.ExcuseError, match="đã được xử lý"):
        excuses.decide_excuse(db_session, excuse, "rejected", "x", "đổi ý", NOW)
    decision.reason = "sửa lén"
    with pytest.raises(AppendOnlyError):
        db_session.flush()
    db_session.rollback()


def test_a_request_may_not_cover_what_another_pending_or_approved_one_covers(
        db_session, org):
    people, _ = org
    first = ask(db_session, people["p1"], start_date=MONDAY, end_date=MONDAY + timedelta(days=2))
    wednesday = MONDAY + timedelta(days=2)
    for start, end, part in ((MONDAY, MONDAY, "full"), (wednesday, wednesday, "morning"),
                             (MONDAY - timedelta(days=7), MONDAY, "full")):
        with pytest.raises(excuses.ExcuseError,
                           match=f"đã có đơn số {first.id} \\(đang chờ duyệt\\) cho cả "
                                 "ngày 23/11/2026 – 25/11/2026"):
            ask(db_session, people["p1"], start_date=start, end_date=end, part=part)
    ask(db_session, people["stc"])  # another employee's day
    thursday = MONDAY + timedelta(days=3)
    morning = ask(db_session, people["p1"], start_date=thursday, end_date=thursday,
                  part="morning")
    afternoon = ask(db_session, people["p1"], start_date=thursday, end_date=thursday,
                    part="afternoon")
    excuses.decide_excuse(db_session, morning, "approved", "x", None, NOW)
    with pytest.raises(excuses.ExcuseError) as refused:
        ask(db_session, people["p1"], start_date=thursday, end_date=thursday)
    assert str(refused.value) == (
        f"đã có đơn số {morning.id} (đã duyệt) cho buổi sáng 26/11/2026; đơn số "
        f"{afternoon.id} (đang chờ duyệt) cho buổi chiều 26/11/2026")
    # A withdrawn request frees its days.
    excuses.withdraw_excuse(db_session, first, by="staff_p1", actor="staff_p1", now=NOW)
    ask(db_session, people["p1"])


def test_decisions_keep_the_chain_intact(db_session, org):
    people, _ = org
    wednesday = MONDAY + timedelta(days=2)
    for employee, day in ((people["p1"], MONDAY), (people["p1"], wednesday),
                          (people["stc"], MONDAY)):
        excuse = ask(db_session, employee, start_date=day, end_date=day)
        excuses.decide_excuse(db_session, excuse, "approved", "x", None, NOW)
    db_session.flush()
    streams = [(d.stream, d.seq) for d in db_session.scalars(select(ExcuseDecision))]
    assert streams == [("excuse:SNV-P1", 1), ("excuse:SNV-P1", 2), ("excuse:STC", 1)]
    assert verify_chains(db_session)[1] is None


def test_a_rejection_needs_a_reason(db_session, org):
    people, _ = org
    excuse = ask(db_session, people["p1"])
    with pytest.raises(excuses.ExcuseError, match="lý do từ chối"):
        excuses.decide_excuse(db_session, excuse, "rejected", "x", " ", NOW)
    with pytest.raises(excuses.ExcuseError, match="quyết định không hợp lệ"):
        excuses.decide_excuse(db_session, excuse, "maybe", "x", "?", NOW)
    excuses.decide_excuse(db_session, excuse, "rejected", "x", "Trùng lịch họp", NOW)
    assert excuse.status == "rejected"
    assert db_session.scalars(select(ExcuseDecision)).one().decision == "rejected"


def test_who_may_decide(db_session, org):
    people, users = org
    of_p1 = ask(db_session, people["p1"])
    of_stc = ask(db_session, people["stc"], requested_by="someone")
    own = ask(db_session, people["head_snv"], requested_by="head_snv")
    decide = lambda who, excuse: excuses.may_decide(db_session, users[who], excuse)  # noqa: E731
    assert decide("head_snv", of_p1) and decide("admin", of_p1) and decide("head_prov", of_p1)
    assert not decide("head_snv", of_stc) and decide("head_prov", of_stc)
    # A unit head's own request goes to the unit above (or an admin).
    assert not decide("head_snv", own)
    assert decide("head_prov", own) and decide("admin", own)
    assert not decide("inspector", of_p1) and not decide("staff_p1", of_p1)
    # Nobody decides a request they filed, whatever it is about.
    wednesday = MONDAY + timedelta(days=2)
    filed_by_admin = ask(db_session, people["stc"], requested_by="admin",
                         start_date=wednesday, end_date=wednesday)
    assert not decide("admin", filed_by_admin)


def test_only_an_approved_excuse_reaches_the_rules(db_session, org, config):
    people, _ = org
    excuse = ask(db_session, people["p1"])

    def day_result():
        [(_, _, result)] = evaluate_range(db_session, config, MONDAY, MONDAY,
                                          employee_codes=["E-P1"])
        return result

    assert day_result().excused is None and day_result().has_open("absent")
    excuses.decide_excuse(db_session, excuse, "approved", "Nguyễn Văn Thủ", None, NOW)
    db_session.flush()
    result = day_result()
    [whole_day] = result.excuses
    assert whole_day.kind == "leave" and whole_day.approved_by == "Nguyễn Văn Thủ"
    assert not result.expected and not result.open_findings()


def stale_marks(session) -> int:
    return len(session.scalars(select(StaleFinding)).all())


def test_staff_withdraw_their_own_pending_request(db_session, org):
    people, users = org
    excuse = ask(db_session, people["p1"])
    assert excuses.may_withdraw(users["staff_p1"], excuse)
    assert not excuses.may_withdraw(users["head_snv"], excuse)
    assert not excuses.may_withdraw(users["admin"], excuse)
    marks = stale_marks(db_session)
    record = excuses.withdraw_excuse(db_session, excuse, by="Lê Văn Cường (staff_p1)",
                                     actor="staff_p1", now=NOW)
    assert excuse.status == "withdrawn" and record.decision == "withdrawn"
    assert record.stream == "excuse:SNV-P1" and verify_chains(db_session)[1] is None
    assert stale_marks(db_session) == marks  # it never counted: nothing to compute again
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "excuse.withdrawn"))
    assert entry.actor == "staff_p1" and entry.target == "employee:E-P1"
    with pytest.raises(excuses.ExcuseError, match="chỉ rút được đơn đang chờ duyệt"):
        excuses.withdraw_excuse(db_session, excuse, by="x", actor="staff_p1", now=NOW)
    with pytest.raises(excuses.ExcuseError, match="đã được xử lý"):
        excuses.decide_excuse(db_session, excuse, "approved", "x", None, NOW)
    approved = ask(db_session, people["p1"])
    excuses.decide_excuse(db_session, approved, "approved", "x", None, NOW)
    with pytest.raises(excuses.ExcuseError, match=r"đang chờ duyệt \(đơn này đã duyệt\)"):
        excuses.withdraw_excuse(db_session, approved, by="x", actor="staff_p1", now=NOW)


def test_a_revoked_approval_excuses_nothing_any_more(db_session, org, config):
    people, users = org
    excuse = ask(db_session, people["p1"])
    with pytest.raises(excuses.ExcuseError, match="chỉ hủy duyệt được đơn đã duyệt"):
        excuses.revoke_approval(db_session, excuse, by="x", actor="head_snv", reason="x",
                                now=NOW)
    excuses.decide_excuse(db_session, excuse, "approved", "Nguyễn Văn Thủ", None, NOW,
                          actor="head_snv")
    [(_, _, result)] = evaluate_range(db_session, config, MONDAY, MONDAY, employee_codes=["E-P1"])
    assert result.excused is not None
    marks = stale_marks(db_session)
    with pytest.raises(excuses.ExcuseError, match="cần ghi lý do hủy duyệt"):
        excuses.revoke_approval(db_session, excuse, by="x", actor="head_snv", reason="  ",
                                now=NOW)
    record = excuses.revoke_approval(db_session, excuse, by="Nguyễn Văn Thủ (head_snv)",
                                     actor="head_snv", reason="Không đi công tác nữa",
                                     now=NOW + timedelta(hours=2))
    assert excuse.status == "revoked" and [d.decision for d in excuse.decisions] == [
        "approved", "revoked"]
    assert (record.reason, record.seq) == ("Không đi công tác nữa", 2)
    assert stale_marks(db_session) > marks  # the stored findings of that day are computed again
    [(_, _, result)] = evaluate_range(db_session, config, MONDAY, MONDAY, employee_codes=["E-P1"])
    assert result.excused is None and result.has_open("absent")
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "excuse.revoked"))
    assert entry.actor == "head_snv" and "Không đi công tác nữa" in entry.details
    assert verify_chains(db_session)[1] is None
    # Who may revoke: whoever may decide (the heads above, admins; nobody their own).
    assert excuses.may_decide(db_session, users["head_prov"], excuse)
    assert not excuses.may_decide(db_session, users["staff_p1"], excuse)
