"""Admins' view of the scheduler's output: mail deliveries (gửi thư báo cáo) with their
attempts and errors, a retry for those that failed, and the nightly health checks."""

from flask import Blueprint

from web.nav import NAV, NavItem

bp = Blueprint("deliveries", __name__, url_prefix="/admin/deliveries",
               template_folder="templates")

NAV.append(NavItem("deliveries.index", "Gửi báo cáo", frozenset({"admin"}), order=83))

from web.deliveries import routes  # noqa: E402,F401
