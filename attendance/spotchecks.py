"""Spot checks (kiểm tra đột xuất): who is expected at a unit now, and recording what was found.

``expected_now`` lists the employees of a unit and its sub-units who should be at work at an
instant: the date is a working day for their schedule, they are employed on it, and no
approved excuse covers that part of the day. It asks the rules themselves (``evaluate_day``
with a probe mark at the instant) rather than restating them, so a half-day excuse counts
exactly as it does in the reports.

``record_spot_check`` stores a visit and its findings; ``correct_finding`` replaces one
finding by a new one that points at it (findings are append-only and chained on the stream
``spot:<unit code>``). Both take a session and never commit. The findings enter the reports
at once: ``attendance.evaluation`` reads every finding not superseded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from attendance.access import subtree_unit_ids
from attendance.audit import record as audit
from attendance.calendar import WorkCalendar
from attendance.config import Config
from attendance.evaluation import EmployeeRow, load_employees, load_evidence
from attendance.findings import mark_stale
from attendance.messages import Message
from attendance.models import Employee, SpotCheck, SpotCheckFinding, Unit
from attendance.models.chain import append
from attendance.models.checks import RESULTS
from attendance.org import org_tree
from attendance.rules import (
    NO_BADGE,
    SPOT_CHECK,
    WITHOUT_BADGE,
    DayResult,
    ExcuseRef,
    Mark,
    Policy,
    evaluate_day,
)

MAX_NOTE = 1000
RESULT_LABELS = {
    "present_with_badge": "có mặt, đeo thẻ",
    "present_without_badge": "có mặt, không đeo thẻ",
    "absent_from_post": "vắng mặt tại vị trí làm việc",
}


class SpotCheckError(ValueError):
    """A spot check that cannot be recorded; the message is one Vietnamese sentence."""


@dataclass(frozen=True)
class ExpectedPerson:
    """One employee expected at their post at the instant of a spot check."""

    employee: EmployeeRow
    unit_code: str
    unit_name: str
    result: DayResult  # the day so far (check-in, findings), before this visit
    half_day_excuse: ExcuseRef | None  # an approved excuse for the *other* half of the day


def spot_stream(unit: Unit) -> str:
    return f"spot:{unit.code}"


def expected_now(session: Session, config: Config, unit: Unit, at: datetime) -> list[ExpectedPerson]:
    """Employees of ``unit`` and its sub-units expected at work at ``at`` (aware)."""
    tz = config.tz
    day = at.astimezone(tz).date()
    tree = org_tree(session)
    unit_ids = set(tree.subtree(unit.id))
    employees = load_employees(session, tree, unit_ids, day, day)
    evidence = load_evidence(session, config, employees, day, day, everyone=False)
    calendar = WorkCalendar(config)
    # A no-badge mark belongs to the session of its instant and is excused as that session
    # is, at any hour (an "away" mark outside working hours would be no finding at all).
    probe = Mark(at, WITHOUT_BADGE, SPOT_CHECK)
    out: list[ExpectedPerson] = []
    for employee in employees:
        schedule = config.schedule(employee.schedule)
        if not (employee.active_on(day) and calendar.is_working_day(day, schedule)):
            continue
        excuses = [ref for start, end, ref in evidence.excuses.get(employee.id, ())
                   if start <= day <= end]
        key = (employee.id, day)
        timetable = calendar.timetable(day, schedule)
        policy = Policy.from_schedule(schedule)
        marks = evidence.marks.get(key, [])
        # A would-be finding of this visit at ``at``: if the rules excuse it, the employee
        # is excused for this part of the day and not expected now.
        probed = evaluate_day(timetable, policy, scans=evidence.scans.get(key, []),
                              marks=[*marks, probe], excuses=excuses)
        if probed.excused is not None:
            continue
        finding = next(f for f in probed.findings
                       if f.kind == NO_BADGE and f.at == at and f.source == SPOT_CHECK)
        if finding.excused_by is not None:
            continue
        result = evaluate_day(timetable, policy, scans=evidence.scans.get(key, []), marks=marks,
                              excuses=excuses)
        unit_row = tree.units[employee.unit_id]
        out.append(ExpectedPerson(employee, unit_row.code, unit_row.name, result,
                                  excuses[0] if excuses else None))
    return out


def _check_note(note: str | None) -> str | None:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise SpotCheckError(Message("ghi chú dài quá {max} ký tự", max=MAX_NOTE))
    return note or None


def _check_result(result: str) -> None:
    if result not in RESULTS:
        raise SpotCheckError(Message("kết quả không hợp lệ: {result!r}", result=result))


def record_spot_check(session: Session, unit: Unit, inspector: str, found_at: datetime,
                      findings: Iterable[tuple[Employee, str, str | None]], *,
                      note: str | None = None) -> SpotCheck:
    """Record a visit to ``unit`` at ``found_at`` by ``inspector`` (a username).

    ``findings`` are ``(employee, result, note)`` with ``result`` one of
    ``present_with_badge``, ``present_without_badge``, ``absent_from_post``. Every employee
    must belong to ``unit`` or one of its sub-units, once. Never commits.
    """
    if found_at.tzinfo is None:
        raise SpotCheckError("thời điểm kiểm tra phải kèm múi giờ")
    findings = list(findings)
    if not findings:
        raise SpotCheckError("chưa ghi nhận người nào")
    unit_ids = subtree_unit_ids(session, unit.id)
    seen: set[int] = set()
    checked = []
    for employee, result, finding_note in findings:
        _check_result(result)
        if employee.unit_id not in unit_ids:
            raise SpotCheckError(Message("{employee} không thuộc đơn vị {unit}",
                                         employee=employee.code, unit=unit.code))
        if employee.id in seen:
            raise SpotCheckError(Message("{employee} được ghi nhận hai lần",
                                         employee=employee.code))
        seen.add(employee.id)
        checked.append((employee, result, _check_note(finding_note)))
    check = SpotCheck(unit_id=unit.id, checked_at=found_at, inspector=inspector[:80],
                      note=_check_note(note))
    session.add(check)
    session.flush()  # the findings' hashes cover the spot check's id
    stream = spot_stream(unit)
    for employee, result, finding_note in checked:
        append(session, SpotCheckFinding(
            spot_check_id=check.id, employee_id=employee.id, result=result, found_at=found_at,
            note=finding_note, supersedes_id=None), stream)
    mark_stale(session, [(employee.id, found_at) for employee, _, _ in checked])
    audit(session, actor=inspector, action="spot_check.recorded", at=found_at,
          target=f"unit:{unit.code}",
          details={"spot_check": check.id, "findings": len(checked),
                   "results": {r: sum(1 for _, x, _ in checked if x == r) for r in RESULTS}})
    session.flush()
    return check


def current_findings(session: Session, spot_check: SpotCheck) -> list[SpotCheckFinding]:
    """The findings of a visit that no later correction replaced, oldest first."""
    newer = aliased(SpotCheckFinding)
    return list(session.scalars(
        select(SpotCheckFinding)
        .where(SpotCheckFinding.spot_check_id == spot_check.id,
               ~select(newer.id).where(newer.supersedes_id == SpotCheckFinding.id).exists())
        .order_by(SpotCheckFinding.id)))


def correct_finding(session: Session, finding: SpotCheckFinding, result: str, note: str | None,
                    *, corrected_by: str, now: datetime) -> SpotCheckFinding:
    """Replace ``finding`` by a new one (same visit, person and instant) that supersedes it.

    The old finding stays on record; the reports read only the newest. Never commits.
    """
    _check_result(result)
    if session.scalar(select(SpotCheckFinding.id)
                      .where(SpotCheckFinding.supersedes_id == finding.id)) is not None:
        raise SpotCheckError("kết quả này đã được sửa; hãy sửa bản mới nhất")
    unit = finding.spot_check.unit
    corrected = append(session, SpotCheckFinding(
        spot_check_id=finding.spot_check_id, employee_id=finding.employee_id, result=result,
        found_at=finding.found_at, note=_check_note(note), supersedes_id=finding.id),
        spot_stream(unit))
    mark_stale(session, [(finding.employee_id, finding.found_at)])
    session.flush()
    audit(session, actor=corrected_by, action="spot_check.corrected", at=now,
          target=f"unit:{unit.code}",
          details={"spot_check": finding.spot_check_id, "finding": finding.id,
                   "correction": corrected.id, "employee": finding.employee.code,
                   "from": finding.result, "to": result})
    return corrected


def day_of(check: SpotCheck, config: Config) -> date:
    return check.checked_at.astimezone(config.tz).date()
