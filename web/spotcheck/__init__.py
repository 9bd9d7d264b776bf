"""Spot checks (kiểm tra đột xuất) for inspectors in the field, on a phone.

An inspector picks a unit, sees who is expected at work now (``attendance.spotchecks
.expected_now``), marks each person — or scans their badges with the phone's camera (jsQR,
vendored under ``web/static/vendor/``; every payload is checked again by the server) — and
submits. The findings enter the reports at once.
"""

from flask import Blueprint

from web.nav import NAV, NavItem

bp = Blueprint("spotcheck", __name__, url_prefix="/spotcheck", template_folder="templates")

SPOT_ROLES = frozenset({"admin", "inspector"})
NAV.append(NavItem("spotcheck.index", "Kiểm tra đột xuất", SPOT_ROLES, order=35))

from web.spotcheck import routes  # noqa: E402,F401
