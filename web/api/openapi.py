"""The OpenAPI 3.1 document of /api/v1, kept as a Python dict next to the views.

Add every new route here (``tests/web/test_api.py`` checks that the document and the URL
map name the same paths and methods).
"""

from __future__ import annotations

import copy

import attendance

ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


DOCUMENT: dict = {
    "openapi": "3.1.0",
    "info": {
        "title": "Chấm công và kiểm tra đeo thẻ — API",
        "version": attendance.__version__,
        "description": (
            "Attendance and badge checks. Stations authenticate with "
            "`Authorization: Bearer <station key>`; people with the session cookie of the "
            "web pages (unsafe methods also need the `X-CSRFToken` header). Errors are "
            "`{\"error\": \"…\"}`."
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "components": {
        "securitySchemes": {
            "stationKey": {"type": "http", "scheme": "bearer",
                           "description": "The key printed once when the station was registered."},
            "session": {"type": "apiKey", "in": "cookie", "name": "attendance_session"},
        },
        "schemas": {
            "Error": {
                "type": "object", "required": ["error"],
                "properties": {"error": {"type": "string"}},
            },
            "Health": {
                "type": "object", "required": ["status", "database"],
                "properties": {
                    "status": {"type": "string", "enum": ["ok", "degraded"]},
                    "database": {"type": "string", "enum": ["ok", "unreachable"]},
                    "time": {"type": "string", "format": "date-time",
                             "description": "The server's clock in the deployment's "
                                            "timezone, with its offset "
                                            "(2026-11-23T10:00:00+07:00)."},
                },
            },
            "ScanBatch": {
                "type": "object", "required": ["scans"],
                "description": "Unknown fields are ignored. An item that cannot be read is "
                               "answered `rejected` / `malformed` and not stored.",
                "properties": {
                    "sent_at": {"type": "string", "format": "date-time",
                                "description": "When the station sent the batch, by its clock."},
                    "scans": {
                        "type": "array", "minItems": 1, "maxItems": 500,
                        "items": {
                            "type": "object",
                            "required": ["event_id", "payload", "scanned_at"],
                            "properties": {
                                "event_id": {"type": "string", "minLength": 1, "maxLength": 80,
                                             "description": "Unique per station; printable ASCII."},
                                "payload": {"type": "string", "description": "The QR text as read."},
                                "scanned_at": {"type": "string", "format": "date-time",
                                               "description": "Station clock, with an offset."},
                                "queued_seconds": {
                                    "type": "number", "minimum": 0,
                                    "description": "How long the scan waited in the station's "
                                                   "outbox; 30 or more makes it a late upload."},
                                "evidence_jpeg": {
                                    "type": ["string", "null"], "contentEncoding": "base64",
                                    "description": "A JPEG of the frame, at most 200 KB."},
                                "no_face": {"type": ["boolean", "null"],
                                            "description": "No face was visible in the frame."},
                            },
                        },
                    },
                },
            },
            "ScanResult": {
                "type": "object", "required": ["event_id", "status"],
                "properties": {
                    "event_id": {"type": ["string", "null"]},
                    "status": {"type": "string", "enum": ["accepted", "duplicate", "rejected"]},
                    "reason": {"type": "string", "enum": [
                        "unknown_format", "bad_signature", "retired_key", "revoked",
                        "unknown_employee", "malformed"]},
                    "employee": {
                        "type": "object",
                        "properties": {"code": {"type": "string"}, "full_name": {"type": "string"}},
                    },
                    "original_status": {"type": "string", "enum": ["accepted", "rejected"],
                                        "description": "For a duplicate: the stored outcome."},
                    "flags": {"type": "array", "items": {"type": "string", "enum": [
                        "clock_skew", "late_upload", "no_face", "evidence_invalid"]}},
                },
            },
            "Employee": {
                "type": "object", "required": ["code", "full_name", "unit"],
                "properties": {"code": {"type": "string"}, "full_name": {"type": "string"},
                               "unit": {"type": "string", "description": "The unit's code."},
                               "unit_name": {"type": "string"}},
            },
            "TrustBundle": {
                "type": "object",
                "required": ["server_time", "station", "public_keys", "retired_key_ids",
                             "revoked_serials", "employees"],
                "properties": {
                    "server_time": {"type": "string", "format": "date-time"},
                    "station": {"type": "object", "properties": {
                        "code": {"type": "string"}, "name": {"type": ["string", "null"]},
                        "unit": {"type": "string"}}},
                    "public_keys": {"type": "object", "additionalProperties": {"type": "string"},
                                    "description": "Key id → base64 of the raw Ed25519 key."},
                    "retired_key_ids": {"type": "array", "items": {"type": "string"}},
                    "revoked_serials": {"type": "array", "items": {"type": "string"}},
                    "employees": {"type": "object", "additionalProperties": {"type": "string"},
                                  "description": "Code → full name of every active employee."},
                },
            },
            "EmployeeRef": {"type": "string", "description": "An employee code."},
            "Timed": {
                "type": "object", "required": ["employee"],
                "properties": {
                    "employee": {"type": "string"},
                    "check_in": {"type": "string", "format": "date-time"},
                    "check_out": {"type": "string", "format": "date-time"},
                    "minutes": {"type": "integer"},
                    "session": {"type": "integer"},
                },
            },
            "UnitDay": {
                "type": "object",
                "required": ["unit", "name", "expected", "present", "late", "early_leave",
                             "missing_checkout", "no_badge", "absent_from_post", "absent",
                             "missed_session", "excused", "badge_compliance", "punctuality"],
                "properties": {
                    "unit": {"type": "string"},
                    "name": {"type": "string"},
                    "expected": {"type": "integer"},
                    "present": {"type": "integer"},
                    "late": {"type": "array", "items": {"$ref": "#/components/schemas/Timed"}},
                    "early_leave": {"type": "array", "items": {"$ref": "#/components/schemas/Timed"}},
                    "missing_checkout": {"type": "array", "items": {
                        "oneOf": [{"type": "string"}, {"$ref": "#/components/schemas/Timed"}]}},
                    "no_badge": {"type": "array", "items": {
                        "type": "object", "required": ["employee", "source"],
                        "properties": {"employee": {"type": "string"},
                                       "source": {"type": "string", "enum": ["guard", "spot_check"]}},
                    }},
                    "absent_from_post": {"type": "array", "items": {"type": "object"}},
                    "absent": {"type": "array", "items": {"type": "string"}},
                    "missed_session": {"type": "array", "items": {
                        "oneOf": [{"type": "string"}, {"$ref": "#/components/schemas/Timed"}]}},
                    "excused": {"type": "array", "items": {"type": "string"}},
                    "badge_compliance": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                    "punctuality": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                },
            },
            "Violation": {
                "type": "object",
                "required": ["date", "employee", "full_name", "unit", "unit_name", "type",
                             "type_label", "session", "minutes", "at", "source", "status",
                             "excuse", "excuses"],
                "properties": {
                    "date": {"type": "string", "format": "date"},
                    "employee": {"type": "string", "description": "The employee's code."},
                    "full_name": {"type": "string"},
                    "unit": {"type": "string", "description": "The unit's code."},
                    "unit_name": {"type": "string"},
                    "type": {"type": "string", "enum": [
                        "late", "early_leave", "missing_checkout", "no_badge",
                        "absent_from_post", "absent", "missed_session"]},
                    "type_label": {"type": "string", "description": (
                        "In Vietnamese; an excused absence is \"vắng có lý do\".")},
                    "session": {"type": ["integer", "null"], "minimum": 0,
                                "description": "0 = morning, 1 = afternoon (session mode)."},
                    "minutes": {"type": ["integer", "null"], "minimum": 0},
                    "at": {"type": ["string", "null"], "format": "date-time"},
                    "source": {"type": "string", "enum": ["scan", "guard", "spot_check"]},
                    "status": {"type": "string", "enum": ["open", "excused"]},
                    "excuse": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Excuse"}],
                               "description": "The first of excuses."},
                    "excuses": {"type": "array", "items": {"$ref": "#/components/schemas/Excuse"},
                                "description": "The approved excuses that cover the finding: "
                                               "one, or a morning's and an afternoon's for an "
                                               "absence on a day they make whole."},
                },
            },
            "Excuse": {"type": "object", "properties": {
                "id": {"type": ["integer", "null"]},
                "kind": {"type": "string"}, "part": {"type": "string"},
                "approved_by": {"type": ["string", "null"]},
                "reason": {"type": ["string", "null"]}}},
            "ViolationPage": {
                "type": "object",
                "required": ["from", "to", "filters", "page", "per_page", "total",
                             "total_exact", "pages", "items"],
                "properties": {
                    "from": {"type": "string", "format": "date"},
                    "to": {"type": "string", "format": "date"},
                    "filters": {"type": "object", "properties": {
                        "unit": {"type": ["string", "null"]},
                        "type": {"type": ["array", "null"], "items": {"type": "string"}},
                        "employee": {"type": ["string", "null"]},
                        "status": {"type": ["string", "null"], "enum": ["open", "excused", None]},
                    }},
                    "page": {"type": "integer", "minimum": 1},
                    "per_page": {"type": "integer", "minimum": 1, "maximum": 200},
                    "total": {"type": "integer", "minimum": 0,
                              "description": "Rows matching; when total_exact is false, "
                                             "counting stopped here and there are more."},
                    "total_exact": {"type": "boolean"},
                    "pages": {"type": "integer", "minimum": 1,
                              "description": "When total_exact is false: one page past "
                                             "the count."},
                    "items": {"type": "array",
                              "items": {"$ref": "#/components/schemas/Violation"}},
                },
            },
            "DailyReport": {
                "type": "object", "required": ["date", "units"],
                "properties": {
                    "date": {"type": "string", "format": "date"},
                    "units": {"type": "array", "items": {"$ref": "#/components/schemas/UnitDay"}},
                    "totals": {"type": "object"},
                },
            },
        },
    },
    "paths": {
        "/health": {
            "get": {
                "operationId": "health",
                "summary": "Liveness and database reachability",
                "security": [],
                "responses": {
                    "200": _json("The service and its database are up.",
                                 {"$ref": "#/components/schemas/Health"}),
                    "503": _json("The database is unreachable.",
                                 {"$ref": "#/components/schemas/Health"}),
                },
            },
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": [],
                "responses": {"200": _json("The OpenAPI document.", {"type": "object"})},
            },
        },
        "/scans": {
            "post": {
                "operationId": "postScans",
                "summary": "Upload a batch of badge scans (stations only)",
                "security": [{"stationKey": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ScanBatch"}}},
                },
                "responses": {
                    "200": _json("One result per scan, in order.", {
                        "type": "object", "required": ["results"],
                        "properties": {"results": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/ScanResult"}}},
                    }),
                    "400": _error("Malformed JSON or an invalid batch."),
                    "401": _error("No valid station key."),
                    "413": _error("The request is too large."),
                    "415": _error("The body is not JSON."),
                    "503": _error("The server has no badge keys yet; retry later."),
                },
            },
        },
        "/station/sync": {
            "get": {
                "operationId": "stationSync",
                "summary": "What a station needs to check badges offline (stations only)",
                "security": [{"stationKey": []}],
                "parameters": [{"name": "If-None-Match", "in": "header", "required": False,
                                "schema": {"type": "string"},
                                "description": "The ETag of the bundle the station holds."}],
                "responses": {
                    "200": _json("The bundle; the ETag header names it.",
                                 {"$ref": "#/components/schemas/TrustBundle"}),
                    "304": {"description": "Unchanged since the ETag given."},
                    "401": _error("No valid station key."),
                    "503": _error("The server has no badge keys yet."),
                },
            },
        },
        "/station/heartbeat": {
            "post": {
                "operationId": "stationHeartbeat",
                "summary": "The station is alive (updates its last seen time)",
                "security": [{"stationKey": []}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "properties": {
                        "queue": {"type": "integer", "minimum": 0,
                                  "description": "Scans waiting in the outbox."},
                        "version": {"type": "string", "maxLength": 80}}}}}},
                "responses": {
                    "200": _json("The server's time.", {
                        "type": "object", "required": ["server_time"],
                        "properties": {"server_time": {"type": "string", "format": "date-time"}}}),
                    "400": _error("Malformed body."),
                    "401": _error("No valid station key."),
                },
            },
        },
        "/station/employees": {
            "get": {
                "operationId": "stationEmployees",
                "summary": "Search active employees by name (tones optional), code or card number",
                "security": [{"stationKey": []}],
                "parameters": [{"name": "q", "in": "query", "required": True,
                                "schema": {"type": "string", "minLength": 1, "maxLength": 80}}],
                "responses": {
                    "200": _json("Up to 20 matches, best first.", {
                        "type": "array", "maxItems": 20,
                        "items": {"$ref": "#/components/schemas/Employee"}}),
                    "400": _error("No query."),
                    "401": _error("No valid station key."),
                },
            },
        },
        "/station/no-badge": {
            "post": {
                "operationId": "stationNoBadge",
                "summary": "A guard records an employee who came in without a badge",
                "security": [{"stationKey": []}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["event_id", "employee", "recorded_at"],
                    "properties": {
                        "event_id": {"type": "string", "minLength": 1, "maxLength": 80},
                        "employee": {"type": "string", "description": "Code or card number."},
                        "recorded_at": {"type": "string", "format": "date-time"},
                        "queued_seconds": {"type": "number", "minimum": 0}}}}}},
                "responses": {
                    "200": _json("Recorded (or already recorded with this event id).", {
                        "type": "object", "required": ["event_id", "status", "employee",
                                                       "recorded_at"],
                        "properties": {
                            "event_id": {"type": "string"},
                            "status": {"type": "string", "enum": ["accepted", "duplicate"]},
                            "employee": {"type": "object", "properties": {
                                "code": {"type": "string"}, "full_name": {"type": "string"}}},
                            "recorded_at": {"type": "string", "format": "date-time"}}}),
                    "400": _error("Malformed body."),
                    "401": _error("No valid station key."),
                    "404": _error("No active employee with this code."),
                    "409": _error("The event id was used for another employee."),
                },
            },
        },
        "/reports/daily": {
            "get": {
                "operationId": "dailyReport",
                "summary": "The daily report of RULES.md, scoped to the caller's units",
                "security": [{"session": []}],
                "parameters": [
                    {"name": "date", "in": "query", "required": False,
                     "description": "YYYY-MM-DD; default: today in the deployment's timezone.",
                     "schema": {"type": "string", "format": "date"}},
                    {"name": "unit", "in": "query", "required": False,
                     "description": "A unit code; the report covers it and its sub-units.",
                     "schema": {"type": "string"}},
                    {"name": "as_of", "in": "query", "required": False,
                     "description": "`now`, the only value, and the default: a day not yet "
                                    "over is reported as it stands now (no absence or "
                                    "missing check-out before their time; `not_arrived` "
                                    "lists who has no check-in yet).",
                     "schema": {"type": "string", "enum": ["now"]}},
                ],
                "responses": {
                    "200": _json("The report.", {"$ref": "#/components/schemas/DailyReport"}),
                    "400": _error("The date is not YYYY-MM-DD, or as_of is not `now`."),
                    "401": _error("Not signed in."),
                    "403": _error("The caller's role has no reports."),
                    "404": _error("Unknown unit, or outside the caller's scope."),
                },
            },
        },
        "/violations": {
            "get": {
                "operationId": "violations",
                "summary": "The violation log (every finding, open or excused), paginated and "
                           "scoped: a unit head sees their units, a staff member their own record",
                "security": [{"session": []}],
                "parameters": [
                    {"name": "from", "in": "query", "required": False,
                     "description": "YYYY-MM-DD; default: the first day of the month of `to`.",
                     "schema": {"type": "string", "format": "date"}},
                    {"name": "to", "in": "query", "required": False,
                     "description": "YYYY-MM-DD; default: yesterday. At most 366 days from "
                                    "`from`.",
                     "schema": {"type": "string", "format": "date"}},
                    {"name": "unit", "in": "query", "required": False,
                     "description": "A unit code; the log covers it and its sub-units.",
                     "schema": {"type": "string"}},
                    {"name": "type", "in": "query", "required": False,
                     "description": "Finding kinds (or their Vietnamese labels), "
                                    "comma-separated or repeated.",
                     "style": "form", "explode": True,
                     "schema": {"type": "array", "items": {"type": "string"}}},
                    {"name": "employee", "in": "query", "required": False,
                     "description": "An employee code.", "schema": {"type": "string"}},
                    {"name": "status", "in": "query", "required": False,
                     "schema": {"type": "string", "enum": ["open", "excused"]}},
                    {"name": "page", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000_000,
                                "default": 1}},
                    {"name": "per_page", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 200,
                                "default": 50}},
                ],
                "responses": {
                    "200": _json("A page of the log.",
                                 {"$ref": "#/components/schemas/ViolationPage"}),
                    "400": _error("A filter or the paging cannot be read."),
                    "401": _error("Not signed in."),
                    "404": _error("Unknown unit, or outside the caller's scope."),
                },
            },
        },
    },
}


def document() -> dict:
    return copy.deepcopy(DOCUMENT)
