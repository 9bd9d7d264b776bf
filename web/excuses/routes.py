"""Views of the excuses blueprint."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from attendance import access
from attendance import excuses as service
from attendance.models import Employee, Excuse
from web.db import domain_config, get_db, now
from web.excuses import bp
from web.excuses.forms import (
    BAD_DATE,
    KIND_CHOICES,
    PART_CHOICES,
    STATUS_CHOICES,
    DecisionForm,
    ExcuseForm,
    RevokeForm,
    WithdrawForm,
)
from web.format import paginate
from web.i18n import _, error_text
from web.security import actor_name, current_account, roles_required, signed_in_required

REVIEW_ROLES = ("admin", "inspector", "unit_head")  # inspectors read; they do not decide
DECIDE_ROLES = ("admin", "unit_head")


def _today() -> date:
    return now().astimezone(domain_config().tz).date()


def excuse_or_404(excuse_id: int) -> Excuse:
    """The excuse if the user may see it: their own, or (reviewers) one in their units."""
    db = get_db()
    user = current_account()
    excuse = db.get(Excuse, excuse_id)
    if excuse is None:
        abort(404)
    if service.is_own(user, excuse):
        return excuse
    if user.role in REVIEW_ROLES and access.can_see_employee(db, user, excuse.employee):
        return excuse
    abort(404)


def _with_people(query):
    return query.options(joinedload(Excuse.employee).joinedload(Employee.unit))


@bp.route("")
@signed_in_required
def index():
    db = get_db()
    user = current_account()
    own = []
    if user.employee_id is not None:
        own = db.scalars(_with_people(select(Excuse))
                         .where(Excuse.employee_id == user.employee_id)
                         .order_by(Excuse.start_date.desc(), Excuse.id.desc()).limit(100)).all()
    page = status = None
    if user.role in REVIEW_ROLES:
        status = request.args.get("status", "pending")
        if status not in {value for value, _label in STATUS_CHOICES}:
            abort(400)
        query = (_with_people(select(Excuse)).join(Excuse.employee)
                 .where(access.employee_filter(db, user), Excuse.status == status))
        if status == "pending":  # oldest first: the queue to work through
            query = query.order_by(Excuse.requested_at, Excuse.id)
        else:
            query = query.order_by(Excuse.requested_at.desc(), Excuse.id.desc())
        page = paginate(db.scalars(query).all(), request.args.get("page", 1, type=int))
    return render_template("excuses/index.html", own=own, page=page, status=status,
                           statuses=STATUS_CHOICES, status_labels=dict(STATUS_CHOICES),
                           kinds=dict(KIND_CHOICES), parts=dict(PART_CHOICES),
                           can_decide=user.role in DECIDE_ROLES,
                           args={"status": status} if status else {})


@bp.route("/new", methods=["GET", "POST"])
@signed_in_required
def new():
    user = current_account()
    employee = user.employee
    if employee is None:
        flash(_("Tài khoản chưa được gắn với hồ sơ cán bộ nào, nên không thể gửi đơn."), "error")
        return redirect(url_for("excuses.index"))
    config, today = domain_config(), _today()
    form = ExcuseForm()
    if request.method == "GET":
        form.kind.data = form.kind.data or "leave"
        form.part.data = form.part.data or "full"
        form.start_date.data = form.end_date.data = today.isoformat()
    if form.validate_on_submit():
        dates = {}
        for field in (form.start_date, form.end_date):
            try:
                dates[field.name] = date.fromisoformat(field.data.strip())
            except ValueError:
                field.errors.append(BAD_DATE)
        if len(dates) == 2:
            db = get_db()
            try:
                excuse = service.request_excuse(
                    db, config, employee, start_date=dates["start_date"],
                    end_date=dates["end_date"], part=form.part.data, kind=form.kind.data,
                    note=form.note.data, requested_by=user.username, now=now(), today=today)
            except service.ExcuseError as exc:
                flash(_("Không gửi được đơn: {reason}", reason=error_text(exc)), "error")
            else:
                flash(_("Đã gửi đơn; đơn đang chờ duyệt."), "success")
                return redirect(url_for("excuses.detail", excuse_id=excuse.id))
    status = 400 if request.method == "POST" else 200
    return render_template("excuses/new.html", form=form, employee=employee, kinds=KIND_CHOICES,
                           parts=PART_CHOICES, first=service.earliest_start(config, today),
                           last=service.latest_end(config, today)), status


@bp.route("/<int:excuse_id>")
@signed_in_required
def detail(excuse_id: int):
    excuse = excuse_or_404(excuse_id)
    user = current_account()
    may_decide = service.may_decide(get_db(), user, excuse)
    return render_template("excuses/detail.html", excuse=excuse, form=DecisionForm(),
                           decidable=excuse.status == service.PENDING and may_decide,
                           revocable=excuse.status == service.APPROVED and may_decide,
                           withdrawable=(excuse.status == service.PENDING
                                         and service.may_withdraw(user, excuse)),
                           withdraw_form=WithdrawForm(), revoke_form=RevokeForm(),
                           own=service.is_own(user, excuse),
                           kinds=dict(KIND_CHOICES), parts=dict(PART_CHOICES),
                           statuses=dict(STATUS_CHOICES))


@bp.route("/<int:excuse_id>/decide", methods=["POST"])
@roles_required(*DECIDE_ROLES)
def decide(excuse_id: int):
    excuse = excuse_or_404(excuse_id)
    db = get_db()
    user = current_account()
    if not service.may_decide(db, user, excuse):
        abort(403)  # their own request: it goes to the unit above or an admin
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(_("Quyết định không hợp lệ"), "error")
        return redirect(url_for("excuses.detail", excuse_id=excuse.id)), 303
    try:
        service.decide_excuse(db, excuse, form.decision.data, actor_name(user),
                              form.reason.data, now(), actor=user.username)
    except service.ExcuseError as exc:
        flash(_("Không xử lý được đơn: {reason}", reason=error_text(exc)), "error")
        return redirect(url_for("excuses.detail", excuse_id=excuse.id)), 303
    if form.decision.data == "approved":
        flash(_("Đã duyệt đơn của {name}.", name=excuse.employee.full_name), "success")
    else:
        flash(_("Đã từ chối đơn của {name}.", name=excuse.employee.full_name), "success")
    return redirect(url_for("excuses.index"))


@bp.route("/<int:excuse_id>/withdraw", methods=["POST"])
@signed_in_required
def withdraw(excuse_id: int):
    excuse = excuse_or_404(excuse_id)
    user = current_account()
    if not service.may_withdraw(user, excuse):
        abort(403)  # a reviewer who sees it: only its author withdraws a request
    if not WithdrawForm().validate_on_submit():
        abort(400)
    try:
        service.withdraw_excuse(get_db(), excuse, by=actor_name(user), actor=user.username,
                                now=now())
    except service.ExcuseError as exc:
        flash(_("Không rút được đơn: {reason}", reason=error_text(exc)), "error")
    else:
        flash(_("Đã rút đơn."), "success")
    return redirect(url_for("excuses.detail", excuse_id=excuse.id)), 303


@bp.route("/<int:excuse_id>/revoke", methods=["POST"])
@roles_required(*DECIDE_ROLES)
def revoke(excuse_id: int):
    excuse = excuse_or_404(excuse_id)
    user = current_account()
    if not service.may_decide(get_db(), user, excuse):
        abort(403)  # their own excuse: the unit above or an admin
    form = RevokeForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.revoke_approval(get_db(), excuse, by=actor_name(user), actor=user.username,
                                reason=form.reason.data, now=now())
    except service.ExcuseError as exc:
        flash(_("Không hủy duyệt được đơn: {reason}", reason=error_text(exc)), "error")
    else:
        flash(_("Đã hủy duyệt đơn của {name}; các ngày của đơn được tính lại như chưa có đơn.",
                name=excuse.employee.full_name), "success")
    return redirect(url_for("excuses.detail", excuse_id=excuse.id)), 303
