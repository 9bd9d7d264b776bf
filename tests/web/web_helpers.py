"""Helpers for the web tests: the CSRF token of a page, signing in."""

from __future__ import annotations

import re

PASSWORD = "mat-khau-123"  # the password tests/factories.make_user gives every user

CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token(client, path: str = "/auth/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    token = csrf_token(client)
    return client.post("/auth/login", data={"username": username, "password": password,
                                            "csrf_token": token})


def use_english(client) -> None:
    """Switch the signed-in user's pages to English, as the language switch does."""
    client.post("/auth/language", data={"lang": "en", "csrf_token": csrf_token(client, "/")})
