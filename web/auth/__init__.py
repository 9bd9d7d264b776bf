"""Sign in, sign out, change password, switch language."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth", template_folder="templates")

from web.auth import routes  # noqa: E402,F401  (registers the views)
