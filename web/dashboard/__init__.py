"""Today (hôm nay): the signed-in home of admins, inspectors and unit heads, scoped.

Arrivals as they happen, each unit's badge compliance and punctuality so far today,
stations online or silent, and charts of the last 30 days (server-side SVG). The page
refreshes its live parts every 15 seconds from ``/today/live.json`` with a few lines of
JavaScript served from this blueprint (``/today/static/dashboard.js``).
"""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/today", template_folder="templates",
               static_folder="static")

DASHBOARD_ROLES = frozenset({"admin", "inspector", "unit_head"})

from web.dashboard import routes  # noqa: E402,F401
