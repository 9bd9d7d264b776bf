"""The Flask web service: pages for staff, unit heads, inspectors and admins, and the JSON API.

``create_app(config=None)`` builds the application; ``config`` (a dict) overrides any
setting, which is how the tests configure it. Settings read from the environment:

- ``ATTENDANCE_DATABASE_URL`` — the database (see ``attendance.db``);
- ``ATTENDANCE_CONFIG`` — the deployment's TOML file (see ``attendance.config``);
- ``ATTENDANCE_SECRET_KEY`` — the session signing key; without it one is generated once and
  kept in the instance folder (``instance/secret_key``);
- ``ATTENDANCE_SECURE_COOKIES=1`` — mark cookies ``Secure`` (set it behind HTTPS);
- ``ATTENDANCE_TRUSTED_PROXIES=N`` — behind N reverse proxies, take the client's address
  and scheme from their ``X-Forwarded-*`` headers, so that login throttling and feedback
  limits count each client, not the proxy (default 0: trust no header).

Each feature is one blueprint package (``web/<feature>/``) with its templates beside it;
``BLUEPRINTS`` lists them. A view parses the request, calls the domain, renders; the
request's database session is committed once after a successful response (``web.db``).
"""

from __future__ import annotations

import importlib
import os
import secrets
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from attendance.config import Config, load_config
from attendance.db import database_url, instance_path, make_engine, make_session_factory
from attendance.deployment import bind_config

# "module:attribute" of every blueprint, registered in this order.
BLUEPRINTS = (
    "web.auth:bp",
    "web.home:bp",
    "web.org:bp",
    "web.admin:bp",
    "web.deliveries:bp",
    "web.reports:bp",
    "web.dashboard:bp",
    "web.violations:bp",
    "web.spotcheck:bp",
    "web.excuses:bp",
    "web.entrance:bp",
    "web.feedback:bp",
    "web.public:bp",
    "web.api:bp",
)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


class IdConverter(IntegerConverter):
    """``<int:…>`` in a route: a row id, so at most 2**31 - 1 (the largest PostgreSQL
    INTEGER; SQLite's is 2**63 - 1). A larger number is a 404 like any id not found, not an
    OverflowError (SQLite) or DataError (PostgreSQL) answered with a 500. Scans' ids are
    64-bit: their routes take ``<scan_id:…>``."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class ScanIdConverter(IntegerConverter):
    """``<scan_id:…>``: a scan's id, 64-bit (``attendance.models.scans.ScanId``)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(instance_path()))
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["scan_id"] = ScanIdConverter
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("ATTENDANCE_SECRET_KEY"),
        DATABASE_URL=None,  # default: attendance.db.database_url()
        ATTENDANCE_CONFIG=None,  # a path; default: ATTENDANCE_CONFIG or the packaged default
        DOMAIN_CONFIG=None,  # an attendance.config.Config, if already loaded
        CLOCK=_utc_now,  # () -> aware datetime; tests replace it
        SESSION_COOKIE_NAME="attendance_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=_env_flag("ATTENDANCE_SECURE_COOKIES"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        LOGIN_THROTTLE_ATTEMPTS=5,  # failures per username+address ...
        LOGIN_THROTTLE_ADDRESS_ATTEMPTS=30,  # ... and per address, over all usernames ...
        LOGIN_THROTTLE_WINDOW_SECONDS=900,  # ... within this window
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        TRUSTED_PROXIES=int(os.environ.get("ATTENDANCE_TRUSTED_PROXIES", "0") or 0),
    )
    if config:
        app.config.update(config)
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.json.sort_keys = False
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))

    engine = make_engine(app.config["DATABASE_URL"] or database_url())
    domain_config: Config = app.config["DOMAIN_CONFIG"] or bind_config(
        load_config(app.config["ATTENDANCE_CONFIG"]), engine
    )
    app.extensions["attendance"] = {
        "config": domain_config,
        "engine": engine,
        "session_factory": make_session_factory(engine),
    }

    from web import db, errors, i18n, security

    db.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    _init_templates(app)
    for target in BLUEPRINTS:
        module_name, attr = target.split(":")
        app.register_blueprint(getattr(importlib.import_module(module_name), attr))
    return app


def _init_templates(app: Flask) -> None:
    from web import format as fmt
    from web.nav import nav_for
    from web.security import account_name

    app.jinja_env.filters.update(
        date_vn=fmt.date_vn, time_vn=fmt.time_vn, datetime_vn=fmt.datetime_vn,
        percent=fmt.percent, decimal=fmt.decimal, weekday_vn=fmt.weekday_vn,
        account_name=account_name,
    )
    app.jinja_env.globals.update(nav_for=nav_for, role_label=fmt.role_label)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        return response


def _instance_secret_key(folder: Path) -> str:
    """A random key made once per installation and kept (mode 0600) in the instance folder.

    ``O_EXCL`` makes concurrent first starts agree on one key."""
    path = folder / "secret_key"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.05)
        raise RuntimeError(f"{path} is empty; delete it to make a new key") from None
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
