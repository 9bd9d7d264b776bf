"""Administration: users and roles, stations (điểm quét thẻ), the audit log (nhật ký hệ thống),
imports with a preview (nhập dữ liệu) and the working calendar of a schedule (lịch làm việc)."""

from flask import Blueprint

from web.nav import NAV, NavItem

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

ADMIN = frozenset({"admin"})
NAV.append(NavItem("admin.users", "Người dùng", ADMIN, order=80))
NAV.append(NavItem("admin.stations", "Điểm quét thẻ", ADMIN, order=81))
NAV.append(NavItem("admin.audit_log", "Nhật ký hệ thống", ADMIN, order=82))
NAV.append(NavItem("admin.import_upload", "Nhập dữ liệu", ADMIN, order=83))
NAV.append(NavItem("admin.calendar", "Lịch làm việc", ADMIN, order=84))

from web.admin import calendar_views, import_views, routes, user_views  # noqa: F401
