"""GET /api/v1/violations — the violation log, filtered and paginated.

Filters as the pages (``web.violations.query``): ``from``, ``to``, ``unit``, ``type``,
``employee``, ``status``; ``page`` (from 1) and ``per_page`` (1 to 200, default 50).
Signed-in users only, scoped: admins and inspectors see every unit, a unit head their
units, a staff member their own record. A unit outside the caller's scope answers 404
exactly like an unknown one. Rows are counted up to 10,000 (or up to the page asked for):
past that, ``total_exact`` is false, ``total`` is that bound (there are more) and
``pages`` counts one page past it.
"""

from __future__ import annotations

import math

from flask import jsonify, request

from attendance.reports import violation_json
from web.api import bp
from web.api.auth import api_roles_required
from web.db import domain_config
from web.errors import ApiError
from web.violations.query import BadFilter, UnknownUnit, page_args, parse, run


@bp.route("/violations")
@api_roles_required()
def violations():
    try:
        query = parse(request.args)
        page, per_page = page_args(request.args)
    except BadFilter as exc:
        raise ApiError(400, str(exc)) from None
    except UnknownUnit as exc:
        raise ApiError(404, f"unknown unit {exc.args[0]!r}") from None
    found = run(query, offset=(page - 1) * per_page, limit=per_page)
    tz = domain_config().tz
    return jsonify({
        "from": query.first.isoformat(),
        "to": query.last.isoformat(),
        "filters": {"unit": query.unit.code if query.unit else None, "type": query.kinds,
                    "employee": query.employee, "status": query.status},
        "page": page,
        "per_page": per_page,
        "total": found.total,
        "total_exact": found.exact,
        "pages": max(1, math.ceil((found.total + (not found.exact)) / per_page)),
        "items": [violation_json(r, tz) for r in found.rows],
    })
