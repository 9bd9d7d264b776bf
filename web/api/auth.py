"""Who is calling the API: a station with its bearer key, or a signed-in user.

- ``station_from_request()`` → the active ``Station`` whose ``key_hash`` is the SHA-256 of
  the ``Authorization: Bearer <key>`` header (``last_seen_at`` is updated), else ``None``;
- ``station_required`` puts it in ``g.station`` or answers 401;
- ``api_roles_required(*roles)`` → 401 without a signed-in user, 403 for another role.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import g, request
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import select
from wtforms import ValidationError

from attendance.access import hash_station_key
from attendance.models import Station
from web.db import get_db, now
from web.errors import ApiError
from web.security import ROLES, current_account

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def station_from_request() -> Station | None:
    token = bearer_token()
    if token is None or len(token) > 512:
        return None
    # The stored value is a hash, so looking it up by equality leaks nothing useful by timing.
    station = get_db().scalar(select(Station).where(Station.key_hash == hash_station_key(token)))
    if station is None or not station.active:
        return None
    station.last_seen_at = now()
    return station


def station_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        station = station_from_request()
        if station is None:
            raise ApiError(401, "a valid station key is required (Authorization: Bearer <key>)")
        g.station = station
        return view(*args, **kwargs)

    wrapped.station_only = True
    return wrapped


def api_roles_required(*roles: str) -> Callable:
    roles = roles or ROLES

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_account()
            if user is None:
                raise ApiError(401, "sign in first")
            if request.method not in SAFE_METHODS:
                try:
                    validate_csrf(request.headers.get("X-CSRFToken"))
                except (ValidationError, CSRFError):
                    raise ApiError(403, "missing or invalid X-CSRFToken header") from None
            if user.role not in roles:
                raise ApiError(403, "forbidden")
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)
        return wrapped

    return decorator
