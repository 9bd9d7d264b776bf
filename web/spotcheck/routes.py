"""Views of the spotcheck blueprint (admins and inspectors)."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from attendance import access, badges
from attendance import spotchecks as service
from attendance.models import Employee, SpotCheck, SpotCheckFinding, Unit
from attendance.models.checks import RESULTS
from web.auth.forms import TOO_LONG
from web.db import domain_config, get_db, now
from attendance.names import name_sort_key
from web.i18n import _, error_text
from web.org.employee import keyring
from web.org.routes import unit_tree
from web.security import current_account, roles_required
from web.spotcheck import SPOT_ROLES, bp

# (value, Vietnamese label) in the order the buttons appear.
RESULT_CHOICES = [
    ("present_with_badge", "Có mặt, đeo thẻ"),
    ("present_without_badge", "Có mặt, không đeo thẻ"),
    ("absent_from_post", "Vắng mặt tại vị trí làm việc"),
]
MAX_BADGES = 500
MAX_NOTE = service.MAX_NOTE  # the general note and each person's
MAX_BADGE_TEXT = 200_000  # the scanned badges' payloads, one a line
SCANNED_NOTE = "đã quét thẻ"  # stored with the finding: Vietnamese whatever the UI language


def _one_char_line_breaks(text: str | None) -> str | None:
    return text.replace("\r\n", "\n") if text else text


class VisitForm(FlaskForm):
    """The CSRF token and the free fields; each person's mark is ``result_<id>``/``note_<id>``."""

    # Browsers send a textarea's line breaks as CRLF but count them as one character
    # against maxlength: counted here as they count them.
    note = TextAreaField("Ghi chú chung", filters=[_one_char_line_breaks],
                         validators=[Optional(), Length(max=MAX_NOTE, message=TOO_LONG)])
    badges = TextAreaField("Mã thẻ đã quét",
                           validators=[Optional(), Length(max=MAX_BADGE_TEXT, message=TOO_LONG)])


class CorrectionForm(FlaskForm):
    note = TextAreaField("Ghi chú", validators=[Optional(), Length(max=1000, message=TOO_LONG)])


def _unit_or_404(code: str) -> Unit:
    unit = get_db().scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        abort(404)
    return unit


def _local_now():
    return now().astimezone(domain_config().tz)


@bp.route("")
@roles_required(*SPOT_ROLES)
def index():
    db = get_db()
    units = list(db.scalars(select(Unit)))
    recent = db.scalars(select(SpotCheck).options(joinedload(SpotCheck.unit))
                        .order_by(SpotCheck.checked_at.desc(), SpotCheck.id.desc()).limit(30)).all()
    return render_template("spotcheck/index.html", tree=unit_tree(units), recent=recent)


def _expected(unit: Unit, at):
    people = service.expected_now(get_db(), domain_config(), unit, at)
    people.sort(key=lambda p: (p.unit_code != unit.code, p.unit_code,
                               name_sort_key(p.employee.full_name), p.employee.code))
    return people


def _verify_badge(payload: str, unit_ids: set[int], day):
    """(employee, None) for a genuine, current badge of someone in the unit; (None, message)."""
    db = get_db()
    try:
        result = badges.check_payload(db, payload.strip(), keyring(), today=day,
                                      base_url=domain_config().public_base_url)
    except badges.KeyringError:
        return None, _("Chưa có khóa ký thẻ trên máy chủ; liên hệ quản trị hệ thống.")
    if not result.ok:
        return None, _("Không hợp lệ: {reason}",
                       reason=_(badges.REASONS.get(result.reason, result.reason)))
    employee = db.scalar(select(Employee).where(Employee.code == result.employee_code))
    if employee is None or employee.unit_id not in unit_ids:
        return None, _("Thẻ hợp lệ nhưng người này không thuộc đơn vị đang kiểm tra.")
    return employee, None


