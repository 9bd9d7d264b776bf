"""The JSON API under /api/v1, described by ``openapi.py`` (served at /api/v1/openapi.json).

One module per resource; each registers its views on ``bp``:
- ``health.py``   GET /health
- ``docs.py``     GET /openapi.json
- ``scans.py``    POST /scans — stations only
- ``station.py``  GET /station/sync, POST /station/heartbeat, GET /station/employees,
                  POST /station/no-badge — stations only
- ``reports.py``  GET /reports/daily
- ``violations.py`` GET /violations — the violation log, paginated

Authentication (``web.api.auth``): ``station_required`` for station bearer keys,
``api_roles_required(*roles)`` for signed-in users (session cookie). The blueprint is
exempt from the form CSRF check because stations cannot hold a CSRF token;
``api_roles_required`` therefore demands the X-CSRFToken header for any unsafe method.
Every new route must be added to ``openapi.py`` (a test checks both ways).
"""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from web.api import docs, health, reports, scans, station, violations  # noqa: E402,F401
from web.security import csrf  # noqa: E402

csrf.exempt(bp)
