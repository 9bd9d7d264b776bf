"""The violation log (nhật ký vi phạm) for inspectors and unit heads, and repeat offenders.

Filters of INTERFACES.md / RULES.md: date range, unit with its sub-units, type, employee and
status; paginated; exported as xlsx or csv (and pdf). Unit heads see their units only. The
log itself is ``attendance.reports.violations``; ``web.violations.query`` parses the
filters for these pages and for ``GET /api/v1/violations``.
"""

from flask import Blueprint

from web.nav import NAV, NavItem

bp = Blueprint("violations", __name__, url_prefix="/violations", template_folder="templates")

LOG_ROLES = frozenset({"admin", "inspector", "unit_head"})
NAV.append(NavItem("violations.log", "Nhật ký vi phạm", LOG_ROLES, order=20))

from web.violations import routes  # noqa: E402,F401
