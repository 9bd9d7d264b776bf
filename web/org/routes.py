"""Views of the org blueprint."""

from __future__ import annotations

from flask import jsonify, render_template, request
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from attendance import access
from attendance.models import Employee, Unit
from attendance.names import name_sort_key
from attendance.scans import fold
from web.db import domain_config, get_db
from web.format import paginate
from web.org import bp
from web.reports.common import scope_units, search_units, unit_arg, unit_picker
from web.security import current_account, roles_required

ORG_ROLES = ("admin", "inspector", "unit_head")


def unit_tree(units: list[Unit]) -> list[dict]:
    """Nested ``{"unit", "children"}`` dicts; a unit whose parent is not in ``units`` is a root."""
    ids = {u.id for u in units}
    nodes = {u.id: {"unit": u, "children": []} for u in units}
    roots = []
    for unit in sorted(units, key=lambda u: u.code):
        if unit.parent_id in ids:
            nodes[unit.parent_id]["children"].append(nodes[unit.id])
        else:
            roots.append(nodes[unit.id])
    return roots


@bp.route("/units")
@roles_required(*ORG_ROLES)
def units():
    db = get_db()
    counts = dict(db.execute(
        select(Employee.unit_id, func.count()).where(access.employee_filter(db, current_account()))
        .group_by(Employee.unit_id)
    ).all())
    return render_template("org/units.html", tree=unit_tree(scope_units()), counts=counts,
                           schedules=domain_config().schedules)


@bp.route("/units/search")
@roles_required(*ORG_ROLES)
def unit_search():
    """The unit picker's search (``?q=``, a code or a name, tones optional): JSON
    ``{"units": [{"code", "name"}]}``, within the units the user may see."""
    found = search_units(request.args.get("q", ""))
    return jsonify(units=[{"code": u.code, "name": u.name} for u in found])


@bp.route("/employees")
@roles_required(*ORG_ROLES)
def employees():
    db = get_db()
    user = current_account()
    query = select(Employee).options(joinedload(Employee.unit)).where(access.employee_filter(db, user))
    unit = unit_arg()
    if unit is not None:
        query = query.where(Employee.unit_id.in_(sorted(access.subtree_unit_ids(db, unit.id))))
    rows = list(db.scalars(query))
    search = request.args.get("q", "").strip()
    if search:
        needle = fold(search)  # tones optional, as at the guard's desk
        rows = [e for e in rows if needle in fold(e.full_name) or needle in e.code.casefold()]
    rows.sort(key=lambda e: (name_sort_key(e.full_name), e.code))
    page = paginate(rows, request.args.get("page", 1, type=int))
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("org/employees.html", page=page, unit=unit, picker=unit_picker(unit),
                           search=search, args=args)


# The employee page (org.employee and its badge/photo routes) is in web/org/employee.py.
