"""Views of the entrance blueprint."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from attendance import access
from attendance import scans as service
from attendance.models import Employee, NoBadgeRecord, Scan
from web.db import domain_config, get_db, now
from web.entrance import ENTRANCE_ROLES, bp
from web.entrance.forms import NoBadgeForm, WithdrawForm
from web.format import datetime_vn
from web.i18n import _, error_text
from web.security import current_account, roles_required, signed_in_required, visible_units

PLACE = "web"
MAX_QUERY = 80


def _today():
    return now().astimezone(domain_config().tz).date()


def _employee_in_scope(code: str) -> Employee | None:
    db = get_db()
    employee = db.scalar(select(Employee).where(Employee.code == code))
    if employee is None or not employee.is_active_on(_today()):
        return None
    if not access.can_see_employee(db, current_account(), employee):
        return None
    return employee


def _recent_records() -> list[NoBadgeRecord]:
    """Today's no-badge records of the units the user may see, newest first."""
    db = get_db()
    tz = domain_config().tz
    start = datetime.combine(_today(), time(0), tzinfo=tz)
    query = (select(NoBadgeRecord).join(NoBadgeRecord.employee)
             .options(joinedload(NoBadgeRecord.employee))
             .where(NoBadgeRecord.recorded_at >= start,
                    NoBadgeRecord.recorded_at < start + timedelta(days=1),
                    NoBadgeRecord.void.is_(False),
                    access.employee_filter(db, current_account()))
             .order_by(NoBadgeRecord.recorded_at.desc()).limit(50))
    return list(db.scalars(query))


def records_context(records: list[NoBadgeRecord]) -> dict:
    """What ``entrance/_records.html`` needs beside the records: their withdrawals and which
    of them the user may withdraw."""
    db = get_db()
    user = current_account()
    return {"records": records, "withdrawals": service.withdrawals(db, records),
            "may_withdraw": {r.id for r in records if service.may_withdraw_no_badge(db, user, r)},
            "withdraw_form": WithdrawForm()}


def _render(form: NoBadgeForm, status: int = 200):
    search = request.args.get("q", "").strip()[:MAX_QUERY]
    found = []
    if search:
        found = service.search_employees(get_db(), search, on=_today(),
                                         unit_ids=visible_units())
    return render_template("entrance/no_badge.html", form=form, search=search, found=found,
                           event_id=str(uuid.uuid4()),
                           **records_context(_recent_records())), status


@bp.route("/entrance/no-badge", methods=["GET", "POST"])
@roles_required(*ENTRANCE_ROLES)
def no_badge():
    form = NoBadgeForm()
    if request.method == "GET":
        return _render(form)
    if not form.validate_on_submit():
        return _render(form, 400)
    employee = _employee_in_scope(form.employee.data.strip())
    if employee is None:
        abort(404)
    user = current_account()
    try:
        _record, created = service.record_no_badge(
            get_db(), employee, recorded_at=now(), event_id=form.event_id.data, place=PLACE,
            recorded_by=user.username, note=(form.note.data or "").strip() or None)
    except service.MalformedRecord:
        abort(409)
    if created:
        flash(_("Đã ghi nhận {name} ({code}) không đeo thẻ.",
                name=employee.full_name, code=employee.code), "success")
    else:
        flash(_("Lượt ghi này đã được lưu trước đó."), "info")
    return redirect(url_for("entrance.no_badge"), 303)


@bp.route("/entrance/no-badge/<int:record_id>/withdraw", methods=["POST"])
@signed_in_required
def withdraw(record_id: int):
    """Withdraw a no-badge record made in error (``attendance.scans.withdraw_no_badge``);
    back to the guards' desk, or to the employee's page when the form came from there."""
    db = get_db()
    user = current_account()
    record = db.get(NoBadgeRecord, record_id)
    if record is None or record.void or not access.can_see_employee(db, user, record.employee):
        abort(404)
    if not service.may_withdraw_no_badge(db, user, record):
        abort(403)
    if request.form.get("back") == "employee":
        back = url_for("org.employee", employee_id=record.employee_id) + "#no-badge"
    else:
        back = url_for("entrance.no_badge")
    done = _("Đã hủy ghi nhận không đeo thẻ của {name} lúc {time}.",
             name=record.employee.full_name, time=datetime_vn(record.recorded_at))
    return _withdraw_with_reason(back, done, lambda reason: service.withdraw_no_badge(
        db, record, reason=reason, by=user.username, now=now()))


@bp.route("/scans/<scan_id:scan_id>/withdraw", methods=["POST"])
@signed_in_required
def withdraw_scan(scan_id: int):
    """Withdraw an accepted scan made with someone else's badge
    (``attendance.scans.withdraw_scan``); back to the employee's page."""
    db = get_db()
    user = current_account()
    scan = db.get(Scan, scan_id)
    if scan is None or scan.employee is None or not access.can_see_employee(db, user,
                                                                            scan.employee):
        abort(404)
    if not service.may_withdraw_scans(db, user, scan.employee):
        abort(403)
    back = url_for("org.employee", employee_id=scan.employee_id) + "#scans"
    done = _("Đã hủy lượt quét thẻ của {name} lúc {time}.", name=scan.employee.full_name,
             time=datetime_vn(scan.scanned_at))
    return _withdraw_with_reason(back, done, lambda reason: service.withdraw_scan(
        db, scan, reason=reason, by=user.username, now=now()))


def _withdraw_with_reason(back: str, done: str, withdraw: Callable[[str], object]):
    """Run ``withdraw`` with the form's reason and go ``back`` saying how it went."""
    form = WithdrawForm()
    if not form.validate_on_submit():
        flash(_("Cần ghi lý do hủy (tối đa 500 ký tự)."), "error")
    else:
        try:
            withdraw(form.reason.data)
        except service.WithdrawalError as exc:
            flash(_("Không hủy được: {reason}", reason=error_text(exc)), "error")
        else:
            flash(done, "success")
    return redirect(back, 303)


@bp.route("/scans/<scan_id:scan_id>/photo")
@signed_in_required
def scan_photo(scan_id: int):
    """The evidence photo of a scan, for those who may see the employee scanned (a refused
    code with no employee: admins and inspectors only)."""
    db = get_db()
    user = current_account()
    scan = db.get(Scan, scan_id)
    if scan is None:
        abort(404)
    if scan.employee is not None:
        allowed = access.can_see_employee(db, user, scan.employee)
    else:
        allowed = access.sees_all_units(user)
    path = service.evidence_file(scan) if allowed else None
    if path is None:
        abort(404)
    # Photos are small (≤ 200 KB): read whole, so no file handle outlives the request.
    response = make_response(path.read_bytes())
    response.mimetype = "image/jpeg"
    response.headers["Cache-Control"] = "private, no-store"
    return response
