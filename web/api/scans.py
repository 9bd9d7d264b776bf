"""POST /api/v1/scans: batches of badge scans from stations (see docs/station-api.md).

The view reads the body, hands the items to ``attendance.scans.record_scans`` and commits
before answering, so an accepted scan is on disk when the station hears "accepted".

Validation: a body that is not a JSON object with 1 to 500 ``scans`` (or a ``sent_at`` that
is not an ISO 8601 instant with an offset) is a 400 and nothing is stored. Within a valid
body, an item that cannot be read (no ``event_id``, a bad time, wrong types) is answered
``rejected`` with reason ``malformed`` in its place and not stored; the others are recorded.
A station's outbox can thus never be blocked by one bad item.
"""

from __future__ import annotations

from flask import current_app, g, jsonify, request

from attendance import badges
from attendance import scans as service
from web.api import bp
from web.api.auth import station_required
from web.db import domain_config, get_db, now
from web.errors import ApiError


def keyring() -> badges.Keyring:
    """The server's badge keyring (``KEYS_DIR`` in the app config, else the default place)."""
    extensions = current_app.extensions["attendance"]
    if "keyring" not in extensions:
        extensions["keyring"] = badges.Keyring(current_app.config.get("KEYS_DIR"))
    return extensions["keyring"]


def json_object() -> dict:
    body = request.get_json(silent=False)
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


@bp.route("/scans", methods=["POST"])
@station_required
def post_scans():
    body = json_object()
    scans = body.get("scans")
    if not isinstance(scans, list) or not 1 <= len(scans) <= service.MAX_BATCH:
        raise ApiError(400, f"scans: a list of 1 to {service.MAX_BATCH} scans")
    sent_at = None
    if body.get("sent_at") is not None:
        sent_at = service.parse_instant(body["sent_at"])
        if sent_at is None:
            raise ApiError(400, "sent_at: ISO 8601 with an offset")
    received_at = now()
    items: list[service.ScanItem | service.ScanResult] = []
    for raw in scans:
        try:
            items.append(service.item_from_json(raw, sent_at=sent_at))
        except service.MalformedItem:
            items.append(service.malformed(raw.get("event_id") if isinstance(raw, dict) else None))
    db = get_db()
    try:
        results = service.record_scans(db, g.station, items, keyring=keyring(),
                                       config=domain_config(), now=received_at)
    except badges.KeyringError:
        current_app.logger.exception("no badge keys: scans cannot be checked")
        raise ApiError(503, "the server has no badge keys yet; retry later") from None
    db.commit()  # the answer promises the scans are on disk
    return jsonify(results=[result.as_json() for result in results])
