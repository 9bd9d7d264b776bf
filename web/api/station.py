"""What a station asks the server besides uploading scans (see docs/station-api.md).

- ``GET  /station/sync``       the trust bundle for offline checks, with an ETag;
- ``POST /station/heartbeat``  "I am alive, with this many scans queued";
- ``GET  /station/employees``  the guard's search by name, code or card number;
- ``POST /station/no-badge``   the guard's record of someone who came in without a badge.

All need ``Authorization: Bearer <station key>``; each call counts for ``last_seen_at`` (see
``web.api.auth``), also when it answers with an error.
"""

from __future__ import annotations

import hashlib
import json

from flask import current_app, g, jsonify, make_response, request
from sqlalchemy import select

from attendance import badges
from attendance import scans as service
from attendance.access import subtree_unit_ids
from attendance.models import Employee, Unit
from web.api import bp
from web.api.auth import station_required
from web.api.scans import json_object, keyring
from web.db import domain_config, get_db, now
from web.errors import ApiError

MAX_QUERY = 80


def _today():
    return now().astimezone(domain_config().tz).date()


def _iso(instant) -> str:
    return instant.astimezone(domain_config().tz).isoformat(timespec="seconds")


@bp.route("/station/sync")
@station_required
def station_sync():
    db = get_db()
    station = g.station
    try:
        trust = badges.trust_bundle(db, keyring())
    except badges.KeyringError:
        current_app.logger.exception("no badge keys: nothing to sync")
        raise ApiError(503, "the server has no badge keys yet; retry later") from None
    today = _today()
    employees = {e.code: e.full_name
                 for e in db.scalars(select(Employee).order_by(Employee.code))
                 if e.is_active_on(today)}
    bundle = {
        "station": {"code": station.code, "name": station.name,
                    "unit": db.get(Unit, station.unit_id).code},
        **trust,
        "employees": employees,
    }
    # server_time changes on every call; the tag covers everything else.
    canonical = json.dumps(bundle, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    etag = hashlib.sha256(canonical.encode()).hexdigest()[:32]
    if etag in request.if_none_match:
        response = make_response("", 304)
    else:
        response = jsonify({"server_time": _iso(now()), **bundle})
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/station/heartbeat", methods=["POST"])
@station_required
def station_heartbeat():
    body = json_object()
    queue = body.get("queue")
    if queue is not None and (isinstance(queue, bool) or not isinstance(queue, int) or queue < 0):
        raise ApiError(400, "queue: an integer ≥ 0")
    version = body.get("version")
    if version is not None and (not isinstance(version, str) or len(version) > 80):
        raise ApiError(400, "version: a string of at most 80 characters")
    current_app.logger.info("heartbeat from station %s: queue %s, version %s",
                            g.station.code, queue, version)
    return jsonify(server_time=_iso(now()))


@bp.route("/station/employees")
@station_required
def station_employees():
    query = request.args.get("q", "").strip()
    if not query or len(query) > MAX_QUERY:
        raise ApiError(400, f"q: 1 to {MAX_QUERY} characters (a name, code or card number)")
    db = get_db()
    found = service.search_employees(db, query, on=_today(),
                                     prefer_unit_ids=subtree_unit_ids(db, g.station.unit_id))
    return jsonify([{"code": e.code, "full_name": e.full_name, "unit": e.unit.code,
                     "unit_name": e.unit.name} for e in found])


@bp.route("/station/no-badge", methods=["POST"])
@station_required
def station_no_badge():
    body = json_object()
    event_id = body.get("event_id")
    code = body.get("employee")
    recorded_at = service.parse_instant(body.get("recorded_at"))
    queued = body.get("queued_seconds")
    if not isinstance(event_id, str) or not service.valid_event_id(event_id):
        raise ApiError(400, "event_id: 1 to 80 printable ASCII characters")
    if not isinstance(code, str) or not code.strip():
        raise ApiError(400, "employee: an employee code")
    if recorded_at is None:
        raise ApiError(400, "recorded_at: ISO 8601 with an offset")
    if queued is not None and (isinstance(queued, bool) or not isinstance(queued, (int, float))
                               or not 0 <= queued <= service.MAX_QUEUED_SECONDS):
        raise ApiError(400, "queued_seconds: a number ≥ 0")
    db = get_db()
    employee = badges.find_employee(db, code.strip())
    if employee is None or not employee.is_active_on(_today()):
        raise ApiError(404, "unknown employee")
    received = now()
    instant, flags = service.resolve_time(recorded_at, received, queued,
                                          domain_config().clock_skew_seconds)
    note = None
    if service.CLOCK_SKEW in flags:
        note = (f"Giờ điểm quét lệch {int((recorded_at - instant).total_seconds())} giây"
                " so với máy chủ; dùng giờ máy chủ.")
    station = g.station
    try:
        record, created = service.record_no_badge(
            db, employee, recorded_at=instant, event_id=event_id, place=station.code,
            recorded_by=f"station:{station.code}", note=note)
    except service.MalformedRecord as exc:
        raise ApiError(409, str(exc)) from None
    db.commit()
    return jsonify(event_id=event_id, status="accepted" if created else "duplicate",
                   employee={"code": employee.code, "full_name": employee.full_name},
                   recorded_at=_iso(record.recorded_at))
