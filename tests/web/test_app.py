"""The app factory and the request's database session."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from attendance.models import AuditEntry
from web import create_app
from web.db import get_db


def test_factory_uses_test_config(app, database_url):
    assert app.testing
    assert app.config["SECRET_KEY"] == "test-secret"
    assert str(app.extensions["attendance"]["engine"].url).endswith(database_url.split("/")[-1])


def test_factory_without_test_config_is_not_testing(database_url, monkeypatch):
    monkeypatch.setenv("ATTENDANCE_SECRET_KEY", "from-env")
    app = create_app()
    assert not app.testing
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    app.extensions["attendance"]["engine"].dispose()


def test_secret_key_is_made_once_per_instance(database_url, monkeypatch, tmp_path):
    monkeypatch.delenv("ATTENDANCE_SECRET_KEY", raising=False)
    monkeypatch.setenv("ATTENDANCE_INSTANCE", str(tmp_path / "inst"))
    first = create_app()
    second = create_app()
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) == 64
    assert (tmp_path / "inst" / "secret_key").stat().st_mode & 0o077 == 0
    for a in (first, second):
        a.extensions["attendance"]["engine"].dispose()


def test_secure_cookie_flag(database_url, monkeypatch):
    monkeypatch.setenv("ATTENDANCE_SECURE_COOKIES", "1")
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    app.extensions["attendance"]["engine"].dispose()


def _add_probe_routes(app):
    from attendance.access import log_action
    from web.db import now

    @app.route("/_probe/<int:status>")
    def probe(status):
        log_action(get_db(), actor="probe", action=f"probe.{status}", at=now())
        if status == 999:
            raise RuntimeError("boom: secret detail")
        return "ok", status


@pytest.fixture
def probe_app(database_url, config):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": database_url,
                      "DOMAIN_CONFIG": config})
    _add_probe_routes(app)
    yield app
    app.extensions["attendance"]["engine"].dispose()


def _actions(session_factory):
    with session_factory() as session:
        return set(session.scalars(select(AuditEntry.action)))


def test_request_session_commits_on_success_only(probe_app, session_factory):
    client = probe_app.test_client()
    assert client.get("/_probe/200").status_code == 200
    assert client.get("/_probe/404").status_code == 404
    assert client.get("/_probe/500").status_code == 500
    assert _actions(session_factory) == {"probe.200"}


def test_unexpected_error_is_rolled_back_and_hidden(probe_app, session_factory):
    probe_app.testing = False  # let the error handler answer instead of re-raising
    response = probe_app.test_client().get("/_probe/999")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "boom" not in body and "Traceback" not in body
    assert "Lỗi hệ thống" in body
    assert "probe.999" not in _actions(session_factory)


def test_security_headers(client):
    response = client.get("/auth/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_static_css_is_served_locally(client):
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert b".topbar" in response.data
    response.close()
