"""Report pages: the unit daily report (báo cáo ngày). Report logic is attendance.reports."""

from flask import Blueprint

from web.nav import NAV, NavItem

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")

REPORT_ROLES = frozenset({"admin", "inspector", "unit_head"})
NAV.append(NavItem("reports.daily", "Báo cáo ngày", REPORT_ROLES, order=10))

from web.reports import routes  # noqa: E402,F401
