"""Signing in and out, CSRF, password change, throttling, cookies, no user enumeration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from attendance.models import AuditEntry, User
from web_helpers import PASSWORD, csrf_token, login


def test_login_page_is_vietnamese_with_csrf(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert 'lang="vi"' in html
    assert "Đăng nhập" in html
    assert 'name="csrf_token"' in html


def test_pages_redirect_to_login_when_signed_out(client, province):
    response = client.get("/employees")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=/employees")


def test_sign_in_and_out(client, province, session_factory):
    response = login(client, "head_snv")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Sở Nội vụ" in client.get("/").get_data(as_text=True)
    cookie = client.get_cookie("attendance_session")
    assert cookie.http_only and cookie.same_site == "Lax"
    with session_factory() as session:
        assert session.scalar(select(AuditEntry.action).where(AuditEntry.actor == "head_snv")) \
            == "auth.login"
    token = csrf_token(client, "/")
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_login_returns_to_next_but_never_offsite(client, province):
    token = csrf_token(client)
    response = client.post("/auth/login", data={
        "username": "admin", "password": PASSWORD, "csrf_token": token, "next": "/units"})
    assert response.headers["Location"] == "/units"
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    token = csrf_token(client)
    response = client.post("/auth/login", data={
        "username": "admin", "password": PASSWORD, "csrf_token": token,
        "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_post_without_csrf_token_is_refused(client, province):
    response = client.post("/auth/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # not signed in
    login(client, "admin")
    response = client.post("/admin/users/new", data={
        "username": "x1", "role": "inspector", "password": "abcdefgh1", "confirm": "abcdefgh1"})
    assert response.status_code == 400
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_wrong_password_and_unknown_user_answer_alike(client, province):
    wrong = login(client, "admin", "not-the-password")
    unknown = login(client, "nobody-here", "not-the-password")
    inactive = login(client, "retired")
    for response in (wrong, unknown, inactive):
        assert response.status_code == 200
        assert "Tên đăng nhập hoặc mật khẩu không đúng." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_throttling_per_username_and_address(client, province, clock):
    for _ in range(5):
        assert login(client, "admin", "wrong-password").status_code == 200
    # Over the limit the right password is refused too, and so is an unknown username.
    refused = login(client, "admin")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Quá nhiều lần đăng nhập" in refused.get_data(as_text=True)
    # Another username from the same address is still allowed (per-username limit).
    assert login(client, "inspector").status_code == 302
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    clock.now += timedelta(minutes=16)
    assert login(client, "admin").status_code == 302


def test_throttling_per_address_over_many_usernames(client, province, app):
    app.config["LOGIN_THROTTLE_ADDRESS_ATTEMPTS"] = 3
    app.extensions.pop("login_throttle", None)
    for name in ("a1", "a2", "a3"):
        assert login(client, name, "wrong-password").status_code == 200
    assert login(client, "admin").status_code == 429


def test_change_password_ends_other_sessions(app, province):
    first, second = app.test_client(), app.test_client()
    login(first, "inspector")
    login(second, "inspector")
    token = csrf_token(first, "/auth/password")
    response = first.post("/auth/password", data={
        "current": PASSWORD, "new": "mat-khau-moi-456", "confirm": "mat-khau-moi-456",
        "csrf_token": token})
    assert response.status_code == 302
    assert first.get("/").status_code == 200  # this session continues under the new password
    assert second.get("/").status_code == 302  # the other one is signed out
    first.post("/auth/logout", data={"csrf_token": csrf_token(first, "/")})
    assert login(first, "inspector").status_code == 200  # old password no longer works
    assert login(first, "inspector", "mat-khau-moi-456").status_code == 302


def test_change_password_checks_current_and_confirmation(client, province):
    login(client, "inspector")
    token = csrf_token(client, "/auth/password")
    response = client.post("/auth/password", data={
        "current": "wrong-one", "new": "mat-khau-moi-456", "confirm": "mat-khau-moi-456",
        "csrf_token": token})
    assert response.status_code == 400
    assert "Mật khẩu hiện tại không đúng" in response.get_data(as_text=True)
    response = client.post("/auth/password", data={
        "current": PASSWORD, "new": "mat-khau-moi-456", "confirm": "khac-nhau-789",
        "csrf_token": token})
    assert response.status_code == 400
    assert "Hai mật khẩu không khớp" in response.get_data(as_text=True)


def test_deactivated_user_is_signed_out(client, province, session_factory):
    login(client, "inspector")
    assert client.get("/").status_code == 200
    with session_factory() as session:
        session.scalar(select(User).where(User.username == "inspector")).active = False
        session.commit()
    assert client.get("/").status_code == 302


def test_password_is_stored_as_argon2(province, session_factory):
    with session_factory() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "admin"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_language_switch(client, province, session_factory):
    token = csrf_token(client)
    client.post("/auth/language", data={"lang": "en", "csrf_token": token, "next": "/auth/login"})
    html = client.get("/auth/login").get_data(as_text=True)
    assert 'lang="en"' in html and "Sign in" in html
    assert login(client, "admin").status_code == 302
    token = csrf_token(client, "/")
    client.post("/auth/language", data={"lang": "vi", "csrf_token": token})
    with session_factory() as session:
        assert session.scalar(select(User.language).where(User.username == "admin")) == "vi"
    assert "Đăng xuất" in client.get("/").get_data(as_text=True)


def test_behind_a_trusted_proxy_each_client_is_throttled_on_its_own(app, province):
    app.config["LOGIN_THROTTLE_ADDRESS_ATTEMPTS"] = 3
    app.extensions.pop("login_throttle", None)
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    def client_at(address: str):
        client = app.test_client()
        client.environ_base["HTTP_X_FORWARDED_FOR"] = address
        return client

    first = client_at("203.0.113.7")
    for name in ("a1", "a2", "a3"):
        assert login(first, name, "wrong-password").status_code == 200
    assert login(first, "admin").status_code == 429
    # Another citizen behind the same proxy is not refused for the first one's failures.
    assert login(client_at("203.0.113.8"), "admin").status_code == 302


def test_the_trusted_proxies_setting_installs_proxy_fix(database_url, config, monkeypatch):
    from werkzeug.middleware.proxy_fix import ProxyFix

    from web import create_app

    monkeypatch.setenv("ATTENDANCE_TRUSTED_PROXIES", "1")
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": database_url,
                      "DOMAIN_CONFIG": config})
    assert isinstance(app.wsgi_app, ProxyFix)
    app.extensions["attendance"]["engine"].dispose()


def test_sign_in_whatever_the_case_of_the_username(client, province, session_factory):
    response = login(client, "  Head_SNV ")
    assert response.status_code == 302
    with session_factory() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert (entry.action, entry.actor) == ("auth.login", "head_snv")
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    # Two accounts differing only by case cannot exist: the database refuses the second.
    with session_factory() as session:
        twin = session.scalar(select(User).where(User.username == "inspector"))
        session.add(User(username="INSPECTOR", password_hash=twin.password_hash,
                         role="inspector", active=True, created_at=twin.created_at))
        with pytest.raises(IntegrityError):
            session.commit()
