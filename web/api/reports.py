"""GET /api/v1/reports/daily?date=YYYY-MM-DD&unit=CODE — the daily report of RULES.md.

Scoped: a unit head gets their unit and its sub-units only; a unit outside the caller's
scope answers 404 exactly like an unknown one; staff are refused (403).
"""

from __future__ import annotations

from datetime import date

from flask import jsonify, request
from sqlalchemy import select

from attendance.calendar import YEARS
from attendance.models import Unit
from web.api import bp
from web.api.auth import api_roles_required
from web.db import domain_config, get_db, now
from web.errors import ApiError
from web.security import visible_units

REPORT_ROLES = ("admin", "inspector", "unit_head")


def parse_day(text: str | None) -> date:
    """The ``date`` argument, or today in the deployment's timezone."""
    if not text:
        return now().astimezone(domain_config().tz).date()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or day.year not in YEARS:
        raise ApiError(400, f"date must be YYYY-MM-DD, year {YEARS[0]} to {YEARS[-1]}")
    return day


def scoped_unit(code: str | None) -> Unit | None:
    """The unit named by ``code`` if the caller may see it; 404 otherwise."""
    if not code:
        return None
    unit = get_db().scalar(select(Unit).where(Unit.code == code))
    visible = visible_units()
    if unit is None or (visible is not None and unit.id not in visible):
        raise ApiError(404, f"unknown unit {code!r}")
    return unit


def scoped_daily_report(day: date, unit: Unit | None) -> dict:
    """The report of ``day``; a day not over yet as it stands now (no one absent before the
    day ends; ``not_arrived`` lists who has no check-in yet)."""
    from attendance.reports import daily_report, in_progress_as_of

    config = domain_config()
    return daily_report(get_db(), config, day, unit.code if unit else None,
                        unit_ids=visible_units(), as_of=in_progress_as_of(config, day, now()))


@bp.route("/reports/daily")
@api_roles_required(*REPORT_ROLES)
def daily():
    day = parse_day(request.args.get("date"))
    unit = scoped_unit(request.args.get("unit"))
    if request.args.get("as_of") not in (None, "now"):  # "now": what it always does
        raise ApiError(400, "as_of must be 'now'")
    return jsonify(scoped_daily_report(day, unit))
