"""Views of the home blueprint."""

from __future__ import annotations

from flask import render_template

from attendance.models import Unit
from web.db import get_db
from web.home import bp
from web.security import current_account, signed_in_required, visible_units


@bp.route("/")
@signed_in_required
def index():
    user = current_account()
    if user.role == "staff":
        from web.org.employee import history_context

        employee = user.employee
        history = history_context(employee) if employee is not None else {}
        return render_template("home/staff.html", employee=employee, **history)
    visible = visible_units()
    unit = get_db().get(Unit, user.unit_id) if user.role == "unit_head" and user.unit_id else None
    return render_template("home/index.html", unit=unit,
                           unit_count=None if visible is None else len(visible))
