"""Views of the home blueprint."""

from __future__ import annotations

from flask import render_template

from web.home import bp
from web.security import current_account, signed_in_required


@bp.route("/")
@signed_in_required
def index():
    user = current_account()
    if user.role == "staff":
        from web.org.employee import history_context

        employee = user.employee
        history = history_context(employee) if employee is not None else {}
        return render_template("home/staff.html", employee=employee, **history)
    # Admins, inspectors and unit heads start on the "today" dashboard of their units.
    from web.dashboard.routes import render_today

    return render_today()
