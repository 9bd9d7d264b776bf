"""The authorization matrix: every role refused everything outside its scope, pages and API.

Each row is a request and the status every role gets. The head of SNV sees SNV and its
sub-unit SNV-P1, never STC; the staff member sees only their own record (e_snv). Records
outside a user's scope answer 404, exactly like records that do not exist.

When you add a route, add its rows here: ``test_every_route_is_in_the_matrix`` fails until
you do.
"""

from __future__ import annotations

import pytest

from web_helpers import csrf_token, login

ROLES = ("anonymous", "admin", "inspector", "head_snv", "staff_snv")
DAY = "2026-11-23"
LOGIN = 302  # pages send the signed-out to the sign-in page


def row(method, path, anonymous, admin, inspector, head, staff):
    return (method, path, dict(zip(ROLES, (anonymous, admin, inspector, head, staff))))


MATRIX = [
    # method, path,                                     anon   admin insp  head  staff
    row("GET", "/",                                     LOGIN, 200,  200,  200,  200),
    row("GET", "/auth/password",                        LOGIN, 200,  200,  200,  200),
    row("GET", "/units",                                LOGIN, 200,  200,  200,  403),
    row("GET", "/employees",                            LOGIN, 200,  200,  200,  403),
    row("GET", "/employees?unit=SNV",                   LOGIN, 200,  200,  200,  403),
    row("GET", "/employees?unit=STC",                   LOGIN, 200,  200,  404,  403),
    row("GET", "/employees?unit=PROV",                  LOGIN, 200,  200,  404,  403),
    row("GET", "/units/search?q=so",                    LOGIN, 200,  200,  200,  403),
    row("GET", "/employees/{e_snv}",                    LOGIN, 200,  200,  200,  200),
    row("GET", "/employees/{e_p1}",                     LOGIN, 200,  200,  200,  404),
    row("GET", "/employees/{e_stc}",                    LOGIN, 200,  200,  404,  404),
    row("GET", "/employees/999999",                     LOGIN, 404,  404,  404,  404),
    row("GET", f"/reports/daily?date={DAY}",            LOGIN, 200,  200,  200,  403),
    row("GET", f"/reports/daily?date={DAY}&unit=SNV-P1", LOGIN, 200, 200,  200,  403),
    row("GET", f"/reports/daily?date={DAY}&unit=STC",   LOGIN, 200,  200,  404,  403),
    row("GET", f"/reports/daily?date={DAY}&unit=PROV",  LOGIN, 200,  200,  404,  403),
    row("GET", "/admin/users",                          LOGIN, 200,  403,  403,  403),
    row("GET", "/admin/users/new",                      LOGIN, 200,  403,  403,  403),
    row("POST", "/admin/users/new",                     LOGIN, 400,  403,  403,  403),
    row("GET", "/admin/stations",                       LOGIN, 200,  403,  403,  403),
    row("GET", "/admin/stations/new",                   LOGIN, 200,  403,  403,  403),
    row("POST", "/admin/stations/new",                  LOGIN, 400,  403,  403,  403),
    row("GET", "/admin/audit",                          LOGIN, 200,  403,  403,  403),
    row("GET", "/admin/users/999999/edit",              LOGIN, 404,  403,  403,  403),
    row("POST", "/admin/users/999999/edit",             LOGIN, 404,  403,  403,  403),
    row("POST", "/admin/users/999999/active",           LOGIN, 404,  403,  403,  403),
    row("GET", "/admin/import",                         LOGIN, 200,  403,  403,  403),
    row("POST", "/admin/import",                        LOGIN, 400,  403,  403,  403),
    row("POST", "/admin/import/confirm",                LOGIN, 400,  403,  403,  403),
    row("GET", "/admin/calendar?year=2026",             LOGIN, 200,  403,  403,  403),
    row("GET", "/admin/calendar?year=2026&schedule=nope", LOGIN, 404, 403, 403,  403),
    row("GET", "/admin/deliveries/",                    LOGIN, 200,  403,  403,  403),
    row("GET", "/admin/deliveries/?status=failed",      LOGIN, 200,  403,  403,  403),
    row("POST", "/admin/deliveries/999999/retry",       LOGIN, 404,  403,  403,  403),
    # spot checks (admins and inspectors; every unit)
    row("GET", "/spotcheck",                            LOGIN, 200,  200,  403,  403),
    row("GET", "/spotcheck/units/SNV",                  LOGIN, 200,  200,  403,  403),
    row("GET", "/spotcheck/units/NOPE",                 LOGIN, 404,  404,  403,  403),
    row("POST", "/spotcheck/units/SNV",                 LOGIN, 400,  400,  403,  403),
    row("POST", "/spotcheck/units/SNV/badge",           LOGIN, 400,  400,  403,  403),
    row("GET", "/spotcheck/999999",                     LOGIN, 404,  404,  403,  403),
    row("POST", "/spotcheck/findings/999999/correct",   LOGIN, 404,  404,  403,  403),
    # excuses (own requests for everyone with an employee record; heads and admins decide)
    row("GET", "/excuses",                              LOGIN, 200,  200,  200,  200),
    row("GET", "/excuses?status=approved",              LOGIN, 200,  200,  200,  200),
    row("GET", "/excuses/new",                          LOGIN, 302,  302,  302,  200),
    row("POST", "/excuses/new",                         LOGIN, 302,  302,  302,  400),
    row("GET", "/excuses/999999",                       LOGIN, 404,  404,  404,  404),
    row("POST", "/excuses/999999/decide",               LOGIN, 404,  403,  404,  403),
    row("POST", "/excuses/999999/withdraw",             LOGIN, 404,  404,  404,  404),
    row("POST", "/excuses/999999/revoke",               LOGIN, 404,  403,  404,  403),
    # the employee page's badges and photo (admins act; whoever sees the employee sees the photo)
    row("GET", "/employees/{e_snv}/photo",              LOGIN, 404,  404,  404,  404),
    row("GET", "/employees/{e_stc}/photo",              LOGIN, 404,  404,  404,  404),
    row("POST", "/employees/{e_snv}/photo",             LOGIN, 303,  403,  403,  403),
    row("POST", "/employees/{e_snv}/badges/revoke",     LOGIN, 303,  403,  403,  403),
    row("POST", "/employees/999999/badges/issue",       LOGIN, 404,  403,  403,  403),
    row("GET", "/employees/{e_snv}/badges/card.pdf",    LOGIN, 404,  403,  403,  403),
    # today (dashboard), report exports and issued versions, monthly report, violation log
    row("GET", "/today",                                LOGIN, 200,  200,  200,  403),
    row("GET", "/today/live.json",                      LOGIN, 200,  200,  200,  403),
    row("GET", f"/reports/daily/export/xlsx?date={DAY}", LOGIN, 200, 200,  200,  403),
    row("GET", f"/reports/daily/export/csv?date={DAY}&unit=SNV-P1", LOGIN, 200, 200, 200, 403),
    row("GET", f"/reports/daily/export/pdf?date={DAY}&unit=STC", LOGIN, 200, 200, 404, 403),
    row("GET", f"/reports/daily/export/doc?date={DAY}", LOGIN, 404,  404,  404,  403),
    row("GET", "/reports/issued/999999",                LOGIN, 404,  404,  404,  403),
    row("GET", "/reports/monthly?month=2026-11",        LOGIN, 200,  200,  200,  403),
    row("GET", "/reports/monthly?month=2026-11&unit=STC", LOGIN, 200, 200, 404,  403),
    row("GET", "/reports/monthly/export/xlsx?month=2026-11&unit=SNV", LOGIN, 200, 200, 200, 403),
    row("GET", "/reports/monthly/export/pdf?month=2026-11&unit=STC", LOGIN, 200, 200, 404, 403),
    row("GET", "/violations",                           LOGIN, 200,  200,  200,  403),
    row("GET", "/violations?unit=SNV-P1&from=2026-11-01&to=2026-11-23", LOGIN, 200, 200, 200, 403),
    row("GET", "/violations?unit=STC",                  LOGIN, 200,  200,  404,  403),
    row("GET", "/violations?status=maybe",              LOGIN, 400,  400,  400,  403),
    row("GET", "/violations/export/xlsx?unit=SNV",      LOGIN, 200,  200,  200,  403),
    row("GET", "/violations/export/csv?unit=STC",       LOGIN, 200,  200,  404,  403),
    row("GET", "/violations/offenders?month=2026-11",   LOGIN, 200,  200,  200,  403),
    row("GET", "/violations/offenders/export/xlsx?month=2026-11&unit=STC", LOGIN, 200, 200, 404,
        403),
    row("GET", "/api/v1/violations?from=2026-11-01&to=2026-11-23", 401, 200, 200, 200, 200),
    row("GET", "/api/v1/violations?unit=SNV-P1",        401,   200,  200,  200,  404),
    row("GET", "/api/v1/violations?unit=STC",           401,   200,  200,  404,  404),
    row("GET", "/api/v1/violations?unit=NOPE",          401,   404,  404,  404,  404),
    row("GET", "/api/v1/violations?status=maybe",       401,   400,  400,  400,  400),
    row("GET", "/api/v1/health",                        200,   200,  200,  200,  200),
    row("GET", "/api/v1/openapi.json",                  200,   200,  200,  200,  200),
    row("GET", f"/api/v1/reports/daily?date={DAY}",     401,   200,  200,  200,  403),
    row("GET", f"/api/v1/reports/daily?date={DAY}&unit=SNV", 401, 200, 200, 200, 403),
    row("GET", f"/api/v1/reports/daily?date={DAY}&unit=SNV-P1", 401, 200, 200, 200, 403),
    row("GET", f"/api/v1/reports/daily?date={DAY}&unit=STC", 401, 200, 200, 404, 403),
    row("GET", f"/api/v1/reports/daily?date={DAY}&unit=NOPE", 401, 404, 404, 404, 403),
    row("POST", "/api/v1/scans",                        401,   401,  401,  401,  401),
    row("GET", "/api/v1/station/sync",                  401,   401,  401,  401,  401),
    row("POST", "/api/v1/station/heartbeat",            401,   401,  401,  401,  401),
    row("GET", "/api/v1/station/employees?q=E",         401,   401,  401,  401,  401),
    row("POST", "/api/v1/station/no-badge",             401,   401,  401,  401,  401),
    row("GET", "/entrance/no-badge",                    LOGIN, 200,  200,  200,  403),
    row("GET", "/entrance/no-badge?q=Phạm",             LOGIN, 200,  200,  200,  403),
    row("POST", "/entrance/no-badge",                   LOGIN, 400,  400,  400,  403),
    row("POST", "/entrance/no-badge/999999/withdraw",   LOGIN, 404,  404,  404,  404),
    row("POST", "/scans/999999/withdraw",               LOGIN, 404,  404,  404,  404),
    row("GET", "/scans/999999/photo",                   LOGIN, 404,  404,  404,  404),
    # citizens' feedback (heads read their units'; inspectors and admins all) and the public
    # badge page (no sign-in; a token that is not a genuine badge is 404 for everyone)
    row("GET", "/feedback",                             LOGIN, 200,  200,  200,  403),
    row("GET", "/feedback?unit=SNV-P1&rating=low",      LOGIN, 200,  200,  200,  403),
    row("GET", "/feedback?unit=STC",                    LOGIN, 200,  200,  404,  403),
    row("GET", "/b/TCC1.E-SNV.ABCDEFGH.KEYS.forged",    404,   404,  404,  404,  404),
    row("POST", "/b/TCC1.E-SNV.ABCDEFGH.KEYS.forged/feedback", 404, 404, 404, 404, 404),
    row("GET", "/b/photo/ABCDEFGH",                     404,   404,  404,  404,  404),
]

