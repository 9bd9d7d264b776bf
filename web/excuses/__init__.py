"""Excuses (đơn nghỉ phép, đi công tác, lý do khác): staff request, unit heads decide.

The rules of who may decide are ``attendance.excuses.may_decide``: an admin, or a unit head
whose units include the employee's; nobody decides their own request, so a unit head's own
request goes to the head of a unit above or to an admin.
"""

from flask import Blueprint

from web.nav import ALL_ROLES, NAV, NavItem

bp = Blueprint("excuses", __name__, url_prefix="/excuses", template_folder="templates")
NAV.append(NavItem("excuses.index", "Nghỉ phép, công tác", ALL_ROLES, order=40))

from web.excuses import routes  # noqa: E402,F401
