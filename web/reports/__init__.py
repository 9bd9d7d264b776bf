"""Report pages: the unit daily report (báo cáo ngày) with its exports, issued versions and
evidence photos, and the monthly report with the ranking of units (xếp hạng thi đua).
Report logic is attendance.reports; files are attendance.exports."""

from flask import Blueprint

from web.nav import NAV, NavItem

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")

REPORT_ROLES = frozenset({"admin", "inspector", "unit_head"})
NAV.append(NavItem("reports.daily", "Báo cáo ngày", REPORT_ROLES, order=10))
NAV.append(NavItem("reports.monthly", "Báo cáo tháng", REPORT_ROLES, order=12))

from web.reports import routes  # noqa: E402,F401
