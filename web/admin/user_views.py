"""Changing a user: role and scope (unit or employee record), deactivating and reactivating.

Admins only. An admin cannot deactivate themselves nor take away their own admin role, so
the deployment always keeps the account that made the change. Deactivating ends the user's
sessions at their next request (``web.security`` refuses inactive accounts). Every change
is written to the audit log.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from attendance import access
from attendance.models import User
from web.admin import bp
from web.admin.forms import ROLE_CHOICES, UserActiveForm, UserEditForm
from web.admin.routes import _unit_choices, account_scope
from web.db import get_db, now
from web.i18n import _
from web.security import current_account, roles_required


def _user_or_404(user_id: int) -> User:
    user = get_db().get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit_user(user_id: int):
    db = get_db()
    user = _user_or_404(user_id)
    me = current_account()
    form = UserEditForm(data=None if request.method == "POST" else {
        "role": user.role, "unit": user.unit.code if user.unit else "",
        "employee": user.employee.code if user.employee else "",
    })
    if form.validate_on_submit():
        role = form.role.data
        if user.id == me.id and role != "admin":
            form.role.errors.append("Không thể tự bỏ quyền quản trị của mình")
        elif (scope := account_scope(form, current_employee_id=user.employee_id)) is not None:
            unit, employee = scope
            before = {"role": user.role, "unit": user.unit.code if user.unit else None,
                      "employee": user.employee.code if user.employee else None}
            after = {"role": role, "unit": unit.code if unit and role == "unit_head" else None,
                     "employee": employee.code if employee else None}
            if before != after:
                user.role = role
                user.unit_id = unit.id if unit and role == "unit_head" else None
                user.employee_id = employee.id if employee else None
                access.log_action(db, actor=me.username, action="user.role_changed", at=now(),
                                  target=f"user:{user.username}",
                                  details={"before": before, "after": after})
                flash(_("Đã cập nhật tài khoản {username}.", username=user.username), "success")
            return redirect(url_for("admin.users"), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("admin/user_edit.html", form=form, user=user, roles=ROLE_CHOICES,
                           units=_unit_choices(), active_form=UserActiveForm(formdata=None),
                           is_me=user.id == me.id), status


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles_required("admin")
def set_user_active(user_id: int):
    user = _user_or_404(user_id)
    form = UserActiveForm()
    if not form.validate_on_submit():
        abort(400)
    me = current_account()
    active = form.active.data == "1"
    if user.id == me.id and not active:
        flash(_("Không thể tự khóa tài khoản của mình."), "error")
        return redirect(url_for("admin.edit_user", user_id=user.id), 303)
    if user.active != active:
        user.active = active
        access.log_action(get_db(), actor=me.username,
                          action="user.reactivated" if active else "user.deactivated",
                          at=now(), target=f"user:{user.username}")
        flash(_("Đã mở khóa tài khoản {username}.", username=user.username) if active
              else _("Đã khóa tài khoản {username}.", username=user.username), "success")
    return redirect(url_for("admin.users"), 303)
