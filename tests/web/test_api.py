"""The JSON API: errors as JSON, health, the OpenAPI document, station keys, the daily report."""

from __future__ import annotations

import pytest



from attendance.models import Station
from web.api.auth import station_from_request
from web.api.openapi import document
from web_helpers import csrf_token

DAY = "2026-11-23"


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json() == {"error": "not found"}
    assert client.get("/api/v2/health").get_json() == {"error": "not found"}


def test_wrong_method_is_json_405(client):
    response = client.delete("/api/v1/health")
    assert response.status_code == 405
    assert response.get_json() == {"error": "method not allowed"}
    assert "GET" in response.headers["Allow"]


def test_malformed_json_through_the_handler(app, province):
    from flask import jsonify, request

    from web.security import csrf

    @app.post("/api/v1/_echo")
    @csrf.exempt  # as the API blueprint is
    def echo():
        return jsonify(request.get_json())

    client = app.test_client()
    response = client.post("/api/v1/_echo", data=b'{"a": ', content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"error": "malformed JSON"}
    response = client.post("/api/v1/_echo", data=b"a=1", content_type="text/plain")
    assert response.status_code == 415
    assert set(response.get_json()) == {"error"}


def test_html_errors_are_vietnamese_pages(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Không tìm thấy trang" in response.get_data(as_text=True)


def test_health(client, clock):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    # The deployment's local time (Hà Nội), as the station endpoints' server_time gives it.
    assert body["time"] == "2026-11-23T10:00:00+07:00"


def test_health_reports_an_unreachable_database(app, tmp_path):
    from attendance.db import make_engine, make_session_factory

    broken = make_engine(f"sqlite:///{tmp_path}/missing-dir/none.sqlite3")
    app.extensions["attendance"]["session_factory"] = make_session_factory(broken)
    response = app.test_client().get("/api/v1/health")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_openapi_document_describes_every_api_route(app, client):
    served = client.get("/api/v1/openapi.json").get_json()
    assert served == document()
    assert served["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, ops in served["paths"].items()
                  for method in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = rule.rule.removeprefix("/api/v1")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routed.add((path, method))
    assert documented == routed


def test_openapi_references_resolve():
    doc = document()

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref:
                target = doc
                for part in ref.removeprefix("#/").split("/"):
                    target = target[part]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert op["responses"] and op["operationId"]


def test_station_key_authenticates_and_updates_last_seen(app, province, session_factory, clock):
    headers = {"Authorization": f"Bearer {province.station_key}"}
    with app.test_request_context("/api/v1/scans", method="POST", headers=headers):
        station = station_from_request()
        assert station is not None and station.code == "CONG-SNV"
        assert station.last_seen_at == clock.now
    for bad in ("Bearer wrong-key", "Basic abc", "Bearer ", f"bearer {province.station_key}x"):
        with app.test_request_context("/api/v1/scans", method="POST",
                                      headers={"Authorization": bad}):
            assert station_from_request() is None


def test_scans_endpoint_needs_a_station_key(client, province):
    assert client.post("/api/v1/scans", json={"scans": []}).status_code == 401
    response = client.post("/api/v1/scans", json={"scans": []},
                           headers={"Authorization": f"Bearer {province.station_key}"})
    assert response.status_code == 400  # an empty batch: 1 to 500 scans
    assert set(response.get_json()) == {"error"}


def test_deactivated_station_is_refused(client, province, session_factory):
    with session_factory() as session:
        session.get(Station, province["station"]).active = False
        session.commit()
    response = client.post("/api/v1/scans", json={"scans": []},
                           headers={"Authorization": f"Bearer {province.station_key}"})
    assert response.status_code == 401


def test_daily_report_api(login_as, clock):
    client = login_as("inspector")
    report = client.get(f"/api/v1/reports/daily?date={DAY}&unit=SNV").get_json()
    assert report["date"] == DAY
    codes = {u["unit"] for u in report["units"]}
    assert codes <= {"SNV", "SNV-P1"} and "SNV" in codes
    for unit in report["units"]:
        for key in ("expected", "present", "late", "early_leave", "missing_checkout",
                    "no_badge", "absent_from_post", "absent", "missed_session", "excused",
                    "badge_compliance", "punctuality"):
            assert key in unit
    # Nobody scanned that Monday. At 10:00 the day is not over: not arrived, not absent
    # (as the page says; RULES: an absence is a working day with no presence at all).
    snv = next(u for u in report["units"] if u["unit"] == "SNV")
    assert (snv["absent"], snv["not_arrived"]) == ([], ["E-SNV"])
    assert report["as_of"] == "2026-11-23T10:00:00+07:00"
    clock.now = clock.now.replace(hour=11)  # 18:00 in Hà Nội: the day is over
    report = client.get(f"/api/v1/reports/daily?date={DAY}&unit=SNV").get_json()
    snv = next(u for u in report["units"] if u["unit"] == "SNV")
    assert snv["absent"] == ["E-SNV"]
    # A day to come: nobody is absent, nor "not arrived", yet.
    report = client.get("/api/v1/reports/daily?date=2026-11-25&unit=SNV").get_json()
    assert all(not u["absent"] and not u["not_arrived"] for u in report["units"])
    assert report["totals"]["expected"] == 2
    csv_text = client.get("/reports/daily/export/csv?date=2026-11-25&unit=SNV").data
    assert "chưa bắt đầu ngày làm việc" in csv_text.decode("utf-8-sig")
    assert "chưa đến" not in csv_text.decode("utf-8-sig")


@pytest.mark.parametrize("url", [
    "/api/v1/reports/daily?date=23/11/2026",
    "/api/v1/reports/daily?date=0001-01-01",  # the ends of the calendar overflow a timezone
    "/api/v1/reports/daily?date=9999-12-31",
    "/api/v1/violations?from=0001-01-01&to=0001-01-05",
    "/api/v1/violations?from=9999-12-25&to=9999-12-31",
    "/violations?from=0001-01-01&to=0001-01-05",
    "/violations/export/csv?from=0001-01-01&to=0001-01-05",
])
def test_report_and_log_refuse_a_bad_date_with_400(login_as, url):
    client = login_as("inspector")
    response = client.get(url)
    assert response.status_code == 400
    if url.startswith("/api/v1/reports"):
        assert response.get_json() == {"error": "date must be YYYY-MM-DD, year 1900 to 9998"}


def test_daily_report_defaults_to_today_in_local_time(login_as, clock):
    clock.now = clock.now.replace(hour=18)  # 01:00 on the 24th in Hà Nội
    report = login_as("inspector").get("/api/v1/reports/daily").get_json()
    assert report["date"] == "2026-11-24"


def test_session_authenticated_unsafe_api_calls_need_the_csrf_header(app, login_as):
    from web.api.auth import api_roles_required
    from web.security import csrf

    @app.post("/api/v1/_touch")
    @csrf.exempt  # as the API blueprint is
    @api_roles_required()
    def touch():
        return {"ok": True}

    client = login_as("inspector")
    assert client.post("/api/v1/_touch").status_code == 403
    token = csrf_token(client, "/")
    assert client.post("/api/v1/_touch", headers={"X-CSRFToken": token}).status_code == 200


def test_nul_characters_are_refused_not_a_server_error(login_as):
    client = login_as("admin")
    response = client.get("/api/v1/reports/daily?unit=U%00K&date=2026-11-23")
    assert response.status_code == 400 and response.get_json() == {
        "error": "invalid characters in the request"}
    assert client.get("/employees?q=a%00b").status_code == 400
