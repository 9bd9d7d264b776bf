"""A small hand-built province for the report tests: units, staff, scans, excuses, checks.

``november(session)`` builds November 2026 (winter timetable 07:30–12:00, 13:00–16:30,
grace 5 minutes; 20 working days: 24/11, Ngày Văn hóa Việt Nam, is a holiday from 2026)
with a known set of findings; the expected counts are spelled out in ``EXPECTED`` and in
the docstrings of the tests that use them.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from attendance.models import (
    Employee, Excuse, ExcuseDecision, NoBadgeRecord, Scan, SpotCheck, SpotCheckFinding, Unit,
)
from attendance.evaluation import days
from attendance.models.chain import append

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FORMULA_NAME = "=cmd|' /C calc'!A0"
HEAD = "Lê Văn Trưởng"
_events = itertools.count(1)


def local(day: date, hms: str) -> datetime:
    parts = [int(p) for p in hms.split(":")] + [0]
    return datetime(day.year, day.month, day.day, parts[0], parts[1], parts[2], tzinfo=TZ)


def add_unit(session, code: str, name: str, parent: Unit | None = None) -> Unit:
    unit = Unit(code=code, name=name, parent_id=parent.id if parent else None)
    session.add(unit)
    session.flush()
    return unit


def add_employee(session, code: str, full_name: str, unit: Unit,
                 position: str | None = "Chuyên viên") -> Employee:
    employee = Employee(code=code, full_name=full_name, unit_id=unit.id, position=position,
                        category="CC")
    session.add(employee)
    session.flush()
    return employee


def scan(session, employee: Employee, at: datetime) -> None:
    append(session, Scan(source="import:test", event_id=f"ev{next(_events)}",
                         employee_id=employee.id, status="accepted", scanned_at=at,
                         station_time=at, received_at=at, flags=""), "scan:test")


def no_badge(session, employee: Employee, at: datetime) -> None:
    append(session, NoBadgeRecord(employee_id=employee.id, recorded_at=at, source="guard",
                                  recorded_by="bao-ve", void=False), "nobadge:test")


def spot_check(session, employee: Employee, at: datetime, result: str) -> None:
    check = SpotCheck(unit_id=employee.unit_id, checked_at=at, inspector="Đoàn kiểm tra")
    session.add(check)
    session.flush()
    append(session, SpotCheckFinding(spot_check_id=check.id, employee_id=employee.id,
                                     result=result, found_at=at), "spot:test")


def excuse(session, employee: Employee, start: date, end: date | None = None, *,
           part: str = "full", kind: str = "leave", reason: str = "Nghỉ phép năm",
           comment: str | None = None) -> None:
    """An approved excuse: ``reason`` is the employee's note, ``comment`` the approver's
    (the same text unless given)."""
    record = Excuse(employee_id=employee.id, start_date=start, end_date=end or start, part=part,
                    kind=kind, note=reason, requested_by=employee.code,
                    requested_at=local(start, "07:00") - timedelta(days=1), status="approved")
    session.add(record)
    session.flush()
    append(session, ExcuseDecision(excuse_id=record.id, decision="approved", decided_by=HEAD,
                                   reason=reason if comment is None else comment,
                                   decided_at=local(start, "07:00")),
           "excuse:test")


def working_days(first: date, last: date) -> list[date]:
    return [day for day in days(first, last) if day.weekday() < 5]


FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)
CULTURE_DAY = date(2026, 11, 24)  # a public holiday from 2026 (Ngày Văn hóa Việt Nam)

EXPECTED = {
    # code: (working, expected, present, late_days, late_minutes, early_leaves,
    #        missing_checkouts, no_badge, absences, absent_from_post, excused_days)
    "E001": (20, 20, 20, 3, 27, 0, 0, 0, 0, 0, 0),
    "E002": (20, 19, 18, 0, 0, 0, 0, 1, 1, 0, 1),
    "E003": (20, 19, 19, 0, 0, 1, 1, 0, 0, 1, 1),
    "E004": (20, 20, 20, 0, 0, 0, 0, 1, 0, 0, 0),
    "E005": (20, 20, 20, 0, 0, 0, 0, 0, 0, 0, 0),
}


def november(session) -> dict[str, Employee]:
    """UBND (no staff) → SNV Sở Nội vụ → PTC Phòng Tổ chức; UBND → STC Sở Tài chính.

    - E001 Nguyễn Văn An (SNV): late 2/11 07:42:10 (12 min), 3/11 07:40 (10), 4/11
      07:35:01 (5): three late days, 27 minutes — a repeat offender.
    - E002 Trần Thị Bích (SNV): absent 5/11; excused all day 6/11 (leave, no scans, so an
      excused absence); 9/11 a guard's no-badge record at 07:20 is her arrival.
    - E003 Lê Hoàng Cường (PTC): leaves 16:00 on 10/11 (30 min early); no check-out 11/11;
      a spot check finds him away from his post 12/11 09:00; morning excused 13/11 and in
      at 12:55 (nothing); 16/11 in at 07:50 but excused all day (business trip).
    - E004 Phạm Thị Dung (STC): a spot check finds her without badge 17/11 09:30.
    - E005 (STC), named like a spreadsheet formula, position "-Chuyên viên": always on time.
    """
    root = add_unit(session, "UBND", "Ủy ban nhân dân tỉnh")
    snv = add_unit(session, "SNV", "Sở Nội vụ", root)
    ptc = add_unit(session, "PTC", "Phòng Tổ chức", snv)
    stc = add_unit(session, "STC", "Sở Tài chính", root)
    people = {
        "E001": add_employee(session, "E001", "Nguyễn Văn An", snv),
        "E002": add_employee(session, "E002", "Trần Thị Bích", snv),
        "E003": add_employee(session, "E003", "Lê Hoàng Cường", ptc, "Trưởng phòng"),
        "E004": add_employee(session, "E004", "Phạm Thị Dung", stc),
        "E005": add_employee(session, "E005", FORMULA_NAME, stc, "-Chuyên viên"),
    }
    special = {
        ("E001", date(2026, 11, 2)): ["07:42:10", "16:35"],
        ("E001", date(2026, 11, 3)): ["07:40:00", "16:35"],
        ("E001", date(2026, 11, 4)): ["07:35:01", "16:35"],
        ("E002", date(2026, 11, 5)): [],
        ("E002", date(2026, 11, 6)): [],
        ("E002", date(2026, 11, 9)): ["16:35"],
        ("E003", date(2026, 11, 10)): ["07:20", "16:00"],
        ("E003", date(2026, 11, 11)): ["07:20"],
        ("E003", date(2026, 11, 13)): ["12:55", "16:35"],
        ("E003", date(2026, 11, 16)): ["07:50", "16:35"],
    }
    for code, employee in people.items():
        for day in working_days(FIRST, LAST):
            if day == CULTURE_DAY:
                continue
            for hms in special.get((code, day), ["07:20", "16:35"]):
                scan(session, employee, local(day, hms))
    excuse(session, people["E002"], date(2026, 11, 6))
    no_badge(session, people["E002"], local(date(2026, 11, 9), "07:20"))
    spot_check(session, people["E003"], local(date(2026, 11, 12), "09:00"), "absent_from_post")
    excuse(session, people["E003"], date(2026, 11, 13), part="morning", reason="Khám bệnh")
    excuse(session, people["E003"], date(2026, 11, 16), kind="business_trip",
           reason="Họp tại Bộ Nội vụ")
    spot_check(session, people["E004"], local(date(2026, 11, 17), "09:30"),
               "present_without_badge")
    session.flush()
    return people


def pdf_text(path) -> str:
    """The text of a PDF as a reader sees it (poppler's pdftotext, layout kept)."""
    import shutil
    import subprocess

    import pytest

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
                          check=True, capture_output=True, text=True).stdout
