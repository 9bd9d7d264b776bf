"""Units (the tree) and employees: lists and detail pages, scoped to what the user may see."""

from flask import Blueprint

from web.nav import NAV, NavItem

bp = Blueprint("org", __name__, template_folder="templates")

ORG_ROLES = frozenset({"admin", "inspector", "unit_head"})
NAV.append(NavItem("org.units", "Đơn vị", ORG_ROLES, order=20, context="list"))
NAV.append(NavItem("org.employees", "Cán bộ, công chức", ORG_ROLES, order=30))

from web.org import employee, routes  # noqa: E402,F401