@bp.route("/units/<code>", methods=["GET", "POST"])
@roles_required(*SPOT_ROLES)
def visit(code: str):
    db = get_db()
    unit = _unit_or_404(code)
    at = now()
    people = _expected(unit, at)
    form = VisitForm()
    marked: dict[int, str] = {}
    notes: dict[int, str] = {}
    if request.method == "POST":
        # What the inspector entered goes back into the form whenever it is refused.
        for key, value in request.form.items():
            if key.startswith("result_") and key[7:].isdigit() and value:
                if value not in RESULTS:
                    abort(400)
                marked[int(key[7:])] = value
        for key, value in request.form.items():
            if key.startswith("note_") and key[5:].isdigit() and value.strip():
                notes[int(key[5:])] = value.strip()
    if request.method == "POST" and not form.validate_on_submit():
        # The CSRF token is checked before the view (CSRFProtect): these are the fields.
        if form.note.errors:
            flash(_("Ghi chú chung dài quá {max} ký tự.", max=MAX_NOTE), "error")
        if form.badges.errors:
            flash(_("Danh sách mã thẻ đã quét dài quá {max} ký tự.", max=MAX_BADGE_TEXT),
                  "error")
    elif request.method == "POST":
        unit_ids = access.subtree_unit_ids(db, unit.id)
        errors: list[str] = []
        scanned: dict[int, str] = {}
        lines = [line.strip() for line in (form.badges.data or "").splitlines() if line.strip()]
        for payload in lines[:MAX_BADGES]:
            employee, problem = _verify_badge(payload, unit_ids, at.astimezone(domain_config().tz).date())
            if problem:
                errors.append(problem)
            else:
                marked[employee.id] = "present_with_badge"
                scanned[employee.id] = employee.code
        employees = {e.id: e for e in db.scalars(select(Employee).where(
            Employee.id.in_(sorted(marked)), Employee.unit_id.in_(sorted(unit_ids))))} if marked else {}
        if set(marked) - set(employees):
            abort(400)  # an id from outside the unit: a forged form
        if not marked:
            errors.append(_("Chưa ghi nhận người nào."))
        if not errors:
            findings = []
            for employee_id, result in marked.items():
                note = notes.get(employee_id)
                if employee_id in scanned:
                    note = "; ".join(filter(None, [SCANNED_NOTE, note]))
                if note is not None and len(note) > MAX_NOTE:
                    errors.append(_("Ghi chú về {name} dài quá {max} ký tự.",
                                    name=employees[employee_id].full_name, max=MAX_NOTE))
                findings.append((employees[employee_id], result, note))
        if not errors:
            try:
                check = service.record_spot_check(db, unit, current_account().username, at, findings,
                                                  note=form.note.data)
            except service.SpotCheckError as exc:
                errors.append(error_text(exc))
            else:
                flash(_("Đã ghi nhận kết quả kiểm tra {count} người.", count=len(findings)),
                      "success")
                return redirect(url_for("spotcheck.detail", check_id=check.id))
        for message in errors:
            flash(message, "error")
    status = 400 if request.method == "POST" else 200
    return render_template("spotcheck/visit.html", unit=unit, people=people, form=form,
                           results=RESULT_CHOICES, marked=marked, notes=notes,
                           at=at, max_note=MAX_NOTE, max_badge_text=MAX_BADGE_TEXT), status


@bp.route("/units/<code>/badge", methods=["POST"])
@roles_required(*SPOT_ROLES)
def badge(code: str):
    """Check one scanned payload (JSON ``{"payload": "…"}``) for the camera page."""
    unit = _unit_or_404(code)
    data = request.get_json(silent=True)
    payload = data.get("payload") if isinstance(data, dict) else None
    if not isinstance(payload, str) or not payload.strip() or len(payload) > badges.MAX_INPUT:
        return jsonify(ok=False, message=_("Không đọc được mã thẻ.")), 400
    unit_ids = access.subtree_unit_ids(get_db(), unit.id)
    employee, problem = _verify_badge(payload, unit_ids, _local_now().date())
    if problem:
        return jsonify(ok=False, message=problem)
    return jsonify(ok=True, message=_("Hợp lệ: {name}", name=employee.full_name),
                   employee={"id": employee.id, "code": employee.code,
                             "full_name": employee.full_name})


@bp.route("/<int:check_id>")
@roles_required(*SPOT_ROLES)
def detail(check_id: int):
    db = get_db()
    check = db.get(SpotCheck, check_id)
    if check is None:
        abort(404)
    findings = service.current_findings(db, check)
    findings.sort(key=lambda f: (name_sort_key(f.employee.full_name), f.employee.code))
    return render_template("spotcheck/detail.html", check=check, findings=findings,
                           day=service.day_of(check, domain_config()).isoformat(),
                           results=RESULT_CHOICES,
                           labels=dict(RESULT_CHOICES), form=CorrectionForm())


@bp.route("/findings/<int:finding_id>/correct", methods=["POST"])
@roles_required(*SPOT_ROLES)
def correct(finding_id: int):
    db = get_db()
    finding = db.get(SpotCheckFinding, finding_id)
    if finding is None:
        abort(404)
    form = CorrectionForm()
    result = request.form.get("result", "")
    if not form.validate_on_submit() or result not in RESULTS:
        flash(_("Kết quả không hợp lệ."), "error")
        return redirect(url_for("spotcheck.detail", check_id=finding.spot_check_id), 303)
    try:
        service.correct_finding(db, finding, result, form.note.data,
                                corrected_by=current_account().username, now=now())
    except service.SpotCheckError as exc:
        flash(_("Không sửa được: {reason}", reason=error_text(exc)), "error")
        return redirect(url_for("spotcheck.detail", check_id=finding.spot_check_id), 303)
    flash(_("Đã sửa kết quả của {name}.", name=finding.employee.full_name), "success")
    return redirect(url_for("spotcheck.detail", check_id=finding.spot_check_id))
