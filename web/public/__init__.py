"""The public page of a badge: what a citizen's phone opens when it scans the QR code.

With ``public_base_url`` set, a badge's QR code is ``<base>/b/<token>`` (see
``attendance.badges``). ``GET /b/<token>`` needs no sign-in: it checks the credential with
the server's keyring and shows only what the printed card shows, whether the badge is
currently valid, and a short form to give feedback on the officer's service
(``attendance.feedback``). Nothing here shows attendance data.
"""

from flask import Blueprint

bp = Blueprint("public", __name__, template_folder="templates", static_folder="static",
               static_url_path="/public/static")

from web.public import routes  # noqa: F401
