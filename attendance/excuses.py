"""Excuses: staff request leave, a business trip or another reason; a unit head decides.

``request_excuse`` files a pending request; ``decide_excuse`` approves or rejects it;
``withdraw_excuse`` lets its author take back a request still pending; ``revoke_approval``
takes back an approval, with a reason. Each appends an ``ExcuseDecision`` to the chained
stream ``excuse:<unit code>`` (the employee's own unit), sets ``Excuse.status`` and writes
the audit log. An approved excuse enters the rules at once, and leaves them at once when
revoked: ``attendance.evaluation`` reads every excuse whose status is ``approved``, and the
stored findings of its days are marked stale either way.

Who may decide (``may_decide``): an admin, or a unit head whose units include the
employee's unit — but nobody decides their own request. A unit head's own request therefore
goes to the head of a unit above theirs (whose scope includes their unit) or to an admin.
The same people may revoke an approval; only the request's own employee (or whoever filed
it) may withdraw it.

Dates (``check_dates``, which the import applies too): a request ends at most
``excuses.max_future_days`` after today, spans at most ``MAX_DAYS``, and covers at least one
of the employee's working days — a leave over a weekend is fine, a leave on a Sunday alone
is not a leave. A request typed on the form may also reach back ``excuses.max_past_days``
only; an import, to any day of the calendar (``calendar.YEARS``).
Service functions take a session and never commit.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from attendance import access, findings
from attendance.audit import record as audit
from attendance.calendar import YEARS, WorkCalendar
from attendance.config import Config
from attendance.evaluation import EmployeeRow, days, load_employees
from attendance.messages import Message, join
from attendance.models import Employee, Excuse, ExcuseDecision, User
from attendance.models.chain import append
from attendance.models.excuses import KINDS, PARTS
from attendance.org import org_tree
from attendance.reports import WEEKDAY_NAMES, format_day

DECISIONS = ("approved", "rejected")
PENDING, APPROVED, WITHDRAWN, REVOKED = "pending", "approved", "withdrawn", "revoked"
OUTCOMES = (*DECISIONS, WITHDRAWN, REVOKED)  # what a request's decision records may say
MAX_DAYS = 366  # one request covers at most a year (a long secondment is several requests)
MAX_NOTE = 1000

KIND_LABELS = {"leave": "nghỉ phép", "business_trip": "đi công tác", "other": "lý do khác"}
PART_LABELS = {"full": "cả ngày", "morning": "buổi sáng", "afternoon": "buổi chiều"}
STATUS_LABELS = {"pending": "chờ duyệt", "approved": "đã duyệt", "rejected": "từ chối",
                 "withdrawn": "đã rút", "revoked": "đã hủy duyệt"}


class ExcuseError(ValueError):
    """A request or decision that cannot be made; the message is one Vietnamese sentence
    (a ``messages.Message`` where it has values), ``column`` the field of the request (an
    import file's column) it is about, if any."""

    def __init__(self, message: str, column: str | None = None):
        super().__init__(message)
        self.column = column


def excuse_stream(employee: Employee) -> str:
    return f"excuse:{employee.unit.code}"


def earliest_start(config: Config, today: date) -> date:
    """The first day a request on the form may name."""
    return today - timedelta(days=config.excuses.max_past_days)


def latest_end(config: Config, today: date) -> date:
    """The last day any request may reach."""
    return today + timedelta(days=config.excuses.max_future_days)


def employee_rows(session: Session, codes: list[str] | None = None) -> dict[int, EmployeeRow]:
    """Employees as the rules see them (the schedule resolved up the unit tree, the active
    dates), by id: all of them, or those of ``codes``."""
    tree = org_tree(session)
    return {row.id: row for row in load_employees(session, tree, set(tree.units), date.min,
                                                  date.max, codes)}


def check_dates(config: Config, calendar: WorkCalendar, employee: EmployeeRow | None,
                start_date: date, end_date: date, part: str, today: date) -> None:
    """The dates of a request, however it is filed (``today``: the deployment's date).

    Without ``employee`` (an import row naming nobody known) the working days are not
    checked.
    """
    if end_date < start_date:
        raise ExcuseError("ngày kết thúc trước ngày bắt đầu", "end_date")
    if start_date.year < YEARS[0]:
        raise ExcuseError(Message("ngày trước năm {year} nằm ngoài lịch", year=YEARS[0]),
                          "start_date")
    if (end_date - start_date).days + 1 > MAX_DAYS:
        raise ExcuseError(Message("một đơn không quá {days} ngày", days=MAX_DAYS), "end_date")
    if part != "full" and end_date != start_date:
        raise ExcuseError("nghỉ buổi sáng hoặc buổi chiều chỉ áp dụng cho một ngày", "part")
    last = latest_end(config, today)
    if end_date > last:
        raise ExcuseError(Message("chỉ xin trước được tối đa {days} ngày (đến ngày {last})",
                                  days=config.excuses.max_future_days, last=format_day(last)),
                          "end_date")
    if employee is not None:
        _check_working_days(config, calendar, employee, start_date, end_date)


def _check_working_days(config: Config, calendar: WorkCalendar, employee: EmployeeRow,
                        start_date: date, end_date: date) -> None:
    """At least one day of the range is a working day for ``employee``, as
    ``evaluation.evaluate_range`` counts them (the schedule's calendar, the employee's active
    dates, the deployment's first day of records)."""
    schedule = config.schedule(employee.schedule)
    first = max(start_date, config.records_from or start_date)
    if any(employee.active_on(day) and calendar.is_working_day(day, schedule)
           for day in days(first, end_date)):
        return
    if start_date != end_date:
        raise ExcuseError(Message(
            "từ ngày {first} đến ngày {last} không có ngày làm việc nào (ngày nghỉ lễ, ngày "
            "nghỉ hằng tuần hoặc ngoài thời gian công tác); không cần xin nghỉ",
            first=format_day(start_date), last=format_day(end_date)), "start_date")
    if first > start_date:
        why = Message("trước ngày bắt đầu chấm công")
    elif not employee.active_on(start_date):
        why = Message("ngoài thời gian công tác")
    elif holiday := calendar.holiday_name(start_date):
        why = Message("ngày nghỉ lễ: {holiday}", holiday=holiday)
    else:
        why = Message("{weekday}, ngày nghỉ hằng tuần",
                      weekday=Message(WEEKDAY_NAMES[start_date.weekday()]))
    raise ExcuseError(Message("ngày {day} không phải ngày làm việc ({why}); không cần xin nghỉ",
                              day=format_day(start_date), why=why), "start_date")


def _reason(value: str | None) -> str | None:
    value = (value or "").strip()
    if len(value) > MAX_NOTE:
        raise ExcuseError(Message("lý do dài quá {max} ký tự", max=MAX_NOTE))
    return value or None


def _parts_overlap(part: str, other: str) -> bool:
    """Whether two excuses of one day cover a common part of it (a morning and an afternoon
    do not)."""
    return part == "full" or other in ("full", part)


def span(excuse: Excuse) -> str:
    """The excuse's dates as shown: one day, or first – last."""
    if excuse.start_date == excuse.end_date:
        return format_day(excuse.start_date)
    return f"{format_day(excuse.start_date)} – {format_day(excuse.end_date)}"


def overlap(excuse: Excuse, other: Excuse) -> bool:
    """Whether two excuses cover a common day, or half-day."""
    return (excuse.start_date <= other.end_date and other.start_date <= excuse.end_date
            and _parts_overlap(excuse.part, other.part))


def _check_overlap(session: Session, employee: Employee, start_date: date, end_date: date,
                   part: str) -> None:
    """A request may not cover a day, or half-day, that a pending or approved request of
    the same employee covers already (a morning and an afternoon request of one day do
    not overlap). The refusal names every request in the way."""
    other = session.scalars(
        select(Excuse).where(Excuse.employee_id == employee.id,
                             Excuse.status.in_((PENDING, APPROVED)),
                             Excuse.start_date <= end_date, Excuse.end_date >= start_date)
        .order_by(Excuse.start_date, Excuse.id)).all()
    clashes = [e for e in other if _parts_overlap(part, e.part)]
    if not clashes:
        return

    def described(excuse: Excuse) -> Message:
        state = Message("đang chờ duyệt") if excuse.status == PENDING else Message("đã duyệt")
        return Message("đơn số {number} ({state}) cho {part} {span}", number=excuse.id,
                       state=state, part=Message(PART_LABELS[excuse.part]), span=span(excuse))

    raise ExcuseError(Message("đã có {requests}",
                              requests=join("; ", (described(e) for e in clashes))),
                      "start_date")


def request_excuse(session: Session, config: Config, employee: Employee, *, start_date: date,
                   end_date: date, part: str, kind: str, note: str | None, requested_by: str,
                   now: datetime, today: date) -> Excuse:
    """File a pending request for ``employee`` (``today``: the local date of ``now``)."""
    if kind not in KINDS:
        raise ExcuseError("loại đơn không hợp lệ")
    if part not in PARTS:
        raise ExcuseError("thời gian nghỉ trong ngày không hợp lệ")
    row = employee_rows(session, [employee.code])[employee.id]
    check_dates(config, WorkCalendar(config), row, start_date, end_date, part, today)
    if start_date < earliest_start(config, today):
        raise ExcuseError(Message("không thể xin cho ngày đã quá {days} ngày",
                                  days=config.excuses.max_past_days))
    note = _reason(note)
    if note is None:
        raise ExcuseError("cần ghi lý do")
    _check_overlap(session, employee, start_date, end_date, part)
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


def _status(excuse: Excuse) -> Message:
    return Message(STATUS_LABELS.get(excuse.status, excuse.status))


def _close(session: Session, excuse: Excuse, outcome: str, by: str, actor: str,
           reason: str | None, now: datetime) -> ExcuseDecision:
    """Record ``outcome`` on the excuse's chain, set its status and write the audit log;
    when an approval is given or taken back, its days' stored findings are stale."""
    record = append(session, ExcuseDecision(
        excuse_id=excuse.id, decision=outcome, decided_by=by[:80], reason=reason,
        decided_at=now), excuse_stream(excuse.employee))
    if APPROVED in (excuse.status, outcome):
        findings.mark_stale(session, [(excuse.employee_id, day) for day in
                                      findings.days(excuse.start_date, excuse.end_date)])
    excuse.status = outcome
    audit(session, actor=actor, action=f"excuse.{outcome}", at=now,
          target=f"employee:{excuse.employee.code}",
          details={"excuse": excuse.id, "reason": reason})
    session.flush()
    return record


def decide_excuse(session: Session, excuse: Excuse, decision: str, decided_by: str,
                  reason: str | None, now: datetime, *, actor: str | None = None
                  ) -> ExcuseDecision:
    """Approve or reject a pending request. A rejection needs a reason. Never commits.

    ``decided_by`` is the deciding user's name as it should stand on the record; ``actor``
    the account in the audit log (by default ``decided_by``).
    """
    if decision not in DECISIONS:
        raise ExcuseError("quyết định không hợp lệ")
    if excuse.status != PENDING:
        raise ExcuseError(Message("đơn đã được xử lý ({status})", status=_status(excuse)))
    reason = _reason(reason)
    if decision == "rejected" and reason is None:
        raise ExcuseError("cần ghi lý do từ chối")
    return _close(session, excuse, decision, decided_by, actor or decided_by, reason, now)


def may_withdraw(user: User, excuse: Excuse) -> bool:
    """A request is withdrawn by its own employee, or by whoever filed it."""
    return user.active and is_own(user, excuse)


def withdraw_excuse(session: Session, excuse: Excuse, *, by: str, actor: str,
                    now: datetime) -> ExcuseDecision:
    """Take back a request nobody has decided yet. Never commits."""
    if excuse.status != PENDING:
        raise ExcuseError(Message("chỉ rút được đơn đang chờ duyệt (đơn này {status})",
                                  status=_status(excuse)))
    return _close(session, excuse, WITHDRAWN, by, actor, None, now)


def revoke_approval(session: Session, excuse: Excuse, *, by: str, actor: str,
                    reason: str | None, now: datetime) -> ExcuseDecision:
    """Take back an approval (``may_decide`` says who may), with a reason: the findings it
    excused are open again. Never commits."""
    if excuse.status != APPROVED:
        raise ExcuseError(Message("chỉ hủy duyệt được đơn đã duyệt (đơn này {status})",
                                  status=_status(excuse)))
    reason = _reason(reason)
    if reason is None:
        raise ExcuseError("cần ghi lý do hủy duyệt")
    return _close(session, excuse, REVOKED, by, actor, reason, now)
