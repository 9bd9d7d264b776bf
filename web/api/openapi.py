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
                    "time": {"type": "string", "format": "date-time"},
                },
            },
            "ScanBatch": {
                "type": "object", "required": ["scans"], "additionalProperties": False,
                "properties": {
                    "scans": {
                        "type": "array", "minItems": 1, "maxItems": 500,
                        "items": {
                            "type": "object",
                            "required": ["event_id", "payload", "scanned_at"],
                            "properties": {
                                "event_id": {"type": "string", "minLength": 1, "maxLength": 80},
                                "payload": {"type": "string", "description": "The QR text as read."},
                                "scanned_at": {"type": "string", "format": "date-time"},
                            },
                        },
                    },
                },
            },
            "ScanResult": {
                "type": "object", "required": ["event_id", "status"],
                "properties": {
                    "event_id": {"type": "string"},
                    "status": {"type": "string", "enum": ["accepted", "duplicate", "rejected"]},
                    "reason": {"type": ["string", "null"]},
                    "employee": {
                        "type": ["object", "null"],
                        "properties": {"code": {"type": "string"}, "full_name": {"type": "string"}},
                    },
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
                    "422": _error("The batch does not match the schema."),
                    "501": _error("Not implemented yet."),
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
                ],
                "responses": {
                    "200": _json("The report.", {"$ref": "#/components/schemas/DailyReport"}),
                    "400": _error("The date is not YYYY-MM-DD."),
                    "401": _error("Not signed in."),
                    "403": _error("The caller's role has no reports."),
                    "404": _error("Unknown unit, or outside the caller's scope."),
                },
            },
        },
    },
}


def document() -> dict:
    return copy.deepcopy(DOCUMENT)
