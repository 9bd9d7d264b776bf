"""The feedback list: newest first, within the reader's units, filtered by unit and rating."""

from __future__ import annotations

from flask import render_template, request

from attendance import access
from attendance import feedback as service
from web.db import get_db
from web.feedback import READ_ROLES, bp
from web.format import paginate
from web.reports.common import unit_arg, unit_picker
from web.security import roles_required, visible_units

LOW_RATING = 2  # "Chỉ đánh giá thấp": ratings 1 and 2
SHOWN = 1000  # newest rows read for one listing; older ones are reached by filtering


@bp.route("")
@roles_required(*READ_ROLES)
def index():
    db = get_db()
    visible = visible_units()
    unit_ids = visible
    unit = unit_arg()
    if unit is not None:
        subtree = access.subtree_unit_ids(db, unit.id)
        unit_ids = subtree if visible is None else subtree & visible
    low = request.args.get("rating") == "low"
    rows = service.list_feedback(db, unit_ids, max_rating=LOW_RATING if low else None,
                                 limit=SHOWN)
    average = sum(r.rating for r in rows) / len(rows) if rows else None
    page = paginate(rows, request.args.get("page", 1, type=int))
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("feedback/index.html", page=page, unit=unit, picker=unit_picker(unit),
                           low=low, average=average, shown=SHOWN, ratings=service.RATINGS,
                           args=args)
