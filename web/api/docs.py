"""GET /api/v1/openapi.json."""

from __future__ import annotations

from flask import jsonify

from web.api import bp
from web.api.openapi import document


@bp.route("/openapi.json")
def openapi():
    return jsonify(document())
