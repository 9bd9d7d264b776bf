"""Views of the reports blueprint."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, render_template, request
from sqlalchemy import select

from attendance import access
from attendance.models import Employee, Unit
from web.db import domain_config, get_db, now
from web.reports import bp
from web.security import current_account, roles_required, visible_units

SOURCES = {"guard": "Bảo vệ ghi nhận", "spot_check": "Kiểm tra đột xuất"}


def _day_arg() -> date:
    text = request.args.get("date")
    if not text:
        return now().astimezone(domain_config().tz).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(400)


@bp.route("/daily")
@roles_required("admin", "inspector", "unit_head")
def daily():
    from attendance.reports import daily_report

    db = get_db()
    day = _day_arg()
    visible = visible_units()
    unit = None
    code = request.args.get("unit", "").strip()
    if code:
        unit = db.scalar(select(Unit).where(Unit.code == code))
        if unit is None or (visible is not None and unit.id not in visible):
            abort(404)
    report = daily_report(db, domain_config(), day, unit.code if unit else None, unit_ids=visible)
    codes = {e for u in report["units"] for e in _employee_codes(u)}
    names = dict(db.execute(select(Employee.code, Employee.full_name)
                            .where(Employee.code.in_(sorted(codes)))).all()) if codes else {}
    units = sorted(db.scalars(select(Unit).where(access.unit_filter(db, current_account()))),
                   key=lambda u: u.code)
    return render_template(
        "reports/daily.html", report=report, day=day, unit=unit, units=units, names=names,
        sources=SOURCES, previous_day=day - timedelta(days=1), next_day=day + timedelta(days=1),
    )


def _employee_codes(unit_entry: dict):
    for key, value in unit_entry.items():
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    yield item
                elif isinstance(item, dict) and "employee" in item:
                    yield item["employee"]