# Endpoints the matrix covers, and those deliberately left out (with the reason).
COVERED = {
    "home.index", "auth.change_password", "org.units", "org.unit_search", "org.employees",
    "org.employee",
    "reports.daily", "admin.users", "admin.new_user", "admin.stations", "admin.new_station",
    "admin.audit_log", "admin.edit_user", "admin.set_user_active", "admin.import_upload",
    "admin.import_confirm", "admin.calendar", "deliveries.index", "deliveries.retry", "api.health", "api.openapi",
    "api.daily", "api.post_scans",
    "api.station_sync", "api.station_heartbeat", "api.station_employees",
    "api.station_no_badge", "entrance.no_badge", "entrance.withdraw", "entrance.withdraw_scan",
    "entrance.scan_photo",
    "spotcheck.index", "spotcheck.visit", "spotcheck.badge", "spotcheck.detail",
    "spotcheck.correct", "excuses.index", "excuses.new", "excuses.detail", "excuses.decide",
    "excuses.withdraw", "excuses.revoke",
    "org.photo", "org.upload_photo", "org.issue_badge", "org.revoke_badge", "org.card_pdf",
    "dashboard.index", "dashboard.live", "reports.daily_export", "reports.issued",
    "reports.monthly", "reports.monthly_export", "violations.log", "violations.export",
    "violations.offenders", "violations.offenders_export", "api.violations",
    "feedback.index", "public.badge", "public.feedback", "public.photo",
}
NOT_IN_MATRIX = {
    "static": "public assets",
    "public.static": "public assets (the badge page's stylesheet)",
    "dashboard.static": "public assets (the dashboard's refresh script)",
    "auth.login": "public; tested in test_auth.py",
    "auth.logout": "any session; tested in test_auth.py",
    "auth.language": "any session; tested in test_auth.py",
}


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = endpoints - COVERED - set(NOT_IN_MATRIX)
    assert not missing, f"add these endpoints to the authorization matrix: {sorted(missing)}"


