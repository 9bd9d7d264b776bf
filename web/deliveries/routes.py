"""Views of the deliveries blueprint (admins only)."""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from attendance import mail
from attendance.jobs import HEALTH_ACTION
from attendance.models import AuditEntry, IssuedReport, MailDelivery, Unit
from web.db import get_db, now
from web.deliveries import bp
from web.i18n import _
from web.security import current_account, roles_required

SHOWN = 200
HEALTH_SHOWN = 14
STATUSES = (mail.FAILED, mail.PENDING, mail.SENDING, mail.SENT)


@bp.route("/")
@roles_required("admin")
def index():
    db = get_db()
    status = request.args.get("status") or None
    query = (select(MailDelivery, IssuedReport, Unit)
             .join(IssuedReport, MailDelivery.report_id == IssuedReport.id)
             .join(Unit, IssuedReport.unit_id == Unit.id)
             .order_by(MailDelivery.id.desc()).limit(SHOWN))
    if status in STATUSES:
        query = query.where(MailDelivery.status == status)
    rows = [{"delivery": d, "report": r, "unit": u,
             "subject": mail.subject(r, u.name),
             "status_label": mail.STATUS_LABELS.get(d.status, d.status)}
            for d, r, u in db.execute(query)]
    checks = []
    for entry in db.scalars(select(AuditEntry).where(AuditEntry.action == HEALTH_ACTION)
                            .order_by(AuditEntry.id.desc()).limit(HEALTH_SHOWN)):
        details = json.loads(entry.details or "{}")
        checks.append({"at": entry.at, "ok": details.get("ok"),
                       "silent": details.get("silent_stations") or [],
                       "broken": details.get("broken_link"),
                       "records": details.get("chain_records")})
    return render_template("deliveries/index.html", rows=rows, checks=checks,
                           status=status, statuses=STATUSES,
                           status_labels=mail.STATUS_LABELS)


@bp.route("/<int:delivery_id>/retry", methods=["POST"])
@roles_required("admin")
def retry(delivery_id: int):
    db = get_db()
    if db.get(MailDelivery, delivery_id) is None:
        abort(404)
    if mail.retry(db, delivery_id, now()):
        from attendance import access

        access.log_action(db, actor=current_account().username, action="mail.retry",
                          at=now(), target=f"mail:{delivery_id}")
        flash(_("Thư sẽ được gửi lại trong vài phút."), "success")
    else:
        flash(_("Chỉ gửi lại được thư đã gửi không được."), "error")
    return redirect(url_for("deliveries.index"))
