"""Excuses: staff request leave, a business trip or another reason; a unit head decides.

``request_excuse`` files a pending request; ``decide_excuse`` approves or rejects it,
appending an ``ExcuseDecision`` to the chained stream ``excuse:<unit code>`` (the employee's
own unit) and setting ``Excuse.status``. An approved excuse enters the rules at once:
``attendance.evaluation`` reads every excuse whose status is ``approved``.

Who may decide (``may_decide``): an admin, or a unit head whose units include the
employee's unit — but nobody decides their own request. A unit head's own request therefore
goes to the head of a unit above theirs (whose scope includes their unit) or to an admin.
Service functions take a session and never commit.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from attendance import access, findings
from attendance.audit import record as audit
from attendance.models import Employee, Excuse, ExcuseDecision, User
from attendance.models.chain import append
from attendance.models.excuses import KINDS, PARTS

DECISIONS = ("approved", "rejected")
PENDING = "pending"
MAX_DAYS = 366  # one request covers at most a year (a long secondment is several requests)
MAX_NOTE = 1000
MAX_PAST_DAYS = 60  # a request may look back this far (e.g. a trip filed on return)

KIND_LABELS = {"leave": "nghỉ phép", "business_trip": "đi công tác", "other": "lý do khác"}
PART_LABELS = {"full": "cả ngày", "morning": "buổi sáng", "afternoon": "buổi chiều"}
STATUS_LABELS = {"pending": "chờ duyệt", "approved": "đã duyệt", "rejected": "từ chối"}


class ExcuseError(ValueError):
    """A request or decision that cannot be made; the message is one Vietnamese sentence."""


def excuse_stream(employee: Employee) -> str:
    return f"excuse:{employee.unit.code}"


def _text(value: str | None, what: str) -> str | None:
    value = (value or "").strip()
    if len(value) > MAX_NOTE:
        raise ExcuseError(f"{what} dài quá {MAX_NOTE} ký tự")
    return value or None


def request_excuse(session: Session, employee: Employee, *, start_date: date, end_date: date,
                   part: str, kind: str, note: str | None, requested_by: str,
                   now: datetime, today: date) -> Excuse:
    """File a pending request for ``employee`` (``today``: the local date of ``now``)."""
    if kind not in KINDS:
        raise ExcuseError("loại đơn không hợp lệ")
    if part not in PARTS:
        raise ExcuseError("thời gian nghỉ trong ngày không hợp lệ")
    if end_date < start_date:
        raise ExcuseError("ngày kết thúc trước ngày bắt đầu")
    if (end_date - start_date).days + 1 > MAX_DAYS:
        raise ExcuseError(f"một đơn không quá {MAX_DAYS} ngày")
    if part != "full" and end_date != start_date:
        raise ExcuseError("nghỉ buổi sáng hoặc buổi chiều chỉ áp dụng cho một ngày")
    if start_date < today - timedelta(days=MAX_PAST_DAYS):
        raise ExcuseError(f"không thể xin cho ngày đã quá {MAX_PAST_DAYS} ngày")
    note = _text(note, "lý do")
    if note is None:
        raise ExcuseError("cần ghi lý do")
    excuse = Excuse(employee_id=employee.id, start_date=start_date, end_date=end_date, part=part,
                    kind=kind, note=note, requested_by=requested_by[:80], requested_at=now,
                    status=PENDING)
    excuse.employee = employee
    session.add(excuse)
    session.flush()
    audit(session, actor=requested_by, action="excuse.requested", at=now,
          target=f"employee:{employee.code}",
          details={"excuse": excuse.id, "kind": kind, "part": part,
                   "from": start_date.isoformat(), "to": end_date.isoformat()})
    return excuse


def is_own(user: User, excuse: Excuse) -> bool:
    """Whether ``excuse`` is ``user``'s own: about their employee record, or filed by them."""
    return (user.employee_id is not None and user.employee_id == excuse.employee_id) or \
        excuse.requested_by == user.username


def may_decide(session: Session, user: User, excuse: Excuse) -> bool:
    """Admins and the unit heads above the employee decide; nobody decides their own."""
    if not user.active or is_own(user, excuse):
        return False
    if user.role == "admin":
        return True
    return user.role == "unit_head" and access.can_see_employee(session, user, excuse.employee)


def decide_excuse(session: Session, excuse: Excuse, decision: str, decided_by: str,
                  reason: str | None, now: datetime) -> ExcuseDecision:
    """Approve or reject a pending request. A rejection needs a reason. Never commits.

    ``decided_by`` is the deciding user's name as it should stand on the record.
    """
    if decision not in DECISIONS:
        raise ExcuseError("quyết định không hợp lệ")
    if excuse.status != PENDING:
        raise ExcuseError(f"đơn đã được xử lý ({STATUS_LABELS.get(excuse.status, excuse.status)})")
    reason = _text(reason, "lý do")
    if decision == "rejected" and reason is None:
        raise ExcuseError("cần ghi lý do từ chối")
    record = append(session, ExcuseDecision(
        excuse_id=excuse.id, decision=decision, decided_by=decided_by[:80],
        reason=reason, decided_at=now), excuse_stream(excuse.employee))
    excuse.status = decision
    findings.mark_stale(session, [(excuse.employee_id, day) for day in
                                  findings.days(excuse.start_date, excuse.end_date)])
    session.flush()
    return record