@pytest.mark.parametrize("role", ROLES)
def test_authorization_matrix(role, app, province):
    client = app.test_client()
    if role != "anonymous":
        assert login(client, role).status_code == 302
    token = csrf_token(client, "/auth/login") if role == "anonymous" else csrf_token(client, "/")
    wrong = []
    for method, path, expected in MATRIX:
        url = path.format(**province.ids)
        if method == "GET":
            response = client.get(url)
        elif url.startswith("/api/"):
            response = client.post(url, json={"scans": []}, headers={"X-CSRFToken": token})
        else:
            response = client.post(url, data={"csrf_token": token})
        if response.status_code != expected[role]:
            wrong.append(f"{method} {url}: {response.status_code}, expected {expected[role]}")
        if url.startswith("/api/") and response.status_code >= 400:
            assert response.is_json and set(response.get_json()) == {"error"}, url
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


def test_unit_head_lists_only_their_subtree(login_as):
    client = login_as("head_snv")
    employees = client.get("/employees").get_data(as_text=True)
    assert "Trần Thị Bình" in employees and "Lê Văn Cường" in employees
    assert "Phạm Minh Dũng" not in employees
    units = client.get("/units").get_data(as_text=True)
    assert "Phòng Công chức" in units and "Sở Tài chính" not in units
    assert "UBND tỉnh" not in units
    report = client.get(f"/api/v1/reports/daily?date={DAY}").get_json()
    assert {u["unit"] for u in report["units"]} <= {"SNV", "SNV-P1"}
    page = client.get(f"/reports/daily?date={DAY}").get_data(as_text=True)
    assert "Sở Tài chính" not in page and 'value="STC"' not in page


