"""GET /api/v1/health: liveness and database reachability (no authentication).

``time`` is the server's clock in the deployment's timezone, ISO 8601 with its offset, as
``server_time`` of the station endpoints.
"""

from __future__ import annotations

from flask import current_app, jsonify
from sqlalchemy import text

from web.api import bp
from web.db import domain_config, get_db, now


@bp.route("/health")
def health():
    try:
        get_db().execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # noqa: BLE001 - any failure means "unreachable"; details go to the log
        current_app.logger.exception("health: database unreachable")
        database = "unreachable"
    ok = database == "ok"
    body = {"status": "ok" if ok else "degraded", "database": database,
            "time": now().astimezone(domain_config().tz).isoformat(timespec="seconds")}
    return jsonify(body), 200 if ok else 503
