"""Views of the admin blueprint (admins only)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from attendance import access, audit_details
from attendance.audit import action_label
from attendance.scans import StationError, register_station
from attendance.models import AuditEntry, Employee, Station, Unit, User
from web.admin import bp
from web.admin.forms import ROLE_CHOICES, StationForm, UserForm
from web.db import domain_config, get_db, now
from web.format import Page
from web.i18n import _, error_text
from web.security import current_account, roles_required


def employee_by_code(code: str) -> tuple[Employee | None, str | None]:
    """The employee whose code the admin typed, whatever its case; else why there is none
    (shown under the field)."""
    found = access.employees_by_code(get_db(), code)
    if len(found) == 1:
        return found[0], None
    if not found:
        return None, "Không có cán bộ có mã này"
    return None, " ".join((
        _("Mã này khớp với {count} cán bộ: {codes}.", count=len(found),
          codes=", ".join(e.code for e in found)),
        _("Hãy gõ đúng mã, phân biệt chữ hoa, chữ thường.")))


def account_scope(form, *, current_employee_id: int | None = None
                  ) -> tuple[Unit | None, Employee | None] | None:
    """The unit and the employee record a user form names, or None after adding the first
    problem under its field: an unknown unit, a code that is not one employee's, an employee
    with another account (``current_employee_id``: the one the edited user has already), a
    unit head without a unit, a staff account without an employee."""
    db = get_db()
    unit = db.scalar(select(Unit).where(Unit.code == form.unit.data)) if form.unit.data else None
    employee, employee_error = (employee_by_code(form.employee.data)
                                if form.employee.data else (None, None))
    linked = (access.employee_account(db, employee.id)
              if employee is not None and employee.id != current_employee_id else None)
    if form.unit.data and unit is None:
        form.unit.errors.append("Không có đơn vị này")
    elif employee_error:
        form.employee.errors.append(employee_error)
    elif linked is not None:
        form.employee.errors.append(_(
            "Cán bộ {code} đã có tài khoản {username}; mỗi cán bộ chỉ có một tài khoản",
            code=employee.code, username=linked.username))
    elif form.role.data == "unit_head" and unit is None:
        form.unit.errors.append("Thủ trưởng đơn vị cần chọn đơn vị")
    elif form.role.data == "staff" and employee is None:
        form.employee.errors.append("Tài khoản cán bộ cần mã cán bộ")
    else:
        return unit, employee
    return None


def _unit_choices() -> list[tuple[str, str]]:
    units = get_db().scalars(select(Unit).order_by(Unit.code))
    return [("", "—")] + [(u.code, f"{u.code} · {u.name}") for u in units]


@bp.route("/users")
@roles_required("admin")
def users():
    rows = get_db().scalars(select(User).order_by(User.username)).all()
    return render_template("admin/users.html", users=rows)


def _username_taken(form: UserForm, owner: str) -> None:
    # Whatever the case: head_stc and HEAD_STC would be one person signing in.
    form.username.errors.append(_("Tên đăng nhập đã được dùng: đã có tài khoản {username}",
                                  username=owner))


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user():
    db = get_db()
    form = UserForm()
    if form.validate_on_submit():
        owner = access.username_owner(db, form.username.data)
        if owner is not None:
            _username_taken(form, owner.username)
        elif (scope := account_scope(form)) is not None:
            unit, employee = scope
            try:
                user = access.create_user(
                    db, username=form.username.data, role=form.role.data,
                    password=form.password.data, now=now(),
                    unit_id=unit.id if unit else None, employee_id=employee.id if employee else None,
                )
            except access.UsernameTaken as exc:  # made meanwhile: the database refused it
                _username_taken(form, exc.owner)
            except access.AccessError as exc:
                flash(_("Không tạo được tài khoản: {reason}", reason=error_text(exc)), "error")
            else:
                access.log_action(db, actor=current_account().username, action="user.created",
                                  at=now(), target=f"user:{user.username}",
                                  details={"role": user.role,
                                           "unit": unit.code if unit else None,
                                           "employee": employee.code if employee else None})
                flash(_("Đã tạo tài khoản {username}.", username=user.username), "success")
                return redirect(url_for("admin.users"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, roles=ROLE_CHOICES,
                           units=_unit_choices()), status


@bp.route("/stations")
@roles_required("admin")
def stations():
    rows = get_db().scalars(select(Station).order_by(Station.code)).all()
    return render_template("admin/stations.html", stations=rows, now=now())


@bp.route("/stations/new", methods=["GET", "POST"])
@roles_required("admin")
def new_station():
    db = get_db()
    form = StationForm()
    if form.validate_on_submit():
        unit = db.scalar(select(Unit).where(Unit.code == form.unit.data))
        if unit is None:
            form.unit.errors.append("Không có đơn vị này")
        else:
            try:
                station, key = register_station(db, form.code.data, unit, name=form.name.data,
                                                now=now(), actor=current_account().username)
            except StationError as exc:
                form.code.errors.append(error_text(exc))
            else:
                # The key is shown on this answer only, never stored in clear nor cached.
                response = render_template("admin/station_key.html", station=station,
                                           unit=unit, key=key)
                return response, 201, {"Cache-Control": "no-store"}
    status = 400 if request.method == "POST" else 200
    return render_template("admin/station_form.html", form=form, units=_unit_choices()), status


AUDIT_PAGE_SIZE = 100


@bp.route("/audit")
@roles_required("admin")
def audit_log():
    db = get_db()
    total = db.scalar(select(func.count()).select_from(AuditEntry))
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    number = min(max(request.args.get("page", 1, type=int), 1), pages)
    rows = db.scalars(
        select(AuditEntry).order_by(AuditEntry.id.desc())
        .offset((number - 1) * AUDIT_PAGE_SIZE).limit(AUDIT_PAGE_SIZE)
    ).all()
    page = Page(rows, number, AUDIT_PAGE_SIZE, total)
    tz = domain_config().tz
    entries = [(e, audit_details.shown_target(e.action, e.target),
                audit_details.detail_fields(e.details, tz, _)) for e in rows]
    return render_template("admin/audit.html", page=page, entries=entries, args={},
                           action_label=action_label)
