"""The OpenAPI document validates, and schemathesis finds no server error behind it.

Schemathesis generates requests from /api/v1/openapi.json and sends them in-process to the
Flask app (WSGI) on a real test database: anonymous, signed in (admin, unit head, staff:
the session cookie of the web pages) and as a station (its bearer key). Every answer must
be below 500 and conform to the document: a documented status code, the documented content
type, a body matching the response schema.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate

from attendance import access
from factories import make_employee, make_station, make_unit, make_user

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
PASSWORD = "mat-khau-123"
EXAMPLES = 25


@pytest.fixture
def app(database_url, config, monkeypatch, tmp_path):
    from argon2 import PasswordHasher

    from attendance.badges import Keyring
    from attendance.db import make_engine, make_session_factory
    from web import create_app

    Keyring(tmp_path / "keys").init()  # a server with badge keys, so scans are checked

    monkeypatch.setattr(access, "password_hasher",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        root = make_unit(session, "PROV", "UBND tỉnh")
        snv = make_unit(session, "SNV", "Sở Nội vụ", parent=root)
        employee = make_employee(session, snv, "E-SNV", "Trần Thị Bình")
        make_employee(session, root, "E-PROV", "=cmd|' /C calc'!A0")
        make_user(session, "admin", "admin")
        make_user(session, "head", "unit_head", unit=snv)
        make_user(session, "staff", "staff", employee=employee)
        _, key = make_station(session, snv, "CONG-SNV")
        session.commit()
    engine.dispose()
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "DATABASE_URL": database_url, "DOMAIN_CONFIG": config,
                      "KEYS_DIR": str(tmp_path / "keys")})
    app.config["STATION_KEY"] = key
    yield app
    app.extensions["attendance"]["engine"].dispose()


def _session_cookie(app, username: str) -> dict:
    import re

    client = app.test_client()
    html = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)
    response = client.post("/auth/login", data={"username": username, "password": PASSWORD,
                                                "csrf_token": token})
    assert response.status_code == 302
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return {cookie.key: cookie.value}


def test_the_openapi_document_validates(app):
    with app.test_client() as client:
        document = client.get("/api/v1/openapi.json").get_json()
    validate(document)  # raises on an invalid OpenAPI 3.1 document
    assert document["paths"]["/violations"]["get"]["responses"]["200"]


def _run(app, operations, *, headers=None, cookies=None):
    failures = []
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call(headers=headers, cookies=cookies)
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except Exception as exc:  # one report naming every operation that failed
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


def _operations(app, *, station: bool):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    wanted = [op for op in operations
              if ("stationKey" in str(op.definition.raw.get("security", ""))) == station]
    assert wanted
    return wanted


@pytest.mark.parametrize("who", ["anonymous", "admin", "head", "staff"])
def test_user_endpoints_never_fail_and_conform(app, who):
    cookies = None if who == "anonymous" else _session_cookie(app, who)
    _run(app, _operations(app, station=False), cookies=cookies)


@pytest.mark.parametrize("keyed", [True, False])
def test_station_endpoints_never_fail_and_conform(app, keyed):
    headers = {"Authorization": f"Bearer {app.config['STATION_KEY']}"} if keyed else None
    _run(app, _operations(app, station=True), headers=headers)
