"""Signing in and who may do what: Flask-Login, CSRF, role decorators and scoping helpers.

- ``roles_required(*roles)`` guards a page or API view: not signed in → the sign-in page
  (HTML) or 401 (API); signed in with another role → 403.
- ``signed_in_required`` guards a view open to every role.
- ``current_account()`` is the signed-in ``attendance.models.User`` (loaded in this request's
  session); ``visible_units()`` / ``employee_or_404()`` / ``unit_or_404()`` apply the scope
  of ``attendance.access`` and answer 404 for anything outside it, so ids of other units'
  records are not confirmed to exist.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, g, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select

from attendance import access
from attendance.models import Employee, Unit, User
from web.db import get_db

login_manager = LoginManager()
csrf = CSRFProtect()

ROLES = ("admin", "inspector", "unit_head", "staff")


class SignedInUser(UserMixin):
    """What Flask-Login keeps for the request: a thin wrapper around the ``User`` row.

    The id in the session carries a fingerprint of the password hash, so changing a
    password (or deactivating the account) ends every other session of that user.
    """

    def __init__(self, record: User):
        self.record = record

    def get_id(self) -> str:
        return f"{self.record.id}:{password_fingerprint(self.record)}"

    @property
    def is_active(self) -> bool:
        return bool(self.record.active)

    @property
    def role(self) -> str:
        return self.record.role

    @property
    def username(self) -> str:
        return self.record.username


def password_fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    csrf.init_app(app)

    @login_manager.user_loader
    def _load(session_id: str) -> SignedInUser | None:
        user_id, _, fingerprint = session_id.partition(":")
        if not user_id.isdigit():
            return None
        user = get_db().get(User, int(user_id))
        if user is None or not user.active or fingerprint != password_fingerprint(user):
            return None
        return SignedInUser(user)

    @login_manager.unauthorized_handler
    def _unauthorized():
        if is_api_request():
            abort(401)
        return redirect(url_for("auth.login", next=safe_next(request.full_path)))


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def safe_next(target: str | None) -> str | None:
    """A same-site path to return to after signing in, or None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target.removesuffix("?") or None


def current_account() -> User | None:
    if current_user.is_authenticated:
        return current_user.record
    return None


def actor_name(user: User) -> str:
    """How a user stands on a record: the employee's name with the username, or the username."""
    if user.employee is not None:
        return f"{user.employee.full_name} ({user.username})"[:80]
    return user.username


def account_name(username: str | None) -> str:
    """A record's stored username (who filed or recorded it) as ``actor_name`` shows it; any
    other text stored there (a station, a guard's label) as it is. Once per request each."""
    if not username:
        return ""
    names = g.setdefault("account_names", {})
    if username not in names:
        user = get_db().scalar(select(User).where(User.username == username))
        names[username] = actor_name(user) if user is not None else username
    return names[username]


def _require_account() -> User:
    user = current_account()
    if user is None:
        login_manager.unauthorized()  # redirects (pages) or aborts 401 (API)
        abort(401)
    return user


def roles_required(*roles: str) -> Callable:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_account()
            if user is None:
                return login_manager.unauthorized()
            if user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)
        return wrapped

    return decorator


signed_in_required = roles_required(*ROLES)


def visible_units() -> frozenset[int] | None:
    """The unit ids the signed-in user may see (None: all), computed once per request."""
    if "visible_units" not in g:
        g.visible_units = access.visible_unit_ids(get_db(), _require_account())
    return g.visible_units


def unit_or_404(unit_id: int) -> Unit:
    unit = get_db().get(Unit, unit_id)
    visible = visible_units()
    if unit is None or (visible is not None and unit.id not in visible):
        abort(404)
    return unit


def employee_or_404(employee_id: int) -> Employee:
    employee = get_db().get(Employee, employee_id)
    if employee is None or not access.can_see_employee(get_db(), _require_account(), employee):
        abort(404)
    return employee
