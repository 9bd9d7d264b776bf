"""The home page: a staff member's own record; for the other roles, a start page.

The "today" dashboard of the web issue replaces ``index`` for admins, inspectors and unit
heads later; staff keep ``my_record``.
"""

from flask import Blueprint

from web.nav import ALL_ROLES, NAV, NavItem

bp = Blueprint("home", __name__, template_folder="templates")
NAV.append(NavItem("home.index", "Trang chủ", ALL_ROLES, order=0))

from web.home import routes  # noqa: E402,F401
