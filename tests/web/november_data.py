"""November 2026 in the web tests' small province (see conftest.py), for the report pages.

Winter timetable 07:30–12:00, 13:00–16:30, grace 5 minutes; "today" is Monday 23/11 10:00.
- E-SNV Trần Thị Bình (SNV): absent 6/11; excused all day 9/11 (leave).
- E-P1 Lê Văn Cường (SNV-P1): late 2, 3 and 4/11 at 07:45 — a repeat offender; today in
  at 07:50 (late) with an evidence photo stored for the scan.
- E-STC Phạm Minh Dũng (STC): a guard's no-badge record 5/11 07:20.
- E-FX (STC), named like a spreadsheet formula: late 10/11 at 07:40.
Everyone else is in at 07:20 and out at 16:35 on every working day before today.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from attendance.models import Employee, Scan, Unit
from factories import make_employee
from report_factories import FORMULA_NAME, excuse, local, no_badge, scan

TODAY = date(2026, 11, 23)
FIRST = date(2026, 11, 2)
HOLIDAY = date(2026, 11, 24)

SPECIAL = {
    ("E-SNV", date(2026, 11, 6)): [],
    ("E-SNV", date(2026, 11, 9)): [],
    ("E-P1", date(2026, 11, 2)): ["07:45", "16:35"],
    ("E-P1", date(2026, 11, 3)): ["07:45", "16:35"],
    ("E-P1", date(2026, 11, 4)): ["07:45", "16:35"],
    ("E-FX", date(2026, 11, 10)): ["07:40", "16:35"],
}


def build(session_factory) -> dict[str, int]:
    """Add the month's evidence; returns employee ids by code (E-FX included)."""
    with session_factory() as session:
        stc = session.scalar(select(Unit).where(Unit.code == "STC"))
        make_employee(session, stc, "E-FX", FORMULA_NAME, position="-Chuyên viên")
        people = {e.code: e for e in session.scalars(select(Employee))}
        day = FIRST
        while day < TODAY:
            if day.weekday() < 5 and day != HOLIDAY:
                for code, employee in people.items():
                    for hms in SPECIAL.get((code, day), ["07:20", "16:35"]):
                        scan(session, employee, local(day, hms))
            day += timedelta(days=1)
        excuse(session, people["E-SNV"], date(2026, 11, 9), reason="Nghỉ phép về quê",
               comment="Đồng ý")
        no_badge(session, people["E-STC"], local(date(2026, 11, 5), "07:20"))
        for code, hms in [("E-SNV", "07:20"), ("E-P1", "07:50"), ("E-STC", "07:25")]:
            scan(session, people[code], local(TODAY, hms))
        session.flush()
        late_today = session.scalars(
            select(Scan).where(Scan.employee_id == people["E-P1"].id)
            .order_by(Scan.scanned_at.desc())).first()
        # evidence_path is outside the chained fields: stations add it after the scan.
        late_today.evidence_path = "evidence/2026/11/23/e-p1.jpg"
        session.commit()
        return {code: e.id for code, e in people.items()} | {"late_scan": late_today.id}
