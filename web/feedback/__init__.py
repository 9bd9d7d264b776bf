"""Citizens' feedback on officers' service, for those who act on it.

Unit heads read the feedback on their units (and sub-units); inspectors and admins read
all of it. Citizens give it on a badge's public page (``web.public``); the domain is
``attendance.feedback``.
"""

from flask import Blueprint

from web.nav import NAV, NavItem

READ_ROLES = frozenset({"admin", "inspector", "unit_head"})

bp = Blueprint("feedback", __name__, url_prefix="/feedback", template_folder="templates")
NAV.append(NavItem("feedback.index", "Góp ý của người dân", READ_ROLES, order=50))

from web.feedback import routes  # noqa: F401
