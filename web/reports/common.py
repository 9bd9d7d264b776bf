"""Helpers shared by the report, violation-log and dashboard views.

Query arguments (a day, a month, a unit within the user's scope), the units a user may pick,
the issuing unit and its head for a PDF, and file downloads. Report logic itself is
``attendance.reports``; files are ``attendance.exports``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import Response, abort, request
from sqlalchemy import select

from attendance import access
from attendance.calendar import YEARS
from attendance.models import Employee, Unit
from attendance.reports import month_bounds
from web.db import domain_config, get_db, now
from web.security import current_account, visible_units

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "json": "application/json",
}


def today() -> date:
    return now().astimezone(domain_config().tz).date()


def yesterday() -> date:
    return today() - timedelta(days=1)


def _in_calendar(day: date) -> date:
    if day.year not in YEARS:
        abort(400)
    return day


def day_arg(name: str = "date", default: date | None = None) -> date:
    """A YYYY-MM-DD query argument (400 if malformed or out of ``YEARS``); ``default`` (else
    today) if absent."""
    text = request.args.get(name, "").strip()
    if not text:
        return default or today()
    try:
        return _in_calendar(date.fromisoformat(text))
    except ValueError:
        abort(400)


def month_arg(name: str = "month") -> date:
    """The first day of a YYYY-MM query argument (400 if malformed or out of ``YEARS``);
    this month if absent."""
    text = request.args.get(name, "").strip()
    if not text:
        return today().replace(day=1)
    try:
        return _in_calendar(month_bounds(text)[0])
    except (ValueError, OverflowError):  # month_bounds overflows on 9999-12
        abort(400)


def unit_arg(name: str = "unit") -> Unit | None:
    """The unit named by a code argument if the user may see it; 404 otherwise."""
    code = request.args.get(name, "").strip()
    if not code:
        return None
    unit = get_db().scalar(select(Unit).where(Unit.code == code))
    visible = visible_units()
    if unit is None or (visible is not None and unit.id not in visible):
        abort(404)
    return unit


def scope_units() -> list[Unit]:
    """The units the signed-in user may pick, by code."""
    db = get_db()
    return sorted(db.scalars(select(Unit).where(access.unit_filter(db, current_account()))),
                  key=lambda u: u.code)


def issuer(unit: Unit | None) -> tuple[str | None, str | None]:
    """The issuing unit's name and its head's name, for a PDF's header and signature."""
    if unit is None:
        return None, None
    head = get_db().get(Employee, unit.head_id) if unit.head_id else None
    return unit.name, head.full_name if head else None


def download(data: bytes, fmt: str, stem: str) -> Response:
    """``data`` as an attachment named ``<stem>.<fmt>`` (an ASCII file name)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-") or "bao-cao"
    response = Response(data, content_type=MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
