"""The employee page: details, the attendance history of the last 30 days, the guards'
no-badge records and the badge scans of those days, badges, photo.

Everyone who may see the employee (``employee_or_404``: their units' heads, inspectors,
admins, the employee themselves) sees the page and the photo; those who may withdraw a
record or a scan made in error have the form beside it (``attendance.scans``); only admins
issue and revoke badges, print cards and upload photos. ``attendance_history`` is also the
staff home page's "my record".
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from attendance import badges, cards, photos
from attendance import scans as scan_service
from attendance.access import log_action
from attendance.config import Config
from attendance.db import instance_path
from attendance.evaluation import evaluate_range
from attendance.models import Badge, Employee, NoBadgeRecord, Scan
from attendance.reports import WEEKDAY_NAMES
from attendance.rules import DayResult, Finding
from web.auth.forms import REQUIRED, TOO_LONG
from web.db import domain_config, get_db, now
from web.entrance.routes import records_context
from web.i18n import _, error_text
from web.org import bp
from web.security import current_account, employee_or_404, roles_required, signed_in_required

HISTORY_DAYS = 30
FINDING_LABELS = {
    "late": "Đi muộn",
    "early_leave": "Về sớm",
    "missing_checkout": "Không quét thẻ khi về",
    "no_badge": "Không đeo thẻ",
    "absent_from_post": "Vắng mặt tại vị trí làm việc",
    "absent": "Vắng không lý do",
    "missed_session": "Vắng buổi",
}
EXCUSE_KINDS = {"leave": "Nghỉ phép", "business_trip": "Đi công tác", "other": "Lý do khác"}
EXCUSE_PARTS = {"full": "Cả ngày", "morning": "Buổi sáng", "afternoon": "Buổi chiều"}
SOURCES = {"guard": "Bảo vệ ghi nhận", "spot_check": "Kiểm tra đột xuất"}


def keyring() -> badges.Keyring:
    """The badge signing keys: ``KEYS_DIR`` of the app config, else ``attendance.badges.keys_dir()``."""
    return badges.Keyring(current_app.config.get("KEYS_DIR"))


# --- attendance history ------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryDay:
    day: date
    weekday: str
    today: bool
    result: DayResult

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.result.findings


def attendance_history(session: Session, config: Config, employee: Employee, now: datetime,
                       days: int = HISTORY_DAYS) -> list[HistoryDay]:
    """The employee's working days from ``days`` days ago through today, newest first; today
    as it stands at ``now`` (no finding that only the end of the day can tell)."""
    today = now.astimezone(config.tz).date()
    first = today - timedelta(days=days - 1)
    out = [
        HistoryDay(day, WEEKDAY_NAMES[day.weekday()], day == today, result)
        for _row, day, result in evaluate_range(session, config, first, today,
                                                unit_ids={employee.unit_id},
                                                employee_codes=[employee.code], as_of=now)
        if result.working
    ]
    out.sort(key=lambda d: d.day, reverse=True)
    return out


def history_context(employee: Employee) -> dict:
    return {"history": attendance_history(get_db(), domain_config(), employee, now()),
            "history_days": HISTORY_DAYS, "finding_labels": FINDING_LABELS,
            "excuse_kinds": EXCUSE_KINDS, "excuse_parts": EXCUSE_PARTS,
            "finding_sources": SOURCES}


# --- the page ------------------------------------------------------------------------------


class RevokeForm(FlaskForm):
    reason = StringField("Lý do thu hồi", validators=[DataRequired(REQUIRED),
                                                      Length(max=255, message=TOO_LONG)])


class PlainForm(FlaskForm):
    """Only the CSRF token (issue a badge, upload a photo)."""


@bp.route("/employees/<int:employee_id>")
@signed_in_required
def employee(employee_id: int):
    employee = employee_or_404(employee_id)
    path = []
    unit = employee.unit
    while unit is not None and len(path) < 50:
        path.append(unit)
        unit = unit.parent
    badge_list = get_db().scalars(select(Badge).where(Badge.employee_id == employee.id)
                                  .order_by(Badge.issued_at.desc(), Badge.id.desc())).all()
    return render_template(
        "org/employee.html", employee=employee, unit_path=list(reversed(path)),
        badges=badge_list, active_badge=next((b for b in badge_list if b.active), None),
        has_photo=photos.photo_file(employee.photo, instance_path()) is not None,
        revoke_form=RevokeForm(), plain_form=PlainForm(),
        max_photo_mb=photos.MAX_BYTES // (1024 * 1024), **history_context(employee),
        **records_context(_no_badge_records(employee)), **_scans_context(employee))


def _scans_context(employee: Employee) -> dict:
    """The employee's accepted badge scans in the history's days, newest first, with their
    withdrawals; the withdraw form for those who may (inspectors and admins)."""
    db = get_db()
    since = now() - timedelta(days=HISTORY_DAYS)
    scan_list = list(db.scalars(
        select(Scan).options(joinedload(Scan.station))
        .where(Scan.employee_id == employee.id, Scan.status == scan_service.ACCEPTED,
               Scan.scanned_at >= since)
        .order_by(Scan.scanned_at.desc(), Scan.id.desc())))
    return {"scans": scan_list, "scan_withdrawals": scan_service.scan_withdrawals(db, scan_list),
            "may_withdraw_scans": scan_service.may_withdraw_scans(db, current_account(),
                                                                  employee)}


def _no_badge_records(employee: Employee) -> list[NoBadgeRecord]:
    """The guards' no-badge records of the employee in the history's days, newest first
    (withdrawn ones too, shown as such; not the withdrawals themselves)."""
    since = now() - timedelta(days=HISTORY_DAYS)
    return list(get_db().scalars(
        select(NoBadgeRecord).where(NoBadgeRecord.employee_id == employee.id,
                                    NoBadgeRecord.void.is_(False),
                                    NoBadgeRecord.recorded_at >= since)
        .order_by(NoBadgeRecord.recorded_at.desc())))


def _back(employee: Employee):
    return redirect(url_for("org.employee", employee_id=employee.id) + "#badges", 303)


@bp.route("/employees/<int:employee_id>/badges/issue", methods=["POST"])
@roles_required("admin")
def issue_badge(employee_id: int):
    employee = employee_or_404(employee_id)
    if not PlainForm().validate_on_submit():
        abort(400)
    db = get_db()
    ring = keyring()
    user = current_account()
    try:
        if not ring.exists:
            info = ring.init(now())
            db.flush()
            log_action(db, actor=user.username, action="keys.initialized", at=now(),
                       target=f"key:{info.key_id}")
        result = badges.issue_badges(db, [employee], ring, now=now(), actor=user.username)
    except badges.BadgeError as exc:
        flash(_("Không cấp được thẻ: {reason}", reason=error_text(exc)), "error")
        return _back(employee)
    if result.issued:
        flash(_("Đã cấp thẻ {serial}.", serial=result.issued[0].serial), "success")
    else:
        flash(_("Người này đã có thẻ đang hiệu lực."), "warning")
    return _back(employee)


@bp.route("/employees/<int:employee_id>/badges/revoke", methods=["POST"])
@roles_required("admin")
def revoke_badge(employee_id: int):
    employee = employee_or_404(employee_id)
    form = RevokeForm()
    if not form.validate_on_submit():
        flash(_("Cần ghi lý do thu hồi thẻ."), "error")
        return _back(employee)
    try:
        badge = badges.revoke_badge(get_db(), employee, form.reason.data, now=now(),
                                    actor=current_account().username)
    except badges.BadgeError as exc:
        flash(_("Không thu hồi được thẻ: {reason}", reason=error_text(exc)), "error")
        return _back(employee)
    flash(_("Đã thu hồi thẻ {serial}.", serial=badge.serial), "success")
    return _back(employee)


@bp.route("/employees/<int:employee_id>/badges/card.pdf")
@roles_required("admin")
def card_pdf(employee_id: int):
    """The printable card of the active badge (an A4 sheet with crop marks)."""
    employee = employee_or_404(employee_id)
    db = get_db()
    badge = badges.active_badge(db, employee)
    if badge is None:
        abort(404)
    config = domain_config()
    try:
        payload = badges.badge_payload(badge, keyring(), config.public_base_url)
    except badges.BadgeError:
        abort(409)  # the key that signed it is gone: reissue the badge
    card = cards.make_card(badge, payload, agency=config.agency, photo_dir=instance_path())
    out = io.BytesIO()
    cards.write_pdf([card], out, title=f"Thẻ {employee.code}")
    out.seek(0)
    log_action(db, actor=current_account().username, action="badge.card_printed", at=now(),
               target=f"employee:{employee.code}", details={"serial": badge.serial})
    response = send_file(out, mimetype="application/pdf", as_attachment=True,
                         download_name=f"the-{badge.serial}.pdf")
    response.headers["Cache-Control"] = "no-store"
    return response


# --- photo ---------------------------------------------------------------------------------


@bp.route("/employees/<int:employee_id>/photo", methods=["GET"])
@signed_in_required
def photo(employee_id: int):
    employee = employee_or_404(employee_id)
    path = photos.photo_file(employee.photo, instance_path())
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=0, conditional=True)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/employees/<int:employee_id>/photo", methods=["POST"])
@roles_required("admin")
def upload_photo(employee_id: int):
    employee = employee_or_404(employee_id)
    if not PlainForm().validate_on_submit():
        abort(400)
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        flash(_("Chưa chọn ảnh."), "error")
        return redirect(url_for("org.employee", employee_id=employee.id), 303)
    data = upload.stream.read(photos.MAX_BYTES + 1)
    try:
        employee.photo = photos.store_photo(data, instance_path(), employee.id)
    except photos.PhotoError as exc:
        flash(_("Không nhận ảnh: {reason}", reason=error_text(exc)), "error")
        return redirect(url_for("org.employee", employee_id=employee.id), 303)
    log_action(get_db(), actor=current_account().username, action="employee.photo_changed",
               at=now(), target=f"employee:{employee.code}", details={"photo": employee.photo})
    flash(_("Đã cập nhật ảnh."), "success")
    return redirect(url_for("org.employee", employee_id=employee.id))
