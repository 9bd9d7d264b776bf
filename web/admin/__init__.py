"""Administration: users and roles, stations (điểm quét thẻ), the audit log (nhật ký hệ thống)."""

from flask import Blueprint

from web.nav import NAV, NavItem

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

ADMIN = frozenset({"admin"})
NAV.append(NavItem("admin.users", "Người dùng", ADMIN, order=80))
NAV.append(NavItem("admin.stations", "Điểm quét thẻ", ADMIN, order=81))
NAV.append(NavItem("admin.audit_log", "Nhật ký hệ thống", ADMIN, order=82))

from web.admin import routes  # noqa: E402,F401