def test_inspector_sees_every_unit(login_as):
    client = login_as("inspector")
    employees = client.get("/employees").get_data(as_text=True)
    for name in ("Trần Thị Bình", "Lê Văn Cường", "Phạm Minh Dũng"):
        assert name in employees
    report = client.get(f"/api/v1/reports/daily?date={DAY}").get_json()
    assert {"SNV", "SNV-P1", "STC"} <= {u["unit"] for u in report["units"]}


def test_staff_home_shows_only_their_record(login_as):
    client = login_as("staff_snv")
    home = client.get("/").get_data(as_text=True)
    assert "Trần Thị Bình" in home
    assert "Lê Văn Cường" not in home and "Phạm Minh Dũng" not in home
    # The staff navigation offers no unit, employee, report or admin pages.
    for link in ('href="/units"', 'href="/employees"', 'href="/reports/daily"', 'href="/admin/'):
        assert link not in home


def test_navigation_follows_the_role(login_as, client):
    admin_home = login_as("admin").get("/").get_data(as_text=True)
    assert 'href="/admin/users"' in admin_home and 'href="/admin/audit"' in admin_home
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    head_home = login_as("head_snv").get("/").get_data(as_text=True)
    assert 'href="/reports/daily"' in head_home and 'href="/admin/users"' not in head_home
