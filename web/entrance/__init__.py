"""The entrance: a guard's or a unit head's record of someone who came in without a badge,
and the evidence photo of a scan.

Who may record: admins, inspectors, and unit heads for the staff of their own units (the
product has no guard role; a guard at a door uses the station's keyboard, or an account of
the unit). Staff members may not record anyone.
"""

from flask import Blueprint

from web.nav import NAV, NavItem

bp = Blueprint("entrance", __name__, template_folder="templates")

ENTRANCE_ROLES = frozenset({"admin", "inspector", "unit_head"})
NAV.append(NavItem("entrance.no_badge", "Ghi nhận không đeo thẻ", ENTRANCE_ROLES, order=45))

from web.entrance import routes  # noqa: E402,F401
